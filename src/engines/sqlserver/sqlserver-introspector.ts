/**
 * Maps SQL Server catalog rows (sqlserver-queries.ts) to the engine-neutral schema model. The
 * mapping functions are pure; `introspect` runs the queries through an injected function, so the
 * whole path is tested from documented row shapes without a server.
 *
 * Row types are what the mssql driver (tedious) returns: bit as boolean, tinyint/smallint/int as
 * number, bigint (and SUM over bigint) as string, NULL as null.
 */
import {BugError, UsageError} from '../../cli/errors.js'
import {
  emptyFeatures,
  parseVersion,
  type CheckModel,
  type ColumnModel,
  type ForeignKeyModel,
  type IndexModel,
  type KeyColumn,
  type KeyModel,
  type RoutineModel,
  type SchemaModel,
  type SequenceModel,
  type ServerInfo,
  type TableModel,
  type TriggerModel,
  type ViewModel,
} from '../model.js'
import {
  AGENT_STATUS_QUERY,
  CDC_CAPTURE_INSTANCES_QUERY,
  CDC_RETENTION_QUERY,
  CHECK_CONSTRAINTS_QUERY,
  COLUMNS_QUERY,
  FOREIGN_KEYS_QUERY,
  INDEXES_QUERY,
  ROUTINES_QUERY,
  SEQUENCES_QUERY,
  SERVER_INFO_QUERY,
  TABLE_SIZES_QUERY,
  TABLES_QUERY,
  TRIGGERS_QUERY,
  VIEWS_QUERY,
} from './sqlserver-queries.js'

/** bigint columns arrive as strings from tedious; fixtures may use numbers. */
type BigIntValue = string | number

export type QueryParams = Record<string, string | null>
/** Runs one catalog query with bound parameters and returns its rows. */
export type RunQuery = <Row>(sql: string, params?: QueryParams) => Promise<Row[]>

export interface ServerInfoRow {
  product_version: string
  edition: string | null
  engine_edition: number | null
  version: string
  database_name: string
  collation_name: string | null
  code_page: number | null
  recovery_model_desc: string
  is_cdc_enabled: boolean
  is_change_tracking_enabled: boolean
  retention_period: number | null
  retention_period_units_desc: string | null
  is_auto_cleanup_on: boolean | null
}

export interface AgentStatusRow {
  servicename: string
  status_desc: string
}

export interface CdcRetentionRow {
  retention: BigIntValue
}

export interface TableRow {
  schema_name: string
  table_name: string
  is_memory_optimized: boolean
  /** 0 non-temporal, 1 history table, 2 system-versioned temporal table. */
  temporal_type: number
  history_schema_name: string | null
  history_table_name: string | null
  is_tracked_by_cdc: boolean
  is_change_tracked: boolean
  is_partitioned: boolean
  partition_count: number
  row_estimate: BigIntValue | null
  comment: string | null
}

export interface TableSizeRow {
  schema_name: string
  table_name: string
  row_count: BigIntValue
  reserved_page_count: BigIntValue
  used_page_count: BigIntValue
  data_page_count: BigIntValue
}

export interface ColumnRow {
  schema_name: string
  table_name: string
  column_id: number
  column_name: string
  type_name: string
  is_user_defined: boolean
  base_type_name: string | null
  /** Bytes; -1 for (max), xml and the CLR types. */
  max_length: number
  precision: number
  scale: number
  is_nullable: boolean
  is_identity: boolean
  seed_value: string | null
  increment_value: string | null
  is_computed: boolean
  computed_definition: string | null
  is_persisted: boolean | null
  is_sparse: boolean
  /** 0 none; 1/2 temporal period start/end; 5-10 SQL Server 2022 ledger and transaction columns. */
  generated_always_type: number
  collation_name: string | null
  code_page: number | null
  default_constraint_name: string | null
  default_definition: string | null
  comment: string | null
}

export interface IndexColumnRow {
  schema_name: string
  table_name: string
  index_id: number
  index_name: string
  type_desc: string
  is_primary_key: boolean
  is_unique: boolean
  is_unique_constraint: boolean
  has_filter: boolean
  filter_definition: string | null
  index_column_id: number
  key_ordinal: number
  is_descending_key: boolean
  is_included_column: boolean
  column_name: string
}

export interface ForeignKeyColumnRow {
  schema_name: string
  table_name: string
  constraint_name: string
  constraint_column_id: number
  column_name: string
  referenced_schema_name: string
  referenced_table_name: string
  referenced_column_name: string
  update_referential_action_desc: string
  delete_referential_action_desc: string
  is_disabled: boolean
  is_not_trusted: boolean
}

export interface CheckConstraintRow {
  schema_name: string
  table_name: string
  constraint_name: string
  definition: string
  is_disabled: boolean
  is_not_trusted: boolean
}

export interface ViewRow {
  schema_name: string
  view_name: string
  definition: string | null
}

export interface RoutineRow {
  schema_name: string
  routine_name: string
  /** char(2) in the catalog: 'P ' comes back with its trailing space. */
  type: string
  type_desc: string
  definition: string | null
}

export interface TriggerEventRow {
  schema_name: string
  table_name: string
  trigger_name: string
  is_instead_of_trigger: boolean
  is_disabled: boolean
  event_type_desc: string
}

export interface SequenceRow {
  schema_name: string
  sequence_name: string
  type_name: string
  start_value: string
  increment: string
  current_value: string | null
}

export interface CdcCaptureInstanceRow {
  schema_name: string
  table_name: string
  capture_instance: string
  supports_net_changes: boolean
}

export interface IntrospectContext {
  host: string
  port: number
  /** Schemas to read; default every user schema. */
  schemas?: string[]
  /** Only these tables (name or schema.name); default every base table. */
  tables?: string[]
  signal?: AbortSignal
  /** Injected so tests get a fixed timestamp. */
  now?: () => Date
}

// ---------------------------------------------------------------------------------------------
// Server info

/**
 * Errors that mean "this optional catalog source is not readable here": permission denied (229,
 * 262, 297, 300), msdb not accessible (916), object absent (208, e.g. no msdb.dbo.cdc_jobs before
 * CDC was ever enabled on the server), and Azure SQL Database refusing cross-database or
 * server-scoped names (40515). Anything else is a real failure and propagates.
 */
const UNAVAILABLE_ERROR_NUMBERS = new Set([208, 229, 262, 297, 300, 916, 40515])

export function isUnavailableError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const number = (err as {number?: unknown}).number
  return typeof number === 'number' && UNAVAILABLE_ERROR_NUMBERS.has(number)
}

async function optional<Row>(rows: Promise<Row[]>): Promise<Row[] | null> {
  try {
    return await rows
  } catch (err) {
    if (isUnavailableError(err)) return null
    throw err
  }
}

/** SERVERPROPERTY('EngineEdition'): 4 Express (ships without SQL Server Agent), 5 Azure SQL Database (no Agent; CDC runs on its own scheduler). */
const ENGINE_EDITION_EXPRESS = 4
const ENGINE_EDITION_AZURE_SQL_DATABASE = 5

export function agentRunningFrom(rows: AgentStatusRow[] | null, engineEdition: number | null): boolean | null {
  if (engineEdition === ENGINE_EDITION_EXPRESS) return false
  if (rows === null || rows.length === 0) return null
  return rows.some((r) => r.status_desc.toLowerCase() === 'running')
}

/** Charset name for a collation's code page: Unicode (n*) types are always UTF-16; 0 means a Unicode-only collation. */
export function charsetFromCodePage(codePage: number | null): string | null {
  if (codePage === null || codePage === 0) return null
  return codePage === 65001 ? 'utf-8' : `cp${codePage}`
}

/**
 * Identifier case-sensitivity follows the database collation. Reported with MySQL's
 * lower_case_table_names meaning: 0 = case-sensitive, 2 = stored as written, compared
 * case-insensitively.
 */
export function identifierCaseFromCollation(collation: string | null): number | null {
  if (collation === null) return null
  const c = collation.toUpperCase()
  if (c.includes('_CS') || c.endsWith('_BIN') || c.endsWith('_BIN2') || c.includes('_BIN_') || c.includes('_BIN2_')) return 0
  if (c.includes('_CI')) return 2
  return null
}

export function mapServerInfo(
  row: ServerInfoRow,
  extra: {host: string; port: number; agent: AgentStatusRow[] | null; cdcRetention: CdcRetentionRow[] | null},
): ServerInfo {
  const version = parseVersion(row.product_version)
  // @@VERSION spans several lines (build date, copyright, OS); its first line names the release.
  const firstLine = row.version.split(/\r?\n/, 1)[0]?.trim() ?? ''
  const retention = extra.cdcRetention?.[0]?.retention
  return {
    engine: 'sqlserver',
    flavor: 'sqlserver',
    version: {...version, raw: firstLine || row.product_version},
    edition: row.edition,
    database: row.database_name,
    host: extra.host,
    port: extra.port,
    charset: charsetFromCodePage(row.code_page),
    collation: row.collation_name,
    lowerCaseTableNames: identifierCaseFromCollation(row.collation_name),
    changeCapture: {
      kind: 'sqlserver',
      cdcEnabled: row.is_cdc_enabled,
      changeTrackingEnabled: row.is_change_tracking_enabled,
      changeTrackingRetention:
        row.is_change_tracking_enabled && row.retention_period !== null
          ? `${row.retention_period} ${row.retention_period_units_desc ?? ''}`.trim()
          : null,
      changeTrackingAutoCleanup: row.is_change_tracking_enabled ? row.is_auto_cleanup_on : null,
      recoveryModel: row.recovery_model_desc,
      agentRunning: agentRunningFrom(extra.agent, row.engine_edition),
      cdcRetentionMinutes: retention === undefined ? null : Number(retention),
    },
  }
}

export async function readServerInfo(run: RunQuery, ctx: Pick<IntrospectContext, 'host' | 'port'>): Promise<ServerInfo> {
  const [row] = await run<ServerInfoRow>(SERVER_INFO_QUERY)
  if (row === undefined) {
    throw new BugError('SQL Server returned no row for the current database from sys.databases.')
  }
  const agent =
    row.engine_edition === ENGINE_EDITION_AZURE_SQL_DATABASE ? null : await optional(run<AgentStatusRow>(AGENT_STATUS_QUERY))
  const cdcRetention = row.is_cdc_enabled ? await optional(run<CdcRetentionRow>(CDC_RETENTION_QUERY)) : null
  return mapServerInfo(row, {host: ctx.host, port: ctx.port, agent, cdcRetention})
}

// ---------------------------------------------------------------------------------------------
// Columns

const UNICODE_STRING_TYPES = new Set(['nchar', 'nvarchar'])
const BYTE_LENGTH_TYPES = new Set(['char', 'varchar', 'binary', 'varbinary'])
/** Legacy LOB types: their max_length is the 16-byte text pointer, so they are reported as (max). */
const LEGACY_LOB_TYPES = new Set(['text', 'ntext', 'image'])
const STRING_TYPES = new Set(['char', 'varchar', 'text', 'nchar', 'nvarchar', 'ntext'])
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint'])
const EXACT_DECIMAL_TYPES = new Set(['decimal', 'numeric', 'money', 'smallmoney'])
const FRACTIONAL_SECONDS_TYPES = new Set(['time', 'datetime2', 'datetimeoffset'])

/**
 * The system base type of a column: the alias type's base, with the catalog's two synonyms
 * normalised (sysname is nvarchar(128); timestamp is the deprecated name of rowversion, which a
 * MySQL-minded reader would otherwise mistake for a date type).
 */
export function baseTypeOf(row: Pick<ColumnRow, 'type_name' | 'base_type_name' | 'is_user_defined'>): string {
  const name = (row.is_user_defined ? (row.base_type_name ?? row.type_name) : row.type_name).toLowerCase()
  if (name === 'sysname') return 'nvarchar'
  if (name === 'timestamp') return 'rowversion'
  return name
}

function lengthOf(dataType: string, maxLength: number): number | null {
  if (LEGACY_LOB_TYPES.has(dataType)) return -1
  if (UNICODE_STRING_TYPES.has(dataType)) return maxLength === -1 ? -1 : maxLength / 2
  if (BYTE_LENGTH_TYPES.has(dataType)) return maxLength
  return null
}

function precisionOf(dataType: string, precision: number): number | null {
  if (INTEGER_TYPES.has(dataType) || EXACT_DECIMAL_TYPES.has(dataType) || dataType === 'float' || dataType === 'real') {
    return precision
  }
  return null
}

function scaleOf(dataType: string, scale: number): number | null {
  if (INTEGER_TYPES.has(dataType) || EXACT_DECIMAL_TYPES.has(dataType) || FRACTIONAL_SECONDS_TYPES.has(dataType)) return scale
  if (dataType === 'datetime') return 3
  if (dataType === 'smalldatetime') return 0
  return null
}

/** The type as T-SQL declares it: "decimal(19,4)", "nvarchar(max)", "datetime2(7)", "int". */
export function columnTypeOf(dataType: string, length: number | null, precision: number, scale: number): string {
  if (BYTE_LENGTH_TYPES.has(dataType) || UNICODE_STRING_TYPES.has(dataType)) {
    return `${dataType}(${length === -1 ? 'max' : String(length)})`
  }
  if (dataType === 'decimal' || dataType === 'numeric') return `${dataType}(${precision},${scale})`
  if (FRACTIONAL_SECONDS_TYPES.has(dataType)) return `${dataType}(${scale})`
  // float(1..24) is stored as real, so a float column is always float(53), which T-SQL writes as "float".
  if (dataType === 'float' && precision !== 53) return `float(${precision})`
  return dataType
}

function charsetOf(dataType: string, codePage: number | null): string | null {
  if (!STRING_TYPES.has(dataType)) return null
  if (dataType.startsWith('n')) return 'utf-16'
  return charsetFromCodePage(codePage)
}

export function mapColumn(row: ColumnRow): ColumnModel {
  const dataType = baseTypeOf(row)
  const length = lengthOf(dataType, row.max_length)
  return {
    name: row.column_name,
    ordinal: row.column_id,
    dataType,
    columnType: columnTypeOf(dataType, length, row.precision, row.scale),
    length,
    precision: precisionOf(dataType, row.precision),
    scale: scaleOf(dataType, row.scale),
    unsigned: false,
    charset: charsetOf(dataType, row.code_page),
    collation: row.collation_name,
    nullable: row.is_nullable,
    default: row.default_definition,
    identity:
      row.is_identity && row.seed_value !== null && row.increment_value !== null
        ? {seed: row.seed_value, increment: row.increment_value}
        : null,
    generated:
      row.is_computed && row.computed_definition !== null
        ? {expression: row.computed_definition, stored: row.is_persisted === true}
        : null,
    enumValues: null,
    sparse: row.is_sparse,
    // rowversion and GENERATED ALWAYS columns (temporal periods, ledger) are written by the server:
    // a copier must neither write them nor compare them across engines.
    serverMaintained: dataType === 'rowversion' || row.generated_always_type !== 0,
    comment: row.comment,
  }
}

// ---------------------------------------------------------------------------------------------
// Indexes and keys

const INDEX_KINDS: Record<string, string> = {
  CLUSTERED: 'clustered',
  NONCLUSTERED: 'nonclustered',
  'CLUSTERED COLUMNSTORE': 'columnstore',
  'NONCLUSTERED COLUMNSTORE': 'columnstore',
  'NONCLUSTERED HASH': 'hash',
  XML: 'xml',
  SPATIAL: 'spatial',
}

/** An index type this code does not know yet (a new release's) keeps its catalog name rather than passing as a known kind. */
export function indexKindOf(typeDesc: string): string {
  return INDEX_KINDS[typeDesc.toUpperCase()] ?? typeDesc.toLowerCase().replace(/\s+/g, '_')
}

/** Kinds whose columns have no key order (key_ordinal is 0 for every column). */
const UNORDERED_KINDS = new Set(['columnstore', 'xml', 'spatial'])

/** Groups one table's index-column rows (ordered as INDEXES_QUERY orders them) into indexes. */
export function mapIndexes(rows: IndexColumnRow[]): IndexModel[] {
  const byId = new Map<number, IndexColumnRow[]>()
  for (const r of rows) {
    const list = byId.get(r.index_id)
    if (list) list.push(r)
    else byId.set(r.index_id, [r])
  }
  const indexes: IndexModel[] = []
  for (const group of byId.values()) {
    const first = group[0]
    if (first === undefined) continue
    const kind = indexKindOf(first.type_desc)
    const keyRows = UNORDERED_KINDS.has(kind)
      ? group.filter((r) => !r.is_included_column).sort((a, b) => a.index_column_id - b.index_column_id)
      : // key_ordinal 0 on a row-store index is a partitioning column SQL Server added by itself
        group.filter((r) => !r.is_included_column && r.key_ordinal > 0).sort((a, b) => a.key_ordinal - b.key_ordinal)
    indexes.push({
      name: first.index_name,
      columns: keyRows.map((r): KeyColumn => ({name: r.column_name, descending: r.is_descending_key, prefixLength: null})),
      unique: first.is_unique,
      primary: first.is_primary_key,
      kind,
      included: group
        .filter((r) => r.is_included_column)
        .sort((a, b) => a.index_column_id - b.index_column_id)
        .map((r) => r.column_name),
      filter: first.has_filter ? first.filter_definition : null,
    })
  }
  return indexes
}

function keyOf(index: IndexModel): KeyModel {
  return {name: index.name, columns: index.columns}
}

/**
 * Unique keys are the unique indexes that hold for every row: a filtered unique index only
 * constrains the rows its predicate selects, so it cannot identify a row.
 */
export function keysFromIndexes(indexes: IndexModel[]): {primaryKey: KeyModel | null; uniqueKeys: KeyModel[]} {
  const pk = indexes.find((i) => i.primary)
  return {
    primaryKey: pk ? keyOf(pk) : null,
    uniqueKeys: indexes.filter((i) => i.unique && !i.primary && i.filter === null).map(keyOf),
  }
}

// ---------------------------------------------------------------------------------------------
// Foreign keys and checks

const REFERENTIAL_ACTIONS: Record<string, string> = {
  NO_ACTION: 'NO ACTION',
  CASCADE: 'CASCADE',
  SET_NULL: 'SET NULL',
  SET_DEFAULT: 'SET DEFAULT',
}

export function referentialActionOf(desc: string): string {
  const action = REFERENTIAL_ACTIONS[desc.toUpperCase()]
  if (action === undefined) throw new BugError(`Unknown SQL Server referential action "${desc}" in sys.foreign_keys.`)
  return action
}

/** Groups one table's foreign-key rows into constraints, columns in constraint_column_id order. */
export function mapForeignKeys(rows: ForeignKeyColumnRow[]): ForeignKeyModel[] {
  const byName = new Map<string, ForeignKeyColumnRow[]>()
  for (const r of rows) {
    const list = byName.get(r.constraint_name)
    if (list) list.push(r)
    else byName.set(r.constraint_name, [r])
  }
  const fks: ForeignKeyModel[] = []
  for (const group of byName.values()) {
    const sorted = [...group].sort((a, b) => a.constraint_column_id - b.constraint_column_id)
    const first = sorted[0]
    if (first === undefined) continue
    fks.push({
      name: first.constraint_name,
      columns: sorted.map((r) => r.column_name),
      referencedSchema: first.referenced_schema_name,
      referencedTable: first.referenced_table_name,
      referencedColumns: sorted.map((r) => r.referenced_column_name),
      onUpdate: referentialActionOf(first.update_referential_action_desc),
      onDelete: referentialActionOf(first.delete_referential_action_desc),
      // A NOT TRUSTED key was re-enabled WITH NOCHECK: existing rows may violate it.
      enabled: !first.is_disabled && !first.is_not_trusted,
    })
  }
  return fks
}

export function mapCheck(row: CheckConstraintRow): CheckModel {
  return {name: row.constraint_name, expression: row.definition}
}

// ---------------------------------------------------------------------------------------------
// Tables

export interface TableRowSets {
  tables: TableRow[]
  /** null when sys.dm_db_partition_stats was not readable (no VIEW DATABASE STATE). */
  sizes: TableSizeRow[] | null
  columns: ColumnRow[]
  indexes: IndexColumnRow[]
  foreignKeys: ForeignKeyColumnRow[]
  checks: CheckConstraintRow[]
  cdcCaptureInstances: CdcCaptureInstanceRow[]
}

const PAGE_BYTES = 8192

function tableKey(schema: string, table: string): string {
  return `${schema}\u0000${table}`
}

function groupByTable<Row extends {schema_name: string; table_name: string}>(rows: Row[]): Map<string, Row[]> {
  const map = new Map<string, Row[]>()
  for (const r of rows) {
    const key = tableKey(r.schema_name, r.table_name)
    const list = map.get(key)
    if (list) list.push(r)
    else map.set(key, [r])
  }
  return map
}

export function mapTables(sets: TableRowSets): TableModel[] {
  const sizes = groupByTable(sets.sizes ?? [])
  const columns = groupByTable(sets.columns)
  const indexes = groupByTable(sets.indexes)
  const fks = groupByTable(sets.foreignKeys)
  const checks = groupByTable(sets.checks)
  const cdc = groupByTable(sets.cdcCaptureInstances)
  return sets.tables.map((t): TableModel => {
    const key = tableKey(t.schema_name, t.table_name)
    const tableIndexes = mapIndexes(indexes.get(key) ?? [])
    const size = sizes.get(key)?.[0]
    const dataPages = size ? Number(size.data_page_count) : 0
    const usedPages = size ? Number(size.used_page_count) : 0
    return {
      schema: t.schema_name,
      name: t.table_name,
      columns: (columns.get(key) ?? []).map(mapColumn),
      ...keysFromIndexes(tableIndexes),
      indexes: tableIndexes,
      foreignKeys: mapForeignKeys(fks.get(key) ?? []),
      checks: (checks.get(key) ?? []).map(mapCheck),
      rowEstimate: Number(size?.row_count ?? t.row_estimate ?? 0),
      dataBytes: dataPages * PAGE_BYTES,
      indexBytes: Math.max(0, usedPages - dataPages) * PAGE_BYTES,
      collation: null,
      comment: t.comment,
      features: {
        ...emptyFeatures(),
        temporal:
          t.temporal_type === 2 && t.history_schema_name !== null && t.history_table_name !== null
            ? {historySchema: t.history_schema_name, historyTable: t.history_table_name}
            : null,
        temporalHistory: t.temporal_type === 1,
        memoryOptimized: t.is_memory_optimized,
        cdcCaptureInstances: (cdc.get(key) ?? []).map((r) => r.capture_instance),
        changeTracking: t.is_change_tracked,
        partitioned: t.is_partitioned,
      },
    }
  })
}

// ---------------------------------------------------------------------------------------------
// Other objects

export function mapView(row: ViewRow): ViewModel {
  return {schema: row.schema_name, name: row.view_name, definition: row.definition}
}

const PROCEDURE_TYPES = new Set(['P', 'PC'])
const FUNCTION_TYPES = new Set(['FN', 'IF', 'TF', 'FS', 'FT'])

export function mapRoutine(row: RoutineRow): RoutineModel {
  const type = row.type.trim().toUpperCase()
  if (!PROCEDURE_TYPES.has(type) && !FUNCTION_TYPES.has(type)) {
    throw new BugError(`Unexpected sys.objects type "${type}" for routine ${row.schema_name}.${row.routine_name}.`)
  }
  return {
    schema: row.schema_name,
    name: row.routine_name,
    kind: PROCEDURE_TYPES.has(type) ? 'procedure' : 'function',
    definition: row.definition,
  }
}

/** Groups trigger-event rows into triggers; events keep the catalog's order (INSERT, UPDATE, DELETE). */
export function mapTriggers(rows: TriggerEventRow[]): TriggerModel[] {
  const byKey = new Map<string, TriggerModel>()
  for (const r of rows) {
    const key = `${tableKey(r.schema_name, r.table_name)}\u0000${r.trigger_name}`
    const existing = byKey.get(key)
    if (existing) {
      existing.events.push(r.event_type_desc.toUpperCase())
      continue
    }
    byKey.set(key, {
      schema: r.schema_name,
      name: r.trigger_name,
      table: r.table_name,
      timing: r.is_instead_of_trigger ? 'INSTEAD OF' : 'AFTER',
      events: [r.event_type_desc.toUpperCase()],
      enabled: !r.is_disabled,
    })
  }
  return [...byKey.values()]
}

export function mapSequence(row: SequenceRow): SequenceModel {
  return {
    schema: row.schema_name,
    name: row.sequence_name,
    dataType: row.type_name.toLowerCase(),
    start: row.start_value,
    increment: row.increment,
  }
}

// ---------------------------------------------------------------------------------------------
// Table selection

/**
 * Which of `wanted` (name or schema.name) each table matches. With a case-insensitive database
 * collation SQL Server itself resolves names case-insensitively, so the filter does too.
 * A requested name that matches nothing is an error: silently skipping a mistyped table would
 * leave it out of the migration.
 */
export function selectTables(tables: TableRow[], wanted: string[] | undefined, caseInsensitive: boolean): TableRow[] {
  if (wanted === undefined || wanted.length === 0) return tables
  const norm = (s: string): string => (caseInsensitive ? s.toLowerCase() : s)
  const specs = new Map(wanted.map((w) => [norm(w.trim()), w] as const))
  const matched = new Set<string>()
  const selected = tables.filter((t) => {
    const hits = [norm(`${t.schema_name}.${t.table_name}`), norm(t.table_name)].filter((k) => specs.has(k))
    for (const h of hits) matched.add(h)
    return hits.length > 0
  })
  const missing = [...specs.entries()].filter(([k]) => !matched.has(k)).map(([, original]) => original)
  if (missing.length > 0) {
    throw new UsageError('PAYCTL_TABLE_NOT_FOUND', `No such table in the SQL Server database: ${missing.join(', ')}.`, {
      actions: ['Check the table names (name or schema.name) in the config or flags, and the schemas the source reads.'],
      data: {missing},
    })
  }
  return selected
}

// ---------------------------------------------------------------------------------------------
// The whole model

function onlySelected<Row extends {schema_name: string; table_name: string}>(rows: Row[], keep: Set<string>): Row[] {
  return rows.filter((r) => keep.has(tableKey(r.schema_name, r.table_name)))
}

export async function introspect(run: RunQuery, ctx: IntrospectContext): Promise<SchemaModel> {
  const step = <Row>(sql: string, params?: QueryParams): Promise<Row[]> => {
    ctx.signal?.throwIfAborted()
    return run<Row>(sql, params)
  }
  const server = await readServerInfo(step, ctx)
  const capture = server.changeCapture
  const cdcEnabled = capture.kind === 'sqlserver' && capture.cdcEnabled
  // One pass per configured schema, so @schema stays a bound value; NULL means every user schema.
  const schemaParams: QueryParams[] =
    ctx.schemas && ctx.schemas.length > 0 ? [...new Set(ctx.schemas)].map((schema) => ({schema})) : [{schema: null}]

  const all = async <Row>(sql: string): Promise<Row[]> => {
    const out: Row[] = []
    for (const params of schemaParams) out.push(...(await step<Row>(sql, params)))
    return out
  }
  const allOptional = async <Row>(sql: string): Promise<Row[] | null> => {
    const out: Row[] = []
    for (const params of schemaParams) {
      const rows = await optional(step<Row>(sql, params))
      if (rows === null) return null
      out.push(...rows)
    }
    return out
  }

  const tables = selectTables(await all<TableRow>(TABLES_QUERY), ctx.tables, server.lowerCaseTableNames === 2)
  const keep = new Set(tables.map((t) => tableKey(t.schema_name, t.table_name)))
  const sets: TableRowSets = {
    tables,
    sizes: await allOptional<TableSizeRow>(TABLE_SIZES_QUERY),
    columns: onlySelected(await all<ColumnRow>(COLUMNS_QUERY), keep),
    indexes: onlySelected(await all<IndexColumnRow>(INDEXES_QUERY), keep),
    foreignKeys: onlySelected(await all<ForeignKeyColumnRow>(FOREIGN_KEYS_QUERY), keep),
    checks: onlySelected(await all<CheckConstraintRow>(CHECK_CONSTRAINTS_QUERY), keep),
    cdcCaptureInstances: cdcEnabled ? onlySelected(await all<CdcCaptureInstanceRow>(CDC_CAPTURE_INSTANCES_QUERY), keep) : [],
  }

  return {
    server,
    tables: mapTables(sets),
    // Views, routines and sequences belong to the schema, not to a table: a table filter keeps them all.
    views: (await all<ViewRow>(VIEWS_QUERY)).map(mapView),
    routines: (await all<RoutineRow>(ROUTINES_QUERY)).map(mapRoutine),
    triggers: mapTriggers(onlySelected(await all<TriggerEventRow>(TRIGGERS_QUERY), keep)),
    events: [],
    sequences: (await all<SequenceRow>(SEQUENCES_QUERY)).map(mapSequence),
    introspectedAt: (ctx.now?.() ?? new Date()).toISOString(),
  }
}
