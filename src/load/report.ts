/**
 * A load run's result for people (short tables) and machines (JSON), and its thresholds: k6-style
 * gates on failed requests (count and rate), latency percentiles and dropped iterations. A gate
 * over no data fails (k6 #4283 lets `rate<0.01` pass with zero samples; a write-path gate must
 * not): with no request made, the failed-request and latency thresholds fail with a null value.
 */
import {formatDuration, formatNumber, keyValueTable, table} from '../cli/output.js'
import type {EndpointStats, LoadResult} from './generator.js'

export interface Thresholds {
  /** Failed requests, at most (a count; 0 = none may fail). */
  maxFailed?: number
  /** Failed requests / requests, at most (0.01 = 1%). */
  maxFailedRate?: number
  p99Ms?: number
  p95Ms?: number
  /** Dropped iterations, at most (k6's dropped_iterations count==0 is maxDropped: 0). */
  maxDropped?: number
  /** At least this many requests (a guard against a gate passing on too little traffic). */
  minRequests?: number
}

export interface ThresholdResult {
  metric: string
  /** null when there was nothing to measure (which fails). */
  value: number | null
  condition: string
  pass: boolean
}

export function evaluateThresholds(result: LoadResult, t: Thresholds): ThresholdResult[] {
  const out: ThresholdResult[] = []
  const requests = result.requests.total
  const atMost = (metric: string, value: number | null, limit: number, unit = ''): void => {
    out.push({metric, value, condition: `<= ${limit}${unit}`, pass: value !== null && value <= limit})
  }
  if (t.minRequests !== undefined) out.push({metric: 'requests.total', value: requests, condition: `>= ${t.minRequests}`, pass: requests >= t.minRequests})
  // no request made is no data, not "0 failed": a run that never reached the service must not pass
  if (t.maxFailed !== undefined) atMost('requests.failed', requests === 0 ? null : result.requests.failed, t.maxFailed)
  if (t.maxFailedRate !== undefined) atMost('requests.failed_rate', requests === 0 ? null : result.requests.failed / requests, t.maxFailedRate)
  const latency = result.latency.count === 0 ? null : result.latency
  if (t.p95Ms !== undefined) atMost('latency.p95', latency?.p95 ?? null, t.p95Ms, ' ms')
  if (t.p99Ms !== undefined) atMost('latency.p99', latency?.p99 ?? null, t.p99Ms, ' ms')
  if (t.maxDropped !== undefined) atMost('iterations.dropped', result.iterations.dropped, t.maxDropped)
  return out
}

export function thresholdsPassed(results: readonly ThresholdResult[]): boolean {
  return results.every((r) => r.pass)
}

const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))

/** `k: n, k: n` sorted by key; `perLine` breaks a long list into lines of that many. */
function outcomes(counts: Record<string, number>, perLine = Number.POSITIVE_INFINITY): string {
  const parts = Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}: ${formatNumber(v)}`)
  if (parts.length === 0) return '-'
  const lines: string[] = []
  for (let i = 0; i < parts.length; i += Math.min(perLine, parts.length)) lines.push(parts.slice(i, i + perLine).join(', '))
  return lines.join('\n')
}

/** The human summary: the run, then one line per endpoint, then thresholds and the first failures. */
export function renderLoadResult(result: LoadResult, options: {colour?: boolean; thresholds?: readonly ThresholdResult[]} = {}): string {
  const opt = options.colour === undefined ? {} : {colour: options.colour}
  const it = result.iterations
  const failedRate = result.requests.total === 0 ? null : result.requests.failed / result.requests.total
  const summary = keyValueTable(
    [
      ['scenario', `${result.scenario} (seed ${result.seed})`],
      ['targets', result.targets.join(', ')],
      ['rate', `${formatNumber(result.achievedRate)}/s achieved of ${formatNumber(result.ratePerSecond)}/s asked`],
      ['duration', `${formatDuration(result.durationMs)} (scheduling ${formatDuration(result.schedulingMs)}, ended: ${result.stopReason})`],
      [
        'iterations',
        `${formatNumber(it.started)} started, ${formatNumber(it.completed)} completed, ${formatNumber(it.failed)} failed, ${formatNumber(it.dropped)} dropped` +
          (it.dropped > 0 ? ` (${formatNumber(it.droppedBy.maxInFlight)} at max in flight, ${formatNumber(it.droppedBy.lag)} too late)` : '') +
          (it.interrupted > 0 ? `, ${formatNumber(it.interrupted)} interrupted` : ''),
      ],
      [
        'requests',
        `${formatNumber(result.requests.total)}, ${formatNumber(result.requests.failed)} failed${failedRate === null ? '' : ` (${(failedRate * 100).toFixed(2)}%)`}` +
          (result.requests.aborted > 0 ? `, ${formatNumber(result.requests.aborted)} aborted` : ''),
      ],
      ['failures by kind', outcomes(result.requests.failedByKind, 4)],
      ['latency ms', result.latency.count === 0 ? '-' : `p50 ${ms(result.latency.p50)}, p95 ${ms(result.latency.p95)}, p99 ${ms(result.latency.p99)}, max ${ms(result.latency.max)}`],
      ['start lag ms', result.scheduleLag.count === 0 ? '-' : `p99 ${ms(result.scheduleLag.p99)}, max ${ms(result.scheduleLag.max)}`],
      ...(Object.keys(result.counters).length === 0 ? [] : [['counters', outcomes(result.counters, 4)] as [string, string]]),
    ],
    opt,
  )
  const rows = Object.entries(result.requests.byEndpoint).map(([name, e]) => ({name, e}))
  const lat = (pick: (e: EndpointStats) => number) => (r: {e: EndpointStats}) => (r.e.latency.count === 0 ? '-' : ms(pick(r.e)))
  const endpoints = table(
    rows,
    [
      {header: 'endpoint', get: (r) => r.name},
      {header: 'requests', get: (r) => r.e.total, align: 'right'},
      {header: 'failed', get: (r) => r.e.failed, align: 'right'},
      {header: 'outcomes', get: (r) => outcomes(r.e.byStatus)},
      {header: 'p50 ms', get: lat((e) => e.latency.p50), align: 'right'},
      {header: 'p90 ms', get: lat((e) => e.latency.p90), align: 'right'},
      {header: 'p95 ms', get: lat((e) => e.latency.p95), align: 'right'},
      {header: 'p99 ms', get: lat((e) => e.latency.p99), align: 'right'},
      {header: 'max ms', get: lat((e) => e.latency.max), align: 'right'},
    ],
    opt,
  )
  const parts = [summary, endpoints]
  if (options.thresholds !== undefined && options.thresholds.length > 0) {
    parts.push(
      table(
        options.thresholds,
        [
          {header: 'threshold', get: (r) => r.metric},
          {header: 'value', get: (r) => (r.value === null ? 'no data' : Number.isInteger(r.value) ? r.value : Number(r.value.toFixed(4))), align: 'right'},
          {header: 'condition', get: (r) => r.condition},
          {header: 'result', get: (r) => (r.pass ? 'pass' : 'FAIL')},
        ],
        opt,
      ),
    )
  }
  if (result.failureSamples.length > 0) {
    parts.push(['First failures:', ...result.failureSamples.slice(0, 5).map((f) => `  #${f.iteration} ${f.endpoint} [${f.kind}] ${f.message}`)].join('\n'))
  }
  return parts.join('\n')
}

export interface LoadReportJson {
  result: LoadResult
  thresholds: ThresholdResult[]
  /** Every threshold passed (true when none was given). */
  passed: boolean
}

/** The machine-readable report: the result as is, with the thresholds' verdicts. */
export function loadReportJson(result: LoadResult, thresholds: readonly ThresholdResult[] = []): LoadReportJson {
  return {result, thresholds: [...thresholds], passed: thresholdsPassed(thresholds)}
}

export function renderLoadResultJson(result: LoadResult, thresholds: readonly ThresholdResult[] = []): string {
  return JSON.stringify(loadReportJson(result, thresholds), null, 2)
}
