import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import type {PayctlConfigInput} from '../../../src/config/index.js'
import {applyDefaults, parseSecretRef, payctlConfigSchema, validateConfig} from '../../../src/config/index.js'
import {SECRET_REF_PATTERN} from '../../../src/config/secret-ref.js'
import {suggest} from '../../../src/config/validate.js'

const EXAMPLE = fileURLToPath(new URL('../../../payctl.example.yaml', import.meta.url))

/** Every key the schema knows, so a key added to the type without the schema (or back) shows here. */
function fullConfig(): PayctlConfigInput {
  return {
    $schema: './payctl.schema.json',
    version: 1,
    source: {
      engine: 'sqlserver',
      host: 'mssql.internal',
      port: 1433,
      user: 'payctl',
      password: 'env:PAYCTL_SOURCE_PASSWORD',
      database: 'Payments',
      schemas: ['dbo', 'ledger'],
      tls: {mode: 'verify-full', ca: 'ca.pem', cert: 'client.pem', key: 'client.key', servername: 'mssql.example.com'},
      connectTimeoutMs: 5000,
      queryTimeoutMs: 0,
      pool: {size: 4},
    },
    target: {
      engine: 'mysql',
      flavor: 'aurora-mysql',
      host: 'aurora.internal',
      port: 3306,
      socket: '/run/mysqld/mysqld.sock',
      user: 'payctl',
      password: 'aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:payctl/target-AbCdEf#password',
      database: 'payments',
      tls: {mode: 'require'},
      connectTimeoutMs: 100,
      queryTimeoutMs: 600000,
      pool: {size: 256},
    },
    tables: {include: ['dbo.*'], exclude: ['dbo.tmp_?']},
    controlStore: {side: 'source', database: 'payctl_control'},
    runtime: {instances: 32, host: '0.0.0.0', basePort: 0, fingerprintKey: 'file:secrets/runtime-fingerprint.key'},
  }
}

function minimal(): Record<string, unknown> {
  return {
    version: 1,
    source: {engine: 'sqlserver', host: 'mssql', user: 'u', database: 'Payments'},
    target: {engine: 'mysql', host: 'mysql', user: 'u', database: 'payments'},
  }
}

/** minimal() with `patch` applied at a dotted path; undefined deletes the key. */
function withValue(path: string, value: unknown): Record<string, unknown> {
  const config = minimal()
  const keys = path.split('.')
  let node = config
  for (const key of keys.slice(0, -1)) {
    node[key] ??= {}
    node = node[key] as Record<string, unknown>
  }
  const last = keys.at(-1) as string
  if (value === undefined) delete node[last]
  else node[last] = value
  return config
}

const paths = (raw: unknown) => validateConfig(raw).map((i) => i.path)

describe('validateConfig', () => {
  it('accepts a config that uses every key', () => {
    expect(validateConfig(fullConfig())).toEqual([])
  })

  it('accepts the minimal config and fills in defaults by engine', () => {
    expect(validateConfig(minimal())).toEqual([])
    const config = applyDefaults(minimal() as unknown as PayctlConfigInput)
    expect(config.source.port).toBe(1433)
    expect(config.target.port).toBe(3306)
    expect(config.source.tls.mode).toBe('prefer')
    expect(config.source.password).toBeNull()
    expect(config.target).toMatchObject({connectTimeoutMs: 10000, queryTimeoutMs: 300000, pool: {size: 8}})
    expect(config.tables).toEqual({include: ['*'], exclude: []})
    expect(config.controlStore).toEqual({side: 'target', database: 'payctl_control'})
    expect(config.runtime).toEqual({instances: 2, host: '127.0.0.1', basePort: 18080, fingerprintKey: null})
  })

  it('accepts payctl.example.yaml', async () => {
    const raw: unknown = parse(await readFile(EXAMPLE, 'utf8'))
    expect(validateConfig(raw)).toEqual([])
  })

  it('reports exactly the four problems of a broken file, by path, without the literal password', () => {
    const raw = {
      version: 1,
      target: {engine: 'mysql', hostname: 'db', host: 'db', port: 'abc', user: 'u', password: 'hunter2-literal', database: 'payments'},
    }
    const issues = validateConfig(raw)
    expect(issues.map((i) => [i.path, i.keyword])).toEqual([
      ['/', 'required'],
      ['/target/hostname', 'additionalProperties'],
      ['/target/password', 'secretRef'],
      ['/target/port', 'type'],
    ])
    expect(issues[0]?.message).toBe('missing required key "source"')
    expect(issues[1]?.message).toBe('unknown key "hostname"; did you mean "host"?')
    expect(issues[1]?.expected).toContain('engine, flavor, host, port')
    expect(issues[2]?.message).toContain('is a literal password; secrets must be references')
    expect(issues[2]?.message).toContain('set PAYCTL_TARGET_PASSWORD and write password: env:PAYCTL_TARGET_PASSWORD')
    expect(issues[2]?.expected).toBe('env:NAME, file:PATH or aws-secretsmanager:ARN[#jsonKey]')
    expect(issues[3]?.message).toBe('must be an integer between 1 and 65535 (got "abc")')
    expect(JSON.stringify(issues)).not.toContain('hunter2')
  })

  it('never shows the value of a password, or of an unknown secret-like key', () => {
    const raw = withValue('source.password', 987654321)
    ;(raw.source as Record<string, unknown>).pwd = 'hunter2-in-pwd'
    ;(raw.source as Record<string, unknown>).tls = {password: 'hunter2-in-tls'}
    raw.token = 'hunter2-top-level'
    const issues = validateConfig(raw)
    expect(issues.map((i) => i.path)).toEqual(['/source/password', '/source/pwd', '/source/tls/password', '/token'])
    const text = JSON.stringify(issues)
    expect(text).not.toMatch(/hunter2|987654321/)
    expect(issues[1]?.message).toContain('the password goes in "password" as a reference')
    expect(issues[3]?.message).toContain('payctl.yaml holds no secrets')
  })

  it.each([
    ['env:PAYCTL_PW', true],
    ['env:_x9', true],
    ['env:9x', false],
    ['env:has-dash', false],
    ['env:', false],
    ['file:secrets/pw', true],
    ['file:', false],
    ['aws-secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:payctl/pw-AbC', true],
    ['aws-secretsmanager:arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x#password', true],
    ['aws-secretsmanager:payctl/target', true],
    ['aws-secretsmanager:payctl/target#password', true],
    ['aws-secretsmanager:arn:aws:secretsmanager:us-east-1:123:secret:x', false],
    ['aws-secretsmanager:payctl/target#', false],
    ['aws-secretsmanager:', false],
    ['hunter2-literal', false],
    ['Env:PAYCTL_PW', false],
  ])('password %j is a valid reference: %s (schema and parser agree)', (ref, valid) => {
    expect(new RegExp(SECRET_REF_PATTERN).test(ref)).toBe(valid)
    expect('problem' in parseSecretRef(ref)).toBe(!valid)
    const issues = validateConfig(withValue('source.password', ref))
    expect(issues.map((i) => i.path)).toEqual(valid ? [] : ['/source/password'])
    // Whatever follows the prefix may be a password typed in the wrong place: it is never echoed.
    const body = ref.slice(ref.indexOf(':') + 1)
    if (!valid && body !== '') expect(JSON.stringify(issues)).not.toContain(body)
  })

  it.each<[string, string, unknown, string]>([
    ['version must be 1', 'version', 2, 'must be 1 (got 2)'],
    ['quoted number', 'source.port', '1433', 'must be an integer between 1 and 65535 (got "1433"); write the number without quotes'],
    ['port out of range', 'target.port', 70000, 'must be an integer between 1 and 65535 (got 70000)'],
    ['fractional port', 'target.port', 0.5, 'must be an integer between 1 and 65535 (got 0.5)'],
    ['engine enum', 'source.engine', 'postgres', 'must be one of: mysql, sqlserver (got "postgres")'],
    ['engine case', 'source.engine', 'SQLServer', 'must be one of: mysql, sqlserver (got "SQLServer"); did you mean "sqlserver"?'],
    ['flavor enum', 'target.flavor', 'aurora', 'must be one of: tidb, aurora-mysql, mysql, mariadb (got "aurora"); did you mean "aurora-mysql"?'],
    ['tls mode enum', 'target.tls.mode', 'on', 'must be one of: disable, prefer, require, verify-ca, verify-full (got "on")'],
    ['control store side', 'controlStore.side', 'both', 'must be one of: target, source (got "both")'],
    ['control store identifier', 'controlStore.database', 'payctl-control', 'must be an identifier: letters, digits and _, starting with a letter or _, at most 64 characters (got "payctl-control")'],
    ['empty user', 'source.user', '', 'must be a non-empty string (got "")'],
    ['empty YAML value', 'target.host', null, 'must be a non-empty string (got an empty value)'],
    ['pool size', 'target.pool.size', 0, 'must be an integer between 1 and 256 (got 0)'],
    ['connect timeout', 'target.connectTimeoutMs', 50, 'must be an integer between 100 and 600000 (got 50)'],
    ['query timeout', 'target.queryTimeoutMs', -1, 'must be an integer of at least 0 (got -1)'],
    ['section type', 'tables', ['*'], 'must be a mapping (got a list)'],
    ['glob list type', 'tables.include', '*', 'must be a list of non-empty strings (got "*")'],
    ['empty schemas', 'source.schemas', [], 'must be a list of non-empty strings with at least one entry, each listed once (got an empty list)'],
    ['duplicate schema', 'source.schemas', ['dbo', 'dbo'], 'lists "dbo" more than once'],
  ])('%s', (_name, path, value, message) => {
    const issues = validateConfig(withValue(path, value))
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe(`/${path.replaceAll('.', '/')}`)
    expect(issues[0]?.message).toBe(message)
  })

  it('does not quote long values', () => {
    const issues = validateConfig(withValue('target.flavor', 'x'.repeat(60)))
    expect(issues[0]?.message).toBe('must be one of: tidb, aurora-mysql, mysql, mariadb (got a string)')
  })

  it.each<[string, Record<string, unknown>, string, string]>([
    ['flavor with sqlserver', withValue('source.flavor', 'tidb'), '/source/flavor', '"flavor" applies only to engine mysql (this side is sqlserver); remove it'],
    ['socket with sqlserver', withValue('source.socket', '/tmp/s.sock'), '/source/socket', '"socket" applies only to engine mysql (this side is sqlserver); remove it and give host and port'],
    ['schemas with mysql', withValue('target.schemas', ['dbo']), '/target/schemas', '"schemas" applies only to engine sqlserver (this side is mysql); for mysql, "database" names the one schema to migrate'],
    ['no host (sqlserver)', withValue('source.host', undefined), '/source', 'missing required key "host"'],
    ['no host nor socket (mysql)', withValue('target.host', undefined), '/target', 'missing required key "host" (or "socket")'],
    ['verify-ca without ca', withValue('target.tls', {mode: 'verify-ca'}), '/target/tls', 'missing required key "ca": tls mode verify-ca checks the server certificate against it'],
    ['verify-full without ca', withValue('target.tls', {mode: 'verify-full'}), '/target/tls', 'missing required key "ca": tls mode verify-full checks the server certificate against it'],
    ['cert without key', withValue('target.tls', {cert: 'c.pem'}), '/target/tls', 'missing required key "key": a client certificate needs both cert and key'],
    ['port in host', withValue('target.host', 'db.internal:3307'), '/target/host', 'includes a port; write host: db.internal and port: 3307'],
    [
      'target equals source',
      {...minimal(), source: {engine: 'mysql', host: 'db', user: 'u', database: 'p'}, target: {engine: 'mysql', host: 'db', port: 3306, user: 'v', database: 'p'}},
      '/target',
      'points at the same server and database as source; payctl would migrate the database onto itself',
    ],
  ])('rule: %s', (_name, raw, path, message) => {
    expect(validateConfig(raw)).toEqual([expect.objectContaining({path, message})])
  })

  it('accepts a mysql side with only a socket', () => {
    expect(validateConfig(withValue('target', {engine: 'mysql', socket: '/tmp/mysql.sock', user: 'u', database: 'p'}))).toEqual([])
    expect(applyDefaults(withValue('target', {engine: 'mysql', socket: 's', user: 'u', database: 'p'}) as unknown as PayctlConfigInput).target.host).toBe('localhost')
  })

  it('does not leak if/then or engine rules when the engine itself is wrong', () => {
    const issues = validateConfig(withValue('source.engine', 'oracle'))
    expect(issues.map((i) => i.keyword)).toEqual(['enum'])
  })

  it('reports every missing key of a section and of the file', () => {
    expect(validateConfig({})).toEqual([
      expect.objectContaining({path: '/', message: 'missing required key "version"'}),
      expect.objectContaining({path: '/', message: 'missing required key "source"'}),
      expect.objectContaining({path: '/', message: 'missing required key "target"'}),
    ])
    expect(validateConfig(withValue('source', {engine: 'sqlserver'})).map((i) => i.message)).toEqual([
      'missing required key "user"',
      'missing required key "database"',
      'missing required key "host"',
    ])
  })

  it('explains an empty file and a file that is not a mapping', () => {
    expect(validateConfig(null)).toEqual([{path: '/', message: 'the file is empty', expected: 'a mapping with version, source and target', keyword: 'type'}])
    expect(validateConfig('payctl')[0]?.message).toBe('must be a mapping with keys version, source, target (got "payctl")')
  })

  it('sorts issues by path', () => {
    const raw = withValue('target.port', 'x')
    ;(raw.source as Record<string, unknown>).zzz = 1
    raw.version = 3
    expect(paths(raw)).toEqual(['/source/zzz', '/target/port', '/version'])
  })

  it('has a description and additionalProperties: false on every object of the schema', () => {
    const walk = (node: unknown, at: string): string[] => {
      if (typeof node !== 'object' || node === null || Array.isArray(node)) return []
      const n = node as Record<string, unknown>
      const problems: string[] = []
      if (typeof n.description !== 'string') problems.push(`${at}: no description`)
      if (n.type === 'object' && n.additionalProperties !== false) problems.push(`${at}: additionalProperties`)
      for (const [key, child] of Object.entries((n.properties as Record<string, unknown> | undefined) ?? {})) problems.push(...walk(child, `${at}/${key}`))
      if (n.items) problems.push(...walk(n.items, `${at}[]`))
      return problems
    }
    expect(walk(payctlConfigSchema, '')).toEqual([])
  })
})

describe('runtime section', () => {
  it('is optional and takes what the file says over the defaults', () => {
    const raw = withValue('runtime', {instances: 3, basePort: 9000, fingerprintKey: 'env:FP_KEY'})
    expect(validateConfig(raw)).toEqual([])
    expect(applyDefaults(raw as unknown as PayctlConfigInput).runtime).toEqual({instances: 3, host: '127.0.0.1', basePort: 9000, fingerprintKey: 'env:FP_KEY'})
  })

  it.each([
    ['runtime.instances', 0, 'must be an integer between 1 and 32 (got 0)'],
    ['runtime.instances', 33, 'must be an integer between 1 and 32 (got 33)'],
    ['runtime.instances', 1.5, 'must be an integer between 1 and 32 (got 1.5)'],
    ['runtime.basePort', 70000, 'must be an integer between 0 and 65535 (got 70000)'],
    ['runtime.basePort', '18080', 'must be an integer between 0 and 65535 (got "18080"); write the number without quotes'],
    ['runtime.host', '', 'must be a non-empty string (got "")'],
  ])('%s = %j: %s', (path, value, message) => {
    expect(validateConfig(withValue(path, value))).toEqual([expect.objectContaining({path: `/${path.replace('.', '/')}`, message})])
  })

  it('refuses a literal fingerprint key without showing it, and says which variable to use', () => {
    const issues = validateConfig(withValue('runtime.fingerprintKey', 'literal-key-0123456789'))
    expect(issues).toEqual([expect.objectContaining({path: '/runtime/fingerprintKey', keyword: 'secretRef'})])
    expect(issues[0]?.message).toContain('set PAYCTL_RUNTIME_FINGERPRINT_KEY and write fingerprintKey: env:PAYCTL_RUNTIME_FINGERPRINT_KEY')
    expect(JSON.stringify(validateConfig(withValue('runtime.fingerprintKey', 123456789)))).not.toContain('123456789')
    expect(JSON.stringify(issues)).not.toContain('literal-key')
  })

  it('reports an unknown key with a suggestion', () => {
    const issues = validateConfig(withValue('runtime', {instance: 2}))
    expect(issues).toEqual([expect.objectContaining({path: '/runtime/instance', keyword: 'additionalProperties', message: 'unknown key "instance"; did you mean "instances"?'})])
  })
})

describe('suggest', () => {
  it.each([
    ['hostname', 'host'],
    ['Host', 'host'],
    ['username', 'user'],
    ['databse', 'database'],
    ['dbname', 'database'],
    ['prot', 'port'],
    ['sslmode', 'tls'],
    ['connect_timeout_ms', 'connectTimeoutMs'],
    ['querytimeout', 'queryTimeoutMs'],
    ['socketPath', 'socket'],
    ['poolSize', 'pool'],
    ['flavour', 'flavor'],
    ['xyzzy', null],
  ])('%s -> %s', (word, expected) => {
    const keys = ['engine', 'flavor', 'host', 'port', 'socket', 'user', 'password', 'database', 'schemas', 'tls', 'connectTimeoutMs', 'queryTimeoutMs', 'pool']
    expect(suggest(word, keys)).toBe(expected)
  })
})

describe('replicate and verify sections', () => {
  it('are optional and take what the file says over the defaults', () => {
    const raw = {...withValue('replicate', {workers: 8, maxLagSeconds: 5}), verify: {parallel: 4, repairLog: 'repair/verify.sql'}}
    expect(validateConfig(raw)).toEqual([])
    const config = applyDefaults(raw as unknown as PayctlConfigInput)
    expect(config.replicate).toEqual({workers: 8, chunkMs: 500, maxLagSeconds: 5, maxTargetResponseMs: 1000})
    expect(config.verify).toEqual({chunkMs: 1000, parallel: 4, maxRowDiffs: 1000, hashMaxBytes: 16 * 1024 * 1024, repairLog: 'repair/verify.sql'})
  })

  it.each([
    ['replicate.workers', 0, 'must be an integer between 1 and 64 (got 0)'],
    ['replicate.chunkMs', 5, 'must be an integer between 10 and 60000 (got 5)'],
    ['verify.parallel', 17, 'must be an integer between 1 and 16 (got 17)'],
  ])('%s = %j: %s', (path, value, message) => {
    expect(validateConfig(withValue(path, value))).toEqual([expect.objectContaining({path: `/${path.replace('.', '/')}`, message})])
  })

  it('reports an unknown key with a suggestion', () => {
    expect(validateConfig(withValue('verify', {paralel: 2}))).toEqual([expect.objectContaining({path: '/verify/paralel', message: 'unknown key "paralel"; did you mean "parallel"?'})])
  })
})
