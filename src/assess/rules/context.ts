/**
 * What every assess rule sees, and the small helpers they share. A rule is a pure function of
 * the source model and the target spec: no I/O, no clock, so each is tested on a hand-built model.
 */
import type {NotAssessed} from '../../engines/ddl-reader.js'
import type {ColumnModel, SchemaModel, ServerInfo, ServerVersion, TableModel} from '../../engines/model.js'
import type {TargetSpec} from '../../migrators/schema/steps.js'
import type {Finding} from '../report.js'

export interface RuleContext {
  model: SchemaModel
  target: TargetSpec
  /** "live": settings read from the server are facts; "ddl": a script cannot show them. */
  from: 'live' | 'ddl'
  /** The live target's own settings (lower_case_table_names...), when it was reachable. */
  targetServer?: ServerInfo | null
  /** What the DDL reader could not read (CLR assemblies among them). */
  notAssessed?: NotAssessed[]
  /** How long change capture must be able to resume: log/CDC retention below it is a finding. Default 7 days. */
  migrationWindowSeconds?: number
}

export type Rule = (ctx: RuleContext) => Finding[]

export const DEFAULT_MIGRATION_WINDOW_SECONDS = 7 * 86_400

export const ALL_PHASES: Finding['phases'] = ['provision', 'replicate', 'verify', 'shift-traffic']

export function tableName(t: Pick<TableModel, 'schema' | 'name'>): string {
  return `${t.schema}.${t.name}`
}

export function columnName(t: Pick<TableModel, 'schema' | 'name'>, c: Pick<ColumnModel, 'name'>): string {
  return `${t.schema}.${t.name}.${c.name}`
}

export function atLeast(v: ServerVersion, major: number, minor = 0, patch = 0): boolean {
  if (v.major !== major) return v.major > major
  if (v.minor !== minor) return v.minor > minor
  return v.patch >= patch
}

export function formatVersion(v: ServerVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`
}

/** The target's display name in messages: "TiDB 7.5.1", "MariaDB (version unknown)". */
export function targetLabel(target: TargetSpec): string {
  const name = FLAVOR_NAMES[target.flavor]
  return target.version === null ? name : `${name} ${formatVersion(target.version)}`
}

export const FLAVOR_NAMES: Record<TargetSpec['flavor'], string> = {
  tidb: 'TiDB',
  'aurora-mysql': 'Aurora MySQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
}

/** SQL Server string literal N'...' for fix-it statements. */
export function nLiteral(s: string): string {
  return `N'${s.replaceAll("'", "''")}'`
}

/** SQL Server [bracketed] identifier for fix-it statements. */
export function bracket(s: string): string {
  return `[${s.replaceAll(']', ']]')}]`
}
