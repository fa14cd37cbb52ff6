/**
 * SQL Server replication without a server: keyset chunk reads, bounds and counts over a scripted
 * runner (the statements and bound values it receives, rows as tedious returns them), the value
 * binding rules, and the writer's batching (duplicate keys, the 2100-parameter limit, identity).
 */
import {describe, expect, it} from 'vitest'
import type {ConnectionOptions} from '../../../../src/engines/engine.js'
import {replicaTable} from '../../../../src/engines/replication.js'
import {mergeBatches, SqlServerReplication, typedTable, upsertBatchSql, writePlan} from '../../../../src/engines/sqlserver/sqlserver-replication.js'
import {decodeValue, positionalParams, shortestFloat32, toParam, type SqlParams, type SqlRunner} from '../../../../src/engines/sqlserver/sqlserver-replication-values.js'
import {COLUMNS_QUERY} from '../../../../src/engines/sqlserver/sqlserver-queries.js'
import type {ColumnRow} from '../../../../src/engines/sqlserver/sqlserver-introspector.js'
import {col, ledger, payments} from './replication-fixtures.js'

const conn: ConnectionOptions = {
  engine: 'sqlserver',
  host: 'db.internal',
  port: 1433,
  user: 'payctl',
  password: null,
  database: 'Payments',
  tls: {mode: 'require'},
  connectTimeoutMs: 5000,
  queryTimeoutMs: 30000,
  poolSize: 4,
  label: 'source',
}

function columnRow(column_id: number, column_name: string, type_name: string, extra: Partial<ColumnRow> = {}): ColumnRow {
  return {
    schema_name: 'dbo',
    table_name: 'ledger_entries',
    column_id,
    column_name,
    type_name,
    is_user_defined: false,
    base_type_name: type_name,
    max_length: 4,
    precision: 10,
    scale: 0,
    is_nullable: false,
    is_identity: false,
    seed_value: null,
    increment_value: null,
    is_computed: false,
    computed_definition: null,
    is_persisted: null,
    is_sparse: false,
    generated_always_type: 0,
    collation_name: null,
    code_page: null,
    default_constraint_name: null,
    default_definition: null,
    comment: null,
    ...extra,
  }
}

/** sys.columns rows of dbo.ledger_entries (and of another table in the schema, which must be ignored). */
const ledgerCatalog: ColumnRow[] = [
  columnRow(1, 'account_id', 'int'),
  columnRow(2, 'entry_no', 'bigint', {max_length: 8, precision: 19}),
  columnRow(3, 'amount', 'decimal', {max_length: 9, precision: 19, scale: 4, is_nullable: true}),
  columnRow(4, 'memo', 'nchar', {max_length: 20, precision: 0, is_nullable: true}),
  columnRow(1, 'other', 'int', {table_name: 'other_table'}),
]

function scripted(answer: (sql: string, params: SqlParams) => unknown[]): SqlRunner & {calls: Array<{sql: string; params: SqlParams}>} {
  const calls: Array<{sql: string; params: SqlParams}> = []
  return {
    calls,
    query<Row>(sql: string, params: SqlParams = {}): Promise<Row[]> {
      calls.push({sql, params})
      return Promise.resolve(answer(sql, params) as Row[])
    },
  }
}

function replication(runner: SqlRunner): SqlServerReplication {
  return new SqlServerReplication({
    connection: conn,
    runner,
    pool: () => Promise.reject(new Error('no pool in unit tests')),
    dedicatedPool: () => Promise.reject(new Error('no pool in unit tests')),
  })
}

const ledgerReplica = replicaTable(ledger)
if (ledgerReplica === null) throw new Error('ledger has a key')

describe('keyset reads', () => {
  it('reads a chunk after a composite key with typed parameters, rows as arrays in column order', async () => {
    const run = scripted((sql) => {
      if (sql === COLUMNS_QUERY) return ledgerCatalog
      return [
        {account_id: 1, entry_no: '9007199254740993', amount: '12.3400', memo: 'abc'},
        {account_id: 2, entry_no: '1', amount: null, memo: null},
      ]
    })
    const r = replication(run)
    const chunk = await r.readChunk({table: ledgerReplica, after: [1, '5'], before: null, limit: 1000})
    expect(chunk.rows).toEqual([
      [1, '9007199254740993', '12.3400', 'abc'],
      [2, '1', null, null],
    ])
    expect(chunk.bytes).toBe(8 + 16 + 7 + 3 + 8 + 1 + 1 + 1)
    const read = run.calls[1]
    expect(read?.sql).toContain('WHERE ((t.[account_id] > CONVERT(int, @a0)) OR (t.[account_id] = CONVERT(int, @a0) AND t.[entry_no] > CONVERT(bigint, @a1)))')
    expect(read?.sql).not.toContain('@b0')
    expect(read?.params).toEqual({limit: {kind: 'int', value: 1000}, a0: {kind: 'text', value: '1'}, a1: {kind: 'text', value: '5'}})
    // the catalog is read once per table
    await r.readChunk({table: ledgerReplica, after: null, before: [3, '0'], limit: 10})
    expect(run.calls.filter((c) => c.sql === COLUMNS_QUERY)).toHaveLength(1)
    expect(run.calls[0]?.params).toEqual({schema: {kind: 'text', value: 'dbo'}})
    expect(run.calls[2]?.params).toEqual({limit: {kind: 'int', value: 10}, b0: {kind: 'text', value: '3'}, b1: {kind: 'text', value: '0'}})
  })

  it('reads key bounds (null for an empty table) and counts with COUNT_BIG', async () => {
    const run = scripted((sql) => {
      if (sql === COLUMNS_QUERY) return ledgerCatalog
      if (sql.includes('DESC;')) return [{account_id: 9, entry_no: '99'}]
      if (sql.includes('COUNT_BIG')) return [{row_count: '123456789012'}]
      return [{account_id: 1, entry_no: '1'}]
    })
    await expect(replication(run).keyBounds(ledgerReplica)).resolves.toEqual({min: [1, '1'], max: [9, '99']})
    await expect(replication(run).countRows(ledgerReplica)).resolves.toBe(123456789012)
    const empty = scripted((sql) => (sql === COLUMNS_QUERY ? ledgerCatalog : []))
    await expect(replication(empty).keyBounds(ledgerReplica)).resolves.toBeNull()
  })

  it('refuses a table the catalog no longer has', async () => {
    const run = scripted(() => [])
    await expect(replication(run).readChunk({table: ledgerReplica, after: null, before: null, limit: 1})).rejects.toMatchObject({code: 'PAYCTL_TABLE_CHANGED', exitCode: 3})
  })
})

describe('values', () => {
  it('reads a real as the shortest decimal of its 32-bit float, as MySQL prints a FLOAT', () => {
    expect(shortestFloat32(0.10000000149011612)).toBe(0.1)
    expect(shortestFloat32(3.4028234663852886e38)).toBe(3.4028235e38)
    expect(shortestFloat32(-1.5)).toBe(-1.5)
    expect(decodeValue({dataType: 'real'}, 0.30000001192092896)).toBe(0.3)
    expect(decodeValue({dataType: 'float'}, 0.30000001192092896)).toBe(0.30000001192092896)
    expect(decodeValue({dataType: 'real'}, null)).toBeNull()
  })

  it('binds values as text, binary or float by column kind', () => {
    expect(toParam('text', '12.3400')).toEqual({kind: 'text', value: '12.3400'})
    expect(toParam('text', 42)).toEqual({kind: 'text', value: '42'})
    expect(toParam('text', 9007199254740993n)).toEqual({kind: 'text', value: '9007199254740993'})
    expect(toParam('text', true)).toEqual({kind: 'text', value: '1'})
    expect(toParam('text', {a: 1})).toEqual({kind: 'text', value: '{"a":1}'})
    expect(toParam('text', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))).toEqual({kind: 'text', value: '2024-01-02 03:04:05.006'})
    expect(toParam('binary', Buffer.from([1, 2]))).toEqual({kind: 'binary', value: Buffer.from([1, 2])})
    expect(toParam('binary', null)).toEqual({kind: 'binary', value: null})
    expect(toParam('float', '1.5')).toEqual({kind: 'float', value: 1.5})
  })

  it('names positional parameters @p0, @p1 ... with types from their values', () => {
    expect(positionalParams(['run-1', 7, 1.5, null, Buffer.from([0]), true])).toEqual({
      p0: {kind: 'text', value: 'run-1'},
      p1: {kind: 'bigint', value: '7'},
      p2: {kind: 'float', value: 1.5},
      p3: {kind: 'text', value: null},
      p4: {kind: 'binary', value: Buffer.from([0])},
      p5: {kind: 'bit', value: true},
    })
  })
})

describe('writer batches', () => {
  const paymentsReplica = replicaTable(payments)
  if (paymentsReplica === null) throw new Error('payments has a key')
  const plan = writePlan(typedTable(paymentsReplica, payments.columns))

  it('leaves out server-written columns (rowversion) and knows the identity column', () => {
    expect(paymentsReplica.columns).toContain('row_ver')
    expect(plan.columns.map((c) => c.name)).toEqual(['payment_id', 'amount', 'fee', 'created_at', 'authorized_at', 'public_id', 'is_test', 'rate', 'receipt'])
    expect(plan.identity).toEqual(['payment_id'])
  })

  it('wraps the MERGE in IDENTITY_INSERT ON/OFF, switched off even when it fails', () => {
    const sql = upsertBatchSql(plan, 1)
    expect(sql.split('\n').slice(0, 3)).toEqual(['SET IDENTITY_INSERT [dbo].[payments] ON;', 'BEGIN TRY', 'MERGE INTO [dbo].[payments] WITH (HOLDLOCK) AS t'])
    expect(sql.split('\n').slice(-6)).toEqual(['END TRY', 'BEGIN CATCH', 'SET IDENTITY_INSERT [dbo].[payments] OFF;', 'THROW;', 'END CATCH;', 'SET IDENTITY_INSERT [dbo].[payments] OFF;'])
    expect(sql).not.toContain('[row_ver]')
    expect(sql).not.toMatch(/UPDATE SET .*t\.\[payment_id\] =/)
    const ledgerPlan = writePlan(typedTable(ledgerReplica, ledger.columns))
    expect(upsertBatchSql(ledgerPlan, 1).startsWith('MERGE INTO [dbo].[ledger_entries] WITH (HOLDLOCK) AS t')).toBe(true)
  })

  it('keeps the last row of a key and splits batches under the parameter limit', () => {
    const row = (id: string, amount: string): unknown[] => [id, amount, null, null, null, null, 1, null, null, Buffer.alloc(8), null]
    const batches = mergeBatches(plan, [row('1', '1.0000'), row('2', '2.0000'), row('1', '3.0000')])
    expect(batches).toEqual([[['2', '2.0000', null, null, null, null, 1, null, null], ['1', '3.0000', null, null, null, null, 1, null, null]]])
    const many = Array.from({length: 1000}, (_, i) => row(String(i), '0.0000'))
    const split = mergeBatches(plan, many)
    expect(split.map((b) => b.length)).toEqual([222, 222, 222, 222, 112])
    for (const b of split) expect(b.length * plan.columns.length).toBeLessThan(2100)
  })

  it('refuses a key the server writes', () => {
    const t = {...ledger, columns: [col('v', 'rowversion', 'rowversion', {serverMaintained: true, nullable: false})], primaryKey: {name: 'PK', columns: [{name: 'v', descending: false, prefixLength: null}]}}
    const rt = replicaTable(t)
    if (rt === null) throw new Error('key')
    expect(() => writePlan(typedTable(rt, t.columns))).toThrow(/written by the server/)
  })
})
