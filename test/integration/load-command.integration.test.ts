/**
 * `payctl load` as a user runs it (bin/run.js from dist/) against one real instance of the payment
 * service on the suite's sandbox: counts and exit codes of a timed run, the targets taken from a
 * config's runtime section, a target where nothing listens (exit 3), a threshold that cannot pass
 * (exit 4), and runs stopped by a signal (exit 0 when run until stopped, 130 when a --duration
 * was cut short). Signals are sent once the service has counted requests from the run (its
 * /metrics), never after a fixed wait.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, test} from 'vitest'
import YAML from 'yaml'
import type {LoadReportJson} from '../../src/load/report.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import {parseJson, runCli, startCli} from './cli-helpers.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')

interface Success {
  status: 0
  result: LoadReportJson
  warnings: string[]
}

interface Failure {
  status: number
  error: {code: string; message: string; exitCode: number; actions: string[]; data?: {report?: LoadReportJson}}
}

let work: string
let instance: SpawnedInstance
let url: string

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-load-cli-'))
  ;[instance] = (await startInstances({
    configPath: sandbox.configPath,
    fingerprintKeyFile: runtimePaths(sandbox.dir).fingerprintKeyFile,
    ids: [instanceId(1)],
    basePort: 0,
    logDir: work,
    detached: false,
  })) as [SpawnedInstance]
  url = instanceUrl(instance.record)
})

afterAll(async () => {
  if (instance !== undefined) await stopInstances([instance.record], {configPath: sandbox.configPath})
  await rm(work, {recursive: true, force: true})
})

/** POST requests the service has answered so far, from its Prometheus counter. */
async function postsServed(): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  let total = 0
  for (const line of text.split('\n')) if (line.startsWith('http_requests_total{') && line.includes('method="POST"')) total += Number(line.split(' ').at(-1))
  return total
}

/** Polls until the service has answered `more` POSTs beyond `from` (a condition, not a fixed wait). */
async function waitForPosts(from: number, more: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await postsServed()) < from + more) {
    if (Date.now() > deadline) throw new Error(`the service did not answer ${more} POSTs within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
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

describe('payctl load', () => {
  test('--help documents the flags and examples', async () => {
    const run = await runCli(['load', '--help'])
    expect(run.code).toBe(0)
    for (const flag of ['--target', '--scenario', '--rate', '--duration', '--max-in-flight', '--seed', '--request-timeout', '--max-failed', '--p99-ms', '--max-dropped', '--out', '--junit', '--json']) {
      expect(run.stdout).toContain(flag)
    }
    expect(run.stdout).toMatch(/EXAMPLES/)
  })

  test('a 3 s checkout run at 20/s: 60 iterations, no failure, exit 0; --out and --junit hold the same verdicts', async () => {
    const out = path.join(work, 'reports', 'nested', 'load.json')
    const junit = path.join(work, 'reports', 'load.xml')
    const run = await runCli(['load', '--target', url, '--duration', '3s', '--rate', '20', '--seed', '7', '--json', '--out', out, '--junit', junit])
    const json = parseJson<Success>(run)
    expect(run.code, run.stderr).toBe(0)
    const r = json.result.result
    expect(r.failureSamples, run.stdout).toEqual([])
    expect(r).toMatchObject({scenario: 'checkout', seed: 7, targets: [url], ratePerSecond: 20, stopReason: 'duration'})
    expect(r.iterations).toMatchObject({scheduled: 60, started: 60, completed: 60, failed: 0, interrupted: 0, dropped: 0})
    // every checkout makes at least one request (a returning customer can create and confirm in one)
    expect(r.requests.total).toBeGreaterThanOrEqual(60)
    expect(r.requests.byEndpoint['POST /v1/customers']?.total).toBeGreaterThan(0)
    expect(r.requests.failed).toBe(0)
    expect(r.requests.byStatus['402'] ?? 0).toBe(r.counters.declined_on_purpose ?? 0)
    expect(json.result.passed).toBe(true)
    expect(json.result.thresholds.map((t) => [t.metric, t.value, t.pass])).toEqual([
      ['requests.failed', 0, true],
      ['iterations.dropped', 0, true],
    ])
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(json.result)
    const xml = await readFile(junit, 'utf8')
    expect(xml).toContain('<testsuite name="payctl load" tests="2" failures="0"')
    expect(xml).toContain('name="requests.failed &lt;= 0"')
    // the command says what it runs, on stderr; stdout is only the JSON
    expect(run.stderr).toContain(`load: checkout at 20/s on ${url}, for 3.0 s (seed 7)`)
  })

  test('without --target: the instances of the config\'s runtime section; the human summary on stdout', async () => {
    const cfg = YAML.parse(await readFile(sandbox.configPath, 'utf8')) as Record<string, unknown>
    cfg.runtime = {instances: 1, host: '127.0.0.1', basePort: instance.record.port}
    const configPath = path.join(work, 'runtime-section.yaml')
    await writeFile(configPath, YAML.stringify(cfg))
    const run = await runCli(['load', '--config', configPath, '--scenario', 'writes', '--duration', '1s', '--rate', '10'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`writes (seed `)
    expect(run.stdout).toContain(url)
    expect(run.stdout).toMatch(/10 started, 10 completed, 0 failed, 0 dropped/)
    expect(run.stdout).toMatch(/requests\.failed +│ +0 │ <= 0 +│ pass/)
  })

  test('a target where nothing listens: exit 3 naming the URL and what to do, before any load', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`
    const run = await runCli(['load', '--target', url, '--target', dead, '--duration', '1s'])
    expect(run.code).toBe(3)
    expect(run.stdout).toBe('')
    expect(run.stderr).toContain(`error PAYCTL_LOAD_TARGET_NOT_READY: No ready payment service at 1 of 2 load targets (from --target):\n  ${dead}: nothing answers (ECONNREFUSED)`)
    expect(run.stderr).toContain('next: Start the payment service: payctl sandbox up')
    expect(run.stderr).toContain('payctl runtime start')
    expect(run.stderr).not.toContain('load: checkout at')

    const asJson = parseJson<Failure>(await runCli(['load', '--target', dead, '--duration', '1s', '--json']))
    expect(asJson.status).toBe(3)
    expect(asJson.error.code).toBe('PAYCTL_LOAD_TARGET_NOT_READY')
  })

  test('a threshold that cannot pass (--p99-ms 0): exit 4, the report still printed and written', async () => {
    const junit = path.join(work, 'p99.xml')
    const run = await runCli(['load', '--target', url, '--duration', '1s', '--rate', '5', '--p99-ms', '0', '--junit', junit, '--json'])
    expect(run.code, run.stderr).toBe(4)
    const json = parseJson<Failure>(run)
    expect(json.status).toBe(4)
    expect(json.error.code).toBe('PAYCTL_LOAD_THRESHOLD')
    expect(json.error.message).toMatch(/^1 of 3 load thresholds failed: latency\.p99 = [\d.]+ \(expected <= 0 ms\)\.$/)
    const report = json.error.data?.report
    expect(report?.passed).toBe(false)
    expect(report?.result.iterations).toMatchObject({started: 5, completed: 5, failed: 0})
    expect(report?.thresholds.map((t) => [t.metric, t.pass])).toEqual([
      ['requests.failed', true],
      ['latency.p99', false],
      ['iterations.dropped', true],
    ])
    const xml = await readFile(junit, 'utf8')
    expect(xml).toContain('tests="3" failures="1"')
    expect(xml).toMatch(/<failure message="latency\.p99 = [\d.]+, expected &lt;= 0 ms">/)
  })

  test('a bad flag value is a usage error (exit 2)', async () => {
    const run = await runCli(['load', '--target', url, '--duration', '0s'])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--duration must be a duration above zero (got "0s")')
  })

  test('run until stopped: SIGINT stops scheduling, in-flight iterations finish, the result is printed, exit 0', async () => {
    const before = await postsServed()
    const cli = startCli(['load', '--target', url, '--rate', '20', '--json'])
    await cli.waitForStderr(/load: checkout at 20\/s/, 30_000)
    await waitForPosts(before, 20)
    cli.child.kill('SIGINT')
    const run = await cli.done
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('received SIGINT')
    const r = parseJson<Success>(run).result
    expect(r.passed).toBe(true)
    expect(r.result.stopReason).toBe('stopped')
    // nothing was cut short: every started iteration ran to its end
    expect(r.result.iterations.interrupted).toBe(0)
    expect(r.result.iterations.completed).toBe(r.result.iterations.started)
    expect(r.result.requests).toMatchObject({failed: 0, aborted: 0})
    expect(r.result.requests.total).toBeGreaterThan(0)
  })

  test('a --duration run cut short by SIGTERM: exit 130, with the report of what ran', async () => {
    const before = await postsServed()
    const out = path.join(work, 'cut-short.json')
    const cli = startCli(['load', '--target', url, '--rate', '20', '--duration', '2m', '--out', out, '--json'])
    await cli.waitForStderr(/load: checkout at 20\/s/, 30_000)
    await waitForPosts(before, 20)
    cli.child.kill('SIGTERM')
    const run = await cli.done
    expect(run.code, run.stderr).toBe(130)
    const json = parseJson<Failure>(run)
    expect(json.error.code).toBe('PAYCTL_INTERRUPTED')
    expect(json.error.message).toMatch(/^Interrupted after .* of the 2m00s asked/)
    expect(json.error.data?.report?.result.stopReason).toBe('stopped')
    expect(JSON.parse(await readFile(out, 'utf8'))).toEqual(json.error.data?.report)
  })
})
