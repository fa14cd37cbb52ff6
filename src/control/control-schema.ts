/**
 * The control store's schema (`payctl_control` by default): the one place where payctl keeps the
 * state that several operators and runtime instances must agree on. MySQL family only (TiDB,
 * Aurora MySQL, MySQL, MariaDB): the DDL below is written once in the subset all four accept.
 *
 * Rules every table follows:
 * - utf8mb4, InnoDB, times as DATETIME(6) in UTC, written by payctl (UTC_TIMESTAMP(6)); no
 *   column defaults to the session's clock, whose time zone payctl does not control.
 * - Nothing secret is ever written here: no connection strings, passwords or secret references.
 *   `detail` JSON carries counts, names and positions only; the config is stored as a fingerprint.
 * - Creating it is idempotent (IF NOT EXISTS everywhere, INSERT IGNORE of the version row), and
 *   provision only emits the statements for what introspection shows missing, so a rerun is a no-op.
 * - The version is CONTROL_SCHEMA_VERSION. It is written twice: as a row of schema_version (when
 *   each version was applied) and in that table's comment, which is what provision reads, because
 *   provision plans from introspected models only and introspection sees comments, not rows.
 *   A later version adds tables/columns with new statements keyed on the version it finds.
 */
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'

export const CONTROL_SCHEMA_VERSION = 1

export interface ControlTable {
  name: string
  purpose: string
  /** [column name, its definition] in table order. */
  columns: ReadonlyArray<readonly [string, string]>
  primaryKey: readonly string[]
  /** Secondary indexes: [name, columns]. */
  indexes?: ReadonlyArray<readonly [string, readonly string[]]>
}

// Ids and names payctl generates are ASCII and compared exactly; people's names and hosts are free text.
const RUN_ID = 'VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL'
const TIME = 'DATETIME(6) NOT NULL'

export const CONTROL_TABLES: readonly ControlTable[] = [
  {
    name: 'schema_version',
    purpose: 'versions of this control schema and when each was applied',
    columns: [
      ['version', 'INT UNSIGNED NOT NULL'],
      ['applied_at', TIME],
    ],
    primaryKey: ['version'],
  },
  {
    name: 'migration_runs',
    purpose: 'one row per payctl migrate run',
    columns: [
      ['id', RUN_ID],
      ['started_at', TIME],
      ['finished_at', 'DATETIME(6) NULL'],
      ['status', "VARCHAR(16) CHARACTER SET ascii NOT NULL COMMENT 'running | succeeded | failed | interrupted'"],
      ['config_fingerprint', "CHAR(64) CHARACTER SET ascii NOT NULL COMMENT 'SHA-256 of the config with secret references removed'"],
      ['payctl_version', 'VARCHAR(32) CHARACTER SET ascii NOT NULL'],
      ['operator', 'VARCHAR(128) NOT NULL'],
      ['host', 'VARCHAR(255) NOT NULL'],
    ],
    primaryKey: ['id'],
    indexes: [['ix_migration_runs_started_at', ['started_at']]],
  },
  {
    name: 'phase_history',
    purpose: 'each phase step of a run, updated as it starts, ends or fails',
    columns: [
      ['run_id', RUN_ID],
      ['phase', 'VARCHAR(32) CHARACTER SET ascii NOT NULL'],
      ['step', 'VARCHAR(128) NOT NULL'],
      ['status', "VARCHAR(16) CHARACTER SET ascii NOT NULL COMMENT 'running | succeeded | failed | skipped'"],
      ['started_at', TIME],
      ['finished_at', 'DATETIME(6) NULL'],
      ['detail', 'JSON NULL'],
      ['error', 'TEXT NULL'],
    ],
    primaryKey: ['run_id', 'phase', 'step'],
  },
  {
    name: 'copy_checkpoints',
    purpose: 'full-load progress per table chunk (written with, or after, the rows it covers)',
    columns: [
      ['run_id', RUN_ID],
      ['table_name', "VARCHAR(192) NOT NULL COMMENT 'schema.table on the source'"],
      ['chunk_id', 'BIGINT UNSIGNED NOT NULL'],
      ['low_key', "JSON NULL COMMENT 'primary key values of the first row, null for the table start'"],
      ['high_key', "JSON NULL COMMENT 'primary key values of the last row, null for the table end'"],
      ['rows_copied', 'BIGINT UNSIGNED NOT NULL'],
      ['bytes', 'BIGINT UNSIGNED NOT NULL'],
      ['status', "VARCHAR(16) CHARACTER SET ascii NOT NULL COMMENT 'pending | copying | done'"],
      ['updated_at', TIME],
    ],
    primaryKey: ['run_id', 'table_name', 'chunk_id'],
  },
  {
    name: 'capture_positions',
    purpose: 'change-capture positions (binlog GTID set or file/position, SQL Server LSN) per direction',
    columns: [
      ['run_id', RUN_ID],
      ['direction', "ENUM('forward','reverse') NOT NULL"],
      ['position', 'JSON NOT NULL'],
      ['updated_at', TIME],
    ],
    primaryKey: ['run_id', 'direction'],
  },
  {
    name: 'replication_tables',
    purpose: 'each replicated table: copy state, the change-stream position its copy started at, and copy totals',
    columns: [
      ['run_id', RUN_ID],
      ['table_name', "VARCHAR(192) NOT NULL COMMENT 'schema.table on the source'"],
      ['state', "VARCHAR(16) CHARACTER SET ascii NOT NULL COMMENT 'pending | copying | catching-up | replicating'"],
      ['stream_start', "JSON NULL COMMENT 'capture position when its copy started: changes after it are applied after the copy'"],
      ['rows_estimate', 'BIGINT UNSIGNED NOT NULL'],
      ['rows_copied', 'BIGINT UNSIGNED NOT NULL'],
      ['bytes_copied', 'BIGINT UNSIGNED NOT NULL'],
      ['started_at', 'DATETIME(6) NULL'],
      ['copied_at', 'DATETIME(6) NULL'],
      ['updated_at', TIME],
    ],
    primaryKey: ['run_id', 'table_name'],
  },
  {
    name: 'replication_state',
    purpose: 'the replication process: operator pause, its heartbeat and the last status it published',
    columns: [
      ['run_id', RUN_ID],
      ['paused', 'TINYINT(1) NOT NULL'],
      ['pause_reason', 'VARCHAR(1024) NULL'],
      ['pause_by', 'VARCHAR(128) NULL'],
      ['host', 'VARCHAR(255) NULL'],
      ['pid', 'INT UNSIGNED NULL'],
      ['heartbeat_at', 'DATETIME(6) NULL'],
      ['status', "JSON NULL COMMENT 'phase, lag, throughput, throttle reason, per-table progress'"],
      ['updated_at', TIME],
    ],
    primaryKey: ['run_id'],
  },
  {
    name: 'routing_state',
    purpose: 'desired routing of the runtime, append-only: each change is a new version',
    columns: [
      ['version', 'BIGINT UNSIGNED NOT NULL'],
      ['desired', 'JSON NOT NULL'],
      ['created_at', TIME],
      ['created_by', 'VARCHAR(128) NOT NULL'],
      ['reason', 'VARCHAR(1024) NULL'],
    ],
    primaryKey: ['version'],
  },
  {
    name: 'runtime_heartbeats',
    purpose: 'each runtime instance, the routing version it applies, and when it was last seen',
    columns: [
      ['instance_id', 'VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL'],
      ['host', 'VARCHAR(255) NOT NULL'],
      ['pid', 'INT UNSIGNED NOT NULL'],
      ['routing_version_applied', 'BIGINT UNSIGNED NULL'],
      ['last_seen_at', TIME],
      ['started_at', TIME],
      ['detail', 'JSON NULL'],
    ],
    primaryKey: ['instance_id'],
  },
  {
    name: 'cutover_state',
    purpose: 'the traffic shift: who holds its lease, its step, gate results, approvals and write-flip measurements',
    columns: [
      ['id', RUN_ID],
      ['lease_holder', 'VARCHAR(128) NULL'],
      ['lease_host', 'VARCHAR(255) NULL'],
      ['lease_pid', 'INT UNSIGNED NULL'],
      ['lease_until', 'DATETIME(6) NULL'],
      ['state', "JSON NULL COMMENT 'step, status, gate results, approvals, flips, verified-through position'"],
      ['updated_at', TIME],
    ],
    primaryKey: ['id'],
  },
  {
    name: 'audit_log',
    purpose: 'who changed what (routing, phases), when, from where and why',
    columns: [
      ['id', 'BIGINT UNSIGNED NOT NULL AUTO_INCREMENT'],
      ['at', TIME],
      ['actor', 'VARCHAR(128) NOT NULL'],
      ['origin_host', 'VARCHAR(255) NOT NULL'],
      ['action', 'VARCHAR(64) CHARACTER SET ascii NOT NULL'],
      ['detail', 'JSON NULL'],
      ['reason', 'VARCHAR(1024) NULL'],
    ],
    primaryKey: ['id'],
    indexes: [['ix_audit_log_at', ['at']]],
  },
]

/** The comment of schema_version that states the version (see the top of this file). */
export function versionComment(version: number): string {
  return `payctl control store schema version ${version}`
}

/** The version a schema_version table comment states, or null when it states none. */
export function versionFromComment(comment: string | null): number | null {
  const m = /payctl control store schema version (\d+)/.exec(comment ?? '')
  return m === null ? null : Number(m[1])
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

export interface ControlStatement {
  /** The control table it creates or fills, or null for the database itself. */
  table: string | null
  sql: string
  purpose: string
}

export function createControlDatabase(database: string): ControlStatement {
  return {
    table: null,
    sql: `CREATE DATABASE IF NOT EXISTS ${q(database)} DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
    purpose: `control store database ${database}`,
  }
}

/** CREATE TABLE IF NOT EXISTS for one control table, qualified with the database (the connection's default database is another one). */
export function createControlTable(database: string, table: ControlTable): ControlStatement {
  const lines = [
    ...table.columns.map(([name, definition]) => `  ${q(name)} ${definition}`),
    `  PRIMARY KEY (${table.primaryKey.map(q).join(', ')})`,
    ...(table.indexes ?? []).map(([name, columns]) => `  KEY ${q(name)} (${columns.map(q).join(', ')})`),
  ]
  const comment = table.name === 'schema_version' ? versionComment(CONTROL_SCHEMA_VERSION) : `payctl control store: ${table.purpose}`
  return {
    table: table.name,
    sql:
      `CREATE TABLE IF NOT EXISTS ${q(database)}.${q(table.name)} (\n${lines.join(',\n')}\n)` +
      ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='${comment.replaceAll("'", "''")}'`,
    purpose: `control store table ${table.name}`,
  }
}

/** Records the version; harmless when the row is already there. */
export function insertControlVersion(database: string): ControlStatement {
  return {
    table: 'schema_version',
    sql: `INSERT IGNORE INTO ${q(database)}.${q('schema_version')} (${q('version')}, ${q('applied_at')}) VALUES (${CONTROL_SCHEMA_VERSION}, UTC_TIMESTAMP(6))`,
    purpose: `control store schema version ${CONTROL_SCHEMA_VERSION}`,
  }
}

/** Every statement that creates the control store from nothing, in order; each is idempotent. */
export function controlStoreDdl(database: string): ControlStatement[] {
  const out = [createControlDatabase(database)]
  for (const table of CONTROL_TABLES) {
    out.push(createControlTable(database, table))
    if (table.name === 'schema_version') out.push(insertControlVersion(database))
  }
  return out
}

export function controlStoreStatements(database: string): string[] {
  return controlStoreDdl(database).map((s) => s.sql)
}
