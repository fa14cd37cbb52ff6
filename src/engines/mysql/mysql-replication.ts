/**
 * payctl replicate on a MySQL-family server: keyset chunk reads (rows as arrays, values as the pool
 * hands them over: exact strings for DECIMAL, BIGINT and date-times), key bounds, and a writer on
 * one dedicated connection with foreign-key checks off (the copy writes tables in parallel and in
 * key order, never parent-first) and statements sized under max_allowed_packet.
 */
import {Readable} from 'node:stream'
import type {Pool, PoolConnection, RowDataPacket} from 'mysql2/promise'
import type {ConnectionOptions} from '../engine.js'
import type {ChangeCapture, ChunkRequest, ChunkRows, ReplicaTable, ReplicationSupport, TargetWriter} from '../replication.js'
import {valueBytes} from '../sampling.js'
import * as S from './mysql-replication-sql.js'

/** Upper size of one upsert or delete statement: far below every flavor's default max_allowed_packet (4 MiB on old MariaDB, 64 MiB on MySQL 8). */
export const STATEMENT_BYTES = 1024 * 1024

export interface MysqlReplicationDeps {
  options: ConnectionOptions
  pool(): Promise<Pool>
  mapError(err: unknown, sql: string): unknown
  capture: ChangeCapture
}

export class MysqlReplication implements ReplicationSupport {
  constructor(private readonly deps: MysqlReplicationDeps) {}

  get capture(): ChangeCapture {
    return this.deps.capture
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
