import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {EnvironmentError, type PayctlError, UsageError} from '../../../src/cli/errors.js'
import {redact} from '../../../src/cli/redact.js'
import type {AwsSecretsClientFactory, LoadedConfig} from '../../../src/config/index.js'
import {applyDefaults, resolveConnection, resolveSecret} from '../../../src/config/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'payctl-secrets-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function caught(p: Promise<unknown>): Promise<PayctlError> {
  try {
    await p
  } catch (err) {
    return err as PayctlError
  }
  throw new Error('expected a rejection')
}

const opts = (extra: Partial<Parameters<typeof resolveSecret>[1]> = {}) => ({baseDir: dir, label: 'source.password', env: {}, ...extra})

/** A Secrets Manager that answers from a map, and remembers what it was asked. */
function fakeAws(secrets: Record<string, string | Error>) {
  const calls: Array<{region: string | null; secretId: string}> = []
  let destroyed = 0
  const factory: AwsSecretsClientFactory = ({region}) => ({
    getSecretValue: ({SecretId}) => {
      calls.push({region, secretId: SecretId})
      const s = secrets[SecretId]
      if (s instanceof Error) return Promise.reject(s)
      if (s === undefined) return Promise.reject(Object.assign(new Error("Secrets Manager can't find the specified secret."), {name: 'ResourceNotFoundException'}))
      return Promise.resolve({SecretString: s})
    },
    destroy: () => {
      destroyed++
    },
  })
  return {factory, calls, destroyed: () => destroyed}
}

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:payctl/target-AbCdEf'

describe('resolveSecret: env', () => {
  it('reads the variable', async () => {
    const secret = await resolveSecret('env:PW', opts({env: {PW: 's3cret-from-env'}}))
    expect(secret.reveal()).toBe('s3cret-from-env')
    expect(secret.reference).toBe('env:PW')
  })

  it.each([
    ['unset', {}, 'not set'],
    ['empty', {PW: ''}, 'empty'],
  ])('refuses an %s variable with the export to run', async (_name, env, why) => {
    const err = await caught(resolveSecret('env:PW', opts({env})))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.code).toBe('PAYCTL_SECRET_UNSET')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`source.password refers to env:PW, which is ${why}.`)
    expect(err.actions[0]).toMatch(/^export PW=/)
  })

  it('refuses a secret too short to be masked', async () => {
    const err = await caught(resolveSecret('env:PW', opts({env: {PW: 'abc'}})))
    expect(err.code).toBe('PAYCTL_SECRET_TOO_SHORT')
    expect(err.message).not.toContain('abc')
  })
})

describe('resolveSecret: file', () => {
  it('reads a file relative to baseDir and strips one trailing newline', async () => {
    await mkdir(join(dir, 'secrets'))
    await writeFile(join(dir, 'secrets', 'pw'), 'line-one-secret\n\n')
    expect((await resolveSecret('file:secrets/pw', opts())).reveal()).toBe('line-one-secret\n')
    await writeFile(join(dir, 'crlf'), 'windows-secret\r\n')
    expect((await resolveSecret('file:crlf', opts())).reveal()).toBe('windows-secret')
  })

  it('reads an absolute path, whatever baseDir is', async () => {
    await writeFile(join(dir, 'pw'), 'absolute-secret')
    expect((await resolveSecret(`file:${join(dir, 'pw')}`, opts({baseDir: '/nonexistent'}))).reveal()).toBe('absolute-secret')
  })

  it('names the path it could not read', async () => {
    const err = await caught(resolveSecret('file:missing/pw', opts()))
    expect(err.code).toBe('PAYCTL_SECRET_UNREADABLE')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(`source.password refers to file:missing/pw, and ${join(dir, 'missing/pw')} does not exist.`)
  })

  it('says when the path cannot be read as a file', async () => {
    // a folder cannot be read even by root, so this runs whoever runs the tests
    await mkdir(join(dir, 'a-folder'))
    const err = await caught(resolveSecret('file:a-folder', opts()))
    expect(err.code).toBe('PAYCTL_SECRET_UNREADABLE')
    expect(err.message).toBe(`source.password refers to file:a-folder, and ${join(dir, 'a-folder')} is a folder.`)
  })
})

describe('resolveSecret: aws-secretsmanager', () => {
  it('returns a plain SecretString as it is, asking the region of the ARN', async () => {
    const aws = fakeAws({[ARN]: 'plain-aws-secret'})
    const secret = await resolveSecret(`aws-secretsmanager:${ARN}`, opts({awsClientFactory: aws.factory}))
    expect(secret.reveal()).toBe('plain-aws-secret')
    expect(aws.calls).toEqual([{region: 'eu-west-1', secretId: ARN}])
    expect(aws.destroyed()).toBe(1)
  })

  it('takes #key from a JSON secret; a bare name uses the default region', async () => {
    const aws = fakeAws({'payctl/target': JSON.stringify({username: 'payctl', password: 'json-aws-secret', port: 3306})})
    const secret = await resolveSecret('aws-secretsmanager:payctl/target#password', opts({awsClientFactory: aws.factory}))
    expect(secret.reveal()).toBe('json-aws-secret')
    expect(aws.calls).toEqual([{region: null, secretId: 'payctl/target'}])
  })

  it('names a missing key and the keys there are, never the content', async () => {
    const aws = fakeAws({[ARN]: JSON.stringify({username: 'payctl', password: 'json-aws-secret'})})
    const err = await caught(resolveSecret(`aws-secretsmanager:${ARN}#pasword`, opts({awsClientFactory: aws.factory})))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.code).toBe('PAYCTL_SECRET_KEY_MISSING')
    expect(err.message).toBe(`source.password: secret ${ARN} has no key "pasword".`)
    expect(err.actions[0]).toContain('username, password')
    expect(JSON.stringify(err.toJSON())).not.toContain('json-aws-secret')
  })

  it('asks for #key when a JSON secret is referenced whole', async () => {
    const aws = fakeAws({[ARN]: JSON.stringify({username: 'payctl', password: 'json-aws-secret'})})
    const err = await caught(resolveSecret(`aws-secretsmanager:${ARN}`, opts({awsClientFactory: aws.factory})))
    expect(err.code).toBe('PAYCTL_SECRET_KEY_MISSING')
    expect(err.actions[0]).toContain(`aws-secretsmanager:${ARN}#password`)
    expect(JSON.stringify(err.toJSON())).not.toContain('json-aws-secret')
  })

  it('refuses #key on a secret that is not JSON, without quoting it', async () => {
    const aws = fakeAws({[ARN]: 'not-json-secret'})
    const err = await caught(resolveSecret(`aws-secretsmanager:${ARN}#password`, opts({awsClientFactory: aws.factory})))
    expect(err.code).toBe('PAYCTL_SECRET_KEY_MISSING')
    expect(err.message).not.toContain('not-json-secret')
  })

  it.each([
    ['ResourceNotFoundException', 'PAYCTL_SECRET_NOT_FOUND'],
    ['AccessDeniedException', 'PAYCTL_SECRET_ACCESS_DENIED'],
    ['CredentialsProviderError', 'PAYCTL_AWS_CREDENTIALS'],
    ['ThrottlingException', 'PAYCTL_SECRET_UNAVAILABLE'],
  ])('turns %s into an environment error (exit 3) naming the ARN', async (name, code) => {
    const aws = fakeAws({[ARN]: Object.assign(new Error(`${name} from AWS`), {name})})
    const err = await caught(resolveSecret(`aws-secretsmanager:${ARN}`, opts({awsClientFactory: aws.factory})))
    expect(err).toBeInstanceOf(EnvironmentError)
    expect(err.exitCode).toBe(3)
    expect(err.code).toBe(code)
    expect(err.message).toContain(ARN)
    expect(err.actions.length).toBeGreaterThan(0)
    expect(aws.destroyed()).toBe(1)
  })

  it('says to set a region when the SDK has none', async () => {
    const aws = fakeAws({name: new Error('Region is missing')})
    const err = await caught(resolveSecret('aws-secretsmanager:name', opts({awsClientFactory: aws.factory})))
    expect(err.code).toBe('PAYCTL_AWS_REGION_MISSING')
    expect(err.exitCode).toBe(3)
  })
})

describe('a resolved Secret', () => {
  it('never shows its value through String, JSON, inspect or redact', async () => {
    const secret = await resolveSecret('env:PW', opts({env: {PW: 'never-print-me'}}))
    expect(String(secret)).toBe('********')
    expect(`${String(secret)}`).not.toContain('never-print-me')
    expect(JSON.stringify({password: secret})).toBe('{"password":"env:PW"}')
    expect(inspect({password: secret})).not.toContain('never-print-me')
    expect(redact('driver said: login failed for never-print-me')).toBe('driver said: login failed for ********')
  })
})

describe('resolveConnection', () => {
  it('builds ConnectionOptions with defaults, the resolved password and absolute paths', async () => {
    await writeFile(join(dir, 'target.pw'), 'target-file-secret\n')
    const loaded: LoadedConfig = {
      path: join(dir, 'payctl.yaml'),
      dir,
      config: applyDefaults({
        version: 1,
        source: {engine: 'sqlserver', host: 'mssql', user: 'u', database: 'Payments', schemas: ['dbo'], password: 'env:SRC_PW', tls: {mode: 'verify-ca', ca: 'certs/ca.pem'}},
        target: {engine: 'mysql', flavor: 'mariadb', socket: 'run/t.sock', user: 'u', database: 'payments', password: 'file:target.pw', pool: {size: 2}},
      }),
    }
    const source = await resolveConnection('source', loaded, {SRC_PW: 'source-env-secret'})
    expect(JSON.parse(JSON.stringify(source))).toEqual({
      engine: 'sqlserver',
      host: 'mssql',
      port: 1433,
      user: 'u',
      password: 'env:SRC_PW',
      database: 'Payments',
      tls: {mode: 'verify-ca', ca: join(dir, 'certs/ca.pem')},
      connectTimeoutMs: 10000,
      queryTimeoutMs: 300000,
      poolSize: 8,
      schemas: ['dbo'],
      label: 'source',
    })
    expect(source.password?.reveal()).toBe('source-env-secret')

    const target = await resolveConnection('target', loaded, {})
    expect(target).toMatchObject({engine: 'mysql', flavor: 'mariadb', port: 3306, socketPath: join(dir, 'run/t.sock'), poolSize: 2, label: 'target'})
    expect(target.password?.reveal()).toBe('target-file-secret')
    expect(inspect(target)).not.toContain('target-file-secret')
  })

  it('gives null for no password', async () => {
    const loaded: LoadedConfig = {
      path: join(dir, 'payctl.yaml'),
      dir,
      config: applyDefaults({version: 1, source: {engine: 'mysql', host: 'h', user: 'u', database: 'd'}, target: {engine: 'mysql', host: 'h2', user: 'u', database: 'd'}}),
    }
    expect((await resolveConnection('source', loaded, {})).password).toBeNull()
  })
})
