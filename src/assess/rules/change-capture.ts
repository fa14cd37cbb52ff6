/**
 * What change capture (replicate) needs from the source, each missing piece with the exact
 * statement or config line that fixes it. SQL Server: CDC (database and each table), the Agent
 * that runs the capture job, recovery model, cleanup retention, edition; Change Tracking as the
 * fallback. MySQL family: binlog on, ROW format, FULL row image, GTIDs, retention, server_id.
 * A DDL script shows none of this, so offline each setting is reported as not known.
 */
import type {BinlogSettings, SqlServerCaptureSettings} from '../../engines/model.js'
import type {Finding} from '../report.js'
import {atLeast, bracket, DEFAULT_MIGRATION_WINDOW_SECONDS, nLiteral, type RuleContext, tableName} from './context.js'
import {fallbackUniqueKey} from './keys.js'

const OFFLINE = 'Not known offline; run payctl assess against the live source.'

function offline(rule: string, title: string): Finding {
  return {rule, severity: 'info', objectType: 'server', object: 'server', title, mapping: null, reason: OFFLINE, phases: ['replicate']}
}

function server(rule: string, severity: Finding['severity'], title: string, mapping: string | null, reason: string): Finding {
  return {rule, severity, objectType: 'server', object: 'server', title, mapping, reason, phases: ['replicate']}
}

export function changeCaptureRule(ctx: RuleContext): Finding[] {
  const engine = ctx.model.server.engine
  if (ctx.from === 'ddl') {
    return engine === 'sqlserver'
      ? [
          offline('cdc.sqlserver.edition', 'SQL Server edition (CDC needs Enterprise, Developer, or Standard 2016 SP1+)'),
          offline('cdc.sqlserver.database-cdc', 'CDC enabled on the database'),
          offline('cdc.sqlserver.agent', 'SQL Server Agent running'),
          offline('cdc.sqlserver.recovery-model', 'Recovery model'),
          offline('cdc.sqlserver.retention', 'CDC cleanup retention'),
        ]
      : [
          offline('cdc.binlog.log-bin', 'Binary log enabled (log_bin)'),
          offline('cdc.binlog.format', 'binlog_format = ROW'),
          offline('cdc.binlog.row-image', 'binlog_row_image = FULL'),
          offline('cdc.binlog.gtid', 'GTIDs'),
          offline('cdc.binlog.retention', 'Binlog retention'),
          offline('cdc.binlog.server-id', 'server_id'),
        ]
  }
  const cc = ctx.model.server.changeCapture
  const window = ctx.migrationWindowSeconds ?? DEFAULT_MIGRATION_WINDOW_SECONDS
  return cc.kind === 'sqlserver' ? sqlServerFindings(ctx, cc, window) : binlogFindings(ctx, cc, window)
}

function editionFinding(ctx: RuleContext): Finding | null {
  const edition = ctx.model.server.edition ?? ''
  const v = ctx.model.server.version
  if (/express/i.test(edition)) {
    return server('cdc.sqlserver.edition', 'blocker', `${edition}: no CDC and no SQL Server Agent`, 'Express -> Standard/Enterprise, or a snapshot-only migration with downtime', 'Express has neither CDC nor the Agent that runs capture jobs, so changes cannot be streamed. Upgrade the edition (Standard 2016 SP1+) or plan an offline copy.')
  }
  if (/standard/i.test(edition) && !atLeast(v, 13, 0, 4001)) {
    return server('cdc.sqlserver.edition', 'blocker', `${edition} ${v.raw}: CDC needs Standard 2016 SP1 or later`, 'apply SQL Server 2016 SP1+ (13.0.4001)', 'Standard Edition gained CDC in SQL Server 2016 SP1. Patch or upgrade the source before replicating.')
  }
  if (/enterprise|developer|standard/i.test(edition)) return null
  if (/azure/i.test(edition)) {
    return server('cdc.sqlserver.edition', 'info', `${edition}: CDC runs on its own scheduler`, null, 'Azure SQL Database supports CDC on S3 and above (vCore: any) without SQL Server Agent; the Agent check does not apply.')
  }
  return server('cdc.sqlserver.edition', 'needs-change', `Edition "${edition || 'unknown'}": check CDC support`, null, 'CDC needs Enterprise, Developer, or Standard 2016 SP1+. Confirm the edition supports it.')
}

function sqlServerFindings(ctx: RuleContext, cc: SqlServerCaptureSettings, window: number): Finding[] {
  const out: Finding[] = []
  const edition = editionFinding(ctx)
  if (edition !== null) out.push(edition)
  const db = ctx.model.server.database
  if (!cc.cdcEnabled) {
    out.push(
      server(
        'cdc.sqlserver.database-cdc',
        'needs-change',
        cc.changeTrackingEnabled ? 'CDC is off (Change Tracking is on: payctl would fall back to it)' : 'CDC is off for the database',
        `USE ${bracket(db)}; EXEC sys.sp_cdc_enable_db;`,
        'payctl streams changes from SQL Server CDC. Enabling it needs sysadmin and creates the cdc schema and the capture/cleanup Agent jobs. Change Tracking works as a fallback but gives only the latest version of each changed row, not every change.',
      ),
    )
  }
  for (const t of ctx.model.tables) {
    if (t.features.cdcCaptureInstances.length > 0) continue
    if (!cc.cdcEnabled && cc.changeTrackingEnabled && t.features.changeTracking) continue
    const uk = t.primaryKey === null ? fallbackUniqueKey(t) : null
    out.push({
      rule: 'cdc.sqlserver.table-not-tracked',
      severity: 'needs-change',
      objectType: 'table',
      object: tableName(t),
      title: 'Table is not tracked by CDC',
      mapping: `EXEC sys.sp_cdc_enable_table @source_schema = ${nLiteral(t.schema)}, @source_name = ${nLiteral(t.name)}, @role_name = NULL${uk === null ? '' : `, @index_name = ${nLiteral(uk.name)}`}, @supports_net_changes = 0;`,
      reason: 'Without a capture instance its changes are not in cdc.* and replicate cannot stream them. Needs db_owner; the capture job picks changes up from the moment it is enabled, so enable it before the full load starts.',
      phases: ['replicate'],
    })
  }
  if (cc.agentRunning === false) {
    out.push(server('cdc.sqlserver.agent', 'blocker', 'SQL Server Agent is stopped', 'start the SQL Server Agent service (and set it to start automatically)', 'The Agent runs the CDC capture job: while it is stopped no change reaches the change tables and replication lag grows without bound.'))
  } else if (cc.agentRunning === null && !/azure/i.test(ctx.model.server.edition ?? '')) {
    out.push(server('cdc.sqlserver.agent', 'needs-change', 'SQL Server Agent status unknown', 'GRANT VIEW SERVER STATE TO the payctl login, or check the service by hand', 'The Agent runs the CDC capture job; payctl could not read sys.dm_server_services (needs VIEW SERVER STATE).'))
  }
  const model = cc.recoveryModel.toUpperCase()
  if (model === 'SIMPLE') {
    out.push(server('cdc.sqlserver.recovery-model', 'needs-change', 'Recovery model SIMPLE', `ALTER DATABASE ${bracket(db)} SET RECOVERY FULL; -- then take a full backup`, 'CDC works in SIMPLE, but the log cannot be truncated until the capture job has read it, so a stalled capture fills the log; and point-in-time recovery during the migration is lost. FULL (with log backups) is the safe setting.'))
  } else if (model === 'BULK_LOGGED') {
    out.push(server('cdc.sqlserver.recovery-model', 'info', 'Recovery model BULK_LOGGED', null, 'Bulk operations are minimally logged; CDC still captures their rows. FULL is preferred during the migration.'))
  }
  if (cc.cdcEnabled) {
    const windowMinutes = Math.ceil(window / 60)
    if (cc.cdcRetentionMinutes === null) {
      out.push(server('cdc.sqlserver.retention', 'needs-change', 'CDC retention unknown', `EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = ${windowMinutes};`, `Could not read msdb.dbo.cdc_jobs. Retention must cover the migration window (${windowMinutes} minutes), or a paused replication cannot resume.`))
    } else if (cc.cdcRetentionMinutes < windowMinutes) {
      out.push(server('cdc.sqlserver.retention', 'needs-change', `CDC retention ${cc.cdcRetentionMinutes} minutes is shorter than the migration window`, `EXEC sys.sp_cdc_change_job @job_type = N'cleanup', @retention = ${windowMinutes};`, `The cleanup job deletes changes older than ${cc.cdcRetentionMinutes} minutes (default 4320 = 3 days). A replication paused or failed for longer cannot resume and needs a full reload.`))
    }
  }
  if (!cc.cdcEnabled) {
    out.push(
      server(
        'cdc.sqlserver.change-tracking',
        'info',
        cc.changeTrackingEnabled ? `Change Tracking is on (retention ${cc.changeTrackingRetention ?? 'unknown'})` : 'Change Tracking is the fallback when CDC cannot be enabled',
        cc.changeTrackingEnabled ? null : `ALTER DATABASE ${bracket(db)} SET CHANGE_TRACKING = ON (CHANGE_RETENTION = 7 DAYS, AUTO_CLEANUP = ON);`,
        'Change Tracking needs no Agent and works on every edition, but records only which keys changed: payctl re-reads the current row, so intermediate versions are not replicated.',
      ),
    )
  }
  return out
}

function binlogFindings(ctx: RuleContext, b: BinlogSettings, window: number): Finding[] {
  const flavor = ctx.model.server.flavor
  const out: Finding[] = []
  const managed = flavor === 'aurora-mysql'
  const mariadb = flavor === 'mariadb'
  const fix = (variable: string, value: string): string =>
    managed ? `set ${variable} = ${value} in the DB cluster parameter group (reboot the writer)` : `[mysqld] ${variable} = ${value}   # in my.cnf; restart`
  if (flavor === 'tidb') {
    out.push(server('cdc.binlog.log-bin', 'blocker', 'TiDB as a source has no MySQL binlog', 'TiCDC -> a MySQL-protocol sink', 'payctl reads changes from a MySQL binlog; TiDB exposes changes through TiCDC instead. Not supported as a source yet.'))
    return out
  }
  if (!b.logBin) {
    out.push(server('cdc.binlog.log-bin', 'blocker', 'Binary log is off', managed ? 'enable automated backups and set binlog_format = ROW in the DB cluster parameter group' : `[mysqld] log_bin = ${mariadb ? 'mariadb-bin' : 'mysql-bin'}   # in my.cnf; restart`, 'Change capture reads the binary log; without it no change can be streamed.'))
  }
  if ((b.binlogFormat ?? '').toUpperCase() !== 'ROW') {
    out.push(server('cdc.binlog.format', 'blocker', `binlog_format is ${b.binlogFormat ?? 'unknown'}`, `SET GLOBAL binlog_format = 'ROW';  ${fix('binlog_format', 'ROW')}`, 'Only ROW events carry the changed rows; STATEMENT and MIXED events cannot be applied on another server reliably.'))
  }
  if ((b.binlogRowImage ?? 'FULL').toUpperCase() !== 'FULL') {
    out.push(server('cdc.binlog.row-image', 'blocker', `binlog_row_image is ${b.binlogRowImage ?? 'unknown'}`, `SET GLOBAL binlog_row_image = 'FULL';  ${fix('binlog_row_image', 'FULL')}`, 'MINIMAL and NOBLOB images omit columns: updates could not be applied or checked against the before-image.'))
  }
  if (!mariadb && ((b.gtidMode ?? '').toUpperCase() !== 'ON' || (b.enforceGtidConsistency ?? '').toUpperCase() !== 'ON')) {
    out.push(server('cdc.binlog.gtid', 'blocker', `gtid_mode is ${b.gtidMode ?? 'unknown'}, enforce_gtid_consistency is ${b.enforceGtidConsistency ?? 'unknown'}`, managed ? 'set gtid-mode = ON and enforce_gtid_consistency = ON in the DB cluster parameter group' : "SET GLOBAL enforce_gtid_consistency = ON; SET GLOBAL gtid_mode = OFF_PERMISSIVE; SET GLOBAL gtid_mode = ON_PERMISSIVE; SET GLOBAL gtid_mode = ON;  -- and in my.cnf: gtid_mode = ON, enforce_gtid_consistency = ON", 'payctl records GTID positions so that replication resumes at the right event after a restart or a failover of the source.'))
  }
  const seconds = b.retentionSeconds
  const days = Math.ceil(window / 86_400)
  const retentionFix = managed
    ? `CALL mysql.rds_set_configuration('binlog retention hours', ${Math.ceil(window / 3600)});`
    : mariadb || !atLeast(ctx.model.server.version, 8)
      ? `SET GLOBAL expire_logs_days = ${days};  [mysqld] expire_logs_days = ${days}`
      : `SET PERSIST binlog_expire_logs_seconds = ${window};`
  if (seconds === null) {
    out.push(server('cdc.binlog.retention', 'needs-change', 'Binlog retention unknown', retentionFix, `Binlogs must be kept for the whole migration window (${days} days) so a paused replication can resume.`))
  } else if (seconds !== 0 && seconds < window) {
    out.push(server('cdc.binlog.retention', 'blocker', `Binlogs are kept ${Math.round(seconds / 3600)} hours, less than the migration window (${days} days)`, retentionFix, 'A replication paused for longer than the retention finds its position purged and needs a full reload.'))
  }
  if (b.serverId === null || b.serverId === 0) {
    out.push(server('cdc.binlog.server-id', 'blocker', 'server_id is not set', `[mysqld] server_id = 1   # any value unique among the servers; in my.cnf${managed ? ' (set by RDS)' : ''}`, 'A server with server_id 0 refuses binlog clients. payctl connects as a replica with its own server_id, which must differ from every server in the topology.'))
  }
  return out
}
