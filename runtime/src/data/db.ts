/**
 * The service's only path to a database: statements from a PaymentsSql (src/engines/), run on a
 * mysql2 pool. Every statement is timed per side and op (db_query_duration_seconds). SQL Server
 * execution is not needed here (its SQL is pinned by unit tests); a SqlServerDb would implement the
 * same interface over mssql and read `insert` ids from the OUTPUT row.
 */
import mysql, {type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket} from 'mysql2/promise'
import type {ConnectionOptions} from '../../../src/engines/engine.js'
import {sslOptions} from '../../../src/engines/mysql/mysql-engine.js'
import type {Statement} from '../../../src/engines/payments-sql.js'

export type Side = 'source' | 'target'

/** What a statement can run on: the pool (autocommit) or one transaction's connection. */
export interface Queryable {
  query<T>(stmt: Statement): Promise<T[]>
  /** Affected rows. */
  execute(stmt: Statement): Promise<number>
  /** The generated id, as a decimal string. */
  insert(stmt: Statement): Promise<string>
}

export interface PoolStats {
  total: number
  idle: number
  waiting: number
}

export interface Db extends Queryable {
  readonly side: Side
  /** Runs fn in one transaction: commit when it resolves, rollback when it throws. Retried on deadlock. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  poolStats(): PoolStats
  /** Sets who is told each statement's latency (the app's metrics); one observer at a time. */
  setObserver(observer: QueryObserver): void
  close(): Promise<void>
}

export type QueryObserver = (side: Side, op: string, seconds: number) => void

/** A unique key was violated (a duplicate idempotency key, a public id collision). */
export class DuplicateKeyError extends Error {
  constructor(op: string) {
    super(`Duplicate key in ${op}`)
    this.name = 'DuplicateKeyError'
  }
}

interface MysqlError {
  code?: string
  errno?: number
}

/** Attempts of a transaction that InnoDB chose as a deadlock victim; each retry waits a little longer, with jitter, so two victims do not collide again. */
const DEADLOCK_ATTEMPTS = 6

function isDeadlock(error: unknown): boolean {
  const e = error as MysqlError
  return e.errno === 1213 || e.code === 'ER_LOCK_DEADLOCK'
}

type Runner = Pick<Pool, 'query'> | Pick<PoolConnection, 'query'>

export class MysqlDb implements Db {
  constructor(
    readonly side: Side,
    private readonly pool: Pool,
    private observe: QueryObserver = () => undefined,
  ) {}

  setObserver(observer: QueryObserver): void {
    this.observe = observer
  }

  /**
   * A pool for the service: BIGINT as strings (ledger txn ids exceed 2^53; ids are opaque),
   * DECIMAL as strings (the driver's default: money never becomes a float), DATETIME read and
   * written as UTC.
   */
  static create(side: Side, o: ConnectionOptions, observe?: QueryObserver): MysqlDb {
    const ssl = sslOptions(o)
    const pool = mysql.createPool({
      ...(o.socketPath === undefined ? {host: o.host, port: o.port} : {socketPath: o.socketPath}),
      user: o.user,
      ...(o.password === null ? {} : {password: o.password.reveal()}),
      database: o.database,
      ...(ssl === undefined ? {} : {ssl}),
      connectTimeout: o.connectTimeoutMs,
      connectionLimit: o.poolSize,
      waitForConnections: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
    })
    return new MysqlDb(side, pool, observe)
  }

  query<T>(stmt: Statement): Promise<T[]> {
    return this.#query<T>(this.pool, stmt)
  }

  execute(stmt: Statement): Promise<number> {
    return this.#execute(this.pool, stmt)
  }

  insert(stmt: Statement): Promise<string> {
    return this.#insert(this.pool, stmt)
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.pool.getConnection()
      let released = false
      try {
        await conn.beginTransaction()
        const tx: Queryable = {
          query: <R>(s: Statement) => this.#query<R>(conn, s),
          execute: (s) => this.#execute(conn, s),
          insert: (s) => this.#insert(conn, s),
        }
        const result = await fn(tx)
        await conn.commit()
        return result
      } catch (error) {
        await conn.rollback().catch(() => undefined)
        // InnoDB picked this transaction as a deadlock victim and rolled it back whole: running
        // it again is safe, and the other side has committed by now.
        if (isDeadlock(error) && attempt < DEADLOCK_ATTEMPTS) {
          conn.release()
          released = true
          await new Promise((resolve) => setTimeout(resolve, attempt * 5 + Math.random() * attempt * 10))
          continue
        }
        throw error
      } finally {
        if (!released) conn.release()
      }
    }
  }

  poolStats(): PoolStats {
    // mysql2 keeps these counts on the callback pool only (not public API); read them defensively
    const inner = (this.pool as unknown as {pool?: {_allConnections?: {length: number}; _freeConnections?: {length: number}; _connectionQueue?: {length: number}}}).pool
    return {total: inner?._allConnections?.length ?? 0, idle: inner?._freeConnections?.length ?? 0, waiting: inner?._connectionQueue?.length ?? 0}
  }

  async close(): Promise<void> {
    await this.pool.end()
  }

  async #timed<T>(stmt: Statement, run: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint()
    try {
      return await run()
    } catch (error) {
      const e = error as MysqlError
      if (e.errno === 1062 || e.code === 'ER_DUP_ENTRY') throw new DuplicateKeyError(stmt.op)
      throw error
    } finally {
      this.observe(this.side, stmt.op, Number(process.hrtime.bigint() - start) / 1e9)
    }
  }

  #query<T>(runner: Runner, stmt: Statement): Promise<T[]> {
    return this.#timed(stmt, async () => {
      const [rows] = await runner.query<RowDataPacket[]>(stmt.sql, stmt.params as unknown[])
      return rows as unknown as T[]
    })
  }

  #execute(runner: Runner, stmt: Statement): Promise<number> {
    return this.#timed(stmt, async () => {
      const [header] = await runner.query<ResultSetHeader>(stmt.sql, stmt.params as unknown[])
      return header.affectedRows
    })
  }

  #insert(runner: Runner, stmt: Statement): Promise<string> {
    return this.#timed(stmt, async () => {
      const [header] = await runner.query<ResultSetHeader>(stmt.sql, stmt.params as unknown[])
      return String(header.insertId)
    })
  }
}
