/** A LoadResult built by hand, for the tests of what renders one (JUnit, progress). */
import type {LatencySummary, LoadResult, LoadStats} from '../../../src/load/generator.js'

export function latency(p99: number, count = 500): LatencySummary {
  return count === 0 ? {count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0} : {count, min: 1, mean: p99 / 4, p50: p99 / 5, p90: p99 / 2, p95: p99 * 0.8, p99, max: p99 * 1.5}
}

export function loadResult(o: {total?: number; failed?: number; dropped?: number; p99?: number} = {}): LoadResult {
  const total = o.total ?? 500
  const failed = o.failed ?? 0
  const dropped = o.dropped ?? 0
  return {
    scenario: 'checkout',
    seed: 42,
    targets: ['http://127.0.0.1:18080'],
    ratePerSecond: 20,
    achievedRate: 19.8,
    schedulingMs: 3000,
    durationMs: 3125,
    stopReason: 'duration',
    iterations: {scheduled: 60, started: 60 - dropped, completed: 60 - dropped - failed, failed, interrupted: 0, dropped, droppedBy: {maxInFlight: dropped, lag: 0}},
    requests: {
      total,
      failed,
      aborted: 0,
      byStatus: {'200': total - failed, ...(failed > 0 ? {'503': failed} : {})},
      failedByKind: failed > 0 ? {'503': failed} : {},
      byEndpoint: {},
    },
    latency: latency(o.p99 ?? 25, total),
    scheduleLag: latency(1),
    counters: {},
    failureSamples: failed > 0 ? [{iteration: 3, endpoint: 'POST /v1/customers', kind: '503', message: '503 database_unreachable: <db> & "retry"'}] : [],
  }
}

export function loadStats(o: Parameters<typeof loadResult>[0] & {inFlight?: number; running?: boolean; stopReason?: LoadResult['stopReason']} = {}): LoadStats {
  return {...loadResult(o), stopReason: o.stopReason ?? 'running', inFlight: o.inFlight ?? 2, running: o.running ?? true}
}
