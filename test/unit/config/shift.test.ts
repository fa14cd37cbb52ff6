import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {UsageError} from '../../../src/cli/errors.js'
import type {PayctlConfigInput, ShiftStepInput} from '../../../src/config/index.js'
import {applyDefaults, DEFAULTS, findShiftStep, parseDuration, validateConfig} from '../../../src/config/index.js'
import {formatDurationInput} from '../../../src/config/duration.js'
import {DEFAULT_HOLD_MS, DEFAULT_LEASE_MS} from '../../../src/control/routing-store.js'

const EXAMPLE = fileURLToPath(new URL('../../../payctl.example.yaml', import.meta.url))

function withShift(shift: unknown): Record<string, unknown> {
  return {
    version: 1,
    source: {engine: 'sqlserver', host: 'mssql', user: 'u', database: 'Payments'},
    target: {engine: 'mysql', host: 'mysql', user: 'u', database: 'payments'},
    shift,
  }
}

const defaults = (shift?: unknown) => applyDefaults(withShift(shift) as unknown as PayctlConfigInput).shift
const issues = (shift: unknown) => validateConfig(withShift(shift)).map((i) => [i.path, i.message])

/** A valid list to break one step of. */
function steps(): ShiftStepInput[] {
  return [
    {name: 'shadow', kind: 'shadow', shadowPercent: 5, hold: '1m'},
    {name: 'reads-25', kind: 'reads', readsTargetPercent: 25, hold: 60},
    {name: 'reads-100', kind: 'reads', readsTargetPercent: 100, hold: '2m'},
    {name: 'flip', kind: 'write-flip', hold: '30s'},
    {name: 'watch', kind: 'observe', hold: '10m'},
  ]
}

describe('parseDuration', () => {
  it.each<[unknown, number | null]>([
    [30, 30_000],
    [0.25, 250],
    [0, 0],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    ['0s', 0],
    ['30', null],
    ['30 s', null],
    ['-1s', null],
    ['1d', null],
    ['01s', null],
    [-1, null],
    [Number.NaN, null],
    [true, null],
    [null, null],
  ])('%j -> %j', (value, ms) => {
    expect(parseDuration(value)).toBe(ms)
  })

  it('writes durations back the short way', () => {
    expect([0, 500, 1_500, 30_000, 60_000, 120_000, 3_600_000].map(formatDurationInput)).toEqual(['0s', '500ms', '1.5s', '30s', '1m', '2m', '1h'])
  })
})

describe('shift section defaults', () => {
  it('has the default steps: shadow, then reads 10, 50, 100, then the write flip and an observation', () => {
    const shift = defaults()
    expect(shift.steps).toEqual([
      {name: 'shadow', kind: 'shadow', readsTargetPercent: 0, shadowPercent: 10, writes: 'source', holdMs: 30_000},
      {name: 'reads-10', kind: 'reads', readsTargetPercent: 10, shadowPercent: 10, writes: 'source', holdMs: 30_000},
      {name: 'reads-50', kind: 'reads', readsTargetPercent: 50, shadowPercent: 10, writes: 'source', holdMs: 30_000},
      {name: 'reads-100', kind: 'reads', readsTargetPercent: 100, shadowPercent: 10, writes: 'source', holdMs: 30_000},
      {name: 'write-flip', kind: 'write-flip', readsTargetPercent: 100, shadowPercent: 10, writes: 'target', holdMs: 30_000},
      {name: 'observe', kind: 'observe', readsTargetPercent: 100, shadowPercent: 10, writes: 'target', holdMs: 60_000},
    ])
    expect(shift.writeFlip).toEqual({pauseBudgetMs: 2_000, holdMs: 2_000, leaseMs: 1_000})
    expect(shift.gates).toEqual({
      intervalMs: 5_000,
      scrapeTimeoutMs: 2_000,
      failureLimit: 1,
      inconclusiveLimit: 2,
      minRequests: 20,
      minShadowReads: 10,
      errorRate: 0.01,
      p99Ms: 250,
      shadowMismatchRate: 0.001,
      forwardLagSeconds: 5,
      reverseLagSeconds: 5,
    })
  })

  it('uses the same hold and lease as the routing state the runtime starts with', () => {
    expect(defaults().writeFlip).toMatchObject({holdMs: DEFAULT_HOLD_MS, leaseMs: DEFAULT_LEASE_MS})
  })

  it('passes validation with an empty section, and with the default steps written out', () => {
    expect(validateConfig(withShift({}))).toEqual([])
    expect(validateConfig(withShift({steps: DEFAULTS.shiftSteps}))).toEqual([])
  })

  it('takes what the file says over the defaults, and a step list replaces the default one', () => {
    const shift = defaults({steps: steps(), writeFlip: {pauseBudget: 5, leaseMs: 3000}, gates: {interval: '10s', failureLimit: 0, p99Ms: 400, errorRate: 0.005}})
    expect(shift.steps.map((s) => [s.name, s.readsTargetPercent, s.shadowPercent, s.writes, s.holdMs])).toEqual([
      ['shadow', 0, 5, 'source', 60_000],
      ['reads-25', 25, 5, 'source', 60_000],
      ['reads-100', 100, 5, 'source', 120_000],
      ['flip', 100, 5, 'target', 30_000],
      ['watch', 100, 5, 'target', 600_000],
    ])
    expect(shift.writeFlip).toEqual({pauseBudgetMs: 5_000, holdMs: 2_000, leaseMs: 3_000})
    expect(shift.gates).toMatchObject({intervalMs: 10_000, scrapeTimeoutMs: 2_000, failureLimit: 0, p99Ms: 400, errorRate: 0.005, minRequests: 20})
  })

  it('carries percentages over from the step before, and lets a later step change shadow reads', () => {
    const list = steps()
    list[2] = {name: 'reads-100', kind: 'reads', readsTargetPercent: 100, shadowPercent: 0, hold: 1}
    list[4] = {name: 'watch', kind: 'observe', shadowPercent: 20, hold: 1}
    expect(validateConfig(withShift({steps: list}))).toEqual([])
    expect(defaults({steps: list}).steps.map((s) => s.shadowPercent)).toEqual([5, 5, 0, 0, 20])
  })

  it('shrinks the default scrape timeout to a shorter interval', () => {
    expect(defaults({gates: {interval: '1s'}}).gates).toMatchObject({intervalMs: 1_000, scrapeTimeoutMs: 1_000})
  })

  it('accepts payctl.example.yaml, whose shift section spells out the defaults', async () => {
    const raw = parse(await readFile(EXAMPLE, 'utf8')) as PayctlConfigInput
    expect(validateConfig(raw)).toEqual([])
    expect(raw.shift).toBeDefined()
    expect(applyDefaults(raw).shift).toEqual(defaults())
  })
})

describe('shift section validation', () => {
  it('accepts a valid custom list', () => {
    expect(issues({steps: steps()})).toEqual([])
  })

  it.each<[string, (s: ShiftStepInput[]) => unknown, string, string]>([
    [
      'duplicate name',
      (s) => ((s[2] as ShiftStepInput).name = 'reads-25'),
      '/shift/steps/2/name',
      '"reads-25" is already the name of steps/1; --to and status name steps, so each name must be unique',
    ],
    [
      'no write-flip',
      (s) => s.splice(3, 1),
      '/shift/steps',
      'has no write-flip step; the steps must move writes to the target once, after reads reached 100%',
    ],
    [
      'a second write-flip',
      (s) => s.push({name: 'flip-again', kind: 'write-flip', hold: 1}),
      '/shift/steps/5/kind',
      'is a second write-flip (step "flip" is one); writes move to the target once, going back is payctl rollback',
    ],
    [
      'reads going back',
      (s) => s.splice(2, 0, {name: 'reads-10', kind: 'reads', readsTargetPercent: 10, hold: 1}),
      '/shift/steps/2/readsTargetPercent',
      'is 10, below the 25 of step "reads-25"; before the write flip reads only move toward the target (going back is payctl rollback)',
    ],
    [
      'flip before reads reach 100',
      (s) => s.splice(2, 1),
      '/shift/steps/2',
      'the write flip needs every read on the target first (step "reads-25" before it leaves reads at 25%); reads left on the source would miss the writes the target takes',
    ],
    [
      'reads step after the flip',
      (s) => s.push({name: 'more', kind: 'reads', readsTargetPercent: 100, hold: 1}),
      '/shift/steps/5/kind',
      'a reads step cannot follow the write flip (step "flip"): from the flip on, writes and every read are on the target; only observe steps may follow',
    ],
    [
      'reads step without its percentage',
      (s) => delete (s[1] as ShiftStepInput).readsTargetPercent,
      '/shift/steps/1',
      'missing required key "readsTargetPercent": a reads step sets the share of reads the target serves',
    ],
    [
      'shadow step without shadow reads',
      (s) => delete (s[0] as ShiftStepInput).shadowPercent,
      '/shift/steps/0',
      'missing required key "shadowPercent": step "shadow" is a shadow step and no step before it sets shadow reads',
    ],
    [
      'shadow step with shadow 0',
      (s) => ((s[0] as ShiftStepInput).shadowPercent = 0),
      '/shift/steps/0/shadowPercent',
      'must be above 0 in a shadow step (got 0); a shadow step compares a share of reads on both sides',
    ],
    [
      'readsTargetPercent on the flip',
      (s) => ((s[3] as ShiftStepInput).readsTargetPercent = 100),
      '/shift/steps/3/readsTargetPercent',
      'does not apply to a write-flip step: the flip moves every read to the target with the writes; remove it',
    ],
    [
      'readsTargetPercent on observe',
      (s) => ((s[4] as ShiftStepInput).readsTargetPercent = 100),
      '/shift/steps/4/readsTargetPercent',
      'does not apply to an observe step, which holds the routing as it is; move reads with a reads step, or remove it',
    ],
    [
      'percent out of range',
      (s) => ((s[1] as ShiftStepInput).readsTargetPercent = 101),
      '/shift/steps/1/readsTargetPercent',
      'must be an integer between 0 and 100 (got 101)',
    ],
    [
      'fractional percent',
      (s) => ((s[1] as ShiftStepInput).readsTargetPercent = 12.5),
      '/shift/steps/1/readsTargetPercent',
      'must be an integer between 0 and 100 (got 12.5)',
    ],
    [
      'unknown kind',
      (s) => ((s[1] as {kind: string}).kind = 'read'),
      '/shift/steps/1/kind',
      'must be one of: shadow, reads, write-flip, observe (got "read"); did you mean "reads"?',
    ],
    [
      'bad duration',
      (s) => ((s[1] as ShiftStepInput).hold = '30 sec'),
      '/shift/steps/1/hold',
      'must be a duration: a number of seconds, or a number with ms, s, m or h ("500ms", "30s", "2m") (got "30 sec")',
    ],
    [
      'negative duration',
      (s) => ((s[1] as ShiftStepInput).hold = -5),
      '/shift/steps/1/hold',
      'must be a duration: a number of seconds, or a number with ms, s, m or h ("500ms", "30s", "2m") (got -5)',
    ],
    ['hold over a day', (s) => ((s[1] as ShiftStepInput).hold = '25h'), '/shift/steps/1/hold', 'must be a duration between 0s and 24h (got "25h")'],
    [
      'bad step name',
      (s) => ((s[1] as ShiftStepInput).name = 'reads 25'),
      '/shift/steps/1/name',
      'must be a step name: letters, digits, ., _ and -, starting with a letter or digit, at most 63 characters (got "reads 25")',
    ],
    ['missing hold', (s) => delete (s[1] as Partial<ShiftStepInput>).hold, '/shift/steps/1', 'missing required key "hold"'],
    ['Argo-style key', (s) => ((s[1] as unknown as Record<string, unknown>).setWeight = 25), '/shift/steps/1/setWeight', 'unknown key "setWeight"; did you mean "readsTargetPercent"?'],
    ['type for kind', (s) => ((s[1] as unknown as Record<string, unknown>).type = 'reads'), '/shift/steps/1/type', 'unknown key "type"; did you mean "kind"?'],
  ])('%s', (_name, breakIt, path, message) => {
    const list = steps()
    breakIt(list)
    expect(issues({steps: list})).toEqual([[path, message]])
  })

  it('reports every problem of a list at once, by path', () => {
    const list: unknown[] = [
      {name: 'a', kind: 'reads', readsTargetPercent: 50, hold: '1m'},
      {name: 'a', kind: 'reads', readsTargetPercent: 20, hold: '1m'},
      {name: 'flip', kind: 'write-flip', hold: 'soon'},
    ]
    expect(issues({steps: list}).map(([path]) => path)).toEqual(['/shift/steps/1/name', '/shift/steps/1/readsTargetPercent', '/shift/steps/2', '/shift/steps/2/hold'])
  })

  it.each<[string, unknown, string, string]>([
    ['empty list', {steps: []}, '/shift/steps', 'must be a list of mappings with keys name, kind, hold with at least one entry (got an empty list)'],
    ['list as a mapping', {steps: {shadow: {}}}, '/shift/steps', 'must be a list of mappings with keys name, kind, hold with at least one entry (got a mapping)'],
    ['interval too short', {gates: {interval: '500ms'}}, '/shift/gates/interval', 'must be a duration between 1s and 10m (got "500ms")'],
    ['interval too long', {gates: {interval: 3600}}, '/shift/gates/interval', 'must be a duration between 1s and 10m (got 3600)'],
    ['scrape timeout past the interval', {gates: {interval: '2s', scrapeTimeout: '3s'}}, '/shift/gates/scrapeTimeout', 'is longer than gates.interval (2s); a scrape must end before the next sample is due'],
    ['scrape timeout past the default interval', {gates: {scrapeTimeout: '6s'}}, '/shift/gates/scrapeTimeout', 'is longer than gates.interval (5s); a scrape must end before the next sample is due'],
    ['scrape timeout too short', {gates: {scrapeTimeout: '10ms'}}, '/shift/gates/scrapeTimeout', 'must be a duration of at least 100ms (got "10ms")'],
    ['error rate as a percentage', {gates: {errorRate: 1.5}}, '/shift/gates/errorRate', 'must be a number between 0 and 1 (got 1.5)'],
    ['negative failure limit', {gates: {failureLimit: -1}}, '/shift/gates/failureLimit', 'must be an integer of at least 0 (got -1)'],
    ['zero minRequests', {gates: {minRequests: 0}}, '/shift/gates/minRequests', 'must be an integer of at least 1 (got 0)'],
    ['p99 of zero', {gates: {p99Ms: 0}}, '/shift/gates/p99Ms', 'must be a number of at least 1 (got 0)'],
    ['quoted lag', {gates: {forwardLagSeconds: '5'}}, '/shift/gates/forwardLagSeconds', 'must be a number of at least 0 (got "5"); write the number without quotes'],
    ['unknown gate', {gates: {p99: 300}}, '/shift/gates/p99', 'unknown key "p99"; did you mean "p99Ms"?'],
    ['Flagger threshold', {gates: {threshold: 3}}, '/shift/gates/threshold', 'unknown key "threshold"; did you mean "failureLimit"?'],
    [
      'pause budget over a minute',
      {writeFlip: {pauseBudget: '5m'}},
      '/shift/writeFlip/pauseBudget',
      'must be a duration between 100ms and 1m (got "5m"); writes are held for the whole pause, so a longer one is an outage',
    ],
    ['lease too short', {writeFlip: {leaseMs: 100}}, '/shift/writeFlip/leaseMs', 'must be an integer between 300 and 60000 (got 100)'],
    ['hold over a minute', {writeFlip: {holdMs: 120_000}}, '/shift/writeFlip/holdMs', 'must be an integer between 0 and 60000 (got 120000)'],
    ['unknown section key', {step: []}, '/shift/step', 'unknown key "step"; did you mean "steps"?'],
  ])('%s', (_name, shift, path, message) => {
    expect(issues(shift)).toEqual([[path, message]])
  })
})

describe('findShiftStep', () => {
  const list = defaults().steps

  it('finds a step by name with its position', () => {
    const found = findShiftStep(list, 'reads-50')
    expect(found.index).toBe(2)
    expect(found.step).toMatchObject({name: 'reads-50', readsTargetPercent: 50})
  })

  it('refuses an unknown name as bad usage, listing the names and suggesting the closest', () => {
    let err: unknown
    try {
      findShiftStep(list, 'reads-5O')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(UsageError)
    const e = err as UsageError
    expect(e.exitCode).toBe(2)
    expect(e.code).toBe('PAYCTL_SHIFT_UNKNOWN_STEP')
    expect(e.message).toBe('No shift step is named "reads-5O"; did you mean "reads-50"?')
    expect(e.actions).toEqual(['Pass one of the steps of payctl.yaml (shift.steps): shadow, reads-10, reads-50, reads-100, write-flip, observe.'])
  })
})
