import {describe, expect, it} from 'vitest'
import type {LatencySummary, LoadResult} from '../../../src/load/generator.js'
import {evaluateThresholds, renderLoadResult, renderLoadResultJson, thresholdsPassed} from '../../../src/load/report.js'

const latency = (p95: number, p99: number): LatencySummary => ({count: 1000, min: 1, mean: p95 / 2, p50: p95 / 3, p90: p95 * 0.9, p95, p99, max: p99 * 2})

function result(o: {total?: number; failed?: number; dropped?: number; p95?: number; p99?: number} = {}): LoadResult {
  const total = o.total ?? 1000
  const failed = o.failed ?? 0
  const lat = total === 0 ? {...latency(0, 0), count: 0} : latency(o.p95 ?? 40, o.p99 ?? 80)
  return {
    scenario: 'writes',
    seed: 1,
    targets: ['http://127.0.0.1:18080'],
    ratePerSecond: 100,
    achievedRate: 99.5,
    schedulingMs: 10_000,
    durationMs: 10_050,
    stopReason: 'duration',
    iterations: {scheduled: 1000, started: 1000 - (o.dropped ?? 0), completed: 1000 - (o.dropped ?? 0) - failed, failed, interrupted: 0, dropped: o.dropped ?? 0, droppedBy: {maxInFlight: o.dropped ?? 0, lag: 0}},
    requests: {
      total,
      failed,
      aborted: 0,
      byStatus: {'200': total - failed, ...(failed > 0 ? {'409': failed} : {})},
      failedByKind: failed > 0 ? {'409': failed} : {},
      byEndpoint: total === 0 ? {} : {'POST /v1/customers': {total, failed, byStatus: {'200': total - failed}, latency: lat}},
    },
    latency: lat,
    scheduleLag: latency(1, 2),
    counters: {declined_on_purpose: 3},
    failureSamples: failed > 0 ? [{iteration: 7, endpoint: 'POST /v1/customers', kind: '409', message: '409 lock_timeout: retry'}] : [],
  }
}

const gates = {maxFailedRate: 0.01, p95Ms: 50, p99Ms: 100, maxDropped: 0}

describe('evaluateThresholds', () => {
  it('passes a run within every threshold, naming metric, value and condition', () => {
    const t = evaluateThresholds(result(), gates)
    expect(t).toEqual([
      {metric: 'requests.failed_rate', value: 0, condition: '<= 0.01', pass: true},
      {metric: 'latency.p95', value: 40, condition: '<= 50 ms', pass: true},
      {metric: 'latency.p99', value: 80, condition: '<= 100 ms', pass: true},
      {metric: 'iterations.dropped', value: 0, condition: '<= 0', pass: true},
    ])
    expect(thresholdsPassed(t)).toBe(true)
  })

  it('fails each threshold that is crossed, and only those', () => {
    const t = evaluateThresholds(result({failed: 20, dropped: 3, p95: 45, p99: 120}), gates)
    expect(t.map((r) => [r.metric, r.value, r.pass])).toEqual([
      ['requests.failed_rate', 0.02, false],
      ['latency.p95', 45, true],
      ['latency.p99', 120, false],
      ['iterations.dropped', 3, false],
    ])
    expect(thresholdsPassed(t)).toBe(false)
  })

  it('a run without requests fails its rate and latency thresholds (no data is not healthy)', () => {
    const t = evaluateThresholds(result({total: 0}), {...gates, minRequests: 1})
    expect(t.map((r) => [r.metric, r.value, r.pass])).toEqual([
      ['requests.total', 0, false],
      ['requests.failed_rate', null, false],
      ['latency.p95', null, false],
      ['latency.p99', null, false],
      ['iterations.dropped', 0, true],
    ])
  })

  it('counts failed requests against --max-failed, and a run without requests has no data for it', () => {
    expect(evaluateThresholds(result({failed: 2}), {maxFailed: 2})).toEqual([{metric: 'requests.failed', value: 2, condition: '<= 2', pass: true}])
    expect(evaluateThresholds(result({failed: 3}), {maxFailed: 2})).toEqual([{metric: 'requests.failed', value: 3, condition: '<= 2', pass: false}])
    expect(evaluateThresholds(result({total: 0}), {maxFailed: 0})).toEqual([{metric: 'requests.failed', value: null, condition: '<= 0', pass: false}])
  })

  it('checks only the thresholds given', () => {
    expect(evaluateThresholds(result(), {})).toEqual([])
    expect(thresholdsPassed([])).toBe(true)
  })
})

describe('rendering', () => {
  it('renders a short table with the run, each endpoint, the thresholds and the first failures', () => {
    const r = result({failed: 20, dropped: 3})
    const text = renderLoadResult(r, {colour: false, thresholds: evaluateThresholds(r, gates)})
    expect(text).toContain('writes (seed 1)')
    expect(text).toContain('99.5/s achieved of 100/s asked')
    expect(text).toContain('3 dropped (3 at max in flight, 0 too late)')
    expect(text).toContain('1,000, 20 failed (2.00%)')
    expect(text).toMatch(/POST \/v1\/customers\s*│\s*1,000\s*│\s*20/)
    expect(text).toMatch(/iterations\.dropped\s*│\s*3\s*│\s*<= 0\s*│\s*FAIL/)
    expect(text).toContain('#7 POST /v1/customers [409] 409 lock_timeout: retry')
    expect(text).not.toContain('\u001b[')
  })

  it('renders JSON with the result, the verdicts and whether all passed', () => {
    const r = result()
    const parsed = JSON.parse(renderLoadResultJson(r, evaluateThresholds(r, gates))) as {result: LoadResult; passed: boolean; thresholds: unknown[]}
    expect(parsed.result).toEqual(r)
    expect(parsed.passed).toBe(true)
    expect(parsed.thresholds).toHaveLength(4)
  })
})
