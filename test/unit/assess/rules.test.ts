import {describe, expect, it} from 'vitest'
import type {RuleContext} from '../../../src/assess/rules/context.js'
import {changeCaptureRule} from '../../../src/assess/rules/change-capture.js'
import {collationRule} from '../../../src/assess/rules/collations.js'
import {foreignKeyRule} from '../../../src/assess/rules/foreign-keys.js'
import {identityRule} from '../../../src/assess/rules/identity.js'
import {keyRule} from '../../../src/assess/rules/keys.js'
import {objectRule} from '../../../src/assess/rules/objects.js'
import {permissionRule} from '../../../src/assess/rules/permissions.js'
import {tableFeatureRule} from '../../../src/assess/rules/table-features.js'
import {typeRule} from '../../../src/assess/rules/types.js'
import type {Finding} from '../../../src/assess/report.js'
import type {ForeignKeyModel} from '../../../src/engines/model.js'
import {emptyFeatures} from '../../../src/engines/model.js'
import {col, mariadb, model, sqlServer, target, tbl} from './models.js'

const brief = (fs: Finding[]): Array<[string, string, string]> => fs.map((f) => [f.rule, f.severity, f.object])

function ctx(m: RuleContext['model'], flavor: RuleContext['target']['flavor'] = 'mysql', version: string | null = '8.0.36', from: 'live' | 'ddl' = 'live'): RuleContext {
  return {model: m, target: target(flavor, version), from}
}

describe('types rule', () => {
  it('one finding per column whose mapping is not plain, with source -> target and the caveat', () => {
    const t = tbl('payments', [col('id', 'bigint'), col('created', 'datetimeoffset(7)', {scale: 7}), col('amount', 'money'), col('doc', 'xml')])
    const fs = typeRule(ctx(model(sqlServer(), [t])))
    expect(brief(fs)).toEqual([
      ['type.mssql.datetimeoffset', 'needs-change', 'dbo.payments.created'],
      ['type.mssql.xml', 'needs-change', 'dbo.payments.doc'],
    ])
    expect(fs[0]?.mapping).toMatch(/^datetimeoffset\(7\) -> /)
    expect(fs[0]?.reason.length).toBeGreaterThan(10)
  })
})

describe('identity rule', () => {
  const t = tbl('payments', [col('id', 'bigint', {identity: {seed: '1', increment: '1'}}), col('n', 'int')])
  it('suggests AUTO_RANDOM for a BIGINT identity primary key on TiDB, saying explicit ids keep working', () => {
    const fs = identityRule(ctx(model(sqlServer(), [t]), 'tidb', '7.5.1'))
    expect(brief(fs)).toEqual([['identity.tidb-auto-random', 'needs-change', 'dbo.payments.id']])
    expect(fs[0]?.reason).toMatch(/Explicit ids keep working/)
  })
  it('is info (AUTO_INCREMENT) on MySQL, and the TiDB cache caveat for a non-BIGINT identity', () => {
    expect(brief(identityRule(ctx(model(sqlServer(), [t]), 'mysql')))).toEqual([['identity.auto-increment', 'info', 'dbo.payments.id']])
    const small = tbl('codes', [col('id', 'int', {identity: {seed: '100', increment: '5'}})])
    expect(brief(identityRule(ctx(model(sqlServer(), [small]), 'tidb')))).toEqual([
      ['identity.increment', 'needs-change', 'dbo.codes.id'],
      ['identity.tidb-auto-increment', 'info', 'dbo.codes.id'],
    ])
  })
  it('says nothing about MySQL AUTO_INCREMENT moving to MySQL', () => {
    const m = model(mariadb(), [{...t, schema: 'payments'}])
    expect(identityRule(ctx(m, 'mariadb', '10.11.6'))).toEqual([])
  })
})

describe('keys rule', () => {
  it('a table without a primary key or usable unique key is a blocker for replicate and verify', () => {
    const heap = tbl('audit', [col('at', 'datetime2(7)'), col('msg', 'nvarchar(200)', {nullable: true})], {primaryKey: null})
    const fs = keyRule(ctx(model(sqlServer(), [heap])))
    expect(brief(fs)).toEqual([['table.no-primary-key', 'blocker', 'dbo.audit']])
    expect(fs[0]?.phases).toEqual(['replicate', 'verify'])
    expect(fs[0]?.title).toMatch(/Heap/)
  })
  it('a UNIQUE index on NOT NULL columns stands in, as needs-change naming it; a nullable or filtered one does not', () => {
    const ok = tbl('keys', [col('k', 'varchar(10)'), col('v', 'int', {nullable: true})], {
      primaryKey: null,
      uniqueKeys: [{name: 'UQ_keys_k', columns: [{name: 'k', descending: false, prefixLength: null}]}],
    })
    const nullable = tbl('maybe', [col('k', 'varchar(10)', {nullable: true})], {
      primaryKey: null,
      uniqueKeys: [{name: 'UQ_maybe_k', columns: [{name: 'k', descending: false, prefixLength: null}]}],
    })
    const fs = keyRule(ctx(model(sqlServer(), [ok, nullable])))
    expect(brief(fs)).toEqual([
      ['table.unique-key-as-primary', 'needs-change', 'dbo.keys'],
      ['table.no-primary-key', 'blocker', 'dbo.maybe'],
    ])
    expect(fs[0]?.title).toContain('payctl will use unique key UQ_keys_k')
  })
  it('a SQL Server heap with a nonclustered primary key is info', () => {
    const t = tbl('events', [col('id', 'uniqueidentifier')])
    t.indexes = [{...t.indexes[0]!, kind: 'nonclustered'}]
    expect(brief(keyRule(ctx(model(sqlServer(), [t]))))).toEqual([['table.heap', 'info', 'dbo.events']])
  })
})

describe('objects rule', () => {
  const m = model(sqlServer(), [], {
    triggers: [{schema: 'dbo', name: 'trg_audit', table: 'payments', timing: 'AFTER', events: ['INSERT'], enabled: true}],
    routines: [{schema: 'dbo', name: 'usp_capture', kind: 'procedure', definition: null}],
    views: [{schema: 'dbo', name: 'v_open', definition: null}],
    sequences: [{schema: 'dbo', name: 'seq_invoice', dataType: 'bigint', start: '1', increment: '1'}],
  })
  it('on TiDB: triggers and procedures move to the application; views need a T-SQL rewrite; sequences are unsupported', () => {
    expect(brief(objectRule(ctx(m, 'tidb', '8.5.0')))).toEqual([
      ['object.trigger.unsupported', 'needs-change', 'dbo.trg_audit'],
      ['object.procedure.unsupported', 'needs-change', 'dbo.usp_capture'],
      ['object.view.rewrite', 'needs-change', 'dbo.v_open'],
      ['object.sequence.unsupported', 'needs-change', 'dbo.seq_invoice'],
    ])
  })
  it('MariaDB 10.3+ has sequences; CLR assemblies come from the not-assessed list with their line', () => {
    const fs = objectRule({...ctx(m, 'mariadb', '10.11.6'), notAssessed: [{line: 42, text: 'CREATE ASSEMBLY [Fraud] FROM 0x4D5A', reason: 'CREATE ASSEMBLY is not read'}]})
    expect(brief(fs).map(([r, s]) => `${r}:${s}`)).toEqual([
      'object.trigger.rewrite:needs-change',
      'object.procedure.rewrite:needs-change',
      'object.view.rewrite:needs-change',
      'object.sequence.mariadb:info',
      'object.clr:needs-change',
    ])
    expect(fs.at(-1)?.line).toBe(42)
  })
})

describe('foreign keys rule', () => {
  const fk = (o: Partial<ForeignKeyModel> = {}): ForeignKeyModel => ({
    name: 'FK_refunds_payments',
    columns: ['payment_id'],
    referencedSchema: 'dbo',
    referencedTable: 'payments',
    referencedColumns: ['id'],
    onUpdate: 'NO ACTION',
    onDelete: 'NO ACTION',
    enabled: true,
    ...o,
  })
  const m = (f: ForeignKeyModel) => model(sqlServer(), [tbl('refunds', [col('id', 'bigint'), col('payment_id', 'bigint')], {foreignKeys: [f]})])
  it.each([
    ['6.5.0', 'fk.tidb-not-enforced'],
    ['7.5.1', 'fk.tidb-experimental'],
    [null, 'fk.tidb-version-unknown'],
  ] as const)('TiDB %s: %s', (version, rule) => {
    expect(brief(foreignKeyRule(ctx(m(fk()), 'tidb', version)))).toEqual([[rule, 'needs-change', 'dbo.refunds.FK_refunds_payments']])
  })
  it('TiDB 8.5 and MySQL 8 enforce them: no finding', () => {
    expect(foreignKeyRule(ctx(m(fk()), 'tidb', '8.5.0'))).toEqual([])
    expect(foreignKeyRule(ctx(m(fk()), 'mysql', '8.0.36'))).toEqual([])
  })
  it('ON DELETE SET DEFAULT needs a change; a disabled key is info', () => {
    expect(brief(foreignKeyRule(ctx(m(fk({onDelete: 'SET DEFAULT', enabled: false})), 'mysql')))).toEqual([
      ['fk.set-default', 'needs-change', 'dbo.refunds.FK_refunds_payments'],
      ['fk.disabled', 'info', 'dbo.refunds.FK_refunds_payments'],
    ])
  })
})

describe('table features rule', () => {
  it('computed, sparse, temporal, memory-optimized, partitioned, filtered, INCLUDE and descending keys', () => {
    const t = tbl('ledger', [
      col('id', 'bigint'),
      col('total', 'decimal(19,4)', {generated: {expression: '[a]+[b]', stored: true}}),
      col('note', 'nvarchar(100)', {sparse: true, nullable: true}),
    ])
    t.features = {...emptyFeatures(), temporal: {historySchema: 'dbo', historyTable: 'ledger_history'}, memoryOptimized: true, partitioned: true}
    t.indexes.push({name: 'IX_open', columns: [{name: 'id', descending: true, prefixLength: null}], unique: false, primary: false, kind: 'nonclustered', included: ['note'], filter: '([total]>(0))'})
    expect(brief(tableFeatureRule(ctx(model(sqlServer(), [t]), 'tidb', '8.5.0')))).toEqual([
      ['column.computed', 'needs-change', 'dbo.ledger.total'],
      ['column.sparse', 'info', 'dbo.ledger.note'],
      ['table.temporal', 'needs-change', 'dbo.ledger'],
      ['table.memory-optimized', 'info', 'dbo.ledger'],
      ['table.partitioned', 'info', 'dbo.ledger'],
      ['index.filtered', 'needs-change', 'dbo.ledger.IX_open'],
      ['index.include', 'info', 'dbo.ledger.IX_open'],
      ['index.descending', 'info', 'dbo.ledger.IX_open'],
    ])
  })
  it('descending keys are kept on MySQL 8: no finding', () => {
    const t = tbl('x', [col('id', 'int')])
    t.indexes.push({name: 'IX_d', columns: [{name: 'id', descending: true, prefixLength: null}], unique: false, primary: false, kind: 'btree', included: [], filter: null})
    expect(tableFeatureRule(ctx(model(sqlServer(), [t]), 'mysql', '8.0.36'))).toEqual([])
  })
})

describe('collations rule', () => {
  it('reports the database default once, columns only where they differ, and mixed collations per table', () => {
    const t = tbl('customers', [
      col('id', 'int'),
      col('email', 'nvarchar(254)', {collation: 'SQL_Latin1_General_CP1_CI_AS'}),
      col('public_id', 'varchar(32)', {collation: 'Latin1_General_CS_AS'}),
    ])
    const fs = collationRule(ctx(model(sqlServer(), [t]), 'tidb', '8.5.0'))
    const rules = brief(fs)
    expect(rules).toContainEqual(['collation.mssql.collation-ci-as', 'needs-change', 'Payments'])
    expect(rules).toContainEqual(['collation.mixed', 'info', 'dbo.customers'])
    expect(rules.filter(([, , o]) => o === 'dbo.customers.email')).toEqual([])
    expect(fs.find((f) => f.object === 'dbo.customers.public_id')?.mapping).toBe('Latin1_General_CS_AS -> utf8mb4_bin')
  })
  it('columns differing only in case cannot exist on any MySQL-family target', () => {
    const t = tbl('odd', [col('Id', 'int'), col('ID', 'int')])
    const fs = collationRule(ctx(model(sqlServer({collation: 'Latin1_General_CS_AS'}), [t]), 'mysql'))
    expect(brief(fs)).toContainEqual(['identifiers.column-case-collision', 'blocker', 'dbo.odd'])
  })
  it('tables differing only in case are a blocker on TiDB (case-insensitive names)', () => {
    const fs = collationRule(ctx(model(sqlServer({collation: 'Latin1_General_BIN2'}), [tbl('Orders', [col('id', 'int')]), tbl('orders', [col('id', 'int')])]), 'tidb'))
    expect(brief(fs)).toContainEqual(['identifiers.table-case-collision', 'blocker', 'dbo.Orders, dbo.orders'])
  })
  it('a case-insensitive source on a target with lower_case_table_names = 0 is info', () => {
    const fs = collationRule({...ctx(model(sqlServer(), []), 'mysql'), targetServer: mariadb({lowerCaseTableNames: 0})})
    expect(brief(fs)).toContainEqual(['identifiers.case-sensitivity', 'info', 'Payments'])
  })
})

describe('change-capture rule', () => {
  it('SQL Server with CDC off, Agent stopped, SIMPLE recovery, Express: each with its fix', () => {
    const server = sqlServer({
      edition: 'Express Edition (64-bit)',
      changeCapture: {kind: 'sqlserver', cdcEnabled: false, changeTrackingEnabled: false, changeTrackingRetention: null, changeTrackingAutoCleanup: null, recoveryModel: 'SIMPLE', agentRunning: false, cdcRetentionMinutes: null},
    })
    const fs = changeCaptureRule(ctx(model(server, [tbl('payments', [col('id', 'bigint')])])))
    expect(brief(fs)).toEqual([
      ['cdc.sqlserver.edition', 'blocker', 'server'],
      ['cdc.sqlserver.database-cdc', 'needs-change', 'server'],
      ['cdc.sqlserver.table-not-tracked', 'needs-change', 'dbo.payments'],
      ['cdc.sqlserver.agent', 'blocker', 'server'],
      ['cdc.sqlserver.recovery-model', 'needs-change', 'server'],
      ['cdc.sqlserver.change-tracking', 'info', 'server'],
    ])
    expect(fs[1]?.mapping).toContain('EXEC sys.sp_cdc_enable_db')
    expect(fs[2]?.mapping).toContain("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'payments'")
  })
  it('CDC retention at the 3-day default is shorter than the 7-day window; an unknown Agent needs checking', () => {
    const server = sqlServer({changeCapture: {...(sqlServer().changeCapture as Extract<ReturnType<typeof sqlServer>['changeCapture'], {kind: 'sqlserver'}>), cdcRetentionMinutes: 4320, agentRunning: null}})
    const t = tbl('payments', [col('id', 'bigint')])
    t.features = {...emptyFeatures(), cdcCaptureInstances: ['dbo_payments']}
    expect(brief(changeCaptureRule(ctx(model(server, [t]))))).toEqual([
      ['cdc.sqlserver.agent', 'needs-change', 'server'],
      ['cdc.sqlserver.retention', 'needs-change', 'server'],
    ])
  })
  it('MySQL with STATEMENT binlog, MINIMAL image, GTID off, 1-day retention, server_id 0: every one a blocker with the fix', () => {
    const server = mariadb({
      flavor: 'mysql',
      version: {raw: '8.0.36', major: 8, minor: 0, patch: 36},
      changeCapture: {kind: 'binlog', logBin: true, binlogFormat: 'STATEMENT', binlogRowImage: 'MINIMAL', gtidMode: 'OFF', gtidStrictMode: null, enforceGtidConsistency: 'OFF', serverId: 0, retentionSeconds: 86_400},
    })
    const fs = changeCaptureRule(ctx(model(server, [])))
    expect(brief(fs)).toEqual([
      ['cdc.binlog.format', 'blocker', 'server'],
      ['cdc.binlog.row-image', 'blocker', 'server'],
      ['cdc.binlog.gtid', 'blocker', 'server'],
      ['cdc.binlog.retention', 'blocker', 'server'],
      ['cdc.binlog.server-id', 'blocker', 'server'],
    ])
    expect(fs[0]?.mapping).toContain("SET GLOBAL binlog_format = 'ROW'")
    expect(fs[3]?.mapping).toContain('binlog_expire_logs_seconds = 604800')
  })
  it('a healthy MariaDB source has no change-capture finding', () => {
    expect(changeCaptureRule(ctx(model(mariadb(), [])))).toEqual([])
  })
  it('from a script every setting is info: not known offline', () => {
    const fs = changeCaptureRule(ctx(model(sqlServer(), []), 'mysql', null, 'ddl'))
    expect(fs.map((f) => f.severity)).toEqual(['info', 'info', 'info', 'info', 'info'])
    expect(fs.every((f) => f.reason.includes('run payctl assess against the live source'))).toBe(true)
  })
})

describe('permissions rule', () => {
  it('lists the SQL Server grants per phase as info permission findings', () => {
    const fs = permissionRule(ctx(model(sqlServer(), []), 'mysql'))
    expect(fs.every((f) => f.severity === 'info' && f.objectType === 'permission')).toBe(true)
    const rules = fs.map((f) => f.rule)
    expect(rules).toEqual(expect.arrayContaining(['permission.source.db-datareader', 'permission.source.view-database-state', 'permission.source.view-server-state', 'permission.source.enable-cdc', 'permission.source.cdc-select', 'permission.target.schema', 'permission.target.write']))
    expect(fs.find((f) => f.rule === 'permission.source.cdc-select')?.mapping).toContain('GRANT SELECT ON SCHEMA::cdc')
  })
  it('MariaDB 10.5+ needs BINLOG MONITOR instead of REPLICATION CLIENT', () => {
    const rules = permissionRule(ctx(model(mariadb(), []), 'tidb')).map((f) => f.rule)
    expect(rules).toContain('permission.source.binlog-monitor')
    expect(rules).not.toContain('permission.source.replication-client')
  })
})
