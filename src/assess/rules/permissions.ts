/**
 * The privileges each later phase needs, as info findings (objectType 'permission') with the
 * GRANT that gives them: a DBA attaches the report to the access request. payctl does not check
 * grants here; a missing one fails that phase with exit 3 naming it.
 */
import type {Finding} from '../report.js'
import {atLeast, bracket, type RuleContext} from './context.js'

type Phase = Finding['phases'][number]

function grant(side: 'source' | 'target', id: string, what: string, statement: string, why: string, phases: Phase[]): Finding {
  return {rule: `permission.${side}.${id}`, severity: 'info', objectType: 'permission', object: `${side}: ${what}`, title: `${side === 'source' ? 'Source' : 'Target'} needs ${what}`, mapping: statement, reason: why, phases}
}

export function permissionRule(ctx: RuleContext): Finding[] {
  const {model, target} = ctx
  const out: Finding[] = []
  const db = model.server.database
  if (model.server.engine === 'sqlserver') {
    const user = '[payctl]'
    out.push(
      grant('source', 'db-datareader', 'db_datareader', `USE ${bracket(db)}; ALTER ROLE db_datareader ADD MEMBER ${user};`, 'Reads every table for the full load and for verify.', ['replicate', 'verify']),
      grant('source', 'view-definition', 'VIEW DEFINITION', `USE ${bracket(db)}; GRANT VIEW DEFINITION TO ${user};`, 'Reads the catalog (sys.*) for assess and schema conversion.', ['provision']),
      grant('source', 'view-database-state', 'VIEW DATABASE STATE', `USE ${bracket(db)}; GRANT VIEW DATABASE STATE TO ${user};`, 'Table sizes (sys.dm_db_partition_stats) and CDC LSN functions.', ['replicate']),
      grant('source', 'view-server-state', 'VIEW SERVER STATE', `USE [master]; GRANT VIEW SERVER STATE TO ${user};`, 'SQL Server Agent status (sys.dm_server_services) and write counts (sys.dm_db_index_usage_stats) for assess.', ['replicate']),
      grant('source', 'enable-cdc', 'sysadmin (once) and db_owner to enable CDC', `-- by a sysadmin: USE ${bracket(db)}; EXEC sys.sp_cdc_enable_db;  then as db_owner: EXEC sys.sp_cdc_enable_table ...`, 'Only needed once, by a DBA, to enable CDC; payctl itself does not need these rights afterwards.', ['replicate']),
      grant('source', 'cdc-select', 'SELECT on the cdc schema', `USE ${bracket(db)}; GRANT SELECT ON SCHEMA::cdc TO ${user};`, 'Reads cdc.fn_cdc_get_all_changes_* and cdc.lsn_time_mapping while streaming changes (or membership in the capture instance\'s gating role).', ['replicate']),
      grant('source', 'rollback-write', 'db_datawriter (rollback only)', `USE ${bracket(db)}; ALTER ROLE db_datawriter ADD MEMBER ${user};`, 'Reverse replication after the write flip writes the target\'s changes back to the source, so that a rollback loses nothing.', ['shift-traffic']),
    )
  } else {
    const mariadb105 = model.server.flavor === 'mariadb' && atLeast(model.server.version, 10, 5, 2)
    const user = "'payctl'@'%'"
    out.push(
      grant('source', 'select', 'SELECT', `GRANT SELECT, SHOW VIEW ON \`${db}\`.* TO ${user};`, 'Reads every table for the full load and for verify.', ['replicate', 'verify']),
      grant('source', 'replication-slave', mariadb105 ? 'REPLICATION SLAVE (REPLICA)' : 'REPLICATION SLAVE', `GRANT REPLICATION SLAVE ON *.* TO ${user};`, 'Streams the binary log.', ['replicate']),
      mariadb105
        ? grant('source', 'binlog-monitor', 'BINLOG MONITOR', `GRANT BINLOG MONITOR ON *.* TO ${user};`, 'Reads the current binlog position (SHOW BINLOG STATUS) on MariaDB 10.5+.', ['replicate'])
        : grant('source', 'replication-client', 'REPLICATION CLIENT', `GRANT REPLICATION CLIENT ON *.* TO ${user};`, 'Reads the current binlog position (SHOW MASTER STATUS / SHOW BINARY LOG STATUS).', ['replicate']),
      grant('source', 'reload-lock', 'RELOAD, LOCK TABLES (optional)', `GRANT RELOAD, LOCK TABLES ON *.* TO ${user};`, 'Optional: only for a consistent snapshot under FLUSH TABLES WITH READ LOCK; payctl\'s chunked copy does not need it.', ['replicate']),
      grant('source', 'performance-schema', 'SELECT on performance_schema (optional)', `GRANT SELECT ON performance_schema.* TO ${user};`, 'Optional: write counts per table for assess (hottest tables).', ['replicate']),
      grant('source', 'rollback-write', 'INSERT, UPDATE, DELETE (rollback only)', `GRANT INSERT, UPDATE, DELETE ON \`${db}\`.* TO ${user};`, 'Reverse replication after the write flip writes the target\'s changes back to the source, so that a rollback loses nothing.', ['shift-traffic']),
    )
  }
  const tdb = target.database
  const user = "'payctl'@'%'"
  out.push(
    grant('target', 'schema', 'CREATE, ALTER, INDEX, REFERENCES', `GRANT CREATE, ALTER, INDEX, REFERENCES ON \`${tdb}\`.* TO ${user};`, 'Creates the converted tables, indexes and foreign keys.', ['provision']),
    grant('target', 'write', 'SELECT, INSERT, UPDATE, DELETE', `GRANT SELECT, INSERT, UPDATE, DELETE ON \`${tdb}\`.* TO ${user};`, 'Writes the full load and applies changes; reads for verify.', ['replicate', 'verify']),
    grant('target', 'control-store', 'all on payctl_control (incl. DROP)', `GRANT CREATE, ALTER, DROP, INDEX, SELECT, INSERT, UPDATE, DELETE ON \`payctl_control\`.* TO ${user};`, 'The control store (state, checkpoints, routing). DROP is needed there only, never on the migrated schema.', ['provision', 'replicate', 'shift-traffic']),
    grant('target', 'temporary-tables', 'CREATE TEMPORARY TABLES', `GRANT CREATE TEMPORARY TABLES ON \`${tdb}\`.* TO ${user};`, 'assess measures the write rate into a temporary table, dropped at once.', ['provision']),
  )
  if (target.flavor !== 'tidb') {
    out.push(grant('target', 'replication', 'REPLICATION SLAVE, REPLICATION CLIENT (rollback only)', `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${user};`, 'Reverse replication reads the target\'s binlog after the write flip (binlog ROW + GTID must be on there too).', ['shift-traffic']))
  } else {
    out.push(grant('target', 'replication', 'TiCDC changefeed (rollback only)', 'tiup cdc cli changefeed create --sink-uri mysql://...', 'TiDB has no MySQL binlog: reverse replication after the write flip needs a TiCDC changefeed.', ['shift-traffic']))
  }
  return out
}
