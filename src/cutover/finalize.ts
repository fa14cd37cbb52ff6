/**
 * payctl finalize: the end of the migration. Writes and reads are on the target and the
 * observation window is over, so reverse replication (the way back) is stopped: the replicate
 * process drains it into the source up to the target's position now, stops and exits. The source
 * stays fenced (read-only for the application); from here a rollback is a new migration.
 */
import {EnvironmentError} from '../cli/errors.js'
import type {CapturePosition} from '../engines/replication.js'
import {type CutoverEnv, currentRouting, pollUntil} from './env.js'
import {actedOn, appliedAtLeast, replicationPositions} from '../migrators/replicate/control.js'
import {replicationProcess} from './flip.js'

export interface FinalizeOptions {
  /** Finalize even though the shift's observe step has not passed. */
  force: boolean
  reason: string | null
  /** How long to wait for the replicate process to drain and stop (ms). */
  waitMs: number
  signal?: AbortSignal
}

export interface FinalizeResult {
  version: number
  replicationStopped: boolean
  alreadyFinalized: boolean
}

export async function finalize(env: CutoverEnv, o: FinalizeOptions): Promise<FinalizeResult> {
  const routing = await currentRouting(env)
  const state = await env.cutover.state(env.control)
  if (state.status === 'finalized' && routing.desired.replication.direction === 'none') return {version: routing.version, replicationStopped: true, alreadyFinalized: true}
  if (routing.desired.writes !== 'target') {
    throw new EnvironmentError('PAYCTL_NOT_FLIPPED', `Writes are ${routing.desired.writes === 'paused' ? 'paused' : `on the ${routing.desired.writes}`}: only a migration whose writes are on the target can be finalized.`, {
      actions: ['Finish the shift first: payctl shift-traffic (payctl status shows where it is).'],
    })
  }
  if (state.status !== 'observed' && !o.force) {
    throw new EnvironmentError('PAYCTL_OBSERVE_NOT_PASSED', `The shift's observe step has not passed (shift status: ${state.status}); finalizing stops reverse replication, after which rollback is no longer possible.`, {
      actions: ['Run payctl shift-traffic to hold the observe step, or pass --force to finalize anyway.'],
    })
  }
  const asked = routing.desired.replication.direction === 'none' ? (routing.desired.replication.stopAt ?? null) : null
  if (asked !== null) {
    // a finalize already asked for the drain: only wait for it to be done
    const drained = await finalDrain(env, routing.version, asked, o)
    if (drained) await env.cutover.update(env.control, (s) => ({...s, status: 'finalized', finalizedAt: new Date().toISOString()}))
    return {version: routing.version, replicationStopped: drained, alreadyFinalized: false}
  }
  const process = await replicationProcess(env)
  if (!process.alive || process.direction !== 'reverse') {
    throw new EnvironmentError('PAYCTL_REPLICATION_NOT_RUNNING', `Finalize drains reverse replication into the source before stopping it, but the payctl replicate process ${process.alive ? `runs ${process.direction ?? '?'}` : 'is not running'}.`, {
      actions: ['Start it (payctl replicate --detach) and let it catch up, then run payctl finalize again.'],
    })
  }
  const stopAt = await env.target.replication.capture.currentPosition()
  const version = await env.routing.set(env.control, routing.version, {...routing.desired, replication: {direction: 'none', stopAt}, step: 'finalized'}, env.actor, env.host, `finalize: stop reverse replication${o.reason === null ? '' : ` (${o.reason})`}`)
  // done only when the process acted on this version with reverse drained through stopAt, and exited
  const drained = await finalDrain(env, version, stopAt, o)
  if (drained) await env.cutover.update(env.control, (s) => ({...s, status: 'finalized', finalizedAt: new Date().toISOString()}))
  return {version, replicationStopped: drained, alreadyFinalized: false}
}

/** Whether the replicate process acted on the finalize version, drained reverse replication through stopAt, and exited. */
function finalDrain(env: CutoverEnv, version: number, stopAt: CapturePosition, o: FinalizeOptions): Promise<boolean> {
  return pollUntil(
    async () => {
      const p = await replicationPositions(env.control, env.controlDatabase)
      return actedOn(p, version) && appliedAtLeast(p, 'reverse', stopAt) && !p.process.alive
    },
    performance.now() + o.waitMs,
    200,
    o.signal,
  )
}
