/**
 * The SQL Server engine against a real server, when one is at hand: set
 * PAYCTL_TEST_SQLSERVER_URL=sqlserver://user:password@host:port/database?encrypt=false.
 * Creates a small payments schema in a scratch schema, introspects it through SqlServerEngine,
 * checks the model, and drops the scratch schema again; also checks the login failures, and
 * (when the login may run sys.sp_cdc_enable_db and SQL Server Agent runs) replication: keyset
 * chunks and CDC capture of an insert, an update and a delete on a scratch table.
 */
import mssql from 'mssql'
import type {ConnectionPool} from 'mssql'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {PayctlError} from '../../src/cli/errors.js'
import {Secret} from '../../src/cli/redact.js'
import type {ConnectionOptions, TlsMode} from '../../src/engines/engine.js'
import type {SchemaModel, TableModel} from '../../src/engines/model.js'
import {type CapturedTransaction, replicaTable} from '../../src/engines/replication.js'
import {qualify, quoteIdentifier} from '../../src/engines/sqlserver/sqlserver-dialect.js'
import {SqlServerEngine} from '../../src/engines/sqlserver/sqlserver-engine.js'

const URL_ENV = 'PAYCTL_TEST_SQLSERVER_URL'
const rawUrl = process.env[URL_ENV]

function connectionFromUrl(raw: string): ConnectionOptions {
  const url = new URL(raw)
  const encrypt = url.searchParams.get('encrypt')
  const trust = url.searchParams.get('trustServerCertificate')
  const mode: TlsMode = encrypt === 'false' ? 'disable' : trust === 'false' ? 'verify-full' : 'require'
  return {
    engine: 'sqlserver',
    host: url.hostname,
    port: url.port === '' ? 1433 : Number(url.port),
    user: decodeURIComponent(url.username),
    password: new Secret(decodeURIComponent(url.password), `env:${URL_ENV}`),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')) || 'master',
    tls: {mode},
    connectTimeoutMs: 15_000,
    queryTimeoutMs: 60_000,
    poolSize: 2,
    label: 'source',
  }
}

function tableOf(model: SchemaModel, name: string): TableModel {
  const t = model.tables.find((x) => x.name === name)
  if (!t) throw new Error(`table ${name} not in the model`)
  return t
}

describe.runIf(Boolean(rawUrl))('SQL Server engine (real server)', () => {
  const options = connectionFromUrl(rawUrl ?? 'sqlserver://sa:x@localhost:1433/master')
  const scratch = `payctl_it_${process.pid}_${Date.now().toString(36)}`
  const q = (table: string): string => qualify(scratch, table)
  let admin: ConnectionPool
  let engine: SqlServerEngine

  beforeAll(async () => {
    admin = await new mssql.ConnectionPool({
      server: options.host,
      port: options.port,
      database: options.database,
      user: options.user,
      password: options.password?.reveal() ?? '',
      options: {encrypt: options.tls.mode !== 'disable', trustServerCertificate: options.tls.mode !== 'verify-full'},
    }).connect()
    // CREATE SCHEMA, VIEW, PROCEDURE, FUNCTION and TRIGGER must each be alone in their batch.
    const batches = [
      `CREATE SCHEMA ${quoteIdentifier(scratch)};`,
      `CREATE TABLE ${q('customers')} (
        customer_id bigint IDENTITY(1,1) NOT NULL CONSTRAINT PK_customers PRIMARY KEY,
        full_name nvarchar(200) NOT NULL
      );`,
      `CREATE TABLE ${q('payments')} (
        payment_id bigint IDENTITY(1000,1) NOT NULL CONSTRAINT PK_payments PRIMARY KEY,
        customer_id bigint NOT NULL CONSTRAINT FK_payments_customers REFERENCES ${q('customers')} (customer_id) ON DELETE CASCADE,
        amount decimal(19,4) NOT NULL CONSTRAINT CK_payments_amount CHECK (amount >= 0),
        fee money NOT NULL CONSTRAINT DF_payments_fee DEFAULT (0),
        fx_fee smallmoney NULL,
        created_at datetime2(7) NOT NULL CONSTRAINT DF_payments_created_at DEFAULT (sysutcdatetime()),
        authorized_at datetimeoffset(7) NULL,
        public_id uniqueidentifier NOT NULL CONSTRAINT DF_payments_public_id DEFAULT (newsequentialid()),
        notes nvarchar(max) NULL,
        receipt varbinary(max) NULL,
        row_ver rowversion NOT NULL,
        is_test bit NOT NULL CONSTRAINT DF_payments_is_test DEFAULT (0),
        status tinyint NOT NULL,
        merchant_ref nvarchar(64) NULL,
        amount_cents AS CONVERT(bigint, amount * 100) PERSISTED,
        amount_text AS CONVERT(nvarchar(40), amount),
        promo_code varchar(32) SPARSE NULL
      );`,
      `CREATE UNIQUE INDEX UX_payments_merchant_ref ON ${q('payments')} (merchant_ref) INCLUDE (status, amount) WHERE merchant_ref IS NOT NULL;`,
      `CREATE TABLE ${q('ledger_entries')} (
        account_id int NOT NULL,
        entry_no bigint NOT NULL,
        payment_id bigint NULL,
        amount decimal(19,4) NOT NULL,
        CONSTRAINT PK_ledger_entries PRIMARY KEY (account_id, entry_no DESC)
      );`,
      `ALTER TABLE ${q('ledger_entries')} WITH NOCHECK ADD CONSTRAINT FK_ledger_entries_payments FOREIGN KEY (payment_id) REFERENCES ${q('payments')} (payment_id);`,
      `ALTER TABLE ${q('ledger_entries')} NOCHECK CONSTRAINT FK_ledger_entries_payments;`,
      `CREATE SEQUENCE ${q('invoice_numbers')} AS bigint START WITH 1000 INCREMENT BY 1;`,
      `CREATE VIEW ${q('v_totals')} AS SELECT customer_id, SUM(amount) AS total FROM ${q('payments')} GROUP BY customer_id;`,
      `CREATE PROCEDURE ${q('usp_capture')} @payment_id bigint AS UPDATE ${q('payments')} SET status = 2 WHERE payment_id = @payment_id;`,
      `CREATE FUNCTION ${q('fn_fee')} (@amount decimal(19,4)) RETURNS money AS BEGIN RETURN @amount * 0.029 END;`,
      `CREATE TRIGGER ${q('trg_payments_audit')} ON ${q('payments')} AFTER INSERT, UPDATE AS SET NOCOUNT ON;`,
      `INSERT INTO ${q('customers')} (full_name) VALUES (N'Ada'), (N'Grace');`,
    ]
    for (const batch of batches) await admin.request().batch(batch)
    engine = new SqlServerEngine({...options, schemas: [scratch]})
  })

  afterAll(async () => {
    await engine?.close()
    if (!admin) return
    const drops = [
      `DROP TRIGGER IF EXISTS ${q('trg_payments_audit')};`,
      `DROP FUNCTION IF EXISTS ${q('fn_fee')};`,
      `DROP PROCEDURE IF EXISTS ${q('usp_capture')};`,
      `DROP VIEW IF EXISTS ${q('v_totals')};`,
      `DROP SEQUENCE IF EXISTS ${q('invoice_numbers')};`,
      `DROP TABLE IF EXISTS ${q('ledger_entries')};`,
      `DROP TABLE IF EXISTS ${q('payments')};`,
      `DROP TABLE IF EXISTS ${q('customers')};`,
      `IF SCHEMA_ID(N'${scratch}') IS NOT NULL EXEC(N'DROP SCHEMA ${quoteIdentifier(scratch)}');`,
    ]
    for (const batch of drops) await admin.request().batch(batch)
    await admin.close()
  })

  it('connects and reads the server settings', async () => {
    await engine.connect()
    const info = await engine.serverInfo()
    expect(info).toMatchObject({engine: 'sqlserver', flavor: 'sqlserver', database: options.database, host: options.host, port: options.port})
    expect(info.version.major).toBeGreaterThanOrEqual(13)
    expect(info.changeCapture.kind).toBe('sqlserver')
  })

  it('introspects the scratch schema into the model', async () => {
    const model = await engine.introspect()
    expect(model.tables.map((t) => t.name)).toEqual(['customers', 'ledger_entries', 'payments'])
    expect(model.tables.every((t) => t.schema === scratch)).toBe(true)

    const payments = tableOf(model, 'payments')
    const types = Object.fromEntries(payments.columns.map((c) => [c.name, c.columnType]))
    expect(types).toEqual({
      payment_id: 'bigint',
      customer_id: 'bigint',
      amount: 'decimal(19,4)',
      fee: 'money',
      fx_fee: 'smallmoney',
      created_at: 'datetime2(7)',
      authorized_at: 'datetimeoffset(7)',
      public_id: 'uniqueidentifier',
      notes: 'nvarchar(max)',
      receipt: 'varbinary(max)',
      row_ver: 'rowversion',
      is_test: 'bit',
      status: 'tinyint',
      merchant_ref: 'nvarchar(64)',
      amount_cents: 'bigint',
      amount_text: 'nvarchar(40)',
      promo_code: 'varchar(32)',
    })
    const col = (name: string) => payments.columns.find((c) => c.name === name)
    expect(col('payment_id')?.identity).toEqual({seed: '1000', increment: '1'})
    expect(col('merchant_ref')?.length).toBe(64)
    expect(col('notes')?.length).toBe(-1)
    expect(col('public_id')?.default?.toLowerCase()).toBe('(newsequentialid())')
    expect(col('row_ver')?.serverMaintained).toBe(true)
    expect(col('amount_cents')?.generated?.stored).toBe(true)
    expect(col('amount_text')?.generated?.stored).toBe(false)
    expect(col('promo_code')?.sparse).toBe(true)

    expect(payments.primaryKey).toEqual({name: 'PK_payments', columns: [{name: 'payment_id', descending: false, prefixLength: null}]})
    const ux = payments.indexes.find((i) => i.name === 'UX_payments_merchant_ref')
    expect(ux).toMatchObject({unique: true, kind: 'nonclustered', included: ['status', 'amount']})
    expect(ux?.filter).toMatch(/merchant_ref\]? IS NOT NULL/i)
    expect(payments.uniqueKeys).toEqual([])
    expect(payments.foreignKeys).toEqual([
      {
        name: 'FK_payments_customers',
        columns: ['customer_id'],
        referencedSchema: scratch,
        referencedTable: 'customers',
        referencedColumns: ['customer_id'],
        onUpdate: 'NO ACTION',
        onDelete: 'CASCADE',
        enabled: true,
      },
    ])
    expect(payments.checks.map((c) => c.name)).toEqual(['CK_payments_amount'])

    const ledger = tableOf(model, 'ledger_entries')
    expect(ledger.primaryKey?.columns).toEqual([
      {name: 'account_id', descending: false, prefixLength: null},
      {name: 'entry_no', descending: true, prefixLength: null},
    ])
    expect(ledger.foreignKeys[0]).toMatchObject({name: 'FK_ledger_entries_payments', enabled: false})

    expect(tableOf(model, 'customers').rowEstimate).toBe(2)

    expect(model.views.map((v) => v.name)).toEqual(['v_totals'])
    expect(model.routines.map((r) => [r.name, r.kind])).toEqual([
      ['fn_fee', 'function'],
      ['usp_capture', 'procedure'],
    ])
    expect(model.triggers).toEqual([
      {schema: scratch, name: 'trg_payments_audit', table: 'payments', timing: 'AFTER', events: ['INSERT', 'UPDATE'], enabled: true},
    ])
    expect(model.sequences).toEqual([{schema: scratch, name: 'invoice_numbers', dataType: 'bigint', start: '1000', increment: '1'}])
  })

  it('introspects only the tables asked for', async () => {
    const model = await engine.introspect({tables: [`${scratch}.payments`]})
    expect(model.tables.map((t) => t.name)).toEqual(['payments'])
  })

  it('reads keyset chunks and captures an insert, update and delete through CDC', async () => {
    const [db] = (await admin.request().query<{is_cdc_enabled: boolean}>('SELECT is_cdc_enabled FROM sys.databases WHERE database_id = DB_ID();')).recordset
    if (db?.is_cdc_enabled !== true) await admin.request().batch('EXEC sys.sp_cdc_enable_db;')
    const name = 'cdc_scratch'
    await admin.request().batch(`CREATE TABLE ${q(name)} (
      account_id int NOT NULL,
      entry_no bigint NOT NULL,
      amount decimal(19,4) NOT NULL,
      fee money NULL,
      booked_at datetime2(7) NOT NULL,
      authorized_at datetimeoffset(3) NULL,
      public_id uniqueidentifier NOT NULL,
      is_test bit NOT NULL,
      CONSTRAINT PK_cdc_scratch PRIMARY KEY (account_id, entry_no)
    );`)
    const instance = `${scratch}_${name}`.slice(0, 100)
    await admin
      .request()
      .batch(`EXEC sys.sp_cdc_enable_table @source_schema = N'${scratch}', @source_name = N'${name}', @role_name = NULL, @supports_net_changes = 0, @capture_instance = N'${instance}';`)
    try {
      await admin.request().batch(`INSERT INTO ${q(name)} VALUES
        (1, 1, 10.5, 1.25, '2024-01-02 03:04:05.1234567', '2024-01-02 05:04:05.123 +02:00', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 1),
        (1, 2, 20, NULL, '2024-01-02 03:04:05', NULL, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12', 0),
        (2, 1, 30, NULL, '2024-01-02 03:04:05', NULL, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A13', 0);`)
      const model = await engine.introspect({tables: [`${scratch}.${name}`]})
      const t = tableOf(model, name)
      const rt = replicaTable(t)
      if (rt === null) throw new Error('the scratch table has a key')
      const replication = engine.replication

      const first = await replication.readChunk({table: rt, after: null, before: null, limit: 2})
      expect(first.rows).toEqual([
        [1, '1', '10.5000', '1.2500', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 1],
        [1, '2', '20.0000', null, '2024-01-02 03:04:05.000000', null, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 0],
      ])
      const rest = await replication.readChunk({table: rt, after: [1, '2'], before: [3, '0'], limit: 2})
      expect(rest.rows.map((r) => [r[0], r[1]])).toEqual([[2, '1']])
      await expect(replication.keyBounds(rt)).resolves.toEqual({min: [1, '1'], max: [2, '1']})
      await expect(replication.countRows(rt)).resolves.toBe(3)

      // the capture job must have recorded something before there is a max LSN
      let start: Awaited<ReturnType<typeof replication.capture.currentPosition>> | null = null
      for (let i = 0; i < 60 && start === null; i++) {
        start = await replication.capture.currentPosition().catch(() => null)
        if (start === null) await new Promise((r) => setTimeout(r, 1000))
      }
      if (start === null) throw new Error('CDC recorded no max LSN within a minute: is SQL Server Agent running?')
      await replication.capture.checkPrerequisites([t])

      await admin.request().batch(`INSERT INTO ${q(name)} VALUES (3, 1, 40, NULL, '2024-02-03 04:05:06', NULL, NEWID(), 0);`)
      await admin.request().batch(`UPDATE ${q(name)} SET amount = 11.25 WHERE account_id = 1 AND entry_no = 1;`)
      await admin.request().batch(`DELETE FROM ${q(name)} WHERE account_id = 2 AND entry_no = 1;`)

      const ac = new AbortController()
      const timeout = setTimeout(() => ac.abort(), 90_000)
      const stream = replication.capture.open(start, [t], ac.signal)
      const changes: CapturedTransaction['changes'] = []
      try {
        for await (const event of stream) {
          if (event.kind === 'ddl') throw new Error(`unexpected DDL: ${event.statement}`)
          // the three rows inserted before the start may come too, when the capture job had not harvested them yet
          changes.push(...event.changes.filter((c) => !(c.op === 'insert' && c.after?.['account_id'] !== 3)))
          if (changes.length >= 3) break
        }
      } finally {
        clearTimeout(timeout)
        await stream.close()
      }
      expect(changes.map((c) => c.op)).toEqual(['insert', 'update', 'delete'])
      expect(changes[0]?.after).toMatchObject({account_id: 3, entry_no: '1', amount: '40.0000', booked_at: '2024-02-03 04:05:06.000000'})
      expect(changes[1]?.before).toMatchObject({account_id: 1, entry_no: '1', amount: '10.5000'})
      expect(changes[1]?.after).toMatchObject({account_id: 1, entry_no: '1', amount: '11.2500'})
      expect(changes[2]?.before).toMatchObject({account_id: 2, entry_no: '1'})
      expect(changes[2]?.after).toBeNull()
    } finally {
      await admin.request().batch(`EXEC sys.sp_cdc_disable_table @source_schema = N'${scratch}', @source_name = N'${name}', @capture_instance = N'${instance}';`)
      await admin.request().batch(`DROP TABLE IF EXISTS ${q(name)};`)
    }
  })

  it('fails a wrong password with exit 3 and never shows the password', async () => {
    const wrong = 'S3cretPassw0rd!-wrong'
    const bad = new SqlServerEngine({...options, password: new Secret(wrong, 'env:PAYCTL_TEST_WRONG')})
    const err: unknown = await bad.connect().catch((e: unknown) => e)
    await bad.close()
    expect(err).toBeInstanceOf(PayctlError)
    expect(err).toMatchObject({code: 'PAYCTL_AUTH_FAILED', exitCode: 3})
    expect((err as PayctlError).message).toContain(`${options.host}:${options.port}`)
    expect(JSON.stringify((err as PayctlError).toJSON())).not.toContain(wrong)
  })

  it('reports a missing database as such', async () => {
    const bad = new SqlServerEngine({...options, database: `${scratch}_missing`})
    await expect(bad.connect()).rejects.toMatchObject({code: 'PAYCTL_DATABASE_NOT_FOUND', exitCode: 3})
    await bad.close()
  })
})
