/**
 * The `shift` section of payctl.yaml: resolving the steps (what each one leaves out carries over
 * from the step before), the rules the JSON Schema cannot say, and finding a step by name for
 * `payctl shift-traffic --to STEP`.
 *
 * The rules follow from what a step may undo. Before the write flip every step is undone by routing
 * alone, so reads only ever move toward the target there (going back is `payctl rollback`, not a
 * step). The flip moves writes and needs every read on the target already: a read left on the
 * source afterwards would miss the writes the target takes. After it, only observe steps remain.
 */
import {UsageError} from '../cli/errors.js'
import {formatDurationInput, parseDuration} from './duration.js'
import type {GatesConfig, ShiftConfig, ShiftConfigInput, ShiftStep, ShiftStepInput, WriteFlipConfig} from './schema.js'
import {DEFAULTS} from './schema.js'
import type {ConfigIssue} from './validate.js'
import {suggest} from './validate.js'

/** Duration limits the schema cannot state for the string form ("30s"). */
const DURATION_LIMITS = {
  hold: {min: 0, max: 86_400_000, why: ''},
  interval: {min: 1_000, max: 600_000, why: ''},
  pauseBudget: {min: 100, max: 60_000, why: '; writes are held for the whole pause, so a longer one is an outage'},
} as const

/** The steps, write flip and gates with defaults applied. Call it only on a section that validated. */
export function resolveShift(input: ShiftConfigInput | undefined): ShiftConfig {
  const g = input?.gates ?? {}
  const w = input?.writeFlip ?? {}
  const writeFlip: WriteFlipConfig = {
    pauseBudgetMs: durationMs(w.pauseBudget ?? DEFAULTS.shiftPauseBudget),
    holdMs: w.holdMs ?? DEFAULTS.shiftHoldMs,
    leaseMs: w.leaseMs ?? DEFAULTS.shiftLeaseMs,
  }
  const gates: GatesConfig = {
    intervalMs: durationMs(g.interval ?? DEFAULTS.gateInterval),
    scrapeTimeoutMs: durationMs(g.scrapeTimeout ?? DEFAULTS.gateScrapeTimeout),
    failureLimit: g.failureLimit ?? DEFAULTS.gateFailureLimit,
    inconclusiveLimit: g.inconclusiveLimit ?? DEFAULTS.gateInconclusiveLimit,
    minRequests: g.minRequests ?? DEFAULTS.gateMinRequests,
    minShadowReads: g.minShadowReads ?? DEFAULTS.gateMinShadowReads,
    errorRate: g.errorRate ?? DEFAULTS.gateErrorRate,
    p99Ms: g.p99Ms ?? DEFAULTS.gateP99Ms,
    shadowMismatchRate: g.shadowMismatchRate ?? DEFAULTS.gateShadowMismatchRate,
    forwardLagSeconds: g.forwardLagSeconds ?? DEFAULTS.gateForwardLagSeconds,
    reverseLagSeconds: g.reverseLagSeconds ?? DEFAULTS.gateReverseLagSeconds,
  }
  // A scrape must end before the next sample is due: the default timeout shrinks with a short interval.
  if (g.scrapeTimeout === undefined) gates.scrapeTimeoutMs = Math.min(gates.scrapeTimeoutMs, gates.intervalMs)
  return {steps: resolveShiftSteps(input?.steps ?? DEFAULTS.shiftSteps), writeFlip, gates}
}

/** Each step with the routing it runs under: percentages carried over, writes on the target from the flip on. */
export function resolveShiftSteps(steps: readonly ShiftStepInput[]): ShiftStep[] {
  let reads = 0
  let shadow = 0
  let flipped = false
  return steps.map((s) => {
    if (s.kind === 'write-flip') flipped = true
    reads = flipped ? 100 : (s.readsTargetPercent ?? reads)
    shadow = s.shadowPercent ?? shadow
    return {name: s.name, kind: s.kind, readsTargetPercent: reads, shadowPercent: shadow, writes: flipped ? 'target' : 'source', holdMs: durationMs(s.hold)}
  })
}

/** The step `name` names (for --to), or a usage error (exit 2) that lists the names and suggests one. */
export function findShiftStep(steps: readonly ShiftStep[], name: string): {index: number; step: ShiftStep} {
  const index = steps.findIndex((s) => s.name === name)
  const step = steps[index]
  if (step !== undefined) return {index, step}
  const names = steps.map((s) => s.name)
  const hint = suggest(name, names)
  throw new UsageError('PAYCTL_SHIFT_UNKNOWN_STEP', `No shift step is named ${JSON.stringify(name)}${hint === null ? '' : `; did you mean ${JSON.stringify(hint)}?`}`, {
    actions: [`Pass one of the steps of payctl.yaml (shift.steps): ${names.join(', ')}.`],
    data: {step: name, steps: names},
  })
}

function durationMs(v: number | string): number {
  const ms = parseDuration(v)
  if (ms === null) throw new Error(`not a duration: ${JSON.stringify(v)} (resolveShift runs only on a validated config)`)
  return ms
}

// ---------------------------------------------------------------------------------------------
// Rules across keys. The raw value has not necessarily passed the schema: each rule looks only at
// values of the right type, and leaves the rest to the schema's own messages.

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const isPercent = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100

export function shiftIssues(shift: unknown): ConfigIssue[] {
  if (!isObj(shift)) return []
  const issues: ConfigIssue[] = []
  if (Array.isArray(shift.steps)) issues.push(...stepIssues(shift.steps))
  const w = shift.writeFlip
  if (isObj(w)) issues.push(...rangeIssue('/shift/writeFlip/pauseBudget', w.pauseBudget, DURATION_LIMITS.pauseBudget))
  const g = shift.gates
  if (isObj(g)) {
    issues.push(...rangeIssue('/shift/gates/interval', g.interval, DURATION_LIMITS.interval))
    const interval = parseDuration(g.interval ?? DEFAULTS.gateInterval)
    const timeout = parseDuration(g.scrapeTimeout)
    if (timeout !== null && timeout < 100) {
      issues.push({path: '/shift/gates/scrapeTimeout', message: `must be a duration of at least 100ms (got ${show(g.scrapeTimeout)})`, expected: 'a duration of at least 100ms', keyword: 'duration'})
    } else if (timeout !== null && interval !== null && timeout > interval) {
      issues.push({
        path: '/shift/gates/scrapeTimeout',
        message: `is longer than gates.interval (${formatDurationInput(interval)}); a scrape must end before the next sample is due`,
        expected: `a duration of at most ${formatDurationInput(interval)}`,
        keyword: 'duration',
      })
    }
  }
  return issues
}

function stepIssues(steps: unknown[]): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const seen = new Map<string, number>()
  let reads = 0
  let shadow = 0
  let lastReadsFrom: string | null = null
  let flip: string | null = null
  steps.forEach((raw, i) => {
    if (!isObj(raw)) return
    const at = `/shift/steps/${i}`
    const name = typeof raw.name === 'string' ? raw.name : null
    const label = name === null ? `step steps/${i}` : `step ${JSON.stringify(name)}`
    if (name !== null) {
      const first = seen.get(name)
      if (first === undefined) seen.set(name, i)
      else {
        issues.push({
          path: `${at}/name`,
          message: `${JSON.stringify(name)} is already the name of steps/${first}; --to and status name steps, so each name must be unique`,
          expected: 'a step name no other step has',
          keyword: 'uniqueName',
        })
      }
    }
    issues.push(...rangeIssue(`${at}/hold`, raw.hold, DURATION_LIMITS.hold))

    const kind = raw.kind
    const after = flip !== null
    if (kind === 'write-flip') {
      if (after) {
        issues.push({
          path: `${at}/kind`,
          message: `is a second write-flip (${flip} is one); writes move to the target once, going back is payctl rollback`,
          expected: 'exactly one write-flip step',
          keyword: 'writeFlip',
        })
      } else {
        flip = label
        if (reads < 100) {
          const from = lastReadsFrom === null ? 'no step before it moves reads' : `${lastReadsFrom} before it leaves reads at ${reads}%`
          issues.push({
            path: at,
            message: `the write flip needs every read on the target first (${from}); reads left on the source would miss the writes the target takes`,
            expected: 'a reads step with readsTargetPercent: 100 before the write-flip',
            keyword: 'writeFlip',
          })
        }
      }
    } else if ((kind === 'shadow' || kind === 'reads') && after) {
      issues.push({
        path: `${at}/kind`,
        message: `a ${kind} step cannot follow the write flip (${flip ?? ''}): from the flip on, writes and every read are on the target; only observe steps may follow`,
        expected: 'observe',
        keyword: 'writeFlip',
      })
    }

    const r = raw.readsTargetPercent
    if (kind === 'reads' && r === undefined) {
      issues.push({path: at, message: 'missing required key "readsTargetPercent": a reads step sets the share of reads the target serves', expected: 'an integer between 0 and 100', keyword: 'required'})
    }
    if ((kind === 'write-flip' || kind === 'observe') && r !== undefined) {
      issues.push({
        path: `${at}/readsTargetPercent`,
        message:
          kind === 'write-flip'
            ? 'does not apply to a write-flip step: the flip moves every read to the target with the writes; remove it'
            : 'does not apply to an observe step, which holds the routing as it is; move reads with a reads step, or remove it',
        expected: null,
        keyword: 'stepKind',
      })
    }
    if ((kind === 'shadow' || kind === 'reads') && !after && isPercent(r)) {
      if (r < reads) {
        issues.push({
          path: `${at}/readsTargetPercent`,
          message: `is ${r}, below the ${reads} of ${lastReadsFrom ?? 'the step before it'}; before the write flip reads only move toward the target (going back is payctl rollback)`,
          expected: `an integer between ${reads} and 100`,
          keyword: 'readsOrder',
        })
      } else {
        reads = r
        lastReadsFrom = label
      }
    }

    const sh = raw.shadowPercent
    if (isPercent(sh)) shadow = sh
    if (kind === 'shadow' && shadow === 0 && (sh === undefined || isPercent(sh))) {
      issues.push({
        path: sh === undefined ? at : `${at}/shadowPercent`,
        message: sh === undefined ? `missing required key "shadowPercent": ${label} is a shadow step and no step before it sets shadow reads` : 'must be above 0 in a shadow step (got 0); a shadow step compares a share of reads on both sides',
        expected: 'an integer between 1 and 100',
        keyword: sh === undefined ? 'required' : 'stepKind',
      })
    }
  })
  if (flip === null && steps.length > 0) {
    issues.push({path: '/shift/steps', message: 'has no write-flip step; the steps must move writes to the target once, after reads reached 100%', expected: 'exactly one step with kind: write-flip', keyword: 'writeFlip'})
  }
  return issues
}

function rangeIssue(path: string, value: unknown, limit: {min: number; max: number; why: string}): ConfigIssue[] {
  const ms = parseDuration(value)
  if (ms === null || (ms >= limit.min && ms <= limit.max)) return []
  const expected = `a duration between ${formatDurationInput(limit.min)} and ${formatDurationInput(limit.max)}`
  return [{path, message: `must be ${expected} (got ${show(value)})${limit.why}`, expected, keyword: 'duration'}]
}

function show(v: unknown): string {
  return JSON.stringify(v)
}
