/**
 * Pins the exact T-SQL payctl replicate sends to SQL Server: keyset chunk reads over composite
 * keys, key bounds, counts, the writer's MERGE and DELETE (parameter limit included), the CDC
 * change window and change function reads, and the per-type value and parameter conversions.
 */
import {describe, expect, it} from 'vitest'
import {
  batchRows,
  cdcChangesQuery,
  countRowsQuery,
  deleteKeysQuery,
  enableTableStatement,
  identityInsertStatement,
  keyBoundQuery,
  keysetPredicate,
  MAX_STATEMENT_PARAMS,
  mergeQuery,
  paramExpression,
  paramKind,
  readChunkQuery,
  SQLSERVER_CDC_QUERIES,
  valueExpression,
} from '../../../../src/engines/sqlserver/sqlserver-replication-queries.js'
import {col, ledger, paymentColumns} from './replication-fixtures.js'

const ledgerKeys = ledger.columns.slice(0, 2)
const byName = (name: string) => {
  const c = paymentColumns.find((x) => x.name === name)
  if (c === undefined) throw new Error(name)
  return c
}

describe('value and parameter conversions per column type', () => {
  const cases: Array<[string, string, number | null, string, string]> = [
    ['tinyint', 'tinyint', null, 't.[x]', 'CONVERT(tinyint, @a0)'],
    ['int', 'int', null, 't.[x]', 'CONVERT(int, @a0)'],
    ['bigint', 'bigint', null, 'CONVERT(varchar(20), t.[x])', 'CONVERT(bigint, @a0)'],
    ['bit', 'bit', null, 'CONVERT(tinyint, t.[x])', 'CONVERT(bit, @a0)'],
    ['decimal', 'decimal(19,4)', 4, 'CONVERT(varchar(48), t.[x])', 'CONVERT(decimal(19,4), @a0)'],
    ['money', 'money', 4, 'CONVERT(varchar(24), CONVERT(decimal(19,4), t.[x]))', 'CONVERT(money, @a0)'],
    ['smallmoney', 'smallmoney', 4, 'CONVERT(varchar(16), CONVERT(decimal(10,4), t.[x]))', 'CONVERT(smallmoney, @a0)'],
    ['float', 'float', null, 't.[x]', 'CONVERT(float, @a0)'],
    ['real', 'real', null, 't.[x]', 'CONVERT(real, @a0)'],
    ['date', 'date', null, 'CONVERT(char(10), t.[x], 23)', 'CONVERT(date, @a0, 23)'],
    ['datetime', 'datetime', 3, 'CONVERT(char(23), t.[x], 121)', 'CONVERT(datetime, @a0, 121)'],
    ['smalldatetime', 'smalldatetime', 0, 'CONVERT(char(19), t.[x], 120)', 'CONVERT(smalldatetime, @a0, 121)'],
    ['datetime2', 'datetime2(3)', 3, 'CONVERT(varchar(26), t.[x], 121)', 'CONVERT(datetime2(3), @a0, 121)'],
    ['datetime2', 'datetime2(7)', 7, 'LEFT(CONVERT(varchar(27), t.[x], 121), 26)', 'CONVERT(datetime2(7), @a0, 121)'],
    [
      'datetimeoffset',
      'datetimeoffset(7)',
      7,
      "LEFT(CONVERT(varchar(27), CONVERT(datetime2(7), SWITCHOFFSET(t.[x], '+00:00')), 121), 26)",
      'CONVERT(datetimeoffset(7), @a0, 121)',
    ],
    ['time', 'time(7)', 7, 'LEFT(CONVERT(varchar(16), t.[x]), 15)', 'CONVERT(time(7), @a0)'],
    ['time', 'time(0)', 0, 'CONVERT(varchar(15), t.[x])', 'CONVERT(time(0), @a0)'],
    ['uniqueidentifier', 'uniqueidentifier', null, 'CONVERT(char(36), t.[x])', 'CONVERT(uniqueidentifier, @a0)'],
    ['char', 'char(10)', null, 'RTRIM(t.[x])', 'CONVERT(char(10), @a0)'],
    ['nvarchar', 'nvarchar(max)', null, 't.[x]', 'CONVERT(nvarchar(max), @a0)'],
    ['ntext', 'ntext', null, 't.[x]', 'CONVERT(nvarchar(max), @a0)'],
    ['varbinary', 'varbinary(16)', null, 't.[x]', 'CONVERT(varbinary(16), @a0)'],
    ['rowversion', 'rowversion', null, 't.[x]', 'CONVERT(binary(8), @a0)'],
    ['xml', 'xml', null, 'CONVERT(nvarchar(max), t.[x])', 'CONVERT(xml, @a0)'],
    ['sql_variant', 'sql_variant', null, 'CONVERT(nvarchar(4000), t.[x])', 'CONVERT(sql_variant, @a0)'],
    ['hierarchyid', 'hierarchyid', null, 'CONVERT(varbinary(892), t.[x])', 'CONVERT(hierarchyid, @a0)'],
    ['some_clr_type', 'some_clr_type', null, 'CONVERT(varbinary(max), t.[x])', '@a0'],
  ]
  it.each(cases)('%s (%s)', (dataType, columnType, scale, value, param) => {
    const c = col('x', dataType, columnType, {scale})
    expect(valueExpression(c, 't.[x]')).toBe(value)
    expect(paramExpression(c, '@a0')).toBe(param)
  })

  it('spatial values travel as the MySQL internal format: SRID (4 bytes, little-endian) then WKB', () => {
    const g = col('shape', 'geography')
    expect(valueExpression(g, 't.[shape]')).toBe(
      'CONVERT(binary(1), t.[shape].STSrid % 256) + CONVERT(binary(1), t.[shape].STSrid / 256 % 256) + CONVERT(binary(1), t.[shape].STSrid / 65536 % 256) + CONVERT(binary(1), t.[shape].STSrid / 16777216 % 256) + t.[shape].STAsBinary()',
    )
    expect(paramExpression(g, '@p0')).toBe(
      'CASE WHEN @p0 IS NULL THEN NULL ELSE geography::STGeomFromWKB(SUBSTRING(@p0, 5, DATALENGTH(@p0) - 4), CONVERT(int, SUBSTRING(@p0, 1, 1)) + 256 * CONVERT(int, SUBSTRING(@p0, 2, 1)) + 65536 * CONVERT(int, SUBSTRING(@p0, 3, 1)) + 16777216 * CONVERT(int, SUBSTRING(@p0, 4, 1))) END',
    )
  })

  it('binds binary, spatial and unknown types as varbinary, float and real as float, the rest as text', () => {
    expect(['binary', 'varbinary', 'image', 'rowversion', 'hierarchyid', 'geometry', 'some_clr_type'].map((t) => paramKind({dataType: t}))).toEqual(Array(7).fill('binary'))
    expect(['float', 'real'].map((t) => paramKind({dataType: t}))).toEqual(['float', 'float'])
    expect(['bigint', 'decimal', 'datetime2', 'uniqueidentifier', 'nvarchar', 'bit'].map((t) => paramKind({dataType: t}))).toEqual(Array(6).fill('text'))
  })
})

describe('keyset reads', () => {
  it('builds the composite-key predicate k1 > a1 OR (k1 = a1 AND k2 > a2)', () => {
    expect(keysetPredicate(ledgerKeys, 't', '>', 'a')).toBe(
      '((t.[account_id] > CONVERT(int, @a0)) OR (t.[account_id] = CONVERT(int, @a0) AND t.[entry_no] > CONVERT(bigint, @a1)))',
    )
    expect(keysetPredicate(ledgerKeys.slice(0, 1), 't', '<', 'b')).toBe('(t.[account_id] < CONVERT(int, @b0))')
  })

  it('reads a chunk between two keys, in key order, columns in ReplicaTable order', () => {
    expect(readChunkQuery('dbo', 'ledger_entries', ledger.columns, ledgerKeys, true, true)).toBe(
      [
        'SELECT TOP (@limit)',
        '  t.[account_id] AS [account_id],',
        '  CONVERT(varchar(20), t.[entry_no]) AS [entry_no],',
        '  CONVERT(varchar(48), t.[amount]) AS [amount],',
        '  RTRIM(t.[memo]) AS [memo]',
        'FROM [dbo].[ledger_entries] AS t',
        'WHERE ((t.[account_id] > CONVERT(int, @a0)) OR (t.[account_id] = CONVERT(int, @a0) AND t.[entry_no] > CONVERT(bigint, @a1)))',
        '  AND ((t.[account_id] < CONVERT(int, @b0)) OR (t.[account_id] = CONVERT(int, @b0) AND t.[entry_no] < CONVERT(bigint, @b1)))',
        'ORDER BY t.[account_id] ASC, t.[entry_no] ASC;',
      ].join('\n'),
    )
  })

  it('reads the first chunk without a WHERE clause, and quotes odd names', () => {
    const odd = [col('order', 'int'), col('a]b', 'nvarchar', 'nvarchar(20)')]
    expect(readChunkQuery('my schema', 'we]ird', odd, odd.slice(0, 1), false, false)).toBe(
      ['SELECT TOP (@limit)', '  t.[order] AS [order],', '  t.[a]]b] AS [a]]b]', 'FROM [my schema].[we]]ird] AS t', 'ORDER BY t.[order] ASC;'].join('\n'),
    )
  })

  it('reads the key bounds and the exact count', () => {
    expect(keyBoundQuery('dbo', 'ledger_entries', ledgerKeys, 'DESC')).toBe(
      [
        'SELECT TOP (1)',
        '  t.[account_id] AS [account_id],',
        '  CONVERT(varchar(20), t.[entry_no]) AS [entry_no]',
        'FROM [dbo].[ledger_entries] AS t',
        'ORDER BY t.[account_id] DESC, t.[entry_no] DESC;',
      ].join('\n'),
    )
    expect(countRowsQuery('dbo', 'payments')).toBe('SELECT COUNT_BIG(*) AS row_count\nFROM [dbo].[payments];')
  })
})

describe('writer statements', () => {
  it('upserts with MERGE ... WITH (HOLDLOCK) from a VALUES table, never updating keys or identity columns', () => {
    const columns = [byName('payment_id'), byName('amount'), byName('created_at')]
    expect(mergeQuery('dbo', 'payments', columns, ['payment_id'], ['payment_id'], 2)).toBe(
      [
        'MERGE INTO [dbo].[payments] WITH (HOLDLOCK) AS t',
        'USING (',
        '  SELECT',
        '    CONVERT(bigint, v.[payment_id]) AS [payment_id],',
        '    CONVERT(decimal(19,4), v.[amount]) AS [amount],',
        '    CONVERT(datetime2(7), v.[created_at], 121) AS [created_at]',
        '  FROM (VALUES',
        '  (@p0, @p1, @p2),',
        '  (@p3, @p4, @p5)',
        '  ) AS v ([payment_id], [amount], [created_at])',
        ') AS s',
        'ON t.[payment_id] = s.[payment_id]',
        'WHEN MATCHED THEN UPDATE SET t.[amount] = s.[amount], t.[created_at] = s.[created_at]',
        'WHEN NOT MATCHED THEN INSERT ([payment_id], [amount], [created_at]) VALUES (s.[payment_id], s.[amount], s.[created_at]);',
      ].join('\n'),
    )
  })

  it('leaves a matched row alone when every column is part of the key', () => {
    const sql = mergeQuery('dbo', 'ledger_entries', ledgerKeys, ['account_id', 'entry_no'], [], 1)
    expect(sql).not.toContain('WHEN MATCHED')
    expect(sql).toContain('ON t.[account_id] = s.[account_id] AND t.[entry_no] = s.[entry_no]')
  })

  it('deletes keys through a VALUES join', () => {
    expect(deleteKeysQuery('dbo', 'ledger_entries', ledgerKeys, 2)).toBe(
      [
        'DELETE t',
        'FROM [dbo].[ledger_entries] AS t',
        'JOIN (VALUES',
        '  (@p0, @p1),',
        '  (@p2, @p3)',
        ') AS v ([account_id], [entry_no])',
        '  ON t.[account_id] = CONVERT(int, v.[account_id]) AND t.[entry_no] = CONVERT(bigint, v.[entry_no]);',
      ].join('\n'),
    )
  })

  it('keeps every batch under the 2100-parameter limit', () => {
    for (const width of [1, 3, 7, 40, 300, 2500]) {
      const rows = batchRows(width)
      expect(rows).toBeGreaterThanOrEqual(1)
      if (width <= MAX_STATEMENT_PARAMS) expect(rows * width).toBeLessThanOrEqual(MAX_STATEMENT_PARAMS)
    }
    expect(MAX_STATEMENT_PARAMS).toBeLessThan(2100)
    expect(batchRows(3)).toBe(500)
    expect(batchRows(7)).toBe(285)
  })

  it('switches IDENTITY_INSERT', () => {
    expect(identityInsertStatement('dbo', 'payments', true)).toBe('SET IDENTITY_INSERT [dbo].[payments] ON;')
    expect(identityInsertStatement('dbo', 'payments', false)).toBe('SET IDENTITY_INSERT [dbo].[payments] OFF;')
  })
})

describe('change data capture statements', () => {
  it('reads one capture instance with its function, updates as before and after images, in LSN order', () => {
    expect(cdcChangesQuery('dbo_ledger_entries', ledger.columns)).toBe(
      [
        'SELECT',
        '  c.[__$start_lsn],',
        '  c.[__$seqval],',
        '  c.[__$operation],',
        '  c.[account_id] AS [account_id],',
        '  CONVERT(varchar(20), c.[entry_no]) AS [entry_no],',
        '  CONVERT(varchar(48), c.[amount]) AS [amount],',
        '  RTRIM(c.[memo]) AS [memo]',
        "FROM cdc.[fn_cdc_get_all_changes_dbo_ledger_entries](@from_lsn, @to_lsn, N'all update old') AS c",
        'ORDER BY c.[__$start_lsn], c.[__$seqval], c.[__$operation];',
      ].join('\n'),
    )
  })

  it('names the exact sp_cdc_enable_table call, with quotes doubled', () => {
    expect(enableTableStatement('dbo', 'payments')).toBe(
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'payments', @role_name = NULL, @supports_net_changes = 0",
    )
    expect(enableTableStatement('dbo', "o'brien", 'dbo_obrien_all')).toBe(
      "EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'o''brien', @role_name = NULL, @supports_net_changes = 0, @capture_instance = N'dbo_obrien_all'",
    )
  })

  it('uses only CDC functions and catalog views, and bound LSNs', () => {
    for (const sql of Object.values(SQLSERVER_CDC_QUERIES)) {
      expect(sql.endsWith(';')).toBe(true)
      expect(sql).not.toMatch(/`|\bLIMIT\b|\?/)
    }
    expect(SQLSERVER_CDC_QUERIES.cdcWindow).toContain('sys.fn_cdc_increment_lsn(@after_lsn)')
    expect(SQLSERVER_CDC_QUERIES.cdcWindow).toContain('sys.fn_cdc_get_max_lsn()')
    expect(SQLSERVER_CDC_QUERIES.cdcInstances).toContain('sys.fn_cdc_get_min_lsn(ct.capture_instance)')
  })

  it('cdcDatabase has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcDatabase).toMatchInlineSnapshot(`
      "SELECT
        d.is_cdc_enabled,
        CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition
      FROM sys.databases AS d
      WHERE d.database_id = DB_ID();"
    `)
  })
  it('cdcCaptureJob has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcCaptureJob).toMatchInlineSnapshot(`
      "SELECT
        job_type
      FROM msdb.dbo.cdc_jobs
      WHERE database_id = DB_ID()
        AND job_type = N'capture';"
    `)
  })
  it('cdcInstances has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcInstances).toMatchInlineSnapshot(`
      "SELECT
        s.name AS schema_name,
        t.name AS table_name,
        ct.capture_instance,
        ct.create_date,
        sys.fn_cdc_get_min_lsn(ct.capture_instance) AS min_lsn
      FROM cdc.change_tables AS ct
      JOIN sys.tables AS t ON t.object_id = ct.source_object_id
      JOIN sys.schemas AS s ON s.schema_id = t.schema_id
      ORDER BY s.name, t.name, ct.create_date, ct.capture_instance;"
    `)
  })
  it('cdcCapturedColumns has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcCapturedColumns).toMatchInlineSnapshot(`
      "SELECT
        ct.capture_instance,
        cc.column_name
      FROM cdc.captured_columns AS cc
      JOIN cdc.change_tables AS ct ON ct.object_id = cc.object_id
      ORDER BY ct.capture_instance, cc.column_ordinal;"
    `)
  })
  it('cdcMaxLsn has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcMaxLsn).toMatchInlineSnapshot(`
      "SELECT
        sys.fn_cdc_get_max_lsn() AS max_lsn,
        (SELECT MAX(ct.start_lsn) FROM cdc.change_tables AS ct) AS newest_start_lsn;"
    `)
  })
  it('cdcWindow has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcWindow).toMatchInlineSnapshot(`
      "DECLARE @from_lsn binary(10) = CASE WHEN @inclusive = 1 THEN @after_lsn ELSE sys.fn_cdc_increment_lsn(@after_lsn) END;
      DECLARE @max_lsn binary(10) = sys.fn_cdc_get_max_lsn();
      DECLARE @nth_lsn binary(10);
      DECLARE @transactions int;
      SELECT @nth_lsn = MAX(w.start_lsn), @transactions = COUNT(*)
      FROM (
        SELECT TOP (@max_transactions) m.start_lsn
        FROM cdc.lsn_time_mapping AS m
        WHERE m.start_lsn >= @from_lsn AND m.start_lsn <= @max_lsn AND m.tran_id <> 0x00
        ORDER BY m.start_lsn
      ) AS w;
      SELECT
        @from_lsn AS from_lsn,
        @max_lsn AS max_lsn,
        CASE WHEN @transactions >= @max_transactions THEN @nth_lsn ELSE @max_lsn END AS to_lsn;"
    `)
  })
  it('cdcCommitTimes has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcCommitTimes).toMatchInlineSnapshot(`
      "SELECT
        m.start_lsn,
        DATEDIFF_BIG(millisecond, CONVERT(datetime2(3), '19700101', 112), DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), CONVERT(datetime2(3), m.tran_end_time))) AS commit_time_ms
      FROM cdc.lsn_time_mapping AS m
      WHERE m.start_lsn >= @from_lsn
        AND m.start_lsn <= @to_lsn;"
    `)
  })
  it('cdcDdl has its exact text', () => {
    expect(SQLSERVER_CDC_QUERIES.cdcDdl).toMatchInlineSnapshot(`
      "SELECT
        ct.capture_instance,
        dh.ddl_lsn,
        dh.ddl_command,
        DATEDIFF_BIG(millisecond, CONVERT(datetime2(3), '19700101', 112), DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), CONVERT(datetime2(3), dh.ddl_time))) AS ddl_time_ms
      FROM cdc.ddl_history AS dh
      JOIN cdc.change_tables AS ct ON ct.object_id = dh.object_id
      WHERE dh.ddl_lsn >= @from_lsn
        AND dh.ddl_lsn <= @to_lsn
      ORDER BY dh.ddl_lsn;"
    `)
  })
})
