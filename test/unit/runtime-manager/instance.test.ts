import {mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {ExitCode} from '../../../src/cli/errors.js'
import {applyDefaults, type LoadedConfig, type PayctlConfigInput, validateConfig} from '../../../src/config/index.js'
import {
  ensureFingerprintKeyFile,
  fingerprintKeyFileFor,
  formatLogTail,
  instanceArgs,
  instanceId,
  instanceUrl,
  type RuntimeEntry,
  type RuntimeInstanceRecord,
} from '../../../src/runtime-manager/index.js'
import {FINGERPRINT_KEY_REF, renderSandboxConfig, type SandboxRuntimeState} from '../../../src/sandbox/index.js'

const entry: RuntimeEntry = {kind: 'built', path: '/p/main.js', command: process.execPath, args: ['/p/main.js'], reason: ''}

describe('the process contract', () => {
  it('passes every setting as the flags runtime/src/main.ts reads', () => {
    const args = instanceArgs({entry, configPath: '/c/payctl.yaml', host: '127.0.0.1', port: 18081, id: instanceId(2), fingerprintKeyFile: '/c/key'})
    expect(args).toEqual(['/p/main.js', '--config', '/c/payctl.yaml', '--host', '127.0.0.1', '--port', '18081', '--instance', 'rt-2', '--fingerprint-key-file', '/c/key'])
  })

  it('builds URLs for IPv4 and IPv6 hosts', () => {
    expect(instanceUrl({host: '127.0.0.1', port: 18080})).toBe('http://127.0.0.1:18080')
    expect(instanceUrl({host: '::1', port: 18080})).toBe('http://[::1]:18080')
  })
})

describe('formatLogTail', () => {
  it('turns pino JSON lines into "level: msg (error)" and keeps other lines', () => {
    const text = [
      JSON.stringify({level: 30, time: 1, msg: 'listening', port: 18080}),
      JSON.stringify({level: 50, time: 2, msg: 'database not reachable', err: {message: 'connect ECONNREFUSED 127.0.0.1:1'}}),
      'node:internal/process/esm_loader:40',
      '',
    ].join('\n')
    expect(formatLogTail(text).split('\n')).toEqual([
      '  info: listening',
      '  error: database not reachable (connect ECONNREFUSED 127.0.0.1:1)',
      'node:internal/process/esm_loader:40',
    ])
  })
})

describe('the sandbox state and config', () => {
  it('records instances without secrets, in the documented shape', () => {
    const record: RuntimeInstanceRecord = {id: 'rt-1', pid: 42, host: '127.0.0.1', port: 18080, logFile: '/s/runtime/rt-1.log', startedAt: '2025-01-01T00:00:00.000Z'}
    const state: SandboxRuntimeState = {instances: [record], requested: 2, fingerprintKeyFile: '/s/secrets/runtime-fingerprint.key'}
    expect(Object.keys(JSON.parse(JSON.stringify(state)) as object).sort()).toEqual(['fingerprintKeyFile', 'instances', 'requested'])
    expect(Object.keys(record).sort()).toEqual(['host', 'id', 'logFile', 'pid', 'port', 'startedAt'])
  })

  it('writes a runtime section that validates, with the key as a file: reference', () => {
    const text = renderSandboxConfig({ports: {legacy: 1, target: 2}, database: 'payments', runtime: {instances: 2, basePort: 18080, fingerprintKey: FINGERPRINT_KEY_REF}})
    const raw = parse(text) as PayctlConfigInput
    expect(validateConfig(raw)).toEqual([])
    expect(applyDefaults(raw).runtime).toEqual({instances: 2, host: '127.0.0.1', basePort: 18080, fingerprintKey: 'file:secrets/runtime-fingerprint.key'})
  })

  it('leaves instances to the default when the sandbox runs none (the schema allows 1..32)', () => {
    const raw = parse(renderSandboxConfig({ports: {legacy: 1, target: 2}, database: 'payments', runtime: {instances: 0, basePort: 0, fingerprintKey: FINGERPRINT_KEY_REF}})) as PayctlConfigInput
    expect(validateConfig(raw)).toEqual([])
    expect(raw.runtime?.instances).toBeUndefined()
  })
})

describe('fingerprint keys', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'payctl-key-'))
  })
  afterAll(async () => {
    await rm(dir, {recursive: true, force: true})
  })

  const loaded = (fingerprintKey: string | null): LoadedConfig => {
    const config = applyDefaults({version: 1, source: {engine: 'mysql', host: 'a', user: 'u', database: 'd'}, target: {engine: 'mysql', host: 'b', user: 'u', database: 'd'}})
    return {path: join(dir, 'payctl.yaml'), dir, config: {...config, runtime: {...config.runtime, fingerprintKey}}}
  }

  it('generates a key once (mode 0600) and keeps it afterwards', async () => {
    const file = join(dir, 'secrets', 'k.key')
    expect(await ensureFingerprintKeyFile(file)).toBe(true)
    const first = await readFile(file, 'utf8')
    expect(first.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(await ensureFingerprintKeyFile(file)).toBe(false)
    expect(await readFile(file, 'utf8')).toBe(first)
  })

  it('hands a file: key to the instances as it is, relative to the config', async () => {
    await writeFile(join(dir, 'fp.key'), 'a-long-enough-key\n')
    const key = await fingerprintKeyFileFor(loaded('file:fp.key'))
    expect(key.file).toBe(join(dir, 'fp.key'))
    await key.dispose()
    expect(await readFile(join(dir, 'fp.key'), 'utf8')).toBe('a-long-enough-key\n')
  })

  it('writes an env: key to a private temporary file that dispose removes', async () => {
    const key = await fingerprintKeyFileFor(loaded('env:FP_KEY'), {FP_KEY: 'key-from-the-environment'})
    expect(await readFile(key.file, 'utf8')).toBe('key-from-the-environment\n')
    expect((await stat(key.file)).mode & 0o777).toBe(0o600)
    await key.dispose()
    await expect(stat(key.file)).rejects.toMatchObject({code: 'ENOENT'})
  })

  it('refuses a config without a key (exit 2) and says how to make one', async () => {
    const err = await fingerprintKeyFileFor(loaded(null)).catch((e: unknown) => e)
    expect(err).toMatchObject({code: 'PAYCTL_RUNTIME_NO_FINGERPRINT_KEY', exitCode: ExitCode.usage})
    expect((err as {actions: string[]}).actions.join('\n')).toContain('fingerprintKey: file:')
  })

  it('fails with exit 2 when a file: key does not exist', async () => {
    await expect(fingerprintKeyFileFor(loaded('file:missing.key'))).rejects.toMatchObject({code: 'PAYCTL_SECRET_UNREADABLE', exitCode: ExitCode.usage})
  })
})

describe('spawnInstance', () => {
  it('a log folder that is a file is a usage error naming it, not a bug (nothing is started)', async () => {
    const {spawnInstance} = await import('../../../src/runtime-manager/instance.js')
    const dir = await mkdtemp(join(tmpdir(), 'payctl-logdir-'))
    try {
      const notADir = join(dir, 'logs')
      await writeFile(notADir, 'x')
      const spawning = spawnInstance({entry, id: 'rt-1', host: '127.0.0.1', port: 1, configPath: '/p/payctl.yaml', fingerprintKeyFile: '/p/key', logFile: join(notADir, 'rt-1.log'), detached: true})
      await expect(spawning).rejects.toMatchObject({code: 'PAYCTL_RUNTIME_LOG_DIR_INVALID', exitCode: ExitCode.usage})
      await expect(spawning).rejects.toThrow(notADir)
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
