/**
 * Holding one shift step under its gates: a baseline scrape, then a sample every interval for the
 * step's hold time, each judged by every gate, counted against the step's limits.
 *
 * Counting follows Argo Rollouts' analysis (failureLimit and inconclusiveLimit are cumulative
 * within the step, not consecutive): a step tolerates `failureLimit` failed samples and fails at
 * the next one, at once, without waiting out its hold; likewise `inconclusiveLimit` for samples
 * without a verdict. A step passes when its hold is over within both limits and at least one
 * sample passed: a step whose every sample was inconclusive has shown nothing and does not pass.
 * Every step takes at least one sample, however short its hold.
 *
 * What the runner does with the outcome (roll back on fail, stop for a person on inconclusive)
 * is not decided here.
 */
import type {GatesConfig, ShiftStepKind} from '../config/schema.js'
import type {Clock, GateContext, GateResult, InstanceWindow, ReplicationLag, TrafficWindow} from './gates.js'
import {evaluateGates, sampleOutcome, systemClock} from './gates.js'

export type SampleOutcome = 'pass' | 'fail' | 'inconclusive'
export type StepOutcome = 'pass' | 'fail' | 'inconclusive'

/** One sample of a step: the window's figures and every gate's verdict. Stable JSON. */
export interface GateSample {
  step: string
  /** 1-based, within the step. */
  index: number
  outcome: SampleOutcome
  /** ISO times of the two scrapes the window lies between. */
  startedAt: string
  endedAt: string
  windowMs: number
  traffic: {
    requests: number
    serverErrors: number
    statements: {source: number; target: number}
    shadow: {matched: number; mismatched: number; errors: number}
  }
  lag: {forwardSeconds: number | null; reverseSeconds: number | null}
  instances: InstanceWindow[]
  /** Why some live traffic is missing from the window (then no gate passes on it). */
  incomplete: string[]
  gates: GateResult[]
}

/** The gates' verdict on a whole step. Stable JSON. */
export interface StepGateResult {
  step: string
  kind: ShiftStepKind
  outcome: StepOutcome
  /** One sentence: the outcome, the counts against the limits, and the deciding gate's reason. */
  reason: string
  startedAt: string
  endedAt: string
  /** Hold time asked for, and samples it plans (max(1, ceil(hold / interval))). */
  holdMs: number
  samplesPlanned: number
  samplesTaken: number
  passed: number
  failed: number
  inconclusive: number
  failureLimit: number
  inconclusiveLimit: number
  /** The gates that decided a fail (the failing ones) or an inconclusive (the inconclusive ones) in the deciding sample; empty on pass. */
  deciding: GateResult[]
  samples: GateSample[]
}

/** What the gates need of a step: its name, its hold, and what it routes. A ShiftStep is one. */
export interface GatedStep extends GateContext {
  name: string
  kind: ShiftStepKind
  holdMs: number
}

/** The counts so far, passed to onSample for progress lines. */
export interface StepTally {
  samplesPlanned: number
  passed: number
  failed: number
  inconclusive: number
}

export interface EvaluateStepOptions {
  step: GatedStep
  gates: GatesConfig
  /** Scrapes the instances; baseline() starts a fresh series of windows. A TrafficSampler is one. */
  sampler: {baseline(signal?: AbortSignal): Promise<void>; sample(signal?: AbortSignal): Promise<TrafficWindow>}
  /** Reads replication lag (the runner reads the control store); a throw makes the lag unknown. */
  lag: () => Promise<ReplicationLag>
  clock?: Clock
  /** Aborting stops at once with the signal's reason (the runner saves its state and exits 130). */
  signal?: AbortSignal
  onSample?: (sample: GateSample, tally: StepTally) => void
}

export function plannedSamples(holdMs: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(holdMs / intervalMs))
}

export async function evaluateStep(options: EvaluateStepOptions): Promise<StepGateResult> {
  const {step, gates, sampler, signal} = options
  const clock = options.clock ?? systemClock
  const planned = plannedSamples(step.holdMs, gates.intervalMs)
  const samples: GateSample[] = []
  const tally: StepTally = {samplesPlanned: planned, passed: 0, failed: 0, inconclusive: 0}
  const startedAt = clock.now()
  throwIfAborted(signal)
  await sampler.baseline(signal)
  // Sample times are fixed from the start, so slow scrapes do not stretch the step sample by sample.
  const t0 = clock.now()

  const finish = (outcome: StepOutcome, reason: string, deciding: GateResult[]): StepGateResult => ({
    step: step.name,
    kind: step.kind,
    outcome,
    reason,
    startedAt: iso(startedAt),
    endedAt: iso(clock.now()),
    holdMs: step.holdMs,
    samplesPlanned: planned,
    samplesTaken: samples.length,
    passed: tally.passed,
    failed: tally.failed,
    inconclusive: tally.inconclusive,
    failureLimit: gates.failureLimit,
    inconclusiveLimit: gates.inconclusiveLimit,
    deciding,
    samples,
  })

  for (let k = 1; k <= planned; k++) {
    const wait = t0 + k * gates.intervalMs - clock.now()
    if (wait > 0) await clock.sleep(wait, signal)
    throwIfAborted(signal)
    const window = await sampler.sample(signal)
    const lag = await readLag(options.lag, signal)
    const results = evaluateGates(window, lag, step, gates)
    const outcome = sampleOutcome(results)
    const sample = toSample(step.name, k, outcome, window, lag, results)
    samples.push(sample)
    if (outcome === 'pass') tally.passed++
    else if (outcome === 'fail') tally.failed++
    else tally.inconclusive++
    options.onSample?.(sample, {...tally})

    if (outcome === 'fail' && tally.failed > gates.failureLimit) {
      const failing = results.filter((r) => r.outcome === 'fail')
      const reason =
        `step ${JSON.stringify(step.name)} failed: ${count(tally.failed, 'failed sample')} of ${samples.length} taken, more than failureLimit ${gates.failureLimit}: ` +
        failing.map((r) => r.reason).join('; ')
      return finish('fail', reason, failing)
    }
    if (outcome === 'inconclusive' && tally.inconclusive > gates.inconclusiveLimit) {
      const unclear = results.filter((r) => r.outcome === 'inconclusive')
      const reason =
        `step ${JSON.stringify(step.name)} is inconclusive: ${count(tally.inconclusive, 'sample')} without a verdict of ${samples.length} taken, more than inconclusiveLimit ${gates.inconclusiveLimit}: ` +
        unclear.map((r) => r.reason).join('; ')
      return finish('inconclusive', reason, unclear)
    }
  }

  if (tally.passed === 0) {
    // Within both limits, yet nothing passed: e.g. one failed and one inconclusive sample in a short hold.
    const last = samples.at(-1)
    const deciding = last?.gates.filter((r) => r.outcome === 'fail' || r.outcome === 'inconclusive') ?? []
    return finish(
      'inconclusive',
      `step ${JSON.stringify(step.name)} is inconclusive: none of its ${count(samples.length, 'sample')} passed` + (deciding.length > 0 ? `: ${deciding.map((r) => r.reason).join('; ')}` : ''),
      deciding,
    )
  }
  const tolerated = tally.failed + tally.inconclusive > 0 ? ` (${[tally.failed > 0 ? `${tally.failed} failed` : '', tally.inconclusive > 0 ? `${tally.inconclusive} inconclusive` : ''].filter(Boolean).join(', ')}, within the limits)` : ''
  return finish('pass', `step ${JSON.stringify(step.name)} held ${formatHold(clock.now() - t0)}: ${tally.passed} of ${count(samples.length, 'sample')} passed${tolerated}`, [])
}

async function readLag(read: () => Promise<ReplicationLag>, signal: AbortSignal | undefined): Promise<ReplicationLag> {
  try {
    return await read()
  } catch (err) {
    throwIfAborted(signal)
    return {forwardSeconds: null, reverseSeconds: null, note: `could not be read: ${err instanceof Error ? err.message : String(err)}`}
  }
}

function toSample(step: string, index: number, outcome: SampleOutcome, w: TrafficWindow, lag: ReplicationLag, gates: GateResult[]): GateSample {
  return {
    step,
    index,
    outcome,
    startedAt: iso(w.startedAt),
    endedAt: iso(w.endedAt),
    windowMs: w.windowMs,
    traffic: {
      requests: w.requests,
      serverErrors: w.serverErrors,
      statements: {source: w.latency.source.statements, target: w.latency.target.statements},
      shadow: {...w.shadow},
    },
    lag: {forwardSeconds: lag.forwardSeconds, reverseSeconds: lag.reverseSeconds},
    instances: w.instances,
    incomplete: w.incomplete,
    gates,
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted')
}

const iso = (ms: number): string => new Date(ms).toISOString()
const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`

function formatHold(ms: number): string {
  const s = ms / 1_000
  return s < 60 ? `${Number(s.toFixed(1))} s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
}
