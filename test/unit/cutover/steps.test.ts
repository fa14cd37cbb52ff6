import {Counter, Histogram, Registry} from 'prom-client'
import {describe, expect, it} from 'vitest'
import type {GatesConfig} from '../../../src/config/index.js'
import {applyDefaults} from '../../../src/config/index.js'
import type {Clock, ReplicationLag, TrafficWindow} from '../../../src/cutover/gates.js'
import {TrafficSampler} from '../../../src/cutover/gates.js'
import {parsePrometheusText} from '../../../src/cutover/prometheus.js'
import type {GatedStep, GateSample, StepTally} from '../../../src/cutover/steps.js'
import {evaluateStep, plannedSamples} from '../../../src/cutover/steps.js'

const CONFIG = applyDefaults({
  version: 1,
  source: {engine: 'sqlserver', host: 'a', user: 'u', database: 'P'},
  target: {engine: 'mysql', host: 'b', user: 'u', database: 'p'},
}).shift
const GATES: GatesConfig = CONFIG.gates
const READS_10: GatedStep = {...(CONFIG.steps[1] as GatedStep), holdMs: 30_000}

class FakeClock implements Clock {
  t = Date.UTC(2026, 0, 1, 3, 0, 0)
  readonly sleeps: number[] = []
  /** Runs on every sleep, after the time moved: traffic that arrives meanwhile. */
  onSleep: () => void = () => undefined
  now = (): number => this.t
  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    this.sleeps.push(ms)
    this.t += ms
    this.onSleep()
    return Promise.resolve()
  }
}

type Kind = 'pass' | 'fail' | 'inconclusive'

/** Windows whose figures make the sample pass, fail (error rate) or be inconclusive (too few requests). */
function scripted(clock: FakeClock, outcomes: Kind[], scrapeMs = 0) {
  let last = clock.now()
  const calls = {baseline: 0, sample: 0}
  const sampler = {
    baseline: () => {
      calls.baseline++
      last = clock.now()
      return Promise.resolve()
    },
    sample: (): Promise<TrafficWindow> => {
      clock.t += scrapeMs
      const kind = outcomes[calls.sample++] ?? 'pass'
      const end = clock.now()
      const w: TrafficWindow = {
        startedAt: last,
        endedAt: end,
        windowMs: end - last,
        requests: kind === 'inconclusive' ? 3 : 1_000,
        serverErrors: kind === 'fail' ? 50 : 0,
        latency: {
          source: {statements: 1_000, buckets: [{le: 0.01, count: 1_000}, {le: Infinity, count: 1_000}]},
          target: {statements: 100, buckets: [{le: 0.01, count: 100}, {le: Infinity, count: 100}]},
        },
        shadow: {matched: 100, mismatched: 0, errors: 0},
        instances: [{instanceId: 'rt-a', url: 'http://127.0.0.1:18080', status: 'counted'}],
        incomplete: [],
      }
      last = end
      return Promise.resolve(w)
    },
  }
  return {sampler, calls}
}

const lag = (): Promise<ReplicationLag> => Promise.resolve({forwardSeconds: 0.5, reverseSeconds: null})

describe('evaluateStep', () => {
  it('plans one sample per interval of the hold, and at least one', () => {
    expect([plannedSamples(30_000, 5_000), plannedSamples(31_000, 5_000), plannedSamples(0, 5_000), plannedSamples(1_000, 5_000)]).toEqual([6, 7, 1, 1])
  })

  it('passes a step held for its time within the limits, without real waiting', async () => {
    const clock = new FakeClock()
    const {sampler, calls} = scripted(clock, [])
    const started = Date.now()
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(Date.now() - started).toBeLessThan(1_000)
    expect(calls).toEqual({baseline: 1, sample: 6})
    expect(clock.sleeps).toEqual([5_000, 5_000, 5_000, 5_000, 5_000, 5_000])
    expect(r).toMatchObject({
      step: 'reads-10',
      kind: 'reads',
      outcome: 'pass',
      reason: 'step "reads-10" held 30 s: 6 of 6 samples passed',
      startedAt: '2026-01-01T03:00:00.000Z',
      endedAt: '2026-01-01T03:00:30.000Z',
      holdMs: 30_000,
      samplesPlanned: 6,
      samplesTaken: 6,
      passed: 6,
      failed: 0,
      inconclusive: 0,
      failureLimit: 1,
      inconclusiveLimit: 2,
      deciding: [],
    })
    expect(r.samples.map((s) => [s.index, s.outcome, s.windowMs])).toEqual([1, 2, 3, 4, 5, 6].map((i) => [i, 'pass', 5_000]))
    expect(r.samples[0]).toMatchObject({step: 'reads-10', startedAt: '2026-01-01T03:00:00.000Z', endedAt: '2026-01-01T03:00:05.000Z', traffic: {requests: 1_000, statements: {source: 1_000, target: 100}}, lag: {forwardSeconds: 0.5, reverseSeconds: null}})
  })

  it('tolerates failureLimit failed samples and fails at the next one, at once', async () => {
    const clock = new FakeClock()
    const {sampler, calls} = scripted(clock, ['pass', 'fail', 'pass', 'fail', 'pass', 'pass'])
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(calls.sample).toBe(4)
    expect(r).toMatchObject({outcome: 'fail', samplesTaken: 4, passed: 2, failed: 2, inconclusive: 0})
    expect(r.deciding.map((g) => [g.gate, g.outcome])).toEqual([['errorRate', 'fail']])
    expect(r.reason).toBe('step "reads-10" failed: 2 failed samples of 4 taken, more than failureLimit 1: error rate 5% (50 of 1,000 requests) > 1% over the last 5 s')
  })

  it('fails at the first failed sample with failureLimit 0', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, ['fail'])
    const r = await evaluateStep({step: READS_10, gates: {...GATES, failureLimit: 0}, sampler, lag, clock})
    expect(r).toMatchObject({outcome: 'fail', samplesTaken: 1})
  })

  it('passes with a tolerated failure, and says so', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, ['pass', 'fail', 'inconclusive'])
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(r.outcome).toBe('pass')
    expect(r.reason).toBe('step "reads-10" held 30 s: 4 of 6 samples passed (1 failed, 1 inconclusive, within the limits)')
  })

  it('is inconclusive past inconclusiveLimit samples without a verdict', async () => {
    const clock = new FakeClock()
    const {sampler, calls} = scripted(clock, ['inconclusive', 'pass', 'inconclusive', 'inconclusive'])
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(calls.sample).toBe(4)
    expect(r).toMatchObject({outcome: 'inconclusive', inconclusive: 3, passed: 1})
    expect(r.deciding.map((g) => g.gate)).toEqual(['errorRate'])
    expect(r.reason).toBe(
      'step "reads-10" is inconclusive: 3 samples without a verdict of 4 taken, more than inconclusiveLimit 2: error rate: 3 requests over the last 5 s, fewer than the 20 a sample needs (minRequests)',
    )
  })

  it('does not pass a step none of whose samples passed, even within the limits', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, ['inconclusive'])
    const r = await evaluateStep({step: {...READS_10, holdMs: 5_000}, gates: GATES, sampler, lag, clock})
    expect(r).toMatchObject({outcome: 'inconclusive', samplesTaken: 1, inconclusive: 1})
    expect(r.reason).toBe('step "reads-10" is inconclusive: none of its 1 sample passed: error rate: 3 requests over the last 5 s, fewer than the 20 a sample needs (minRequests)')
  })

  it('takes one sample in a step held for 0 s', async () => {
    const clock = new FakeClock()
    const {sampler, calls} = scripted(clock, [])
    const r = await evaluateStep({step: {...READS_10, holdMs: 0}, gates: GATES, sampler, lag, clock})
    expect(calls.sample).toBe(1)
    expect(clock.sleeps).toEqual([5_000])
    expect(r.outcome).toBe('pass')
  })

  it('keeps samples on a fixed schedule when scrapes are slow', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, [], 1_500)
    const r = await evaluateStep({step: {...READS_10, holdMs: 15_000}, gates: GATES, sampler, lag, clock})
    expect(clock.sleeps).toEqual([5_000, 3_500, 3_500])
    expect(r.samples.map((s) => s.windowMs)).toEqual([6_500, 5_000, 5_000])
  })

  it('treats a lag that cannot be read as unknown: the lag gate is inconclusive', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, [])
    const r = await evaluateStep({step: {...READS_10, holdMs: 5_000}, gates: GATES, sampler, lag: () => Promise.reject(new Error('control store unreachable')), clock})
    expect(r.outcome).toBe('inconclusive')
    expect(r.deciding).toEqual([expect.objectContaining({gate: 'forwardLagSeconds', reason: 'forward replication lag (source -> target) is unknown (could not be read: control store unreachable)'})])
  })

  it('reports each sample with the counts so far', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, ['pass', 'fail', 'pass'])
    const seen: [number, StepTally][] = []
    await evaluateStep({step: {...READS_10, holdMs: 15_000}, gates: GATES, sampler, lag, clock, onSample: (s: GateSample, t) => seen.push([s.index, t])})
    expect(seen).toEqual([
      [1, {samplesPlanned: 3, passed: 1, failed: 0, inconclusive: 0}],
      [2, {samplesPlanned: 3, passed: 1, failed: 1, inconclusive: 0}],
      [3, {samplesPlanned: 3, passed: 2, failed: 1, inconclusive: 0}],
    ])
  })

  it('stops with the abort reason and takes no further sample', async () => {
    const clock = new FakeClock()
    const {sampler, calls} = scripted(clock, [])
    const controller = new AbortController()
    clock.onSleep = () => {
      if (clock.sleeps.length === 2) controller.abort(new Error('Interrupted by SIGINT'))
    }
    await expect(evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock, signal: controller.signal})).rejects.toThrow('Interrupted by SIGINT')
    expect(calls.sample).toBe(1)
  })

  it('returns plain JSON', async () => {
    const clock = new FakeClock()
    const {sampler} = scripted(clock, ['fail', 'fail'])
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
  })
})

describe('evaluateStep over real prom-client metrics', () => {
  /** Two runtime instances; traffic arrives while the clock sleeps. */
  function runtime() {
    const make = () => {
      const registry = new Registry()
      return {
        registry,
        requests: new Counter({name: 'http_requests_total', help: 'r', labelNames: ['method', 'route', 'status'] as const, registers: [registry]}),
        db: new Histogram({name: 'db_query_duration_seconds', help: 'd', labelNames: ['side', 'op'] as const, buckets: [0.001, 0.01, 0.1, 0.25, 1], registers: [registry]}),
        shadow: new Counter({name: 'payctl_shadow_reads_total', help: 's', labelNames: ['result'] as const, registers: [registry]}),
      }
    }
    const instances = new Map([
      ['rt-a', make()],
      ['rt-b', make()],
    ])
    const clock = new FakeClock()
    const sampler = new TrafficSampler(
      () => Promise.resolve([...instances.keys()].map((id) => ({instanceId: id, url: `http://${id}`}))),
      async (t) => parsePrometheusText(await (instances.get(t.instanceId)?.registry.metrics() ?? Promise.reject(new Error('gone')))),
      clock,
    )
    const traffic = (errorsPerInstance: number) => {
      for (const i of instances.values()) {
        i.requests.inc({method: 'GET', route: '/v1/payment_intents/:id', status: '200'}, 200)
        if (errorsPerInstance > 0) i.requests.inc({method: 'POST', route: '/v1/payment_intents', status: '503'}, errorsPerInstance)
        for (let k = 0; k < 50; k++) i.db.observe({side: 'source', op: 'q'}, 0.004)
        for (let k = 0; k < 25; k++) i.db.observe({side: 'target', op: 'q'}, 0.006)
        i.shadow.inc({result: 'match'}, 20)
      }
    }
    return {instances, clock, sampler, traffic, make}
  }

  it('passes under healthy traffic and fails when errors come in twice', async () => {
    const {clock, sampler, traffic} = runtime()
    clock.onSleep = () => traffic(0)
    const ok = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(ok.outcome).toBe('pass')
    expect(ok.samples[0]?.traffic).toEqual({requests: 400, serverErrors: 0, statements: {source: 100, target: 50}, shadow: {matched: 40, mismatched: 0, errors: 0}})

    let n = 0
    clock.onSleep = () => traffic(++n >= 3 ? 20 : 0)
    const bad = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(bad).toMatchObject({outcome: 'fail', samplesTaken: 4, failed: 2})
    expect(bad.deciding[0]?.reason).toBe('error rate 9.1% (40 of 440 requests) > 1% over the last 5 s')
  })

  it('counts an instance that restarted mid-step from zero, so the step still passes', async () => {
    const {instances, clock, sampler, traffic, make} = runtime()
    let n = 0
    clock.onSleep = () => {
      if (++n === 3) instances.set('rt-b', make())
      traffic(0)
    }
    const r = await evaluateStep({step: READS_10, gates: GATES, sampler, lag, clock})
    expect(r.outcome).toBe('pass')
    expect(r.samples[2]?.instances.map((i) => i.status)).toEqual(['counted', 'restarted'])
    expect(r.samples[2]?.traffic.requests).toBe(400)
  })
})
