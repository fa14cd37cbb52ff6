/**
 * The Markdown report, for a change ticket or a pull request. Cells are escaped so an object
 * name can neither break the table (|, newlines) nor inject HTML into a renderer that allows it
 * (escaping < and & is enough for that; > stays readable in the raw text: "a -> b").
 */
import type {AssessReport} from '../report.js'
import {bySeverity, formatBytes, formatNumber, SEVERITY_LABEL, seconds, sourceLine, targetLine, typeMappingsUsed} from './common.js'

export function mdCell(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return ''
  return String(text)
    .replaceAll('\\', '\\\\')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('|', '\\|')
    .replaceAll('`', '\\`')
    .replaceAll('*', '\\*')
    .replaceAll('[', '\\[')
    .replaceAll(']', '\\]')
    .replace(/\r?\n/g, ' ')
}

function mdTable(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  return [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n')
}

export function renderMarkdown(r: AssessReport): string {
  const out: string[] = []
  out.push(`# payctl assessment: ${mdCell(r.source.database)} → ${mdCell(r.target.flavor)}`, '')
  out.push(`- Source: ${mdCell(sourceLine(r))}`, `- Target: ${mdCell(targetLine(r))}`, `- Generated: ${r.generatedAt} by payctl ${mdCell(r.payctlVersion)}`, '')
  out.push('## Summary', '')
  out.push(
    mdTable(
      ['tables', 'columns', 'blockers', 'needs change', 'info', 'not assessed'],
      [[r.summary.tables, r.summary.columns, r.summary.blockers, r.summary.needsChange, r.summary.info, r.summary.notAssessed]],
    ),
    '',
  )
  out.push('## Findings', '')
  if (r.findings.length === 0) out.push('No findings.', '')
  for (const [severity, findings] of bySeverity(r.findings)) {
    if (findings.length === 0) continue
    out.push(`### ${SEVERITY_LABEL[severity]} (${findings.length})`, '')
    out.push(
      mdTable(
        ['object', 'rule', 'finding', 'mapping', 'reason', 'phases', 'line'],
        findings.map((f) => [f.object, f.rule, f.title, f.mapping, f.reason, f.phases.join(', '), f.line ?? null]),
      ),
      '',
    )
  }
  out.push('## Not assessed', '')
  out.push(
    r.notAssessed.length === 0
      ? 'Every statement was assessed.'
      : mdTable(['line', 'statement', 'reason'], r.notAssessed.map((n) => [n.line, n.text, n.reason])),
    '',
  )
  out.push('## Sizing', '')
  const s = r.sizing
  if (s === null) {
    out.push('Not available offline: run payctl assess against the live source for sizes and a measured load estimate.', '')
  } else {
    out.push(`Total: ${formatNumber(s.totalRows)} rows, ${formatBytes(s.totalBytes)}. Estimated full load: ${seconds(s.estimatedFullLoadSeconds)}.`, '')
    out.push(
      mdTable(
        ['table', 'rows', 'data', 'indexes', 'estimated load'],
        [...s.tables].sort((a, b) => b.dataBytes + b.indexBytes - (a.dataBytes + a.indexBytes)).map((t) => [t.table, formatNumber(t.rows), formatBytes(t.dataBytes), formatBytes(t.indexBytes), seconds(t.estimatedLoadSeconds)]),
      ),
      '',
    )
    if (s.measured !== null) out.push(`Measured: ${formatNumber(s.measured.rowsPerSecond)} rows/s, ${formatBytes(s.measured.bytesPerSecond)}/s. ${mdCell(s.measured.description ?? '')}`, '')
    out.push(`Largest: ${s.largest.map(mdCell).join(', ') || 'none'}.`, '')
    out.push(`Hottest: ${s.hottest.length === 0 ? 'unknown' : s.hottest.map((h) => `${mdCell(h.table)} (${formatNumber(h.writes)} writes)`).join(', ')}.`, '')
    for (const n of s.notes ?? []) out.push(`- ${mdCell(n)}`)
    if ((s.notes ?? []).length > 0) out.push('')
  }
  const mappings = typeMappingsUsed(r.findings)
  out.push('## Type mappings used', '')
  out.push(mappings.length === 0 ? 'Every column keeps its type.' : mdTable(['rule', 'mapping', 'severity', 'columns'], mappings.map((m) => [m.rule, m.mapping, m.severity, m.columns])), '')
  return out.join('\n')
}
