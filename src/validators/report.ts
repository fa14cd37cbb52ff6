/** payctl verify's outputs besides --json: the summary and row-difference tables, and JUnit XML (one test case per table). */
import {formatDuration, formatNumber, table} from '../cli/output.js'
import type {RowDiff, TableVerifyResult, VerifyResult} from './types.js'

const keyText = (key: Record<string, string | null>): string =>
  Object.entries(key)
    .map(([k, v]) => `${k}=${v ?? 'NULL'}`)
    .join(', ')

export function describeDiff(d: RowDiff): string {
  if (d.kind !== 'different') return `${d.table} (${keyText(d.key)}): ${d.kind}`
  const cols = d.columns.map((c) => `${c.column}: source ${c.source === null ? 'NULL' : JSON.stringify(c.source)}, target ${c.target === null ? 'NULL' : JSON.stringify(c.target)}`)
  return `${d.table} (${keyText(d.key)}): different: ${cols.join('; ')}`
}

export function renderVerifySummary(r: VerifyResult): string {
  const rows = table(r.tables, [
    {header: 'table', get: (t) => t.table},
    {header: 'result', get: (t) => (t.status === 'different' ? `DIFFERENT (${t.diffs.length}${t.diffsTruncated ? '+' : ''} rows)` : t.status)},
    {header: 'method', get: (t) => t.method},
    {header: 'source rows', get: (t) => t.sourceRows, align: 'right'},
    {header: 'target rows', get: (t) => t.targetRows, align: 'right'},
    {header: 'chunks', get: (t) => t.chunks, align: 'right'},
    {header: 're-checked', get: (t) => t.rechecked, align: 'right'},
    {header: 'repaired', get: (t) => t.repaired ?? '', align: 'right'},
    {header: 'time', get: (t) => formatDuration(t.seconds * 1000), align: 'right'},
  ])
  const lines = [rows]
  const diffs = r.tables.flatMap((t) => t.diffs)
  if (diffs.length > 0) {
    lines.push('Differing rows:')
    for (const d of diffs.slice(0, 50)) lines.push(`  ${describeDiff(d)}`)
    if (diffs.length > 50) lines.push(`  ... and ${formatNumber(diffs.length - 50)} more (--json lists them all)`)
  }
  for (const t of r.tables.filter((x) => x.error !== undefined)) lines.push(`${t.table}: error: ${t.error ?? ''}`)
  lines.push(
    `${r.status === 'equal' ? 'Equal' : 'DIFFERENT'}: ${r.totals.equal} of ${r.totals.tables} tables equal, ${formatNumber(r.totals.rowsCompared)} source rows compared in ${formatDuration(r.totals.seconds * 1000)}` +
      (r.online.replicationRunning ? '; replication was running (differing chunks re-checked after it caught up)' : ''),
  )
  return lines.join('\n')
}

const xml = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

function testCase(t: TableVerifyResult): string {
  const open = `  <testcase classname="payctl.verify" name="${xml(t.table)}" time="${t.seconds.toFixed(3)}">`
  if (t.status === 'equal') return `${open}</testcase>`
  if (t.status === 'skipped') return `${open}<skipped/></testcase>`
  if (t.status === 'error') return `${open}\n    <error message="${xml(t.error ?? 'error')}"/>\n  </testcase>`
  const body = t.diffs.map((d) => describeDiff(d)).join('\n') + (t.diffsTruncated ? '\n(more differences not listed)' : '')
  return `${open}\n    <failure message="${xml(`${t.diffs.length}${t.diffsTruncated ? '+' : ''} differing rows (source ${t.sourceRows} rows, target ${t.targetRows})`)}">${xml(body)}</failure>\n  </testcase>`
}

export function renderJunit(r: VerifyResult): string {
  const failures = r.tables.filter((t) => t.status === 'different').length
  const errors = r.tables.filter((t) => t.status === 'error').length
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="payctl verify" tests="${r.tables.length}" failures="${failures}" errors="${errors}" time="${r.totals.seconds.toFixed(3)}">`,
    ...r.tables.map((t) => testCase(t)),
    '</testsuite>',
    '',
  ].join('\n')
}
