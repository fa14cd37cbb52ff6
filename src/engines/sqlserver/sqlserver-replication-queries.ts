/**
 * Every statement payctl replicate sends to SQL Server, built by pure functions the unit tests pin
 * exactly: keyset chunk reads, key bounds and counts, the MS-CDC change window, and the writer's
 * MERGE and DELETE for reverse replication.
 *
 * Values leave SQL Server in the textual forms the MySQL engine's mysql2 pool hands over
 * (poolOptions in src/engines/mysql/mysql-engine.ts: dateStrings, bigNumberStrings, DECIMAL as
 * strings), so a row read here compares equal to the same row read from the target. The
 * conversion happens in the SELECT list (valueExpression), with these rules per column type:
 *
 * - tinyint, smallint, int, float: as tedious returns them (numbers).
 * - real (float(1..24)): a number, then decodeValue rounds it to the shortest decimal that reads
 *   back as the same 32-bit float (what MySQL prints for FLOAT), instead of tedious's widened double.
 * - bigint: CONVERT(varchar(20)) -> '9007199254740993' (mysql2 bigNumberStrings).
 * - bit: CONVERT(tinyint) -> 0 / 1 (the target column is tinyint(1)).
 * - decimal, numeric: CONVERT(varchar(48)) -> exact text with every scale digit ('12.3400').
 * - money, smallmoney: through decimal(19,4) / decimal(10,4) -> '12.3400' (CONVERT(varchar, money)
 *   alone would keep only two decimals).
 * - date: style 23 -> 'YYYY-MM-DD'.
 * - datetime: style 121 -> 'YYYY-MM-DD HH:MM:SS.mmm' (target datetime(3)).
 * - smalldatetime: style 120 -> 'YYYY-MM-DD HH:MM:SS'.
 * - datetime2(n): style 121, which prints n fractional digits (none for n = 0); n = 7 is cut to 6
 *   digits (LEFT 26), as the target datetime(6) truncates the 100 ns digit. No time-zone shift.
 * - datetimeoffset(n): SWITCHOFFSET to +00:00, then as datetime2(n): the UTC wall time.
 * - time(n): CONVERT(varchar) -> 'HH:MM:SS[.fffffff]', cut to 6 digits for n = 7.
 * - uniqueidentifier: CONVERT(char(36)) -> the upper-case 8-4-4-4-12 text SQL Server prints (as the type mapping documents).
 * - char, nchar: RTRIM, as MySQL CHAR drops trailing spaces on read.
 * - varchar, nvarchar, text, ntext: as is (strings).
 * - binary, varbinary, image, rowversion: as is (Buffers).
 * - xml: CONVERT(nvarchar(max)) (text); sql_variant: CONVERT(nvarchar(4000)).
 * - hierarchyid: CONVERT(varbinary(892)) (the bytes, as the target keeps them).
 * - geography, geometry: the MySQL internal geometry format, SRID as 4 little-endian bytes then
 *   STAsBinary() (WKB).
 * - any other (CLR) type: CONVERT(varbinary(max)).
 *
 * Bound values go the other way (paramExpression): every value is bound as nvarchar(max) text
 * (varbinary(max) for binary columns, float for float/real) and converted to the column's declared
 * type in the statement, with an explicit style for dates, so parsing never depends on the
 * session's language or DATEFORMAT, and a key predicate compares column to value of the same type
 * (an index seek, no implicit conversion of the column).
 */
import {BugError} from '../../cli/errors.js'
import type {ColumnModel} from '../model.js'
import {qualify, quoteIdentifier} from './sqlserver-dialect.js'

/** What a statement needs to know of a column: its name and declared type (from the catalog, as the introspector maps it). */
export type ReplicaColumn = Pick<ColumnModel, 'name' | 'dataType' | 'columnType' | 'scale'>

/** How a column's values are bound as parameters. */
export type ParamKind = 'text' | 'binary' | 'float'

/** SQL Server allows 2100 parameters per request; a statement stays below this, with room to spare. */
export const MAX_STATEMENT_PARAMS = 2000
/** Rows per MERGE or DELETE batch, whatever the column count. */
export const MAX_BATCH_ROWS = 500

const BINARY_TYPES = new Set(['binary', 'varbinary', 'image', 'rowversion', 'hierarchyid', 'geography', 'geometry'])
const KNOWN_TYPES = new Set([
  'tinyint', 'smallint', 'int', 'bigint', 'bit', 'decimal', 'numeric', 'money', 'smallmoney', 'float', 'real',
  'date', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset', 'time', 'uniqueidentifier',
  'char', 'nchar', 'varchar', 'nvarchar', 'text', 'ntext', 'binary', 'varbinary', 'image', 'rowversion',
  'xml', 'sql_variant', 'hierarchyid', 'geography', 'geometry', 'json',
])
const MAX_FRACTION_DIGITS = 6

export function paramKind(column: Pick<ReplicaColumn, 'dataType'>): ParamKind {
  const t = column.dataType
  if (BINARY_TYPES.has(t) || !KNOWN_TYPES.has(t)) return 'binary'
  if (t === 'float' || t === 'real') return 'float'
  return 'text'
}

/** The type to CONVERT a bound value to: the declared type, with legacy and server-written types replaced by what can hold their values. */
function declaredType(column: ReplicaColumn): string {
  switch (column.dataType) {
    case 'rowversion':
      return 'binary(8)'
    case 'text':
      return 'varchar(max)'
    case 'ntext':
      return 'nvarchar(max)'
    case 'image':
      return 'varbinary(max)'
    default:
      return column.columnType
  }
}

function fractionDigits(column: ReplicaColumn): number {
  return column.scale ?? 7
}

/** A datetime2-typed expression as 'YYYY-MM-DD HH:MM:SS[.ffffff]' (at most 6 digits, cut, not rounded). */
function datetime2Text(expr: string, digits: number): string {
  return digits > MAX_FRACTION_DIGITS ? `LEFT(CONVERT(varchar(27), ${expr}, 121), 26)` : `CONVERT(varchar(26), ${expr}, 121)`
}

/** `ref` (a column reference such as t.[amount]) in the form mysql2 would hand the same value over; see the file header. */
export function valueExpression(column: ReplicaColumn, ref: string): string {
  switch (column.dataType) {
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'float':
    case 'real':
    case 'varchar':
    case 'nvarchar':
    case 'text':
    case 'ntext':
    case 'binary':
    case 'varbinary':
    case 'image':
    case 'rowversion':
      return ref
    case 'bigint':
      return `CONVERT(varchar(20), ${ref})`
    case 'bit':
      return `CONVERT(tinyint, ${ref})`
    case 'decimal':
    case 'numeric':
      return `CONVERT(varchar(48), ${ref})`
    case 'money':
      return `CONVERT(varchar(24), CONVERT(decimal(19,4), ${ref}))`
    case 'smallmoney':
      return `CONVERT(varchar(16), CONVERT(decimal(10,4), ${ref}))`
    case 'date':
      return `CONVERT(char(10), ${ref}, 23)`
    case 'datetime':
      return `CONVERT(char(23), ${ref}, 121)`
    case 'smalldatetime':
      return `CONVERT(char(19), ${ref}, 120)`
    case 'datetime2':
      return datetime2Text(ref, fractionDigits(column))
    case 'datetimeoffset': {
      const digits = fractionDigits(column)
      return datetime2Text(`CONVERT(datetime2(${digits}), SWITCHOFFSET(${ref}, '+00:00'))`, digits)
    }
    case 'time':
      return fractionDigits(column) > MAX_FRACTION_DIGITS ? `LEFT(CONVERT(varchar(16), ${ref}), 15)` : `CONVERT(varchar(15), ${ref})`
    case 'uniqueidentifier':
      return `CONVERT(char(36), ${ref})`
    case 'char':
    case 'nchar':
      return `RTRIM(${ref})`
    case 'xml':
    case 'json':
      return `CONVERT(nvarchar(max), ${ref})`
    case 'sql_variant':
      return `CONVERT(nvarchar(4000), ${ref})`
    case 'hierarchyid':
      return `CONVERT(varbinary(892), ${ref})`
    case 'geography':
    case 'geometry':
      return (
        `CONVERT(binary(1), ${ref}.STSrid % 256) + CONVERT(binary(1), ${ref}.STSrid / 256 % 256)` +
        ` + CONVERT(binary(1), ${ref}.STSrid / 65536 % 256) + CONVERT(binary(1), ${ref}.STSrid / 16777216 % 256)` +
        ` + ${ref}.STAsBinary()`
      )
    default:
      return `CONVERT(varbinary(max), ${ref})`
  }
}

/** A bound value (`param`, e.g. @a0 or s.[amount]) converted to the column's type; see the file header. */
export function paramExpression(column: ReplicaColumn, param: string): string {
  switch (column.dataType) {
    case 'date':
      return `CONVERT(date, ${param}, 23)`
    case 'datetime':
    case 'smalldatetime':
    case 'datetime2':
    case 'datetimeoffset':
      return `CONVERT(${column.columnType}, ${param}, 121)`
    case 'geography':
    case 'geometry': {
      const srid =
        `CONVERT(int, SUBSTRING(${param}, 1, 1)) + 256 * CONVERT(int, SUBSTRING(${param}, 2, 1))` +
        ` + 65536 * CONVERT(int, SUBSTRING(${param}, 3, 1)) + 16777216 * CONVERT(int, SUBSTRING(${param}, 4, 1))`
      return `CASE WHEN ${param} IS NULL THEN NULL ELSE ${column.dataType}::STGeomFromWKB(SUBSTRING(${param}, 5, DATALENGTH(${param}) - 4), ${srid}) END`
    }
    default:
      if (!KNOWN_TYPES.has(column.dataType)) return param
      return `CONVERT(${declaredType(column)}, ${param})`
  }
}

/** Columns of a list, each as `<expr> AS [name]`, one per line. */
function selectList(columns: readonly ReplicaColumn[], alias: string): string {
  return columns.map((c) => `  ${valueExpression(c, `${alias}.${quoteIdentifier(c.name)}`)} AS ${quoteIdentifier(c.name)}`).join(',\n')
}

/**
 * `(k1 > @a0) OR (k1 = @a0 AND k2 > @a1) ...` for a composite key; `op` is > (after) or < (before).
 * Each bound value is converted to the key column's type (see paramExpression).
 */
export function keysetPredicate(keys: readonly ReplicaColumn[], alias: string, op: '>' | '<', prefix: string): string {
  if (keys.length === 0) throw new BugError('A keyset predicate needs at least one key column.')
  const ref = (k: ReplicaColumn): string => `${alias}.${quoteIdentifier(k.name)}`
  const param = (i: number): string => paramExpression(keys[i] as ReplicaColumn, `@${prefix}${i}`)
  const terms = keys.map((k, i) => {
    const equal = keys.slice(0, i).map((e, j) => `${ref(e)} = ${param(j)}`)
    return `(${[...equal, `${ref(k)} ${op} ${param(i)}`].join(' AND ')})`
  })
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' OR ')})`
}

function orderBy(keys: readonly ReplicaColumn[], alias: string, direction: 'ASC' | 'DESC'): string {
  return keys.map((k) => `${alias}.${quoteIdentifier(k.name)} ${direction}`).join(', ')
}

/**
 * One chunk in key order: `TOP (@limit)` rows with key > (@a0, @a1, ...) when `hasAfter` and key <
 * (@b0, @b1, ...) when `hasBefore`. `columns` are in ReplicaTable.columns order.
 */
export function readChunkQuery(schema: string, table: string, columns: readonly ReplicaColumn[], keys: readonly ReplicaColumn[], hasAfter: boolean, hasBefore: boolean): string {
  const where = [...(hasAfter ? [keysetPredicate(keys, 't', '>', 'a')] : []), ...(hasBefore ? [keysetPredicate(keys, 't', '<', 'b')] : [])]
  return [
    'SELECT TOP (@limit)',
    selectList(columns, 't'),
    `FROM ${qualify(schema, table)} AS t`,
    ...(where.length === 0 ? [] : [`WHERE ${where.join('\n  AND ')}`]),
    `ORDER BY ${orderBy(keys, 't', 'ASC')};`,
  ].join('\n')
}

/** The first (ASC) or last (DESC) key of a table, in the same forms readChunk returns. */
export function keyBoundQuery(schema: string, table: string, keys: readonly ReplicaColumn[], direction: 'ASC' | 'DESC'): string {
  return ['SELECT TOP (1)', selectList(keys, 't'), `FROM ${qualify(schema, table)} AS t`, `ORDER BY ${orderBy(keys, 't', direction)};`].join('\n')
}

export function countRowsQuery(schema: string, table: string): string {
  return `SELECT COUNT_BIG(*) AS row_count\nFROM ${qualify(schema, table)};`
}

/** Rows per batch so that rows x columns parameters stay under MAX_STATEMENT_PARAMS. */
export function batchRows(columnCount: number): number {
  return Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_STATEMENT_PARAMS / Math.max(1, columnCount))))
}

/** `(@p0, @p1), (@p2, @p3)`: `rows` rows of `width` parameters, numbered from 0. */
function valuesRows(rows: number, width: number): string {
  const out: string[] = []
  for (let r = 0; r < rows; r++) {
    const params: string[] = []
    for (let c = 0; c < width; c++) params.push(`@p${r * width + c}`)
    out.push(`  (${params.join(', ')})`)
  }
  return out.join(',\n')
}

/**
 * Insert-or-overwrite of `rows` rows (parameters @p0.. row by row, in `columns` order). HOLDLOCK
 * makes the MERGE's existence check and its write one atomic step (no duplicate-key race with a
 * concurrent insert). Key columns and `identity` columns are not updated (an identity column
 * cannot be); when nothing else is left, a matched row is left as it is.
 */
export function mergeQuery(schema: string, table: string, columns: readonly ReplicaColumn[], keys: readonly string[], identityColumns: readonly string[], rows: number): string {
  const names = columns.map((c) => quoteIdentifier(c.name))
  const source = columns.map((c) => `    ${paramExpression(c, `v.${quoteIdentifier(c.name)}`)} AS ${quoteIdentifier(c.name)}`).join(',\n')
  const on = keys.map((k) => `t.${quoteIdentifier(k)} = s.${quoteIdentifier(k)}`).join(' AND ')
  const updated = columns.filter((c) => !keys.includes(c.name) && !identityColumns.includes(c.name))
  return [
    `MERGE INTO ${qualify(schema, table)} WITH (HOLDLOCK) AS t`,
    'USING (',
    '  SELECT',
    source,
    '  FROM (VALUES',
    valuesRows(rows, columns.length),
    `  ) AS v (${names.join(', ')})`,
    ') AS s',
    `ON ${on}`,
    ...(updated.length === 0
      ? []
      : [`WHEN MATCHED THEN UPDATE SET ${updated.map((c) => `t.${quoteIdentifier(c.name)} = s.${quoteIdentifier(c.name)}`).join(', ')}`]),
    `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')});`,
  ].join('\n')
}

/** Deletes `rows` keys (parameters @p0.. key by key, in `keys` order). */
export function deleteKeysQuery(schema: string, table: string, keys: readonly ReplicaColumn[], rows: number): string {
  const names = keys.map((k) => quoteIdentifier(k.name))
  const on = keys.map((k) => `t.${quoteIdentifier(k.name)} = ${paramExpression(k, `v.${quoteIdentifier(k.name)}`)}`).join(' AND ')
  return [
    'DELETE t',
    `FROM ${qualify(schema, table)} AS t`,
    'JOIN (VALUES',
    valuesRows(rows, keys.length),
    `) AS v (${names.join(', ')})`,
    `  ON ${on};`,
  ].join('\n')
}

export function identityInsertStatement(schema: string, table: string, on: boolean): string {
  return `SET IDENTITY_INSERT ${qualify(schema, table)} ${on ? 'ON' : 'OFF'};`
}

// ---------------------------------------------------------------------------------------------
// Change data capture

/** Whether CDC is on for the connected database, and the engine edition (5 = Azure SQL Database, no Agent). */
export const CDC_DATABASE_QUERY = `SELECT
  d.is_cdc_enabled,
  CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition
FROM sys.databases AS d
WHERE d.database_id = DB_ID();`

/** The capture job of this database (the cleanup job's retention is CDC_RETENTION_QUERY in sqlserver-queries.ts). */
export const CDC_CAPTURE_JOB_QUERY = `SELECT
  job_type
FROM msdb.dbo.cdc_jobs
WHERE database_id = DB_ID()
  AND job_type = N'capture';`

/**
 * Every capture instance with its source table, creation time and the oldest LSN it still holds
 * (fn_cdc_get_min_lsn: the cleanup job's low-water mark). cdc.change_tables exists only where CDC is on.
 */
export const CDC_INSTANCES_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  ct.capture_instance,
  ct.create_date,
  sys.fn_cdc_get_min_lsn(ct.capture_instance) AS min_lsn
FROM cdc.change_tables AS ct
JOIN sys.tables AS t ON t.object_id = ct.source_object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
ORDER BY s.name, t.name, ct.create_date, ct.capture_instance;`

/** The columns each capture instance records (sp_cdc_enable_table @captured_column_list may leave some out). */
export const CDC_CAPTURED_COLUMNS_QUERY = `SELECT
  ct.capture_instance,
  cc.column_name
FROM cdc.captured_columns AS cc
JOIN cdc.change_tables AS ct ON ct.object_id = cc.object_id
ORDER BY ct.capture_instance, cc.column_ordinal;`

/**
 * The capture job's max LSN, and the newest capture instance's first LSN (an instance enabled
 * after the job's last scan starts after the max LSN: a position before it would look expired).
 */
export const CDC_MAX_LSN_QUERY = `SELECT
  sys.fn_cdc_get_max_lsn() AS max_lsn,
  (SELECT MAX(ct.start_lsn) FROM cdc.change_tables AS ct) AS newest_start_lsn;`

/**
 * The next window of committed changes to read. From: the LSN after @after_lsn (or @after_lsn
 * itself when @inclusive = 1, to finish a commit read in part). To: the capture job's max LSN, or
 * the commit LSN of the @max_transactions-th transaction from `from` when there are more, so one
 * poll holds a bounded number of transactions (tran_id 0x00 rows are the capture job's empty scans).
 */
export const CDC_WINDOW_QUERY = `DECLARE @from_lsn binary(10) = CASE WHEN @inclusive = 1 THEN @after_lsn ELSE sys.fn_cdc_increment_lsn(@after_lsn) END;
DECLARE @max_lsn binary(10) = sys.fn_cdc_get_max_lsn();
DECLARE @nth_lsn binary(10);
DECLARE @transactions int;
SELECT @nth_lsn = MAX(w.start_lsn), @transactions = COUNT(*)
FROM (
  SELECT TOP (@max_transactions) m.start_lsn
  FROM cdc.lsn_time_mapping AS m
  WHERE m.start_lsn >= @from_lsn AND m.start_lsn <= @max_lsn AND m.tran_id <> 0x00
  ORDER BY m.start_lsn
) AS w;
SELECT
  @from_lsn AS from_lsn,
  @max_lsn AS max_lsn,
  CASE WHEN @transactions >= @max_transactions THEN @nth_lsn ELSE @max_lsn END AS to_lsn;`

/**
 * Commit times of the LSNs in [@from_lsn, @to_lsn] (transactions, and the capture job's empty
 * scans, whose LSN may end a window), as ms since the epoch in UTC
 * (tran_end_time is the server's local time; its current offset is taken off).
 */
export const CDC_COMMIT_TIMES_QUERY = `SELECT
  m.start_lsn,
  DATEDIFF_BIG(millisecond, CONVERT(datetime2(3), '19700101', 112), DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), CONVERT(datetime2(3), m.tran_end_time))) AS commit_time_ms
FROM cdc.lsn_time_mapping AS m
WHERE m.start_lsn >= @from_lsn
  AND m.start_lsn <= @to_lsn;`

/** Schema changes recorded against capture instances in [@from_lsn, @to_lsn]. */
export const CDC_DDL_QUERY = `SELECT
  ct.capture_instance,
  dh.ddl_lsn,
  dh.ddl_command,
  DATEDIFF_BIG(millisecond, CONVERT(datetime2(3), '19700101', 112), DATEADD(minute, -DATEPART(TZOFFSET, SYSDATETIMEOFFSET()), CONVERT(datetime2(3), dh.ddl_time))) AS ddl_time_ms
FROM cdc.ddl_history AS dh
JOIN cdc.change_tables AS ct ON ct.object_id = dh.object_id
WHERE dh.ddl_lsn >= @from_lsn
  AND dh.ddl_lsn <= @to_lsn
ORDER BY dh.ddl_lsn;`

/** The CDC queries with fixed text, by name: the unit test pins each one. */
export const SQLSERVER_CDC_QUERIES = {
  cdcDatabase: CDC_DATABASE_QUERY,
  cdcCaptureJob: CDC_CAPTURE_JOB_QUERY,
  cdcInstances: CDC_INSTANCES_QUERY,
  cdcCapturedColumns: CDC_CAPTURED_COLUMNS_QUERY,
  cdcMaxLsn: CDC_MAX_LSN_QUERY,
  cdcWindow: CDC_WINDOW_QUERY,
  cdcCommitTimes: CDC_COMMIT_TIMES_QUERY,
  cdcDdl: CDC_DDL_QUERY,
} as const

/**
 * Every change of one capture instance in [@from_lsn, @to_lsn], updates as before (3) and after
 * (4) images, in commit, change and operation order; captured columns in the same forms as
 * readChunk. The function's name is the instance's ("fn_cdc_get_all_changes_" + capture_instance).
 */
export function cdcChangesQuery(captureInstance: string, columns: readonly ReplicaColumn[]): string {
  const fn = `cdc.${quoteIdentifier(`fn_cdc_get_all_changes_${captureInstance}`)}`
  return [
    'SELECT',
    '  c.[__$start_lsn],',
    '  c.[__$seqval],',
    `  c.[__$operation]${columns.length === 0 ? '' : ','}`,
    ...(columns.length === 0 ? [] : [selectList(columns, 'c')]),
    `FROM ${fn}(@from_lsn, @to_lsn, N'all update old') AS c`,
    'ORDER BY c.[__$start_lsn], c.[__$seqval], c.[__$operation];',
  ].join('\n')
}

/** A T-SQL N'...' literal (for the statements error messages tell the user to run). */
export function nstring(value: string): string {
  return `N'${value.replaceAll("'", "''")}'`
}

export function enableTableStatement(schema: string, table: string, captureInstance?: string): string {
  const instance = captureInstance === undefined ? '' : `, @capture_instance = ${nstring(captureInstance)}`
  return `EXEC sys.sp_cdc_enable_table @source_schema = ${nstring(schema)}, @source_name = ${nstring(table)}, @role_name = NULL, @supports_net_changes = 0${instance}`
}
