/** Human rendering of replication status: the progress lines under the task list, and the table payctl status and replicate print. */
import type {ReplicationStatus, TableProgress} from '../migrators/replicate/replicate.js'
import {describePosition} from '../engines/replication.js'
import {formatBytes, formatDuration, formatNumber, keyValueTable, table} from './output.js'

const eta = (s: number | null): string => (s === null ? '' : formatDuration(s * 1000))
const pct = (t: Pick<TableProgress, 'rowsCopied' | 'rowsEstimate' | 'state'>): string =>
  t.state === 'replicating' || t.state === 'catching-up' ? '100%' : t.rowsEstimate > 0 ? `${Math.min(99, Math.floor((100 * t.rowsCopied) / t.rowsEstimate))}%` : t.state === 'pending' ? '0%' : ''

/** One line overall, one per table still copying (a few lines; redrawn by listr2). */
export function renderTableProgress(s: ReplicationStatus): string {
  const c = s.copy
  const lines = [
    `${s.phase}: ${formatNumber(c.rowsCopied)} / ~${formatNumber(c.rowsEstimate)} rows, ${formatNumber(Math.round(c.rowsPerSecond))} rows/s, ${formatBytes(Math.round(c.bytesPerSecond))}/s` +
      (c.etaSeconds === null ? '' : `, ETA ${eta(c.etaSeconds)}`) +
      ` | lag ${s.lagSeconds === null ? '?' : `${s.lagSeconds.toFixed(1)} s`}, ${formatNumber(s.lagEvents)} events | applied ${formatNumber(s.changesApplied)} (${formatNumber(Math.round(s.applyRatePerSecond))}/s)` +
      (s.throttled === null ? '' : ` | throttled: ${s.throttled}`),
  ]
  for (const t of s.tables.filter((x) => x.state === 'copying' || x.state === 'catching-up')) {
    lines.push(`  ${t.table}: ${t.state} ${formatNumber(t.rowsCopied)} / ~${formatNumber(t.rowsEstimate)} (${pct(t)}), ${formatNumber(Math.round(t.rowsPerSecond))} rows/s${t.etaSeconds === null ? '' : `, ETA ${eta(t.etaSeconds)}`}`)
  }
  return lines.join('\n')
}

export function renderReplicationStatus(s: ReplicationStatus): string {
  const summary = keyValueTable([
    ['phase', s.phase],
    ['applied position', describePosition(s.position)],
    ['source position', s.sourcePosition === null ? 'unknown' : describePosition(s.sourcePosition)],
    ['change lag', s.lagSeconds === null ? 'unknown' : `${s.lagSeconds.toFixed(2)} s, ${formatNumber(s.lagEvents)} transactions behind`],
    ['changes applied', `${formatNumber(s.changesApplied)} (${formatNumber(Math.round(s.applyRatePerSecond))}/s now); ${formatNumber(s.changesHeld)} held until their table is copied`],
    ['copy', `${formatNumber(s.copy.rowsCopied)} rows, ${formatBytes(s.copy.bytesCopied)}; ${formatNumber(Math.round(s.copy.rowsPerSecond))} rows/s`],
    ['throttle', s.throttled ?? 'none'],
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
