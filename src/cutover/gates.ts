/**
 * The health gates of `payctl shift-traffic`: what the runtime instances counted over one
 * sample window, and the verdict of each gate on it.
 *
 * A sample is the difference between two scrapes of every live instance's /metrics, an interval
 * apart, summed over instances: a rate over a window, as Prometheus' increase() would give it,
 * without needing a Prometheus server. Three rules decide every verdict:
 *
 * - No data never passes. Too few requests, NaN, an unknown lag: inconclusive. A live instance
 *   whose traffic is missing from the window (its scrape failed, it joined or left mid-window)
 *   turns what would have been a pass into inconclusive, because its errors may be the ones
 *   missing. A failure stays a failure: what was counted really happened.
 * - A gate whose metric does not apply to the step is skipped, and says so (shadow mismatches
 *   without shadow reads, reverse lag before the flip, a side that serves no statements).
 * - Every result names the metric, the observed value, the condition and the window, in words
 *   an on-call reads at 3 a.m., and in fields a bot reads (`--json`).
 */
import type {GatesConfig} from '../config/schema.js'
import type {InstanceHeartbeat, WriteSide} from '../control/routing-store.js'
import {instanceLive} from '../control/routing-store.js'
import type {Bucket, PromExposition, PromSample} from './prometheus.js'
import {counterDelta, histogramQuantile, scrapeMetrics, sumBuckets} from './prometheus.js'

/** The runtime's metric names the gates read (runtime/src/http/metrics.ts). */
export const GATE_METRICS = {
  requests: 'http_requests_total',
  statementLatency: 'db_query_duration_seconds',
  shadowReads: 'payctl_shadow_reads_total',
} as const

const SIDES = ['source', 'target'] as const satisfies readonly WriteSide[]
const P99 = 0.99

// ---------------------------------------------------------------------------------------------
// Clock

/** Time and waiting, injected so unit tests run without sleeping. */
export interface Clock {
  now(): number
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal))
        return
      }
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(abortReason(signal as AbortSignal))
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, Math.max(0, ms))
      signal?.addEventListener('abort', onAbort, {once: true})
    }),
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

// ---------------------------------------------------------------------------------------------
// Sampling

/** One runtime instance to scrape. */
export interface ScrapeTarget {
  instanceId: string
  /** Base URL of its HTTP API (/metrics is appended), or null when it publishes none. */
  url: string | null
  /**
   * Its heartbeat stopped (older than lease + grace) but its row is still there: crashed, or cut off
   * from the control store while still serving. Asked anyway; an answer means it still serves.
   */
  stale?: boolean
}

/** Heartbeats older than this are not asked at all (the instance is long gone). */
const STALE_SCRAPE_MS = 10 * 60_000

/** The instances of a heartbeat list as scrape targets: the live ones (heartbeat within lease + grace), and recent stale ones flagged. */
export function scrapeTargets(instances: readonly InstanceHeartbeat[], leaseMs: number): ScrapeTarget[] {
  return instances
    .filter((i) => instanceLive(i, leaseMs) || i.ageMs <= STALE_SCRAPE_MS)
    .map((i) => ({instanceId: i.instanceId, url: i.detail?.url ?? null, ...(instanceLive(i, leaseMs) ? {} : {stale: true})}))
}

export function metricsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/metrics`
}

/** Fetches one instance's parsed /metrics; throws with a one-line reason. */
export type Scraper = (target: ScrapeTarget, signal?: AbortSignal) => Promise<PromExposition>

/** The real scraper: GET <url>/metrics with a timeout. */
export function httpScraper(options: {timeoutMs: number; fetch?: typeof fetch}): Scraper {
  return (target, signal) => {
    if (target.url === null) return Promise.reject(new Error('it publishes no URL in its heartbeat'))
    return scrapeMetrics(metricsUrl(target.url), {timeoutMs: options.timeoutMs, ...(signal ? {signal} : {}), ...(options.fetch ? {fetch: options.fetch} : {})})
  }
}

/**
 * How one instance figures in a window:
 * - counted: its growth since the last scrape is in the window;
 * - restarted: counted from zero (its counters went down, or its start time changed);
 * - joined: first scrape; a baseline only, counted from the next window;
 * - left: it was in the last window but is neither live nor answering now (one that still answers
 *   without heartbeating is counted, and makes the window incomplete);
 * - failed: live, but its /metrics could not be read.
 */
export type InstanceWindowStatus = 'counted' | 'restarted' | 'joined' | 'left' | 'failed'

export interface InstanceWindow {
  instanceId: string
  url: string | null
  status: InstanceWindowStatus
  /** Why it is not counted (failed, left, joined). */
  error?: string
}

export interface LatencyWindow {
  /** Statements finished in the window. */
  statements: number
  /** Cumulative bucket counts (the +Inf bucket last). Not part of the JSON output: +Inf is not JSON. */
  buckets: Bucket[]
}

/** What every instance counted between two scrapes, summed. */
export interface TrafficWindow {
  /** Epoch milliseconds of the two scrapes the window lies between. */
  startedAt: number
  endedAt: number
  windowMs: number
  requests: number
  /** Requests answered with a status >= 500. */
  serverErrors: number
  latency: Record<WriteSide, LatencyWindow>
  shadow: {matched: number; mismatched: number; errors: number}
  instances: InstanceWindow[]
  /** Why some live traffic is not in the window (empty when every live instance was counted). A window with any cannot pass. */
  incomplete: string[]
}

/**
 * Scrapes every live instance once per call and returns what grew since the previous call.
 * The first call (baseline) returns nothing to judge; a step starts with one so its first window
 * holds only traffic under the step's own routing.
 */
export class TrafficSampler {
  #last = new Map<string, {target: ScrapeTarget; metrics: PromExposition}>()
  #lastAt: number | null = null

  constructor(
    private readonly targets: () => Promise<ScrapeTarget[]>,
    private readonly scrape: Scraper,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Forgets everything and takes the first scrape of a new series of windows. */
  async baseline(signal?: AbortSignal): Promise<void> {
    this.#last.clear()
    this.#lastAt = null
    await this.sample(signal)
  }

  /** The window since the previous call (the baseline when it is the first). Never throws for an instance or the list; only on abort. */
  async sample(signal?: AbortSignal): Promise<TrafficWindow> {
    const at = this.clock.now()
    const startedAt = this.#lastAt ?? at
    const incomplete: string[] = []
    let live: ScrapeTarget[]
    try {
      live = await this.targets()
    } catch (err) {
      if (signal?.aborted) throw abortReason(signal)
      live = []
      incomplete.push(`the list of live runtime instances could not be read: ${(err as Error).message}`)
    }
    // Instances of the last window that are no longer live are still asked: one that stops cleanly
    // answers until it exits, and its last requests belong in this window.
    const liveIds = new Set(live.filter((t) => t.stale !== true).map((t) => t.instanceId))
    const listed = new Set(live.map((t) => t.instanceId))
    const leaving = [...this.#last.values()].map((l) => l.target).filter((t) => !listed.has(t.instanceId))
    type Scrape = {target: ScrapeTarget; metrics: PromExposition} | {target: ScrapeTarget; error: string}
    const scrapes = await Promise.all(
      [...live, ...leaving].map(async (target): Promise<Scrape> => {
        try {
          return {target, metrics: await this.scrape(target, signal)}
        } catch (err) {
          if (signal?.aborted) throw abortReason(signal)
          return {target, error: err instanceof Error ? err.message : String(err)}
        }
      }),
    )

    const counted: PromSample[] = []
    const instances: InstanceWindow[] = []
    const next = new Map<string, {target: ScrapeTarget; metrics: PromExposition}>()
    const first = this.#lastAt === null
    for (const s of scrapes) {
      const {target} = s
      const isLive = liveIds.has(target.instanceId)
      const previous = this.#last.get(target.instanceId)
      if (!('metrics' in s)) {
        if (isLive) {
          instances.push({instanceId: target.instanceId, url: target.url, status: 'failed', error: s.error})
          incomplete.push(`instance ${target.instanceId} could not be scraped (${s.error})`)
          // Keep its older scrape: the next window that reaches it then covers the gap.
          if (previous !== undefined) next.set(target.instanceId, previous)
        } else if (target.stale === true && previous === undefined) {
          // a stale heartbeat that does not answer: crashed or stopped long ago, serving nothing
          continue
        } else {
          instances.push({instanceId: target.instanceId, url: target.url, status: 'left', error: s.error})
          incomplete.push(`instance ${target.instanceId} left during the window and its last requests could not be counted`)
        }
        continue
      }
      // An instance that answers but no longer heartbeats still serves traffic, cut off from the
      // control store (it has fenced itself): its requests are counted, and asked for again next
      // window, and the window cannot pass while one is in that state.
      if (isLive || target.stale === true) next.set(target.instanceId, {target, metrics: s.metrics})
      if (target.stale === true) incomplete.push(`instance ${target.instanceId} answers but has stopped heartbeating (cut off from the control store: it has fenced itself)`)
      if (previous === undefined) {
        instances.push({instanceId: target.instanceId, url: target.url, status: 'joined'})
        if (!first) incomplete.push(`instance ${target.instanceId} joined during the window; it is counted from the next one`)
        continue
      }
      const delta = counterDelta(previous.metrics, s.metrics)
      counted.push(...delta.samples)
      instances.push({instanceId: target.instanceId, url: target.url, status: delta.restarted ? 'restarted' : 'counted'})
    }
    if (liveIds.size === 0 && incomplete.length === 0) incomplete.push('no runtime instance is live (none heartbeats in the control store)')
    this.#last = next
    this.#lastAt = at
    return {startedAt, endedAt: at, windowMs: at - startedAt, ...countTraffic(counted), instances, incomplete}
  }
}

/** The gates' figures from the grown counters of all counted instances. */
export function countTraffic(samples: readonly PromSample[]): Pick<TrafficWindow, 'requests' | 'serverErrors' | 'latency' | 'shadow'> {
  let requests = 0
  let serverErrors = 0
  const shadow = {matched: 0, mismatched: 0, errors: 0}
  for (const s of samples) {
    if (s.name === GATE_METRICS.requests) {
      requests += s.value
      const status = Number(s.labels.status)
      if (Number.isFinite(status) && status >= 500) serverErrors += s.value
    } else if (s.name === GATE_METRICS.shadowReads) {
      const result = s.labels.result
      if (result === 'match') shadow.matched += s.value
      else if (result === 'mismatch') shadow.mismatched += s.value
      else shadow.errors += s.value
    }
  }
  const latency = {} as Record<WriteSide, LatencyWindow>
  for (const side of SIDES) {
    const buckets = sumBuckets(samples, GATE_METRICS.statementLatency, {side})
    latency[side] = {statements: buckets.find((b) => b.le === Infinity)?.count ?? 0, buckets}
  }
  return {requests, serverErrors, latency, shadow}
}

// ---------------------------------------------------------------------------------------------
// Gates

export type GateName = 'errorRate' | 'p99Ms' | 'shadowMismatchRate' | 'forwardLagSeconds' | 'reverseLagSeconds'
export type GateOutcome = 'pass' | 'fail' | 'inconclusive' | 'skipped'

/** One gate's verdict on one sample. Stable JSON (shift-traffic --json, status --json). */
export interface GateResult {
  /** The gate, named as its key under shift.gates in payctl.yaml. */
  gate: GateName
  /** p99Ms only: the side whose statements it measures. */
  side?: WriteSide
  outcome: GateOutcome
  /** What is measured, as a PromQL-like expression or the control store's lag. */
  metric: string
  /** The measured value in `unit`, or null when there was none (inconclusive, skipped). */
  observed: number | null
  /** ratio (0..1), ms or s. */
  unit: 'ratio' | 'ms' | 's'
  /** The gate passes while observed <= max. */
  max: number
  /** The condition in words, e.g. "<= 1%". */
  condition: string
  /** Events the value is made of (errors, mismatched reads), when it is a rate. */
  count: number | null
  /** What the value was computed over (requests, statements of the side, compared shadow reads), when it is a rate or a quantile. */
  of: number | null
  windowMs: number
  /** The verdict in one sentence: metric, observed value, condition and window. */
  reason: string
}

/** Replication lag as the control store knows it; null when it is not known. */
export interface ReplicationLag {
  forwardSeconds: number | null
  reverseSeconds: number | null
  /** Why a lag is unknown, when it is (e.g. "replicate is not running"). */
  note?: string
}

/** What a step routes, which decides the gates that apply. A ShiftStep is one. */
export interface GateContext {
  readsTargetPercent: number
  shadowPercent: number
  writes: WriteSide
}

type GateInput = Omit<GateResult, 'reason' | 'outcome' | 'observed' | 'count' | 'of'>

/** Every gate's verdict on one window, in a fixed order: errorRate, p99Ms source, p99Ms target, shadowMismatchRate, forwardLagSeconds, reverseLagSeconds. */
export function evaluateGates(window: TrafficWindow, lag: ReplicationLag, context: GateContext, config: GatesConfig): GateResult[] {
  const over = `over the last ${seconds(window.windowMs)}`
  const partial = window.incomplete.length > 0 ? window.incomplete : null
  const results: GateResult[] = [errorRateGate(window, config, over, partial)]
  for (const side of SIDES) results.push(p99Gate(window, side, context, config, over, partial))
  results.push(shadowGate(window, context, config, over, partial))
  results.push(lagGate('forwardLagSeconds', lag.forwardSeconds, context.writes === 'source', lag.note, config.forwardLagSeconds, window.windowMs))
  results.push(lagGate('reverseLagSeconds', lag.reverseSeconds, context.writes === 'target', lag.note, config.reverseLagSeconds, window.windowMs))
  return results
}

/** A sample fails when any gate fails; else it is inconclusive when any gate is; else it passes. */
export function sampleOutcome(results: readonly GateResult[]): 'pass' | 'fail' | 'inconclusive' {
  if (results.some((r) => r.outcome === 'fail')) return 'fail'
  if (results.some((r) => r.outcome === 'inconclusive')) return 'inconclusive'
  return 'pass'
}

function errorRateGate(w: TrafficWindow, config: GatesConfig, over: string, partial: string[] | null): GateResult {
  const base: GateInput = {
    gate: 'errorRate',
    metric: `sum(increase(${GATE_METRICS.requests}{status=~"5.."})) / sum(increase(${GATE_METRICS.requests}))`,
    unit: 'ratio',
    max: config.errorRate,
    condition: `<= ${percent(config.errorRate)}`,
    windowMs: w.windowMs,
  }
  const {requests, serverErrors: errors} = w
  const counts = {count: errors, of: requests}
  const observed = requests > 0 ? errors / requests : null
  const figure = `error rate ${observed === null ? 'n/a' : percent(observed)} (${int(errors)} of ${int(requests)} requests)`
  if (requests < config.minRequests) {
    // Fewer requests than a sample needs still fail when the errors alone are too many, counting
    // every missing request as a success: a full outage at low traffic must not read as "no data".
    if (errors > config.errorRate * config.minRequests) {
      return {...base, ...counts, observed, outcome: 'fail', reason: `${figure} > ${percent(config.errorRate)} ${over}, even counting the requests short of minRequests (${int(config.minRequests)}) as successes`}
    }
    return {...base, ...counts, observed, outcome: 'inconclusive', reason: `error rate: ${int(requests)} requests ${over}, fewer than the ${int(config.minRequests)} a sample needs (minRequests)`}
  }
  const ok = (observed ?? 0) <= config.errorRate
  return verdict(base, counts, observed, ok, `${figure} ${ok ? '<=' : '>'} ${percent(config.errorRate)} ${over}`, partial)
}

/** Whether a side serves any statement under this routing (reads, writes, or the other half of a shadow read). */
export function sideServes(side: WriteSide, c: GateContext): boolean {
  const readsHere = side === 'target' ? c.readsTargetPercent > 0 : c.readsTargetPercent < 100
  // A shadow read runs on the side that does not serve the read: the target for reads on the source, and back.
  const shadowHere = c.shadowPercent > 0 && (side === 'target' ? c.readsTargetPercent < 100 : c.readsTargetPercent > 0)
  return c.writes === side || readsHere || shadowHere
}

function p99Gate(w: TrafficWindow, side: WriteSide, c: GateContext, config: GatesConfig, over: string, partial: string[] | null): GateResult {
  const name = `${side} p99 DB statement latency`
  const base: GateInput = {
    gate: 'p99Ms',
    side,
    metric: `histogram_quantile(0.99, sum by (le) (increase(${GATE_METRICS.statementLatency}_bucket{side="${side}"})))`,
    unit: 'ms',
    max: config.p99Ms,
    condition: `<= ${int(config.p99Ms)} ms`,
    windowMs: w.windowMs,
  }
  const {statements, buckets} = w.latency[side]
  const counts = {count: null, of: statements}
  if (!sideServes(side, c)) {
    return {...base, ...counts, observed: null, outcome: 'skipped', reason: `${name}: skipped, the ${side} serves no statements in this step`}
  }
  if (statements < config.minRequests) {
    return {...base, ...counts, observed: null, outcome: 'inconclusive', reason: `${name}: ${int(statements)} statements ${over}, fewer than the ${int(config.minRequests)} a sample needs (minRequests)`}
  }
  const seconds99 = histogramQuantile(P99, buckets)
  if (!Number.isFinite(seconds99)) {
    return {...base, ...counts, observed: null, outcome: 'inconclusive', reason: `${name}: no quantile from ${int(statements)} statements ${over} (the histogram has no +Inf bucket)`}
  }
  const observed = seconds99 * 1_000
  // histogram_quantile answers with the highest finite bound when the p99 is above it: the real
  // value is at least that, so it can only prove a failure, never a pass above the bound.
  const finite = buckets.filter((b) => b.le !== Infinity)
  const highest = finite.at(-1)
  const overflow = highest !== undefined && highest.count < P99 * statements
  const figure = `${name} ${overflow ? '>= ' : ''}${ms(observed)} (${int(statements)} statements)`
  if (overflow && observed <= config.p99Ms) {
    return {
      ...base,
      ...counts,
      observed,
      outcome: 'inconclusive',
      reason: `${figure} ${over}: above the histogram's highest bucket (${ms(observed)}), so it cannot show <= ${int(config.p99Ms)} ms`,
    }
  }
  const ok = observed <= config.p99Ms
  return verdict(base, counts, observed, ok, `${figure} ${ok ? '<=' : '>'} ${int(config.p99Ms)} ms ${over}`, partial)
}

function shadowGate(w: TrafficWindow, c: GateContext, config: GatesConfig, over: string, partial: string[] | null): GateResult {
  const base: GateInput = {
    gate: 'shadowMismatchRate',
    metric: `sum(increase(${GATE_METRICS.shadowReads}{result="mismatch"})) / sum(increase(${GATE_METRICS.shadowReads}{result=~"match|mismatch"}))`,
    unit: 'ratio',
    max: config.shadowMismatchRate,
    condition: `<= ${percent(config.shadowMismatchRate)}`,
    windowMs: w.windowMs,
  }
  const {matched, mismatched, errors} = w.shadow
  const compared = matched + mismatched
  const counts = {count: mismatched, of: compared}
  if (c.shadowPercent === 0) {
    return {...base, ...counts, observed: null, outcome: 'skipped', reason: 'shadow mismatch rate: skipped, this step runs no shadow reads (shadowPercent 0)'}
  }
  const observed = compared > 0 ? mismatched / compared : null
  // Shadow reads that could not be compared (a side failed) are neither a match nor a mismatch.
  const failedNote = errors > 0 ? `; ${int(errors)} more could not be compared` : ''
  const figure = `shadow mismatch rate ${observed === null ? 'n/a' : percent(observed)} (${int(mismatched)} of ${int(compared)} compared reads${failedNote})`
  if (compared < config.minShadowReads) {
    if (mismatched > config.shadowMismatchRate * config.minShadowReads) {
      return {...base, ...counts, observed, outcome: 'fail', reason: `${figure} > ${percent(config.shadowMismatchRate)} ${over}, even counting the reads short of minShadowReads (${int(config.minShadowReads)}) as matches`}
    }
    return {...base, ...counts, observed, outcome: 'inconclusive', reason: `shadow mismatch rate: ${int(compared)} compared reads ${over}${failedNote}, fewer than the ${int(config.minShadowReads)} a sample needs (minShadowReads)`}
  }
  const ok = (observed ?? 0) <= config.shadowMismatchRate
  return verdict(base, counts, observed, ok, `${figure} ${ok ? '<=' : '>'} ${percent(config.shadowMismatchRate)} ${over}`, partial)
}

function lagGate(gate: 'forwardLagSeconds' | 'reverseLagSeconds', value: number | null, applies: boolean, note: string | undefined, max: number, windowMs: number): GateResult {
  const forward = gate === 'forwardLagSeconds'
  const name = forward ? 'forward replication lag (source -> target)' : 'reverse replication lag (target -> source)'
  const base: GateInput = {gate, metric: `payctl_control ${forward ? 'forward' : 'reverse'} replication lag`, unit: 's', max, condition: `<= ${num(max)} s`, windowMs}
  const counts = {count: null, of: null}
  if (!applies) {
    return {...base, ...counts, observed: null, outcome: 'skipped', reason: `${name}: skipped, ${forward ? 'forward replication only matters before the write flip' : 'reverse replication runs only from the write flip on'}`}
  }
  if (value === null || !Number.isFinite(value)) {
    return {...base, ...counts, observed: null, outcome: 'inconclusive', reason: `${name} is unknown${note === undefined ? '' : ` (${note})`}`}
  }
  const ok = value <= max
  return {...base, ...counts, observed: value, outcome: ok ? 'pass' : 'fail', reason: `${name} ${num(value)} s ${ok ? '<=' : '>'} ${num(max)} s at the end of the ${seconds(windowMs)} window`}
}

/** pass or fail; a pass on a window that misses live traffic becomes inconclusive. */
function verdict(base: GateInput, counts: {count: number | null; of: number | null}, observed: number | null, ok: boolean, reason: string, partial: string[] | null): GateResult {
  if (!ok) return {...base, ...counts, observed, outcome: 'fail', reason}
  if (partial !== null) return {...base, ...counts, observed, outcome: 'inconclusive', reason: `${reason}, but not a pass: ${partial.join('; ')}`}
  return {...base, ...counts, observed, outcome: 'pass', reason}
}

// ---------------------------------------------------------------------------------------------
// Wording

const int = (n: number): string => Math.round(n).toLocaleString('en-US')

/** Up to three significant digits, no trailing zeros: 5, 7.2, 0.25. */
function num(n: number): string {
  return Number(n.toPrecision(3)).toLocaleString('en-US', {maximumFractionDigits: 6})
}

/** A ratio as a percentage: 3.2%, 1%, 0.1%, 0.05%. */
export function percent(ratio: number): string {
  const p = ratio * 100
  if (p === 0) return '0%'
  return `${p >= 1 ? Number(p.toFixed(1)).toLocaleString('en-US') : Number(p.toPrecision(2))}%`
}

function ms(n: number): string {
  return `${n >= 100 ? int(n) : num(n)} ms`
}

function seconds(windowMs: number): string {
  return `${num(windowMs / 1_000)} s`
}
