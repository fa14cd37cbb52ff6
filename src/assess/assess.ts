/**
 * payctl assess as library functions: a live assessment (introspect the source, run every rule,
 * size it, measure a sample copy) and an offline one (read a DDL script into the same model and
 * run the same rules). Both return the AssessReport every output format renders.
 */
import {redact} from '../cli/redact.js'
import type {NotAssessed} from '../engines/ddl-reader.js'
import type {Engine} from '../engines/engine.js'
import {describeEndpoint} from '../engines/engine.js'
import type {EngineName, SchemaModel, ServerInfo} from '../engines/model.js'
import type {TargetSpec} from '../migrators/schema/steps.js'
import type {AssessReport, Finding, Severity} from './report.js'
import {runRules} from './rules/index.js'
import {computeSizing, type HottestInput, measureSampleCopy} from './sizing.js'

export interface LiveAssessInput {
  source: Engine
  /** The source model when the caller already read it (filtered by tables.include/exclude); else introspected here. */
  model?: SchemaModel
  target: TargetSpec
  /** The live target's own settings, when it was reachable. */
  targetServer?: ServerInfo | null
  /** false: no sample copy (--no-sample). Otherwise the target engine for the write half, or null when it is not reachable. */
  sample: {target: Engine | null} | false
  payctlVersion: string
  signal?: AbortSignal
  progress?: (message: string) => void
  now?: () => Date
}

export interface DdlAssessInput {
  script: string
  sourceEngine: EngineName
  fileName: string
  target: TargetSpec
  payctlVersion: string
  now?: () => Date
}

const SEVERITY_ORDER: Record<Severity, number> = {blocker: 0, 'needs-change': 1, info: 2}

/** Blockers first, then needs-change, then info; within one, by object, rule and line. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.object.localeCompare(b.object) ||
      a.rule.localeCompare(b.rule) ||
      (a.line ?? 0) - (b.line ?? 0),
  )
}

export function summarize(model: SchemaModel, findings: readonly Finding[], notAssessed: readonly NotAssessed[]): AssessReport['summary'] {
  const count = (s: Severity): number => findings.filter((f) => f.severity === s).length
  return {
    tables: model.tables.length,
    columns: model.tables.reduce((n, t) => n + t.columns.length, 0),
    blockers: count('blocker'),
    needsChange: count('needs-change'),
    info: count('info'),
    notAssessed: notAssessed.length,
  }
}

function hottestSource(engine: EngineName): Omit<HottestInput, 'counts'> {
  return engine === 'sqlserver'
    ? {source: 'sys.dm_db_index_usage_stats.user_updates since the instance started', unknownReason: 'sys.dm_db_index_usage_stats needs VIEW SERVER STATE'}
    : {
        source: 'performance_schema.table_io_waits_summary_by_table.COUNT_WRITE since the server started',
        unknownReason: 'performance_schema is off or not readable (information_schema UPDATE_TIME says when a table changed, not how often); turn it on (performance_schema = ON, restart) to see write counts',
      }
}

export async function assessLive(input: LiveAssessInput): Promise<AssessReport> {
  const {source, signal} = input
  const progress = input.progress ?? (() => undefined)
  let model = input.model
  if (model === undefined) {
    progress(`reading the source catalog (${describeEndpoint(source.options)})`)
    model = await source.introspect(signal === undefined ? {} : {signal})
  }
  const findings = runRules({model, target: input.target, from: 'live', targetServer: input.targetServer ?? null})
  const notes: string[] = []
  let counts = null
  if (source.tableWriteCounts !== undefined) {
    progress('reading write counts per table')
    counts = await source.tableWriteCounts()
  }
  let sample = null
  if (input.sample === false) {
    notes.push('Sample copy skipped (--no-sample): no estimated load time.')
  } else {
    progress('measuring a sample copy (a few seconds)')
    sample = await measureSampleCopy({source, target: input.sample.target, model, notes, ...(signal === undefined ? {} : {signal})})
  }
  const sizing = computeSizing(model, sample, {counts, ...hottestSource(model.server.engine)}, notes)
  return buildReport({model, findings, notAssessed: [], from: 'live', file: null, endpoint: describeEndpoint(source.options), target: input.target, sizing, payctlVersion: input.payctlVersion, now: input.now})
}

/** Reads the script with the engine's DDL reader; what it cannot read is carried as notAssessed, never a crash. */
export async function assessDdl(input: DdlAssessInput): Promise<AssessReport> {
  const reader =
    input.sourceEngine === 'sqlserver'
      ? (await import('../engines/sqlserver/sqlserver-ddl-reader.js')).readTsqlScript
      : (await import('../engines/mysql/mysql-ddl-reader.js')).readMysqlDump
  const {model, notAssessed} = reader(input.script, {fileName: input.fileName})
  const findings = runRules({model, target: input.target, from: 'ddl', notAssessed})
  return buildReport({model, findings, notAssessed, from: 'ddl', file: input.fileName, endpoint: null, target: input.target, sizing: null, payctlVersion: input.payctlVersion, now: input.now})
}

export function buildReport(o: {
  model: SchemaModel
  findings: Finding[]
  notAssessed: NotAssessed[]
  from: 'live' | 'ddl'
  file: string | null
  endpoint: string | null
  target: TargetSpec
  sizing: AssessReport['sizing']
  payctlVersion: string
  now?: (() => Date) | undefined
}): AssessReport {
  const findings = sortFindings(o.findings)
  const s = o.model.server
  return {
    generatedAt: (o.now?.() ?? new Date()).toISOString(),
    payctlVersion: o.payctlVersion,
    source: {engine: s.engine, flavor: s.flavor, version: s.version.raw, database: s.database, from: o.from, file: o.file, endpoint: o.endpoint},
    target: {flavor: o.target.flavor, version: o.target.version?.raw ?? null},
    summary: summarize(o.model, findings, o.notAssessed),
    // Quoted script lines, expressions and comments can hold passwords or card numbers. Redacted
    // here, value by value: redacting the rendered text misses them once HTML or JSON escapes the quotes.
    findings: findings.map((x) => redactStrings(x)),
    notAssessed: o.notAssessed.map((x) => redactStrings(x)),
    sizing: o.sizing,
  }
}

function redactStrings<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v: unknown) => redactStrings(v)) as T
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v)])) as T
  return value
}

export type FailOn = 'blocker' | 'warning'

/** Whether --fail-on is met: blocker → any blocker; warning → any blocker or needs-change. */
export function failOnResult(report: AssessReport, failOn: FailOn): {met: boolean; count: number; rules: string[]} {
  const hits = report.findings.filter((f) => f.severity === 'blocker' || (failOn === 'warning' && f.severity === 'needs-change'))
  return {met: hits.length > 0, count: hits.length, rules: [...new Set(hits.map((f) => f.rule))].sort()}
}
