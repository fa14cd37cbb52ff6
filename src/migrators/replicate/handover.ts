/**
 * Which way payctl replicate runs, decided from the routing state (pure: no I/O).
 *
 * The routing state is append-only and versioned (src/control/routing-store.ts); each version says
 * which direction replication runs. The process records the version it has acted on, durably, in
 * the same control-store transaction as the position the new direction starts from. Given that
 * record and the versions written since, the next step is one of:
 *
 * - stay: nothing newer.
 * - adopt: newer versions, all in the direction already running (a read-percentage step, say):
 *   only the acted version moves.
 * - switch: the first newer version whose direction differs. Versions are replayed in order, so a
 *   process that was down across a flip and a rollback (forward -> reverse -> forward) still runs
 *   the reverse leg between them: the target's writes of that period reach the source before the
 *   forward stream restarts. The running direction drains up to `stopAt` (of its own capture side;
 *   null: what it has applied), stops, and the new one starts after `from`.
 * - invalid: a switch that cannot be made safely (a direction needs `from`: without it, payctl
 *   cannot know where the other side's writes began, and guessing "now" would lose the writes
 *   made between the routing change and this process noticing it).
 *
 * Only one direction ever runs: the next one starts after the previous one has stopped, so a
 * change applied by one stream can never be captured and applied back by the other.
 */
import type {ReplicationDirection, RoutingDesired} from '../../control/routing-store.js'
import type {ActedRouting} from '../../control/replication-store.js'
import type {CapturePosition} from '../../engines/replication.js'

export interface RoutingReplication {
  version: number
  replication: RoutingDesired['replication']
}

export type HandoverStep =
  | {kind: 'stay'}
  | {kind: 'adopt'; version: number}
  | {kind: 'switch'; version: number; from: ReplicationDirection; to: ReplicationDirection; stopAt: CapturePosition | null; start: CapturePosition | null}
  | {kind: 'invalid'; version: number; reason: string}

/** Before the first routing version: forward, as replicate always ran. */
export const NOT_ACTED: ActedRouting = {version: 0, direction: 'forward'}

export function nextHandover(acted: ActedRouting, versions: readonly RoutingReplication[]): HandoverStep {
  const newer = versions.filter((v) => v.version > acted.version).sort((a, b) => a.version - b.version)
  const last = newer.at(-1)
  if (last === undefined) return {kind: 'stay'}
  const change = newer.find((v) => v.replication.direction !== acted.direction)
  if (change === undefined) return {kind: 'adopt', version: last.version}
  const to = change.replication.direction
  const start = change.replication.from ?? null
  if (to !== 'none' && start === null) {
    const side = to === 'reverse' ? "the target's position when writes moved to it" : "the source's position when writes moved back to it"
    return {kind: 'invalid', version: change.version, reason: `routing version ${change.version} switches replication to ${to} without \`from\` (${side})`}
  }
  return {kind: 'switch', version: change.version, from: acted.direction, to, stopAt: change.replication.stopAt ?? null, start}
}

/** The side whose changes a direction captures: forward reads the source, reverse reads the target. */
export function captureSide(direction: 'forward' | 'reverse'): 'source' | 'target' {
  return direction === 'forward' ? 'source' : 'target'
}
