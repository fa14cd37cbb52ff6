/**
 * The MySQL-family engine (TiDB, Aurora MySQL, MySQL, MariaDB) on a mysql2 pool: connecting with
 * the configured TLS and timeouts, mapping driver failures onto payctl's exit-3 errors, and
 * handing its `query` to the introspector.
 */
import {readFileSync} from 'node:fs'
import {inspect} from 'node:util'
import mysql, {type Pool, type PoolOptions, type RowDataPacket, type SslOptions} from 'mysql2/promise'
import {EnvironmentError, InterruptedError, PayctlError, UsageError} from '../../cli/errors.js'
import {redact} from '../../cli/redact.js'
import type {ConnectionOptions, Engine, IntrospectOptions, SampleOptions, SampleResult, TableWriteCount, WriteFence} from '../engine.js'
import {describeEndpoint} from '../engine.js'
import {type ConnectFailure, connectionError, isTlsErrorCode} from '../errors.js'
import type {SchemaModel, ServerInfo, TableModel} from '../model.js'
import {mysqlDialect} from './mysql-dialect.js'
import {introspectSchema, type MysqlServerFacts, readServerFacts} from './mysql-introspector.js'
import {PING} from './mysql-queries.js'
import {readTableWriteCounts, sampleTableRows, writeSizingProbe} from './mysql-sampling.js'
import type {ReplicationSupport} from '../replication.js'
import {MysqlCapture} from './mysql-capture.js'
import {MysqlReplication} from './mysql-replication.js'
import {SESSION_UTC} from './mysql-replication-sql.js'

/**
 * TLS settings for mysql2. mysql2 derives the name it checks from `host` and offers no
 * `checkServerIdentity` hook: `verifyIdentity: false` is its "trust the CA, skip the host name"
 * (verify-ca), `true` checks the certificate against `host` (verify-full). A different
 * `tls.servername` therefore cannot be honoured and is refused rather than silently ignored.
 */
export function sslOptions(o: Pick<ConnectionOptions, 'host' | 'tls' | 'label'>, readFile: (path: string) => Buffer = readFileSync): SslOptions | undefined {
  const {tls} = o
  const files = (): Pick<SslOptions, 'ca' | 'cert' | 'key'> => ({
    ...(tls.ca === undefined ? {} : {ca: readFile(tls.ca)}),
    ...(tls.cert === undefined ? {} : {cert: readFile(tls.cert)}),
    ...(tls.key === undefined ? {} : {key: readFile(tls.key)}),
  })
  switch (tls.mode) {
    case 'disable':
      return undefined
    case 'prefer':
    case 'require': {
      // Encrypted but unauthenticated, as libmysqlclient's PREFERRED/REQUIRED; the CA is not checked even when given.
      const {cert, key} = files()
      return {rejectUnauthorized: false, ...(cert === undefined ? {} : {cert}), ...(key === undefined ? {} : {key})}
    }
    case 'verify-ca':
    case 'verify-full': {
      if (tls.ca === undefined) {
        throw new UsageError('PAYCTL_TLS_CA_MISSING', `${o.label}.tls.mode is ${tls.mode} but ${o.label}.tls.ca is not set.`, {
          actions: [`Set ${o.label}.tls.ca to the PEM file of the CA that signed the server's certificate.`],
        })
      }
      if (tls.mode === 'verify-full' && tls.servername !== undefined && tls.servername !== o.host) {
        throw new UsageError(
          'PAYCTL_TLS_SERVERNAME_UNSUPPORTED',
          `${o.label}.tls.servername (${tls.servername}) differs from ${o.label}.host (${o.host}); the MySQL driver verifies the certificate against the host only.`,
          {actions: [`Set ${o.label}.host to the name in the server's certificate, or use tls.mode verify-ca.`]},
        )
      }
      return {...files(), rejectUnauthorized: true, verifyIdentity: tls.mode === 'verify-full'}
    }
  }
}

/**
 * The pool configuration. Numbers that must not lose precision come back as strings: DECIMAL
 * money (decimalNumbers false), BIGINT ids (bigNumberStrings), dates (dateStrings, no time-zone
 * shift through a JavaScript Date) and JSON (jsonStrings: the text as stored, which replication copies byte for byte).
 */
export function poolOptions(o: ConnectionOptions, ssl: SslOptions | undefined): PoolOptions {
  return {
    host: o.host,
    port: o.port,
    ...(o.socketPath === undefined ? {} : {socketPath: o.socketPath}),
    user: o.user,
    password: o.password?.reveal() ?? '',
    database: o.database,
    connectionLimit: o.poolSize,
    connectTimeout: o.connectTimeoutMs,
    charset: 'utf8mb4',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    // JSON as the server's text: MariaDB keeps JSON as text, and a parsed and re-serialised value differs in bytes
    jsonStrings: true,
    ...(ssl === undefined ? {} : {ssl}),
  }
}

/**
 * The binlog connection (zongji): the pool's settings without pool and database, and TIMESTAMP
 * values formatted in UTC, as the copy reads and the writer writes them (mysql2's default
 * 'local' would shift every TIMESTAMP applied from the binlog by the host's offset).
 */
export function binlogConnectionOptions(o: ConnectionOptions, ssl: SslOptions | undefined): Omit<PoolOptions, 'connectionLimit' | 'database'> {
  const {connectionLimit: _limit, database: _database, ...config} = poolOptions(o, ssl)
  return {...config, timezone: 'Z'}
}

/** mysql2's own TLS failure codes; Node's are in isTlsErrorCode. */
const MYSQL_TLS_CODES = new Set(['HANDSHAKE_SSL_ERROR', 'HANDSHAKE_NO_SSL_SUPPORT', 'ER_SECURE_TRANSPORT_REQUIRED'])

/** Error codes of the error and, for Node's AggregateError (several addresses tried), of each inner error. */
function codesOf(err: unknown): string[] {
  if (typeof err !== 'object' || err === null) return []
  const e = err as {code?: unknown; errors?: unknown}
  const own = typeof e.code === 'string' ? [e.code] : []
  const inner = Array.isArray(e.errors) ? e.errors.flatMap((x) => codesOf(x)) : []
  return [...own, ...inner]
}

export function classifyConnectError(err: unknown): ConnectFailure {
  const codes = codesOf(err)
  const has = (...c: string[]): boolean => codes.some((x) => c.includes(x))
  if (codes.some((c) => isTlsErrorCode(c, MYSQL_TLS_CODES))) return 'tls'
  if (has('ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ER_HOST_NOT_PRIVILEGED')) return 'auth'
  // ER_DBACCESS_DENIED_ERROR is "access denied for user to database": the credentials were fine, the database is not usable.
  if (has('ER_BAD_DB_ERROR', 'ER_DBACCESS_DENIED_ERROR')) return 'database-not-found'
  // ENOENT: the unix socket file is missing, i.e. no server is listening there.
  if (has('ECONNREFUSED', 'ENOENT')) return 'refused'
  if (has('ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT')) return 'timeout'
  if (has('ENOTFOUND', 'EAI_AGAIN')) return 'host-not-found'
  return 'other'
}

export function mapConnectError(err: unknown, o: ConnectionOptions): PayctlError {
  if (err instanceof PayctlError) return err
  return connectionError(classifyConnectError(err), o, err)
}

/** Failures of a catalog query once connected: a connection lost mid-way reads like a connect failure. */
function mapQueryError(err: unknown, o: ConnectionOptions, sql: string): unknown {
  const codes = codesOf(err)
  const firstLine = sql.split('\n', 1)[0] ?? sql
  if (codes.includes('PROTOCOL_SEQUENCE_TIMEOUT')) {
    return new EnvironmentError('PAYCTL_QUERY_TIMEOUT', `A query on the ${o.label} (${describeEndpoint(o)}) took longer than ${o.queryTimeoutMs} ms: ${firstLine}`, {
      actions: [`Raise ${o.label}.queryTimeoutMs, or check the server's load.`],
      cause: err,
      data: {side: o.label, endpoint: describeEndpoint(o)},
    })
  }
  if (codes.some((c) => /^ER_(TABLEACCESS|COLUMNACCESS|SPECIFIC_ACCESS|PROCACCESS)_DENIED/.test(c))) {
    const detail = redact(err instanceof Error ? err.message : String(err))
    return new EnvironmentError('PAYCTL_PERMISSION_DENIED', `The ${o.label} user "${o.user}" lacks a privilege: ${detail}`, {
      actions: [`Grant the ${o.label} user what the message names (payctl assess lists every privilege each phase needs).`],
      cause: err,
      data: {side: o.label, endpoint: describeEndpoint(o), detail},
    })
  }
  // mysql2 marks errors that leave the connection unusable as fatal (network, handshake on a new
  // pooled connection); a statement's own error (no such table, syntax) is not and passes through.
  if (typeof err === 'object' && err !== null && (err as {fatal?: unknown}).fatal === true) return mapConnectError(err, o)
  return err
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('Interrupted while connecting.')
}

export class MysqlEngine implements Engine {
  readonly name = 'mysql' as const
  readonly dialect = mysqlDialect
  // Private fields are not enumerable and never printed: the pool's config holds the revealed password.
  #pool: Pool | null = null
  #connecting: Promise<void> | null = null
  #facts: Promise<MysqlServerFacts> | null = null
  #ssl: SslOptions | undefined = undefined
  #replication: MysqlReplication | null = null

  constructor(readonly options: ConnectionOptions) {}

  /**
   * `read_only`: every session without the READ_ONLY ADMIN privilege (MySQL 8: SUPER or
   * CONNECTION_ADMIN; MariaDB 10.11: READ_ONLY ADMIN) loses the right to write at once, open
   * sessions included. payctl's own user needs that privilege to keep writing (reverse replication);
   * the application's user must not have it, or the fence does not stop it (the runtime's
   * self-fencing still does).
   */
  get fence(): WriteFence {
    return {
      description: 'SET GLOBAL read_only = ON',
      fenceWrites: async () => {
        await this.execute('SET GLOBAL read_only = ON')
      },
      unfenceWrites: async () => {
        await this.execute('SET GLOBAL read_only = OFF')
      },
      writesFenced: async () => {
        const [row] = await this.query<{ro: number | string}>('SELECT @@GLOBAL.read_only AS ro')
        return Number(row?.ro ?? 0) === 1
      },
    }
  }

  get replication(): ReplicationSupport {
    const query = <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => this.query<T>(sql, params)
    this.#replication ??= new MysqlReplication({
      options: this.options,
      flavor: async () => {
        const flavor = (await this.serverInfo()).flavor
        return flavor === 'sqlserver' ? 'mysql' : flavor
      },
      pool: async () => {
        await this.connect()
        if (this.#pool === null) throw new Error('MysqlEngine: the pool is closed')
        return this.#pool
      },
      mapError: (err, sql) => mapQueryError(err, this.options, sql),
      capture: new MysqlCapture({
        options: this.options,
        serverInfo: () => this.serverInfo(),
        query,
        connectionConfig: () => binlogConnectionOptions(this.options, this.#ssl),
      }),
    })
    return this.#replication
  }

  connect(signal?: AbortSignal): Promise<void> {
    this.#connecting ??= this.#open(signal).catch((err: unknown) => {
      this.#connecting = null
      throw err
    })
    return this.#connecting
  }

  async #open(signal?: AbortSignal): Promise<void> {
    const o = this.options
    throwIfAborted(signal)
    let ssl: SslOptions | undefined
    try {
      ssl = sslOptions(o)
    } catch (err) {
      // An unreadable CA/cert/key file is a TLS setup failure, reported with the path (from the error).
      throw err instanceof PayctlError ? err : connectionError('tls', o, err)
    }
    try {
      try {
        this.#pool = await this.#tryPool(ssl)
        this.#ssl = ssl
      } catch (err) {
        // "prefer" means TLS when the server offers it, plain otherwise (as libmysqlclient's PREFERRED).
        if (o.tls.mode === 'prefer' && codesOf(err).includes('HANDSHAKE_NO_SSL_SUPPORT')) {
          ssl = undefined
          this.#pool = await this.#tryPool(undefined)
        } else throw err
      }
    } catch (err) {
      throw mapConnectError(err, o)
    }
    throwIfAborted(signal)
  }

  /** A pool whose first connection answered; the driver's error as it is otherwise. */
  async #tryPool(ssl: SslOptions | undefined): Promise<Pool> {
    const pool = mysql.createPool(poolOptions(this.options, ssl))
    // TIMESTAMP values read and written in UTC: the session time zone never shifts a copied value
    pool.pool.on('connection', (conn) => {
      conn.query(SESSION_UTC)
    })
    try {
      const conn = await pool.getConnection()
      try {
        await conn.query({sql: PING, timeout: this.options.queryTimeoutMs})
      } finally {
        conn.release()
      }
    } catch (err) {
      await pool.end().catch(() => undefined)
      throw err
    }
    return pool
  }

  /** Runs one statement (client-side `?` substitution) with the configured query timeout and returns its rows. */
  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    await this.connect()
    const pool = this.#pool
    if (pool === null) throw new Error('MysqlEngine: the pool is closed')
    try {
      const [rows] = await pool.query<RowDataPacket[]>({sql, timeout: this.options.queryTimeoutMs}, [...params])
      return rows as T[]
    } catch (err) {
      throw mapQueryError(err, this.options, sql)
    }
  }

  /** Runs one statement that returns no rows. No values are passed, so a `?` in the text (a comment, a literal) stays as written. */
  async execute(sql: string): Promise<void> {
    await this.connect()
    const pool = this.#pool
    if (pool === null) throw new Error('MysqlEngine: the pool is closed')
    try {
      await pool.query({sql, timeout: this.options.queryTimeoutMs})
    } catch (err) {
      throw mapQueryError(err, this.options, sql)
    }
  }

  serverInfo(): Promise<ServerInfo> {
    return this.#serverFacts().then((f) => f.info)
  }

  async introspect(options: IntrospectOptions = {}): Promise<SchemaModel> {
    const facts = await this.#serverFacts()
    // The introspector reads the schema named in info.database; another database on the same server is the same read.
    const target = options.database === undefined ? facts : {...facts, info: {...facts.info, database: options.database}}
    return introspectSchema(<T>(sql: string, params?: readonly unknown[]) => this.query<T>(sql, params), target, options)
  }

  #serverFacts(): Promise<MysqlServerFacts> {
    const {host, port, database} = this.options
    this.#facts ??= readServerFacts(<T>(sql: string, params?: readonly unknown[]) => this.query<T>(sql, params), {host, port, database}).catch((err: unknown) => {
      this.#facts = null
      throw err
    })
    return this.#facts
  }

  tableWriteCounts(): Promise<TableWriteCount[] | null> {
    return readTableWriteCounts(<T>(sql: string, params?: readonly unknown[]) => this.query<T>(sql, params), this.options.database)
  }

  sampleRows(table: TableModel, limit: number, options?: SampleOptions): Promise<SampleResult> {
    return sampleTableRows(<T>(sql: string, params?: readonly unknown[]) => this.query<T>(sql, params), table, limit, options)
  }

  /** On one pooled connection: the TEMPORARY probe table exists only on the connection that created it. */
  async measureWrite(bytes: number, rows: number, options?: SampleOptions): Promise<SampleResult> {
    await this.connect()
    const pool = this.#pool
    if (pool === null) throw new Error('MysqlEngine: the pool is closed')
    const conn = await pool.getConnection()
    try {
      return await writeSizingProbe(
        async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
          try {
            const [result] = await conn.query<RowDataPacket[]>({sql, timeout: this.options.queryTimeoutMs}, [...params])
            return result as T[]
          } catch (err) {
            throw mapQueryError(err, this.options, sql)
          }
        },
        bytes,
        rows,
        options,
      )
    } finally {
      conn.release()
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = null
    this.#connecting = null
    this.#facts = null
    if (pool !== null) await pool.end()
  }

  toJSON(): Record<string, unknown> {
    return {engine: this.name, label: this.options.label, endpoint: describeEndpoint(this.options), database: this.options.database, user: this.options.user}
  }

  [inspect.custom](): string {
    return `MysqlEngine(${this.options.label} ${this.options.user}@${describeEndpoint(this.options)}/${this.options.database})`
  }
}
