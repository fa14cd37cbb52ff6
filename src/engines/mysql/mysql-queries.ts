/**
 * The catalog SQL the MySQL engine runs, one exported constant per query, so that the exact text
 * is reviewed and pinned by a unit test. Everything reads information_schema (the same views on
 * TiDB, Aurora MySQL, MySQL and MariaDB) and takes the schema as its only `?` parameter.
 *
 * Every selected column has a lower-case alias: MySQL 8 labels information_schema columns in
 * upper case whatever the query says, 5.7 and MariaDB echo the query's spelling; the alias makes
 * the row's keys the same everywhere.
 *
 * Primary and unique keys come from STATISTICS, not TABLE_CONSTRAINTS + KEY_COLUMN_USAGE: in this
 * family every PRIMARY KEY / UNIQUE constraint is exactly one index, and only STATISTICS carries
 * the key parts' direction and prefix length, so a constraints query would add a round trip and
 * nothing else.
 */

/** Base tables (and MariaDB system-versioned tables). TABLE_ROWS is InnoDB's estimate; MySQL 8 caches these statistics (information_schema_stats_expiry) until ANALYZE TABLE. */
export const TABLES = `SELECT t.TABLE_NAME AS table_name, t.ENGINE AS engine, t.TABLE_ROWS AS table_rows, t.DATA_LENGTH AS data_length, t.INDEX_LENGTH AS index_length, t.AUTO_INCREMENT AS auto_increment, t.TABLE_COLLATION AS table_collation, t.TABLE_COMMENT AS table_comment, t.CREATE_OPTIONS AS create_options
FROM information_schema.TABLES t
WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
ORDER BY t.TABLE_NAME`

export const COLUMNS = `SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.ORDINAL_POSITION AS ordinal_position, c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type, c.CHARACTER_MAXIMUM_LENGTH AS character_maximum_length, c.NUMERIC_PRECISION AS numeric_precision, c.NUMERIC_SCALE AS numeric_scale, c.DATETIME_PRECISION AS datetime_precision, c.CHARACTER_SET_NAME AS character_set_name, c.COLLATION_NAME AS collation_name, c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, c.EXTRA AS extra, c.GENERATION_EXPRESSION AS generation_expression, c.COLUMN_COMMENT AS column_comment
FROM information_schema.COLUMNS c
JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`

/** One row per key part. COLLATION is 'A', 'D' (descending) or NULL (not sorted: HASH, FULLTEXT). */
export const INDEX_COLUMNS = `SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.NON_UNIQUE AS non_unique, s.SEQ_IN_INDEX AS seq_in_index, s.COLUMN_NAME AS column_name, s.COLLATION AS collation, s.SUB_PART AS sub_part, s.INDEX_TYPE AS index_type
FROM information_schema.STATISTICS s
WHERE s.TABLE_SCHEMA = ?
ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX`

/**
 * MySQL >= 8.0.13 (and Aurora MySQL 3): the same, plus EXPRESSION, because a functional key part
 * has no COLUMN_NAME. MariaDB's STATISTICS has no EXPRESSION column, hence two queries.
 */
export const INDEX_COLUMNS_WITH_EXPRESSIONS = `SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.NON_UNIQUE AS non_unique, s.SEQ_IN_INDEX AS seq_in_index, s.COLUMN_NAME AS column_name, s.COLLATION AS collation, s.SUB_PART AS sub_part, s.INDEX_TYPE AS index_type, s.EXPRESSION AS expression
FROM information_schema.STATISTICS s
WHERE s.TABLE_SCHEMA = ?
ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX`

/** One row per column pair; the join includes TABLE_NAME because only InnoDB makes FK names unique per schema. */
export const FOREIGN_KEYS = `SELECT rc.TABLE_NAME AS table_name, rc.CONSTRAINT_NAME AS constraint_name, k.COLUMN_NAME AS column_name, k.ORDINAL_POSITION AS ordinal_position, k.REFERENCED_TABLE_SCHEMA AS referenced_table_schema, k.REFERENCED_TABLE_NAME AS referenced_table_name, k.REFERENCED_COLUMN_NAME AS referenced_column_name, rc.UPDATE_RULE AS update_rule, rc.DELETE_RULE AS delete_rule
FROM information_schema.REFERENTIAL_CONSTRAINTS rc
JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME
WHERE rc.CONSTRAINT_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION`

/**
 * MariaDB (>= 10.2.22 / 10.3.10): CHECK_CONSTRAINTS has TABLE_NAME, and a constraint name is
 * unique per table only (a JSON column's implicit json_valid check is named after the column),
 * so joining TABLE_CONSTRAINTS by name would pair checks of different tables.
 */
export const CHECKS_MARIADB = `SELECT cc.TABLE_NAME AS table_name, cc.CONSTRAINT_NAME AS constraint_name, cc.CHECK_CLAUSE AS check_clause
FROM information_schema.CHECK_CONSTRAINTS cc
WHERE cc.CONSTRAINT_SCHEMA = ?
ORDER BY cc.TABLE_NAME, cc.CONSTRAINT_NAME`

/** MySQL >= 8.0.16: CHECK_CONSTRAINTS has no TABLE_NAME; names are unique per schema, TABLE_CONSTRAINTS supplies the table. */
export const CHECKS_MYSQL = `SELECT tc.TABLE_NAME AS table_name, cc.CONSTRAINT_NAME AS constraint_name, cc.CHECK_CLAUSE AS check_clause
FROM information_schema.CHECK_CONSTRAINTS cc
JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
WHERE cc.CONSTRAINT_SCHEMA = ?
ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME`

export const VIEWS = `SELECT v.TABLE_NAME AS table_name, v.VIEW_DEFINITION AS view_definition
FROM information_schema.VIEWS v
WHERE v.TABLE_SCHEMA = ?
ORDER BY v.TABLE_NAME`

/** MariaDB's Oracle mode adds PACKAGE / PACKAGE BODY rows; they have no MySQL counterpart and are not routines to migrate. */
export const ROUTINES = `SELECT r.ROUTINE_NAME AS routine_name, r.ROUTINE_TYPE AS routine_type, r.ROUTINE_DEFINITION AS routine_definition
FROM information_schema.ROUTINES r
WHERE r.ROUTINE_SCHEMA = ? AND r.ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
ORDER BY r.ROUTINE_TYPE, r.ROUTINE_NAME`

export const TRIGGERS = `SELECT tr.TRIGGER_NAME AS trigger_name, tr.EVENT_OBJECT_TABLE AS event_object_table, tr.ACTION_TIMING AS action_timing, tr.EVENT_MANIPULATION AS event_manipulation
FROM information_schema.TRIGGERS tr
WHERE tr.TRIGGER_SCHEMA = ?
ORDER BY tr.EVENT_OBJECT_TABLE, tr.TRIGGER_NAME`

export const EVENTS = `SELECT e.EVENT_NAME AS event_name, e.STATUS AS status
FROM information_schema.EVENTS e
WHERE e.EVENT_SCHEMA = ?
ORDER BY e.EVENT_NAME`

/**
 * Server settings in one round trip. SHOW GLOBAL VARIABLES with a name list, rather than
 * `SELECT @@x`, because a variable a flavor lacks (gtid_mode on MariaDB, gtid_strict_mode on
 * MySQL, aurora_version off Aurora) is simply a missing row instead of an error.
 */
export const SERVER_VARIABLE_NAMES = [
  'version',
  'version_comment',
  'character_set_server',
  'collation_server',
  'lower_case_table_names',
  'log_bin',
  'binlog_format',
  'binlog_row_image',
  'gtid_mode',
  'enforce_gtid_consistency',
  'gtid_strict_mode',
  'server_id',
  'binlog_expire_logs_seconds',
  'expire_logs_days',
  'auto_increment_increment',
  'aurora_version',
] as const

export const SERVER_VARIABLES = `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${SERVER_VARIABLE_NAMES.map((n) => `'${n}'`).join(', ')})`

/** Only run on a server already known to be TiDB (the function does not exist elsewhere). */
export const TIDB_VERSION = 'SELECT TIDB_VERSION() AS v'

/**
 * Fallback Aurora probe for a MySQL-looking server without the aurora_version variable (older
 * Aurora MySQL 1.x); ER_SP_DOES_NOT_EXIST (1305) means "not Aurora".
 */
export const AURORA_VERSION = 'SELECT AURORA_VERSION() AS v'

export const PING = 'SELECT 1 AS ok'

// ---------------------------------------------------------------------------------------------
// assess: hottest tables and the sample copy

/** Whether performance_schema runs (off by default on MariaDB); a missing row means no. */
export const PERFORMANCE_SCHEMA_ENABLED = "SHOW GLOBAL VARIABLES WHERE Variable_name = 'performance_schema'"

/**
 * Writes per table since the server started (or the counters were truncated). COUNT_WRITE
 * counts row operations, unlike information_schema.TABLES.UPDATE_TIME, which only says when.
 */
export const TABLE_WRITE_COUNTS = `SELECT w.OBJECT_SCHEMA AS table_schema, w.OBJECT_NAME AS table_name, w.COUNT_WRITE AS writes
FROM performance_schema.table_io_waits_summary_by_table w
WHERE w.OBJECT_SCHEMA = ? AND w.OBJECT_TYPE = 'TABLE'
ORDER BY w.COUNT_WRITE DESC, w.OBJECT_NAME`

/**
 * One keyset page of a table in key order: the first page without a cursor, the next ones
 * after the last key read (a row-value comparison, which every flavor turns into a range scan).
 * `table` and `keyColumns` are already quoted; the cursor values and the page size are bound.
 */
export function sampleRowsSql(table: string, keyColumns: readonly string[], afterCursor: boolean): string {
  const keys = keyColumns.join(', ')
  const where =
    afterCursor && keyColumns.length > 0
      ? keyColumns.length === 1
        ? ` WHERE ${keys} > ?`
        : ` WHERE (${keys}) > (${keyColumns.map(() => '?').join(', ')})`
      : ''
  const order = keyColumns.length > 0 ? ` ORDER BY ${keys}` : ''
  return `SELECT * FROM ${table}${where}${order} LIMIT ?`
}

/** TEMPORARY: private to the connection, never replicated in ROW format, gone when the connection ends. */
export const CREATE_SIZING_PROBE = 'CREATE TEMPORARY TABLE payctl_sizing_probe (id BIGINT PRIMARY KEY, payload LONGBLOB)'
export const DROP_SIZING_PROBE = 'DROP TEMPORARY TABLE IF EXISTS payctl_sizing_probe'

export function insertSizingProbeSql(rows: number): string {
  return `INSERT INTO payctl_sizing_probe (id, payload) VALUES ${Array.from({length: rows}, () => '(?, ?)').join(', ')}`
}
