/**
 * SQL Server's side of the replication contract (src/engines/replication.ts): keyset chunk reads,
 * key bounds and exact counts, change capture from MS-CDC (sqlserver-capture.ts) and the target
 * writer used by reverse replication (target -> SQL Server).
 *
 * The statements are built in sqlserver-replication-queries.ts, whose header lists how each column
 * type is read (the textual forms the MySQL engine's mysql2 pool hands over) and how bound values
 * are converted back. Column types come from the catalog: ReplicaTable names columns only, so the
 * first use of a table reads its columns once (the introspector's COLUMNS_QUERY and mapColumn)
 * and keeps them for the life of the engine.
 *
 * The writer holds one dedicated connection (a pool of one), so its transactions, its
 * query() calls and the control store's checkpoint rows share one session. A table with an
 * identity column is written with SET IDENTITY_INSERT ON around each MERGE, switched OFF again in
 * the same batch even when the MERGE fails (only one table per session may have it ON).
 * Foreign keys stay checked: SQL Server has no session switch for them.
 */
import mssql from 'mssql'
import type {ConnectionPool, Request, Transaction} from 'mssql'
import {BugError, EnvironmentError} from '../../cli/errors.js'
import {redact} from '../../cli/redact.js'
import {describeEndpoint, type ConnectionOptions} from '../engine.js'
import type {ColumnModel} from '../model.js'
import {type ChunkRequest, type ChunkRows, keyText, type ReplicaTable, type ReplicationSupport, type TargetWriter} from '../replication.js'
import {valueBytes} from '../sampling.js'
import {SqlServerChangeCapture, type SqlServerCaptureOptions} from './sqlserver-capture.js'
import {type ColumnRow, mapColumn} from './sqlserver-introspector.js'
import {COLUMNS_QUERY} from './sqlserver-queries.js'
import {qualify} from './sqlserver-dialect.js'
import {
  batchRows,
  countRowsQuery,
  deleteKeysQuery,
  identityInsertStatement,
  keyBoundQuery,
  mergeQuery,
  type ParamKind,
  paramKind,
  readChunkQuery,
} from './sqlserver-replication-queries.js'
import {decodeValue, facts, positionalParams, type SqlParam, type SqlParams, type SqlRunner, toParam} from './sqlserver-replication-values.js'

// ---------------------------------------------------------------------------------------------
// Running statements

function bind(request: Request, name: string, p: SqlParam): void {
  switch (p.kind) {
    case 'text':
      request.input(name, mssql.NVarChar(mssql.MAX), p.value)
      return
    case 'binary':
      request.input(name, mssql.VarBinary(mssql.MAX), p.value)
      return
    case 'float':
      request.input(name, mssql.Float, p.value)
      return
    case 'int':
      request.input(name, mssql.Int, p.value)
      return
    case 'bigint':
      request.input(name, mssql.BigInt, typeof p.value === 'bigint' ? p.value.toString() : p.value)
      return
    case 'bit':
      request.input(name, mssql.Bit, p.value)
      return
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

const PERMISSION_ERROR_NUMBERS = new Set([229, 230, 262, 297, 300, 916, 22902])
const CONNECTION_CODES = new Set(['ESOCKET', 'ECONNCLOSED', 'ECONNRESET', 'ENOTOPEN'])

/** Permission, timeout and lost-connection failures as exit-3 errors with what to do; anything else as it is. */
export function replicationQueryError(err: unknown, o: ConnectionOptions): unknown {
  if (!(err instanceof mssql.MSSQLError)) return err
  const f = facts(err)
  const detail = redact(err.message)
  const where = `the ${o.label} (SQL Server at ${describeEndpoint(o)})`
  const data = {side: o.label, endpoint: describeEndpoint(o), detail}
  if ([...f.numbers].some((n) => PERMISSION_ERROR_NUMBERS.has(n))) {
    return new EnvironmentError('PAYCTL_PERMISSION_DENIED', `A replication query on ${where} was refused: ${detail}`, {
      cause: err,
      actions: [
        `Grant user "${o.user}" SELECT on the replicated tables and on the cdc schema (or make it a member of the capture instances' gating role), and INSERT, UPDATE, DELETE and ALTER on the tables it writes (ALTER for SET IDENTITY_INSERT).`,
      ],
      data,
    })
  }
  if (f.codes.has('ETIMEOUT')) {
    return new EnvironmentError('PAYCTL_QUERY_TIMEOUT', `A replication query on ${where} took longer than ${o.queryTimeoutMs} ms: ${detail}`, {
      cause: err,
      actions: [`Raise ${o.label}.queryTimeoutMs, lower the chunk size, or rerun when the server is less busy.`],
      data,
    })
  }
  if ([...f.codes].some((c) => CONNECTION_CODES.has(c))) {
    return new EnvironmentError('PAYCTL_CONNECTION_LOST', `The connection to ${where} was lost: ${detail}`, {
      cause: err,
      actions: [`Check that the ${o.label} server is up and reachable, then rerun (replicate resumes from its last checkpoint).`],
      data,
    })
  }
  return err
}

async function runOn<Row>(request: Request, sql: string, params: SqlParams, signal?: AbortSignal): Promise<Row[]> {
  for (const [name, p] of Object.entries(params)) bind(request, name, p)
  signal?.throwIfAborted()
  const onAbort = (): void => request.cancel()
  signal?.addEventListener('abort', onAbort, {once: true})
  try {
    const result = await request.query<Row>(sql)
    return result.recordset ?? []
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/** A SqlRunner over a pool; driver errors mapped by replicationQueryError; an abort rethrown as the abort. */
export function poolRunner(pool: (signal?: AbortSignal) => Promise<ConnectionPool>, o: ConnectionOptions): SqlRunner {
  return {
    async query<Row>(sql: string, params: SqlParams = {}, signal?: AbortSignal): Promise<Row[]> {
      const p = await pool(signal)
      try {
        return await runOn<Row>(p.request(), sql, params, signal)
      } catch (err) {
        signal?.throwIfAborted()
        throw replicationQueryError(err, o)
      }
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Tables

/** A replica table with the catalog's type for each of its columns and keys. */
export interface TypedTable {
  table: ReplicaTable
  columns: ColumnModel[]
  keys: ColumnModel[]
}

/** Pairs ReplicaTable's names with the table's catalog columns; a name missing from the catalog is a stale model. */
export function typedTable(table: ReplicaTable, catalog: readonly ColumnModel[]): TypedTable {
  const byName = new Map(catalog.map((c) => [c.name, c]))
  const find = (name: string): ColumnModel => {
    const c = byName.get(name)
    if (c === undefined) {
      throw new EnvironmentError('PAYCTL_TABLE_CHANGED', `Column ${table.schema}.${table.name}.${name} no longer exists on SQL Server.`, {
        actions: ['The table changed since payctl read its schema: rerun payctl replicate so it reads the schema again.'],
        data: {table: `${table.schema}.${table.name}`, column: name},
      })
    }
    return c
  }
  return {table, columns: table.columns.map(find), keys: table.keyColumns.map(find)}
}

function keyParams(prefix: string, keys: readonly ColumnModel[], values: readonly unknown[]): Record<string, SqlParam> {
  if (values.length !== keys.length) throw new BugError(`A key of ${keys.length} column(s) was given ${values.length} value(s).`)
  const out: Record<string, SqlParam> = {}
  keys.forEach((k, i) => {
    out[`${prefix}${i}`] = toParam(paramKind(k), values[i])
  })
  return out
}

/** A row of the driver (by column name) as an array in `columns` order, decoded. */
function toArray(row: Record<string, unknown>, columns: readonly ColumnModel[]): unknown[] {
  return columns.map((c) => decodeValue(c, row[c.name] ?? null))
}

export interface SqlServerReplicationDeps {
  connection: ConnectionOptions
  /** The engine's pool, connected. */
  pool(signal?: AbortSignal): Promise<ConnectionPool>
  /** A new pool of exactly one connection, for the writer (which closes it). */
  dedicatedPool(): Promise<ConnectionPool>
  capture?: SqlServerCaptureOptions
  /** Runs the reads instead of the pool (tests). */
  runner?: SqlRunner
}

export class SqlServerReplication implements ReplicationSupport {
  readonly capture: SqlServerChangeCapture
  readonly #deps: SqlServerReplicationDeps
  readonly #run: SqlRunner
  readonly #columns = new Map<string, Promise<ColumnModel[]>>()

  constructor(deps: SqlServerReplicationDeps) {
    this.#deps = deps
    this.#run = deps.runner ?? poolRunner((signal) => deps.pool(signal), deps.connection)
    this.capture = new SqlServerChangeCapture(this.#run, deps.connection, deps.capture)
  }

  /** The catalog columns of a table, read once. */
  async columnsOf(schema: string, table: string, run: SqlRunner = this.#run): Promise<ColumnModel[]> {
    const key = qualify(schema, table)
    let cached = this.#columns.get(key)
    if (cached === undefined) {
      cached = run.query<ColumnRow>(COLUMNS_QUERY, {schema: {kind: 'text', value: schema}}).then((rows) => rows.filter((r) => r.table_name === table).map(mapColumn))
      cached.catch(() => this.#columns.delete(key))
      this.#columns.set(key, cached)
    }
    const columns = await cached
    if (columns.length === 0) {
      this.#columns.delete(key)
      throw new EnvironmentError('PAYCTL_TABLE_CHANGED', `Table ${schema}.${table} does not exist on the ${this.#deps.connection.label} SQL Server.`, {
        actions: ['The table was dropped or renamed since payctl read the schema: rerun payctl replicate so it reads the schema again.'],
        data: {table: `${schema}.${table}`},
      })
    }
    return columns
  }

  async #typed(table: ReplicaTable): Promise<TypedTable> {
    return typedTable(table, await this.columnsOf(table.schema, table.name))
  }

  async readChunk(request: ChunkRequest): Promise<ChunkRows> {
    const t = await this.#typed(request.table)
    const sql = readChunkQuery(t.table.schema, t.table.name, t.columns, t.keys, request.after !== null, request.before !== null)
    const params: Record<string, SqlParam> = {
      limit: {kind: 'int', value: Math.max(1, Math.floor(request.limit))},
      ...(request.after === null ? {} : keyParams('a', t.keys, request.after)),
      ...(request.before === null ? {} : keyParams('b', t.keys, request.before)),
    }
    const rows = await this.#run.query<Record<string, unknown>>(sql, params, request.signal)
    let bytes = 0
    const out = rows.map((r) => {
      const values = toArray(r, t.columns)
      for (const v of values) bytes += valueBytes(v)
      return values
    })
    return {rows: out, bytes}
  }

  async keyBounds(table: ReplicaTable): Promise<{min: unknown[]; max: unknown[]} | null> {
    const t = await this.#typed(table)
    const [min] = await this.#run.query<Record<string, unknown>>(keyBoundQuery(table.schema, table.name, t.keys, 'ASC'))
    const [max] = await this.#run.query<Record<string, unknown>>(keyBoundQuery(table.schema, table.name, t.keys, 'DESC'))
    if (min === undefined || max === undefined) return null
    return {min: toArray(min, t.keys), max: toArray(max, t.keys)}
  }

  async countRows(table: ReplicaTable): Promise<number> {
    const [row] = await this.#run.query<{row_count: string | number}>(countRowsQuery(table.schema, table.name))
    return Number(row?.row_count ?? 0)
  }

  async openWriter(): Promise<TargetWriter> {
    const pool = await this.#deps.dedicatedPool()
    return new SqlServerTargetWriter(pool, this.#deps.connection, (schema, table, run) => this.columnsOf(schema, table, run))
  }
}

// ---------------------------------------------------------------------------------------------
// The writer

/** How one table is written: the columns a MERGE may set (no rowversion, no GENERATED ALWAYS). */
export interface WritePlan {
  typed: TypedTable
  /** Indexes into a row (table.columns order) of the written columns. */
  indexes: number[]
  columns: ColumnModel[]
  identity: string[]
}

export function writePlan(typed: TypedTable): WritePlan {
  const indexes: number[] = []
  typed.columns.forEach((c, i) => {
    if (!c.serverMaintained && c.generated === null) indexes.push(i)
  })
  const columns = indexes.map((i) => typed.columns[i] as ColumnModel)
  const key = typed.keys.find((k) => !columns.includes(k))
  if (key !== undefined) {
    throw new BugError(`Key column ${typed.table.schema}.${typed.table.name}.${key.name} is written by the server; it cannot key replication.`)
  }
  return {typed, indexes, columns, identity: columns.filter((c) => c.identity !== null).map((c) => c.name)}
}

/** Splits rows into MERGE batches (by key, the last row of a key wins: a MERGE may not touch a row twice). */
export function mergeBatches(plan: WritePlan, rows: readonly (readonly unknown[])[]): unknown[][][] {
  const byKey = new Map<string, unknown[]>()
  for (const row of rows) {
    const values = plan.indexes.map((i) => row[i])
    byKey.delete(keyText(plan.typed.table.keyIndexes.map((i) => row[i])))
    byKey.set(keyText(plan.typed.table.keyIndexes.map((i) => row[i])), values)
  }
  const all = [...byKey.values()]
  const size = batchRows(plan.columns.length)
  const out: unknown[][][] = []
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size))
  return out
}

/** The MERGE batch, wrapped in SET IDENTITY_INSERT ON/OFF when the table has an identity column. */
export function upsertBatchSql(plan: WritePlan, rows: number): string {
  const {schema, name, keyColumns} = plan.typed.table
  const merge = mergeQuery(schema, name, plan.columns, keyColumns, plan.identity, rows)
  if (plan.identity.length === 0) return merge
  const off = identityInsertStatement(schema, name, false)
  return [identityInsertStatement(schema, name, true), 'BEGIN TRY', merge, 'END TRY', 'BEGIN CATCH', off, 'THROW;', 'END CATCH;', off].join('\n')
}

function batchParams(columns: readonly ColumnModel[], rows: readonly (readonly unknown[])[], jsonColumns: readonly string[]): Record<string, SqlParam> {
  const out: Record<string, SqlParam> = {}
  const kinds = columns.map((c) => paramKind(c))
  rows.forEach((row, r) => {
    columns.forEach((c, i) => {
      let v = row[i]
      if (jsonColumns.includes(c.name) && v !== null && v !== undefined && typeof v !== 'string' && !Buffer.isBuffer(v)) v = JSON.stringify(v)
      out[`p${r * columns.length + i}`] = toParam(kinds[i] as ParamKind, v)
    })
  })
  return out
}

type ColumnLookup = (schema: string, table: string, run: SqlRunner) => Promise<ColumnModel[]>

class SqlServerTargetWriter implements TargetWriter {
  readonly #pool: ConnectionPool
  readonly #conn: ConnectionOptions
  readonly #lookup: ColumnLookup
  readonly #plans = new Map<string, Promise<WritePlan>>()
  #tx: Transaction | null = null
  #closed = false

  constructor(pool: ConnectionPool, conn: ConnectionOptions, lookup: ColumnLookup) {
    this.#pool = pool
    this.#conn = conn
    this.#lookup = lookup
  }

  #request(): Request {
    if (this.#closed) throw new BugError('The SQL Server target writer is closed.')
    return this.#tx === null ? this.#pool.request() : new mssql.Request(this.#tx)
  }

  readonly #runner: SqlRunner = {
    query: async <Row>(sql: string, params: SqlParams = {}): Promise<Row[]> => {
      try {
        return await runOn<Row>(this.#request(), sql, params)
      } catch (err) {
        throw replicationQueryError(err, this.#conn)
      }
    },
  }

  async begin(): Promise<void> {
    if (this.#tx !== null) throw new BugError('A transaction is already open on the SQL Server target writer.')
    const tx = new mssql.Transaction(this.#pool)
    try {
      await tx.begin()
    } catch (err) {
      throw replicationQueryError(err, this.#conn)
    }
    this.#tx = tx
  }

  async commit(): Promise<void> {
    const tx = this.#tx
    if (tx === null) throw new BugError('No transaction is open on the SQL Server target writer.')
    this.#tx = null
    try {
      await tx.commit()
    } catch (err) {
      throw replicationQueryError(err, this.#conn)
    }
  }

  async rollback(): Promise<void> {
    const tx = this.#tx
    this.#tx = null
    if (tx === null) return
    try {
      await tx.rollback()
    } catch (err) {
      // the server already rolled back a doomed transaction (an error with XACT_ABORT, a deadlock victim)
      if (!(err instanceof mssql.TransactionError && err.code === 'EABORT')) throw replicationQueryError(err, this.#conn)
    }
  }

  #plan(table: ReplicaTable): Promise<WritePlan> {
    const key = qualify(table.schema, table.name)
    let plan = this.#plans.get(key)
    if (plan === undefined) {
      plan = this.#lookup(table.schema, table.name, this.#runner).then((catalog) => writePlan(typedTable(table, catalog)))
      plan.catch(() => this.#plans.delete(key))
      this.#plans.set(key, plan)
    }
    return plan
  }

  async upsertRows(table: ReplicaTable, rows: readonly unknown[][]): Promise<void> {
    if (rows.length === 0) return
    const plan = await this.#plan(table)
    for (const batch of mergeBatches(plan, rows)) {
      await this.#runner.query(upsertBatchSql(plan, batch.length), batchParams(plan.columns, batch, table.jsonColumns))
    }
  }

  async deleteKeys(table: ReplicaTable, keys: readonly unknown[][]): Promise<void> {
    if (keys.length === 0) return
    const plan = await this.#plan(table)
    const keyColumns = plan.typed.keys
    const size = batchRows(keyColumns.length)
    for (let i = 0; i < keys.length; i += size) {
      const batch = keys.slice(i, i + size)
      await this.#runner.query(deleteKeysQuery(table.schema, table.name, keyColumns, batch.length), batchParams(keyColumns, batch, []))
    }
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.#runner.query<T>(sql, positionalParams(params))
  }

  async close(): Promise<void> {
    if (this.#closed) return
    try {
      await this.rollback()
    } finally {
      this.#closed = true
      await this.#pool.close()
    }
  }
}
