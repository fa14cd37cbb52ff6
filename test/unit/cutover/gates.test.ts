import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {Counter, Histogram, Registry} from 'prom-client'
import {describe, expect, it} from 'vitest'
import type {GatesConfig} from '../../../src/config/index.js'
import {applyDefaults} from '../../../src/config/index.js'
import type {InstanceHeartbeat} from '../../../src/control/routing-store.js'
import type {Clock, GateContext, GateResult, ReplicationLag, ScrapeTarget, TrafficWindow} from '../../../src/cutover/gates.js'
import {evaluateGates, httpScraper, metricsUrl, percent, sampleOutcome, scrapeTargets, sideServes, TrafficSampler} from '../../../src/cutover/gates.js'
import type {Bucket} from '../../../src/cutover/prometheus.js'
import {parsePrometheusText} from '../../../src/cutover/prometheus.js'

const GATES: GatesConfig = applyDefaults({
  version: 1,
  source: {engine: 'sqlserver', host: 'a', user: 'u', database: 'P'},
  target: {engine: 'mysql', host: 'b', user: 'u', database: 'p'},
}).shift.gates

const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

/** One runtime instance's metrics, as runtime/src/http/metrics.ts registers them, plus shadow reads. */
class FakeInstance {
  readonly registry = new Registry()
  readonly requests = new Counter({name: 'http_requests_total', help: 'r', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry]})
  readonly db = new Histogram({name: 'db_query_duration_seconds', help: 'd', labelNames: ['side', 'op'] as const, buckets: DB_BUCKETS, registers: [this.registry]})
  readonly shadow = new Counter({name: 'payctl_shadow_reads_total', help: 's', labelNames: ['result'] as const, registers: [this.registry]})

  serve(ok: number, errors = 0, status = '503'): void {
    if (ok > 0) this.requests.inc({method: 'GET', route: '/v1/payment_intents/:id', status: '200'}, ok)
    if (errors > 0) this.requests.inc({method: 'POST', route: '/v1/payment_intents', status}, errors)
  }

  statements(side: 'source' | 'target', n: number, seconds: number): void {
    for (let i = 0; i < n; i++) this.db.observe({side, op: 'intentByPublicId'}, seconds)
  }
}

class FakeClock implements Clock {
  t = Date.UTC(2026, 0, 1)
  now = (): number => this.t
  sleep = (ms: number): Promise<void> => {
    this.t += ms
    return Promise.resolve()
  }
}

/** A sampler over fake instances: `live` is what the control store lists, `down` what does not answer. */
function fixture() {
  const clock = new FakeClock()
  const instances = new Map<string, FakeInstance>()
  const live = new Set<string>()
  const down = new Set<string>()
  const stale = new Set<string>()
  let listError: Error | null = null
  const add = (id: string): FakeInstance => {
    const i = new FakeInstance()
    instances.set(id, i)
    live.add(id)
    return i
  }
  const sampler = new TrafficSampler(
    () => (listError ? Promise.reject(listError) : Promise.resolve([...live].map((id) => ({instanceId: id, url: `http://${id}:18080`, ...(stale.has(id) ? {stale: true} : {})})))),
    async (target: ScrapeTarget) => {
      if (down.has(target.instanceId)) throw new Error('no answer within 2000 ms')
      const i = instances.get(target.instanceId)
      if (!i) throw new Error('fetch failed (ECONNREFUSED)')
      return parsePrometheusText(await i.registry.metrics())
    },
    clock,
  )
  const next = async (ms = 5_000): Promise<TrafficWindow> => {
    clock.t += ms
    return sampler.sample()
  }
  return {clock, instances, live, down, stale, add, sampler, next, failList: (e: Error | null) => (listError = e)}
}

function buckets(observations: [number, number][]): Bucket[] {
  return [...DB_BUCKETS, Infinity].map((le) => ({le, count: observations.filter(([s]) => s <= le).reduce((n, [, c]) => n + c, 0)}))
}

function window(parts: Partial<TrafficWindow> = {}): TrafficWindow {
  return {
    startedAt: 0,
    endedAt: 5_000,
    windowMs: 5_000,
    requests: 1_000,
    serverErrors: 0,
    latency: {
      source: {statements: 2_000, buckets: buckets([[0.004, 2_000]])},
      target: {statements: 500, buckets: buckets([[0.004, 500]])},
    },
    shadow: {matched: 100, mismatched: 0, errors: 0},
    instances: [],
    incomplete: [],
    ...parts,
  }
}

const BEFORE_FLIP: GateContext = {readsTargetPercent: 10, shadowPercent: 10, writes: 'source'}
const AFTER_FLIP: GateContext = {readsTargetPercent: 100, shadowPercent: 0, writes: 'target'}
const LAG: ReplicationLag = {forwardSeconds: 0.4, reverseSeconds: 0.2}

const gate = (results: GateResult[], name: GateResult['gate'], side?: string): GateResult => {
  const r = results.find((x) => x.gate === name && x.side === side)
  if (!r) throw new Error(`no ${name} result`)
  return r
}

describe('TrafficSampler', () => {
  it('sums the growth of every live instance between two scrapes', async () => {
    const f = fixture()
    const a = f.add('rt-a')
    const b = f.add('rt-b')
    a.serve(500)
    await f.sampler.baseline()
    a.serve(900, 20)
    b.serve(360, 1, '500')
    b.serve(0, 7, '404')
    a.statements('source', 30, 0.004)
    b.statements('target', 10, 0.2)
    a.shadow.inc({result: 'match'}, 40)
    b.shadow.inc({result: 'mismatch'}, 2)
    b.shadow.inc({result: 'error'}, 1)
    const w = await f.next()
    expect(w).toMatchObject({windowMs: 5_000, requests: 1_288, serverErrors: 21, shadow: {matched: 40, mismatched: 2, errors: 1}, incomplete: []})
    expect(w.latency.source.statements).toBe(30)
    expect(w.latency.target.statements).toBe(10)
    expect(w.instances).toEqual([
      {instanceId: 'rt-a', url: 'http://rt-a:18080', status: 'counted'},
      {instanceId: 'rt-b', url: 'http://rt-b:18080', status: 'counted'},
    ])
    // the next window holds only what came after
    a.serve(10)
    expect(await f.next()).toMatchObject({requests: 10, serverErrors: 0})
  })

  it('counts a restarted instance from zero', async () => {
    const f = fixture()
    f.add('rt-a').serve(1_000)
    await f.sampler.baseline()
    // same instance id, a new process: its counters start again
    f.instances.set('rt-a', new FakeInstance())
    f.instances.get('rt-a')?.serve(50, 5)
    const w = await f.next()
    expect(w).toMatchObject({requests: 55, serverErrors: 5, incomplete: []})
    expect(w.instances[0]?.status).toBe('restarted')
  })

  it('takes an instance that joined as a baseline and says the window misses it', async () => {
    const f = fixture()
    f.add('rt-a')
    await f.sampler.baseline()
    f.add('rt-b').serve(100, 100)
    const w = await f.next()
    expect(w.requests).toBe(0)
    expect(w.instances.map((i) => i.status)).toEqual(['counted', 'joined'])
    expect(w.incomplete).toEqual(['instance rt-b joined during the window; it is counted from the next one'])
    f.instances.get('rt-b')?.serve(3)
    expect(await f.next()).toMatchObject({requests: 3, incomplete: []})
  })

  it('marks a live instance that does not answer, and counts its gap in the next window that reaches it', async () => {
    const f = fixture()
    const a = f.add('rt-a')
    await f.sampler.baseline()
    a.serve(100)
    f.down.add('rt-a')
    const w = await f.next()
    expect(w.instances).toEqual([{instanceId: 'rt-a', url: 'http://rt-a:18080', status: 'failed', error: 'no answer within 2000 ms'}])
    expect(w.incomplete).toEqual(['instance rt-a could not be scraped (no answer within 2000 ms)'])
    f.down.delete('rt-a')
    a.serve(20)
    expect(await f.next()).toMatchObject({requests: 120, incomplete: []})
  })

  it('still asks an instance that left, counting it if it answers and flagging the window if not', async () => {
    const f = fixture()
    const a = f.add('rt-a')
    const b = f.add('rt-b')
    await f.sampler.baseline()
    a.serve(10)
    b.serve(5)
    f.live.delete('rt-b') // stopping: gone from the list, still answering
    const w = await f.next()
    expect(w).toMatchObject({requests: 15, incomplete: []})
    f.add('rt-c')
    f.live.delete('rt-a')
    f.down.add('rt-a') // crashed
    const w2 = await f.next()
    expect(w2.instances.map((i) => [i.instanceId, i.status])).toEqual([
      ['rt-c', 'joined'],
      ['rt-a', 'left'],
    ])
    expect(w2.incomplete).toEqual(['instance rt-c joined during the window; it is counted from the next one', 'instance rt-a left during the window and its last requests could not be counted'])
  })

  it('counts an instance that serves without heartbeating (cut off from the control store), and the window cannot pass', async () => {
    const f = fixture()
    const a = f.add('rt-a')
    const b = f.add('rt-b')
    await f.sampler.baseline()
    f.stale.add('rt-b')
    a.serve(10)
    b.serve(5, 5)
    const w = await f.next()
    expect(w).toMatchObject({requests: 20, serverErrors: 5})
    expect(w.incomplete).toEqual(['instance rt-b answers but has stopped heartbeating (cut off from the control store: it has fenced itself)'])
    b.serve(0, 3)
    expect(await f.next()).toMatchObject({requests: 3, serverErrors: 3})
  })

  it('reports an unreadable instance list and an empty one as incomplete windows, never as quiet ones', async () => {
    const f = fixture()
    await f.sampler.baseline()
    expect((await f.next()).incomplete).toEqual(['no runtime instance is live (none heartbeats in the control store)'])
    f.failList(new Error('connect ETIMEDOUT'))
    expect((await f.next()).incomplete).toEqual(['the list of live runtime instances could not be read: connect ETIMEDOUT'])
  })

  it('scrapes real instances over HTTP, and reports one that publishes no URL', async () => {
    const instance = new FakeInstance()
    const server = createServer((req, res) => {
      if (req.url === '/metrics') void instance.registry.metrics().then((text) => res.writeHead(200, {'content-type': instance.registry.contentType}).end(text))
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
      const sampler = new TrafficSampler(
        () => Promise.resolve([{instanceId: 'rt-a', url}, {instanceId: 'rt-x', url: null}]),
        httpScraper({timeoutMs: 2_000}),
      )
      instance.serve(10)
      await sampler.baseline()
      instance.serve(90, 10)
      instance.statements('target', 25, 0.02)
      const w = await sampler.sample()
      expect(w).toMatchObject({requests: 100, serverErrors: 10, latency: {target: {statements: 25}}})
      expect(w.instances).toEqual([
        {instanceId: 'rt-a', url, status: 'counted'},
        {instanceId: 'rt-x', url: null, status: 'failed', error: 'it publishes no URL in its heartbeat'},
      ])
      expect(w.incomplete).toEqual(['instance rt-x could not be scraped (it publishes no URL in its heartbeat)'])
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })

  it('scrapes the live instances of the heartbeat list at <url>/metrics', () => {
    const hb = (id: string, ageMs: number, url: string | null): InstanceHeartbeat => ({
      instanceId: id,
      host: 'h',
      pid: 1,
      appliedVersion: 3,
      lastSeenAt: '',
      ageMs,
      startedAt: '',
      detail: url === null ? null : {url, writes: 'source', readsTargetPercent: 0, shadowPercent: 0, inFlightWrites: 0, heldWrites: 0, fenced: false, lastReadAgeMs: 50, shadow: {matched: 0, mismatched: 0, errors: 0, examples: []}},
    })
    expect(scrapeTargets([hb('a', 200, 'http://127.0.0.1:18080/'), hb('b', 5_000, 'http://127.0.0.1:18081'), hb('c', 10, null)], 1_000)).toEqual([
      {instanceId: 'a', url: 'http://127.0.0.1:18080/'},
      // silent past lease + grace but listed: still asked, flagged (it may serve while cut off)
      {instanceId: 'b', url: 'http://127.0.0.1:18081', stale: true},
      {instanceId: 'c', url: null},
    ])
    expect(scrapeTargets([hb('old', 11 * 60_000, 'http://127.0.0.1:18082')], 1_000)).toEqual([])
    expect(metricsUrl('http://127.0.0.1:18080/')).toBe('http://127.0.0.1:18080/metrics')
    expect(metricsUrl('http://lb.internal/rt-1')).toBe('http://lb.internal/rt-1/metrics')
  })
})

describe('error rate gate', () => {
  it('passes at or under the limit', () => {
    const r = gate(evaluateGates(window({requests: 1_000, serverErrors: 10}), LAG, BEFORE_FLIP, GATES), 'errorRate')
    expect(r).toMatchObject({outcome: 'pass', observed: 0.01, count: 10, of: 1_000, max: 0.01, unit: 'ratio', condition: '<= 1%', windowMs: 5_000})
    expect(r.reason).toBe('error rate 1% (10 of 1,000 requests) <= 1% over the last 5 s')
  })

  it('fails over the limit, naming the metric, the value, the condition and the window', () => {
    const r = gate(evaluateGates(window({requests: 1_280, serverErrors: 41}), LAG, BEFORE_FLIP, GATES), 'errorRate')
    expect(r.outcome).toBe('fail')
    expect(r.reason).toBe('error rate 3.2% (41 of 1,280 requests) > 1% over the last 5 s')
    expect(r.metric).toBe('sum(increase(http_requests_total{status=~"5.."})) / sum(increase(http_requests_total))')
  })

  it('is inconclusive with fewer requests than minRequests, however clean they are', () => {
    const r = gate(evaluateGates(window({requests: 12, serverErrors: 0}), LAG, BEFORE_FLIP, GATES), 'errorRate')
    expect(r).toMatchObject({outcome: 'inconclusive', observed: 0, count: 0, of: 12})
    expect(r.reason).toBe('error rate: 12 requests over the last 5 s, fewer than the 20 a sample needs (minRequests)')
    expect(gate(evaluateGates(window({requests: 0}), LAG, BEFORE_FLIP, GATES), 'errorRate')).toMatchObject({outcome: 'inconclusive', observed: null})
  })

  it('fails on few requests when the errors alone break the limit', () => {
    const r = gate(evaluateGates(window({requests: 15, serverErrors: 15}), LAG, BEFORE_FLIP, GATES), 'errorRate')
    expect(r.outcome).toBe('fail')
    expect(r.reason).toBe('error rate 100% (15 of 15 requests) > 1% over the last 5 s, even counting the requests short of minRequests (20) as successes')
  })

  it('does not pass on a window that misses live traffic, but still fails on it', () => {
    const incomplete = ['instance rt-b could not be scraped (no answer within 2000 ms)']
    const pass = gate(evaluateGates(window({incomplete}), LAG, BEFORE_FLIP, GATES), 'errorRate')
    expect(pass.outcome).toBe('inconclusive')
    expect(pass.reason).toBe('error rate 0% (0 of 1,000 requests) <= 1% over the last 5 s, but not a pass: instance rt-b could not be scraped (no answer within 2000 ms)')
    expect(gate(evaluateGates(window({incomplete, serverErrors: 500}), LAG, BEFORE_FLIP, GATES), 'errorRate').outcome).toBe('fail')
  })

  it('counts every 5xx and nothing else as an error', async () => {
    const f = fixture()
    const a = f.add('rt-a')
    await f.sampler.baseline()
    a.serve(100)
    for (const status of ['400', '404', '409', '429', '499']) a.serve(0, 10, status)
    for (const status of ['500', '502', '503', '504']) a.serve(0, 1, status)
    const w = await f.next()
    expect([w.requests, w.serverErrors]).toEqual([154, 4])
  })
})

describe('p99 gate', () => {
  it('passes per side at or under the limit', () => {
    const results = evaluateGates(window(), LAG, BEFORE_FLIP, GATES)
    const source = gate(results, 'p99Ms', 'source')
    expect(source).toMatchObject({outcome: 'pass', unit: 'ms', max: 250, of: 2_000, count: null})
    expect(source.observed).toBeCloseTo(4.975) // 2.5 + 2.5 * 1,980/2,000
    expect(source.reason).toBe('source p99 DB statement latency 4.98 ms (2,000 statements) <= 250 ms over the last 5 s')
    expect(gate(results, 'p99Ms', 'target').outcome).toBe('pass')
  })

  it('fails the side that is slow, interpolating inside the bucket', () => {
    const slow = window({
      latency: {
        source: {statements: 2_000, buckets: buckets([[0.004, 2_000]])},
        target: {
          statements: 1_000,
          buckets: buckets([
            [0.004, 900],
            [0.5, 100],
          ]),
        },
      },
    })
    const results = evaluateGates(slow, LAG, BEFORE_FLIP, GATES)
    expect(gate(results, 'p99Ms', 'source').outcome).toBe('pass')
    const target = gate(results, 'p99Ms', 'target')
    expect(target.outcome).toBe('fail')
    // rank 990 of 1,000 in (0.25, 1]: 0.25 + 0.75 * 90/100
    expect(target.observed).toBeCloseTo(925)
    expect(target.reason).toBe('target p99 DB statement latency 925 ms (1,000 statements) > 250 ms over the last 5 s')
    expect(target.metric).toBe('histogram_quantile(0.99, sum by (le) (increase(db_query_duration_seconds_bucket{side="target"})))')
  })

  it('is inconclusive with fewer statements than minRequests', () => {
    const few = window({latency: {source: {statements: 2_000, buckets: buckets([[0.004, 2_000]])}, target: {statements: 5, buckets: buckets([[0.004, 5]])}}})
    const r = gate(evaluateGates(few, LAG, BEFORE_FLIP, GATES), 'p99Ms', 'target')
    expect(r).toMatchObject({outcome: 'inconclusive', observed: null, of: 5})
    expect(r.reason).toBe('target p99 DB statement latency: 5 statements over the last 5 s, fewer than the 20 a sample needs (minRequests)')
  })

  it('cannot pass when the p99 is above the highest bucket, but fails when that bucket is already over the limit', () => {
    const overflow = window({latency: {source: {statements: 100, buckets: buckets([[5, 100]])}, target: {statements: 100, buckets: buckets([[0.004, 100]])}}})
    expect(gate(evaluateGates(overflow, LAG, BEFORE_FLIP, GATES), 'p99Ms', 'source')).toMatchObject({
      outcome: 'fail',
      observed: 1_000,
      reason: 'source p99 DB statement latency >= 1,000 ms (100 statements) > 250 ms over the last 5 s',
    })
    const r = gate(evaluateGates(overflow, LAG, BEFORE_FLIP, {...GATES, p99Ms: 2_000}), 'p99Ms', 'source')
    expect(r.outcome).toBe('inconclusive')
    expect(r.reason).toBe("source p99 DB statement latency >= 1,000 ms (100 statements) over the last 5 s: above the histogram's highest bucket (1,000 ms), so it cannot show <= 2,000 ms")
  })

  it('skips a side that serves no statements in the step', () => {
    const r = gate(evaluateGates(window(), LAG, AFTER_FLIP, GATES), 'p99Ms', 'source')
    expect(r).toMatchObject({outcome: 'skipped', observed: null, reason: 'source p99 DB statement latency: skipped, the source serves no statements in this step'})
    const before = gate(evaluateGates(window(), LAG, {readsTargetPercent: 0, shadowPercent: 0, writes: 'source'}, GATES), 'p99Ms', 'target')
    expect(before.outcome).toBe('skipped')
  })

  it.each<[GateContext, boolean, boolean]>([
    [{readsTargetPercent: 0, shadowPercent: 0, writes: 'source'}, true, false],
    [{readsTargetPercent: 0, shadowPercent: 10, writes: 'source'}, true, true],
    [{readsTargetPercent: 50, shadowPercent: 0, writes: 'source'}, true, true],
    [{readsTargetPercent: 100, shadowPercent: 0, writes: 'source'}, true, true],
    [{readsTargetPercent: 100, shadowPercent: 0, writes: 'target'}, false, true],
    [{readsTargetPercent: 100, shadowPercent: 5, writes: 'target'}, true, true],
  ])('sides that serve statements under %j: source %s, target %s', (c, source, target) => {
    expect([sideServes('source', c), sideServes('target', c)]).toEqual([source, target])
  })
})

describe('shadow mismatch gate', () => {
  it('passes, fails and is inconclusive on the compared reads', () => {
    const pass = gate(evaluateGates(window({shadow: {matched: 2_000, mismatched: 1, errors: 0}}), LAG, BEFORE_FLIP, GATES), 'shadowMismatchRate')
    expect(pass).toMatchObject({outcome: 'pass', count: 1, of: 2_001})
    expect(pass.reason).toBe('shadow mismatch rate 0.05% (1 of 2,001 compared reads) <= 0.1% over the last 5 s')

    const fail = gate(evaluateGates(window({shadow: {matched: 95, mismatched: 5, errors: 3}}), LAG, BEFORE_FLIP, GATES), 'shadowMismatchRate')
    expect(fail.outcome).toBe('fail')
    expect(fail.reason).toBe('shadow mismatch rate 5% (5 of 100 compared reads; 3 more could not be compared) > 0.1% over the last 5 s')

    const few = gate(evaluateGates(window({shadow: {matched: 4, mismatched: 0, errors: 9}}), LAG, BEFORE_FLIP, GATES), 'shadowMismatchRate')
    expect(few.outcome).toBe('inconclusive')
    expect(few.reason).toBe('shadow mismatch rate: 4 compared reads over the last 5 s; 9 more could not be compared, fewer than the 10 a sample needs (minShadowReads)')
  })

  it('fails on few compared reads when the mismatches alone break the limit', () => {
    const r = gate(evaluateGates(window({shadow: {matched: 3, mismatched: 1, errors: 0}}), LAG, BEFORE_FLIP, GATES), 'shadowMismatchRate')
    expect(r.outcome).toBe('fail')
    expect(r.reason).toContain('even counting the reads short of minShadowReads (10) as matches')
  })

  it('is skipped in a step without shadow reads', () => {
    const r = gate(evaluateGates(window({shadow: {matched: 0, mismatched: 0, errors: 0}}), LAG, AFTER_FLIP, GATES), 'shadowMismatchRate')
    expect(r).toMatchObject({outcome: 'skipped', reason: 'shadow mismatch rate: skipped, this step runs no shadow reads (shadowPercent 0)'})
  })
})

describe('replication lag gates', () => {
  it('gates forward lag before the flip and skips reverse lag there', () => {
    const results = evaluateGates(window(), {forwardSeconds: 7.2, reverseSeconds: null}, BEFORE_FLIP, GATES)
    expect(gate(results, 'forwardLagSeconds')).toMatchObject({
      outcome: 'fail',
      observed: 7.2,
      unit: 's',
      reason: 'forward replication lag (source -> target) 7.2 s > 5 s at the end of the 5 s window',
    })
    expect(gate(results, 'reverseLagSeconds')).toMatchObject({outcome: 'skipped', reason: 'reverse replication lag (target -> source): skipped, reverse replication runs only from the write flip on'})
    expect(gate(evaluateGates(window(), {forwardSeconds: 5, reverseSeconds: null}, BEFORE_FLIP, GATES), 'forwardLagSeconds').outcome).toBe('pass')
  })

  it('gates reverse lag from the flip on and skips forward lag there', () => {
    const results = evaluateGates(window(), {forwardSeconds: 99, reverseSeconds: 0.25}, AFTER_FLIP, GATES)
    expect(gate(results, 'forwardLagSeconds').outcome).toBe('skipped')
    expect(gate(results, 'reverseLagSeconds')).toMatchObject({outcome: 'pass', reason: 'reverse replication lag (target -> source) 0.25 s <= 5 s at the end of the 5 s window'})
  })

  it('is inconclusive when the lag is unknown or not a number', () => {
    const unknown = gate(evaluateGates(window(), {forwardSeconds: null, reverseSeconds: null, note: 'replicate is not running'}, BEFORE_FLIP, GATES), 'forwardLagSeconds')
    expect(unknown).toMatchObject({outcome: 'inconclusive', observed: null, reason: 'forward replication lag (source -> target) is unknown (replicate is not running)'})
    expect(gate(evaluateGates(window(), {forwardSeconds: Number.NaN, reverseSeconds: null}, BEFORE_FLIP, GATES), 'forwardLagSeconds').outcome).toBe('inconclusive')
  })
})

describe('a sample', () => {
  it('has every gate in a fixed order, and fails on any failure, else is inconclusive on any, else passes', () => {
    const ok = evaluateGates(window(), LAG, BEFORE_FLIP, GATES)
    expect(ok.map((r) => [r.gate, r.side ?? null, r.outcome])).toEqual([
      ['errorRate', null, 'pass'],
      ['p99Ms', 'source', 'pass'],
      ['p99Ms', 'target', 'pass'],
      ['shadowMismatchRate', null, 'pass'],
      ['forwardLagSeconds', null, 'pass'],
      ['reverseLagSeconds', null, 'skipped'],
    ])
    expect(sampleOutcome(ok)).toBe('pass')
    expect(sampleOutcome(evaluateGates(window({requests: 5}), LAG, BEFORE_FLIP, GATES))).toBe('inconclusive')
    expect(sampleOutcome(evaluateGates(window({requests: 5, serverErrors: 5}), {forwardSeconds: null, reverseSeconds: null}, BEFORE_FLIP, GATES))).toBe('fail')
  })

  it('is plain JSON', () => {
    const results = evaluateGates(window(), {forwardSeconds: Number.NaN, reverseSeconds: null}, BEFORE_FLIP, GATES)
    expect(JSON.parse(JSON.stringify(results))).toEqual(results)
  })

  it.each([
    [0.032, '3.2%'],
    [0.01, '1%'],
    [0.001, '0.1%'],
    [0.0005, '0.05%'],
    [0.000123, '0.012%'],
    [1, '100%'],
    [0, '0%'],
  ])('writes %d as %s', (ratio, text) => {
    expect(percent(ratio)).toBe(text)
  })
})
