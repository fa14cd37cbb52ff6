/**
 * The SQL Server engine without a SQL Server: driver errors (shaped as mssql wraps tedious's)
 * mapped onto payctl's connection errors, TLS options per mode, the engine never showing its
 * password, and two real connection failures against local sockets (refused, silent).
 */
import {createServer, type Server, type Socket} from 'node:net'
import {inspect} from 'node:util'
import mssql from 'mssql'
import {afterEach, describe, expect, it} from 'vitest'
import {EnvironmentError, PayctlError} from '../../../../src/cli/errors.js'
import {Secret} from '../../../../src/cli/redact.js'
import type {ConnectionOptions} from '../../../../src/engines/engine.js'
import {
  catalogQueryError,
  classifyConnectError,
  mapConnectError,
  SqlServerEngine,
  tlsDriverOptions,
} from '../../../../src/engines/sqlserver/sqlserver-engine.js'

const PASSWORD = 'S3cretPassw0rd!'

function options(extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    engine: 'sqlserver',
    host: 'db.internal',
    port: 1433,
    user: 'payctl',
    password: new Secret(PASSWORD, 'env:X'),
    database: 'Payments',
    tls: {mode: 'require'},
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    poolSize: 4,
    label: 'source',
    ...extra,
  }
}

/** A tedious error as mssql's ConnectionPool rejects with it: mssql ConnectionError -> originalError -> cause. */
function driverError(message: string, code: string, cause?: {message: string; code: string}): Error {
  const tedious = Object.assign(new Error(message), {code}, cause ? {cause: Object.assign(new Error(cause.message), {code: cause.code})} : {})
  return new mssql.ConnectionError(tedious)
}

const cases: Array<[string, Error, Set<number> | undefined, string, string]> = [
  ['wrong password', driverError(`Login failed for user 'payctl'.`, 'ELOGIN'), new Set([18456]), 'auth', 'PAYCTL_AUTH_FAILED'],
  [
    'missing database (4060 before 18456)',
    driverError(`Login failed for user 'payctl'.`, 'ELOGIN'),
    new Set([4060, 18456]),
    'database-not-found',
    'PAYCTL_DATABASE_NOT_FOUND',
  ],
  [
    'missing database (message only)',
    driverError('Cannot open database "Paymnets" requested by the login. The login failed.', 'ELOGIN'),
    undefined,
    'database-not-found',
    'PAYCTL_DATABASE_NOT_FOUND',
  ],
  [
    'refused',
    driverError('Failed to connect to db.internal:1433 - connect ECONNREFUSED 10.0.0.5:1433', 'ESOCKET', {message: 'connect ECONNREFUSED 10.0.0.5:1433', code: 'ECONNREFUSED'}),
    undefined,
    'refused',
    'PAYCTL_CONNECT_REFUSED',
  ],
  ['connect timeout', driverError('Failed to connect to db.internal:1433 in 5000ms', 'ETIMEOUT'), undefined, 'timeout', 'PAYCTL_CONNECT_TIMEOUT'],
  [
    'unknown host',
    driverError('Failed to connect to db.internal:1433 - getaddrinfo ENOTFOUND db.internal', 'ESOCKET', {message: 'getaddrinfo ENOTFOUND db.internal', code: 'ENOTFOUND'}),
    undefined,
    'host-not-found',
    'PAYCTL_HOST_NOT_FOUND',
  ],
  [
    'DNS not answering',
    driverError('Failed to connect to db.internal:1433 - getaddrinfo EAI_AGAIN db.internal', 'ESOCKET', {message: 'getaddrinfo EAI_AGAIN db.internal', code: 'EAI_AGAIN'}),
    undefined,
    'host-not-found',
    'PAYCTL_HOST_NOT_FOUND',
  ],
  [
    'self-signed certificate',
    driverError('Failed to connect to db.internal:1433 - self-signed certificate', 'ESOCKET', {message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT'}),
    undefined,
    'tls',
    'PAYCTL_TLS_FAILED',
  ],
  [
    'host name mismatch',
    driverError(`Failed to connect to db.internal:1433 - Hostname/IP does not match certificate's altnames`, 'ESOCKET', {
      message: `Hostname/IP does not match certificate's altnames: Host: db.internal. is not cert's CN: sql01`,
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    }),
    undefined,
    'tls',
    'PAYCTL_TLS_FAILED',
  ],
  ['server requires encryption', driverError(`Server requires encryption, set 'encrypt' config option to true.`, 'EENCRYPT'), undefined, 'tls', 'PAYCTL_TLS_FAILED'],
  [
    'connection reset',
    driverError('Connection lost - read ECONNRESET', 'ESOCKET', {message: 'read ECONNRESET', code: 'ECONNRESET'}),
    undefined,
    'other',
    'PAYCTL_CONNECT_FAILED',
  ],
]

describe('connection error mapping', () => {
  it.each(cases)('%s', (_label, err, loginNumbers, kind, code) => {
    expect(classifyConnectError(err, loginNumbers)).toBe(kind)
    const mapped = mapConnectError(err, options(), loginNumbers)
    expect(mapped).toBeInstanceOf(EnvironmentError)
    expect(mapped.exitCode).toBe(3)
    expect(mapped.code).toBe(code)
    expect(mapped.message).toContain('db.internal:1433')
    expect(mapped.message).toContain('source')
    expect(mapped.actions.length).toBeGreaterThan(0)
    expect(JSON.stringify(mapped.toJSON())).not.toContain(PASSWORD)
  })

  it('reads the raw tedious error too (as tedious emits it on the pool)', () => {
    const raw = Object.assign(new Error('Failed to connect'), {code: 'ESOCKET', cause: Object.assign(new Error('x'), {code: 'ECONNREFUSED'})})
    expect(classifyConnectError(raw)).toBe('refused')
  })

  it('names the password reference, never the password, even when the driver echoes it', () => {
    const err = driverError(`Login failed for user 'payctl' with password '${PASSWORD}'.`, 'ELOGIN')
    const mapped = mapConnectError(err, options())
    const json = JSON.stringify(mapped.toJSON())
    expect(json).not.toContain(PASSWORD)
    expect(json).toContain('env:X')
    expect(mapped.toJSON().data).toMatchObject({side: 'source', engine: 'sqlserver', endpoint: 'db.internal:1433', reason: 'auth'})
  })
})

describe('catalog query errors', () => {
  function requestError(number: number, message: string, code = 'EREQUEST'): Error {
    return Object.assign(new mssql.RequestError(message, code as never), {number})
  }

  it('turns a refused catalog read into a permission error with the grants to add', () => {
    const err = catalogQueryError(requestError(229, "The SELECT permission was denied on the object 'change_tables', database 'Payments', schema 'cdc'."), options())
    expect(err).toMatchObject({code: 'PAYCTL_PERMISSION_DENIED', exitCode: 3})
    expect(err.message).toContain('db.internal:1433')
    expect(err.actions.join(' ')).toContain('VIEW DEFINITION')
  })

  it('names queryTimeoutMs on a request timeout', () => {
    const err = catalogQueryError(requestError(0, 'Timeout: Request failed to complete in 30000ms', 'ETIMEOUT'), options())
    expect(err).toMatchObject({code: 'PAYCTL_QUERY_TIMEOUT', exitCode: 3})
    expect(err.actions.join(' ')).toContain('source.queryTimeoutMs')
  })
})

describe('TLS options', () => {
  it.each([
    ['disable', {encrypt: false, trustServerCertificate: false}],
    ['prefer', {encrypt: true, trustServerCertificate: true}],
    ['require', {encrypt: true, trustServerCertificate: true}],
  ] as const)('%s', (mode, expected) => {
    expect(tlsDriverOptions({mode}, {})).toEqual(expected)
  })

  it.each(['verify-ca', 'verify-full'] as const)('%s verifies the certificate against the given CA', (mode) => {
    expect(tlsDriverOptions({mode, ca: '/etc/ca.pem', servername: 'sql01.corp'}, {ca: 'PEM'})).toEqual({
      encrypt: true,
      trustServerCertificate: false,
      cryptoCredentialsDetails: {ca: 'PEM'},
      serverName: 'sql01.corp',
    })
  })

  it('fails with a TLS error (exit 3) when the CA file cannot be read', async () => {
    const engine = new SqlServerEngine(options({tls: {mode: 'verify-full', ca: '/nonexistent/payctl-ca.pem'}}))
    await expect(engine.connect()).rejects.toMatchObject({code: 'PAYCTL_TLS_FAILED', exitCode: 3})
  })
})

describe('SqlServerEngine', () => {
  const servers: Server[] = []
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy()
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  })

  function listen(onConnection: (socket: Socket) => void): Promise<number> {
    const server = createServer(onConnection)
    servers.push(server)
    return new Promise((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address()
        resolve(typeof address === 'object' && address !== null ? address.port : 0)
      })
    })
  }

  async function closedPort(): Promise<number> {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    await new Promise((resolve) => server.close(resolve))
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  it('is the sqlserver engine with T-SQL quoting', () => {
    const engine = new SqlServerEngine(options())
    expect(engine.name).toBe('sqlserver')
    expect(engine.flavor).toBe('sqlserver')
    expect(engine.dialect.qualify('pay', 'payments')).toBe('[pay].[payments]')
  })

  it('never shows the password: JSON, inspect, enumerable fields', () => {
    const engine = new SqlServerEngine(options())
    expect(JSON.stringify(engine)).not.toContain(PASSWORD)
    expect(inspect(engine, {depth: 10, showHidden: true})).not.toContain(PASSWORD)
    expect(JSON.stringify(Object.entries(engine))).not.toContain(PASSWORD)
    expect(JSON.stringify(engine)).toContain('env:X')
  })

  it('maps a refused connection to exit 3 naming host:port, and keeps the password hidden afterwards', async () => {
    const port = await closedPort()
    const engine = new SqlServerEngine(options({host: '127.0.0.1', port, tls: {mode: 'disable'}}))
    const err: unknown = await engine.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PayctlError)
    expect(err).toMatchObject({code: 'PAYCTL_CONNECT_REFUSED', exitCode: 3})
    expect((err as PayctlError).message).toContain(`127.0.0.1:${port}`)
    expect(JSON.stringify((err as PayctlError).toJSON())).not.toContain(PASSWORD)
    expect(inspect(engine, {depth: 10, showHidden: true})).not.toContain(PASSWORD)
  })

  it('maps a server that never answers to a timeout', async () => {
    const port = await listen((socket) => sockets.push(socket))
    const engine = new SqlServerEngine(options({host: '127.0.0.1', port, tls: {mode: 'disable'}, connectTimeoutMs: 300}))
    await expect(engine.connect()).rejects.toMatchObject({code: 'PAYCTL_CONNECT_TIMEOUT', exitCode: 3})
  })
})
