// Pins the SQL of assess's hottest-table read and sample copy on the MySQL family, and the keyset walk.
import {describe, expect, it} from 'vitest'
import {emptyFeatures, type TableModel} from '../../../../src/engines/model.js'
import * as Q from '../../../../src/engines/mysql/mysql-queries.js'
import {sampleTableRows, writeSizingProbe} from '../../../../src/engines/mysql/mysql-sampling.js'

const table = (pk: string[] | null): TableModel => ({
  schema: 'payments',
  name: 'ledger`entries',
  columns: [],
  primaryKey: pk === null ? null : {name: 'PRIMARY', columns: pk.map((name) => ({name, descending: false, prefixLength: null}))},
  uniqueKeys: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  rowEstimate: 5,
  dataBytes: 0,
  indexBytes: 0,
  collation: null,
  comment: null,
  features: emptyFeatures(),
})

describe('mysql assess queries', () => {
  it('reads write counts from performance_schema', () => {
    expect(Q.TABLE_WRITE_COUNTS).toMatchInlineSnapshot(`
      "SELECT w.OBJECT_SCHEMA AS table_schema, w.OBJECT_NAME AS table_name, w.COUNT_WRITE AS writes
      FROM performance_schema.table_io_waits_summary_by_table w
      WHERE w.OBJECT_SCHEMA = ? AND w.OBJECT_TYPE = 'TABLE'
      ORDER BY w.COUNT_WRITE DESC, w.OBJECT_NAME"
    `)
    expect(Q.PERFORMANCE_SCHEMA_ENABLED).toBe("SHOW GLOBAL VARIABLES WHERE Variable_name = 'performance_schema'")
  })

  it('pages a table in key order with a row-value keyset cursor', () => {
    expect(Q.sampleRowsSql('`payments`.`t`', ['`a`', '`b`'], false)).toBe('SELECT * FROM `payments`.`t` ORDER BY `a`, `b` LIMIT ?')
    expect(Q.sampleRowsSql('`payments`.`t`', ['`a`', '`b`'], true)).toBe('SELECT * FROM `payments`.`t` WHERE (`a`, `b`) > (?, ?) ORDER BY `a`, `b` LIMIT ?')
    expect(Q.sampleRowsSql('`payments`.`t`', ['`id`'], true)).toBe('SELECT * FROM `payments`.`t` WHERE `id` > ? ORDER BY `id` LIMIT ?')
    expect(Q.sampleRowsSql('`payments`.`t`', [], false)).toBe('SELECT * FROM `payments`.`t` LIMIT ?')
  })

  it('probes writes with a TEMPORARY table only', () => {
    expect(Q.CREATE_SIZING_PROBE).toBe('CREATE TEMPORARY TABLE payctl_sizing_probe (id BIGINT PRIMARY KEY, payload LONGBLOB)')
    expect(Q.DROP_SIZING_PROBE).toBe('DROP TEMPORARY TABLE IF EXISTS payctl_sizing_probe')
    expect(Q.insertSizingProbeSql(2)).toBe('INSERT INTO payctl_sizing_probe (id, payload) VALUES (?, ?), (?, ?)')
  })
})

describe('sample walk', () => {
  it('continues after the last key read until the limit, quoting the table name', async () => {
    const calls: Array<[string, readonly unknown[]]> = []
    const rows = Array.from({length: 5}, (_, i) => ({id: String(i + 1), v: 'x'.repeat(10)}))
    const query = <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
      calls.push([sql, params])
      const after = params.length === 2 ? Number(params[0]) : 0
      const limit = Number(params.at(-1))
      return Promise.resolve(rows.filter((r) => Number(r.id) > after).slice(0, limit) as T[])
    }
    const r = await sampleTableRows(query, table(['id']), 4)
    expect(r.rows).toBe(4)
    expect(r.bytes).toBe(4 * (1 + 10))
    expect(calls[0]).toEqual(['SELECT * FROM `payments`.`ledger``entries` ORDER BY `id` LIMIT ?', [4]])
    expect(calls).toHaveLength(1)
    const all = await sampleTableRows(query, table(['id']), 100)
    expect(all.rows).toBe(5)
  })

  it('creates the probe, inserts the volume in batches and always drops it', async () => {
    const sqls: string[] = []
    const query = <T>(sql: string): Promise<T[]> => {
      sqls.push(sql.startsWith('INSERT') ? `INSERT x${(sql.match(/\(\?, \?\)/g) ?? []).length}` : sql)
      return Promise.resolve([] as T[])
    }
    const r = await writeSizingProbe(query, 1_200 * 1000, 1_200)
    expect(r.rows).toBe(1_200)
    expect(r.bytes).toBe(1_200_000)
    expect(sqls).toEqual([Q.DROP_SIZING_PROBE, Q.CREATE_SIZING_PROBE, 'INSERT x500', 'INSERT x500', 'INSERT x200', Q.DROP_SIZING_PROBE])
  })
})
