/**
 * payctl finalize: the end of the migration. Writes and reads are on the target and the
 * observation window is over, so reverse replication (the way back) is stopped: the replicate
 * process drains it into the source up to the target's position now, stops and exits. The source
 * stays fenced (read-only for the application); from here a rollback is a new migration.
 */
import {EnvironmentError} from '../cli/errors.js'
import {type CutoverEnv, currentRouting, pollUntil} from './env.js'
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
  const stopAt = await env.target.replication.capture.currentPosition()
  const version = await env.routing.set(env.control, routing.version, {...routing.desired, replication: {direction: 'none', stopAt}, step: 'finalized'}, env.actor, env.host, `finalize: stop reverse replication${o.reason === null ? '' : ` (${o.reason})`}`)
  const stopped = await pollUntil(async () => !(await replicationProcess(env)).alive, performance.now() + o.waitMs, 200, o.signal)
  await env.cutover.update(env.control, (s) => ({...s, status: 'finalized', finalizedAt: new Date().toISOString()}))
  return {version, replicationStopped: stopped, alreadyFinalized: false}
}
