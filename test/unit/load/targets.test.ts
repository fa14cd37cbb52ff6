import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {ExitCode, PayctlError} from '../../../src/cli/errors.js'
import type {LoadedConfig} from '../../../src/config/index.js'
import {checkTarget, ensureTargetsReady, normalizeTarget, resolveTargets, runtimeConfigTargets, sandboxRecordedTargets} from '../../../src/load/targets.js'
import {json, startServer, type TestServer} from './http-server.js'

let work: string
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-load-targets-'))
})
afterAll(async () => {
  await rm(work, {recursive: true, force: true})
})

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})
async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  servers.push(s)
  return s
}

/** A port nothing listens on (the OS handed it out, then it was closed). */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1', () => {
      const p = (probe.address() as {port: number}).port
      probe.close(() => resolve(p))
    })
  })
}

function caught(f: () => unknown): PayctlError {
  try {
    f()
  } catch (error) {
    if (error instanceof PayctlError) return error
    throw error
  }
  throw new Error('expected an error')
}

function loaded(configPath: string, runtime: Partial<LoadedConfig['config']['runtime']> = {}): LoadedConfig {
  const config = {runtime: {instances: 2, host: '127.0.0.1', basePort: 18080, fingerprintKey: null, ...runtime}} as LoadedConfig['config']
  return {path: configPath, dir: path.dirname(configPath), config}
}

describe('normalizeTarget', () => {
  it('keeps an http(s) base URL without its trailing slashes (paths are appended to it)', () => {
    expect(normalizeTarget('http://127.0.0.1:18080/')).toBe('http://127.0.0.1:18080')
    expect(normalizeTarget(' https://pay.example.test/api// ')).toBe('https://pay.example.test/api')
  })

  it.each(['127.0.0.1:18080', 'ftp://host', 'http://host/?x=1', 'http://host/#a', 'not a url'])('refuses %j (exit 2)', (value) => {
    const e = caught(() => normalizeTarget(value))
    expect(e.exitCode).toBe(ExitCode.usage)
    expect(e.message).toBe(`--target ${JSON.stringify(value)} is not an http(s) base URL.`)
  })
})

describe('runtimeConfigTargets', () => {
  it('instance k listens on basePort + k - 1', () => {
    expect(runtimeConfigTargets({host: '127.0.0.1', basePort: 18080, instances: 3}, 'payctl.yaml')).toEqual(['http://127.0.0.1:18080', 'http://127.0.0.1:18081', 'http://127.0.0.1:18082'])
  })

  it('reaches a wildcard listen address on the loopback, and brackets IPv6', () => {
    expect(runtimeConfigTargets({host: '0.0.0.0', basePort: 9000, instances: 1}, 'payctl.yaml')).toEqual(['http://127.0.0.1:9000'])
    expect(runtimeConfigTargets({host: '::', basePort: 9000, instances: 1}, 'payctl.yaml')).toEqual(['http://[::1]:9000'])
    expect(runtimeConfigTargets({host: 'pay-1.internal', basePort: 9000, instances: 1}, 'payctl.yaml')).toEqual(['http://pay-1.internal:9000'])
  })

  it('basePort 0 (any free port) cannot name the instances: exit 2 asking for --target', () => {
    const e = caught(() => runtimeConfigTargets({host: '127.0.0.1', basePort: 0, instances: 2}, '/x/payctl.yaml'))
    expect(e.exitCode).toBe(ExitCode.usage)
    expect(e.message).toContain('runtime.basePort in /x/payctl.yaml is 0')
    expect(e.actions.join(' ')).toContain('--target')
  })
})

describe('resolveTargets', () => {
  async function sandboxDir(name: string, state: Record<string, unknown> | null): Promise<string> {
    const dir = await mkdtemp(path.join(work, `${name}-`))
    const configPath = path.join(dir, 'payctl.yaml')
    if (state !== null) await writeFile(path.join(dir, 'sandbox.json'), JSON.stringify({kind: 'payctl-sandbox', formatVersion: 1, dir, servers: {}, configPath, ...state}))
    return configPath
  }
  const record = (id: string, port: number) => ({id, pid: 1, host: '127.0.0.1', port, logFile: `/tmp/${id}.log`, startedAt: '2026-01-01T00:00:00Z'})

  it('--target wins and the config is not even read', async () => {
    const t = await resolveTargets(['http://a:1/', 'http://b:2', 'http://a:1'], () => Promise.reject(new Error('config read')))
    expect(t).toEqual({urls: ['http://a:1', 'http://b:2'], origin: '--target'})
  })

  it('the sandbox\'s own config: the ports its state file recorded (a taken port was replaced), in instance order', async () => {
    const configPath = await sandboxDir('recorded', {runtime: {instances: [record('rt-10', 40_010), record('rt-2', 40_002), record('rt-1', 41_234)], requested: 3}})
    expect(await sandboxRecordedTargets(configPath)).toEqual(['http://127.0.0.1:41234', 'http://127.0.0.1:40002', 'http://127.0.0.1:40010'])
    const t = await resolveTargets(undefined, () => Promise.resolve(loaded(configPath)))
    expect(t.urls).toEqual(['http://127.0.0.1:41234', 'http://127.0.0.1:40002', 'http://127.0.0.1:40010'])
    expect(t.origin).toBe(`the sandbox's runtime instances (config ${configPath})`)
  })

  it('any other config, or a sandbox without instances: the runtime section', async () => {
    for (const configPath of [
      await sandboxDir('none', null),
      await sandboxDir('empty', {runtime: {instances: [], requested: 0}}),
      await sandboxDir('other', {configPath: '/elsewhere/payctl.yaml', runtime: {instances: [record('rt-1', 40_001)], requested: 1}}),
      await sandboxDir('broken', {formatVersion: 99}),
    ]) {
      const t = await resolveTargets([], () => Promise.resolve(loaded(configPath, {basePort: 9100, instances: 2})))
      expect(t).toEqual({urls: ['http://127.0.0.1:9100', 'http://127.0.0.1:9101'], origin: `the runtime section of ${configPath}`})
    }
  })
})

describe('checkTarget and ensureTargetsReady', () => {
  it('ready when /readyz answers 200', async () => {
    const s = await server((req, res) => json(res, req.path === '/readyz' ? 200 : 500, {status: 'ready'}))
    expect(await checkTarget(s.url)).toEqual({url: s.url, ready: true, endpoint: '/readyz', status: 200, problem: null})
  })

  it('a service without /readyz is judged by /healthz', async () => {
    const s = await server((req, res) => json(res, req.path === '/healthz' ? 200 : 404, {}))
    expect(await checkTarget(s.url)).toMatchObject({ready: true, endpoint: '/healthz'})
    const other = await server((_req, res) => json(res, 404, {}))
    expect(await checkTarget(other.url)).toMatchObject({ready: false, endpoint: '/healthz', status: 404, problem: '/readyz answered 404 and /healthz 404: not the payment service?'})
  })

  it('not ready: the readiness state the service gives, or nothing answering, or no answer in time', async () => {
    const unready = await server((_req, res) => json(res, 503, {status: 'database_unreachable'}))
    expect(await checkTarget(unready.url)).toMatchObject({ready: false, status: 503, problem: '/readyz answered 503 (database_unreachable)'})
    const refused = `http://127.0.0.1:${await closedPort()}`
    expect(await checkTarget(refused)).toMatchObject({ready: false, status: null, problem: 'nothing answers (ECONNREFUSED)'})
    const silent = await server(() => undefined)
    expect(await checkTarget(silent.url, {timeoutMs: 50})).toMatchObject({ready: false, status: null, problem: 'no answer within 50 ms'})
  })

  it('exit 3 naming every target that is not ready and what to do; the ready ones pass', async () => {
    const ok = await server((_req, res) => json(res, 200, {status: 'ready'}))
    const unready = await server((_req, res) => json(res, 503, {status: 'shutting_down'}))
    const refused = `http://127.0.0.1:${await closedPort()}`
    expect(await ensureTargetsReady({urls: [ok.url], origin: '--target'})).toHaveLength(1)
    const error = await ensureTargetsReady({urls: [ok.url, unready.url, refused], origin: 'the runtime section of /x/payctl.yaml'}).then(
      () => null,
      (e: unknown) => e as PayctlError,
    )
    expect(error?.exitCode).toBe(ExitCode.environment)
    expect(error?.code).toBe('PAYCTL_LOAD_TARGET_NOT_READY')
    expect(error?.message).toBe(
      `No ready payment service at 2 of 3 load targets (from the runtime section of /x/payctl.yaml):\n  ${unready.url}: /readyz answered 503 (shutting_down)\n  ${refused}: nothing answers (ECONNREFUSED)`,
    )
    const actions = error?.actions.join('\n') ?? ''
    expect(actions).toContain('payctl sandbox up')
    expect(actions).toContain('payctl runtime start')
    expect(actions).toContain('not ready (its database does not answer, or it is shutting down)')
    expect(actions).toContain('--target URL')
  })

  it('an abort during the check rejects with its reason', async () => {
    const silent = await server(() => undefined)
    const controller = new AbortController()
    const reason = new Error('interrupted')
    const pending = checkTarget(silent.url, {signal: controller.signal})
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })
})
