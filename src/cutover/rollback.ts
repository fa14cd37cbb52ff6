/**
 * payctl rollback: back to the last safe state from wherever the shift is, without losing a write.
 *
 * - Writes on the source (any step before the flip): routing only. Reads and shadow reads go back
 *   to 0% on the target in one new version; the instances apply it within their poll interval.
 * - Writes paused (a flip died between its pause and its flip): the version before the pause is
 *   written again and the source's fence lifted; nothing was written anywhere during the pause.
 * - Writes on the target (after the flip): the write flip in the other direction (flip.ts): pause,
 *   drain reverse replication into the source, compare the changed rows, flip writes back and
 *   restart forward replication from the source's position.
 *
 * Every case ends with a routing version whose writes are on the source, recorded in the audit log
 * with the operator's reason, and the shift's state set to rolled-back (a new shift starts over).
 */
import {EnvironmentError} from '../cli/errors.js'
import type {FlipMeasurement} from '../control/cutover-store.js'
import type {RoutingDesired} from '../control/routing-store.js'
import {type CutoverEnv, currentRouting, waitForAcks} from './env.js'
import {type FlipEvent, flipWrites, FlipRevertedError, replicationProcess} from './flip.js'

export interface RollbackOptions {
  budgetMs: number
  holdMs: number
  leaseMs: number
  reason: string | null
  signal?: AbortSignal
  onEvent?: (e: FlipEvent | {kind: 'routing'; version: number; what: string}) => void
}

export interface RollbackResult {
  from: 'reads' | 'paused' | 'writes' | 'nothing'
  version: number
  flip: FlipMeasurement | null
  /** Instances that applied the final version (when it was waited for). */
  acknowledged: string[]
}

export async function rollback(env: CutoverEnv, o: RollbackOptions): Promise<RollbackResult> {
  const now = await currentRouting(env)
  const d = now.desired
  const reason = o.reason ?? 'payctl rollback'
  let result: RollbackResult
  if (d.writes === 'target') {
    const process = await replicationProcess(env)
    if (!process.alive) {
      throw new EnvironmentError('PAYCTL_REPLICATION_NOT_RUNNING', 'Rolling back after the flip needs reverse replication running (the payctl replicate process is not running): the source must receive every write the target took.', {
        actions: ['Start it with payctl replicate --detach (it resumes reverse replication where it stopped; its log says why it stopped), then run payctl rollback again.'],
      })
    }
    if (process.direction !== 'reverse') {
      throw new EnvironmentError('PAYCTL_REPLICATION_SWITCHING', `payctl replicate has not switched to reverse replication yet (it runs ${process.direction ?? '?'}): the flip's direction switch is still in progress.`, {
        actions: ['Run payctl rollback again in a few seconds; payctl status shows the direction. If it stays forward, its log (.payctl/replicate.log) says why.'],
      })
    }
    let flip: FlipMeasurement
    let version: number
    try {
      const r = await flipWrites(env, 'source', {budgetMs: o.budgetMs, holdMs: o.holdMs, leaseMs: o.leaseMs, step: 'rollback', reason, ...(o.signal === undefined ? {} : {signal: o.signal}), ...(o.onEvent === undefined ? {} : {onEvent: o.onEvent})})
      flip = r.measurement
      version = r.version
      await env.cutover.update(env.control, (st) => ({...st, verifiedThrough: r.verifiedThrough}))
    } catch (err) {
      if (err instanceof FlipRevertedError) await recordFlip(env, err.measurement)
      throw err
    }
    await recordFlip(env, flip)
    result = {from: 'writes', version, flip, acknowledged: []}
  } else if (d.writes === 'paused') {
    const before = d.pausedFrom ?? 'source'
    // writes going back to the target: the source must be fenced again first (the flip back may
    // have lifted the fence before it died); going back to the source, the fence is lifted only
    // once the routing change has won
    if (before === 'target') await env.source.engine.fence?.fenceWrites()
    const next: RoutingDesired = {...d, writes: before, ...(before === 'source' ? {readsTargetPercent: 0, shadowPercent: 0} : {}), step: 'rollback'}
    delete next.pausedFrom
    const version = await env.routing.set(env.control, now.version, next, env.actor, env.host, `rollback of an unfinished write pause: ${reason}`)
    if (before === 'source') await env.source.engine.fence?.unfenceWrites()
    o.onEvent?.({kind: 'routing', version, what: `writes back on the ${before}`})
    result = {from: 'paused', version, flip: null, acknowledged: []}
    if (before === 'target') {
      // the pause interrupted a flip back to the source: writes are on the target again, roll back from there
      return rollback(env, o)
    }
  } else if (d.readsTargetPercent > 0 || d.shadowPercent > 0) {
    const version = await env.routing.set(env.control, now.version, {...d, readsTargetPercent: 0, shadowPercent: 0, step: 'rollback'}, env.actor, env.host, `rollback of reads: ${reason}`)
    o.onEvent?.({kind: 'routing', version, what: 'reads and shadow reads back to 0% on the target'})
    result = {from: 'reads', version, flip: null, acknowledged: []}
  } else {
    result = {from: 'nothing', version: now.version, flip: null, acknowledged: []}
  }
  if (result.from !== 'nothing') {
    const acks = await waitForAcks(env, result.version, d.leaseMs, performance.now() + Math.max(2_000, d.leaseMs * 3), o.signal)
    result.acknowledged = acks.acknowledged
  }
  await env.cutover.update(env.control, (s) => ({...s, status: 'rolled-back', completed: -1, current: null}))
  return result
}

export async function recordFlip(env: CutoverEnv, m: FlipMeasurement): Promise<void> {
  await env.cutover.update(env.control, (s) => ({...s, flips: [...s.flips, m]}))
}
