/** What the Markdown, HTML and terminal renderers share: labels, grouping and formatting. */
import {formatBytes, formatDuration, formatNumber} from '../../cli/output.js'
import type {AssessReport, Finding, Severity} from '../report.js'

export const SEVERITIES: readonly Severity[] = ['blocker', 'needs-change', 'info']

export const SEVERITY_LABEL: Record<Severity, string> = {blocker: 'Blockers', 'needs-change': 'Needs change', info: 'Info'}

export function bySeverity(findings: readonly Finding[]): Array<[Severity, Finding[]]> {
  return SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s)])
}

export function sourceLine(r: AssessReport): string {
  const s = r.source
  const where = s.from === 'ddl' ? `script ${s.file ?? ''}` : `live ${s.endpoint ?? ''}`
  return `${s.engine === 'sqlserver' ? 'SQL Server' : s.flavor} ${s.version} database ${s.database} (${where.trim()})`
}

export function targetLine(r: AssessReport): string {
  return `${r.target.flavor}${r.target.version === null ? ' (version unknown)' : ` ${r.target.version}`}`
}

export function seconds(s: number | null): string {
  return s === null ? 'unknown' : formatDuration(s * 1000)
}

/** The distinct type mappings the findings used: "rule: source -> target", for the report's appendix. */
export function typeMappingsUsed(findings: readonly Finding[]): Array<{rule: string; mapping: string; severity: Severity; columns: number}> {
  const seen = new Map<string, {rule: string; mapping: string; severity: Severity; columns: number}>()
  for (const f of findings) {
    if (!f.rule.startsWith('type.') || f.mapping === null) continue
    const key = `${f.rule}\u0000${f.mapping}`
    const entry = seen.get(key)
    if (entry) entry.columns++
    else seen.set(key, {rule: f.rule, mapping: f.mapping, severity: f.severity, columns: 1})
  }
  return [...seen.values()].sort((a, b) => a.rule.localeCompare(b.rule) || a.mapping.localeCompare(b.mapping))
}

export {formatBytes, formatNumber}
