/** The terminal rendering of an assessment: summary, findings per severity, not assessed, sizing. */
import {formatBytes, formatNumber, keyValueTable, table} from '../../cli/output.js'
import type {AssessReport} from '../report.js'
import {bySeverity, SEVERITY_LABEL, seconds, sourceLine, targetLine} from './common.js'

export function renderTerminal(r: AssessReport, options: {colour?: boolean} = {}): string {
  const o = options.colour === undefined ? {} : {colour: options.colour}
  const out: string[] = []
  out.push(
    keyValueTable(
      [
        ['source', sourceLine(r)],
        ['target', targetLine(r)],
        ['tables', r.summary.tables],
        ['columns', r.summary.columns],
        ['blockers', r.summary.blockers],
        ['needs change', r.summary.needsChange],
        ['info', r.summary.info],
        ['not assessed', r.summary.notAssessed],
      ],
      o,
    ),
  )
  for (const [severity, findings] of bySeverity(r.findings)) {
    if (findings.length === 0) continue
    out.push(`\n${SEVERITY_LABEL[severity]} (${findings.length})`)
    out.push(
      table(
        findings,
        [
          {header: 'object', get: (f) => f.object},
          {header: 'rule', get: (f) => f.rule},
          {header: 'finding', get: (f) => f.title},
          {header: 'mapping', get: (f) => f.mapping},
          ...(r.source.from === 'ddl' ? [{header: 'line', get: (f: (typeof findings)[number]) => f.line ?? null, align: 'right' as const}] : []),
        ],
        o,
      ),
    )
  }
  if (r.notAssessed.length > 0) {
    out.push(`\nNot assessed (${r.notAssessed.length})`)
    out.push(
      table(
        r.notAssessed,
        [
          {header: 'line', get: (n) => n.line, align: 'right'},
          {header: 'statement', get: (n) => n.text.slice(0, 80)},
          {header: 'reason', get: (n) => n.reason},
        ],
        o,
      ),
    )
  }
  const s = r.sizing
  if (s !== null) {
    out.push(`\nSizing: ${formatNumber(s.totalRows)} rows, ${formatBytes(s.totalBytes)}; estimated full load ${seconds(s.estimatedFullLoadSeconds)}`)
    out.push(
      table(
        [...s.tables].sort((a, b) => b.dataBytes + b.indexBytes - (a.dataBytes + a.indexBytes)),
        [
          {header: 'table', get: (t) => t.table},
          {header: 'rows', get: (t) => t.rows, align: 'right'},
          {header: 'data', get: (t) => formatBytes(t.dataBytes), align: 'right'},
          {header: 'indexes', get: (t) => formatBytes(t.indexBytes), align: 'right'},
          {header: 'est. load', get: (t) => seconds(t.estimatedLoadSeconds), align: 'right'},
        ],
        o,
      ),
    )
    if (s.measured) out.push(`measured: ${formatNumber(s.measured.rowsPerSecond)} rows/s, ${formatBytes(s.measured.bytesPerSecond)}/s. ${s.measured.description ?? ''}`.trim())
    out.push(`largest: ${s.largest.join(', ') || 'none'}`)
    out.push(`hottest: ${s.hottest.length === 0 ? 'unknown' : s.hottest.map((h) => `${h.table} (${formatNumber(h.writes)} writes)`).join(', ')}`)
    for (const n of s.notes ?? []) out.push(`note: ${n}`)
  }
  return out.join('\n')
}
