/**
 * npm run bench:cutover — the write pause of payctl's write flip under checkout load.
 *
 * On a private sandbox (own temporary folder, OS-chosen ports, two instances of the payment
 * service): provision, `payctl replicate --detach`, reads moved to the target (routing only), then
 * for each rate (default 100 and 300 requests/s of the `checkout` scenario) 10 write flips to the
 * target, each followed by the flip back to the source (payctl rollback's path), and reports per
 * direction the pause payctl measured (from the pause version's commit to the flip version's
 * commit) as p50 and max, the pause's phases, and what the load saw: failed requests, dropped
 * iterations and its latency (a request held at an instance's write gate waits out the pause).
 *
 * The request rate is converted to iterations/s with the requests per iteration of a 5-second
 * warm-up at the same rate (a checkout makes several requests).
 *
 *   npm run bench:cutover
 *   npm run bench:cutover -- --rates 100,300 --flips 10 --scale 0.05 --budget-ms 2000
 */
import {spawn} from 'node:child_process'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {cpus, tmpdir, totalmem} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadConfig} from '../../src/config/index.js'
import {openCutoverEnv, pollUntil} from '../../src/cutover/env.js'
import {flipWrites, replicationProcess} from '../../src/cutover/flip.js'
import type {FlipMeasurement} from '../../src/control/cutover-store.js'
import {type LoadResult, startLoad} from '../../src/load/generator.js'
import {checkoutScenario} from '../../src/load/scenarios.js'
import {sandboxDown, sandboxUp} from '../../src/sandbox/index.js'

const ROOT = path.resolve(import.meta.dirname, '../..')

const {values: flags} = parseArgs({
  options: {
    rates: {type: 'string', default: process.env.PAYCTL_BENCH_RATES ?? '100,300'},
    flips: {type: 'string', default: process.env.PAYCTL_BENCH_FLIPS ?? '10'},
    scale: {type: 'string', default: process.env.PAYCTL_BENCH_SCALE ?? '0.05'},
    'budget-ms': {type: 'string', default: '2000'},
    out: {type: 'string', default: path.join(ROOT, 'reports/bench-cutover.json')},
    'no-build': {type: 'boolean', default: false},
    keep: {type: 'boolean', default: false},
  },
})

const log = (m: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`)
}

function runCli(args: string[], configPath: string): Promise<{code: number | null; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/run.js'), ...args, '--config', configPath], {cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({code, stderr}))
  })
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? Number.NaN
}

interface RateResult {
  requestsPerSecond: number
  iterationsPerSecond: number
  requestsPerIteration: number
  flips: {toTarget: FlipMeasurement[]; toSource: FlipMeasurement[]}
  pauseMs: {toTarget: {p50: number; max: number}; toSource: {p50: number; max: number}; all: {p50: number; max: number}}
  load: {requests: number; failed: number; dropped: number; achievedRequestsPerSecond: number; p50Ms: number; p99Ms: number; maxMs: number; failedByKind: Record<string, number>}
}

async function main(): Promise<void> {
  const rates = flags.rates.split(',').map((r) => Number(r.trim()))
  const flips = Number(flags.flips)
  const budgetMs = Number(flags['budget-ms'])
  if (!flags['no-build']) {
    log('building dist/ and dist-runtime/')
    const code = await new Promise<number | null>((resolve) => spawn('npm', ['run', 'build'], {cwd: ROOT, stdio: 'ignore'}).on('close', resolve))
    if (code !== 0) throw new Error('npm run build failed')
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'payctl-bench-cutover-'))
  const stop = new AbortController()
  process.once('SIGINT', () => stop.abort())
  try {
    log(`sandbox up in ${dir} (scale ${flags.scale}, two runtime instances)`)
    const state = await sandboxUp({dir, scale: Number(flags.scale), seed: 1, ports: {legacy: 0, target: 0}, runtimeInstances: 2, runtimeBasePort: 0})
    const configPath = state.configPath ?? path.join(dir, 'payctl.yaml')
    const targets = (state.runtime?.instances ?? []).map((i) => `http://${i.host}:${i.port}`)
    if (targets.length === 0) throw new Error('the sandbox started no runtime instance')
    for (const step of [['provision'], ['replicate', '--detach']]) {
      const r = await runCli(step, configPath)
      if (r.code !== 0) throw new Error(`payctl ${step.join(' ')} failed: ${r.stderr}`)
    }
    const loaded = await loadConfig(configPath)
    const env = await openCutoverEnv(loaded)
    try {
      log('waiting for the copy and catch-up')
      if (!(await pollUntil(async () => {
        const p = await replicationProcess(env)
        const rows = await env.control<{n: number}>(`SELECT COUNT(*) AS n FROM payctl_control.replication_tables WHERE state <> 'replicating'`)
        return p.alive && Number(rows[0]?.n) === 0 && (p.lagSeconds ?? 99) < 1
      }, performance.now() + 600_000, 500))) throw new Error('replication did not catch up in 10 minutes')
      // a verify records where the flip's changed-row check starts
      const verified = await runCli(['verify'], configPath)
      if (verified.code !== 0) throw new Error(`payctl verify failed: ${verified.stderr}`)
      const now = await env.routing.current(env.control)
      await env.routing.set(env.control, now.version, {...now.desired, readsTargetPercent: 100, step: 'bench'}, env.actor, env.host, 'bench: reads on the target')
      const results: RateResult[] = []
      for (const rate of rates) {
        log(`warm-up at ${rate} requests/s to measure requests per iteration`)
        const warm = await startLoad({targets, ratePerSecond: rate / 4, durationMs: 5_000, maxInFlight: 500, scenario: checkoutScenario(), seed: 1, requestTimeoutMs: 15_000}).finished
        const rpi = warm.requests.total / Math.max(1, warm.iterations.started)
        const itps = rate / rpi
        log(`${rpi.toFixed(2)} requests per iteration: ${itps.toFixed(1)} iterations/s for ${rate} requests/s`)
        const run = startLoad({targets, ratePerSecond: itps, maxInFlight: 2000, scenario: checkoutScenario(), seed: 2, requestTimeoutMs: 15_000, signal: stop.signal})
        await new Promise((resolve) => setTimeout(resolve, 3_000))
        const toTarget: FlipMeasurement[] = []
        const toSource: FlipMeasurement[] = []
        for (let i = 0; i < flips && !stop.signal.aborted; i++) {
          for (const to of ['target', 'source'] as const) {
            const stream = to === 'target' ? 'forward' : 'reverse'
            // the replicate process switches direction within a poll; the next flip needs it running the new way
            await pollUntil(async () => {
              const p = await replicationProcess(env)
              return p.alive && p.direction === stream
            }, performance.now() + 30_000, 50)
            await new Promise((resolve) => setTimeout(resolve, 1_000))
            try {
              const r = await flipWrites(env, to, {budgetMs, holdMs: 2_000, leaseMs: 1_000, step: 'bench'})
              await env.cutover.update(env.control, (st) => ({...st, verifiedThrough: r.verifiedThrough}))
              ;(to === 'target' ? toTarget : toSource).push(r.measurement)
              log(`  flip ${i + 1} to the ${to}: ${r.measurement.pauseMs} ms (${Object.entries(r.measurement.phases).map(([k, v]) => `${k} ${v}`).join(', ')})`)
            } catch (err) {
              const m = (err as {measurement?: FlipMeasurement}).measurement
              if (m === undefined) throw err
              ;(to === 'target' ? toTarget : toSource).push(m)
              log(`  flip ${i + 1} to the ${to} REVERTED after ${m.pauseMs} ms: ${m.reason ?? ''}`)
            }
          }
        }
        const load: LoadResult = await run.stop()
        const p = (xs: FlipMeasurement[]) => ({p50: quantile(xs.map((x) => x.pauseMs), 0.5), max: Math.max(...xs.map((x) => x.pauseMs))})
        results.push({
          requestsPerSecond: rate,
          iterationsPerSecond: itps,
          requestsPerIteration: rpi,
          flips: {toTarget, toSource},
          pauseMs: {toTarget: p(toTarget), toSource: p(toSource), all: p([...toTarget, ...toSource])},
          load: {
            requests: load.requests.total,
            failed: load.requests.failed,
            dropped: load.iterations.dropped,
            achievedRequestsPerSecond: load.requests.total / (load.durationMs / 1000),
            p50Ms: load.latency.p50,
            p99Ms: load.latency.p99,
            maxMs: load.latency.max,
            failedByKind: load.requests.failedByKind,
          },
        })
      }
      const report = {at: new Date().toISOString(), machine: {cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30)}, scale: Number(flags.scale), budgetMs, flipsPerDirection: flips, results}
      await mkdir(path.dirname(flags.out), {recursive: true})
      await writeFile(flags.out, `${JSON.stringify(report, null, 2)}\n`)
      const lines = ['| requests/s (achieved) | flips | to target p50 / max | to source p50 / max | all p50 / max | reverted | load: failed, dropped, p99 / max latency |', '| --- | --- | --- | --- | --- | --- | --- |']
      for (const r of results) {
        const reverted = [...r.flips.toTarget, ...r.flips.toSource].filter((f) => f.outcome === 'reverted').length
        lines.push(
          `| ${r.requestsPerSecond} (${r.load.achievedRequestsPerSecond.toFixed(0)}) | ${r.flips.toTarget.length} + ${r.flips.toSource.length} | ${r.pauseMs.toTarget.p50.toFixed(0)} / ${r.pauseMs.toTarget.max.toFixed(0)} ms | ${r.pauseMs.toSource.p50.toFixed(0)} / ${r.pauseMs.toSource.max.toFixed(0)} ms | ${r.pauseMs.all.p50.toFixed(0)} / ${r.pauseMs.all.max.toFixed(0)} ms | ${reverted} | ${r.load.failed}, ${r.load.dropped}, ${r.load.p99Ms.toFixed(0)} / ${r.load.maxMs.toFixed(0)} ms |`,
        )
      }
      process.stdout.write(`${lines.join('\n')}\n\nFigures in ${path.relative(ROOT, flags.out)}\n`)
    } finally {
      await env.close()
    }
  } finally {
    if (flags.keep) log(`sandbox kept in ${dir}`)
    else {
      await sandboxDown({dir, purge: true}).catch(() => undefined)
      await rm(dir, {recursive: true, force: true})
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cutover failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
