/**
 * The runtime manager with the real payment service (dist-runtime/, built by the global setup) on
 * the suite's sandbox database: instances start, answer, report and stop without leaving a
 * process or a port behind; a start that cannot work fails with exit 3 and the service's own
 * words; `payctl runtime start` and `payctl sandbox up/down` do the same from the CLI.
 */
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, test} from 'vitest'
import YAML from 'yaml'
import {ExitCode, type PayctlError} from '../../src/cli/errors.js'
import {instanceId, instanceStatus, probe, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {freePort, isPortFree} from '../../src/sandbox/ports.js'
import {sandboxDown} from '../../src/sandbox/index.js'
import {parseJson, runCli, startCli} from './cli-helpers.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')
const keyFile = path.join(sandbox.dir, 'secrets', 'runtime-fingerprint.key')
let work: string

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-runtime-it-'))
})
afterAll(async () => {
  await sandboxDown({dir: path.join(work, 'sandbox'), purge: true}).catch(() => undefined)
  await rm(work, {recursive: true, force: true})
})

/** Live processes whose command line contains `needle` (Linux /proc); zombies count as gone. */
async function processesMentioning(needle: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '')
    if (cmdline.includes(needle) && !/^\d+ \(.*\) Z/s.test(stat)) found.push(Number(entry))
  }
  return found
}

/** A process that has exited but not yet been reaped (a zombie) counts as gone. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  return stat !== null && !/^\d+ \(.*\) Z/s.test(stat)
}

const ids = (n: number): string[] => Array.from({length: n}, (_, i) => instanceId(i + 1))

describe('runtime manager', () => {
  test('starts two instances that are ready, reports them, and stops them leaving no process or port', async () => {
    const logDir = path.join(work, 'two')
    const instances = await startInstances({configPath: sandbox.configPath, fingerprintKeyFile: keyFile, ids: ids(2), basePort: 0, logDir, detached: true})
    try {
      expect(instances.map((i) => i.record.id)).toEqual(['rt-1', 'rt-2'])
      expect(new Set(instances.map((i) => i.record.port)).size).toBe(2)
      for (const i of instances) {
        expect((await probe(i.record, '/readyz')).status).toBe(200)
        const status = await instanceStatus(i.record, sandbox.configPath)
        expect(status).toMatchObject({id: i.record.id, pid: i.record.pid, running: true, healthy: true, ready: true, url: `http://127.0.0.1:${i.record.port}`})
        expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0)
        expect(await readFile(i.record.logFile, 'utf8')).toMatch(/"msg":"listening"/)
      }
    } finally {
      const stopped = await stopInstances(instances.map((i) => i.record), {configPath: sandbox.configPath})
      expect(stopped.map((s) => [s.id, s.stopped, s.killed])).toEqual([['rt-1', true, false], ['rt-2', true, false]])
    }
    expect(await processesMentioning(`--config\0${sandbox.configPath}`)).toEqual([])
    for (const i of instances) {
      expect(await alive(i.record.pid)).toBe(false)
      expect(await isPortFree(i.record.port)).toBe(true)
      expect(await instanceStatus(i.record, sandbox.configPath)).toMatchObject({running: false, healthy: false, ready: false, pid: null, uptimeSeconds: null})
    }
  })

  test('an instance whose source database is unreachable fails with exit 3, quoting its log, and leaves nothing running', async () => {
    const cfg = YAML.parse(await readFile(sandbox.configPath, 'utf8')) as {source: {port: number; password: string}; target: {password: string}; runtime: {fingerprintKey: string}}
    cfg.source.port = await freePort()
    for (const side of [cfg.source, cfg.target]) side.password = `file:${path.resolve(sandbox.dir, side.password.slice(5))}`
    const configPath = path.join(work, 'unreachable.yaml')
    await writeFile(configPath, YAML.stringify(cfg))
    const logDir = path.join(work, 'unreachable')
    const err = (await startInstances({configPath, fingerprintKeyFile: keyFile, ids: ids(1), basePort: 0, logDir, detached: true, readyTimeoutMs: 20_000}).catch(
      (e: unknown) => e,
    )) as PayctlError
    expect(err).toMatchObject({exitCode: ExitCode.environment})
    expect(err.code).toMatch(/^PAYCTL_RUNTIME_START_(FAILED|TIMEOUT)$/)
    expect(err.message).toContain(`Last lines of ${path.join(logDir, 'rt-1.log')}:`)
    // the service's own explanation is quoted, not just "it exited"
    expect(err.message.split('Last lines of')[1]).toMatch(/\w+: .+/)
    expect(err.actions.join('\n')).toContain('payctl inspect --side source')
    expect(await processesMentioning(configPath)).toEqual([])
  })
})

describe('payctl runtime start', () => {
  test('prints the URLs once ready, and Ctrl-C stops every instance gracefully with exit 130', async () => {
    const logDir = path.join(work, 'cli')
    const cli = startCli(['runtime', 'start', '--config', sandbox.configPath, '--instances', '2', '--port', '0', '--log-dir', logDir])
    await cli.waitForStderr(/runtime ready: 2 instances/, 90_000)
    const lines = cli.output().stdout.trim().split('\n')
    expect(lines).toHaveLength(2)
    const urls = lines.map((l) => /^(rt-\d) +(http:\/\/127\.0\.0\.1:\d+) +pid (\d+)/.exec(l))
    for (const m of urls) {
      expect(m).not.toBeNull()
      const port = Number(new URL(m?.[2] ?? '').port)
      expect((await probe({host: '127.0.0.1', port}, '/readyz')).status).toBe(200)
    }
    const pids = urls.map((m) => Number(m?.[3]))
    for (const pid of pids) expect(await alive(pid)).toBe(true)
    cli.child.kill('SIGINT')
    const run = await cli.done
    expect(run.code).toBe(ExitCode.interrupted)
    expect(run.stderr).toContain('stopped 2 runtime instance(s) gracefully')
    for (const pid of pids) expect(await alive(pid)).toBe(false)
    expect(await processesMentioning(`--config\0${sandbox.configPath}`)).toEqual([])
  })

  test('with --json, prints one envelope when stopped (SIGTERM), holding the instances', async () => {
    const logDir = path.join(work, 'cli-json')
    const cli = startCli(['runtime', 'start', '--config', sandbox.configPath, '--instances', '1', '--port', '0', '--log-dir', logDir, '--json'])
    await cli.waitForStderr(/runtime ready: 1 instance/, 90_000)
    expect(cli.output().stdout).toBe('')
    cli.child.kill('SIGTERM')
    const run = await cli.done
    expect(run.code).toBe(ExitCode.interrupted)
    const json = parseJson<{status: number; error: {code: string; data: {instances: Array<{id: string; pid: number; url: string}>; stopped: Array<{id: string; stopped: boolean}>}}}>(run)
    expect(json.status).toBe(130)
    expect(json.error.code).toBe('PAYCTL_INTERRUPTED')
    expect(json.error.data.instances.map((i) => i.id)).toEqual(['rt-1'])
    expect(json.error.data.stopped).toEqual([expect.objectContaining({id: 'rt-1', stopped: true})])
    expect(await alive(json.error.data.instances[0]?.pid ?? 0)).toBe(false)
  })

  test('an instance that dies stops the others and the command exits 3 naming it', async () => {
    const cli = startCli(['runtime', 'start', '--config', sandbox.configPath, '--instances', '2', '--port', '0', '--log-dir', path.join(work, 'cli-dies')])
    await cli.waitForStderr(/runtime ready: 2 instances/, 90_000)
    const pids = [...cli.output().stdout.matchAll(/^(rt-\d) .* pid (\d+)/gm)].map((m) => Number(m[2]))
    expect(pids).toHaveLength(2)
    process.kill(pids[1] ?? 0, 'SIGKILL')
    const run = await cli.done
    expect(run.code).toBe(ExitCode.environment)
    expect(run.stderr).toContain('error PAYCTL_RUNTIME_EXITED: Runtime instance rt-2 exited on SIGKILL; the others were stopped.')
    expect(await alive(pids[0] ?? 0)).toBe(false)
  })
})

describe('payctl sandbox with runtime instances', () => {
  test('up starts 2 instances, status shows them healthy, down stops them before the databases and leaves no process', async () => {
    const dir = path.join(work, 'sandbox')
    const up = await runCli(['sandbox', 'up', '--dir', dir, '--scale', '0.01', '--runtime-instances', '2'], {timeoutMs: 170_000})
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toMatch(/runtime rt-1: http:\/\/127\.0\.0\.1:\d+/)
    expect(up.stdout).toMatch(/runtime rt-2: http:\/\/127\.0\.0\.1:\d+/)

    const status = parseJson<{result: {runtime: Array<{id: string; running: boolean; healthy: boolean; ready: boolean; port: number; logFile: string}>}}>(
      await runCli(['sandbox', 'status', '--dir', dir, '--json']),
    )
    expect(status.result.runtime.map((r) => [r.id, r.running, r.healthy, r.ready])).toEqual([['rt-1', true, true, true], ['rt-2', true, true, true]])
    expect(status.result.runtime[0]?.logFile).toBe(path.join(dir, 'runtime', 'rt-1.log'))
    const human = await runCli(['sandbox', 'status', '--dir', dir])
    expect(human.stdout).toMatch(/rt-1 +│ ready/)

    const config = YAML.parse(await readFile(path.join(dir, 'payctl.yaml'), 'utf8')) as {runtime: unknown}
    expect(config.runtime).toEqual({instances: 2, host: '127.0.0.1', basePort: 18080, fingerprintKey: 'file:secrets/runtime-fingerprint.key'})

    const down = await runCli(['sandbox', 'down', '--dir', dir])
    expect(down.code, down.stderr).toBe(0)
    expect(down.stdout).toMatch(/runtime rt-1: stopped \(pid \d+, port \d+\)\nruntime rt-2: stopped/)
    expect(down.stdout.indexOf('runtime rt-1')).toBeLessThan(down.stdout.indexOf('legacy: stopped'))
    expect(await processesMentioning(dir)).toEqual([])
  })
})
