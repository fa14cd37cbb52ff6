/**
 * The assessment report: what `payctl assess` returns and every output format renders
 * (terminal, --json, Markdown, HTML). Its JSON shape is documented in the README; change it
 * only additively.
 */
import type {NotAssessed} from '../engines/ddl-reader.js'
import type {EngineName, Flavor, MysqlFlavor} from '../engines/model.js'

export type Severity = 'blocker' | 'needs-change' | 'info'

export type FindingObjectType =
  | 'server'
  | 'database'
  | 'table'
  | 'column'
  | 'index'
  | 'foreign-key'
  | 'check'
  | 'view'
  | 'procedure'
  | 'function'
  | 'trigger'
  | 'event'
  | 'sequence'
  | 'permission'

export interface Finding {
  /** Stable rule id, e.g. "table.no-primary-key", "type.mssql.datetimeoffset", "cdc.binlog-format". */
  rule: string
  severity: Severity
  objectType: FindingObjectType
  /** "dbo.payment_intents.amount", "dbo.payment_intents", "server". */
  object: string
  /** One line: what was found. */
  title: string
  /** The proposed mapping or change, e.g. "datetimeoffset(7) -> DATETIME(6) + offset column"; null when none. */
  mapping: string | null
  /** Why it matters and what to do. */
  reason: string
  /** Which later phase it blocks or affects. */
  phases: Array<'provision' | 'replicate' | 'verify' | 'shift-traffic'>
  /** Line in the DDL script, when assessed from one. */
  line?: number
}

export interface TableSizing {
  table: string
  rows: number
  dataBytes: number
  indexBytes: number
  /** Seconds the full load of this table is expected to take at the measured rate. */
  estimatedLoadSeconds: number | null
}

export interface Sizing {
  tables: TableSizing[]
  totalRows: number
  totalBytes: number
  /** Measured by copying a sample from source to target; null offline. */
  measured: {
    sampleRows: number
    sampleBytes: number
    seconds: number
    rowsPerSecond: number
    bytesPerSecond: number
    /** Which tables were sampled. */
    tables: string[]
    /** What was measured, in words (where it read, where it wrote, what bounded it). */
    description?: string
    /** The read half alone (source, key order) and the write half alone (target, temporary table); null when not measured. */
    readSeconds?: number
    writeSeconds?: number | null
  } | null
  estimatedFullLoadSeconds: number | null
  /** Largest tables by bytes, top 5. */
  largest: string[]
  /** Hottest tables by recent writes (MySQL family: binlog/innodb counters; SQL Server: index usage stats), top 5; empty when unknown. */
  hottest: Array<{table: string; writes: number; source: string}>
  /** Why a figure is missing or what limits it ("performance_schema is off: hottest tables unknown"). */
  notes?: string[]
}

export interface AssessReport {
  generatedAt: string
  payctlVersion: string
  source: {
    engine: EngineName
    flavor: Flavor
    version: string
    database: string
    /** "live" (introspected) or "ddl" (read from a script). */
    from: 'live' | 'ddl'
    file: string | null
    endpoint: string | null
  }
  target: {flavor: MysqlFlavor; version: string | null}
  summary: {
    tables: number
    columns: number
    blockers: number
    needsChange: number
    info: number
    notAssessed: number
  }
  findings: Finding[]
  notAssessed: NotAssessed[]
  sizing: Sizing | null
}
