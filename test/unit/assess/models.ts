/** Small hand-built schema models for the assess rule tests. */
import type {ColumnModel, IndexModel, SchemaModel, ServerInfo, TableModel} from '../../../src/engines/model.js'
import {emptyFeatures, parseVersion} from '../../../src/engines/model.js'
import type {TargetSpec} from '../../../src/migrators/schema/steps.js'

export function sqlServer(overrides: Partial<ServerInfo> = {}): ServerInfo {
  return {
    engine: 'sqlserver',
    flavor: 'sqlserver',
    version: parseVersion('16.0.4115.5'),
    edition: 'Enterprise Edition (64-bit)',
    database: 'Payments',
    host: 'db',
    port: 1433,
    charset: null,
    collation: 'SQL_Latin1_General_CP1_CI_AS',
    lowerCaseTableNames: null,
    changeCapture: {
      kind: 'sqlserver',
      cdcEnabled: true,
      changeTrackingEnabled: false,
      changeTrackingRetention: null,
      changeTrackingAutoCleanup: null,
      recoveryModel: 'FULL',
      agentRunning: true,
      cdcRetentionMinutes: 10_080,
    },
    ...overrides,
  }
}

export function mariadb(overrides: Partial<ServerInfo> = {}): ServerInfo {
  return {
    engine: 'mysql',
    flavor: 'mariadb',
    version: parseVersion('10.11.6-MariaDB'),
    edition: null,
    database: 'payments',
    host: '127.0.0.1',
    port: 3306,
    charset: 'utf8mb4',
    collation: 'utf8mb4_unicode_ci',
    lowerCaseTableNames: 0,
    changeCapture: {
      kind: 'binlog',
      logBin: true,
      binlogFormat: 'ROW',
      binlogRowImage: 'FULL',
      gtidMode: 'ON',
      gtidStrictMode: true,
      enforceGtidConsistency: null,
      serverId: 1,
      retentionSeconds: 0,
    },
    ...overrides,
  }
}

export function col(name: string, columnType: string, o: Partial<ColumnModel> = {}): ColumnModel {
  const dataType = (/^[a-z]+/i.exec(columnType)?.[0] ?? columnType).toLowerCase()
  return {
    name,
    ordinal: 1,
    dataType,
    columnType,
    length: null,
    precision: null,
    scale: null,
    unsigned: false,
    charset: null,
    collation: null,
    nullable: false,
    default: null,
    identity: null,
    generated: null,
    enumValues: null,
    sparse: false,
    serverMaintained: false,
    comment: null,
    ...o,
  }
}

export function pkIndex(columns: string[], kind = 'clustered'): IndexModel {
  return {name: 'PK', columns: columns.map((name) => ({name, descending: false, prefixLength: null})), unique: true, primary: true, kind, included: [], filter: null}
}

export function tbl(name: string, columns: ColumnModel[], o: Partial<TableModel> = {}): TableModel {
  const pk = o.primaryKey === undefined ? {name: `PK_${name}`, columns: [{name: columns[0]?.name ?? 'id', descending: false, prefixLength: null}]} : o.primaryKey
  return {
    schema: 'dbo',
    name,
    columns: columns.map((c, i) => ({...c, ordinal: i + 1})),
    primaryKey: pk,
    uniqueKeys: [],
    indexes: pk === null ? [] : [pkIndex(pk.columns.map((c) => c.name))],
    foreignKeys: [],
    checks: [],
    rowEstimate: 0,
    dataBytes: 0,
    indexBytes: 0,
    collation: null,
    comment: null,
    features: emptyFeatures(),
    ...o,
  }
}

export function model(server: ServerInfo, tables: TableModel[], o: Partial<SchemaModel> = {}): SchemaModel {
  return {server, tables, views: [], routines: [], triggers: [], events: [], sequences: [], introspectedAt: '2026-01-01T00:00:00.000Z', ...o}
}

export function target(flavor: TargetSpec['flavor'], version: string | null = null, o: Partial<TargetSpec> = {}): TargetSpec {
  const collation = {tidb: 'utf8mb4_bin', mysql: 'utf8mb4_0900_ai_ci', 'aurora-mysql': 'utf8mb4_0900_ai_ci', mariadb: 'utf8mb4_unicode_ci'}[flavor]
  return {flavor, version: version === null ? null : parseVersion(version), database: 'payments', charset: 'utf8mb4', collation, ...o}
}
