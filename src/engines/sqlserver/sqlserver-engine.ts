/**
 * The SQL Server engine: an mssql (tedious) connection pool built from ConnectionOptions, driver
 * errors mapped onto payctl's shared connection errors, and introspection through
 * sqlserver-introspector.ts. The password is revealed only into the driver's config, which lives
 * in a private field, so the engine object never prints or serialises it.
 */
import {readFile} from 'node:fs/promises'
import {inspect} from 'node:util'
import mssql from 'mssql'
import type {ConnectionPool, config as MssqlConfig} from 'mssql'
import {EnvironmentError, UsageError} from '../../cli/errors.js'
import {redact} from '../../cli/redact.js'
import {type ConnectionOptions, describeEndpoint, type Engine, type IntrospectOptions, type SampleOptions, type SampleResult, type TableWriteCount, type TlsOptions} from '../engine.js'
import {type ConnectFailure, connectionError, isTlsErrorCode} from '../errors.js'
import type {SchemaModel, ServerInfo, TableModel} from '../model.js'
import {rowBytes, sampleKeyColumns, secondsSince} from '../sampling.js'
import {introspect, type QueryParams, readServerInfo} from './sqlserver-introspector.js'
import {SqlServerDialect} from './sqlserver-dialect.js'
import {SqlServerReplication} from './sqlserver-replication.js'
import {sampleRowsQuery, TABLE_WRITE_COUNTS_QUERY} from './sqlserver-queries.js'

/** Server error number for "Cannot open database ... requested by the login". */
const CANNOT_OPEN_DATABASE = 4060
/** Permission errors on a catalog read: SELECT denied, database access denied, server-level permission missing. */
const PERMISSION_ERROR_NUMBERS = new Set([229, 262, 297, 300, 916])

/** tedious's own TLS failure code; Node's are in isTlsErrorCode. */
const MSSQL_TLS_CODES = new Set(['EENCRYPT'])

interface ErrorFacts {
  codes: Set<string>
  numbers: Set<number>
  messages: string[]
}

/** mssql wraps tedious errors (originalError), tedious wraps socket and TLS errors (cause): look at every layer. */
function collectFacts(err: unknown, facts: ErrorFacts = {codes: new Set(), numbers: new Set(), messages: []}, depth = 0): ErrorFacts {
  if (depth > 6 || typeof err !== 'object' || err === null) return facts
  const e = err as {code?: unknown; number?: unknown; message?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown}
  if (typeof e.code === 'string') facts.codes.add(e.code)
  if (typeof e.number === 'number') facts.numbers.add(e.number)
  if (typeof e.message === 'string') facts.messages.push(e.message)
  collectFacts(e.originalError, facts, depth + 1)
  collectFacts(e.cause, facts, depth + 1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) collectFacts(inner, facts, depth + 1)
  return facts
}

/**
 * Which kind of connection failure a driver error is. `loginErrorNumbers` are the server's error
 * numbers seen during login: a missing database fails the login with 4060 followed by 18456
 * ("Login failed"), and tedious keeps only the last message, so the number is the reliable sign.
 */
export function classifyConnectError(err: unknown, loginErrorNumbers: ReadonlySet<number> = new Set()): ConnectFailure {
  const facts = collectFacts(err)
  const has = (code: string): boolean => facts.codes.has(code)
  const text = facts.messages.join('\n')
  if (loginErrorNumbers.has(CANNOT_OPEN_DATABASE) || facts.numbers.has(CANNOT_OPEN_DATABASE) || /cannot open database/i.test(text)) {
    return 'database-not-found'
  }
  if (has('ELOGIN')) return 'auth'
  if (
    [...facts.codes].some((c) => isTlsErrorCode(c, MSSQL_TLS_CODES)) ||
    /certificate|\bssl\b|\btls\b/i.test(text)
  ) {
    return 'tls'
  }
  if (has('ENOTFOUND') || has('EAI_AGAIN')) return 'host-not-found'
  if (has('ECONNREFUSED')) return 'refused'
  if (has('ETIMEOUT') || has('ETIMEDOUT')) return 'timeout'
  return 'other'
}

export function mapConnectError(err: unknown, options: ConnectionOptions, loginErrorNumbers?: ReadonlySet<number>): EnvironmentError {
  return connectionError(classifyConnectError(err, loginErrorNumbers), options, err)
}

/** A catalog query that failed after the connection was up: missing permission, timeout, or a lost connection. */
export function catalogQueryError(err: unknown, options: ConnectionOptions): EnvironmentError {
  const facts = collectFacts(err)
  const detail = redact(err instanceof Error ? err.message : String(err))
  const where = `the ${options.label} (${options.engine} at ${describeEndpoint(options)})`
  const denied = [...facts.numbers].some((n) => PERMISSION_ERROR_NUMBERS.has(n))
  if (denied) {
    return new EnvironmentError('PAYCTL_PERMISSION_DENIED', `Reading the catalog of ${where} was refused: ${detail}`, {
      cause: err,
      actions: [
        `Grant user "${options.user}" VIEW DEFINITION and VIEW DATABASE STATE on database "${options.database}" (and SELECT on the cdc schema where CDC is on).`,
      ],
      data: {side: options.label, engine: options.engine, endpoint: describeEndpoint(options), detail},
    })
  }
  const timedOut = facts.codes.has('ETIMEOUT')
  return new EnvironmentError(timedOut ? 'PAYCTL_QUERY_TIMEOUT' : 'PAYCTL_CATALOG_QUERY_FAILED', `Reading the catalog of ${where} failed: ${detail}`, {
    cause: err,
    actions: timedOut
      ? [`Raise ${options.label}.queryTimeoutMs (now ${options.queryTimeoutMs} ms), or rerun when the server is less busy.`]
      : [`Check that the ${options.label} server is up and reachable, then rerun.`],
    data: {side: options.label, engine: options.engine, endpoint: describeEndpoint(options), detail},
  })
}

function isDriverError(err: unknown): boolean {
  return err instanceof mssql.MSSQLError
}

/**
 * TLS as tedious understands it. tedious cannot fall back to plain text, so 'prefer' encrypts
 * without verifying, like 'require'. For verification it always checks the host name too
 * (Node's checkServerIdentity), so 'verify-ca' is as strict as 'verify-full'; `servername`
 * names the certificate's host when it differs from the address dialled.
 */
export function tlsDriverOptions(tls: TlsOptions, files: {ca?: string; cert?: string; key?: string}): NonNullable<MssqlConfig['options']> {
  switch (tls.mode) {
    case 'disable':
      return {encrypt: false, trustServerCertificate: false}
    case 'prefer':
    case 'require':
      return {encrypt: true, trustServerCertificate: true}
    case 'verify-ca':
    case 'verify-full': {
      const details: {ca?: string; cert?: string; key?: string} = {}
      if (files.ca !== undefined) details.ca = files.ca
      if (files.cert !== undefined) details.cert = files.cert
      if (files.key !== undefined) details.key = files.key
      return {
        encrypt: true,
        trustServerCertificate: false,
        cryptoCredentialsDetails: details,
        ...(tls.servername === undefined ? {} : {serverName: tls.servername}),
      }
    }
  }
}

async function readTlsFiles(tls: TlsOptions): Promise<{ca?: string; cert?: string; key?: string}> {
  if (tls.mode !== 'verify-ca' && tls.mode !== 'verify-full') return {}
  const read = (path: string | undefined): Promise<string | undefined> => (path === undefined ? Promise.resolve(undefined) : readFile(path, 'utf8'))
  const [ca, cert, key] = await Promise.all([read(tls.ca), read(tls.cert), read(tls.key)])
  return {
    ...(ca === undefined ? {} : {ca}),
    ...(cert === undefined ? {} : {cert}),
    ...(key === undefined ? {} : {key}),
  }
}

export class SqlServerEngine implements Engine {
  readonly name = 'sqlserver' as const
  readonly flavor = 'sqlserver' as const
  readonly dialect = new SqlServerDialect()
  readonly options: ConnectionOptions
  /** Keyset chunk reads, CDC capture and the reverse-replication writer (sqlserver-replication.ts). */
  readonly replication: SqlServerReplication
  #pool: ConnectionPool | null = null
  #connecting: Promise<void> | null = null
  #loginErrorNumbers = new Set<number>()

  constructor(options: ConnectionOptions) {
    this.options = options
    this.replication = new SqlServerReplication({
      connection: options,
      pool: async (signal) => {
        await this.connect(signal)
        if (this.#pool === null) throw new mssql.ConnectionError('The SQL Server connection is closed.', 'ENOTOPEN')
        return this.#pool
      },
      dedicatedPool: () => this.#dedicatedPool(),
    })
  }

  /** A pool of one connection with this engine's settings, for the replication writer's session (which closes it). */
  async #dedicatedPool(): Promise<ConnectionPool> {
    let files: {ca?: string; cert?: string; key?: string}
    try {
      files = await readTlsFiles(this.options.tls)
    } catch (err) {
      throw connectionError('tls', this.options, err)
    }
    const pool = new mssql.ConnectionPool({...this.#driverConfig(files), pool: {max: 1, min: 0}})
    pool.on('error', () => {})
    try {
      await pool.connect()
    } catch (err) {
      await pool.close().catch(() => {})
      throw mapConnectError(err, this.options)
    }
    return pool
  }

  async connect(signal?: AbortSignal): Promise<void> {
    if (this.#pool !== null) return
    // Concurrent callers share one attempt instead of each opening a pool.
    this.#connecting ??= this.#open(signal).finally(() => {
      this.#connecting = null
    })
    return this.#connecting
  }

  async #open(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    let files: {ca?: string; cert?: string; key?: string}
    try {
      files = await readTlsFiles(this.options.tls)
    } catch (err) {
      throw connectionError('tls', this.options, err)
    }
    this.#loginErrorNumbers = new Set()
    const pool = new mssql.ConnectionPool(this.#driverConfig(files))
    // tedious reports some failures both as a rejected connect and as an 'error' event; an
    // EventEmitter without a listener would turn the event into an uncaught exception. The
    // rejection is what callers see.
    pool.on('error', () => {})
    try {
      await pool.connect()
      await pool.request().query('SELECT 1 AS ok;')
    } catch (err) {
      await pool.close().catch(() => {})
      signal?.throwIfAborted()
      throw mapConnectError(err, this.options, this.#loginErrorNumbers)
    }
    // tedious cannot cancel a login half-way: an abort during it is honoured once it ends.
    if (signal?.aborted) {
      await pool.close().catch(() => {})
      signal.throwIfAborted()
    }
    this.#pool = pool
  }

  async serverInfo(): Promise<ServerInfo> {
    await this.connect()
    try {
      return await readServerInfo((sql, params) => this.#query(sql, params), this.options)
    } catch (err) {
      throw isDriverError(err) ? catalogQueryError(err, this.options) : err
    }
  }

  async introspect(options: IntrospectOptions = {}): Promise<SchemaModel> {
    // The sys.* catalog views are per database; reading another one needs a connection to it.
    if (options.database !== undefined && options.database !== this.options.database) {
      throw new UsageError('PAYCTL_UNSUPPORTED', `Reading database "${options.database}" through the ${this.options.label} connection to "${this.options.database}" is not supported on SQL Server.`, {
        actions: ['Point the connection at that database instead.'],
      })
    }
    await this.connect(options.signal)
    try {
      return await introspect((sql, params) => this.#query(sql, params, options.signal), {
        host: this.options.host,
        port: this.options.port,
        ...(this.options.schemas === undefined ? {} : {schemas: this.options.schemas}),
        ...(options.tables === undefined ? {} : {tables: options.tables}),
        ...(options.signal === undefined ? {} : {signal: options.signal}),
      })
    } catch (err) {
      // a cancelled request fails with ECANCEL; the caller asked for the abort, so it gets the abort
      options.signal?.throwIfAborted()
      throw isDriverError(err) ? catalogQueryError(err, this.options) : err
    }
  }

  /** Runs one batch (T-SQL, no GO separators) that returns no rows; a batch is sent as it is, without parameters. */
  async execute(sql: string): Promise<void> {
    await this.connect()
    const pool = this.#pool
    if (pool === null) throw new mssql.ConnectionError('The SQL Server connection is closed.', 'ENOTOPEN')
    await pool.request().batch(sql)
  }

  /** Null without VIEW SERVER STATE (or on a server that hides the DMV): the counts are then unknown, not zero. */
  async tableWriteCounts(): Promise<TableWriteCount[] | null> {
    await this.connect()
    try {
      const rows = await this.#query<{schema_name: string; table_name: string; writes: number | string | null}>(TABLE_WRITE_COUNTS_QUERY)
      return rows.map((r) => ({schema: r.schema_name, table: r.table_name, writes: Number(r.writes ?? 0)}))
    } catch (err) {
      if (isDriverError(err) && [...collectFacts(err).numbers].some((n) => PERMISSION_ERROR_NUMBERS.has(n))) return null
      throw isDriverError(err) ? catalogQueryError(err, this.options) : err
    }
  }

  /** One TOP (n) read in key order; `maxSeconds` is not enforced mid-query (n bounds it). */
  async sampleRows(table: TableModel, limit: number, options: SampleOptions = {}): Promise<SampleResult> {
    await this.connect(options.signal)
    const keys = sampleKeyColumns(table).map((k) => this.dialect.quoteIdentifier(k))
    const sql = sampleRowsQuery(this.dialect.qualify(table.schema, table.name), keys, limit)
    const start = performance.now()
    try {
      const rows = await this.#query<Record<string, unknown>>(sql, {}, options.signal)
      let bytes = 0
      for (const r of rows) bytes += rowBytes(r)
      return {rows: rows.length, bytes, seconds: secondsSince(start)}
    } catch (err) {
      options.signal?.throwIfAborted()
      throw isDriverError(err) ? catalogQueryError(err, this.options) : err
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool
    this.#pool = null
    if (pool !== null) await pool.close()
  }

  /** What logs and `--json` see of an engine: where it points, never how it logs in. */
  toJSON(): Record<string, unknown> {
    return {
      engine: this.name,
      flavor: this.flavor,
      label: this.options.label,
      endpoint: describeEndpoint(this.options),
      database: this.options.database,
      user: this.options.user,
      password: this.options.password?.reference ?? null,
    }
  }

  [inspect.custom](): string {
    return `SqlServerEngine(${this.options.label} ${this.options.user}@${describeEndpoint(this.options)}/${this.options.database})`
  }

  async #query<Row>(sql: string, params: QueryParams = {}, signal?: AbortSignal): Promise<Row[]> {
    const pool = this.#pool
    if (pool === null) throw new mssql.ConnectionError('The SQL Server connection is closed.', 'ENOTOPEN')
    const request = pool.request()
    // Every bound value is an identifier (sysname = nvarchar(128)); a typed parameter keeps the plan reusable.
    for (const [name, value] of Object.entries(params)) request.input(name, mssql.NVarChar(128), value)
    const onAbort = (): void => request.cancel()
    signal?.addEventListener('abort', onAbort, {once: true})
    try {
      const result = await request.query<Row>(sql)
      return result.recordset ?? []
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  #driverConfig(files: {ca?: string; cert?: string; key?: string}): MssqlConfig {
    const o = this.options
    const loginErrors = this.#loginErrorNumbers
    return {
      server: o.host,
      port: o.port,
      database: o.database,
      user: o.user,
      password: o.password?.reveal() ?? '',
      connectionTimeout: o.connectTimeoutMs,
      requestTimeout: o.queryTimeoutMs,
      pool: {max: Math.max(1, o.poolSize), min: 0},
      options: {appName: 'payctl', ...tlsDriverOptions(o.tls, files)},
      beforeConnect: (conn) => {
        conn.on('errorMessage', (token) => {
          loginErrors.add(token.number)
        })
      },
    }
  }
}
