/** Human rendering of replication status: the progress lines under the task list, and the table payctl status and replicate print. */
import type {ReplicationStatus, TableProgress} from '../migrators/replicate/replicate.js'
import {describePosition} from '../engines/replication.js'
import {formatBytes, formatDuration, formatNumber, keyValueTable, table} from './output.js'

const eta = (s: number | null): string => (s === null ? '' : formatDuration(s * 1000))
const pct = (t: Pick<TableProgress, 'rowsCopied' | 'rowsEstimate' | 'state'>): string =>
  t.state === 'replicating' || t.state === 'catching-up' ? '100%' : t.rowsEstimate > 0 ? `${Math.min(99, Math.floor((100 * t.rowsCopied) / t.rowsEstimate))}%` : t.state === 'pending' ? '0%' : ''

const lagText = (seconds: number | null): string => (seconds === null ? '?' : `${seconds.toFixed(1)} s`)

/** Reverse replication and a direction switch in progress, as one line each (empty when neither). */
function directionLines(s: ReplicationStatus): string[] {
  const lines: string[] = []
  const r = s.reverse
  if (r !== null) lines.push(`reverse (target -> source): lag ${lagText(r.lagSeconds)}, ${formatNumber(r.lagEvents)} events | applied ${formatNumber(r.changesApplied)} (${formatNumber(Math.round(r.applyRatePerSecond))}/s) | at ${describePosition(r.position)}`)
  const h = s.handover
  if (h !== null) lines.push(`switching to ${h.to} (routing version ${h.version}): draining ${s.direction}${h.stopAt === null ? '' : ` to ${describePosition(h.stopAt)}`}`)
  return lines
}

/** One line overall, one per table still copying (a few lines; redrawn by listr2). */
export function renderTableProgress(s: ReplicationStatus): string {
  const c = s.copy
  if (s.direction === 'reverse') return directionLines(s).join('\n')
  const lines = [
    `${s.phase}: ${formatNumber(c.rowsCopied)} / ~${formatNumber(c.rowsEstimate)} rows, ${formatNumber(Math.round(c.rowsPerSecond))} rows/s, ${formatBytes(Math.round(c.bytesPerSecond))}/s` +
      (c.etaSeconds === null ? '' : `, ETA ${eta(c.etaSeconds)}`) +
      ` | lag ${s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`}, ${formatNumber(s.lagEvents)} events | applied ${formatNumber(s.changesApplied)} (${formatNumber(Math.round(s.applyRatePerSecond))}/s)` +
      (s.throttled === null ? '' : ` | throttled: ${s.throttled}`),
  ]
  for (const t of s.tables.filter((x) => x.state === 'copying' || x.state === 'catching-up')) {
    lines.push(`  ${t.table}: ${t.state} ${formatNumber(t.rowsCopied)} / ~${formatNumber(t.rowsEstimate)} (${pct(t)}), ${formatNumber(Math.round(t.rowsPerSecond))} rows/s${t.etaSeconds === null ? '' : `, ETA ${eta(t.etaSeconds)}`}`)
  }
  lines.push(...directionLines(s))
  return lines.join('\n')
}

export function renderReplicationStatus(s: ReplicationStatus): string {
  // statuses published before directions existed have none of these fields
  const direction = s.direction ?? 'forward'
  const reverse = s.reverse ?? null
  const handover = s.handover ?? null
  const summary = keyValueTable([
    ['phase', s.phase],
    ['direction', `${direction === 'forward' ? 'forward (source -> target)' : direction === 'reverse' ? 'reverse (target -> source)' : 'none (finalized)'}, routing version ${s.routingVersion ?? 0}`],
    ...(handover === null ? [] : [['switching', `to ${handover.to} (routing version ${handover.version}), draining to ${handover.stopAt === null ? 'what is applied' : describePosition(handover.stopAt)} since ${handover.since}`] as [string, string]]),
    ['applied position', describePosition(s.position)],
    ['source position', s.sourcePosition === null ? 'unknown' : describePosition(s.sourcePosition)],
    ['change lag', s.lagSeconds === null ? 'unknown' : `${s.lagSeconds.toFixed(2)} s, ${formatNumber(s.lagEvents)} transactions behind`],
    ['changes applied', `${formatNumber(s.changesApplied)} (${formatNumber(Math.round(s.applyRatePerSecond))}/s now); ${formatNumber(s.changesHeld)} held until their table is copied`],
    ['copy', `${formatNumber(s.copy.rowsCopied)} rows, ${formatBytes(s.copy.bytesCopied)}; ${formatNumber(Math.round(s.copy.rowsPerSecond))} rows/s`],
    ['throttle', s.throttled ?? 'none'],
    ...(reverse === null
      ? []
      : ([
          ['reverse applied position', describePosition(reverse.position)],
          ['target position', reverse.targetPosition === null ? 'unknown' : describePosition(reverse.targetPosition)],
          ['reverse lag', reverse.lagSeconds === null ? 'unknown' : `${reverse.lagSeconds.toFixed(2)} s, ${formatNumber(reverse.lagEvents)} transactions behind`],
          ['reverse changes applied', `${formatNumber(reverse.changesApplied)} (${formatNumber(Math.round(reverse.applyRatePerSecond))}/s now)`],
        ] as Array<[string, string]>)),
  ])
  const tables = table(s.tables, [
    {header: 'table', get: (t) => t.table},
    {header: 'state', get: (t) => t.state},
    {header: 'rows copied', get: (t) => t.rowsCopied, align: 'right'},
    {header: 'of ~', get: (t) => t.rowsEstimate, align: 'right'},
    {header: '%', get: (t) => pct(t), align: 'right'},
    {header: 'size', get: (t) => formatBytes(t.bytesCopied), align: 'right'},
    {header: 'rows/s', get: (t) => (t.rowsPerSecond > 0 ? Math.round(t.rowsPerSecond) : ''), align: 'right'},
    {header: 'ETA', get: (t) => eta(t.etaSeconds), align: 'right'},
  ])
  return `${summary}\n${tables}`
}
