/**
 * payctl replicate on a MySQL-family server: keyset chunk reads (rows as arrays, values as the pool
 * hands them over: exact strings for DECIMAL, BIGINT and date-times), key bounds, and a writer on
 * one dedicated connection with foreign-key checks off (the copy writes tables in parallel and in
 * key order, never parent-first) and statements sized under max_allowed_packet.
 */
import {Readable} from 'node:stream'
import type {Pool, PoolConnection, RowDataPacket} from 'mysql2/promise'
import type {ConnectionOptions} from '../engine.js'
import type {ColumnModel, MysqlFlavor} from '../model.js'
import type {ChangeCapture, ChunkRequest, ChunkRows, KeyRange, RangeHash, ReplicaTable, ReplicationSupport, TargetWriter, VerifySupport} from '../replication.js'
import {valueBytes} from '../sampling.js'
import * as S from './mysql-replication-sql.js'
import * as V from './mysql-verify-sql.js'

/** Upper size of one upsert or delete statement: far below every flavor's default max_allowed_packet (4 MiB on old MariaDB, 64 MiB on MySQL 8). */
export const STATEMENT_BYTES = 1024 * 1024

export interface MysqlReplicationDeps {
  options: ConnectionOptions
  /** The server's flavor: how JSON is normalised in the pushdown hash, and whether the server reads in key order (see mysql-verify-sql.ts). */
  flavor(): Promise<MysqlFlavor>
  pool(): Promise<Pool>
  mapError(err: unknown, sql: string): unknown
  capture: ChangeCapture
}

export class MysqlReplication implements ReplicationSupport {
  constructor(private readonly deps: MysqlReplicationDeps) {}

  get capture(): ChangeCapture {
    return this.deps.capture
  }

  #verify: MysqlVerify | null = null

  get verify(): VerifySupport {
    this.#verify ??= new MysqlVerify(this.deps, (sql, params, asArray) => this.#rows(sql, params, asArray))
    return this.#verify
  }

  async #rows(sql: string, params: readonly unknown[], asArray: boolean): Promise<unknown[]> {
    const pool = await this.deps.pool()
    try {
      const [rows] = await pool.query<RowDataPacket[]>({sql, rowsAsArray: asArray, timeout: this.deps.options.queryTimeoutMs}, [...params])
      return rows
    } catch (err) {
      throw this.deps.mapError(err, sql)
    }
  }

  async readChunk(request: ChunkRequest): Promise<ChunkRows> {
    request.signal?.throwIfAborted()
    const {table, after, before, limit} = request
    const from = after === null ? (request.from ?? null) : null
    const sql = S.readChunkSql(table, {after: after?.length ?? 0, from: from?.length ?? 0, before: before?.length ?? 0})
    const lower = after ?? from
    const params = [...(lower === null ? [] : S.keyPredicateParams(lower)), ...(before === null ? [] : S.keyPredicateParams(before)), limit]
    const rows = (await this.#rows(sql, params, true)) as unknown[][]
    let bytes = 0
    for (const row of rows) for (const v of row) bytes += valueBytes(v)
    return {rows, bytes}
  }

  async keyBounds(table: ReplicaTable): Promise<{min: unknown[]; max: unknown[]} | null> {
    const [min] = (await this.#rows(S.keyBoundSql(table, 'ASC'), [], true)) as unknown[][]
    const [max] = (await this.#rows(S.keyBoundSql(table, 'DESC'), [], true)) as unknown[][]
    return min === undefined || max === undefined ? null : {min, max}
  }

  async countRows(table: ReplicaTable): Promise<number> {
    const [row] = (await this.#rows(S.countRowsSql(table), [], false)) as Array<{n: string | number}>
    return Number(row?.n ?? 0)
  }

  async truncate(table: ReplicaTable): Promise<void> {
    const pool = await this.deps.pool()
    const conn = await pool.getConnection()
    const sql = S.truncateSql(table)
    try {
      // TRUNCATE of a table other tables reference by foreign key needs the checks off on its session
      await conn.query(S.SESSION_NO_FK_CHECKS)
      await conn.query(sql)
      await conn.query('SET foreign_key_checks = 1')
    } catch (err) {
      throw this.deps.mapError(err, sql)
    } finally {
      conn.release()
    }
  }

  async openWriter(): Promise<TargetWriter> {
    const pool = await this.deps.pool()
    const conn = await pool.getConnection()
    try {
      await conn.query(S.SESSION_NO_FK_CHECKS)
    } catch (err) {
      conn.release()
      throw this.deps.mapError(err, S.SESSION_NO_FK_CHECKS)
    }
    return new MysqlWriter(conn, this.deps)
  }
}

/** Refusals of LOAD DATA LOCAL: local_infile off on the server (MySQL 1148, 3948; MariaDB 4166) or on the client side (2068). */
const LOCAL_INFILE_REFUSED = new Set([1148, 2068, 3948, 4166])

function errno(err: unknown): number | null {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const n = (e as {errno?: unknown}).errno
    if (typeof n === 'number') return n
    e = (e as {cause?: unknown}).cause
  }
  return null
}

class MysqlWriter implements TargetWriter {
  #conn: PoolConnection | null
  /** Set once the server refused LOAD DATA LOCAL: the copy then writes multi-row upserts. */
  #noLocalInfile = false

  constructor(conn: PoolConnection, private readonly deps: MysqlReplicationDeps) {
    this.#conn = conn
  }

  async #run(sql: string, params: readonly unknown[] = []): Promise<unknown> {
    const conn = this.#conn
    if (conn === null) throw new Error('MysqlWriter: closed')
    try {
      const [result] = await conn.query({sql, timeout: this.deps.options.queryTimeoutMs}, [...params])
      return result
    } catch (err) {
      throw this.deps.mapError(err, sql)
    }
  }

  async begin(): Promise<void> {
    await this.#run('START TRANSACTION')
  }

  async commit(): Promise<void> {
    await this.#run('COMMIT')
  }

  async rollback(): Promise<void> {
    await this.#run('ROLLBACK')
  }

  async upsertRows(table: ReplicaTable, rows: readonly unknown[][]): Promise<void> {
    for (const batch of batchesByBytes(rows)) await this.#run(S.upsertSql(table, batch))
  }

  async bulkLoadRows(table: ReplicaTable, rows: readonly unknown[][]): Promise<void> {
    if (rows.length === 0) return
    const conn = this.#conn
    if (conn === null) throw new Error('MysqlWriter: closed')
    if (this.#noLocalInfile) return this.upsertRows(table, rows)
    const sql = S.loadDataSql(table, S.binaryColumnsOf(rows))
    const data = Buffer.from(S.tsvRows(table, rows), 'utf8')
    try {
      await conn.query({sql, timeout: this.deps.options.queryTimeoutMs, infileStreamFactory: () => Readable.from([data])})
    } catch (err) {
      const n = errno(err)
      if (n === null || !LOCAL_INFILE_REFUSED.has(n)) throw this.deps.mapError(err, sql)
      // refused before reading a byte: nothing was written, the transaction goes on with upserts
      this.#noLocalInfile = true
      await this.upsertRows(table, rows)
    }
  }

  async deleteKeys(table: ReplicaTable, keys: readonly unknown[][]): Promise<void> {
    for (const batch of batchesByBytes(keys)) await this.#run(S.deleteKeysSql(table, batch))
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return (await this.#run(sql, params)) as T[]
  }

  async close(): Promise<void> {
    const conn = this.#conn
    this.#conn = null
    if (conn === null) return
    // a connection left mid-transaction (an error) is rolled back by the server when destroyed
    try {
      await conn.query('ROLLBACK')
      await conn.query('SET foreign_key_checks = 1')
      conn.release()
    } catch {
      conn.destroy()
    }
  }
}

/** Splits rows so that each statement stays under STATEMENT_BYTES (escaped text is at most about twice the value bytes). */
export function* batchesByBytes(rows: readonly unknown[][], limit = STATEMENT_BYTES): Generator<unknown[][]> {
  let batch: unknown[][] = []
  let bytes = 0
  for (const row of rows) {
    let size = 16
    for (const v of row) size += 2 * valueBytes(v) + 4
    if (batch.length > 0 && bytes + size > limit) {
      yield batch
      batch = []
      bytes = 0
    }
    batch.push(row)
    bytes += size
  }
  if (batch.length > 0) yield batch
}

const rangeParams = (range: KeyRange): unknown[] => [...(range.after === null ? [] : S.keyPredicateParams(range.after)), ...(range.through === null ? [] : S.keyPredicateParams(range.through))]
const rangeBounds = (range: KeyRange, where: string | null): V.RangeBounds => ({after: range.after?.length ?? 0, through: range.through?.length ?? 0, where})

/** verify.hashMaxBytes when nobody sets it: the default max_allowed_packet of MariaDB 10.2+. */
const DEFAULT_HASH_MAX_BYTES = 16 * 1024 * 1024

class MysqlVerify implements VerifySupport {
  /** Resolved from the server's flavor before the first hash (MariaDB normalises JSON differently). */
  hashDialect = 'mysql-family'
  hashBytesLimit = DEFAULT_HASH_MAX_BYTES
  #json: V.JsonDialect | null = null
  #order: V.HashOrder = {forcePrimary: false, orderBy: false}
  #hashMaxBytes = DEFAULT_HASH_MAX_BYTES
  /** The server keeps no warnings by default (max_error_count 0): the hash sessions raise it. */
  #keepWarnings = false
  /** The group_concat_max_len each pooled connection's session has (keyed by the driver's connection: the pool hands out a new wrapper each time). */
  readonly #sized = new WeakMap<object, number>()

  constructor(
    private readonly deps: MysqlReplicationDeps,
    private readonly rows: (sql: string, params: readonly unknown[], asArray: boolean) => Promise<unknown[]>,
  ) {}

  async prepare(options: {hashMaxBytes?: number} = {}): Promise<void> {
    if (options.hashMaxBytes !== undefined) this.#hashMaxBytes = Math.max(1024, Math.floor(options.hashMaxBytes))
    if (this.#json === null) {
      const flavor = await this.deps.flavor()
      this.#json = flavor === 'mariadb' ? 'mariadb' : 'mysql'
      // a server with a query cache (MariaDB, MySQL 5.7, Aurora MySQL 2) has @@query_cache_type; MySQL 8 has none
      const cache = await this.rows('SELECT @@query_cache_type AS c', [], false).then(
        () => true,
        () => false,
      )
      this.#order = flavor === 'tidb' ? {forcePrimary: false, orderBy: true, noCache: false} : {forcePrimary: true, orderBy: false, noCache: cache}
    }
    this.hashDialect = `mysql-family/${this.#json}`
    // GROUP_CONCAT stops at the smaller of its own limit and max_allowed_packet: the sessions get that smaller one
    const [row] = (await this.rows('SELECT @@max_allowed_packet AS p', [], false)) as Array<{p: string | number}>
    const packet = Number(row?.p ?? 0)
    this.hashBytesLimit = packet > 0 ? Math.min(packet, this.#hashMaxBytes) : this.#hashMaxBytes
    const errors = (await this.rows('SELECT @@max_error_count AS e', [], false).catch(() => [])) as Array<{e: string | number}>
    this.#keepWarnings = Number(errors[0]?.e ?? 64) === 0
  }

  async keyAt(table: ReplicaTable, after: unknown[] | null, offset: number, where: string | null, through: unknown[] | null = null): Promise<unknown[] | null> {
    const params = [...(after === null ? [] : S.keyPredicateParams(after)), ...(through === null ? [] : S.keyPredicateParams(through)), Math.max(0, offset - 1)]
    const [row] = (await this.rows(V.keyAtSql(table, after?.length ?? 0, where, through?.length ?? 0), params, true)) as unknown[][]
    return row ?? null
  }

  async readRange(table: ReplicaTable, range: KeyRange, where: string | null): Promise<unknown[][]> {
    return (await this.rows(V.readRangeSql(table, rangeBounds(range, where)), rangeParams(range), true)) as unknown[][]
  }

  async readKeys(table: ReplicaTable, keys: readonly unknown[][]): Promise<unknown[][]> {
    if (keys.length === 0) return []
    return (await this.rows(V.readKeysSql(table, keys.length), keys.flat(), true)) as unknown[][]
  }

  async countRows(table: ReplicaTable, range: KeyRange | null, where: string | null): Promise<number> {
    const r = range ?? {after: null, through: null}
    const [row] = (await this.rows(V.countRangeSql(table, rangeBounds(r, where)), rangeParams(r), false)) as Array<{n: string | number}>
    return Number(row?.n ?? 0)
  }

  /**
   * The hash runs on one pooled connection so that its warnings can be read right after it. A hash
   * with any warning is not comparable and comes back `cut`: GROUP_CONCAT cut the text (1260, which
   * says how many rows fitted), a row longer than max_allowed_packet became NULL and was left out
   * (1301), or anything else went wrong in a row. Its range is then compared in parts.
   */
  async hashRange(table: ReplicaTable, columns: readonly ColumnModel[], range: KeyRange, where: string | null, jsonAsStored = false): Promise<RangeHash> {
    if (this.#json === null) await this.prepare()
    // the key order comes from the primary key's scan, or is spelled out (TiDB, or a unique key)
    const order = {...this.#order, forcePrimary: this.#order.forcePrimary && table.keyIsPrimary === true, orderBy: this.#order.orderBy || table.keyIsPrimary !== true}
    const sql = V.hashRangeSql(table, columns, rangeBounds(range, where), jsonAsStored ? 'raw' : (this.#json ?? 'mysql'), order)
    const pool = await this.deps.pool()
    let conn: PoolConnection | null = null
    try {
      conn = await pool.getConnection()
      const timeout = this.deps.options.queryTimeoutMs
      const session: object = (conn as unknown as {connection?: object}).connection ?? conn
      if (this.#sized.get(session) !== this.hashBytesLimit) {
        await conn.query({sql: `SET SESSION group_concat_max_len = ?${this.#keepWarnings ? ', max_error_count = 64' : ''}`, timeout}, [this.hashBytesLimit])
        this.#sized.set(session, this.hashBytesLimit)
      }
      const [rows] = await conn.query<RowDataPacket[]>({sql, timeout}, rangeParams(range))
      const row = rows[0] as {n: string | number; h: string | null} | undefined
      const count = Number(row?.n ?? 0)
      const hash = row?.h ?? ''
      if (columns.length === 0) return {count, hash}
      const [warnings] = await conn.query<RowDataPacket[]>({sql: 'SHOW WARNINGS', timeout})
      const problems = (warnings as Array<{Level?: string; Code?: number | string; Message?: string}>).filter((w) => w.Level !== 'Note')
      const cutWarning = problems.find((w) => Number(w.Code) === V.GROUP_CONCAT_CUT)
      if (cutWarning !== undefined) return {count, hash, cut: {rowsWhole: V.rowsBeforeCut(String(cutWarning.Message ?? ''))}}
      // rows but no text: every row was left out
      if (problems.length > 0 || (count > 0 && row?.h == null)) return {count, hash, cut: {rowsWhole: null}}
      return {count, hash}
    } catch (err) {
      throw this.deps.mapError(err, sql)
    } finally {
      conn?.release()
    }
  }

  repairStatements(table: ReplicaTable, upserts: readonly unknown[][], deletes: readonly unknown[][]): string[] {
    const out: string[] = []
    for (const batch of batchesByBytes(deletes)) out.push(S.deleteKeysSql(table, batch))
    for (const batch of batchesByBytes(upserts)) out.push(S.upsertSql(table, batch))
    return out
  }
}
