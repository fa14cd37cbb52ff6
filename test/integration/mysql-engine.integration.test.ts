// MysqlEngine against the sandbox's real MariaDB servers: a scratch schema with every type family and key kind, the legacy payments schema, binlog settings and connection failures.
import {randomBytes} from 'node:crypto'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {PayctlError} from '../../src/cli/errors.js'
import {Secret} from '../../src/cli/redact.js'
import type {ConnectionOptions} from '../../src/engines/engine.js'
import type {ColumnModel, SchemaModel, TableModel} from '../../src/engines/model.js'
import {MysqlEngine} from '../../src/engines/mysql/mysql-engine.js'
import {replicaTable} from '../../src/engines/replication.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import {LEGACY_TABLES} from '../../src/sandbox/index.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')
const scratch = `payctl_it_mysql_${randomBytes(4).toString('hex')}`


function options(server: SandboxEndpoint, over: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    engine: 'mysql',
    host: server.host,
    port: server.port,
    user: server.user,
    password: new Secret(server.password, 'env:PAYCTL_IT_PASSWORD'),
    database: server.database,
    tls: {mode: 'disable'},
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    poolSize: 2,
    label: 'target',
    ...over,
  }
}

// Every type family and key kind the introspector distinguishes; MariaDB spells JSON as LONGTEXT + json_valid.
const SCRATCH_DDL = [
  `CREATE TABLE merchants (
    tenant_id INT UNSIGNED NOT NULL,
    id BIGINT UNSIGNED NOT NULL,
    code VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE KEY uq_merchants_code (code)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='merchant accounts'`,
  `CREATE TABLE charges (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    tenant_id INT UNSIGNED NOT NULL,
    merchant_id BIGINT UNSIGNED NULL,
    amount DECIMAL(19,4) NOT NULL DEFAULT 0.0000,
    status ENUM('pending','it''s done','failed') NOT NULL DEFAULT 'pending',
    note VARCHAR(200) NULL DEFAULT 'it''s',
    memo TEXT NULL,
    payload JSON NULL,
    fingerprint VARBINARY(32) NOT NULL,
    attempts TINYINT NOT NULL DEFAULT 0,
    ratio DOUBLE NULL,
    due DATE NULL DEFAULT '2020-01-01',
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    amount_x2 DECIMAL(20,4) AS (amount * 2) STORED,
    amount_plus DECIMAL(20,4) AS (amount + 1) VIRTUAL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_charges_fingerprint (fingerprint),
    KEY ix_charges_created (created_at DESC, id),
    KEY ix_charges_note (note(10)),
    KEY fk_charges_merchant (tenant_id, merchant_id),
    CONSTRAINT fk_charges_merchant FOREIGN KEY (tenant_id, merchant_id) REFERENCES merchants (tenant_id, id) ON DELETE CASCADE ON UPDATE RESTRICT,
    CONSTRAINT ck_charges_amount CHECK (amount >= 0)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci AUTO_INCREMENT=1000`,
  'CREATE VIEW v_charges AS SELECT id, amount FROM charges',
  'CREATE PROCEDURE sp_noop() NO SQL SELECT 1',
  'CREATE FUNCTION fn_fee(a DECIMAL(19,4)) RETURNS DECIMAL(19,4) DETERMINISTIC NO SQL RETURN a * 0.029',
  "CREATE TRIGGER trg_charges_bi BEFORE INSERT ON charges FOR EACH ROW SET NEW.memo = COALESCE(NEW.memo, 'new')",
  'CREATE EVENT ev_noop ON SCHEDULE EVERY 1 DAY DISABLE DO SELECT 1',
]

let admin: mysql.Connection
let engine: MysqlEngine
let model: SchemaModel

function table(name: string): TableModel {
  const t = model.tables.find((x) => x.name === name)
  if (t === undefined) throw new Error(`table ${name} not introspected`)
  return t
}

function column(t: TableModel, name: string): ColumnModel {
  const c = t.columns.find((x) => x.name === name)
  if (c === undefined) throw new Error(`column ${name} not introspected`)
  return c
}

beforeAll(async () => {
  const t = sandbox.target
  admin = await mysql.createConnection({host: t.host, port: t.port, user: t.user, password: t.password, database: t.database})
  await admin.query(`CREATE DATABASE \`${scratch}\` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.query(`USE \`${scratch}\``)
  for (const ddl of SCRATCH_DDL) await admin.query(ddl)
  await admin.query('INSERT INTO merchants VALUES (1, 1, ?), (1, 2, ?)', ['m_one', 'm_two'])
  const rows = Array.from({length: 300}, (_, i) => [1, (i % 2) + 1, `${i}.1234`, '{"k":1}', randomBytes(32)])
  await admin.query('INSERT INTO charges (tenant_id, merchant_id, amount, payload, fingerprint) VALUES ?', [rows])
  await admin.query('ANALYZE TABLE merchants, charges')
  engine = new MysqlEngine(options(sandbox.target, {database: scratch}))
  await engine.connect()
  model = await engine.introspect()
})

afterAll(async () => {
  await engine?.close()
  if (admin !== undefined) {
    await admin.query(`DROP DATABASE IF EXISTS \`${scratch}\``)
    await admin.end()
  }
})

describe('a scratch schema on the target', () => {
  it('never gives a hash the server warned about as comparable', async () => {
    const t = table('charges')
    const replica = replicaTable(t)
    const verify = engine.replication.verify
    if (replica === null || verify?.hashRange === undefined) throw new Error('no pushdown hash')
    const columns = replica.columns.map((n) => column(t, n))
    const all = {after: null, through: null}
    const clean = await verify.hashRange(replica, columns, all, null)
    expect(clean.cut).toBeUndefined()
    expect(clean.count).toBe(300)
    // memo holds 'new' (the trigger's), not JSON: read as JSON, each row warns and its value drops
    // out; 10 rows, 10 warnings (a cut is not what the server says here)
    const [tenth] = (await admin.query<mysql.RowDataPacket[]>('SELECT id FROM charges ORDER BY id LIMIT 1 OFFSET 9'))[0]
    const asJson = columns.map((c) => (c.name === 'memo' ? {...c, dataType: 'json'} : c))
    const warned = await verify.hashRange(replica, asJson, {after: null, through: [String(tenth?.id)]}, null)
    expect(warned.count).toBe(10)
    expect(warned.cut).toEqual({rowsWhole: null})
  })

  it('identifies the server', () => {
    expect(model.server).toMatchObject({engine: 'mysql', flavor: 'mariadb', database: scratch, host: sandbox.target.host, port: sandbox.target.port})
    expect(model.server.version.major).toBeGreaterThanOrEqual(10)
  })

  it('reads every column with its exact type, default and generation', () => {
    const t = table('charges')
    const brief = t.columns.map((c) => [c.name, c.dataType, c.columnType, c.nullable, c.default])
    expect(brief).toEqual([
      ['id', 'bigint', 'bigint(20) unsigned', false, null],
      ['tenant_id', 'int', 'int(10) unsigned', false, null],
      ['merchant_id', 'bigint', 'bigint(20) unsigned', true, null],
      ['amount', 'decimal', 'decimal(19,4)', false, '0.0000'],
      ['status', 'enum', "enum('pending','it''s done','failed')", false, "'pending'"],
      ['note', 'varchar', 'varchar(200)', true, "'it''s'"],
      ['memo', 'text', 'text', true, null],
      ['payload', 'json', 'json', true, null],
      ['fingerprint', 'varbinary', 'varbinary(32)', false, null],
      ['attempts', 'tinyint', 'tinyint(4)', false, '0'],
      ['ratio', 'double', 'double', true, null],
      ['due', 'date', 'date', true, "'2020-01-01'"],
      ['created_at', 'datetime', 'datetime(6)', false, 'CURRENT_TIMESTAMP(6)'],
      ['updated_at', 'timestamp', 'timestamp(3)', false, 'CURRENT_TIMESTAMP(3)'],
      ['amount_x2', 'decimal', 'decimal(20,4)', true, null],
      ['amount_plus', 'decimal', 'decimal(20,4)', true, null],
    ])
    expect(column(t, 'id')).toMatchObject({unsigned: true, identity: {seed: expect.stringMatching(/^\d+$/) as unknown, increment: '1'}})
    expect(Number(column(t, 'id').identity?.seed)).toBeGreaterThanOrEqual(1300)
    expect(column(t, 'amount')).toMatchObject({precision: 19, scale: 4, unsigned: false})
    expect(column(t, 'status').enumValues).toEqual(['pending', "it's done", 'failed'])
    expect(column(t, 'note')).toMatchObject({length: 200, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'})
    expect(column(t, 'payload')).toMatchObject({length: null, charset: null, collation: null})
    expect(column(t, 'fingerprint')).toMatchObject({length: 32, charset: null})
    expect(column(t, 'created_at')).toMatchObject({scale: 6, serverMaintained: false})
    expect(column(t, 'updated_at')).toMatchObject({scale: 3, serverMaintained: true})
    expect(column(t, 'amount_x2').generated).toEqual({expression: '`amount` * 2', stored: true})
    expect(column(t, 'amount_plus').generated).toEqual({expression: '`amount` + 1', stored: false})
  })

  it('reads keys, indexes, foreign keys and checks', () => {
    const t = table('charges')
    expect(t.primaryKey).toEqual({name: 'PRIMARY', columns: [{name: 'id', descending: false, prefixLength: null}]})
    expect(t.uniqueKeys).toEqual([{name: 'uq_charges_fingerprint', columns: [{name: 'fingerprint', descending: false, prefixLength: null}]}])
    const byName = Object.fromEntries(t.indexes.map((i) => [i.name, i]))
    expect(Object.keys(byName)).toEqual(['PRIMARY', 'fk_charges_merchant', 'ix_charges_created', 'ix_charges_note', 'uq_charges_fingerprint'])
    expect(byName.ix_charges_created?.columns).toEqual([
      {name: 'created_at', descending: true, prefixLength: null},
      {name: 'id', descending: false, prefixLength: null},
    ])
    expect(byName.ix_charges_note?.columns).toEqual([{name: 'note', descending: false, prefixLength: 10}])
    expect(byName.uq_charges_fingerprint).toMatchObject({unique: true, primary: false, kind: 'btree'})
    expect(t.foreignKeys).toEqual([
      {
        name: 'fk_charges_merchant',
        columns: ['tenant_id', 'merchant_id'],
        referencedSchema: scratch,
        referencedTable: 'merchants',
        referencedColumns: ['tenant_id', 'id'],
        onUpdate: 'RESTRICT',
        onDelete: 'CASCADE',
        enabled: true,
      },
    ])
    // the JSON column's json_valid check is folded into its type
    expect(t.checks).toEqual([{name: 'ck_charges_amount', expression: '`amount` >= 0'}])
    const m = table('merchants')
    expect(m.primaryKey?.columns.map((c) => c.name)).toEqual(['tenant_id', 'id'])
    expect(m.uniqueKeys.map((k) => k.name)).toEqual(['uq_merchants_code'])
    expect(m.comment).toBe('merchant accounts')
  })

  it('reads row estimates and sizes after ANALYZE TABLE', () => {
    const t = table('charges')
    expect(t.rowEstimate).toBeGreaterThan(0)
    expect(t.dataBytes).toBeGreaterThan(0)
    expect(t.indexBytes).toBeGreaterThan(0)
    expect(t.features).toMatchObject({storageEngine: 'InnoDB', partitioned: false})
    expect(t.collation).toBe('utf8mb4_unicode_ci')
  })

  it('reads the view, routines, trigger and event', () => {
    expect(model.views.map((v) => v.name)).toEqual(['v_charges'])
    expect(model.views[0]?.definition).toContain('`charges`')
    expect(model.routines.map((r) => [r.name, r.kind])).toEqual([
      ['fn_fee', 'function'],
      ['sp_noop', 'procedure'],
    ])
    expect(model.triggers).toEqual([{schema: scratch, name: 'trg_charges_bi', table: 'charges', timing: 'BEFORE', events: ['INSERT'], enabled: true}])
    expect(model.events).toEqual([{schema: scratch, name: 'ev_noop', status: 'DISABLED'}])
  })

  it('returns money, big ids and times as exact strings', async () => {
    const rows = await engine.query<{id: unknown; amount: unknown; created_at: unknown}>('SELECT id, amount, created_at FROM charges WHERE id = ?', [1000])
    expect(rows).toHaveLength(1)
    expect(rows[0]?.id).toBe('1000')
    expect(rows[0]?.amount).toBe('0.1234')
    expect(rows[0]?.created_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/)
  })
})

describe('the legacy source', () => {
  let source: MysqlEngine
  let legacy: SchemaModel

  beforeAll(async () => {
    source = new MysqlEngine(options(sandbox.source, {label: 'source'}))
    legacy = await source.introspect()
  })
  afterAll(async () => {
    await source?.close()
  })

  it('has every payments table, each with a primary key', () => {
    expect(legacy.tables.map((t) => t.name).sort()).toEqual([...LEGACY_TABLES].sort())
    for (const t of legacy.tables) expect(t.primaryKey, t.name).not.toBeNull()
    expect(legacy.tables.some((t) => t.foreignKeys.length > 0)).toBe(true)
    expect(legacy.tables.some((t) => (t.primaryKey?.columns.length ?? 0) > 1)).toBe(true)
    const money = legacy.tables.flatMap((t) => t.columns).filter((c) => c.dataType === 'decimal')
    expect(money.length).toBeGreaterThan(0)
    expect(legacy.tables.flatMap((t) => t.columns).some((c) => c.dataType === 'json')).toBe(true)
  })

  it('reads binlog settings for change capture', () => {
    expect(legacy.server.changeCapture).toMatchObject({kind: 'binlog', logBin: true, binlogFormat: 'ROW', binlogRowImage: 'FULL', gtidMode: 'ON'})
    expect(legacy.server.changeCapture.kind === 'binlog' && legacy.server.changeCapture.serverId).toBeGreaterThan(0)
  })

  it("hashes a key range on the server, and a range larger than the hash buffer comes back cut, with the rows that fitted", async () => {
    const model = legacy.tables.find((t) => t.name === 'outbox_events')
    const table = model === undefined ? null : replicaTable(model)
    if (model === undefined || table === null) throw new Error('no outbox_events')
    const verify = source.replication.verify
    if (verify?.hashRange === undefined || verify.prepare === undefined) throw new Error('no pushdown hash')
    await verify.prepare({hashMaxBytes: 4096})
    expect(verify.hashBytesLimit).toBe(4096)
    const columns = table.columns.map((n) => model.columns.find((c) => c.name === n) as ColumnModel)
    const ids = (await source.query<{id: string}>('SELECT id FROM outbox_events ORDER BY id LIMIT 100')).map((r) => r.id)
    const range = (n: number) => ({after: null, through: [ids[n - 1]]})
    // 100 rows of a few hundred bytes each: far more than 4 KiB
    const cut = await verify.hashRange(table, columns, range(100), null, true)
    expect(cut.count).toBe(100)
    const whole = cut.cut?.rowsWhole
    if (whole === undefined || whole === null) throw new Error(`not cut: ${JSON.stringify(cut)}`)
    expect(whole).toBeGreaterThan(1)
    expect(whole).toBeLessThan(100)
    // the rows that fitted hash whole, one more row does not
    const fits = await verify.hashRange(table, columns, range(whole), null, true)
    expect(fits.cut).toBeUndefined()
    expect(fits.count).toBe(whole)
    expect(fits.hash).toMatch(/^[0-9a-f]{64}$/)
    expect((await verify.hashRange(table, columns, range(whole + 1), null, true)).cut).toBeDefined()
    // the same rows hash the same; one row fewer does not
    expect((await verify.hashRange(table, columns, range(whole), null, true)).hash).toBe(fits.hash)
    expect((await verify.hashRange(table, columns, range(whole - 1), null, true)).hash).not.toBe(fits.hash)
    await verify.prepare({hashMaxBytes: 16 * 1024 * 1024})
  })
})

describe('connection failures', () => {
  it('nothing listening: exit 3 naming host:port', async () => {
    const e = new MysqlEngine(options(sandbox.target, {host: '127.0.0.1', port: 1}))
    const err: unknown = await e.connect().catch((x: unknown) => x)
    expect(err).toBeInstanceOf(PayctlError)
    expect(err).toMatchObject({exitCode: 3, code: 'PAYCTL_CONNECT_REFUSED'})
    expect((err as PayctlError).message).toContain('127.0.0.1:1')
    await e.close()
  })

  it('wrong password: exit 3, PAYCTL_AUTH_FAILED, the password nowhere', async () => {
    const wrong = `Wr0ng-${randomBytes(6).toString('hex')}`
    const e = new MysqlEngine(options(sandbox.target, {password: new Secret(wrong, 'env:PAYCTL_TARGET_PASSWORD')}))
    const err: unknown = await e.connect().catch((x: unknown) => x)
    expect(err).toBeInstanceOf(PayctlError)
    const p = err as PayctlError
    expect(p).toMatchObject({exitCode: 3, code: 'PAYCTL_AUTH_FAILED'})
    expect(p.message).toContain(`${sandbox.target.host}:${sandbox.target.port}`)
    expect(p.message).not.toContain(wrong)
    expect(JSON.stringify(p.toJSON())).not.toContain(wrong)
    expect(JSON.stringify(p.toJSON())).toContain('env:PAYCTL_TARGET_PASSWORD')
    await e.close()
  })

  it('TLS: prefer falls back to plain on a server without TLS, require refuses it', async () => {
    const [[row]] = await admin.query<mysql.RowDataPacket[]>('SELECT @@have_ssl AS have_ssl')
    const serverHasTls = row?.have_ssl === 'YES'
    const prefer = new MysqlEngine(options(sandbox.target, {tls: {mode: 'prefer'}}))
    await expect(prefer.connect()).resolves.toBeUndefined()
    await prefer.close()
    const required = new MysqlEngine(options(sandbox.target, {tls: {mode: 'require'}}))
    if (serverHasTls) await expect(required.connect()).resolves.toBeUndefined()
    else await expect(required.connect()).rejects.toMatchObject({exitCode: 3, code: 'PAYCTL_TLS_FAILED'})
    await required.close()
  })

  it('a statement past the query timeout: exit 3, PAYCTL_QUERY_TIMEOUT', async () => {
    const e = new MysqlEngine(options(sandbox.target, {queryTimeoutMs: 200}))
    // SLEEP here is the slow statement under test, not a wait in the test
    await expect(e.query('SELECT SLEEP(5) AS s')).rejects.toMatchObject({exitCode: 3, code: 'PAYCTL_QUERY_TIMEOUT'})
    await e.close()
  })

  it('missing database: exit 3, PAYCTL_DATABASE_NOT_FOUND', async () => {
    const e = new MysqlEngine(options(sandbox.target, {database: `${scratch}_missing`}))
    await expect(e.connect()).rejects.toMatchObject({exitCode: 3, code: 'PAYCTL_DATABASE_NOT_FOUND'})
    await e.close()
  })
})
