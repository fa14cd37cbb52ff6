import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ExitCode, type PayctlError, UsageError} from '../../../src/cli/errors.js'
import {ConfigInvalidError, findConfigPath, loadConfig, readConfigFile} from '../../../src/config/index.js'

const YAML_OK = `version: 1
source:
  engine: sqlserver
  host: mssql
  user: payctl
  password: env:PAYCTL_SOURCE_PASSWORD
  database: Payments
target:
  engine: mysql
  socket: run/target.sock
  user: payctl
  password: file:secrets/target.pw
  database: payments
`

const JSON_OK = JSON.stringify({
  version: 1,
  source: {engine: 'mysql', host: '127.0.0.1', port: 13306, user: 'u', database: 'legacy'},
  target: {engine: 'mysql', host: '127.0.0.1', port: 13307, user: 'u', database: 'payments'},
})

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'payctl-config-'))
})
afterEach(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name)
  await mkdir(join(path, '..'), {recursive: true})
  await writeFile(path, text)
  return path
}

async function caught(p: Promise<unknown>): Promise<PayctlError> {
  try {
    await p
  } catch (err) {
    return err as PayctlError
  }
  throw new Error('expected a rejection')
}

describe('loadConfig', () => {
  it('loads YAML, applies defaults, and keeps secrets as references', async () => {
    const path = await write('payctl.yaml', YAML_OK)
    const loaded = await loadConfig(path)
    expect(loaded.path).toBe(path)
    expect(loaded.dir).toBe(dir)
    expect(loaded.config.source).toMatchObject({port: 1433, password: 'env:PAYCTL_SOURCE_PASSWORD', tls: {mode: 'prefer'}})
    expect(loaded.config.target).toMatchObject({host: 'localhost', port: 3306, socket: 'run/target.sock', password: 'file:secrets/target.pw'})
    // JSON-safe: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(loaded))).toEqual(loaded)
  })

  it('loads JSON, and tries JSON then YAML for other extensions', async () => {
    expect((await loadConfig(await write('payctl.json', JSON_OK))).config.source.port).toBe(13306)
    expect((await loadConfig(await write('config.conf', JSON_OK))).config.target.port).toBe(13307)
    expect((await loadConfig(await write('config.txt', YAML_OK))).config.source.engine).toBe('sqlserver')
  })

  it('reports a YAML syntax error with line and column, without quoting the text', async () => {
    const path = await write('payctl.yaml', 'version: 1\nsource:\n  engine: mysql\n  password: hunter2: literal\n')
    const err = await caught(loadConfig(path))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.code).toBe('PAYCTL_CONFIG_PARSE')
    expect(err.exitCode).toBe(ExitCode.usage)
    expect(err.message).toBe(`${path}:4:13: not valid YAML: nested mappings are not allowed in compact mappings.`)
    expect(err.data).toMatchObject({path, line: 4, column: 13})
    expect(err.actions).toEqual([`Fix the YAML syntax at line 4, column 13 of ${path}.`])
  })

  it.each([
    ['an unclosed quote', 'version: 1\nsource:\n  password: "hunter2-literal\n'],
    ['a plain scalar', 'source: {password: hunter2-literal: x}\n'],
  ])('does not quote the text of a YAML error (%s)', async (_name, text) => {
    const err = await caught(loadConfig(await write('payctl.yaml', text)))
    expect(err.code).toBe('PAYCTL_CONFIG_PARSE')
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2')
  })

  it.each([
    ['an undefined anchor', 'version: *nope\n', /not valid YAML: unresolved alias/],
    ['several documents', 'version: 1\n---\nversion: 1\n', /:2:1: not valid YAML: the file holds more than one YAML document/],
  ])('reports %s as a parse error', async (_name, text, message) => {
    const err = await caught(loadConfig(await write('payctl.yaml', text)))
    expect(err).toBeInstanceOf(UsageError)
    expect(err.code).toBe('PAYCTL_CONFIG_PARSE')
    expect(err.message).toMatch(message)
  })

  it('names a duplicated key', async () => {
    const err = await caught(loadConfig(await write('payctl.yml', 'version: 1\nversion: 1\n')))
    expect(err.message).toContain(':2:1: not valid YAML: key "version" appears twice in the same mapping')
  })

  it.each([
    ['an unexpected token', '{\n  "version": 1,\n  "password": hunter2-literal\n}', 3, 15],
    ['a missing comma', '{"version": 1\n "source": {}}', 2, 2],
    ['a truncated file', '{"version": 1,\n', 2, 1],
  ])('reports a JSON syntax error (%s) with line and column, without quoting the text', async (_name, text, line, column) => {
    const path = await write('payctl.json', text)
    const err = await caught(loadConfig(path))
    expect(err.code).toBe('PAYCTL_CONFIG_PARSE')
    expect(err.data).toMatchObject({line, column})
    expect(err.message).toMatch(new RegExp(`^${path}:${line}:${column}: not valid JSON: `))
    expect(err.message).not.toContain('hunter2')
  })

  it('reports a missing file with how to create one', async () => {
    const path = join(dir, 'nope.yaml')
    const err = await caught(loadConfig(path))
    expect(err.code).toBe('PAYCTL_CONFIG_NOT_FOUND')
    expect(err.exitCode).toBe(ExitCode.usage)
    expect(err.message).toContain(path)
    expect(err.actions.join('\n')).toMatch(/payctl sandbox up/)
    expect(err.actions.join('\n')).toMatch(/payctl\.example\.yaml/)
  })

  it('throws ConfigInvalidError listing every problem, without the literal password', async () => {
    const path = await write('payctl.yaml', YAML_OK.replace('env:PAYCTL_SOURCE_PASSWORD', 'hunter2-literal').replace('host: mssql', 'hostname: mssql'))
    const err = await caught(loadConfig(path))
    expect(err).toBeInstanceOf(ConfigInvalidError)
    expect(err).toBeInstanceOf(UsageError)
    expect(err.code).toBe('PAYCTL_CONFIG_INVALID')
    expect(err.exitCode).toBe(2)
    expect(err.message).toBe(
      [
        `${path} has 3 problems:`,
        '  /source: missing required key "host"',
        '  /source/hostname: unknown key "hostname"; did you mean "host"?',
        '  /source/password: is a literal password; secrets must be references (env:NAME, file:PATH or aws-secretsmanager:ARN[#jsonKey]); set PAYCTL_SOURCE_PASSWORD and write password: env:PAYCTL_SOURCE_PASSWORD',
      ].join('\n'),
    )
    expect((err.data as {issues: unknown[]}).issues).toHaveLength(3)
    expect(JSON.stringify(err.toJSON())).not.toContain('hunter2')
  })
})

describe('readConfigFile', () => {
  it('returns the problems instead of throwing', async () => {
    const file = await readConfigFile(await write('payctl.yaml', 'version: 2\n'))
    expect(file.raw).toEqual({version: 2})
    expect(file.config).toBeUndefined()
    expect(file.issues.map((i) => i.path)).toEqual(['/', '/', '/version'])
  })

  it('returns the config with defaults when valid', async () => {
    const file = await readConfigFile(await write('payctl.yaml', YAML_OK))
    expect(file.issues).toEqual([])
    expect(file.config?.target.pool.size).toBe(8)
  })

  it('reports an empty file as a problem, not a crash', async () => {
    const file = await readConfigFile(await write('payctl.yaml', '# nothing yet\n'))
    expect(file.issues).toEqual([expect.objectContaining({path: '/', message: 'the file is empty'})])
  })
})

describe('findConfigPath', () => {
  it('uses the explicit path, relative to cwd, whether or not it exists', () => {
    expect(findConfigPath('conf/p.yaml', dir)).toBe(join(dir, 'conf/p.yaml'))
    expect(findConfigPath('/etc/payctl.yaml', dir)).toBe('/etc/payctl.yaml')
  })

  it('looks for payctl.yaml, payctl.yml, payctl.json, then the sandbox config, in that order', async () => {
    const order = ['payctl.yaml', 'payctl.yml', 'payctl.json', '.payctl/sandbox/payctl.yaml']
    for (const name of order) await write(name, '')
    for (const name of order) {
      expect(findConfigPath(undefined, dir)).toBe(join(dir, name))
      await rm(join(dir, name))
    }
  })

  it('says where it looked and what to do when there is none', () => {
    let err: UsageError | undefined
    try {
      findConfigPath(undefined, dir)
    } catch (e) {
      err = e as UsageError
    }
    expect(err?.code).toBe('PAYCTL_CONFIG_NOT_FOUND')
    expect(err?.exitCode).toBe(2)
    for (const name of ['payctl.yaml', 'payctl.yml', 'payctl.json', '.payctl/sandbox/payctl.yaml']) expect(err?.message).toContain(join(dir, name))
    expect(err?.actions.join('\n')).toMatch(/payctl sandbox up[\s\S]*--config PATH/)
  })
})
