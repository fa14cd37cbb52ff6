/**
 * An open-model load generator: iterations start at a constant arrival rate (k6's
 * constant-arrival-rate executor), whatever the service's latency. Iteration i is due at
 * start + i / rate (absolute time, so timer jitter never accumulates into drift); a late timer
 * starts every iteration that came due meanwhile, but never one more than `maxLagMs` overdue
 * (those are counted as dropped, so a stalled generator cannot fire an unbounded burst). An
 * iteration due while `maxInFlight` are running is dropped and counted (k6's dropped_iterations
 * with maxVUs), never queued: a slow service shows up as latency and drops, not as a quietly
 * lower rate (a closed model would hide exactly the regression a gate is for).
 *
 * Requests go through Node's global fetch (undici, keep-alive). Latency is measured from the
 * request's start to its body's end, in microseconds, into HdrHistograms per endpoint and overall.
 * A request fails on an unexpected status (anything but 2xx unless the request says what it
 * expects), on a failed check, or on a network error or timeout; requests cut short by an abort
 * of the run are counted apart, never as failures of the service.
 */
import {randomBytes} from 'node:crypto'
import {setMaxListeners} from 'node:events'
import {performance} from 'node:perf_hooks'
import {build, type Histogram} from 'hdr-histogram-js'
import {UsageError} from '../cli/errors.js'
import {Prng} from '../sandbox/prng.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** One HTTP request of an iteration. */
export interface RequestSpec {
  /** The endpoint's name in the statistics, e.g. `POST /v1/payment_intents/:id/confirm`. */
  name: string
  method: HttpMethod
  /** Path (and query) appended to the iteration's target base URL. */
  path: string
  /** Sent as JSON. */
  body?: unknown
  /** POST only: the Idempotency-Key header; a unique key is made when omitted; `false` sends none. */
  idempotencyKey?: string | false
  /** Statuses that are a success (default: any 2xx). A 402 from a declining test card used on purpose is one. */
  expect?: readonly number[]
  /** Returns why an expected answer is still wrong (counted as a failed request of kind `check`), or null. */
  check?: (body: unknown, status: number) => string | null
}

export interface HttpResult {
  status: number
  /** Parsed JSON, or null for an empty body. */
  body: unknown
}

/** Thrown by `request()` for a failed request (already counted); an iteration that lets it escape counts as failed. */
export class RequestFailure extends Error {
  constructor(
    readonly endpoint: string,
    /** The HTTP status ("503"), `check`, `timeout`, `aborted`, `invalid_json`, or a network error code (`econnrefused`). */
    readonly kind: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message)
    this.name = 'RequestFailure'
  }
}

export interface IterationContext {
  /** 0-based index of this iteration in the run (its scheduled start is index / rate). */
  readonly iteration: number
  /** Seeded by (run seed, iteration index): the same iteration makes the same choices in every run. */
  readonly rng: Prng
  /** The base URL this iteration talks to. */
  readonly target: string
  /** Aborted when the run is aborted (not by a graceful stop). */
  readonly signal: AbortSignal
  request(spec: RequestSpec): Promise<HttpResult>
  /** Adds to a named counter of the run (e.g. how many declines were asked for). */
  count(counter: string, by?: number): void
  /** A key unique to this run, iteration and call: for a request the scenario may want to send twice. */
  newIdempotencyKey(): string
}

export type Iteration = (ctx: IterationContext) => Promise<void>

/** A user flow. `prepare()` is called once per run and returns the iteration, closing over the run's own state (pools). */
export interface Scenario {
  readonly name: string
  readonly description: string
  prepare(): Iteration
}

export type TargetPick = 'round-robin' | 'random'

export interface LoadOptions {
  /** Base URLs of the service instances, e.g. `http://127.0.0.1:18080`. */
  targets: readonly string[]
  /** Iteration starts per second. */
  ratePerSecond: number
  /** Stop scheduling after this long; without it the run goes on until stop() or the signal. */
  durationMs?: number
  /** Iterations running at once; one that comes due beyond it is dropped and counted. */
  maxInFlight: number
  scenario: Scenario
  seed: number
  /** Aborting stops scheduling and cuts in-flight requests short (counted as aborted, not failed). */
  signal?: AbortSignal
  /** Per request, from its start to the end of its body. */
  requestTimeoutMs: number
  /** How an iteration's target is chosen: by index (default) or by a seeded pick. */
  pick?: TargetPick
  /** An iteration overdue by more than this (a stalled generator) is dropped instead of started late. Default 1000. */
  maxLagMs?: number
}

/** Milliseconds. All zero when there was no sample (count says so). */
export interface LatencySummary {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p95: number
  p99: number
  max: number
}

export interface EndpointStats {
  total: number
  failed: number
  /** Every outcome: status codes ("200", "402") and error kinds ("timeout", "econnrefused"). */
  byStatus: Record<string, number>
  latency: LatencySummary
}

export interface FailureSample {
  iteration: number
  endpoint: string
  kind: string
  message: string
}

export type StopReason = 'running' | 'duration' | 'stopped' | 'aborted'

export interface LoadResult {
  scenario: string
  seed: number
  targets: string[]
  /** The asked arrival rate (iterations per second). */
  ratePerSecond: number
  /** Iterations started per second of scheduling. */
  achievedRate: number
  /** From the first start until scheduling stopped. */
  schedulingMs: number
  /** From the first start until the last in-flight iteration ended. */
  durationMs: number
  stopReason: StopReason
  iterations: {
    /** Came due: started + dropped. */
    scheduled: number
    started: number
    /** Ended without an error. */
    completed: number
    failed: number
    /** Cut short by an abort of the run. */
    interrupted: number
    dropped: number
    droppedBy: {maxInFlight: number; lag: number}
  }
  requests: {
    /** Requests that got an answer or failed (aborted ones are not counted here). */
    total: number
    failed: number
    aborted: number
    /** Every outcome over all endpoints. */
    byStatus: Record<string, number>
    /** Failed requests by kind: status ("503"), `check`, `timeout`, `invalid_json`, network error code. */
    failedByKind: Record<string, number>
    byEndpoint: Record<string, EndpointStats>
  }
  /** Over every request with an answer. */
  latency: LatencySummary
  /** How late iterations started against their scheduled time. */
  scheduleLag: LatencySummary
  counters: Record<string, number>
  /** The first few failures, for a diagnosis. */
  failureSamples: FailureSample[]
}

export interface LoadStats extends LoadResult {
  inFlight: number
  running: boolean
}

export interface LoadRun {
  /** A live snapshot. */
  stats(): LoadStats
  /** Stops scheduling and resolves once every in-flight iteration has ended. Idempotent. */
  stop(): Promise<LoadResult>
  /** Resolves when the run has ended on its own (duration, signal) or after stop(). */
  readonly finished: Promise<LoadResult>
}

export const DEFAULT_MAX_LAG_MS = 1000
const MAX_FAILURE_SAMPLES = 20

function newHistogram(): Histogram {
  return build({numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1})
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000

/** A histogram of microseconds as milliseconds. */
function summarize(h: Histogram): LatencySummary {
  const count = h.totalCount
  if (count === 0) return {count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0}
  const ms = (us: number): number => round3(us / 1000)
  // a percentile is its bucket's highest equivalent value, which can pass the exact maximum
  const at = (p: number): number => ms(Math.min(h.getValueAtPercentile(p), h.maxValue))
  return {
    count,
    min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue),
    mean: ms(h.mean),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: ms(h.maxValue),
  }
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by
}

/** A network error's kind: the socket error code undici puts in `cause` (econnrefused, econnreset...), else `network`. */
function networkKind(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as {code?: unknown} | undefined) : undefined
  const code = cause?.code
  return typeof code === 'string' && code.length > 0 ? code.toLowerCase() : 'network'
}

/** `503 payment_intent_unexpected_state: You cannot ...` from a Stripe-style error body, else the status. */
function describeAnswer(status: number, body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as {error?: {code?: unknown; message?: unknown}}).error : undefined
  if (error !== undefined && typeof error === 'object' && error !== null) {
    const code = typeof error.code === 'string' ? ` ${error.code}` : ''
    const message = typeof error.message === 'string' ? `: ${error.message}` : ''
    return `${status}${code}${message}`
  }
  return `HTTP ${status}`
}

function validate(o: LoadOptions): void {
  const bad = (what: string, message: string): never => {
    throw new UsageError('PAYCTL_BAD_LOAD_OPTION', `Load option ${what}: ${message}.`)
  }
  if (o.targets.length === 0) bad('targets', 'give at least one base URL')
  for (const t of o.targets) {
    if (!URL.canParse(t) || !/^https?:$/.test(new URL(t).protocol)) bad('targets', `${JSON.stringify(t)} is not an http(s) URL`)
  }
  if (!Number.isFinite(o.ratePerSecond) || o.ratePerSecond <= 0) bad('ratePerSecond', `must be a positive number (got ${o.ratePerSecond})`)
  if (o.durationMs !== undefined && (!Number.isFinite(o.durationMs) || o.durationMs < 0)) bad('durationMs', `must be a non-negative number (got ${o.durationMs})`)
  if (!Number.isInteger(o.maxInFlight) || o.maxInFlight < 1) bad('maxInFlight', `must be a positive integer (got ${o.maxInFlight})`)
  if (!Number.isFinite(o.requestTimeoutMs) || o.requestTimeoutMs <= 0) bad('requestTimeoutMs', `must be a positive number (got ${o.requestTimeoutMs})`)
  if (o.maxLagMs !== undefined && (!Number.isFinite(o.maxLagMs) || o.maxLagMs < 0)) bad('maxLagMs', `must be a non-negative number (got ${o.maxLagMs})`)
  if (!Number.isSafeInteger(o.seed)) bad('seed', `must be a safe integer (got ${o.seed})`)
}

interface EndpointState {
  total: number
  failed: number
  byStatus: Record<string, number>
  latency: Histogram
}

/** Starts a run at once; see the module comment for the model. */
export function startLoad(options: LoadOptions): LoadRun {
  validate(options)
  const targets = options.targets.map((t) => t.replace(/\/+$/, ''))
  const intervalMs = 1000 / options.ratePerSecond
  const total = options.durationMs === undefined ? Number.POSITIVE_INFINITY : Math.ceil((options.durationMs * options.ratePerSecond) / 1000 - 1e-9)
  const maxLagMs = options.maxLagMs ?? DEFAULT_MAX_LAG_MS
  const iterate = options.scenario.prepare()
  const pickRng = new Prng(options.seed, 0x7a49)
  const runId = randomBytes(6).toString('base64url')
  const abort = new AbortController()
  // every in-flight request listens to the run's abort
  setMaxListeners(0, abort.signal)

  // counters
  let next = 0
  let started = 0
  let completed = 0
  let failed = 0
  let interrupted = 0
  let droppedInFlight = 0
  let droppedLag = 0
  let inFlight = 0
  let requestsTotal = 0
  let requestsFailed = 0
  let requestsAborted = 0
  const byStatus: Record<string, number> = {}
  const failedByKind: Record<string, number> = {}
  const endpoints = new Map<string, EndpointState>()
  const overall = newHistogram()
  const lag = newHistogram()
  const counters: Record<string, number> = {}
  const samples: FailureSample[] = []

  let stopReason: StopReason = 'running'
  let timer: NodeJS.Timeout | undefined
  const t0 = performance.now()
  let schedulingEnd: number | null = null
  let end: number | null = null
  let drained!: () => void
  const drainedPromise = new Promise<void>((resolve) => {
    drained = resolve
  })

  const sample = (s: FailureSample): void => {
    if (samples.length < MAX_FAILURE_SAMPLES) samples.push(s)
  }

  const endpoint = (name: string): EndpointState => {
    let e = endpoints.get(name)
    if (e === undefined) {
      e = {total: 0, failed: 0, byStatus: {}, latency: newHistogram()}
      endpoints.set(name, e)
    }
    return e
  }

  const record = (name: string, outcome: string, failure: string | null, micros: number | null): void => {
    const e = endpoint(name)
    e.total++
    requestsTotal++
    bump(e.byStatus, outcome)
    bump(byStatus, outcome)
    if (failure !== null) {
      e.failed++
      requestsFailed++
      bump(failedByKind, failure)
    }
    if (micros !== null) {
      e.latency.recordValue(micros)
      overall.recordValue(micros)
    }
  }

  const maybeDrained = (): void => {
    if (inFlight === 0 && schedulingEnd !== null && end === null) {
      end = performance.now()
      drained()
    }
  }

  const endScheduling = (reason: Exclude<StopReason, 'running'>): void => {
    if (schedulingEnd !== null) return
    schedulingEnd = performance.now()
    stopReason = reason
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    maybeDrained()
  }

  const context = (iteration: number, target: string): IterationContext => {
    let keys = 0
    const newIdempotencyKey = (): string => `load-${runId}-${iteration}-${keys++}`
    return {
      iteration,
      rng: new Prng(options.seed, iteration + 1),
      target,
      signal: abort.signal,
      count: (counter, by = 1) => bump(counters, counter, by),
      newIdempotencyKey,
      request: async (spec) => {
        const headers: Record<string, string> = {accept: 'application/json'}
        if (spec.body !== undefined) headers['content-type'] = 'application/json'
        if (spec.method === 'POST' && spec.idempotencyKey !== false) headers['idempotency-key'] = spec.idempotencyKey ?? newIdempotencyKey()
        // One controller per request (not AbortSignal.any, which keeps dependants on the run's long-lived signal).
        const controller = new AbortController()
        let timedOut = false
        const onRunAbort = (): void => controller.abort(abort.signal.reason)
        if (abort.signal.aborted) onRunAbort()
        else abort.signal.addEventListener('abort', onRunAbort, {once: true})
        const timeout = setTimeout(() => {
          timedOut = true
          controller.abort(new Error(`no answer within ${options.requestTimeoutMs} ms`))
        }, options.requestTimeoutMs)
        const t = performance.now()
        let status: number
        let text: string
        let json: boolean
        try {
          const res = await fetch(`${target}${spec.path}`, {
            method: spec.method,
            headers,
            ...(spec.body === undefined ? {} : {body: JSON.stringify(spec.body)}),
            signal: controller.signal,
          })
          status = res.status
          json = (res.headers.get('content-type') ?? '').includes('json')
          text = await res.text()
        } catch (error) {
          if (timedOut) {
            record(spec.name, 'timeout', 'timeout', null)
            sample({iteration, endpoint: spec.name, kind: 'timeout', message: `no answer within ${options.requestTimeoutMs} ms`})
            throw new RequestFailure(spec.name, 'timeout', `${spec.name}: no answer within ${options.requestTimeoutMs} ms`)
          }
          if (abort.signal.aborted) {
            requestsAborted++
            throw new RequestFailure(spec.name, 'aborted', `${spec.name}: the run was aborted`)
          }
          const kind = networkKind(error)
          const message = error instanceof Error ? `${error.message}${kind === 'network' ? '' : ` (${kind})`}` : String(error)
          record(spec.name, kind, kind, null)
          sample({iteration, endpoint: spec.name, kind, message})
          throw new RequestFailure(spec.name, kind, `${spec.name}: ${message}`)
        } finally {
          clearTimeout(timeout)
          abort.signal.removeEventListener('abort', onRunAbort)
        }
        const micros = Math.max(1, Math.round((performance.now() - t) * 1000))
        let body: unknown = null
        if (text.length > 0) {
          try {
            body = JSON.parse(text) as unknown
          } catch {
            if (json) {
              record(spec.name, String(status), 'invalid_json', micros)
              sample({iteration, endpoint: spec.name, kind: 'invalid_json', message: `HTTP ${status} with a body that is not JSON`})
              throw new RequestFailure(spec.name, 'invalid_json', `${spec.name}: HTTP ${status} with a body that is not JSON`, status)
            }
            body = text
          }
        }
        const expected = spec.expect === undefined ? status >= 200 && status < 300 : spec.expect.includes(status)
        let failure: {kind: string; message: string} | null = expected ? null : {kind: String(status), message: describeAnswer(status, body)}
        if (failure === null && spec.check !== undefined) {
          const why = spec.check(body, status)
          if (why !== null) failure = {kind: 'check', message: `HTTP ${status}: ${why}`}
        }
        record(spec.name, String(status), failure?.kind ?? null, micros)
        if (failure !== null) {
          sample({iteration, endpoint: spec.name, kind: failure.kind, message: failure.message})
          throw new RequestFailure(spec.name, failure.kind, `${spec.name}: ${failure.message}`, status)
        }
        return {status, body}
      },
    }
  }

  const run = async (ctx: IterationContext): Promise<void> => {
    try {
      await iterate(ctx)
      completed++
    } catch (error) {
      if (abort.signal.aborted && (!(error instanceof RequestFailure) || error.kind === 'aborted')) {
        interrupted++
      } else {
        failed++
        // a RequestFailure is already counted with its request; anything else is the scenario's own error
        if (!(error instanceof RequestFailure)) {
          bump(failedByKind, 'scenario')
          sample({iteration: ctx.iteration, endpoint: '(scenario)', kind: 'scenario', message: error instanceof Error ? error.message : String(error)})
        }
      }
    } finally {
      inFlight--
      maybeDrained()
    }
  }

  const launch = (i: number, scheduledAt: number, now: number): void => {
    if (inFlight >= options.maxInFlight) {
      droppedInFlight++
      return
    }
    started++
    inFlight++
    lag.recordValue(Math.max(1, Math.round((now - scheduledAt) * 1000)))
    const target = (options.pick === 'random' ? targets[pickRng.int(0, targets.length - 1)] : targets[i % targets.length]) as string
    void run(context(i, target))
  }

  const tick = (): void => {
    timer = undefined
    if (schedulingEnd !== null) return
    const elapsed = performance.now() - t0
    const due = Math.min(total, Math.floor(elapsed / intervalMs) + 1)
    // iterations overdue beyond the bound are dropped in one step, never fired as a burst
    const oldestAllowed = Math.max(0, Math.ceil((elapsed - maxLagMs) / intervalMs))
    if (next < oldestAllowed && next < due) {
      const skip = Math.min(oldestAllowed, due) - next
      droppedLag += skip
      next += skip
    }
    while (next < due && schedulingEnd === null) {
      launch(next, next * intervalMs, elapsed)
      next++
    }
    if (next >= total) {
      endScheduling('duration')
      return
    }
    if (schedulingEnd !== null) return
    timer = setTimeout(tick, Math.max(1, Math.ceil(t0 + next * intervalMs - performance.now())))
  }

  const snapshot = (): LoadStats => {
    const now = performance.now()
    const schedulingMs = (schedulingEnd ?? now) - t0
    // a run that ran its course covered total / rate seconds of arrivals even if the last start came a little early
    const window = stopReason === 'duration' ? Math.max(schedulingMs, total * intervalMs) : schedulingMs
    const byEndpoint: Record<string, EndpointStats> = {}
    for (const [name, e] of [...endpoints.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      byEndpoint[name] = {total: e.total, failed: e.failed, byStatus: {...e.byStatus}, latency: summarize(e.latency)}
    }
    return {
      scenario: options.scenario.name,
      seed: options.seed,
      targets: [...targets],
      ratePerSecond: options.ratePerSecond,
      achievedRate: window > 0 ? round3((started * 1000) / window) : 0,
      schedulingMs: round3(schedulingMs),
      durationMs: round3((end ?? now) - t0),
      stopReason,
      iterations: {
        scheduled: started + droppedInFlight + droppedLag,
        started,
        completed,
        failed,
        interrupted,
        dropped: droppedInFlight + droppedLag,
        droppedBy: {maxInFlight: droppedInFlight, lag: droppedLag},
      },
      requests: {total: requestsTotal, failed: requestsFailed, aborted: requestsAborted, byStatus: {...byStatus}, failedByKind: {...failedByKind}, byEndpoint},
      latency: summarize(overall),
      scheduleLag: summarize(lag),
      counters: {...counters},
      failureSamples: samples.map((s) => ({...s})),
      inFlight,
      running: end === null,
    }
  }

  const result = (): LoadResult => {
    const {inFlight: _inFlight, running: _running, ...rest} = snapshot()
    return rest
  }

  const finished = drainedPromise.then(result)

  const onAbort = (): void => {
    endScheduling('aborted')
    abort.abort(options.signal?.reason)
  }
  if (options.signal?.aborted === true) onAbort()
  else {
    options.signal?.addEventListener('abort', onAbort, {once: true})
    void finished.then(() => options.signal?.removeEventListener('abort', onAbort))
    tick()
  }

  return {
    stats: snapshot,
    stop: () => {
      endScheduling('stopped')
      return finished
    },
    finished,
  }
}
