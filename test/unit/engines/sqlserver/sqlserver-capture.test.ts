/**
 * SQL Server CDC capture without a server: change rows as tedious returns them (binary(10) LSNs as
 * Buffers, converted column values) decoded into transactions; capture-instance choice;
 * prerequisites refused with the exact statements; and the polling stream over a scripted runner.
 */
import {describe, expect, it} from 'vitest'
import {EnvironmentError} from '../../../../src/cli/errors.js'
import type {ConnectionOptions} from '../../../../src/engines/engine.js'
import type {CapturedEvent} from '../../../../src/engines/replication.js'
import {comparePositions} from '../../../../src/engines/replication.js'
import {
  type CdcChangeRow,
  type CdcInstanceRow,
  chooseCaptureInstance,
  decodeCdcChanges,
  lsnDecrement,
  lsnFromHex,
  lsnToHex,
  SqlServerChangeCapture,
} from '../../../../src/engines/sqlserver/sqlserver-capture.js'
import {SQLSERVER_CDC_QUERIES} from '../../../../src/engines/sqlserver/sqlserver-replication-queries.js'
import type {SqlParams, SqlRunner} from '../../../../src/engines/sqlserver/sqlserver-replication-values.js'
import {AGENT_STATUS_QUERY, CDC_RETENTION_QUERY} from '../../../../src/engines/sqlserver/sqlserver-queries.js'
import {ledger, lsn, payments, table, col} from './replication-fixtures.js'

const conn: ConnectionOptions = {
  engine: 'sqlserver',
  host: 'db.internal',
  port: 1433,
  user: 'payctl',
  password: null,
  database: 'Payments',
  tls: {mode: 'require'},
  connectTimeoutMs: 5000,
  queryTimeoutMs: 30000,
  poolSize: 4,
  label: 'source',
}

const ledgerColumns = ledger.columns
function ledgerRow(start: string, seq: string, op: number, account: number, entry: string, amount: string | null): CdcChangeRow {
  return {__$start_lsn: lsn(start), __$seqval: lsn(seq), __$operation: op, account_id: account, entry_no: entry, amount, memo: 'x'}
}

describe('LSNs', () => {
  it('are 20 upper-case hex digits, ordered as comparePositions orders them', () => {
    const a = lsnToHex(lsn('0000002A000000F80003'))
    expect(a).toBe('0000002A000000F80003')
    expect(lsnFromHex(a)).toEqual(lsn('0000002A000000F80003'))
    const b = lsnToHex(lsn('0000002B000000100001'))
    expect(comparePositions({kind: 'lsn', commitLsn: a, changeLsn: null}, {kind: 'lsn', commitLsn: b, changeLsn: null})).toBeLessThan(0)
    expect(() => lsnToHex(Buffer.alloc(8))).toThrow(/10 bytes/)
    expect(lsnDecrement('0000002A000000F80000')).toBe('0000002A000000F7FFFF')
    expect(lsnDecrement('00000000000000000000')).toBe('00000000000000000000')
  })
})

describe('decodeCdcChanges', () => {
  const after = {kind: 'lsn' as const, commitLsn: '00000000000000000010', changeLsn: null}

  it('pairs update images, merges instances by (commit LSN, change LSN) and groups by commit', () => {
    const events = decodeCdcChanges({
      tables: [
        {
          schema: 'dbo',
          table: 'ledger_entries',
          columns: ledgerColumns,
          rows: [
            ledgerRow('20', '21', 2, 1, '7', '10.0000'),
            ledgerRow('30', '31', 3, 1, '7', '10.0000'),
            ledgerRow('30', '31', 4, 1, '7', '12.5000'),
            ledgerRow('30', '33', 1, 1, '8', '1.0000'),
          ],
        },
        {
          schema: 'dbo',
          table: 'payments',
          columns: [col('payment_id', 'bigint'), col('rate', 'real')],
          rows: [{__$start_lsn: lsn('30'), __$seqval: lsn('32'), __$operation: 2, payment_id: '9007199254740993', rate: 0.10000000149011612}],
        },
      ],
      commitTimes: [
        {start_lsn: lsn('20'), commit_time_ms: '1700000000000'},
        {start_lsn: lsn('30'), commit_time_ms: '1700000001234'},
      ],
      ddl: [],
      after,
      nowMs: 1,
    })
    expect(events).toEqual<CapturedEvent[]>([
      {
        kind: 'transaction',
        position: {kind: 'lsn', commitLsn: '00000000000000000020', changeLsn: null},
        commitTimeMs: 1700000000000,
        changes: [{op: 'insert', schema: 'dbo', table: 'ledger_entries', before: null, after: {account_id: 1, entry_no: '7', amount: '10.0000', memo: 'x'}}],
      },
      {
        kind: 'transaction',
        position: {kind: 'lsn', commitLsn: '00000000000000000030', changeLsn: null},
        commitTimeMs: 1700000001234,
        changes: [
          {
            op: 'update',
            schema: 'dbo',
            table: 'ledger_entries',
            before: {account_id: 1, entry_no: '7', amount: '10.0000', memo: 'x'},
            after: {account_id: 1, entry_no: '7', amount: '12.5000', memo: 'x'},
          },
          {op: 'insert', schema: 'dbo', table: 'payments', before: null, after: {payment_id: '9007199254740993', rate: 0.1}},
          {op: 'delete', schema: 'dbo', table: 'ledger_entries', before: {account_id: 1, entry_no: '8', amount: '1.0000', memo: 'x'}, after: null},
        ],
      },
    ])
  })

  it('skips what the position covers: whole commits, or changes up to the change LSN within one', () => {
    const rows = [ledgerRow('10', '11', 2, 1, '1', null), ledgerRow('10', '12', 2, 1, '2', null), ledgerRow('20', '21', 2, 1, '3', null)]
    const decode = (p: {commitLsn: string; changeLsn: string | null}) =>
      decodeCdcChanges({tables: [{schema: 'dbo', table: 'ledger_entries', columns: ledgerColumns, rows}], commitTimes: [], ddl: [], after: {kind: 'lsn', ...p}, nowMs: 5})
        .flatMap((e) => (e.kind === 'transaction' ? e.changes : []))
        .map((c) => c.after?.entry_no)
    expect(decode({commitLsn: '00000000000000000010', changeLsn: null})).toEqual(['3'])
    expect(decode({commitLsn: '00000000000000000010', changeLsn: '00000000000000000011'})).toEqual(['2', '3'])
    expect(decode({commitLsn: '00000000000000000009', changeLsn: null})).toEqual(['1', '2', '3'])
  })

  it('ends at a schema change: transactions up to its LSN, then the DDL, nothing after', () => {
    const rows = [ledgerRow('20', '21', 2, 1, '1', null), ledgerRow('40', '41', 2, 1, '2', null)]
    const events = decodeCdcChanges({
      tables: [{schema: 'dbo', table: 'ledger_entries', columns: ledgerColumns, rows}],
      commitTimes: [],
      ddl: [{schema: 'dbo', table: 'ledger_entries', ddl_lsn: lsn('30'), ddl_command: 'ALTER TABLE dbo.ledger_entries ADD note nvarchar(50) NULL', ddl_time_ms: '1700000002000'}],
      after,
      nowMs: 7,
      windowEnd: lsn('40'),
    })
    expect(events.map((e) => [e.kind, e.position.kind === 'lsn' ? e.position.commitLsn : '', e.commitTimeMs])).toEqual([
      ['transaction', '00000000000000000020', 7],
      ['ddl', '00000000000000000030', 1700000002000],
    ])
    expect(events[1]).toMatchObject({schema: 'dbo', statement: 'ALTER TABLE dbo.ledger_entries ADD note nvarchar(50) NULL'})
  })

  it('closes a quiet window with an empty transaction at its last LSN', () => {
    const events = decodeCdcChanges({tables: [], commitTimes: [{start_lsn: lsn('50'), commit_time_ms: 99}], ddl: [], after, nowMs: 1, windowEnd: lsn('50')})
    expect(events).toEqual([{kind: 'transaction', position: {kind: 'lsn', commitLsn: '00000000000000000050', changeLsn: null}, commitTimeMs: 99, changes: []}])
  })

  it('refuses an update before-image without its after-image', () => {
    expect(() =>
      decodeCdcChanges({tables: [{schema: 'dbo', table: 'ledger_entries', columns: ledgerColumns, rows: [ledgerRow('20', '21', 3, 1, '1', null)]}], commitTimes: [], ddl: [], after, nowMs: 1}),
    ).toThrow(/1 update before-image\(s\) and 0 after-image/)
  })
})

describe('chooseCaptureInstance', () => {
  const rows: CdcInstanceRow[] = [
    {schema_name: 'dbo', table_name: 'payments', capture_instance: 'dbo_payments', create_date: new Date('2024-01-01T00:00:00Z'), min_lsn: lsn('10')},
    {schema_name: 'dbo', table_name: 'payments', capture_instance: 'dbo_payments_v2', create_date: new Date('2024-03-01T00:00:00Z'), min_lsn: lsn('90')},
  ]
  it('picks the newest instance the model names, else the newest live one', () => {
    expect(chooseCaptureInstance({...payments, features: {...payments.features, cdcCaptureInstances: ['dbo_payments', 'dbo_payments_v2']}}, rows)?.capture_instance).toBe('dbo_payments_v2')
    expect(chooseCaptureInstance(payments, rows)?.capture_instance).toBe('dbo_payments')
    expect(chooseCaptureInstance({...payments, features: {...payments.features, cdcCaptureInstances: []}}, rows)?.capture_instance).toBe('dbo_payments_v2')
    expect(chooseCaptureInstance(ledger, rows)).toBeNull()
  })
})

/** A runner answering each statement from a script, recording what was asked. */
function scripted(answer: (sql: string, params: SqlParams) => unknown[] | Error): SqlRunner & {calls: Array<{sql: string; params: SqlParams}>} {
  const calls: Array<{sql: string; params: SqlParams}> = []
  return {
    calls,
    query<Row>(sql: string, params: SqlParams = {}, signal?: AbortSignal): Promise<Row[]> {
      calls.push({sql, params})
      if (signal?.aborted === true) return Promise.reject(signal.reason as Error)
      const out = answer(sql, params)
      return out instanceof Error ? Promise.reject(out) : Promise.resolve(out as Row[])
    },
  }
}

describe('checkPrerequisites', () => {
  it('names sp_cdc_enable_db and every table when CDC is off for the database', async () => {
    const run = scripted((sql) => (sql === SQLSERVER_CDC_QUERIES.cdcDatabase ? [{is_cdc_enabled: false, engine_edition: 3}] : sql === AGENT_STATUS_QUERY ? [{servicename: 'SQL Server Agent (MSSQLSERVER)', status_desc: 'Running'}] : []))
    const err: unknown = await new SqlServerChangeCapture(run, conn).checkPrerequisites([payments, ledger]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EnvironmentError)
    const e = err as EnvironmentError
    expect(e).toMatchObject({code: 'PAYCTL_CDC_NOT_READY', exitCode: 3})
    expect(e.message).toContain('EXEC sys.sp_cdc_enable_db')
    expect(e.actions).toContain("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'payments', @role_name = NULL, @supports_net_changes = 0")
    expect(e.actions).toContain("EXEC sys.sp_cdc_enable_table @source_schema = N'dbo', @source_name = N'ledger_entries', @role_name = NULL, @supports_net_changes = 0")
    expect(e.data).toMatchObject({tablesWithoutCapture: ['dbo.payments', 'dbo.ledger_entries']})
  })

  it('reports every table without an instance, uncaptured columns and a stopped Agent in one error', async () => {
    const run = scripted((sql) => {
      if (sql === SQLSERVER_CDC_QUERIES.cdcDatabase) return [{is_cdc_enabled: true, engine_edition: 3}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcInstances) return [{schema_name: 'dbo', table_name: 'ledger_entries', capture_instance: 'dbo_ledger_entries', create_date: new Date(0), min_lsn: lsn('1')}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcCapturedColumns) return ['account_id', 'entry_no', 'amount'].map((column_name) => ({capture_instance: 'dbo_ledger_entries', column_name}))
      if (sql === AGENT_STATUS_QUERY) return [{servicename: 'SQL Server Agent (MSSQLSERVER)', status_desc: 'Stopped'}]
      return []
    })
    const extra = table('dbo', 'refunds', [col('refund_id', 'int')], ['refund_id'])
    const err = (await new SqlServerChangeCapture(run, conn).checkPrerequisites([payments, ledger, extra]).catch((e: unknown) => e)) as EnvironmentError
    expect(err.code).toBe('PAYCTL_CDC_NOT_READY')
    expect(err.message).toContain("@source_name = N'payments'")
    expect(err.message).toContain("@source_name = N'refunds'")
    expect(err.message).toContain('does not record column(s) memo')
    expect(err.message).toContain('SQL Server Agent is not running')
    expect(err.data).toMatchObject({tablesWithoutCapture: ['dbo.payments', 'dbo.refunds']})
  })

  it('passes when the database, every table and the Agent are ready', async () => {
    const run = scripted((sql) => {
      if (sql === SQLSERVER_CDC_QUERIES.cdcDatabase) return [{is_cdc_enabled: true, engine_edition: 3}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcInstances) return [{schema_name: 'dbo', table_name: 'ledger_entries', capture_instance: 'dbo_ledger_entries', create_date: new Date(0), min_lsn: lsn('1')}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcCapturedColumns) return new Error('no SELECT on cdc.captured_columns')
      if (sql === AGENT_STATUS_QUERY) return new Error('VIEW SERVER STATE permission was denied')
      if (sql === SQLSERVER_CDC_QUERIES.cdcCaptureJob) return [{job_type: 'capture'}]
      return []
    })
    await expect(new SqlServerChangeCapture(run, conn).checkPrerequisites([ledger])).resolves.toBeUndefined()
  })
})

describe('positions and retention', () => {
  it('reads the current position from fn_cdc_get_max_lsn, and refuses when the capture job never ran', async () => {
    const capture = new SqlServerChangeCapture(scripted(() => [{max_lsn: lsn('0000002A000000F80003')}]), conn)
    await expect(capture.currentPosition()).resolves.toEqual({kind: 'lsn', commitLsn: '0000002A000000F80003', changeLsn: null})
    const fresh = new SqlServerChangeCapture(scripted(() => [{max_lsn: lsn('20'), newest_start_lsn: lsn('40')}]), conn)
    await expect(fresh.currentPosition()).resolves.toEqual({kind: 'lsn', commitLsn: '0000000000000000003F', changeLsn: null})
    const older = new SqlServerChangeCapture(scripted(() => [{max_lsn: lsn('50'), newest_start_lsn: lsn('40')}]), conn)
    await expect(older.currentPosition()).resolves.toEqual({kind: 'lsn', commitLsn: '00000000000000000050', changeLsn: null})
    const none = new SqlServerChangeCapture(scripted(() => [{max_lsn: null, newest_start_lsn: null}]), conn)
    await expect(none.currentPosition()).rejects.toMatchObject({code: 'PAYCTL_CDC_NO_MAX_LSN', exitCode: 3})
  })

  it('reports the cleanup retention and the oldest resumable position', async () => {
    const run = scripted((sql) => {
      if (sql === CDC_RETENTION_QUERY) return [{retention: '4320'}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcInstances) {
        return [
          {schema_name: 'dbo', table_name: 'payments', capture_instance: 'dbo_payments', create_date: new Date(0), min_lsn: lsn('40')},
          {schema_name: 'dbo', table_name: 'ledger_entries', capture_instance: 'dbo_ledger_entries', create_date: new Date(0), min_lsn: lsn('30')},
        ]
      }
      return []
    })
    await expect(new SqlServerChangeCapture(run, conn).retention()).resolves.toEqual({
      retentionSeconds: 4320 * 60,
      oldest: {kind: 'lsn', commitLsn: '0000000000000000003F', changeLsn: null},
    })
  })
})

describe('the change stream', () => {
  const instances = [{schema_name: 'dbo', table_name: 'ledger_entries', capture_instance: 'dbo_ledger_entries', create_date: new Date(0), min_lsn: lsn('05')}]

  it('polls windows from the position, reads every instance, and stops on close()', async () => {
    let polls = 0
    const run = scripted((sql, params) => {
      if (sql === SQLSERVER_CDC_QUERIES.cdcInstances) return instances
      if (sql === SQLSERVER_CDC_QUERIES.cdcCapturedColumns) return []
      if (sql === SQLSERVER_CDC_QUERIES.cdcWindow) {
        polls++
        const afterLsn = params.after_lsn?.value as Buffer
        if (lsnToHex(afterLsn) === '00000000000000000010') return [{from_lsn: lsn('11'), max_lsn: lsn('30'), to_lsn: lsn('30')}]
        return [{from_lsn: lsn('31'), max_lsn: lsn('30'), to_lsn: lsn('30')}]
      }
      if (sql.includes('fn_cdc_get_all_changes_dbo_ledger_entries')) return [ledgerRow('20', '21', 2, 1, '7', '1.0000')]
      if (sql === SQLSERVER_CDC_QUERIES.cdcCommitTimes) return [{start_lsn: lsn('20'), commit_time_ms: '1000'}]
      return []
    })
    const capture = new SqlServerChangeCapture(run, conn, {pollIntervalMs: 5})
    const stream = capture.open({kind: 'lsn', commitLsn: '00000000000000000010', changeLsn: null}, [ledger])
    const seen: CapturedEvent[] = []
    for await (const e of stream) {
      seen.push(e)
      if (seen.length === 2) setTimeout(() => void stream.close(), 30)
    }
    expect(seen.map((e) => (e.position.kind === 'lsn' ? e.position.commitLsn : ''))).toEqual(['00000000000000000020', '00000000000000000030'])
    expect(seen[0]).toMatchObject({kind: 'transaction', commitTimeMs: 1000, changes: [{op: 'insert', after: {entry_no: '7'}}]})
    expect(seen[1]).toMatchObject({kind: 'transaction', changes: []})
    // a quiet server is polled at the interval, not in a busy loop
    expect(polls).toBeGreaterThan(1)
    expect(polls).toBeLessThan(20)
    const changeCall = run.calls.find((c) => c.sql.includes('fn_cdc_get_all_changes_'))
    expect(changeCall?.params.from_lsn?.value).toEqual(lsn('11'))
    expect(changeCall?.params.to_lsn?.value).toEqual(lsn('30'))
  })

  it('ends when the signal aborts', async () => {
    const run = scripted((sql) => (sql === SQLSERVER_CDC_QUERIES.cdcInstances ? instances : sql === SQLSERVER_CDC_QUERIES.cdcWindow ? [{from_lsn: lsn('11'), max_lsn: null, to_lsn: null}] : []))
    const ac = new AbortController()
    const stream = new SqlServerChangeCapture(run, conn, {pollIntervalMs: 60_000}).open({kind: 'lsn', commitLsn: '00000000000000000010', changeLsn: null}, [ledger], ac.signal)
    setTimeout(() => ac.abort(), 20)
    const started = Date.now()
    for await (const _ of stream) throw new Error('no event expected')
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('refuses a position older than the capture instance keeps', async () => {
    const run = scripted((sql) => {
      if (sql === SQLSERVER_CDC_QUERIES.cdcInstances) return [{...instances[0], min_lsn: lsn('50')}]
      if (sql === SQLSERVER_CDC_QUERIES.cdcWindow) return [{from_lsn: lsn('11'), max_lsn: lsn('60'), to_lsn: lsn('60')}]
      return []
    })
    const stream = new SqlServerChangeCapture(run, conn).open({kind: 'lsn', commitLsn: '00000000000000000010', changeLsn: null}, [ledger])
    const consume = async (): Promise<void> => {
      for await (const _ of stream) throw new Error('no event expected')
    }
    await expect(consume()).rejects.toMatchObject({code: 'PAYCTL_CAPTURE_POSITION_EXPIRED', exitCode: 3})
  })

  it('refuses tables without a capture instance when opened', async () => {
    const run = scripted((sql) => (sql === SQLSERVER_CDC_QUERIES.cdcInstances ? [] : []))
    const stream = new SqlServerChangeCapture(run, conn).open({kind: 'lsn', commitLsn: '00000000000000000010', changeLsn: null}, [ledger])
    const consume = async (): Promise<void> => {
      for await (const _ of stream) throw new Error('no event expected')
    }
    await expect(consume()).rejects.toMatchObject({code: 'PAYCTL_CDC_NOT_READY'})
  })
})
