// Pins the T-SQL assess sends to SQL Server for hottest tables and the sample read.
import {describe, expect, it} from 'vitest'
import {qualify, quoteIdentifier} from '../../../../src/engines/sqlserver/sqlserver-dialect.js'
import {sampleRowsQuery, TABLE_WRITE_COUNTS_QUERY} from '../../../../src/engines/sqlserver/sqlserver-queries.js'

describe('SQL Server assess queries', () => {
  it('tableWriteCounts reads user_updates of the heap or clustered index', () => {
    expect(TABLE_WRITE_COUNTS_QUERY).toMatchInlineSnapshot(`
      "SELECT
        s.name AS schema_name,
        t.name AS table_name,
        SUM(us.user_updates) AS writes
      FROM sys.dm_db_index_usage_stats AS us
      JOIN sys.tables AS t ON t.object_id = us.object_id
      JOIN sys.schemas AS s ON s.schema_id = t.schema_id
      WHERE us.database_id = DB_ID()
        AND us.index_id IN (0, 1)
        AND t.is_ms_shipped = 0
        AND s.name <> N'cdc'
      GROUP BY s.name, t.name
      ORDER BY writes DESC, s.name, t.name;"
    `)
  })

  it('sampleRows reads TOP (n) in key order, with bracketed names', () => {
    expect(sampleRowsQuery(qualify('dbo', 'payment]intents'), [quoteIdentifier('tenant_id'), quoteIdentifier('id')], 20_000)).toBe(
      'SELECT TOP (20000) *\nFROM [dbo].[payment]]intents]\nORDER BY [tenant_id] ASC, [id] ASC;',
    )
    expect(sampleRowsQuery('[dbo].[heap]', [], 10.7)).toBe('SELECT TOP (10) *\nFROM [dbo].[heap];')
  })
})
