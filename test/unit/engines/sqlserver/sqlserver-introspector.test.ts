/**
 * The SQL Server introspector against catalog rows of a realistic payments database: every
 * mapping a later phase relies on (exact types, keys, features, capture settings), the optional
 * catalog sources that may be refused, and table selection.
 */
import {describe, expect, it} from 'vitest'
import {PayctlError} from '../../../../src/cli/errors.js'
import type {ColumnModel, SchemaModel, TableModel} from '../../../../src/engines/model.js'
import {
  columnTypeOf,
  identifierCaseFromCollation,
  indexKindOf,
  introspect,
  isUnavailableError,
  mapColumn,
  mapRoutine,
  referentialActionOf,
  type ColumnRow,
  type QueryParams,
  type RunQuery,
} from '../../../../src/engines/sqlserver/sqlserver-introspector.js'
import {SQLSERVER_QUERIES} from '../../../../src/engines/sqlserver/sqlserver-queries.js'
import * as fx from './fixtures.js'

type QueryName = keyof typeof SQLSERVER_QUERIES

const defaultRows: Record<QueryName, unknown[]> = {
  serverInfo: [fx.serverInfoRow],
  agentStatus: fx.agentRows,
  cdcRetention: fx.cdcRetentionRows,
  tables: fx.tableRows,
  tableSizes: fx.tableSizeRows,
  columns: fx.columnRows,
  indexes: fx.indexRows,
  foreignKeys: fx.foreignKeyRows,
  checkConstraints: fx.checkRows,
  views: fx.viewRows,
  routines: fx.routineRows,
  triggers: fx.triggerRows,
  sequences: fx.sequenceRows,
  cdcCaptureInstances: fx.cdcRows,
}

interface Call {
  name: QueryName
  params: QueryParams | undefined
}

/** A fake server: answers each known query with its rows (or throws), and records what was asked. */
function fakeServer(overrides: Partial<Record<QueryName, unknown[] | Error>> = {}): {run: RunQuery; calls: Call[]} {
  const calls: Call[] = []
  const byText = new Map<string, QueryName>(Object.entries(SQLSERVER_QUERIES).map(([name, text]) => [text, name as QueryName]))
  const run = <Row,>(sql: string, params?: QueryParams): Promise<Row[]> => {
    const name = byText.get(sql)
    if (name === undefined) return Promise.reject(new Error(`unexpected SQL: ${sql}`))
    calls.push({name, params})
    const answer = name in overrides ? overrides[name] : defaultRows[name]
    if (answer instanceof Error) return Promise.reject(answer)
    const rows = (answer ?? []) as Array<Row & {schema_name?: string}>
    // Emulates the WHERE (@schema IS NULL OR s.name = @schema) filter.
    const schema = params?.schema ?? null
    return Promise.resolve(schema === null ? rows : rows.filter((r) => r.schema_name === undefined || r.schema_name === schema))
  }
  return {run, calls}
}

function sqlError(number: number, message: string): Error {
  return Object.assign(new Error(message), {number, code: 'EREQUEST'})
}

const NOW = new Date('2025-01-15T10:00:00.000Z')
const ctx = {host: 'mssql.internal', port: 1433, now: () => NOW}

function tableOf(model: SchemaModel, name: string): TableModel {
  const t = model.tables.find((x) => x.name === name)
  if (!t) throw new Error(`no table ${name}`)
  return t
}

function columnOf(t: TableModel, name: string): ColumnModel {
  const c = t.columns.find((x) => x.name === name)
  if (!c) throw new Error(`no column ${name} in ${t.name}`)
  return c
}

describe('introspect: server info and capture settings', () => {
  it('reads version, edition, collation and the CDC / Change Tracking settings', async () => {
    const {run} = fakeServer()
    const model = await introspect(run, ctx)
    expect(model.server).toEqual({
      engine: 'sqlserver',
      flavor: 'sqlserver',
      version: {raw: 'Microsoft SQL Server 2022 (RTM-CU12) (KB5033663) - 16.0.4115.5 (X64)', major: 16, minor: 0, patch: 4115},
      edition: 'Developer Edition (64-bit)',
      database: 'Payments',
      host: 'mssql.internal',
      port: 1433,
      charset: 'cp1252',
      collation: 'SQL_Latin1_General_CP1_CI_AS',
      lowerCaseTableNames: 2,
      changeCapture: {
        kind: 'sqlserver',
        cdcEnabled: true,
        changeTrackingEnabled: true,
        changeTrackingRetention: '2 DAYS',
        changeTrackingAutoCleanup: true,
        recoveryModel: 'FULL',
        agentRunning: true,
        cdcRetentionMinutes: 4320,
      },
    })
    expect(model.introspectedAt).toBe('2025-01-15T10:00:00.000Z')
    expect(model.events).toEqual([])
  })

  it('reports the agent and CDC retention as unknown (null) when their views are refused, without failing', async () => {
    const {run} = fakeServer({
      agentStatus: sqlError(300, 'VIEW SERVER STATE permission was denied on object \'server\', database \'master\'.'),
      cdcRetention: sqlError(916, 'The server principal "payctl" is not able to access the database "msdb" under the current security context.'),
    })
    const model = await introspect(run, ctx)
    expect(model.server.changeCapture).toMatchObject({agentRunning: null, cdcRetentionMinutes: null, cdcEnabled: true})
  })

  it('reports a stopped agent as not running', async () => {
    const {run} = fakeServer({agentStatus: [{servicename: 'SQL Server Agent (MSSQLSERVER)', status_desc: 'Stopped'}]})
    const model = await introspect(run, ctx)
    expect(model.server.changeCapture).toMatchObject({agentRunning: false})
  })

  it('does not ask for the agent on Azure SQL Database, and reports Express as having no agent', async () => {
    const azure = fakeServer({serverInfo: [{...fx.serverInfoRow, engine_edition: 5}]})
    const azureModel = await introspect(azure.run, ctx)
    expect(azure.calls.map((c) => c.name)).not.toContain('agentStatus')
    expect(azureModel.server.changeCapture).toMatchObject({agentRunning: null})

    const express = fakeServer({serverInfo: [{...fx.serverInfoRow, engine_edition: 4}]})
    expect((await introspect(express.run, ctx)).server.changeCapture).toMatchObject({agentRunning: false})
  })

  it('propagates a catalog error that is not a refusal', async () => {
    const {run} = fakeServer({agentStatus: sqlError(102, "Incorrect syntax near 'x'.")})
    await expect(introspect(run, ctx)).rejects.toThrow("Incorrect syntax near 'x'.")
  })

  it('with CDC and Change Tracking off, skips cdc.change_tables and msdb and reports no capture instances', async () => {
    const {run, calls} = fakeServer({
      serverInfo: [
        {
          ...fx.serverInfoRow,
          is_cdc_enabled: false,
          is_change_tracking_enabled: false,
          retention_period: null,
          retention_period_units_desc: null,
          is_auto_cleanup_on: null,
          recovery_model_desc: 'SIMPLE',
        },
      ],
    })
    const model = await introspect(run, ctx)
    const names = calls.map((c) => c.name)
    expect(names).not.toContain('cdcCaptureInstances')
    expect(names).not.toContain('cdcRetention')
    expect(model.server.changeCapture).toMatchObject({
      cdcEnabled: false,
      changeTrackingEnabled: false,
      changeTrackingRetention: null,
      changeTrackingAutoCleanup: null,
      recoveryModel: 'SIMPLE',
      cdcRetentionMinutes: null,
    })
    expect(tableOf(model, 'payments').features.cdcCaptureInstances).toEqual([])
  })
})

describe('introspect: tables and columns of the payments schema', () => {
  it('lists the base tables in catalog order', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(model.tables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      'pay.customers',
      'pay.ledger_entries',
      'pay.payments',
      'pay.refunds',
      'pay.session_cache',
      'pay.wallets',
      'pay.wallets_history',
    ])
  })

  it('maps every column type of pay.payments exactly', async () => {
    const payments = tableOf(await introspect(fakeServer().run, ctx), 'payments')
    const summary = payments.columns.map((c) => [c.ordinal, c.name, c.dataType, c.columnType, c.length, c.precision, c.scale])
    expect(summary).toEqual([
      [1, 'payment_id', 'bigint', 'bigint', null, 19, 0],
      [2, 'customer_id', 'bigint', 'bigint', null, 19, 0],
      [3, 'amount', 'decimal', 'decimal(19,4)', null, 19, 4],
      [4, 'fee', 'money', 'money', null, 19, 4],
      [5, 'fx_fee', 'smallmoney', 'smallmoney', null, 10, 4],
      [6, 'created_at', 'datetime2', 'datetime2(7)', null, null, 7],
      [7, 'authorized_at', 'datetimeoffset', 'datetimeoffset(7)', null, null, 7],
      [8, 'public_id', 'uniqueidentifier', 'uniqueidentifier', null, null, null],
      [9, 'notes', 'nvarchar', 'nvarchar(max)', -1, null, null],
      [10, 'receipt_pdf', 'varbinary', 'varbinary(max)', -1, null, null],
      [11, 'row_ver', 'rowversion', 'rowversion', null, null, null],
      [12, 'gateway_response', 'xml', 'xml', null, null, null],
      [13, 'merchant_location', 'geography', 'geography', null, null, null],
      [14, 'org_path', 'hierarchyid', 'hierarchyid', null, null, null],
      [15, 'extra', 'sql_variant', 'sql_variant', null, null, null],
      [16, 'is_test', 'bit', 'bit', null, null, null],
      [17, 'status', 'tinyint', 'tinyint', null, 3, 0],
      [18, 'amount_cents', 'bigint', 'bigint', null, 19, 0],
      [19, 'amount_display', 'nvarchar', 'nvarchar(4000)', 4000, null, null],
      [20, 'promo_code', 'varchar', 'varchar(32)', 32, null, null],
      [21, 'merchant_ref', 'nvarchar', 'nvarchar(64)', 64, null, null],
    ])
  })

  it('maps identity, defaults, computed, sparse, rowversion, nullability, charset and comments', async () => {
    const payments = tableOf(await introspect(fakeServer().run, ctx), 'payments')
    const c = (name: string): ColumnModel => columnOf(payments, name)

    expect(c('payment_id')).toMatchObject({identity: {seed: '1000000', increment: '1'}, nullable: false, generated: null})
    expect(c('customer_id').identity).toBeNull()
    expect(c('public_id').default).toBe('(newsequentialid())')
    expect(c('fee').default).toBe('((0))')
    expect(c('created_at').default).toBe('(sysutcdatetime())')
    expect(c('fx_fee')).toMatchObject({nullable: true, default: null})

    expect(c('amount_cents').generated).toEqual({expression: '(CONVERT([bigint],[amount]*(100)))', stored: true})
    expect(c('amount_display').generated).toEqual({expression: "(format([amount],'N2'))", stored: false})
    expect(c('amount').generated).toBeNull()

    expect(c('promo_code').sparse).toBe(true)
    expect(c('notes').sparse).toBe(false)

    expect(c('row_ver').serverMaintained).toBe(true)
    expect(c('created_at').serverMaintained).toBe(false)

    expect(c('notes')).toMatchObject({charset: 'utf-16', collation: 'SQL_Latin1_General_CP1_CI_AS', comment: 'Free text from the operator.'})
    expect(c('promo_code')).toMatchObject({charset: 'cp1252', collation: 'SQL_Latin1_General_CP1_CI_AS'})
    expect(c('receipt_pdf')).toMatchObject({charset: null, collation: null})
    expect(payments.columns.every((col) => !col.unsigned && col.enumValues === null)).toBe(true)
  })

  it('resolves an alias user-defined type to its base type', async () => {
    const amount = columnOf(tableOf(await introspect(fakeServer().run, ctx), 'payments'), 'amount')
    expect(amount).toMatchObject({dataType: 'decimal', columnType: 'decimal(19,4)', precision: 19, scale: 4})
  })

  it('marks temporal period columns as server maintained only on the system-versioned table', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(columnOf(tableOf(model, 'wallets'), 'valid_from').serverMaintained).toBe(true)
    expect(columnOf(tableOf(model, 'wallets'), 'valid_to').serverMaintained).toBe(true)
    expect(columnOf(tableOf(model, 'wallets_history'), 'valid_from').serverMaintained).toBe(false)
  })

  it('maps table features: temporal, memory-optimized, CDC, Change Tracking, partitioning', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(tableOf(model, 'wallets').features).toEqual({
      temporal: {historySchema: 'pay', historyTable: 'wallets_history'},
      temporalHistory: false,
      memoryOptimized: false,
      cdcCaptureInstances: [],
      changeTracking: false,
      partitioned: false,
      storageEngine: null,
    })
    expect(tableOf(model, 'wallets_history').features).toMatchObject({temporal: null, temporalHistory: true})
    expect(tableOf(model, 'session_cache').features).toMatchObject({memoryOptimized: true})
    expect(tableOf(model, 'payments').features).toMatchObject({cdcCaptureInstances: ['pay_payments'], changeTracking: false})
    expect(tableOf(model, 'refunds').features).toMatchObject({cdcCaptureInstances: [], changeTracking: true})
    expect(tableOf(model, 'ledger_entries').features).toMatchObject({partitioned: true})
    expect(tableOf(model, 'customers').features.partitioned).toBe(false)
  })

  it('takes row counts and sizes from sys.dm_db_partition_stats, data and index pages apart', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(tableOf(model, 'payments')).toMatchObject({rowEstimate: 50213, dataBytes: 1800 * 8192, indexBytes: 250 * 8192, comment: 'One row per payment intent.', collation: null})
    expect(tableOf(model, 'customers')).toMatchObject({rowEstimate: 1200, dataBytes: 16 * 8192, indexBytes: 4 * 8192})
    // no sizes row: the sys.partitions estimate stands
    expect(tableOf(model, 'ledger_entries')).toMatchObject({rowEstimate: 88000, dataBytes: 0, indexBytes: 0})
  })

  it('falls back to sys.partitions row estimates when VIEW DATABASE STATE is missing', async () => {
    const {run} = fakeServer({tableSizes: sqlError(297, 'The user does not have permission to perform this action.')})
    const model = await introspect(run, ctx)
    expect(tableOf(model, 'payments')).toMatchObject({rowEstimate: 50000, dataBytes: 0, indexBytes: 0})
  })
})

describe('introspect: keys, indexes, foreign keys, checks', () => {
  it('maps primary, unique and filtered unique indexes with INCLUDE columns', async () => {
    const payments = tableOf(await introspect(fakeServer().run, ctx), 'payments')
    expect(payments.primaryKey).toEqual({name: 'PK_payments', columns: [{name: 'payment_id', descending: false, prefixLength: null}]})
    expect(payments.indexes).toEqual([
      {
        name: 'PK_payments',
        columns: [{name: 'payment_id', descending: false, prefixLength: null}],
        unique: true,
        primary: true,
        kind: 'clustered',
        included: [],
        filter: null,
      },
      {
        name: 'UQ_payments_public_id',
        columns: [{name: 'public_id', descending: false, prefixLength: null}],
        unique: true,
        primary: false,
        kind: 'nonclustered',
        included: [],
        filter: null,
      },
      {
        name: 'UX_payments_merchant_ref',
        columns: [{name: 'merchant_ref', descending: false, prefixLength: null}],
        unique: true,
        primary: false,
        kind: 'nonclustered',
        included: ['status', 'amount'],
        filter: '([merchant_ref] IS NOT NULL)',
      },
      {
        name: 'SIX_payments_location',
        columns: [{name: 'merchant_location', descending: false, prefixLength: null}],
        unique: false,
        primary: false,
        kind: 'spatial',
        included: [],
        filter: null,
      },
    ])
    // a filtered unique index holds only for the rows it selects, so it is not a key
    expect(payments.uniqueKeys).toEqual([{name: 'UQ_payments_public_id', columns: [{name: 'public_id', descending: false, prefixLength: null}]}])
  })

  it('keeps a composite primary key in key order with its descending column', async () => {
    const ledger = tableOf(await introspect(fakeServer().run, ctx), 'ledger_entries')
    expect(ledger.primaryKey).toEqual({
      name: 'PK_ledger_entries',
      columns: [
        {name: 'account_id', descending: false, prefixLength: null},
        {name: 'entry_no', descending: true, prefixLength: null},
      ],
    })
  })

  it('drops the partitioning column SQL Server adds to a row-store index, keeps every columnstore column', async () => {
    const ledger = tableOf(await introspect(fakeServer().run, ctx), 'ledger_entries')
    const byName = new Map(ledger.indexes.map((i) => [i.name, i]))
    expect(byName.get('IX_ledger_entries_payment')?.columns.map((c) => c.name)).toEqual(['payment_id'])
    expect(byName.get('CCI_ledger_entries')).toMatchObject({kind: 'columnstore', unique: false})
    expect(byName.get('CCI_ledger_entries')?.columns.map((c) => c.name)).toEqual(['account_id', 'amount'])
  })

  it('maps a memory-optimized hash primary key and a clustered history index in key order', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(tableOf(model, 'session_cache').indexes[0]).toMatchObject({name: 'PK_session_cache', kind: 'hash', primary: true})
    expect(tableOf(model, 'session_cache').primaryKey?.columns.map((c) => c.name)).toEqual(['session_id'])
    expect(tableOf(model, 'wallets_history').primaryKey).toBeNull()
    expect(tableOf(model, 'wallets_history').indexes[0]?.columns.map((c) => c.name)).toEqual(['valid_to', 'valid_from'])
  })

  it('maps foreign keys with their referential actions and trust', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(tableOf(model, 'payments').foreignKeys).toEqual([
      {
        name: 'FK_payments_customers',
        columns: ['customer_id'],
        referencedSchema: 'pay',
        referencedTable: 'customers',
        referencedColumns: ['customer_id'],
        onUpdate: 'NO ACTION',
        onDelete: 'CASCADE',
        enabled: true,
      },
    ])
    expect(tableOf(model, 'ledger_entries').foreignKeys[0]).toMatchObject({name: 'FK_ledger_entries_payments', enabled: false, onDelete: 'NO ACTION'})
    expect(tableOf(model, 'refunds').foreignKeys[0]).toMatchObject({onUpdate: 'CASCADE', onDelete: 'SET NULL'})
  })

  it('maps check constraints', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(tableOf(model, 'payments').checks).toEqual([{name: 'CK_payments_amount', expression: '([amount]>=(0))'}])
    expect(tableOf(model, 'customers').checks).toEqual([])
  })
})

describe('introspect: views, routines, triggers, sequences', () => {
  it('maps each object kind', async () => {
    const model = await introspect(fakeServer().run, ctx)
    expect(model.views).toEqual([{schema: 'pay', name: 'v_daily_totals', definition: fx.viewRows[0]?.definition}])
    expect(model.routines.map((r) => [r.name, r.kind])).toEqual([
      ['fn_fee', 'function'],
      ['usp_capture_payment', 'procedure'],
    ])
    expect(model.triggers).toEqual([
      {schema: 'pay', name: 'trg_payments_audit', table: 'payments', timing: 'AFTER', events: ['INSERT', 'UPDATE'], enabled: true},
      {schema: 'pay', name: 'trg_refunds_block_delete', table: 'refunds', timing: 'INSTEAD OF', events: ['DELETE'], enabled: false},
    ])
    expect(model.sequences).toEqual([{schema: 'pay', name: 'invoice_numbers', dataType: 'bigint', start: '1000', increment: '1'}])
  })

  it('classifies every routine type code, and refuses one it does not know', () => {
    const base = {schema_name: 'pay', routine_name: 'r', type_desc: '', definition: null}
    expect(['P ', 'PC', 'FN', 'IF', 'TF', 'FS', 'FT'].map((type) => mapRoutine({...base, type}).kind)).toEqual([
      'procedure',
      'procedure',
      'function',
      'function',
      'function',
      'function',
      'function',
    ])
    expect(() => mapRoutine({...base, type: 'V '})).toThrow(/Unexpected sys.objects type "V"/)
  })
})

describe('introspect: schema and table selection', () => {
  it('binds each configured schema as @schema, one pass per schema', async () => {
    const {run, calls} = fakeServer()
    await introspect(run, {...ctx, schemas: ['pay', 'ops']})
    const tableCalls = calls.filter((c) => c.name === 'tables').map((c) => c.params)
    expect(tableCalls).toEqual([{schema: 'pay'}, {schema: 'ops'}])
    const serverCall = calls.find((c) => c.name === 'serverInfo')
    expect(serverCall?.params).toBeUndefined()
  })

  it('passes @schema = NULL when no schema is configured', async () => {
    const {run, calls} = fakeServer()
    await introspect(run, ctx)
    expect(calls.filter((c) => c.name === 'columns').map((c) => c.params)).toEqual([{schema: null}])
  })

  it('keeps only the named tables (plain or schema.name, case-insensitive on a _CI_ collation) and their triggers', async () => {
    const model = await introspect(fakeServer().run, {...ctx, tables: ['PAYMENTS', 'pay.refunds']})
    expect(model.tables.map((t) => t.name)).toEqual(['payments', 'refunds'])
    expect(model.triggers.map((t) => t.name)).toEqual(['trg_payments_audit', 'trg_refunds_block_delete'])
    expect(model.views).toHaveLength(1)
  })

  it('compares names exactly on a case-sensitive collation', async () => {
    const {run} = fakeServer({serverInfo: [{...fx.serverInfoRow, collation_name: 'Latin1_General_100_CS_AS'}]})
    await expect(introspect(run, {...ctx, tables: ['PAYMENTS']})).rejects.toMatchObject({code: 'PAYCTL_TABLE_NOT_FOUND', exitCode: 2})
  })

  it('refuses a table name that matches nothing instead of skipping it', async () => {
    const err: unknown = await introspect(fakeServer().run, {...ctx, tables: ['payments', 'pay.paymnets']}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PayctlError)
    expect((err as PayctlError).message).toContain('pay.paymnets')
    expect((err as PayctlError).message).not.toContain('payments,')
  })

  it('stops before the next query once the signal is aborted', async () => {
    const controller = new AbortController()
    const {run, calls} = fakeServer()
    const aborting: RunQuery = async <Row,>(sql: string, params?: QueryParams): Promise<Row[]> => {
      const rows = await run<Row>(sql, params)
      if (calls.length === 3) controller.abort(new Error('interrupted'))
      return rows
    }
    await expect(introspect(aborting, {...ctx, signal: controller.signal})).rejects.toThrow('interrupted')
    expect(calls).toHaveLength(3)
  })
})

describe('type and name helpers', () => {
  const column = (extra: Partial<ColumnRow>): ColumnRow => ({
    schema_name: 'dbo',
    table_name: 't',
    column_id: 1,
    column_name: 'c',
    type_name: 'int',
    is_user_defined: false,
    base_type_name: 'int',
    max_length: 4,
    precision: 10,
    scale: 0,
    is_nullable: true,
    is_identity: false,
    seed_value: null,
    increment_value: null,
    is_computed: false,
    computed_definition: null,
    is_persisted: null,
    is_sparse: false,
    generated_always_type: 0,
    collation_name: null,
    code_page: null,
    default_constraint_name: null,
    default_definition: null,
    comment: null,
    ...extra,
  })

  it.each([
    [{type_name: 'nchar', base_type_name: 'nchar', max_length: 20, precision: 0}, 'nchar(10)', 10],
    [{type_name: 'char', base_type_name: 'char', max_length: 3, precision: 0}, 'char(3)', 3],
    [{type_name: 'varchar', base_type_name: 'varchar', max_length: -1, precision: 0}, 'varchar(max)', -1],
    [{type_name: 'binary', base_type_name: 'binary', max_length: 16, precision: 0}, 'binary(16)', 16],
    [{type_name: 'varbinary', base_type_name: 'varbinary', max_length: 16, precision: 0}, 'varbinary(16)', 16],
    [{type_name: 'sysname', base_type_name: 'sysname', max_length: 256, precision: 0}, 'nvarchar(128)', 128],
    [{type_name: 'ntext', base_type_name: 'ntext', max_length: 16, precision: 0}, 'ntext', -1],
    [{type_name: 'numeric', base_type_name: 'numeric', max_length: 9, precision: 18, scale: 2}, 'numeric(18,2)', null],
    [{type_name: 'float', base_type_name: 'float', max_length: 8, precision: 53}, 'float', null],
    [{type_name: 'real', base_type_name: 'real', max_length: 4, precision: 24}, 'real', null],
    [{type_name: 'time', base_type_name: 'time', max_length: 4, precision: 13, scale: 3}, 'time(3)', null],
    [{type_name: 'datetime2', base_type_name: 'datetime2', max_length: 6, precision: 19, scale: 0}, 'datetime2(0)', null],
    [{type_name: 'date', base_type_name: 'date', max_length: 3, precision: 10}, 'date', null],
  ] as const)('%o -> %s', (extra, columnType, length) => {
    const mapped = mapColumn(column(extra))
    expect(mapped.columnType).toBe(columnType)
    expect(mapped.length).toBe(length)
  })

  it('reports fractional-seconds precision as scale for datetime and smalldatetime', () => {
    expect(mapColumn(column({type_name: 'datetime', base_type_name: 'datetime', max_length: 8, precision: 23, scale: 3})).scale).toBe(3)
    expect(mapColumn(column({type_name: 'smalldatetime', base_type_name: 'smalldatetime', max_length: 4, precision: 16, scale: 0})).scale).toBe(0)
    expect(mapColumn(column({type_name: 'date', base_type_name: 'date', max_length: 3, precision: 10, scale: 0})).scale).toBeNull()
  })

  it('writes a non-default float precision', () => {
    expect(columnTypeOf('float', null, 53, 0)).toBe('float')
    expect(columnTypeOf('float', null, 25, 0)).toBe('float(25)')
  })

  it('maps index type descriptions to kinds, keeping an unknown one visible', () => {
    expect(
      ['CLUSTERED', 'NONCLUSTERED', 'CLUSTERED COLUMNSTORE', 'NONCLUSTERED COLUMNSTORE', 'NONCLUSTERED HASH', 'XML', 'SPATIAL', 'JSON'].map(indexKindOf),
    ).toEqual(['clustered', 'nonclustered', 'columnstore', 'columnstore', 'hash', 'xml', 'spatial', 'json'])
  })

  it('maps referential actions and refuses an unknown one', () => {
    expect(['NO_ACTION', 'CASCADE', 'SET_NULL', 'SET_DEFAULT'].map(referentialActionOf)).toEqual(['NO ACTION', 'CASCADE', 'SET NULL', 'SET DEFAULT'])
    expect(() => referentialActionOf('RESTRICT')).toThrow(/Unknown SQL Server referential action/)
  })

  it('reads identifier case-sensitivity from the collation name', () => {
    expect(identifierCaseFromCollation('SQL_Latin1_General_CP1_CI_AS')).toBe(2)
    expect(identifierCaseFromCollation('Latin1_General_100_CS_AS_SC_UTF8')).toBe(0)
    expect(identifierCaseFromCollation('Latin1_General_BIN2')).toBe(0)
    expect(identifierCaseFromCollation(null)).toBeNull()
  })

  it('treats only refusals and missing objects as an unavailable optional source', () => {
    expect([229, 262, 297, 300, 916, 208, 40515].every((n) => isUnavailableError({number: n}))).toBe(true)
    expect(isUnavailableError({number: 102})).toBe(false)
    expect(isUnavailableError(new Error('socket hang up'))).toBe(false)
    expect(isUnavailableError(null)).toBe(false)
  })
})
