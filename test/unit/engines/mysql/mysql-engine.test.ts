// MysqlEngine without a server: driver errors -> exit-3 errors, pool and TLS settings, and the password never showing.
import {inspect} from 'node:util'
import {describe, expect, it} from 'vitest'
import {EnvironmentError, PayctlError, UsageError} from '../../../../src/cli/errors.js'
import {Secret} from '../../../../src/cli/redact.js'
import type {ConnectionOptions, TlsOptions} from '../../../../src/engines/engine.js'
import {classifyConnectError, mapConnectError, MysqlEngine, poolOptions, sslOptions} from '../../../../src/engines/mysql/mysql-engine.js'

const PASSWORD = 'S3cretPassw0rd!'

function options(over: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    engine: 'mysql',
    host: 'db.internal',
    port: 3307,
    user: 'payctl',
    password: new Secret(PASSWORD, 'env:X'),
    database: 'payments',
    tls: {mode: 'disable'},
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    poolSize: 4,
    label: 'target',
    ...over,
  }
}

function driverError(message: string, props: Record<string, unknown>): Error {
  return Object.assign(new Error(message), props)
}

describe('connection errors', () => {
  const cases: Array<[string, Error, string]> = [
    ['refused', driverError('connect ECONNREFUSED 10.0.0.5:3307', {code: 'ECONNREFUSED', errno: -111}), 'PAYCTL_CONNECT_REFUSED'],
    ['timeout', driverError('connect ETIMEDOUT', {code: 'ETIMEDOUT'}), 'PAYCTL_CONNECT_TIMEOUT'],
    ['host not found', driverError('getaddrinfo ENOTFOUND db.internal', {code: 'ENOTFOUND'}), 'PAYCTL_HOST_NOT_FOUND'],
    ['dns retry', driverError('getaddrinfo EAI_AGAIN db.internal', {code: 'EAI_AGAIN'}), 'PAYCTL_HOST_NOT_FOUND'],
    [
      'access denied',
      driverError("Access denied for user 'payctl'@'10.0.0.9' (using password: YES)", {code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, sqlState: '28000'}),
      'PAYCTL_AUTH_FAILED',
    ],
    ['unknown database', driverError("Unknown database 'payments'", {code: 'ER_BAD_DB_ERROR', errno: 1049, sqlState: '42000'}), 'PAYCTL_DATABASE_NOT_FOUND'],
    [
      'no grant on the database',
      driverError("Access denied for user 'payctl'@'%' to database 'payments'", {code: 'ER_DBACCESS_DENIED_ERROR', errno: 1044}),
      'PAYCTL_DATABASE_NOT_FOUND',
    ],
    ['server without TLS', driverError('Server does not support secure connection', {code: 'HANDSHAKE_NO_SSL_SUPPORT'}), 'PAYCTL_TLS_FAILED'],
    ['bad certificate', driverError('self-signed certificate', {code: 'DEPTH_ZERO_SELF_SIGNED_CERT'}), 'PAYCTL_TLS_FAILED'],
    ['wrong TLS version', driverError('wrong version number', {code: 'ERR_SSL_WRONG_VERSION_NUMBER'}), 'PAYCTL_TLS_FAILED'],
    ['host name mismatch', driverError("Hostname/IP does not match certificate's altnames", {code: 'ERR_TLS_CERT_ALTNAME_INVALID'}), 'PAYCTL_TLS_FAILED'],
    ['something else', driverError('Too many connections', {code: 'ER_CON_COUNT_ERROR', errno: 1040}), 'PAYCTL_CONNECT_FAILED'],
  ]

  it.each(cases)('%s -> exit 3 naming the endpoint', (_name, err, code) => {
    const e = mapConnectError(err, options())
    expect(e).toBeInstanceOf(EnvironmentError)
    expect(e.exitCode).toBe(3)
    expect(e.code).toBe(code)
    expect(e.message).toContain('db.internal:3307')
    expect(e.message).toContain('target')
    expect(e.actions.length).toBeGreaterThan(0)
    expect(e.cause).toBe(err)
  })

  it('reads the code inside an AggregateError (several addresses tried)', () => {
    const agg = Object.assign(new AggregateError([driverError('connect ECONNREFUSED ::1:3306', {code: 'ECONNREFUSED'})], ''), {code: 'ECONNREFUSED'})
    expect(classifyConnectError(agg)).toBe('refused')
    const innerOnly = new AggregateError([driverError('connect ETIMEDOUT', {code: 'ETIMEDOUT'})], '')
    expect(classifyConnectError(innerOnly)).toBe('timeout')
  })

  it('names the socket when connecting through one', () => {
    const e = mapConnectError(driverError('connect ENOENT /run/mysqld/mysqld.sock', {code: 'ENOENT'}), options({socketPath: '/run/mysqld/mysqld.sock'}))
    expect(e.code).toBe('PAYCTL_CONNECT_REFUSED')
    expect(e.message).toContain('/run/mysqld/mysqld.sock (unix socket)')
  })

  it('never carries the password, even when the driver echoes it', () => {
    const o = options()
    const echoed = driverError(`Unexpected packet while authenticating with ${PASSWORD}`, {code: 'ER_HANDSHAKE_ERROR'})
    const denied = driverError("Access denied for user 'payctl'@'10.0.0.9' (using password: YES)", {code: 'ER_ACCESS_DENIED_ERROR', errno: 1045})
    for (const err of [echoed, denied]) {
      const e = mapConnectError(err, o)
      const json = JSON.stringify(e.toJSON())
      expect(json).not.toContain(PASSWORD)
      expect(e.message).not.toContain(PASSWORD)
      expect(e.actions.join('\n')).not.toContain(PASSWORD)
      expect(json).toContain('db.internal:3307')
    }
    const auth = mapConnectError(denied, o)
    // the reference (where the password comes from) is what the user needs, and it is not secret
    expect(auth.actions.join('\n')).toContain('env:X')
  })

  it('passes a payctl error through unchanged', () => {
    const e = new UsageError('PAYCTL_X', 'bad config')
    expect(mapConnectError(e, options())).toBe(e)
  })
})

describe('pool options', () => {
  it('keeps money, big ids and dates exact, and applies the connection settings', () => {
    const o = poolOptions(options(), undefined)
    expect(o).toEqual({
      host: 'db.internal',
      port: 3307,
      user: 'payctl',
      password: PASSWORD,
      database: 'payments',
      connectionLimit: 4,
      connectTimeout: 5000,
      charset: 'utf8mb4',
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
    })
  })

  it('uses the socket when set, and an empty password when none is configured', () => {
    expect(poolOptions(options({socketPath: '/tmp/my.sock', password: null}), undefined)).toMatchObject({socketPath: '/tmp/my.sock', password: ''})
  })
})

describe('TLS modes', () => {
  const files: Record<string, string> = {'/etc/ca.pem': 'CA', '/etc/client.pem': 'CERT', '/etc/client.key': 'KEY'}
  const readFile = (p: string): Buffer => {
    const f = files[p]
    if (f === undefined) throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), {code: 'ENOENT'})
    return Buffer.from(f)
  }
  const ssl = (tls: TlsOptions, host = 'db.internal'): unknown => sslOptions({host, tls, label: 'target'}, readFile)

  it('disable: no TLS', () => {
    expect(ssl({mode: 'disable', ca: '/etc/ca.pem'})).toBeUndefined()
  })

  it('prefer and require: encrypted, certificate not checked, client certificate passed on', () => {
    expect(ssl({mode: 'prefer'})).toEqual({rejectUnauthorized: false})
    expect(ssl({mode: 'require', ca: '/etc/ca.pem', cert: '/etc/client.pem', key: '/etc/client.key'})).toEqual({
      rejectUnauthorized: false,
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
    })
  })

  it('verify-ca: the CA is checked, the host name is not', () => {
    expect(ssl({mode: 'verify-ca', ca: '/etc/ca.pem'})).toEqual({ca: Buffer.from('CA'), rejectUnauthorized: true, verifyIdentity: false})
  })

  it('verify-full: CA and host name', () => {
    expect(ssl({mode: 'verify-full', ca: '/etc/ca.pem', servername: 'db.internal'})).toEqual({ca: Buffer.from('CA'), rejectUnauthorized: true, verifyIdentity: true})
  })

  it('verify modes without a CA, or with a server name the driver cannot check, are config errors', () => {
    const thrown = (f: () => unknown): unknown => {
      try {
        f()
      } catch (e) {
        return e
      }
      return undefined
    }
    expect(thrown(() => ssl({mode: 'verify-ca'}))).toMatchObject({code: 'PAYCTL_TLS_CA_MISSING', exitCode: 2})
    expect(thrown(() => ssl({mode: 'verify-full', ca: '/etc/ca.pem', servername: 'other.example'}))).toMatchObject({code: 'PAYCTL_TLS_SERVERNAME_UNSUPPORTED', exitCode: 2})
  })

  it('an unreadable CA file fails connect() with a TLS error naming the file', async () => {
    const engine = new MysqlEngine(options({tls: {mode: 'verify-ca', ca: '/nonexistent/payctl-test-ca.pem'}}))
    const err: unknown = await engine.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PayctlError)
    expect(err).toMatchObject({code: 'PAYCTL_TLS_FAILED', exitCode: 3})
    expect((err as PayctlError).message).toContain('/nonexistent/payctl-test-ca.pem')
  })
})

describe('MysqlEngine', () => {
  it('never shows the password: JSON, inspect, enumerable fields', () => {
    const engine = new MysqlEngine(options())
    expect(JSON.stringify(engine)).not.toContain(PASSWORD)
    expect(inspect(engine, {depth: 10, showHidden: true})).not.toContain(PASSWORD)
    expect(JSON.stringify(engine.options)).not.toContain(PASSWORD)
    expect(JSON.stringify(engine.options)).toContain('env:X')
    expect(Object.keys(engine)).not.toContain('password')
  })

  it('is the mysql engine with backtick quoting', () => {
    const engine = new MysqlEngine(options())
    expect(engine.name).toBe('mysql')
    expect(engine.dialect.qualify('payments', 'refunds')).toBe('`payments`.`refunds`')
  })
})
