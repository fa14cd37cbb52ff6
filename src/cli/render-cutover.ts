/** Human rendering of the cutover for payctl status, shift-traffic and rollback: routing desired vs actual, the shift, the last flip, the audit trail. */
import type {FlipMeasurement} from '../control/cutover-store.js'
import type {RoutingDesired} from '../control/routing-store.js'
import type {CutoverOverview} from '../cutover/overview.js'
import {formatDuration, keyValueTable, table} from './output.js'

export function describeRouting(d: RoutingDesired): string {
  const writes = d.writes === 'paused' ? `PAUSED (were on the ${d.pausedFrom ?? '?'}, held up to ${formatDuration(d.holdMs)})` : `on the ${d.writes}`
  const repl = d.replication.direction === 'none' ? 'stopped (finalized)' : d.replication.direction
  return `writes ${writes}; reads ${d.readsTargetPercent}% on the target; shadow reads ${d.shadowPercent}%; replication ${repl}`
}

export function describeFlip(m: FlipMeasurement): string {
  const parts = Object.entries(m.phases)
    .map(([k, v]) => `${k} ${v} ms`)
    .join(', ')
  return `${m.direction} ${m.outcome} at ${m.at}: write pause ${m.pauseMs} ms (${parts}); ${m.rowsChecked} changed rows compared${m.reason === null ? '' : `; reason: ${m.reason}`}`
}

export function renderCutover(o: CutoverOverview): string {
  const s = o.shift
  const lines: string[] = []
  lines.push(
    keyValueTable([
      ['routing', `version ${o.routing.version}${o.routing.by === '' ? ' (initial: nothing set yet)' : ` by ${o.routing.by} at ${o.routing.at}`}`],
      ['desired', describeRouting(o.routing.desired)],
      ['why', o.routing.reason ?? ''],
      ['lease / hold', `instances fence themselves after ${formatDuration(o.routing.desired.leaseMs)} without the routing state; writes are held up to ${formatDuration(o.routing.desired.holdMs)} during a pause`],
      ['shift', `${s.status}${s.current === null ? '' : `, running step ${s.current}`}; steps done ${s.completed + 1} of ${s.steps.length}${s.steps.length === 0 ? '' : ` (${s.steps.join(' → ')})`}`],
      ['operator lease', o.lease.holder === null || (o.lease.expiresInMs ?? -1) < 0 ? 'free' : `${o.lease.holder} (pid ${o.lease.pid ?? '?'} on ${o.lease.host ?? '?'}), ${Math.round((o.lease.expiresInMs ?? 0) / 1000)} s left`],
      ['last failure', s.failure === null ? 'none' : `${s.failure.step} at ${s.failure.at}: ${s.failure.reason}`],
      ['last write flip', o.lastFlip === null ? 'none yet' : describeFlip(o.lastFlip)],
    ]),
  )
  if (o.instances.length > 0) {
    lines.push(
      table(o.instances, [
        {header: 'instance', get: (i) => i.instance},
        {header: 'live', get: (i) => (i.live ? 'yes' : 'NO')},
        {header: 'applied', get: (i) => `${i.appliedVersion ?? '-'}${i.upToDate ? '' : ` (wants ${o.routing.version})`}`},
        {header: 'writes', get: (i) => (i.fenced === true ? 'FENCED' : (i.writes ?? '?'))},
        {header: 'reads→target', get: (i) => (i.readsTargetPercent === null ? '?' : `${i.readsTargetPercent}%`), align: 'right'},
        {header: 'in flight / held', get: (i) => `${i.inFlightWrites ?? '?'} / ${i.heldWrites ?? '?'}`, align: 'right'},
        {header: 'shadow match / mismatch', get: (i) => (i.shadow === null ? '' : `${i.shadow.matched} / ${i.shadow.mismatched}`), align: 'right'},
        {header: 'heartbeat', get: (i) => `${i.heartbeatAgeSeconds.toFixed(1)} s ago`, align: 'right'},
      ]),
    )
  } else {
    lines.push('No runtime instance has reported a heartbeat.')
  }
  const gates = s.lastGates as {gates?: Array<{gate?: string; name?: string; outcome?: string; reason?: string}>} | Array<{gate?: string; name?: string; outcome?: string; reason?: string}> | null
  const gateList = Array.isArray(gates) ? gates : (gates?.gates ?? [])
  if (gateList.length > 0) {
    lines.push('Gates (last sample):')
    for (const g of gateList) lines.push(`  ${g.outcome ?? '?'}  ${g.gate ?? g.name ?? '?'}: ${g.reason ?? ''}`)
  }
  if (o.audit.length > 0) {
    lines.push('Recent audit entries:')
    for (const a of o.audit) lines.push(`  ${a.at}  ${a.actor.endsWith(`@${a.host}`) ? a.actor : `${a.actor} (from ${a.host})`}  ${a.action}${a.reason === null ? '' : `: ${a.reason}`}`)
  }
  return lines.join('\n')
}
