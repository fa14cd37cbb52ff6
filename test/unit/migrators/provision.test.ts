// Provision planning without servers: which tables are created, skipped, completed or refused, the exact diff lines, the control store, and apply's no-half-apply rule.
import {describe, expect, it} from 'vitest'
import {CheckFailedError, EnvironmentError, ExitCode, PartialError, UsageError} from '../../../src/cli/errors.js'
import {CONTROL_SCHEMA_VERSION, CONTROL_TABLES, controlStoreStatements, versionComment} from '../../../src/control/control-schema.js'
import type {ConnectionOptions, Engine} from '../../../src/engines/engine.js'
import {type ColumnModel, emptyFeatures, type ForeignKeyModel, type IndexModel, type SchemaModel, type ServerInfo, type TableModel} from '../../../src/engines/model.js'
import {applyProvision, planFromConversion, planProvision, provision, type ProvisionInput, type ProvisionPlan, targetSpecFor} from '../../../src/migrators/provision.js'
import {convertSchema} from '../../../src/migrators/schema/convert.js'
import type {ConversionResult, SchemaStep, TargetSpec} from '../../../src/migrators/schema/steps.js'
import {diffTable, normalizeColumnType, normalizeDefault} from '../../../src/migrators/table-diff.js'

const SPEC: TargetSpec = {flavor: 'mariadb', version: {raw: '10.11.6-MariaDB', major: 10, minor: 11, patch: 6}, database: 'payments', charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'}

function col(name: string, columnType: string, over: Partial<ColumnModel> = {}): ColumnModel {
  return {
    name,
    ordinal: 0,
    dataType: columnType.replace(/\(.*$/, '').split(' ')[0] ?? columnType,
    columnType,
    length: null,
    precision: null,
    scale: null,
    unsigned: /unsigned/.test(columnType),
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
    ...over,
  }
}

const k = (...names: string[]) => names.map((name) => ({name, descending: false, prefixLength: null}))

function index(name: string, columns: string[], unique = false): IndexModel {
  return {name, columns: k(...columns), unique, primary: false, kind: 'btree', included: [], filter: null}
}

function fk(name: string, columns: string[], referencedTable: string, referencedColumns: string[]): ForeignKeyModel {
  return {name, columns, referencedSchema: 'payments', referencedTable, referencedColumns, onUpdate: 'RESTRICT', onDelete: 'RESTRICT', enabled: true}
}

function tbl(name: string, columns: ColumnModel[], over: Partial<TableModel> = {}): TableModel {
  const pk = over.primaryKey ?? {name: 'PRIMARY', columns: k('id')}
  return {
    schema: 'payments',
    name,
    columns: columns.map((c, i) => ({...c, ordinal: i + 1})),
    primaryKey: pk,
    uniqueKeys: [],
    indexes: [{name: 'PRIMARY', columns: pk.columns, unique: true, primary: true, kind: 'btree', included: [], filter: null}],
    foreignKeys: [],
    checks: [],
    rowEstimate: 0,
    dataBytes: 0,
    indexBytes: 0,
    collation: 'utf8mb4_unicode_ci',
    comment: null,
    features: {...emptyFeatures(), storageEngine: 'InnoDB'},
    ...over,
  }
}

const customers = tbl('customers', [
  col('id', 'bigint unsigned', {identity: {seed: '1', increment: '1'}}),
  col('email', 'varchar(254)', {nullable: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'}),
  col('created_at', 'datetime(6)', {default: 'CURRENT_TIMESTAMP(6)'}),
])
const customersEmailIndex = index('ix_customers_email', ['email'])
const customersFull: TableModel = {...customers, indexes: [...customers.indexes, customersEmailIndex]}

const intents = tbl('payment_intents', [
  col('id', 'bigint unsigned', {identity: {seed: '1', increment: '1'}}),
  col('customer_id', 'bigint unsigned'),
  col('amount', 'decimal(19,4)'),
  col('note', 'varchar(200)', {nullable: true}),
  col('received', 'decimal(19,4)', {default: '0.0000'}),
])
const intentsCustomerIndex = index('ix_payment_intents_customer', ['customer_id'])
const intentsFk = fk('fk_payment_intents_customer', ['customer_id'], 'customers', ['id'])
const intentsFull: TableModel = {...intents, indexes: [...intents.indexes, intentsCustomerIndex], foreignKeys: [intentsFk]}

/** What schema conversion hands provision: steps in dependency order and the tables they build. */
function conversion(): ConversionResult {
  const steps: SchemaStep[] = [
    {kind: 'create-database', database: 'payments', charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'},
    {kind: 'create-table', table: customers},
    {kind: 'create-table', table: intents},
    {kind: 'create-index', table: 'customers', index: customersEmailIndex},
    {kind: 'create-index', table: 'payment_intents', index: intentsCustomerIndex},
    {kind: 'add-foreign-key', table: 'payment_intents', foreignKey: intentsFk},
  ]
  return {target: SPEC, steps, tables: [customersFull, intentsFull], notes: [], tableNames: []}
}

/** A stand-in renderer: one recognisable line per step, so the tests see which steps were planned. */
function render(steps: SchemaStep[]): string[] {
  return steps.map((s) => {
    switch (s.kind) {
      case 'create-database':
        return `CREATE DATABASE ${s.database}`
      case 'create-table':
        return `CREATE TABLE ${s.table.name}`
      case 'create-index':
        return `CREATE INDEX ${s.index.name} ON ${s.table}`
      case 'add-foreign-key':
        return `ALTER TABLE ${s.table} ADD CONSTRAINT ${s.foreignKey.name}`
    }
  })
}

const SERVER: ServerInfo = {
  engine: 'mysql',
  flavor: 'mariadb',
  version: SPEC.version ?? {raw: '', major: 0, minor: 0, patch: 0},
  edition: null,
  database: 'payments',
  host: '127.0.0.1',
  port: 3306,
  charset: 'utf8mb4',
  collation: 'utf8mb4_unicode_ci',
  lowerCaseTableNames: 0,
  changeCapture: {kind: 'binlog', logBin: true, binlogFormat: 'ROW', binlogRowImage: 'FULL', gtidMode: 'ON', gtidStrictMode: false, enforceGtidConsistency: null, serverId: 1, retentionSeconds: 0},
}

function model(tables: TableModel[], database = 'payments'): SchemaModel {
  return {server: {...SERVER, database}, tables, views: [], routines: [], triggers: [], events: [], sequences: [], introspectedAt: '2024-01-01T00:00:00Z'}
}

/** The control store as introspection shows it once provision created it. */
function controlStore(version = CONTROL_SCHEMA_VERSION, omit: string[] = []): SchemaModel {
  const tables = CONTROL_TABLES.filter((t) => !omit.includes(t.name)).map((t) =>
    tbl(t.name, t.columns.map(([name]) => col(name, 'varchar(10)')), {comment: t.name === 'schema_version' ? versionComment(version) : 'payctl control store'}),
  )
  return model(tables, 'payctl_control')
}

function plan(target: TableModel[], controlExisting: SchemaModel | null = null, over: Partial<ProvisionInput> = {}): ProvisionPlan {
  return planFromConversion(conversion(), {targetModel: model(target), target: SPEC, controlDatabase: 'payctl_control', controlExisting, ...over}, render)
}

const actions = (p: ProvisionPlan, store: 'target' | 'control' = 'target') => Object.fromEntries(p.tables.filter((t) => t.store === store).map((t) => [t.name, t.action]))
const targetSql = (p: ProvisionPlan) => p.statements.filter((s) => !s.sql.includes('payctl_control')).map((s) => s.sql)

describe('planning provision', () => {
  it('creates every table, its indexes and keys, and the whole control store on an empty target', () => {
    const p = plan([])
    expect(actions(p)).toEqual({customers: 'create', payment_intents: 'create'})
    expect(p.conflicts).toBe(0)
    // The control store first (later phases record provision in it), then tables, indexes, foreign keys; the database exists already.
    expect(p.statements.map((s) => s.sql).slice(0, controlStoreStatements('payctl_control').length)).toEqual(controlStoreStatements('payctl_control'))
    expect(targetSql(p)).toEqual([
      'CREATE TABLE customers',
      'CREATE TABLE payment_intents',
      'CREATE INDEX ix_customers_email ON customers',
      'CREATE INDEX ix_payment_intents_customer ON payment_intents',
      'ALTER TABLE payment_intents ADD CONSTRAINT fk_payment_intents_customer',
    ])
    expect(p.statements.map((s) => s.purpose)).toContain('foreign key payment_intents.fk_payment_intents_customer')
    expect(Object.values(actions(p, 'control'))).toEqual(CONTROL_TABLES.map(() => 'create'))
    expect(p.statements.every((s) => s.side === 'target')).toBe(true)
  })

  it('plans nothing when the target already has the converted tables and the control store', () => {
    const p = plan([customersFull, intentsFull], controlStore())
    expect(actions(p)).toEqual({customers: 'same', payment_intents: 'same'})
    expect(Object.values(actions(p, 'control')).every((a) => a === 'same')).toBe(true)
    expect(p.statements).toEqual([])
    expect(p.conflicts).toBe(0)
  })

  it('reports a differing table as a conflict with one line per difference and plans nothing for it', () => {
    const differing = tbl('payment_intents', [
      col('id', 'bigint(20) unsigned', {identity: {seed: '5001', increment: '1'}}),
      col('customer_id', 'bigint unsigned'),
      col('amount', 'decimal(12,2)'),
      col('received', 'decimal(19,4)', {default: '0'}),
      col('legacy_flag', 'tinyint(1)', {nullable: true}),
    ])
    const p = plan([customersFull, {...differing, foreignKeys: [intentsFk]}], controlStore())
    expect(actions(p)).toEqual({customers: 'same', payment_intents: 'conflict'})
    expect(p.conflicts).toBe(1)
    expect(p.tables.find((t) => t.name === 'payment_intents')?.diff).toEqual([
      'column amount: decimal(19,4) expected, decimal(12,2) found',
      'column note: missing on target',
      'column legacy_flag: not expected (extra on target)',
      'index ix_payment_intents_customer: missing on target',
    ])
    expect(p.statements).toEqual([])
  })

  it('completes a table that an interrupted run created without its index and foreign key', () => {
    const p = plan([customersFull, intents], controlStore())
    expect(actions(p)).toEqual({customers: 'same', payment_intents: 'complete'})
    expect(targetSql(p)).toEqual(['CREATE INDEX ix_payment_intents_customer ON payment_intents', 'ALTER TABLE payment_intents ADD CONSTRAINT fk_payment_intents_customer'])
    expect(p.tables.find((t) => t.name === 'payment_intents')?.diff).toEqual([
      'index ix_payment_intents_customer: missing on target; will be added',
      'foreign key fk_payment_intents_customer: missing on target; will be added',
    ])
  })

  it('lists tables the conversion does not know as extra and leaves them alone', () => {
    const p = plan([customersFull, intentsFull, tbl('old_audit', [col('id', 'int')])], controlStore())
    expect(p.tables.find((t) => t.name === 'old_audit')).toEqual({name: 'old_audit', store: 'target', action: 'extra', diff: ['not in the converted schema; left as it is']})
    expect(p.statements).toEqual([])
    expect(p.conflicts).toBe(0)
  })

  it('skips a foreign key whose parent is neither converted nor on the target, with a note', () => {
    const c = conversion()
    const only = {...c, tables: [intentsFull], steps: c.steps.filter((s) => s.kind !== 'create-database' && (s.kind === 'create-table' ? s.table.name : s.table) === 'payment_intents')}
    const p = planFromConversion(only, {targetModel: model([]), target: SPEC, controlDatabase: 'payctl_control', controlExisting: controlStore()}, render)
    expect(targetSql(p)).toEqual(['CREATE TABLE payment_intents', 'CREATE INDEX ix_payment_intents_customer ON payment_intents'])
    expect(p.notes).toEqual([expect.objectContaining({object: 'payment_intents.fk_payment_intents_customer', rule: 'provision.fk-parent-missing'})])
  })

  it('creates only the control tables that are missing, and nothing when the store is at this version', () => {
    expect(plan([customersFull, intentsFull], controlStore()).statements).toEqual([])
    const partial = plan([customersFull, intentsFull], controlStore(CONTROL_SCHEMA_VERSION, ['audit_log', 'routing_state']))
    expect(partial.statements.map((s) => s.purpose)).toEqual(['control store table routing_state', 'control store table audit_log'])
    expect(partial.statements.every((s) => s.sql.startsWith('CREATE TABLE IF NOT EXISTS `payctl_control`.'))).toBe(true)
  })

  it('refuses a control store of a newer version, or a same-named database that is not a control store', () => {
    const newer = plan([customersFull, intentsFull], controlStore(CONTROL_SCHEMA_VERSION + 1))
    expect(newer.tables.find((t) => t.name === 'payctl_control.schema_version')).toMatchObject({action: 'conflict', diff: [`control schema version ${CONTROL_SCHEMA_VERSION + 1} found; this payctl knows version ${CONTROL_SCHEMA_VERSION} (upgrade payctl)`]})
    const foreign = model([tbl('schema_version', [col('version', 'int')])], 'payctl_control')
    const p = plan([customersFull, intentsFull], foreign)
    expect(p.tables.find((t) => t.name === 'payctl_control.schema_version')?.diff).toEqual([
      'not a payctl control store table (its comment states no control schema version)',
      'column applied_at: missing on target',
    ])
    expect(p.conflicts).toBe(1)
  })

  it('puts the control store statements on the source when the control store lives there', () => {
    const p = plan([], null, {controlSide: 'source'})
    expect(p.statements.filter((s) => s.side === 'source').map((s) => s.sql)).toEqual(controlStoreStatements('payctl_control'))
    expect(targetSql(p)).toHaveLength(5)
  })
})

describe('planning with the real conversion and renderer', () => {
  const source = model([customersFull, intentsFull])
  const input = {source, target: SPEC, controlDatabase: 'payctl_control', controlExisting: controlStore()}

  it('renders DDL for every table on an empty target', () => {
    const p = planProvision({...input, targetModel: model([])})
    expect(actions(p)).toEqual({customers: 'create', payment_intents: 'create'})
    expect(p.statements.map((s) => s.purpose)).toEqual(['table customers', 'table payment_intents', 'index customers.ix_customers_email', 'index payment_intents.ix_payment_intents_customer', 'foreign key payment_intents.fk_payment_intents_customer'])
    expect(p.statements[0]?.sql).toMatch(/^CREATE TABLE `payments`.`customers` \(/)
  })

  it('sees its own converted tables as the same (the diff agrees with the conversion)', () => {
    const converted = convertSchema(source, SPEC)
    const p = planProvision({...input, targetModel: model(converted.tables)})
    expect(p.tables.filter((t) => t.action !== 'same')).toEqual([])
    expect(p.statements).toEqual([])
  })

  it('sees a rerun on TiDB as the same although TiDB reports no CHECK constraints; a server that reports them still conflicts', () => {
    const withCheck = {...customersFull, checks: [{name: 'ck_customers_email', expression: "(`email` like '%@%')"}]}
    const tidb: TargetSpec = {...SPEC, flavor: 'tidb', version: {raw: '8.0.11-TiDB-v7.5.1', major: 7, minor: 5, patch: 1}, collation: 'utf8mb4_bin'}
    const converted = convertSchema(model([withCheck]), tidb)
    expect(converted.tables[0]?.checks).toHaveLength(1)
    // introspection on TiDB reads no checks (checkConstraintsQuery returns null there)
    const found = converted.tables.map((t) => ({...t, checks: []}))
    const p = planProvision({source: model([withCheck]), target: tidb, controlDatabase: 'payctl_control', controlExisting: controlStore(), targetModel: model(found)})
    expect(actions(p)).toEqual({customers: 'same'})
    expect(p.statements).toEqual([])
    const onMariadb = convertSchema(model([withCheck]), SPEC)
    const q = planProvision({source: model([withCheck]), target: SPEC, controlDatabase: 'payctl_control', controlExisting: controlStore(), targetModel: model(onMariadb.tables.map((t) => ({...t, checks: []})))})
    expect(actions(q)).toEqual({customers: 'conflict'})
  })

  it('leaves out tables the config excludes, and reports them as extra when they are on the target', () => {
    const p = planProvision({...input, targetModel: model([customersFull]), tables: {include: ['*'], exclude: ['customers']}})
    expect(actions(p)).toEqual({payment_intents: 'create', customers: 'extra'})
  })
})

describe('comparing a converted table with the target', () => {
  it('ignores what introspection cannot read back exactly', () => {
    const found: TableModel = {
      ...intentsFull,
      columns: [
        // display width, the AUTO_INCREMENT next value, a different column order
        col('customer_id', 'BIGINT(20) UNSIGNED'),
        col('id', 'bigint(20) unsigned', {identity: {seed: '90211', increment: '1'}}),
        col('amount', 'numeric(19,4)'),
        col('note', 'varchar(200)', {nullable: true, default: 'NULL'}),
        col('received', 'decimal(19,4)', {default: "'0'"}),
      ],
      // InnoDB's own index for the foreign key, and the rule spelled NO ACTION
      indexes: [...intentsFull.indexes, index('fk_payment_intents_customer', ['customer_id'])],
      foreignKeys: [{...intentsFk, onUpdate: 'NO ACTION', onDelete: 'NO ACTION', referencedSchema: 'elsewhere'}],
      rowEstimate: 1234,
      comment: 'a comment',
    }
    expect(diffTable(intentsFull, found)).toEqual([])
  })

  it('matches checks and generated columns by their expressions as servers rewrite them', () => {
    const expected = tbl('t', [col('id', 'int'), col('a', 'int'), col('b', 'int', {generated: {expression: 'a * 2', stored: true}})], {checks: [{name: 'ck_a', expression: 'a >= 0'}]})
    const found = tbl('t', [col('id', 'int'), col('a', 'int'), col('b', 'int', {generated: {expression: '`a` * 2', stored: true}})], {checks: [{name: 'CONSTRAINT_1', expression: '(`a` >= 0)'}]})
    expect(diffTable(expected, found)).toEqual([])
    const other = tbl('t', [col('id', 'int'), col('a', 'int'), col('b', 'int', {generated: {expression: '`a` * 3', stored: false}})])
    expect(diffTable(expected, other).map((d) => d.text)).toEqual([
      'column b: generated STORED AS (a*2) expected, generated VIRTUAL AS (a*3) found',
      'check ck_a: (a >= 0) missing on target',
    ])
  })

  it('names nullability, default, AUTO_INCREMENT, charset, index and key differences', () => {
    const expected = tbl('t', [col('id', 'int', {identity: {seed: '1', increment: '1'}}), col('code', 'varchar(8)', {charset: 'ascii', collation: 'ascii_bin', default: "'x'"})], {
      uniqueKeys: [{name: 'uq_code', columns: k('code')}],
      indexes: [{name: 'PRIMARY', columns: k('id'), unique: true, primary: true, kind: 'btree', included: [], filter: null}, index('uq_code', ['code'], true)],
    })
    const found = tbl('t', [col('id', 'int'), col('code', 'varchar(8)', {nullable: true, charset: 'utf8mb4', collation: 'utf8mb4_general_ci'})], {
      indexes: [{name: 'PRIMARY', columns: k('id'), unique: true, primary: true, kind: 'btree', included: [], filter: null}, index('uq_code', ['code'])],
    })
    expect(diffTable(expected, found).map((d) => d.text)).toEqual([
      'column id: AUTO_INCREMENT expected, not AUTO_INCREMENT found',
      'column code: NOT NULL expected, NULL found',
      "column code: default 'x' expected, no default found",
      'column code: charset ascii expected, utf8mb4 found',
      'column code: collation ascii_bin expected, utf8mb4_general_ci found',
      'index uq_code: unique (code) expected, (code) found',
    ])
  })

  it('spells types and defaults one way', () => {
    expect(normalizeColumnType('INT(11)')).toBe('int')
    expect(normalizeColumnType('tinyint(1)')).toBe('tinyint')
    expect(normalizeColumnType('DECIMAL')).toBe('decimal(10,0)')
    expect(normalizeColumnType("ENUM('Card','wallet')")).toBe("enum('Card','wallet')")
    expect(normalizeColumnType('datetime(0)')).toBe('datetime')
    expect(normalizeDefault('current_timestamp()', 'datetime')).toBe('CURRENT_TIMESTAMP')
    expect(normalizeDefault('now(6)', 'datetime(6)')).toBe('CURRENT_TIMESTAMP(6)')
    expect(normalizeDefault('1.50', 'decimal(5,2)')).toBe('1.5')
    expect(normalizeDefault("'-0.000'", 'decimal(5,3)')).toBe('0')
    expect(normalizeDefault("'0'", 'varchar(3)')).toBe("'0'")
  })
})

describe('applying provision', () => {
  function fakeEngine(failOn?: string): Engine & {executed: string[]} {
    const executed: string[] = []
    return {
      executed,
      execute(sql: string) {
        if (failOn !== undefined && sql.includes(failOn)) return Promise.reject(new Error('Table storage engine does not support FOREIGN KEY'))
        executed.push(sql)
        return Promise.resolve()
      },
    } as unknown as Engine & {executed: string[]}
  }

  it('refuses a plan with conflicts before executing anything (exit 4, table and diff named)', async () => {
    const differing = {...intentsFull, columns: intentsFull.columns.map((c) => (c.name === 'amount' ? {...c, columnType: 'decimal(12,2)'} : c))}
    const p = plan([customersFull, differing])
    expect(p.statements.length).toBeGreaterThan(0) // the control store would be created, but is not
    const engine = fakeEngine()
    const err = await applyProvision(p, {target: engine, control: engine}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CheckFailedError)
    expect((err as CheckFailedError).exitCode).toBe(ExitCode.checkFailed)
    expect((err as CheckFailedError).code).toBe('PAYCTL_PROVISION_CONFLICT')
    expect((err as CheckFailedError).message).toContain('payment_intents:\n    - column amount: decimal(19,4) expected, decimal(12,2) found')
    expect((err as CheckFailedError).actions.join(' ')).toMatch(/tables\.exclude/)
    expect((err as CheckFailedError).data).toEqual({conflicts: [{table: 'payment_intents', store: 'target', diff: ['column amount: decimal(19,4) expected, decimal(12,2) found']}]})
    expect(engine.executed).toEqual([])
  })

  it('runs the statements in order on the engine of their side and reports each', async () => {
    const p = plan([], null, {controlSide: 'source'})
    const target = fakeEngine()
    const control = fakeEngine()
    const seen: string[] = []
    const {executed} = await applyProvision(p, {target, control}, (e) => seen.push(`${e.index}/${e.total} ${e.statement.purpose}`))
    expect(executed).toBe(p.statements.length)
    expect(control.executed).toEqual(controlStoreStatements('payctl_control'))
    expect(target.executed).toEqual(targetSql(p))
    expect(seen[0]).toBe(`1/${p.statements.length} control store database payctl_control`)
  })

  it('says how far it got when a statement fails, so a rerun completes it (exit 5)', async () => {
    const p = plan([], controlStore())
    const engine = fakeEngine('ADD CONSTRAINT')
    const err = await applyProvision(p, {target: engine, control: engine}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PartialError)
    expect((err as PartialError).message).toBe(
      'Statement 5 of 5 (foreign key payment_intents.fk_payment_intents_customer) failed on the target: Table storage engine does not support FOREIGN KEY. 4 of 5 statements were applied; rerun payctl provision to create the rest (it skips what exists).',
    )
    expect(engine.executed).toHaveLength(4)
  })

  it('keeps an unreachable server an environment error (exit 3)', async () => {
    const p = plan([], controlStore())
    const engine = {execute: () => Promise.reject(new EnvironmentError('PAYCTL_CONNECT_REFUSED', 'Cannot connect to the target: connection refused.'))} as unknown as Engine
    const err = await applyProvision(p, {target: engine, control: engine}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EnvironmentError)
    expect((err as EnvironmentError).message).toMatch(/connection refused\. \(statement 1 of 5: table customers\)\. 0 of 5 statements were applied/)
  })
})

describe('provision', () => {
  // Port 9 (discard) on a reserved address: any attempt to connect would fail differently, and slowly.
  const conn = (engine: 'mysql' | 'sqlserver', label: string): ConnectionOptions => ({
    engine, host: '192.0.2.1', port: 9, user: 'payctl', password: null, database: 'payments', tls: {mode: 'disable'}, connectTimeoutMs: 100, queryTimeoutMs: 100, poolSize: 1, label,
  })

  it('refuses a control store on SQL Server before connecting anywhere (exit 2)', async () => {
    const err = await provision({
      source: conn('sqlserver', 'source'),
      target: conn('mysql', 'target'),
      control: {side: 'source', database: 'payctl_control', connection: conn('sqlserver', 'source')},
      tables: {include: ['*'], exclude: []},
      dryRun: true,
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as UsageError).message).toBe('The control store is on source (sqlserver); payctl provisions it on MySQL-family servers only.')
    expect((err as UsageError).actions).toEqual(['Set controlStore.side to the MySQL-family side (the target, by default).'])
  })
})

describe('the target spec', () => {
  it('follows the live target, and drops its version when another flavor is asked for', () => {
    expect(targetSpecFor(SERVER, 'payments')).toEqual({spec: SPEC, warning: null})
    const tidb = targetSpecFor(SERVER, 'payments', 'tidb')
    expect(tidb.spec).toEqual({flavor: 'tidb', version: null, database: 'payments', charset: 'utf8mb4', collation: 'utf8mb4_bin'})
    expect(tidb.warning).toMatch(/planning for tidb while the target server is mariadb/)
  })
})

describe('the control store schema', () => {
  it('is idempotent DDL and holds no connection details', () => {
    const sql = controlStoreStatements('payctl_control')
    expect(sql[0]).toBe('CREATE DATABASE IF NOT EXISTS `payctl_control` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin')
    expect(sql.filter((s) => s.startsWith('CREATE TABLE IF NOT EXISTS'))).toHaveLength(CONTROL_TABLES.length)
    expect(sql.filter((s) => s.startsWith('INSERT IGNORE INTO `payctl_control`.`schema_version`'))).toHaveLength(1)
    // No column could hold a connection detail: the config is kept as a fingerprint only.
    expect(CONTROL_TABLES.flatMap((t) => t.columns.map(([name]) => name)).filter((n) => /password|secret|dsn|url|connection|user/i.test(n))).toEqual([])
    expect(sql.find((s) => s.includes('`copy_checkpoints`'))).toContain('PRIMARY KEY (`run_id`, `table_name`, `chunk_id`)')
    expect(sql.find((s) => s.includes('`capture_positions`'))).toContain("`direction` ENUM('forward','reverse') NOT NULL")
  })
})
