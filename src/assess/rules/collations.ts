/**
 * Collations, case and accent sensitivity, and identifier case. A collation decides what a
 * UNIQUE key considers a duplicate: moving 'Müller' and 'Muller' from an accent-sensitive source
 * to an accent-insensitive target fails the load on a duplicate key, and moving a case-sensitive
 * public id to a _ci column silently merges lookups. So differences are findings, not notes.
 */
import {mapCollation} from '../../migrators/schema/type-mapping.js'
import type {Finding} from '../report.js'
import {columnName, type RuleContext, tableName} from './context.js'

export interface CollationTraits {
  caseSensitive: boolean
  accentSensitive: boolean
}

/** SQL Server: Latin1_General_100_CS_AS_SC_UTF8, SQL_Latin1_General_CP1_CI_AS, Latin1_General_BIN2. */
export function sqlServerCollationTraits(name: string): CollationTraits {
  if (/_BIN2?(_|$)/i.test(name)) return {caseSensitive: true, accentSensitive: true}
  return {caseSensitive: /_CS(_|$)/i.test(name), accentSensitive: !/_AI(_|$)/i.test(name)}
}

/** A collation's finding from the one collation-mapping table (the converter uses the same), or null when unchanged. */
function collationFinding(ctx: RuleContext, object: string, objectType: 'database' | 'column', collation: string): Finding | null {
  const m = mapCollation(collation, ctx.model.server.engine, ctx.target)
  if (m.severity === 'none') return null
  const src = ctx.model.server.engine === 'sqlserver' ? sqlServerCollationTraits(collation) : null
  return {
    rule: `collation.${m.rule}`,
    severity: m.severity,
    objectType,
    object,
    title: src === null ? `Collation ${collation} becomes ${m.collation}` : `${src.caseSensitive ? 'Case-sensitive' : 'Case-insensitive'}, ${src.accentSensitive ? 'accent-sensitive' : 'accent-insensitive'} ${collation} becomes ${m.collation}`,
    mapping: `${collation} -> ${m.collation}`,
    reason: m.caveat,
    phases: m.severity === 'info' ? ['provision'] : ['provision', 'replicate', 'verify'],
  }
}

export function collationRule(ctx: RuleContext): Finding[] {
  const {model} = ctx
  const findings: Finding[] = []
  const dbCollation = model.server.collation
  // The database default is reported once; columns only where they differ from it, so a
  // thousand nvarchar columns in the default collation do not bury the ones that differ.
  if (dbCollation !== null) {
    const f = collationFinding(ctx, model.server.database, 'database', dbCollation)
    if (f !== null) findings.push(f)
  }
  for (const t of model.tables) {
    const cols = t.columns.filter((c) => c.collation !== null)
    const distinct = [...new Set(cols.map((c) => c.collation))]
    // MySQL to MySQL keeps each column's collation, so a mix changes nothing there; from SQL
    // Server each collation is mapped on its own and T-SQL's implicit coercion rules no longer apply.
    if (model.server.engine === 'sqlserver' && distinct.length > 1) {
      findings.push({
        rule: 'collation.mixed',
        severity: 'info',
        objectType: 'table',
        object: tableName(t),
        title: `${distinct.length} collations in one table`,
        mapping: distinct.join(', '),
        reason: 'Comparing or joining columns of different collations needs an explicit COLLATE on the target ("Illegal mix of collations"); check the application\'s queries that do.',
        phases: ['shift-traffic'],
      })
    }
    for (const c of cols) {
      if (c.collation === null || c.collation === dbCollation) continue
      const f = collationFinding(ctx, columnName(t, c), 'column', c.collation)
      if (f !== null) findings.push(f)
    }
  }
  findings.push(...identifierFindings(ctx))
  return findings
}

/** Whether the target compares table names case-insensitively; null when unknown. */
function targetNamesInsensitive(ctx: RuleContext): boolean | null {
  if (ctx.target.flavor === 'tidb') return true // TiDB supports only lower_case_table_names = 2
  const l = ctx.targetServer?.lowerCaseTableNames ?? null
  return l === null ? null : l !== 0
}

function identifierFindings(ctx: RuleContext): Finding[] {
  const {model} = ctx
  const out: Finding[] = []
  const insensitive = targetNamesInsensitive(ctx)
  const sourceInsensitive =
    model.server.engine === 'sqlserver'
      ? model.server.collation === null
        ? null
        : !sqlServerCollationTraits(model.server.collation).caseSensitive
      : model.server.lowerCaseTableNames === null
        ? null
        : model.server.lowerCaseTableNames !== 0

  // Two tables whose names differ only in case cannot both exist where names are case-insensitive.
  const byLower = new Map<string, string[]>()
  for (const t of model.tables) {
    const key = `${t.schema}.${t.name}`.toLowerCase()
    byLower.set(key, [...(byLower.get(key) ?? []), tableName(t)])
  }
  for (const names of byLower.values()) {
    if (names.length < 2 || insensitive === false) continue
    out.push({
      rule: 'identifiers.table-case-collision',
      severity: insensitive === true ? 'blocker' : 'needs-change',
      objectType: 'table',
      object: names.join(', '),
      title: 'Table names differ only in case',
      mapping: `${names.join(', ')} -> rename all but one`,
      reason: `${insensitive === true ? 'The target compares table names case-insensitively' : 'If the target has lower_case_table_names = 1 or 2'}, these tables collide. Rename them on the source before the migration.`,
      phases: ['provision'],
    })
  }
  // Column names are case-insensitive in every MySQL-family server.
  for (const t of model.tables) {
    const seen = new Map<string, string[]>()
    for (const c of t.columns) seen.set(c.name.toLowerCase(), [...(seen.get(c.name.toLowerCase()) ?? []), c.name])
    for (const names of seen.values()) {
      if (names.length < 2) continue
      out.push({
        rule: 'identifiers.column-case-collision',
        severity: 'blocker',
        objectType: 'table',
        object: tableName(t),
        title: `Columns ${names.join(', ')} differ only in case`,
        mapping: `${names.join(', ')} -> rename all but one`,
        reason: 'MySQL-family column names are case-insensitive: the table cannot be created. Rename the columns on the source.',
        phases: ['provision'],
      })
    }
  }
  if (sourceInsensitive === true && insensitive !== true) {
    out.push({
      rule: 'identifiers.case-sensitivity',
      severity: 'info',
      objectType: 'database',
      object: model.server.database,
      title: insensitive === null ? 'Table-name case sensitivity on the target is unknown' : 'Table names become case-sensitive on the target',
      mapping: `case-insensitive names -> lower_case_table_names = ${ctx.targetServer?.lowerCaseTableNames ?? 'unknown'}`,
      reason:
        'The source resolves table names case-insensitively. With lower_case_table_names = 0 (the Linux default) the application\'s SQL must spell every table name exactly as created; otherwise initialise the target with lower_case_table_names = 1 (it can only be set when the data directory is created).',
      phases: ['provision', 'shift-traffic'],
    })
  }
  return out
}
