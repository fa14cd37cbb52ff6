/**
 * Every catalog query the SQL Server engine sends, as exact text. They read the sys.* catalog
 * views (SQL Server 2016 and later: temporal tables, memory-optimized tables and
 * sys.columns.generated_always_type appear there), never INFORMATION_SCHEMA, which hides
 * identity, computed, sparse, rowversion, filtered-index and CDC details.
 *
 * Conventions the introspector relies on:
 * - `@schema` (nvarchar, NULL = every user schema) is the only value that varies, and it is bound.
 * - System objects (is_ms_shipped = 1), the cdc schema's own change tables and the SSMS diagram
 *   support tables are left out, so a table list here is the list of tables to migrate.
 * - Results are ordered by schema, table, then ordinal, so two runs give the same model.
 * - Column aliases keep the catalog's own column names where no join makes them ambiguous.
 */

/** Server and database settings; one row. Readable by any user of the database. */
export const SERVER_INFO_QUERY = `SELECT
  CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
  CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
  CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
  @@VERSION AS version,
  DB_NAME() AS database_name,
  d.collation_name,
  CAST(COLLATIONPROPERTY(d.collation_name, 'CodePage') AS int) AS code_page,
  d.recovery_model_desc,
  d.is_cdc_enabled,
  CAST(CASE WHEN ctd.database_id IS NULL THEN 0 ELSE 1 END AS bit) AS is_change_tracking_enabled,
  ctd.retention_period,
  ctd.retention_period_units_desc,
  ctd.is_auto_cleanup_on
FROM sys.databases AS d
LEFT JOIN sys.change_tracking_databases AS ctd ON ctd.database_id = d.database_id
WHERE d.database_id = DB_ID();`

/** Needs VIEW SERVER STATE and does not exist on Azure SQL Database: the caller treats a refusal as "unknown". */
export const AGENT_STATUS_QUERY = `SELECT
  servicename,
  status_desc
FROM sys.dm_server_services
WHERE servicename LIKE N'SQL Server Agent%';`

/** Retention of the CDC cleanup job, in minutes. msdb may be unreadable (or absent, on Azure SQL Database). */
export const CDC_RETENTION_QUERY = `SELECT
  retention
FROM msdb.dbo.cdc_jobs
WHERE database_id = DB_ID()
  AND job_type = N'cleanup';`

/**
 * Base tables with their features. External (PolyBase) tables hold no rows here and are left
 * out, like system tables. Row estimates come from sys.partitions (no special
 * permission); sizes come separately from TABLE_SIZES_QUERY, which needs VIEW DATABASE STATE.
 */
export const TABLES_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  t.is_memory_optimized,
  t.temporal_type,
  hs.name AS history_schema_name,
  h.name AS history_table_name,
  t.is_tracked_by_cdc,
  CAST(CASE WHEN ctt.object_id IS NULL THEN 0 ELSE 1 END AS bit) AS is_change_tracked,
  CAST(CASE WHEN EXISTS (
    SELECT 1
    FROM sys.indexes AS i
    JOIN sys.partition_schemes AS ps ON ps.data_space_id = i.data_space_id
    WHERE i.object_id = t.object_id AND i.index_id IN (0, 1)
  ) THEN 1 ELSE 0 END AS bit) AS is_partitioned,
  pa.partition_count,
  pa.row_estimate,
  CAST(ep.value AS nvarchar(4000)) AS comment
FROM sys.tables AS t
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
LEFT JOIN sys.tables AS h ON h.object_id = t.history_table_id
LEFT JOIN sys.schemas AS hs ON hs.schema_id = h.schema_id
LEFT JOIN sys.change_tracking_tables AS ctt ON ctt.object_id = t.object_id
LEFT JOIN sys.extended_properties AS ep
  ON ep.class = 1 AND ep.major_id = t.object_id AND ep.minor_id = 0 AND ep.name = N'MS_Description'
OUTER APPLY (
  SELECT COUNT(*) AS partition_count, SUM(p.rows) AS row_estimate
  FROM sys.partitions AS p
  WHERE p.object_id = t.object_id AND p.index_id IN (0, 1)
) AS pa
WHERE t.is_ms_shipped = 0
  AND t.is_external = 0
  AND s.name <> N'cdc'
  AND NOT EXISTS (
    SELECT 1
    FROM sys.extended_properties AS tools
    WHERE tools.class = 1 AND tools.major_id = t.object_id AND tools.minor_id = 0
      AND tools.name = N'microsoft_database_tools_support'
  )
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name;`

/**
 * Rows and pages per table, split into data and index pages the way sp_spaceused does:
 * data = in-row pages of the heap or clustered index plus every LOB and row-overflow page;
 * index = the rest of the used pages.
 */
export const TABLE_SIZES_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  SUM(CASE WHEN ps.index_id IN (0, 1) THEN ps.row_count ELSE 0 END) AS row_count,
  SUM(ps.reserved_page_count) AS reserved_page_count,
  SUM(ps.used_page_count) AS used_page_count,
  SUM(CASE WHEN ps.index_id IN (0, 1)
    THEN ps.in_row_data_page_count + ps.lob_used_page_count + ps.row_overflow_used_page_count
    ELSE ps.lob_used_page_count + ps.row_overflow_used_page_count END) AS data_page_count
FROM sys.dm_db_partition_stats AS ps
JOIN sys.tables AS t ON t.object_id = ps.object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE t.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
GROUP BY s.name, t.name
ORDER BY s.name, t.name;`

/**
 * Columns with their declared type and, for alias types, the system base type (sys.types row of
 * the alias's system_type_id). CLR types (geography, geometry, hierarchyid) are not user-defined,
 * so their own name is the base name.
 */
export const COLUMNS_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  c.column_id,
  c.name AS column_name,
  ty.name AS type_name,
  ty.is_user_defined,
  CASE WHEN ty.is_user_defined = 1 THEN bt.name ELSE ty.name END AS base_type_name,
  c.max_length,
  c.precision,
  c.scale,
  c.is_nullable,
  c.is_identity,
  CAST(ic.seed_value AS nvarchar(40)) AS seed_value,
  CAST(ic.increment_value AS nvarchar(40)) AS increment_value,
  c.is_computed,
  cc.definition AS computed_definition,
  cc.is_persisted,
  c.is_sparse,
  c.generated_always_type,
  c.collation_name,
  CAST(COLLATIONPROPERTY(c.collation_name, 'CodePage') AS int) AS code_page,
  dc.name AS default_constraint_name,
  dc.definition AS default_definition,
  CAST(ep.value AS nvarchar(4000)) AS comment
FROM sys.columns AS c
JOIN sys.tables AS t ON t.object_id = c.object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.types AS ty ON ty.user_type_id = c.user_type_id
LEFT JOIN sys.types AS bt ON ty.is_user_defined = 1 AND bt.user_type_id = ty.system_type_id
LEFT JOIN sys.identity_columns AS ic ON ic.object_id = c.object_id AND ic.column_id = c.column_id
LEFT JOIN sys.computed_columns AS cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
LEFT JOIN sys.default_constraints AS dc ON dc.object_id = c.default_object_id
LEFT JOIN sys.extended_properties AS ep
  ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id AND ep.name = N'MS_Description'
WHERE t.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, c.column_id;`

/**
 * One row per index column. Heaps (type 0) and the tuning advisor's hypothetical indexes are
 * not indexes a target needs. Key columns come first in key_ordinal order, then INCLUDE columns.
 */
export const INDEXES_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  i.index_id,
  i.name AS index_name,
  i.type_desc,
  i.is_primary_key,
  i.is_unique,
  i.is_unique_constraint,
  i.has_filter,
  i.filter_definition,
  ic.index_column_id,
  ic.key_ordinal,
  ic.is_descending_key,
  ic.is_included_column,
  c.name AS column_name
FROM sys.indexes AS i
JOIN sys.tables AS t ON t.object_id = i.object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.type > 0
  AND i.is_hypothetical = 0
  AND t.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, i.index_id, ic.is_included_column, ic.key_ordinal, ic.index_column_id;`

/** One row per foreign key column pair. */
export const FOREIGN_KEYS_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  fk.name AS constraint_name,
  fkc.constraint_column_id,
  pc.name AS column_name,
  rs.name AS referenced_schema_name,
  rt.name AS referenced_table_name,
  rc.name AS referenced_column_name,
  fk.update_referential_action_desc,
  fk.delete_referential_action_desc,
  fk.is_disabled,
  fk.is_not_trusted
FROM sys.foreign_keys AS fk
JOIN sys.tables AS t ON t.object_id = fk.parent_object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.foreign_key_columns AS fkc ON fkc.constraint_object_id = fk.object_id
JOIN sys.columns AS pc ON pc.object_id = fkc.parent_object_id AND pc.column_id = fkc.parent_column_id
JOIN sys.objects AS rt ON rt.object_id = fk.referenced_object_id
JOIN sys.schemas AS rs ON rs.schema_id = rt.schema_id
JOIN sys.columns AS rc ON rc.object_id = fkc.referenced_object_id AND rc.column_id = fkc.referenced_column_id
WHERE fk.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, fk.name, fkc.constraint_column_id;`

export const CHECK_CONSTRAINTS_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  cc.name AS constraint_name,
  cc.definition,
  cc.is_disabled,
  cc.is_not_trusted
FROM sys.check_constraints AS cc
JOIN sys.tables AS t ON t.object_id = cc.parent_object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE cc.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, cc.name;`

/** OBJECT_DEFINITION is NULL for objects created WITH ENCRYPTION or without VIEW DEFINITION. */
export const VIEWS_QUERY = `SELECT
  s.name AS schema_name,
  v.name AS view_name,
  OBJECT_DEFINITION(v.object_id) AS definition
FROM sys.views AS v
JOIN sys.schemas AS s ON s.schema_id = v.schema_id
WHERE v.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, v.name;`

/** T-SQL and CLR procedures and functions (scalar, inline table-valued, multi-statement table-valued). */
export const ROUTINES_QUERY = `SELECT
  s.name AS schema_name,
  o.name AS routine_name,
  o.type,
  o.type_desc,
  OBJECT_DEFINITION(o.object_id) AS definition
FROM sys.objects AS o
JOIN sys.schemas AS s ON s.schema_id = o.schema_id
WHERE o.type IN ('P', 'PC', 'FN', 'IF', 'TF', 'FS', 'FT')
  AND o.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, o.name;`

/** DML triggers on tables (parent_class 1), one row per firing event; DDL and view triggers are not table triggers. */
export const TRIGGERS_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  tr.name AS trigger_name,
  tr.is_instead_of_trigger,
  tr.is_disabled,
  te.type_desc AS event_type_desc
FROM sys.triggers AS tr
JOIN sys.tables AS t ON t.object_id = tr.parent_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
JOIN sys.trigger_events AS te ON te.object_id = tr.object_id
WHERE tr.parent_class = 1
  AND tr.is_ms_shipped = 0
  AND s.name <> N'cdc'
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, tr.name, te.type;`

export const SEQUENCES_QUERY = `SELECT
  s.name AS schema_name,
  sq.name AS sequence_name,
  TYPE_NAME(sq.system_type_id) AS type_name,
  CAST(sq.start_value AS nvarchar(40)) AS start_value,
  CAST(sq.increment AS nvarchar(40)) AS increment,
  CAST(sq.current_value AS nvarchar(40)) AS current_value
FROM sys.sequences AS sq
JOIN sys.schemas AS s ON s.schema_id = sq.schema_id
WHERE sq.is_ms_shipped = 0
  AND (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, sq.name;`

/** cdc.change_tables exists only in a database with CDC enabled: run only when is_cdc_enabled = 1. */
export const CDC_CAPTURE_INSTANCES_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  ct.capture_instance,
  ct.supports_net_changes
FROM cdc.change_tables AS ct
JOIN sys.tables AS t ON t.object_id = ct.source_object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE (@schema IS NULL OR s.name = @schema)
ORDER BY s.name, t.name, ct.capture_instance;`

/** Every query, by name: the unit test pins each one. */
export const SQLSERVER_QUERIES = {
  serverInfo: SERVER_INFO_QUERY,
  agentStatus: AGENT_STATUS_QUERY,
  cdcRetention: CDC_RETENTION_QUERY,
  tables: TABLES_QUERY,
  tableSizes: TABLE_SIZES_QUERY,
  columns: COLUMNS_QUERY,
  indexes: INDEXES_QUERY,
  foreignKeys: FOREIGN_KEYS_QUERY,
  checkConstraints: CHECK_CONSTRAINTS_QUERY,
  views: VIEWS_QUERY,
  routines: ROUTINES_QUERY,
  triggers: TRIGGERS_QUERY,
  sequences: SEQUENCES_QUERY,
  cdcCaptureInstances: CDC_CAPTURE_INSTANCES_QUERY,
} as const

/**
 * Writes per table since the instance started: user_updates of the heap or clustered index
 * (index_id 0 or 1) counts update/insert/delete operations. Needs VIEW SERVER STATE (VIEW
 * SERVER PERFORMANCE STATE on 2022); the caller treats a refusal as "unknown". Not in
 * SQLSERVER_QUERIES: assess runs it, not the introspector.
 */
export const TABLE_WRITE_COUNTS_QUERY = `SELECT
  s.name AS schema_name,
  t.name AS table_name,
  SUM(us.user_updates) AS writes
FROM sys.dm_db_index_usage_stats AS us
JOIN sys.tables AS t ON t.object_id = us.object_id
JOIN sys.schemas AS s ON s.schema_id = t.schema_id
WHERE us.database_id = DB_ID()
  AND us.index_id IN (0, 1)
  AND t.is_ms_shipped = 0
  AND s.name <> N'cdc'
GROUP BY s.name, t.name
ORDER BY writes DESC, s.name, t.name;`

/**
 * The first `limit` rows of a table in key order (assess's sample copy). `table` and
 * `keyColumns` are already quoted; `limit` is an integer written into the text because TOP
 * takes no nvarchar parameter, which is how every other value is bound here.
 */
export function sampleRowsQuery(table: string, keyColumns: readonly string[], limit: number): string {
  const n = Math.max(1, Math.floor(limit))
  const order = keyColumns.length > 0 ? `\nORDER BY ${keyColumns.map((k) => `${k} ASC`).join(', ')}` : ''
  return `SELECT TOP (${n}) *\nFROM ${table}${order};`
}
