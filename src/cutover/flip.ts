/**
 * The write flip (DESIGN.md, "Cutover protocol"), in both directions: to the target at the end of
 * shift-traffic, back to the source on `payctl rollback` after the flip.
 *
 *   before the pause  compare the rows changed since the last check (online: in-flight rows are
 *                     re-read after replication passes them); a difference stops here, nothing changed
 *   v+1 paused        every live instance holds new writes, drains its in-flight ones, acknowledges
 *   fence             (to the target) the source refuses the application's writes from now on
 *   drain             read the old write side's position P; wait until replication applied through P
 *   check             compare the rows changed between the pre-pause check and P (writes are held:
 *                     a difference is real)
 *   v+2 flipped       writes on the new side; replication turns around: the old direction stops
 *                     at P, the new one starts at the new write side's position Q, taken while
 *                     nothing writes there, so reverse replication misses nothing and repeats nothing
 *
 * The whole pause has a hard budget. Past it, or on any failure between v+1 and v+2, everything
 * reverts: the fence is lifted and a new version puts writes back where they were. Held requests
 * are then released to the old side; none of them wrote anywhere meanwhile. The pause is measured
 * from the commit of v+1 to the commit of v+2 (an instance applies each within its poll interval).
 */
import {CheckFailedError, EnvironmentError} from '../cli/errors.js'
import type {FlipMeasurement} from '../control/cutover-store.js'
import type {RoutingDesired, RoutingVersion, WriteSide} from '../control/routing-store.js'
import {describePosition, type CapturePosition} from '../engines/replication.js'
import {replicateAlive, ReplicationStore} from '../control/replication-store.js'
import type {ReplicationStatus} from '../migrators/replicate/replicate.js'
import {changedKeys, compareKeys} from './changed-rows.js'
import {type CutoverEnv, currentRouting, waitApplied, waitForAcks} from './env.js'

export interface FlipOptions {
  /** Hard limit of the write pause (ms). */
  budgetMs: number
  /** How long instances hold a write at the gate before answering 503. */
  holdMs: number
  /** The instances' lease (ms). */
  leaseMs: number
  /** Longest wait for the pre-pause check's re-reads (ms). */
  recheckMs?: number
  /** The shift step, recorded with the routing versions. */
  step?: string
  reason?: string
  signal?: AbortSignal
  onEvent?: (e: FlipEvent) => void
}

export type FlipEvent =
  | {kind: 'pre-check'; rowsChecked: number; differences: number}
  | {kind: 'paused'; version: number}
  | {kind: 'phase'; phase: string; ms: number}
  | {kind: 'flipped'; version: number; pauseMs: number}
  | {kind: 'reverted'; version: number; reason: string}

export interface FlipResult {
  measurement: FlipMeasurement
  /** The source position through which changed rows are checked after this flip. */
  verifiedThrough: CapturePosition
  version: number
}

/** Online rounds of the pre-pause check at most, and the size of a round after which the pause may start. */
const PRE_CHECK_ROUNDS = 3
const SMALL_ROUND_ROWS = 2_000

/** Why a flip reverted; the caller turns it into exit 4 with the measurement recorded. */
export class FlipRevertedError extends CheckFailedError {
  constructor(
    message: string,
    readonly measurement: FlipMeasurement,
  ) {
    super('PAYCTL_FLIP_REVERTED', message, {
      actions: ['Writes are back on the side they were on; nothing was lost. Fix the cause and run the flip again (payctl status shows the pause measurement).'],
    })
  }
}

/** The replicate process's heartbeat and direction, so a flip never waits on a replication that is not running. */
export async function replicationProcess(env: CutoverEnv): Promise<{alive: boolean; direction: string | null; lagSeconds: number | null; reverseLagSeconds: number | null; ageMs: number | null}> {
  const state = await new ReplicationStore(env.controlDatabase).state(env.control)
  const status: Partial<ReplicationStatus> | null = state === null ? null : (state.status as Partial<ReplicationStatus> | null)
  return {
    alive: replicateAlive(state),
    direction: state === null ? null : (status?.direction ?? 'forward'),
    lagSeconds: status?.lagSeconds ?? null,
    reverseLagSeconds: status?.reverse?.lagSeconds ?? null,
    ageMs: state?.heartbeatAgeMs ?? null,
  }
}

export async function flipWrites(env: CutoverEnv, to: WriteSide, o: FlipOptions): Promise<FlipResult> {
  const from: WriteSide = to === 'target' ? 'source' : 'target'
  const stream = from === 'source' ? 'forward' : 'reverse'
  const fromSide = from === 'source' ? env.source : env.target
  const toSide = to === 'source' ? env.source : env.target
  const emit = (e: FlipEvent): void => o.onEvent?.(e)
  const v0 = await currentRouting(env)
  if (v0.desired.writes !== from) {
    throw new EnvironmentError('PAYCTL_FLIP_STATE', `Writes are ${v0.desired.writes === 'paused' ? `paused (routing version ${v0.version}), left by a flip that did not finish` : `on the ${v0.desired.writes}`}, not on the ${from}.`, {
      actions: [v0.desired.writes === 'paused' ? 'Run payctl rollback: it puts writes back where they were before that flip.' : 'payctl status shows the routing; nothing was changed.'],
    })
  }
  const process = await replicationProcess(env)
  if (!process.alive || (process.direction ?? 'forward') !== stream) {
    throw new EnvironmentError('PAYCTL_REPLICATION_NOT_RUNNING', `The write flip needs ${stream} replication running (the payctl replicate process ${process.alive ? `runs ${process.direction ?? '?'}` : 'is not running'}).`, {
      actions: ['Start it with payctl replicate --detach (or under your supervisor) and check payctl status.'],
    })
  }
  const pairs = await env.pairs()
  if (to === 'target') {
    // writes on a target that is still missing rows could never be rolled back (reverse
    // replication cannot start before the copy ends)
    const copying = (await new ReplicationStore(env.controlDatabase).tables(env.control)).filter((t) => t.state !== 'replicating')
    if (copying.length > 0) {
      throw new EnvironmentError('PAYCTL_COPY_INCOMPLETE', `The full load is not finished (${copying.map((t) => `${t.table}: ${t.state}`).join(', ')}): writes cannot move to the target yet.`, {
        actions: ['Let payctl replicate finish the copy (payctl status shows it), then flip.'],
      })
    }
  }
  // the direction that starts at the flip must be able to capture its side, or there is no way back
  await toSide.replication.capture.checkPrerequisites(pairs.map((p) => (to === 'target' ? p.targetModel : p.model)))

  // Before the pause: the rows changed since the last check, compared while writes still flow, in
  // rounds until a round is small, so the pause itself only compares the last moment's rows.
  // Checked through: on the source, what the last verify or flip recorded; on the target, its
  // position when writes moved there (every target change since then is checked at the flip back).
  const state = await env.cutover.state(env.control)
  let since = from === 'source' ? state.verifiedThrough : (v0.desired.replication.from ?? null)
  if (since === null) {
    throw new EnvironmentError('PAYCTL_FLIP_NOT_VERIFIED', `No checked position is recorded for the ${from}: the flip compares only the rows changed since the last verify, and there was none.`, {
      actions: ['Run payctl verify (with replication running; it records where it checked from), then flip again.'],
    })
  }
  let mark = await fromSide.replication.capture.currentPosition()
  let rowsChecked = 0
  for (let round = 0; round < PRE_CHECK_ROUNDS; round++) {
    if (since.kind !== mark.kind) break
    const until = performance.now() + (o.recheckMs ?? 30_000)
    const keys = await changedKeys(fromSide, pairs, since, mark, until, stream)
    if (!keys.complete) {
      throw new CheckFailedError('PAYCTL_FLIP_CHECK_INCOMPLETE', `Reading the ${from}'s changes from ${describePosition(since)} to ${describePosition(mark)} did not finish in ${Math.round((o.recheckMs ?? 30_000) / 1000)} s; writes were not paused.`, {
        actions: ['Run payctl verify (it moves the checked position forward), then flip again.'],
      })
    }
    const check = await compareKeys(env.source, env.target, pairs, keys, {captureSide: fromSide, waitApplied: (p) => waitApplied(env, stream, p, performance.now() + (o.recheckMs ?? 30_000), o.signal)})
    rowsChecked += check.rowsChecked
    emit({kind: 'pre-check', rowsChecked: check.rowsChecked, differences: check.diffs.length})
    if (check.diffs.length > 0) {
      const first = check.diffs[0]
      throw new CheckFailedError('PAYCTL_FLIP_ROWS_DIFFER', `${check.diffs.length} rows changed since the last check differ between source and target (first: ${first?.table} ${JSON.stringify(first?.key)} ${first?.kind}); writes were not paused.`, {
        actions: ['Run payctl verify to see every difference, then flip again.'],
      })
    }
    const small = check.rowsChecked <= SMALL_ROUND_ROWS
    since = mark
    mark = await fromSide.replication.capture.currentPosition()
    if (small) break
  }

  const phases: Record<string, number> = {}
  let t = performance.now()
  const lap = (phase: string): void => {
    const now = performance.now()
    phases[phase] = Math.round((now - t) * 10) / 10
    t = now
    emit({kind: 'phase', phase, ms: phases[phase] ?? 0})
  }
  const paused: RoutingDesired = {...v0.desired, writes: 'paused', pausedFrom: from, holdMs: o.holdMs, leaseMs: o.leaseMs, step: o.step ?? v0.desired.step ?? null}
  const v1 = await env.routing.set(env.control, v0.version, paused, env.actor, env.host, `write flip to the ${to}: pause${o.reason === undefined ? '' : ` (${o.reason})`}`)
  const start = performance.now()
  const deadline = start + o.budgetMs
  t = start
  emit({kind: 'paused', version: v1})
  let fenced = false
  let unfenced = false
  let flipped: number | null = null
  const measure = (outcome: FlipMeasurement['outcome'], reason: string | null): FlipMeasurement => ({
    direction: to === 'target' ? 'to-target' : 'to-source',
    at: new Date().toISOString(),
    outcome,
    pauseMs: Math.round((performance.now() - start) * 10) / 10,
    phases,
    rowsChecked,
    reason,
    versions: {paused: v1, flipped},
  })
  const fail = (reason: string): never => {
    throw new Error(reason)
  }
  try {
    // an instance cut off before it read v+1 fences itself on the lease it last read (v0's)
    const acks = await waitForAcks(env, v1, Math.max(o.leaseMs, v0.desired.leaseMs), deadline, o.signal)
    if (acks.missing.length > 0) fail(`runtime instances ${acks.missing.join(', ')} did not acknowledge the pause within the ${o.budgetMs} ms budget`)
    lap('acknowledged')
    if (from === 'source' && env.source.engine.fence !== undefined) {
      // SET GLOBAL read_only waits for open write transactions: bounded by the budget like the rest
      fenced = true
      await beforeDeadline(env.source.engine.fence.fenceWrites(), deadline, 'fencing the source')
      lap('fenced')
    }
    // P: nothing writes the old side any more. Its changes since the mark are read first, so the
    // drain waits for the last transaction that touched a replicated table, not for unrelated
    // writes after it (the control store's heartbeats, when the old side is the target).
    const stopAt = await fromSide.replication.capture.currentPosition()
    const keys = await changedKeys(fromSide, pairs, mark, stopAt, deadline, stream)
    if (!keys.complete) fail(`reading the changes between ${describePosition(mark)} and ${describePosition(stopAt)} did not finish within the ${o.budgetMs} ms budget`)
    if (keys.lastChange !== null && !(await waitApplied(env, stream, keys.lastChange, deadline, o.signal))) {
      fail(`${stream} replication did not apply through ${describePosition(keys.lastChange)} within the ${o.budgetMs} ms budget`)
    }
    lap('drained')
    const check = await compareKeys(env.source, env.target, pairs, keys)
    rowsChecked += check.rowsChecked
    if (check.diffs.length > 0) {
      const first = check.diffs[0]
      fail(`${check.diffs.length} changed rows differ after replication drained (first: ${first?.table} ${JSON.stringify(first?.key)} ${first?.kind})`)
    }
    lap('checked')
    if (to === 'source' && env.source.engine.fence !== undefined) {
      unfenced = true
      await env.source.engine.fence.unfenceWrites()
      lap('unfenced')
    }
    const startAt = await toSide.replication.capture.currentPosition()
    if (performance.now() > deadline) fail(`the pause reached its ${o.budgetMs} ms budget before writes could move`)
    const next: RoutingDesired = {
      ...paused,
      writes: to,
      readsTargetPercent: to === 'target' ? 100 : 0,
      // shadow reads go on after a flip to the target (they now compare the target with the source
      // that reverse replication keeps); back on the source, the shift is over
      shadowPercent: to === 'target' ? paused.shadowPercent : 0,
      replication: {direction: to === 'target' ? 'reverse' : 'forward', stopAt, from: startAt},
    }
    delete next.pausedFrom
    flipped = await env.routing.set(env.control, v1, next, env.actor, env.host, `write flip to the ${to}: writes on the ${to}, replication ${next.replication.direction} from ${describePosition(startAt)}`)
    const measurement = measure('flipped', null)
    emit({kind: 'flipped', version: flipped, pauseMs: measurement.pauseMs})
    // rows changed on the source are checked through here: up to P at a flip to the target, and
    // (at a flip back) everything before the source position where forward replication restarts
    return {measurement, verifiedThrough: to === 'target' ? stopAt : startAt, version: flipped}
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err)
    // the flip version may have committed even though its answer was lost: then the flip happened
    const now = await currentRouting(env).catch(() => null)
    if (now !== null && now.version > v1 && now.desired.writes === to) {
      flipped = now.version
      const measurement = measure('flipped', null)
      emit({kind: 'flipped', version: now.version, pauseMs: measurement.pauseMs})
      return {measurement, verifiedThrough: to === 'target' ? (now.desired.replication.stopAt ?? mark) : (now.desired.replication.from ?? mark), version: now.version}
    }
    let reverted: number
    try {
      reverted = await revertPause(env, v1, v0, reason)
    } catch (revertError) {
      throw new EnvironmentError('PAYCTL_FLIP_REVERT_FAILED', `The write flip to the ${to} failed (${reason}) and putting writes back failed too (${revertError instanceof Error ? revertError.message : String(revertError)}): writes are PAUSED at routing version ${v1}${fenced ? ', the source is fenced' : ''}.`, {
        actions: ['Run payctl rollback as soon as the control store answers: it restores the routing from before the pause.'],
      })
    }
    // the fence follows where writes are now: lifted once writes are back on the source, set again
    // when a flip back put writes back on the target
    const after = await currentRouting(env).catch(() => null)
    if (fenced && from === 'source' && after?.desired.writes === 'source') await env.source.engine.fence?.unfenceWrites().catch(() => undefined)
    if (unfenced && from === 'target' && after?.desired.writes === 'target') await env.source.engine.fence?.fenceWrites().catch(() => undefined)
    emit({kind: 'reverted', version: reverted, reason})
    const measurement = measure('reverted', reason)
    throw new FlipRevertedError(`The write flip to the ${to} was reverted: ${reason}. Writes are on the ${from} again (routing version ${reverted}).`, measurement)
  }
}

/** Rejects once `deadline` (performance.now() ms) passes before the promise settles. */
function beforeDeadline<T>(p: Promise<T>, deadline: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within the pause budget`)), Math.max(0, deadline - performance.now()))
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e instanceof Error ? e : new Error(String(e)))
      },
    )
  })
}

/**
 * Puts writes back where they were before a pause: a new version equal to the one before the
 * pause, written only while the paused version is still the newest (compare-and-set). Retried: it
 * must not give up while the instances hold requests. The fence is the caller's, after this.
 */
export async function revertPause(env: CutoverEnv, pausedVersion: number, before: RoutingVersion, reason: string): Promise<number> {
  let lastError: unknown = null
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const now = await currentRouting(env)
      if (now.version !== pausedVersion && now.desired.writes !== 'paused') return now.version
      return await env.routing.set(env.control, now.version, before.desired, env.actor, env.host, `write flip reverted: ${reason}`)
    } catch (err) {
      lastError = err
      await new Promise((resolve) => setTimeout(resolve, 50 * (attempt + 1)))
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError))
}
