/**
 * The engine-neutral schema model. Every engine's introspector produces it; assess, schema
 * conversion, replicate and verify read it. Types are kept exactly as the source catalog states
 * them (`columnType`), with the parts later phases reason about split out (length, precision,
 * scale, unsigned, charset, collation). Everything here is JSON-safe (no bigint, no class
 * instances), so `payctl inspect --json` prints it as it is.
 */

export type EngineName = 'mysql' | 'sqlserver'
export const MYSQL_FLAVORS = ['tidb', 'aurora-mysql', 'mysql', 'mariadb'] as const
export type MysqlFlavor = (typeof MYSQL_FLAVORS)[number]
export type Flavor = MysqlFlavor | 'sqlserver'

export interface ServerVersion {
  /** As the server reports it, e.g. "10.11.6-MariaDB-0+deb12u1" or "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6". */
  raw: string
  major: number
  minor: number
  patch: number
}

/** MySQL family: what binlog-based change capture needs. */
export interface BinlogSettings {
  kind: 'binlog'
  logBin: boolean
  /** ROW | STATEMENT | MIXED */
  binlogFormat: string | null
  /** FULL | MINIMAL | NOBLOB */
  binlogRowImage: string | null
  /** MySQL: OFF | OFF_PERMISSIVE | ON_PERMISSIVE | ON. MariaDB has GTIDs always; reported as "ON" with `gtidStrictMode`. */
  gtidMode: string | null
  /** MariaDB only. */
  gtidStrictMode: boolean | null
  /** MySQL: enforce_gtid_consistency. */
  enforceGtidConsistency: string | null
  serverId: number | null
  /** How long binlogs are kept, in seconds (binlog_expire_logs_seconds or expire_logs_days * 86400); 0 = forever. */
  retentionSeconds: number | null
}

/** SQL Server: what CDC / Change Tracking needs. */
export interface SqlServerCaptureSettings {
  kind: 'sqlserver'
  /** sys.databases.is_cdc_enabled */
  cdcEnabled: boolean
  /** A row in sys.change_tracking_databases */
  changeTrackingEnabled: boolean
  changeTrackingRetention: string | null
  changeTrackingAutoCleanup: boolean | null
  /** FULL | BULK_LOGGED | SIMPLE */
  recoveryModel: string
  /** SQL Server Agent runs CDC capture and cleanup jobs; null when it could not be read (no permission, Azure SQL). */
  agentRunning: boolean | null
  /** CDC retention in minutes from msdb.dbo.cdc_jobs (cleanup job); null when unknown. */
  cdcRetentionMinutes: number | null
}

export type ChangeCaptureSettings = BinlogSettings | SqlServerCaptureSettings

export interface ServerInfo {
  engine: EngineName
  flavor: Flavor
  version: ServerVersion
  /** SQL Server edition ("Enterprise Edition (64-bit)"), Aurora/TiDB version comment, or null. */
  edition: string | null
  /** The database (MySQL: schema) connected to. */
  database: string
  host: string
  port: number
  /** Server default character set and collation. */
  charset: string | null
  collation: string | null
  /** Case-sensitivity of identifiers: lower_case_table_names on MySQL, collation on SQL Server. */
  lowerCaseTableNames: number | null
  changeCapture: ChangeCaptureSettings
}

export interface IdentitySpec {
  seed: string
  increment: string
}

export interface GeneratedSpec {
  expression: string
  /** STORED / PERSISTED (true) or VIRTUAL / not persisted (false). */
  stored: boolean
}

export interface ColumnModel {
  name: string
  /** 1-based position in the table. */
  ordinal: number
  /** Base type name, lower case, without arguments: "decimal", "nvarchar", "datetimeoffset", "enum". */
  dataType: string
  /** The full type as the engine writes it: "decimal(19,4)", "int unsigned", "nvarchar(max)", "enum('a','b')". */
  columnType: string
  /** Character length for strings, byte length for binary; -1 for (max); null where it does not apply. */
  length: number | null
  precision: number | null
  /** Numeric scale, or fractional-seconds precision for temporal types. */
  scale: number | null
  unsigned: boolean
  charset: string | null
  collation: string | null
  nullable: boolean
  /** The default as the catalog stores it (an expression text), or null for none. */
  default: string | null
  identity: IdentitySpec | null
  /**
   * TiDB only: the column is AUTO_RANDOM(n) with n shard bits (a BIGINT primary key whose new
   * values are spread over TiKV regions instead of appended to one). Absent everywhere else.
   */
  autoRandomShardBits?: number
  generated: GeneratedSpec | null
  /** ENUM / SET members. */
  enumValues: string[] | null
  /** SQL Server only. */
  sparse: boolean
  /** rowversion/timestamp, or ON UPDATE CURRENT_TIMESTAMP on MySQL: the server sets it. */
  serverMaintained: boolean
  comment: string | null
}

export interface KeyColumn {
  name: string
  descending: boolean
  /** Prefix length in characters (MySQL prefix indexes). */
  prefixLength: number | null
}

export interface KeyModel {
  name: string
  columns: KeyColumn[]
}

export interface IndexModel {
  name: string
  columns: KeyColumn[]
  unique: boolean
  primary: boolean
  /** btree | hash | fulltext | spatial | clustered | nonclustered | columnstore | xml ... (lower case) */
  kind: string
  /** SQL Server INCLUDE columns. */
  included: string[]
  /** SQL Server filtered index predicate. */
  filter: string | null
}

export interface ForeignKeyModel {
  name: string
  columns: string[]
  referencedSchema: string
  referencedTable: string
  referencedColumns: string[]
  /** CASCADE | SET NULL | SET DEFAULT | RESTRICT | NO ACTION */
  onUpdate: string
  onDelete: string
  /** SQL Server: NOT TRUSTED / disabled constraints. */
  enabled: boolean
}

export interface CheckModel {
  name: string
  expression: string
}

export interface TableFeatures {
  /** SQL Server system-versioned temporal table, with its history table. */
  temporal: {historySchema: string; historyTable: string} | null
  /** A temporal history table. */
  temporalHistory: boolean
  memoryOptimized: boolean
  /** SQL Server: table tracked by CDC (capture instance names). */
  cdcCaptureInstances: string[]
  /** SQL Server: table tracked by Change Tracking. */
  changeTracking: boolean
  partitioned: boolean
  /** Storage engine on MySQL (InnoDB), null on SQL Server. */
  storageEngine: string | null
}

export interface TableModel {
  schema: string
  name: string
  columns: ColumnModel[]
  primaryKey: KeyModel | null
  uniqueKeys: KeyModel[]
  /** Every index, including the ones backing the primary and unique keys. */
  indexes: IndexModel[]
  foreignKeys: ForeignKeyModel[]
  checks: CheckModel[]
  /** An estimate from the catalog (table statistics), not a count. */
  rowEstimate: number
  dataBytes: number
  indexBytes: number
  collation: string | null
  comment: string | null
  features: TableFeatures
}

export interface ViewModel {
  schema: string
  name: string
  definition: string | null
}

export interface RoutineModel {
  schema: string
  name: string
  kind: 'procedure' | 'function'
  definition: string | null
}

export interface TriggerModel {
  schema: string
  name: string
  table: string
  /** BEFORE | AFTER | INSTEAD OF */
  timing: string
  /** INSERT, UPDATE, DELETE */
  events: string[]
  enabled: boolean
}

export interface EventModel {
  schema: string
  name: string
  status: string
}

export interface SequenceModel {
  schema: string
  name: string
  dataType: string
  start: string
  increment: string
}

export interface SchemaModel {
  server: ServerInfo
  tables: TableModel[]
  views: ViewModel[]
  routines: RoutineModel[]
  triggers: TriggerModel[]
  events: EventModel[]
  sequences: SequenceModel[]
  /** When the model was read (ISO 8601). */
  introspectedAt: string
}

export function emptyFeatures(): TableFeatures {
  return {
    temporal: null,
    temporalHistory: false,
    memoryOptimized: false,
    cdcCaptureInstances: [],
    changeTracking: false,
    partitioned: false,
    storageEngine: null,
  }
}

export function parseVersion(raw: string): ServerVersion {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw)
  return {raw, major: Number(m?.[1] ?? 0), minor: Number(m?.[2] ?? 0), patch: Number(m?.[3] ?? 0)}
}
