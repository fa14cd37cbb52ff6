/**
 * MySQL-family catalog rows -> the engine-neutral schema model. The mapping functions are pure
 * (rows in, model out) and the two entry points that run queries take the query function as an
 * argument, so every flavor quirk below is tested from row fixtures without a server.
 */
import {InterruptedError, UsageError} from '../../cli/errors.js'
import type {IntrospectOptions} from '../engine.js'
import {
  type BinlogSettings,
  type CheckModel,
  type ColumnModel,
  emptyFeatures,
  type EventModel,
  type ForeignKeyModel,
  type IndexModel,
  type KeyModel,
  type MysqlFlavor,
  parseVersion,
  type RoutineModel,
  type SchemaModel,
  type ServerInfo,
  type ServerVersion,
  type TableModel,
  type TriggerModel,
  type ViewModel,
} from '../model.js'
import * as Q from './mysql-queries.js'

/** Runs one statement and returns its rows; MysqlEngine.query in production, a fixture in tests. */
export type QueryFn = <T>(sql: string, params?: readonly unknown[]) => Promise<T[]>

/** Numbers arrive as number or string (bigNumberStrings) and some text as Buffer, depending on server and column type. */
type Num = number | string | null
type Text = string | Buffer | null

export interface VariableRow {
  Variable_name: string
  Value: Text
}

export interface TableRow {
  table_name: string
  engine: Text
  table_rows: Num
  data_length: Num
  index_length: Num
  auto_increment: Num
  table_collation: Text
  table_comment: Text
  create_options: Text
}

export interface ColumnRow {
  table_name: string
  column_name: string
  ordinal_position: Num
  data_type: Text
  column_type: Text
  character_maximum_length: Num
  numeric_precision: Num
  numeric_scale: Num
  datetime_precision: Num
  character_set_name: Text
  collation_name: Text
  is_nullable: Text
  column_default: Text
  extra: Text
  generation_expression: Text
  column_comment: Text
}

export interface IndexColumnRow {
  table_name: string
  index_name: string
  non_unique: Num
  seq_in_index: Num
  column_name: Text
  collation: Text
  sub_part: Num
  index_type: Text
  /** Only from INDEX_COLUMNS_WITH_EXPRESSIONS. */
  expression?: Text
}

export interface ForeignKeyRow {
  table_name: string
  constraint_name: string
  column_name: string
  ordinal_position: Num
  referenced_table_schema: Text
  referenced_table_name: string
  referenced_column_name: Text
  update_rule: Text
  delete_rule: Text
}

export interface CheckRow {
  table_name: string
  constraint_name: string
  check_clause: Text
}

export interface ViewRow {
  table_name: string
  view_definition: Text
}

export interface RoutineRow {
  routine_name: string
  routine_type: Text
  routine_definition: Text
}

export interface TriggerRow {
  trigger_name: string
  event_object_table: string
  action_timing: Text
  event_manipulation: Text
}

export interface EventRow {
  event_name: string
  status: Text
}

function text(v: Text | undefined): string | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? v : v.toString('utf8')
}

function num(v: Num | undefined): number | null {
  if (v === null || v === undefined || v === '') return null
  const n = Number(v)
  return Number.isFinite(n) ? n : null
}

function emptyToNull(v: Text | undefined): string | null {
  const s = text(v)
  return s === null || s === '' ? null : s
}

// ---------------------------------------------------------------------------------------------
// Server: flavor, version, binlog settings

export type ServerVariables = ReadonlyMap<string, string>

export function variablesFromRows(rows: readonly VariableRow[]): Map<string, string> {
  return new Map(rows.map((r) => [r.Variable_name.toLowerCase(), text(r.Value) ?? '']))
}

/**
 * What the server says it is. The configured flavor (ConnectionOptions.flavor) is not consulted:
 * behaviour that depends on the flavor (default quoting, catalog columns) must follow the server
 * actually answering, so on a contradiction the detected flavor wins.
 */
export function detectFlavor(version: string, versionComment: string | null, auroraVersion: string | null): MysqlFlavor {
  const said = `${version} ${versionComment ?? ''}`
  if (/tidb/i.test(said)) return 'tidb'
  if (/mariadb/i.test(said)) return 'mariadb'
  if (auroraVersion !== null && auroraVersion !== '') return 'aurora-mysql'
  return 'mysql'
}

/**
 * TiDB reports a MySQL-compatible version ("8.0.11-TiDB-v7.5.1", and `server-version` can change
 * it entirely); what decides its features is its own release, so major/minor/patch are TiDB's.
 * `raw` stays what the server reported.
 */
export function serverVersionOf(flavor: MysqlFlavor, version: string, tidbVersion: string | null): ServerVersion {
  if (flavor === 'tidb') {
    const release = /Release Version:\s*v?(\d+\.\d+\.\d+)/i.exec(tidbVersion ?? '')?.[1] ?? /TiDB-v?(\d+\.\d+\.\d+)/i.exec(version)?.[1]
    if (release !== undefined) return {...parseVersion(release), raw: version}
  }
  return parseVersion(version)
}

function atLeast(v: ServerVersion, major: number, minor: number, patch: number): boolean {
  if (v.major !== major) return v.major > major
  if (v.minor !== minor) return v.minor > minor
  return v.patch >= patch
}

/**
 * information_schema.CHECK_CONSTRAINTS exists on MariaDB 10.2.22+ / 10.3.10+ and MySQL 8.0.16+
 * (Aurora MySQL 3). TiDB before 7.2 parses and ignores CHECK, and its CHECK_CONSTRAINTS has no
 * table name, so checks are not read there.
 */
export function checkConstraintsQuery(flavor: MysqlFlavor, v: ServerVersion): string | null {
  switch (flavor) {
    case 'mariadb':
      return (v.major === 10 && v.minor === 2 ? v.patch >= 22 : atLeast(v, 10, 3, 10)) ? Q.CHECKS_MARIADB : null
    case 'mysql':
    case 'aurora-mysql':
      return atLeast(v, 8, 0, 16) ? Q.CHECKS_MYSQL : null
    case 'tidb':
      return null
  }
}

/** STATISTICS.EXPRESSION (functional key parts) exists on MySQL 8.0.13+ only. */
export function indexColumnsQuery(flavor: MysqlFlavor, v: ServerVersion): string {
  return (flavor === 'mysql' || flavor === 'aurora-mysql') && atLeast(v, 8, 0, 13) ? Q.INDEX_COLUMNS_WITH_EXPRESSIONS : Q.INDEX_COLUMNS
}

function onOff(v: string | undefined): boolean | null {
  if (v === undefined) return null
  return /^(on|1|yes|true)$/i.test(v.trim())
}

export function binlogSettings(flavor: MysqlFlavor, vars: ServerVariables): BinlogSettings {
  const upper = (name: string): string | null => {
    const v = vars.get(name)
    return v === undefined || v === '' ? null : v.toUpperCase()
  }
  const expireSeconds = num(vars.get('binlog_expire_logs_seconds') ?? null)
  const expireDays = num(vars.get('expire_logs_days') ?? null)
  // MySQL 8 uses binlog_expire_logs_seconds when it is non-zero, else expire_logs_days; on
  // MariaDB 10.6+ the two are aliases. Both 0 means binlogs are kept until purged by hand.
  // (Aurora MySQL keeps binlogs per `mysql.rds_set_configuration('binlog retention hours')`,
  // which no variable shows.)
  let retentionSeconds: number | null = null
  if (expireSeconds !== null && expireSeconds > 0) retentionSeconds = expireSeconds
  else if (expireDays !== null && expireDays > 0) retentionSeconds = Math.round(expireDays * 86_400)
  else if (expireSeconds !== null || expireDays !== null) retentionSeconds = 0
  const mariadb = flavor === 'mariadb'
  return {
    kind: 'binlog',
    logBin: onOff(vars.get('log_bin')) ?? false,
    binlogFormat: upper('binlog_format'),
    binlogRowImage: upper('binlog_row_image'),
    // MariaDB 10+ always writes GTIDs (there is no gtid_mode); strictness is its own setting.
    gtidMode: mariadb ? 'ON' : upper('gtid_mode'),
    gtidStrictMode: mariadb ? (onOff(vars.get('gtid_strict_mode')) ?? false) : null,
    enforceGtidConsistency: mariadb ? null : upper('enforce_gtid_consistency'),
    serverId: num(vars.get('server_id') ?? null),
    retentionSeconds,
  }
}

export interface Endpoint {
  host: string
  port: number
  database: string
}

/** ServerInfo plus what introspection needs and the model has no field for. */
export interface MysqlServerFacts {
  info: ServerInfo
  /** The same as info.flavor, typed for this family. */
  flavor: MysqlFlavor
  autoIncrementIncrement: string
}

export function serverFactsFrom(vars: ServerVariables, endpoint: Endpoint, extra: {auroraVersion: string | null; tidbVersion: string | null}): MysqlServerFacts {
  const version = vars.get('version') ?? ''
  const versionComment = emptyToNull(vars.get('version_comment'))
  const auroraVersion = emptyToNull(vars.get('aurora_version')) ?? extra.auroraVersion
  const flavor = detectFlavor(version, versionComment, auroraVersion)
  const edition = flavor === 'aurora-mysql' ? `Aurora MySQL ${auroraVersion ?? ''}`.trim() : versionComment
  return {
    info: {
      engine: 'mysql',
      flavor,
      version: serverVersionOf(flavor, version, extra.tidbVersion),
      edition,
      database: endpoint.database,
      host: endpoint.host,
      port: endpoint.port,
      charset: emptyToNull(vars.get('character_set_server')),
      collation: emptyToNull(vars.get('collation_server')),
      lowerCaseTableNames: num(vars.get('lower_case_table_names') ?? null),
      changeCapture: binlogSettings(flavor, vars),
    },
    flavor,
    autoIncrementIncrement: emptyToNull(vars.get('auto_increment_increment')) ?? '1',
  }
}

/** mysql2's error number for "FUNCTION ... does not exist". */
const ER_SP_DOES_NOT_EXIST = 1305

export async function readServerFacts(query: QueryFn, endpoint: Endpoint): Promise<MysqlServerFacts> {
  const vars = variablesFromRows(await query<VariableRow>(Q.SERVER_VARIABLES))
  const version = vars.get('version') ?? ''
  const versionComment = emptyToNull(vars.get('version_comment'))
  let auroraVersion = emptyToNull(vars.get('aurora_version'))
  let tidbVersion: string | null = null
  const preliminary = detectFlavor(version, versionComment, auroraVersion)
  if (preliminary === 'tidb') {
    tidbVersion = text((await query<{v: Text}>(Q.TIDB_VERSION))[0]?.v ?? null)
  } else if (preliminary === 'mysql') {
    try {
      auroraVersion = text((await query<{v: Text}>(Q.AURORA_VERSION))[0]?.v ?? null)
    } catch (err) {
      // Only "no such function" means "not Aurora"; anything else (a lost connection, a timeout) is a real failure.
      if (errno(err) !== ER_SP_DOES_NOT_EXIST) throw err
    }
  }
  return serverFactsFrom(vars, endpoint, {auroraVersion, tidbVersion})
}

function errno(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined
  const e = err as {errno?: unknown; cause?: unknown}
  if (typeof e.errno === 'number') return e.errno
  return e.cause === undefined ? undefined : errno(e.cause)
}

// ---------------------------------------------------------------------------------------------
// Columns

const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year'])
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'])
const TEMPORAL_TYPES = new Set(['datetime', 'timestamp', 'date', 'time'])
const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json', ...BINARY_TYPES])

/** How a server writes COLUMN_DEFAULT: MariaDB >= 10.2.7 as an SQL expression, the others as the bare value. */
export type DefaultStyle = 'expression' | 'value'

export function defaultStyleOf(flavor: MysqlFlavor, v: ServerVersion): DefaultStyle {
  return flavor === 'mariadb' && atLeast(v, 10, 2, 7) ? 'expression' : 'value'
}

/** Quotes a value as a string literal the way MariaDB writes defaults: ' doubled, \ doubled. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}

function canonicalCurrentTimestamp(s: string): string | null {
  const m = /^(?:current_timestamp|now|localtimestamp|localtime)(?:\((\d*)\))?$/i.exec(s.trim())
  if (m === null) return null
  const fsp = Number(m[1] || '0')
  return fsp > 0 ? `CURRENT_TIMESTAMP(${fsp})` : 'CURRENT_TIMESTAMP'
}

/**
 * The one form `ColumnModel.default` takes on every flavor:
 *   - null: no default, and also an explicit DEFAULT NULL (the same thing to MySQL);
 *   - a string, temporal, enum or binary literal: single-quoted, with ' and \ doubled ("'pending'",
 *     "'it''s'"); MySQL 8's hex form of a binary default ("0x6162") and a bit literal ("b'1'") are kept;
 *   - a number: as the catalog writes it ("0.0000", "-1.50", "1500");
 *   - an expression: its text, with the current-timestamp family spelled "CURRENT_TIMESTAMP" or
 *     "CURRENT_TIMESTAMP(6)" (MariaDB writes "current_timestamp()", MySQL "CURRENT_TIMESTAMP").
 * MariaDB >= 10.2.7 already stores an expression ("'pending'", "NULL" for a nullable column's
 * default); MySQL, TiDB, Aurora and old MariaDB store the bare value ("pending") and mark
 * expression defaults with DEFAULT_GENERATED in EXTRA (MySQL 5.7: CURRENT_TIMESTAMP only).
 */
export function normalizeDefault(raw: string | null, dataType: string, extra: string, style: DefaultStyle): string | null {
  if (raw === null) return null
  if (/\bgenerated\b/i.test(extra) && !/\bdefault_generated\b/i.test(extra)) return null
  if (style === 'expression') {
    if (raw === 'NULL') return null
    return canonicalCurrentTimestamp(raw) ?? raw
  }
  if (/\bdefault_generated\b/i.test(extra)) return canonicalCurrentTimestamp(raw) ?? raw
  if (TEMPORAL_TYPES.has(dataType)) {
    const ts = canonicalCurrentTimestamp(raw)
    if (ts !== null) return ts
  }
  if (NUMERIC_TYPES.has(dataType)) return raw
  if (dataType === 'bit' && /^b'[01]*'$/i.test(raw)) return raw
  if (BINARY_TYPES.has(dataType) && /^0x[0-9a-f]*$/i.test(raw)) return raw
  return quoteLiteral(raw)
}

const SIMPLE_ESCAPES: Record<string, string> = {'0': '\0', b: '\b', n: '\n', r: '\r', t: '\t', Z: '\x1a'}

/** Members of enum('a','it''s','x\\y') / set(...), unquoted: '' and \' are a quote, backslash escapes as in MySQL string literals. */
export function parseEnumValues(columnType: string): string[] | null {
  const m = /^\s*(?:enum|set)\s*\(([\s\S]*)\)\s*$/i.exec(columnType)
  if (m === null) return null
  const body = m[1] ?? ''
  const values: string[] = []
  let i = 0
  while (i < body.length) {
    const ch = body[i]
    if (ch === ',' || ch === ' ') {
      i++
      continue
    }
    if (ch !== "'") throw new Error(`Cannot parse the members of ${columnType} at position ${i}`)
    i++
    let value = ''
    for (;;) {
      if (i >= body.length) throw new Error(`Unterminated member in ${columnType}`)
      const c = body[i] as string
      if (c === "'") {
        if (body[i + 1] === "'") {
          value += "'"
          i += 2
          continue
        }
        i++
        break
      }
      if (c === '\\' && i + 1 < body.length) {
        const next = body[i + 1] as string
        value += SIMPLE_ESCAPES[next] ?? next
        i += 2
        continue
      }
      value += c
      i++
    }
    values.push(value)
  }
  return values
}

/** MariaDB's JSON is LONGTEXT plus CHECK (json_valid(`col`)); returns the column such a check guards. */
export function jsonValidColumn(checkClause: string): string | null {
  const m = /^\s*json_valid\(\s*`((?:[^`]|``)+)`\s*\)\s*$/i.exec(checkClause)
  return m?.[1]?.replaceAll('``', '`') ?? null
}

export interface ColumnContext {
  style: DefaultStyle
  /** The table's AUTO_INCREMENT (next value), as the catalog states it. */
  autoIncrement: string | null
  autoIncrementIncrement: string
  /** Columns that a json_valid check marks as JSON (MariaDB). */
  jsonColumns: ReadonlySet<string>
}

export function mapColumn(row: ColumnRow, ctx: ColumnContext): ColumnModel {
  const extra = text(row.extra) ?? ''
  const catalogType = (text(row.data_type) ?? '').toLowerCase()
  // Reported as MySQL reports a JSON column, so a MariaDB source and a MySQL target compare equal.
  const json = ctx.jsonColumns.has(row.column_name) && /text$/.test(catalogType)
  const dataType = json ? 'json' : catalogType
  const columnType = json ? 'json' : (text(row.column_type) ?? '')
  const generatedKind = /\b(virtual|stored|persistent)\s+generated\b/i.exec(extra)?.[1]?.toLowerCase()
  const temporal = TEMPORAL_TYPES.has(dataType)
  const numeric = NUMERIC_TYPES.has(dataType) || dataType === 'bit'
  return {
    name: row.column_name,
    ordinal: num(row.ordinal_position) ?? 0,
    dataType,
    columnType,
    length: STRING_TYPES.has(dataType) && !json ? num(row.character_maximum_length) : null,
    precision: numeric ? num(row.numeric_precision) : null,
    scale: temporal ? num(row.datetime_precision) : numeric ? num(row.numeric_scale) : null,
    unsigned: /\bunsigned\b/i.test(columnType),
    charset: json ? null : text(row.character_set_name),
    collation: json ? null : text(row.collation_name),
    nullable: text(row.is_nullable) === 'YES',
    default: normalizeDefault(text(row.column_default), dataType, extra, ctx.style),
    identity: /\bauto_increment\b/i.test(extra) ? {seed: ctx.autoIncrement ?? '1', increment: ctx.autoIncrementIncrement} : null,
    generated: generatedKind === undefined ? null : {expression: text(row.generation_expression) ?? '', stored: generatedKind !== 'virtual'},
    enumValues: dataType === 'enum' || dataType === 'set' ? parseEnumValues(columnType) : null,
    sparse: false,
    serverMaintained: /\bon update\b/i.test(extra),
    comment: emptyToNull(row.column_comment),
  }
}

// ---------------------------------------------------------------------------------------------
// Keys and indexes

export function mapIndexes(rows: readonly IndexColumnRow[]): IndexModel[] {
  const byName = new Map<string, IndexColumnRow[]>()
  for (const r of rows) {
    const list = byName.get(r.index_name) ?? []
    list.push(r)
    byName.set(r.index_name, list)
  }
  const indexes: IndexModel[] = []
  for (const [name, parts] of byName) {
    parts.sort((a, b) => (num(a.seq_in_index) ?? 0) - (num(b.seq_in_index) ?? 0))
    const first = parts[0] as IndexColumnRow
    indexes.push({
      name,
      columns: parts.map((p) => ({
        // A functional key part (MySQL 8.0.13+) has no column; its expression, parenthesised as in DDL, stands in.
        name: text(p.column_name) ?? `(${text(p.expression ?? null) ?? 'expression'})`,
        descending: text(p.collation) === 'D',
        prefixLength: num(p.sub_part),
      })),
      unique: num(first.non_unique) === 0,
      primary: name === 'PRIMARY',
      kind: (text(first.index_type) ?? 'btree').toLowerCase(),
      included: [],
      filter: null,
    })
  }
  // PRIMARY first, then by name: a stable order for diffs and reports.
  return indexes.sort((a, b) => Number(b.primary) - Number(a.primary) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

function keyOf(index: IndexModel): KeyModel {
  return {name: index.name, columns: index.columns}
}

export function mapForeignKeys(rows: readonly ForeignKeyRow[], schema: string): ForeignKeyModel[] {
  const byName = new Map<string, ForeignKeyRow[]>()
  for (const r of rows) {
    const list = byName.get(r.constraint_name) ?? []
    list.push(r)
    byName.set(r.constraint_name, list)
  }
  return [...byName.entries()].map(([name, parts]) => {
    parts.sort((a, b) => (num(a.ordinal_position) ?? 0) - (num(b.ordinal_position) ?? 0))
    const first = parts[0] as ForeignKeyRow
    return {
      name,
      columns: parts.map((p) => p.column_name),
      referencedSchema: text(first.referenced_table_schema) ?? schema,
      referencedTable: first.referenced_table_name,
      referencedColumns: parts.map((p) => text(p.referenced_column_name) ?? ''),
      onUpdate: (text(first.update_rule) ?? 'RESTRICT').toUpperCase(),
      onDelete: (text(first.delete_rule) ?? 'RESTRICT').toUpperCase(),
      enabled: true,
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Tables and the whole schema

export interface CatalogRows {
  tables: TableRow[]
  columns: ColumnRow[]
  indexColumns: IndexColumnRow[]
  foreignKeys: ForeignKeyRow[]
  checks: CheckRow[]
  views: ViewRow[]
  routines: RoutineRow[]
  triggers: TriggerRow[]
  events: EventRow[]
}

function groupByTable<T extends {table_name: string}>(rows: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rows) {
    const list = out.get(r.table_name) ?? []
    list.push(r)
    out.set(r.table_name, list)
  }
  return out
}

export function mapTables(rows: CatalogRows, schema: string, ctx: {style: DefaultStyle; autoIncrementIncrement: string}): TableModel[] {
  const columnsBy = groupByTable(rows.columns)
  const indexesBy = groupByTable(rows.indexColumns)
  const fksBy = groupByTable(rows.foreignKeys)
  const checksBy = groupByTable(rows.checks)
  return rows.tables.map((t) => {
    const columnRows = columnsBy.get(t.table_name) ?? []
    const textColumns = new Set(columnRows.filter((c) => /text$/i.test(text(c.data_type) ?? '')).map((c) => c.column_name))
    const jsonColumns = new Set<string>()
    const checks: CheckModel[] = []
    for (const c of checksBy.get(t.table_name) ?? []) {
      const clause = text(c.check_clause) ?? ''
      const guarded = jsonValidColumn(clause)
      // The json_valid check is what makes a MariaDB LONGTEXT a JSON column; it is folded into
      // the type rather than listed, as it is on MySQL where JSON validates itself.
      if (guarded !== null && textColumns.has(guarded)) jsonColumns.add(guarded)
      else checks.push({name: c.constraint_name, expression: clause})
    }
    const autoIncrement = t.auto_increment === null ? null : String(t.auto_increment)
    const columns = columnRows
      .map((c) => mapColumn(c, {...ctx, autoIncrement, jsonColumns}))
      .sort((a, b) => a.ordinal - b.ordinal)
    const indexes = mapIndexes(indexesBy.get(t.table_name) ?? [])
    const primary = indexes.find((i) => i.primary)
    const createOptions = text(t.create_options) ?? ''
    return {
      schema,
      name: t.table_name,
      columns,
      primaryKey: primary === undefined ? null : keyOf(primary),
      uniqueKeys: indexes.filter((i) => i.unique && !i.primary).map(keyOf),
      indexes,
      foreignKeys: mapForeignKeys(fksBy.get(t.table_name) ?? [], schema),
      checks,
      rowEstimate: num(t.table_rows) ?? 0,
      dataBytes: num(t.data_length) ?? 0,
      indexBytes: num(t.index_length) ?? 0,
      collation: text(t.table_collation),
      comment: emptyToNull(t.table_comment),
      features: {...emptyFeatures(), partitioned: /\bpartitioned\b/i.test(createOptions), storageEngine: text(t.engine)},
    }
  })
}

export function mapViews(rows: readonly ViewRow[], schema: string): ViewModel[] {
  return rows.map((r) => ({schema, name: r.table_name, definition: emptyToNull(r.view_definition)}))
}

export function mapRoutines(rows: readonly RoutineRow[], schema: string): RoutineModel[] {
  return rows.map((r) => ({
    schema,
    name: r.routine_name,
    kind: text(r.routine_type)?.toUpperCase() === 'FUNCTION' ? 'function' : 'procedure',
    // NULL when the reader lacks the privilege to see the body (MySQL shows it to the definer or with SHOW_ROUTINE only).
    definition: text(r.routine_definition),
  }))
}

export function mapTriggers(rows: readonly TriggerRow[], schema: string): TriggerModel[] {
  return rows.map((r) => ({
    schema,
    name: r.trigger_name,
    table: r.event_object_table,
    timing: (text(r.action_timing) ?? '').toUpperCase(),
    events: [(text(r.event_manipulation) ?? '').toUpperCase()],
    // MySQL-family triggers cannot be disabled.
    enabled: true,
  }))
}

export function mapEvents(rows: readonly EventRow[], schema: string): EventModel[] {
  return rows.map((r) => ({schema, name: r.event_name, status: (text(r.status) ?? '').toUpperCase()}))
}

/** Keeps the requested tables; a requested table that does not exist is a config error, never silently skipped. */
export function selectTables(tables: readonly TableRow[], schema: string, wanted: readonly string[] | undefined): TableRow[] {
  if (wanted === undefined) return [...tables]
  const names = new Set<string>()
  const missing: string[] = []
  const byName = new Set(tables.map((t) => t.table_name))
  for (const w of wanted) {
    const dot = w.indexOf('.')
    const name = dot >= 0 && w.slice(0, dot) === schema ? w.slice(dot + 1) : w
    if (byName.has(name)) names.add(name)
    else missing.push(w)
  }
  if (missing.length > 0) {
    throw new UsageError('PAYCTL_TABLE_NOT_FOUND', `No such table in schema "${schema}": ${missing.join(', ')}.`, {
      actions: ['Check the table names in the config (tables.include), or the database the connection points at.'],
      data: {schema, missing},
    })
  }
  return tables.filter((t) => names.has(t.table_name))
}

export async function introspectSchema(query: QueryFn, facts: MysqlServerFacts, options: IntrospectOptions = {}): Promise<SchemaModel> {
  const {info, flavor} = facts
  const schema = info.database
  const step = async <T>(sql: string): Promise<T[]> => {
    if (options.signal?.aborted) throw new InterruptedError('Interrupted while reading the catalog.')
    return query<T>(sql, [schema])
  }
  const checksSql = checkConstraintsQuery(flavor, info.version)
  const rows: CatalogRows = {
    tables: selectTables(await step<TableRow>(Q.TABLES), schema, options.tables),
    columns: await step<ColumnRow>(Q.COLUMNS),
    indexColumns: await step<IndexColumnRow>(indexColumnsQuery(flavor, info.version)),
    foreignKeys: await step<ForeignKeyRow>(Q.FOREIGN_KEYS),
    checks: checksSql === null ? [] : await step<CheckRow>(checksSql),
    views: await step<ViewRow>(Q.VIEWS),
    routines: await step<RoutineRow>(Q.ROUTINES),
    triggers: await step<TriggerRow>(Q.TRIGGERS),
    events: await step<EventRow>(Q.EVENTS),
  }
  return {
    server: info,
    tables: mapTables(rows, schema, {style: defaultStyleOf(flavor, info.version), autoIncrementIncrement: facts.autoIncrementIncrement}),
    views: mapViews(rows.views, schema),
    routines: mapRoutines(rows.routines, schema),
    triggers: mapTriggers(rows.triggers, schema),
    events: mapEvents(rows.events, schema),
    // MariaDB sequences show as TABLE_TYPE 'SEQUENCE' and are not read yet; the other flavors have none.
    sequences: [],
    introspectedAt: new Date().toISOString(),
  }
}
