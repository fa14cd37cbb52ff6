/**
 * payctl shift-traffic: walks the configured steps (config/shift.ts) under the operator lease.
 *
 * Each read step writes one routing version (reads share, shadow share), waits until every live
 * runtime instance applied it, then holds it under the gates (steps.ts): pass moves on; fail rolls
 * reads back to the source at once, before the flip (routing alone undoes every step there), and
 * says why; inconclusive (no data never passes) stops and keeps the routing for a human to
 * --promote or --abort. The write-flip step waits for approval (--promote or --yes) and then runs
 * flip.ts; after it, a failing gate does not move writes back on its own (that is a data
 * operation with its own pause): it stops with exit 4 and names payctl rollback.
 *
 * State is saved after every step (cutover_state), so a rerun continues after the last completed
 * step; the lease keeps a second operator from driving at the same time.
 */
import {CheckFailedError, EnvironmentError, UsageError} from '../cli/errors.js'
import type {ShiftConfig, ShiftStep} from '../config/index.js'
import {findShiftStep} from '../config/shift.js'
import {type CutoverState, type FlipMeasurement, LeaseHeldError, type ShiftFailure} from '../control/cutover-store.js'
import type {RoutingDesired, RoutingVersion} from '../control/routing-store.js'
import {type CutoverEnv, currentRouting, waitForAcks} from './env.js'
import {type FlipEvent, flipWrites, FlipRevertedError, replicationProcess} from './flip.js'
import {httpScraper, type ReplicationLag, scrapeTargets, TrafficSampler} from './gates.js'
import {recordFlip, rollback} from './rollback.js'
import {evaluateStep, type GateSample, type StepGateResult, type StepTally} from './steps.js'

export interface ShiftOptions {
  shift: ShiftConfig
  /** Stop after this step (inclusive). */
  to?: string
  /** Approve the write flip, or go on past an inconclusive step. */
  promote: boolean
  /** Approve the write flip without stopping for it. */
  yes: boolean
  /** Roll back (before the flip) and end the shift. */
  abort: boolean
  reason: string | null
  signal?: AbortSignal
  onEvent?: (e: ShiftEvent) => void
}

export type ShiftEvent =
  | {kind: 'step-start'; step: ShiftStep; index: number; of: number}
  | {kind: 'routing'; version: number; desired: RoutingDesired}
  | {kind: 'sample'; step: string; sample: GateSample; tally: StepTally}
  | {kind: 'step-end'; step: string; result: StepGateResult | null; note: string}
  | {kind: 'flip'; event: FlipEvent}
  | {kind: 'rolled-back'; version: number; reason: string}

export interface ShiftResult {
  status: CutoverState['status']
  /** Steps run by this command, with their gate results. */
  steps: Array<{step: string; kind: string; outcome: 'pass' | 'fail' | 'inconclusive' | 'skipped'; reason: string; gates: StepGateResult | null}>
  /** The next step to run, null when the shift is through. */
  next: string | null
  waitingForApproval: boolean
  flip: FlipMeasurement | null
  failure: ShiftFailure | null
  routingVersion: number
}

const LEASE_RENEW_MS = 3_000

export async function shiftTraffic(env: CutoverEnv, o: ShiftOptions): Promise<ShiftResult> {
  const steps = o.shift.steps
  const last = o.to === undefined ? steps.length - 1 : findShiftStep(steps, o.to).index
  return withLease(env, false, (lease) => run(env, o, steps, last, lease))
}

export interface LeaseHandle {
  /** Throws when this process no longer holds the lease (another operator took it over). */
  check(): void
}

/**
 * Runs fn under the operator lease, renewed every few seconds. A renewal that finds another holder
 * (a rollback with --force took it) marks the lease lost: fn's next check() stops it before it
 * changes routing again.
 */
export async function withLease<T>(env: CutoverEnv, force: boolean, fn: (lease: LeaseHandle) => Promise<T>): Promise<T> {
  try {
    await env.cutover.acquire(env.control, env.actor, undefined, force)
  } catch (err) {
    if (err instanceof LeaseHeldError) {
      throw new EnvironmentError('PAYCTL_SHIFT_LEASE_HELD', err.message, {
        actions: ['Wait for it, or watch it with payctl status; a crashed holder\'s lease expires by itself. payctl rollback --force takes the lease over (that shift then stops before its next routing change).'],
      })
    }
    throw err
  }
  let lost: Error | null = null
  let renewing = Promise.resolve()
  const renew = setInterval(() => {
    renewing = env.cutover.acquire(env.control, env.actor).catch((err: unknown) => {
      if (err instanceof LeaseHeldError) lost ??= err
    })
  }, LEASE_RENEW_MS)
  const lease: LeaseHandle = {
    check: () => {
      if (lost !== null) {
        throw new EnvironmentError('PAYCTL_SHIFT_LEASE_LOST', `Another operator took over the traffic shift (${lost.message}); this one stopped without changing routing again.`, {
          actions: ['payctl status shows what they did.'],
        })
      }
    },
  }
  try {
    return await fn(lease)
  } finally {
    clearInterval(renew)
    await renewing
    if (lost === null) await env.cutover.release(env.control, env.actor).catch(() => undefined)
  }
}

async function run(env: CutoverEnv, o: ShiftOptions, steps: readonly ShiftStep[], last: number, lease: LeaseHandle): Promise<ShiftResult> {
  const emit = (e: ShiftEvent): void => o.onEvent?.(e)
  const results: ShiftResult['steps'] = []
  // --promote approves one thing, in the first step this run takes: the write flip, or going on
  // past that step's inconclusive hold (set below, once the first step is known)
  let promote = false
  let state = await env.cutover.state(env.control)
  const names = steps.map((s) => s.name)
  const routing = await currentRouting(env)

  if (o.abort) {
    if (routing.desired.writes === 'target') {
      throw new UsageError('PAYCTL_SHIFT_ABORT_AFTER_FLIP', 'Writes are already on the target: --abort only undoes the steps before the write flip.', {
        actions: ['Run payctl rollback: it moves writes back to the source without losing one (pause, drain reverse replication, flip back).'],
      })
    }
    const r = await rollback(env, {budgetMs: o.shift.writeFlip.pauseBudgetMs, holdMs: o.shift.writeFlip.holdMs, leaseMs: o.shift.writeFlip.leaseMs, reason: o.reason ?? 'payctl shift-traffic --abort', ...(o.signal === undefined ? {} : {signal: o.signal})})
    emit({kind: 'rolled-back', version: r.version, reason: o.reason ?? 'aborted'})
    state = await env.cutover.state(env.control)
    return {status: state.status, steps: results, next: steps[0]?.name ?? null, waitingForApproval: false, flip: null, failure: state.failure, routingVersion: r.version}
  }
  if (routing.desired.writes === 'paused') {
    throw new EnvironmentError('PAYCTL_FLIP_STATE', `Writes are paused (routing version ${routing.version}), left by a write flip that did not finish.`, {
      actions: ['Run payctl rollback: it puts writes back where they were, then run payctl shift-traffic again.'],
    })
  }
  if (state.status === 'finalized') {
    throw new UsageError('PAYCTL_SHIFT_FINALIZED', 'The migration is finalized: writes and reads are on the target and reverse replication is stopped.', {actions: ['Nothing to shift; payctl status shows the final state.']})
  }

  // Where to start: after the last completed step of this shift, or from the beginning.
  const fresh = state.status === 'not-started' || state.status === 'rolled-back' || state.completed < 0 || state.steps.join('\u0000') !== names.join('\u0000')
  let index = fresh ? 0 : state.completed + 1
  if (fresh && routing.desired.writes === 'target') {
    // the routing says the flip happened (a shift whose state was lost, or steps renamed since): continue after the flip
    index = steps.findIndex((s) => s.kind === 'write-flip') + 1
  }
  promote = o.promote
  const promoted = steps[index]?.name ?? null
  state = {...state, steps: names, completed: index - 1, status: 'shifting', failure: fresh ? null : state.failure}
  await env.cutover.save(env.control, state)

  const sampler = new TrafficSampler(async () => scrapeTargets(await env.routing.instances(env.control), (await currentRouting(env)).desired.leaseMs), httpScraper({timeoutMs: o.shift.gates.scrapeTimeoutMs}))
  const lag = async (): Promise<ReplicationLag> => {
    const p = await replicationProcess(env)
    if (!p.alive) return {forwardSeconds: null, reverseSeconds: null, note: 'payctl replicate is not running'}
    // an unknown lag stays unknown (inconclusive), never the other direction's figure
    return p.direction === 'reverse' ? {forwardSeconds: null, reverseSeconds: p.reverseLagSeconds} : {forwardSeconds: p.lagSeconds, reverseSeconds: null}
  }
  let flip: FlipMeasurement | null = null
  // the routing version this shift last wrote (or found): anyone else's change stops the shift
  let expected = routing.version
  const guard = async (): Promise<RoutingVersion> => {
    lease.check()
    const now = await currentRouting(env)
    if (now.version !== expected) {
      throw new EnvironmentError('PAYCTL_SHIFT_ROUTING_CHANGED', `The routing changed under this shift: version ${now.version} by ${now.createdBy} (${now.reason ?? 'no reason given'}); it stopped without changing routing.`, {
        actions: ['payctl status shows the routing now; run payctl shift-traffic again to continue from there.'],
      })
    }
    return now
  }

  for (; index <= last && index < steps.length; index++) {
    const step = steps[index]
    if (step === undefined) break
    emit({kind: 'step-start', step, index, of: steps.length})
    const now = await guard()
    if (step.name !== promoted) promote = false
    state = await env.cutover.update(env.control, (s) => ({...s, current: step.name, status: 'shifting'}))

    if (step.kind === 'write-flip' && now.desired.writes !== 'target') {
      if (!o.yes && !promote) {
        await env.cutover.update(env.control, (s) => ({...s, status: 'waiting-for-approval', current: step.name}))
        emit({kind: 'step-end', step: step.name, result: null, note: 'waiting for approval of the write flip'})
        return {status: 'waiting-for-approval', steps: results, next: step.name, waitingForApproval: true, flip: null, failure: null, routingVersion: now.version}
      }
      await env.cutover.update(env.control, (s) => ({...s, approvals: [...s.approvals, {step: step.name, by: env.actor, host: env.host, at: new Date().toISOString()}]}))
      await env.routing.audit(env.control, env.actor, env.host, 'shift.approve', {step: step.name, via: o.yes ? '--yes' : '--promote'}, o.reason)
      try {
        const r = await flipWrites(env, 'target', {
          budgetMs: o.shift.writeFlip.pauseBudgetMs,
          holdMs: o.shift.writeFlip.holdMs,
          leaseMs: o.shift.writeFlip.leaseMs,
          step: step.name,
          ...(o.reason === null ? {} : {reason: o.reason}),
          ...(o.signal === undefined ? {} : {signal: o.signal}),
          onEvent: (event) => emit({kind: 'flip', event}),
        })
        flip = r.measurement
        expected = r.version
        if (!o.yes) promote = false
        await recordFlip(env, r.measurement)
        state = await env.cutover.update(env.control, (s) => ({...s, status: 'flipped', verifiedThrough: r.verifiedThrough}))
      } catch (err) {
        if (err instanceof FlipRevertedError) {
          await recordFlip(env, err.measurement)
          const failure: ShiftFailure = {step: step.name, at: new Date().toISOString(), reason: err.message, gates: null, rolledBackTo: null}
          await env.cutover.update(env.control, (s) => ({...s, status: 'failed', current: null, failure}))
        }
        throw err
      }
    } else if (step.kind !== 'write-flip') {
      const wanted: RoutingDesired = {...now.desired, readsTargetPercent: now.desired.writes === 'target' ? 100 : step.readsTargetPercent, shadowPercent: step.shadowPercent, step: step.name}
      if (wanted.readsTargetPercent !== now.desired.readsTargetPercent || wanted.shadowPercent !== now.desired.shadowPercent || wanted.step !== now.desired.step) {
        const version = await env.routing.set(env.control, now.version, wanted, env.actor, env.host, `shift step ${step.name}${o.reason === null ? '' : ` (${o.reason})`}`)
        expected = version
        emit({kind: 'routing', version, desired: wanted})
        const acks = await waitForAcks(env, version, wanted.leaseMs, performance.now() + Math.max(5_000, wanted.leaseMs * 5), o.signal)
        if (acks.missing.length > 0) {
          throw new EnvironmentError('PAYCTL_INSTANCES_BEHIND', `Runtime instances ${acks.missing.join(', ')} did not apply routing version ${version} (step ${step.name}).`, {
            actions: ['Check those instances (payctl status shows each one\'s applied version and heartbeat), then run payctl shift-traffic again.'],
          })
        }
      }
    }

    // Hold the step under the gates.
    const gated = {name: step.name, kind: step.kind, holdMs: step.holdMs, readsTargetPercent: step.writes === 'target' ? 100 : step.readsTargetPercent, shadowPercent: step.shadowPercent, writes: step.writes}
    const result = await evaluateStep({
      step: gated,
      gates: o.shift.gates,
      sampler,
      lag,
      ...(o.signal === undefined ? {} : {signal: o.signal}),
      onSample: (sample, tally) => {
        emit({kind: 'sample', step: step.name, sample, tally})
        void env.cutover.update(env.control, (s) => ({...s, lastGates: sample.gates})).catch(() => undefined)
      },
    })
    results.push({step: step.name, kind: step.kind, outcome: result.outcome, reason: result.reason, gates: result})
    emit({kind: 'step-end', step: step.name, result, note: result.reason})
    const flipped = (await currentRouting(env)).desired.writes === 'target'
    if (result.outcome === 'fail') {
      let rolledBackTo: number | null = null
      if (!flipped) {
        await guard()
        const r = await rollback(env, {budgetMs: o.shift.writeFlip.pauseBudgetMs, holdMs: o.shift.writeFlip.holdMs, leaseMs: o.shift.writeFlip.leaseMs, reason: `gate failed in step ${step.name}: ${result.reason}`})
        rolledBackTo = r.version
        emit({kind: 'rolled-back', version: r.version, reason: result.reason})
      }
      const failure: ShiftFailure = {step: step.name, at: new Date().toISOString(), reason: result.reason, gates: result.deciding, rolledBackTo}
      await env.cutover.update(env.control, (s) => ({...s, status: flipped ? 'failed' : 'rolled-back', current: null, failure, lastGates: result.deciding}))
      throw new CheckFailedError('PAYCTL_GATE_FAILED', `Step ${step.name} failed its gates: ${result.reason}${flipped ? '' : ` Reads were rolled back to the source (routing version ${rolledBackTo ?? '?'}).`}`, {
        actions: flipped
          ? ['Writes stay on the target (moving them back is a data operation): run payctl rollback to return to the source, or fix the cause and run payctl shift-traffic to hold this step again.']
          : ['Fix the cause (payctl status shows the gate values), then run payctl shift-traffic to start again from the first step.'],
        data: {step: step.name, gates: result.deciding},
      })
    }
    if (result.outcome === 'inconclusive' && !promote) {
      await env.cutover.update(env.control, (s) => ({...s, status: 'waiting-for-approval', current: step.name, lastGates: result.deciding}))
      throw new CheckFailedError('PAYCTL_GATE_INCONCLUSIVE', `Step ${step.name} is inconclusive: ${result.reason} The routing stays as it is.`, {
        actions: ['Make sure the runtime has traffic and replication runs, then run payctl shift-traffic again to hold the step; --promote goes on without a verdict, --abort rolls reads back.'],
        data: {step: step.name, gates: result.deciding},
      })
    }
    if (result.outcome === 'inconclusive') promote = false
    state = await env.cutover.update(env.control, (s) => ({...s, completed: index, current: null, status: flipped ? 'flipped' : 'shifting'}))
  }
  const done = state.completed >= steps.length - 1
  const finalStatus: CutoverState['status'] = done ? 'observed' : (await currentRouting(env)).desired.writes === 'target' ? 'flipped' : 'shifting'
  state = await env.cutover.update(env.control, (s) => ({...s, status: finalStatus, current: null}))
  return {status: finalStatus, steps: results, next: done ? null : (steps[state.completed + 1]?.name ?? null), waitingForApproval: false, flip, failure: null, routingVersion: (await currentRouting(env)).version}
}
