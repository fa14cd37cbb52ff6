/**
 * Change capture from SQL Server CDC (MS-CDC), as Debezium's SQL Server connector does it
 * (research/migration-anchors.md section 6):
 *
 * - Positions are commit LSNs (`__$start_lsn`, binary(10), as 20 upper-case hex digits) plus, to
 *   resume inside a commit, the change LSN (`__$seqval`). currentPosition is
 *   sys.fn_cdc_get_max_lsn(): the capture job's high-water mark. A change committed earlier but not
 *   yet harvested by the job has a larger LSN, so a stream opened there still delivers it.
 * - Each poll reads the window [from, to]: from = sys.fn_cdc_increment_lsn(last commit LSN) (or the
 *   last commit LSN itself when the position is inside a commit; changes at or before its change
 *   LSN are skipped), to = the max LSN, or the commit LSN of the Nth transaction when more are
 *   waiting (bounded memory per poll). Every capture instance is read for the window with
 *   cdc.fn_cdc_get_all_changes_<instance>(from, to, N'all update old'); the rows are merged by
 *   (__$start_lsn, __$seqval) and grouped by commit LSN into transactions; an update is the pair
 *   of operation 3 (before) and 4 (after) with the same __$seqval. Commit times come from
 *   cdc.lsn_time_mapping.
 * - Which capture instance: a table may have two (the second one created after an ALTER TABLE).
 *   payctl reads the newest one (latest cdc.change_tables.create_date) among those the table model
 *   names (all of the table's instances when the model names none that still exist). A position
 *   older than that instance's first LSN cannot be served by it: the stream refuses with
 *   PAYCTL_CAPTURE_POSITION_EXPIRED, as it does when the cleanup job has removed the history.
 * - A window whose last LSN ends no transaction on the captured tables closes with an empty
 *   transaction at that LSN (as the MySQL capture delivers other tables' transactions empty), so
 *   the position advances and lag is measured while the tables are quiet.
 * - Schema changes: a cdc.ddl_history row on a read instance after the position becomes a
 *   CapturedDdl event, emitted after the transactions committed up to its LSN; the stream then ends.
 * - Delivery is at least once across restarts; the applier is idempotent (lessons 1-2).
 * - A poll that finds nothing waits pollIntervalMs (default 200 ms) before the next; close() and
 *   the AbortSignal end the wait at once; either ends the iteration (an abort cancels the query in
 *   flight too).
 */
import {BugError, EnvironmentError} from '../../cli/errors.js'
import {describeEndpoint, type ConnectionOptions} from '../engine.js'
import type {ColumnModel, TableModel} from '../model.js'
import type {
  CapturedEvent,
  CapturedTransaction,
  CapturePosition,
  CaptureRetention,
  ChangeCapture,
  ChangeStream,
  RowChange,
} from '../replication.js'
import {AGENT_STATUS_QUERY, CDC_RETENTION_QUERY} from './sqlserver-queries.js'
import {
  CDC_CAPTURE_JOB_QUERY,
  CDC_CAPTURED_COLUMNS_QUERY,
  CDC_COMMIT_TIMES_QUERY,
  CDC_DATABASE_QUERY,
  CDC_DDL_QUERY,
  CDC_INSTANCES_QUERY,
  CDC_MAX_LSN_QUERY,
  CDC_WINDOW_QUERY,
  cdcChangesQuery,
  enableTableStatement,
} from './sqlserver-replication-queries.js'
import {decodeValue, driverErrorNumbers, type SqlRunner} from './sqlserver-replication-values.js'

export const DEFAULT_POLL_INTERVAL_MS = 200
export const DEFAULT_MAX_TRANSACTIONS_PER_POLL = 500
/** Engine edition of Azure SQL Database: no SQL Server Agent, CDC runs on its own scheduler. */
const AZURE_SQL_DATABASE = 5
/** "An insufficient number of arguments were supplied": what fn_cdc_get_all_changes_* says for a window outside the instance's LSN range. */
const CDC_RANGE_ERROR = 313
const LSN_BYTES = 10

// ---------------------------------------------------------------------------------------------
// LSNs

/** A binary(10) LSN as the driver returns it -> 20 upper-case hex digits. */
export function lsnToHex(lsn: Buffer | Uint8Array): string {
  if (lsn.length !== LSN_BYTES) throw new BugError(`An LSN has ${LSN_BYTES} bytes; got ${lsn.length}.`)
  return Buffer.from(lsn).toString('hex').toUpperCase()
}

export function lsnFromHex(hex: string): Buffer {
  if (!/^[0-9A-Fa-f]{20}$/.test(hex)) throw new BugError(`Not an LSN (20 hex digits): ${JSON.stringify(hex)}.`)
  return Buffer.from(hex, 'hex')
}

/** The LSN just before `hex` (fn_cdc_increment_lsn's inverse); the all-zero LSN stays as it is. */
export function lsnDecrement(hex: string): string {
  const n = BigInt(`0x${lsnFromHex(hex).toString('hex')}`)
  return (n === 0n ? 0n : n - 1n).toString(16).toUpperCase().padStart(LSN_BYTES * 2, '0')
}

function isZeroLsn(lsn: Buffer): boolean {
  return lsn.every((b) => b === 0)
}

// ---------------------------------------------------------------------------------------------
// Decoding change rows (pure)

/** A row of cdc.fn_cdc_get_all_changes_<instance> as tedious returns it: binary(10) LSNs as Buffers, the captured columns by name. */
export interface CdcChangeRow {
  __$start_lsn: Buffer
  __$seqval: Buffer
  /** 1 delete, 2 insert, 3 update (before image), 4 update (after image). */
  __$operation: number
  [column: string]: unknown
}

export interface CdcTableChanges {
  schema: string
  table: string
  /** The columns selected from the change function, in order (names and types, for decodeValue). */
  columns: readonly Pick<ColumnModel, 'name' | 'dataType'>[]
  /** In (__$start_lsn, __$seqval, __$operation) order, as cdcChangesQuery returns them. */
  rows: readonly CdcChangeRow[]
}

export interface CdcCommitTimeRow {
  start_lsn: Buffer
  /** bigint: a string from tedious. */
  commit_time_ms: string | number
}

export interface CdcDdlEvent {
  schema: string
  table: string
  ddl_lsn: Buffer
  ddl_command: string
  ddl_time_ms: string | number
}

export interface DecodeInput {
  tables: readonly CdcTableChanges[]
  commitTimes: readonly CdcCommitTimeRow[]
  /** Schema changes on the captured tables in the window, any order. */
  ddl: readonly CdcDdlEvent[]
  /** The stream's position: changes at or before it are left out. */
  after: Extract<CapturePosition, {kind: 'lsn'}>
  /** Commit time for a transaction missing from lsn_time_mapping (ms since the epoch). */
  nowMs: number
  /**
   * The window's last LSN: when no transaction ends there, an empty transaction at it closes the
   * window, so the position moves (and lag is measured) while the captured tables are quiet.
   */
  windowEnd?: Buffer
}

interface Entry {
  commitLsn: string
  changeLsn: string
  tableOrder: number
  change: RowChange
}

function rowRecord(row: CdcChangeRow, columns: readonly Pick<ColumnModel, 'name' | 'dataType'>[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const c of columns) out[c.name] = decodeValue(c, row[c.name] ?? null)
  return out
}

/** One table's rows as row changes: 1 -> delete, 2 -> insert, 3 + 4 with the same seqval -> update. */
function tableEntries(t: CdcTableChanges, tableOrder: number): Entry[] {
  const entries: Entry[] = []
  let i = 0
  while (i < t.rows.length) {
    const first = t.rows[i] as CdcChangeRow
    const commitLsn = lsnToHex(first.__$start_lsn)
    const changeLsn = lsnToHex(first.__$seqval)
    const group: CdcChangeRow[] = []
    while (i < t.rows.length) {
      const r = t.rows[i] as CdcChangeRow
      if (lsnToHex(r.__$start_lsn) !== commitLsn || lsnToHex(r.__$seqval) !== changeLsn) break
      group.push(r)
      i++
    }
    const befores = group.filter((r) => r.__$operation === 3)
    const afters = group.filter((r) => r.__$operation === 4)
    if (befores.length !== afters.length) {
      throw new BugError(
        `CDC returned ${befores.length} update before-image(s) and ${afters.length} after-image(s) for ${t.schema}.${t.table} at LSN 0x${commitLsn} seq 0x${changeLsn}.`,
      )
    }
    let pair = 0
    for (const r of group) {
      const base = {schema: t.schema, table: t.table}
      let change: RowChange | null = null
      switch (r.__$operation) {
        case 1:
          change = {...base, op: 'delete', before: rowRecord(r, t.columns), after: null}
          break
        case 2:
          change = {...base, op: 'insert', before: null, after: rowRecord(r, t.columns)}
          break
        case 3:
          change = {...base, op: 'update', before: rowRecord(r, t.columns), after: rowRecord(afters[pair] as CdcChangeRow, t.columns)}
          pair++
          break
        case 4:
          break
        default:
          throw new BugError(`Unknown CDC __$operation ${String(r.__$operation)} for ${t.schema}.${t.table}.`)
      }
      if (change !== null) entries.push({commitLsn, changeLsn, tableOrder, change})
    }
  }
  return entries
}

function isAfter(e: {commitLsn: string; changeLsn: string}, p: Extract<CapturePosition, {kind: 'lsn'}>): boolean {
  if (e.commitLsn !== p.commitLsn) return e.commitLsn > p.commitLsn
  return p.changeLsn !== null && e.changeLsn > p.changeLsn
}

function compareEntries(a: Entry, b: Entry): number {
  if (a.commitLsn !== b.commitLsn) return a.commitLsn < b.commitLsn ? -1 : 1
  if (a.changeLsn !== b.changeLsn) return a.changeLsn < b.changeLsn ? -1 : 1
  return a.tableOrder - b.tableOrder
}

/**
 * The events of one window, in commit order: the rows of every capture instance merged by
 * (commit LSN, change LSN), grouped by commit LSN into transactions, then the first schema change
 * (if any) after the transactions committed up to its LSN; nothing after it.
 */
export function decodeCdcChanges(input: DecodeInput): CapturedEvent[] {
  const entries = input.tables.flatMap((t, order) => tableEntries(t, order)).filter((e) => isAfter(e, input.after))
  // Array.prototype.sort is stable: within one change LSN the rows keep their table's order.
  entries.sort(compareEntries)
  const times = new Map(input.commitTimes.map((r) => [lsnToHex(r.start_lsn), Number(r.commit_time_ms)]))
  const ddl = input.ddl
    .map((d) => ({...d, lsn: lsnToHex(d.ddl_lsn)}))
    .filter((d) => isAfter({commitLsn: d.lsn, changeLsn: ''}, {...input.after, changeLsn: null}))
    .sort((a, b) => (a.lsn < b.lsn ? -1 : a.lsn > b.lsn ? 1 : 0))[0]

  const events: CapturedEvent[] = []
  let current: CapturedTransaction | null = null
  for (const e of entries) {
    if (ddl !== undefined && e.commitLsn > ddl.lsn) break
    if (current === null || current.position.kind !== 'lsn' || current.position.commitLsn !== e.commitLsn) {
      current = {
        kind: 'transaction',
        position: {kind: 'lsn', commitLsn: e.commitLsn, changeLsn: null},
        commitTimeMs: times.get(e.commitLsn) ?? input.nowMs,
        changes: [],
      }
      events.push(current)
    }
    current.changes.push(e.change)
  }
  const end = input.windowEnd === undefined ? undefined : lsnToHex(input.windowEnd)
  const last = events.at(-1)
  const lastLsn = last?.position.kind === 'lsn' ? last.position.commitLsn : input.after.commitLsn
  if (ddl === undefined && end !== undefined && end > lastLsn) {
    events.push({kind: 'transaction', position: {kind: 'lsn', commitLsn: end, changeLsn: null}, commitTimeMs: times.get(end) ?? input.nowMs, changes: []})
  }
  if (ddl !== undefined) {
    events.push({
      kind: 'ddl',
      position: {kind: 'lsn', commitLsn: ddl.lsn, changeLsn: null},
      commitTimeMs: Number(ddl.ddl_time_ms),
      schema: ddl.schema,
      statement: ddl.ddl_command,
    })
  }
  return events
}

// ---------------------------------------------------------------------------------------------
// Capture instances

export interface CdcInstanceRow {
  schema_name: string
  table_name: string
  capture_instance: string
  create_date: Date
  min_lsn: Buffer | null
}

export interface CdcCapturedColumnRow {
  capture_instance: string
  column_name: string
}

/**
 * The capture instance payctl reads for a table: the newest (latest create_date, then name) of
 * the live instances the model names, or of all the table's live instances when the model names
 * none of them (a model read before sp_cdc_enable_table). Null when the table has none.
 */
export function chooseCaptureInstance(table: Pick<TableModel, 'schema' | 'name' | 'features'>, rows: readonly CdcInstanceRow[]): CdcInstanceRow | null {
  const live = rows.filter((r) => r.schema_name === table.schema && r.table_name === table.name)
  const named = live.filter((r) => table.features.cdcCaptureInstances.includes(r.capture_instance))
  const pool = named.length > 0 ? named : live
  let best: CdcInstanceRow | null = null
  for (const r of pool) {
    if (best === null) best = r
    else {
      const d = r.create_date.getTime() - best.create_date.getTime()
      if (d > 0 || (d === 0 && r.capture_instance > best.capture_instance)) best = r
    }
  }
  return best
}

/** What one table's changes are read with. */
export interface CapturePlan {
  schema: string
  table: string
  instance: string
  minLsn: Buffer | null
  columns: ColumnModel[]
}

/** Copied columns (every non-generated one) that the instance records; all of them when its captured-column list is unknown. */
export function capturePlan(table: TableModel, instance: CdcInstanceRow, captured: readonly CdcCapturedColumnRow[] | null): CapturePlan {
  const own = captured?.filter((c) => c.capture_instance === instance.capture_instance) ?? []
  // no rows for the instance: the list could not be read (every instance records at least one column)
  const names = own.length === 0 ? null : new Set(own.map((c) => c.column_name))
  return {
    schema: table.schema,
    table: table.name,
    instance: instance.capture_instance,
    minLsn: instance.min_lsn,
    columns: table.columns.filter((c) => c.generated === null && (names === null || names.has(c.name))),
  }
}

// ---------------------------------------------------------------------------------------------
// The capture

export interface SqlServerCaptureOptions {
  /** Wait between polls that found nothing new; default 200 ms. */
  pollIntervalMs?: number
  /** At most this many source transactions per poll; default 500. */
  maxTransactionsPerPoll?: number
  now?: () => number
}

interface WindowRow {
  from_lsn: Buffer | null
  max_lsn: Buffer | null
  to_lsn: Buffer | null
}

type LsnPosition = Extract<CapturePosition, {kind: 'lsn'}>

async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p
  } catch {
    return null
  }
}

export class SqlServerChangeCapture implements ChangeCapture {
  readonly #run: SqlRunner
  readonly #conn: ConnectionOptions
  readonly #pollIntervalMs: number
  readonly #maxTransactions: number
  readonly #now: () => number
  /** Instances of the tables last checked or opened: retention() reports their oldest LSN. */
  #instances: string[] = []

  constructor(run: SqlRunner, connection: ConnectionOptions, options: SqlServerCaptureOptions = {}) {
    this.#run = run
    this.#conn = connection
    this.#pollIntervalMs = Math.max(1, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS)
    this.#maxTransactions = Math.max(1, Math.floor(options.maxTransactionsPerPoll ?? DEFAULT_MAX_TRANSACTIONS_PER_POLL))
    this.#now = options.now ?? Date.now
  }

  #where(): string {
    return `the ${this.#conn.label} (SQL Server at ${describeEndpoint(this.#conn)}, database "${this.#conn.database}")`
  }

  async checkPrerequisites(tables: readonly TableModel[]): Promise<void> {
    const [db] = await this.#run.query<{is_cdc_enabled: boolean; engine_edition: number | null}>(CDC_DATABASE_QUERY)
    const problems: string[] = []
    const actions: string[] = []
    const missing: string[] = []
    if (db === undefined || !db.is_cdc_enabled) {
      problems.push(`CDC is off for the database: run EXEC sys.sp_cdc_enable_db (as a member of sysadmin).`)
      actions.push(`USE ${this.#conn.database}; EXEC sys.sp_cdc_enable_db`)
      for (const t of tables) {
        missing.push(`${t.schema}.${t.name}`)
        actions.push(enableTableStatement(t.schema, t.name))
      }
    } else {
      const instances = await this.#run.query<CdcInstanceRow>(CDC_INSTANCES_QUERY)
      const captured = await optional(this.#run.query<CdcCapturedColumnRow>(CDC_CAPTURED_COLUMNS_QUERY))
      const chosen: string[] = []
      for (const t of tables) {
        const instance = chooseCaptureInstance(t, instances)
        if (instance === null) {
          missing.push(`${t.schema}.${t.name}`)
          problems.push(`Table ${t.schema}.${t.name} has no CDC capture instance: run ${enableTableStatement(t.schema, t.name)}.`)
          actions.push(enableTableStatement(t.schema, t.name))
          continue
        }
        chosen.push(instance.capture_instance)
        const plan = capturePlan(t, instance, captured)
        const left = t.columns.filter((c) => c.generated === null && !plan.columns.includes(c)).map((c) => c.name)
        if (left.length > 0) {
          const replacement = `${t.schema}_${t.name}_all`.slice(0, 100)
          problems.push(
            `Capture instance ${instance.capture_instance} of ${t.schema}.${t.name} does not record column(s) ${left.join(', ')}: add an instance that records every column (${enableTableStatement(t.schema, t.name, replacement)}), then drop the old one with sys.sp_cdc_disable_table once replicate reads the new one.`,
          )
          actions.push(enableTableStatement(t.schema, t.name, replacement))
        }
      }
      this.#instances = chosen
    }
    if (db?.engine_edition !== AZURE_SQL_DATABASE) {
      const agent = await optional(this.#run.query<{servicename: string; status_desc: string}>(AGENT_STATUS_QUERY))
      if (agent !== null && agent.length > 0 && !agent.some((a) => /^running$/i.test(a.status_desc))) {
        problems.push('SQL Server Agent is not running: it runs the CDC capture job, so no change would be recorded.')
        actions.push('Start the SQL Server Agent service (SQL Server Configuration Manager, or: sudo /opt/mssql/bin/mssql-conf set sqlagent.enabled true, then restart mssql-server on Linux).')
      } else if (db?.is_cdc_enabled === true) {
        const jobs = await optional(this.#run.query<{job_type: string}>(CDC_CAPTURE_JOB_QUERY))
        if (jobs !== null && jobs.length === 0) {
          problems.push(`The database has no CDC capture job: run EXEC sys.sp_cdc_add_job @job_type = N'capture'.`)
          actions.push(`EXEC sys.sp_cdc_add_job @job_type = N'capture'`)
        }
      }
    }
    if (problems.length === 0) return
    throw new EnvironmentError('PAYCTL_CDC_NOT_READY', `Change data capture is not ready on ${this.#where()}:\n- ${problems.join('\n- ')}`, {
      actions: [`Run on the ${this.#conn.label} database, then rerun:`, ...actions],
      data: {side: this.#conn.label, endpoint: describeEndpoint(this.#conn), database: this.#conn.database, tablesWithoutCapture: missing},
    })
  }

  async currentPosition(): Promise<CapturePosition> {
    const [row] = await this.#run.query<{max_lsn: Buffer | null; newest_start_lsn?: Buffer | null}>(CDC_MAX_LSN_QUERY)
    if (row?.max_lsn == null || isZeroLsn(row.max_lsn)) {
      throw new EnvironmentError('PAYCTL_CDC_NO_MAX_LSN', `No maximum LSN is recorded by CDC on ${this.#where()}: the capture job has not run.`, {
        actions: [
          'Check that SQL Server Agent is running and that the capture job exists (EXEC sys.sp_cdc_help_jobs), then rerun.',
          `If the job is missing: EXEC sys.sp_cdc_add_job @job_type = N'capture'`,
        ],
        data: {side: this.#conn.label, endpoint: describeEndpoint(this.#conn)},
      })
    }
    // Every change committed before now is at or before the max LSN, or not yet harvested (then
    // after it), or on a table whose instance starts later; so the later of the max LSN and the
    // LSN just before the newest instance's start is a valid start, and never looks expired.
    const max = lsnToHex(row.max_lsn)
    const start = row.newest_start_lsn == null || isZeroLsn(row.newest_start_lsn) ? null : lsnDecrement(lsnToHex(row.newest_start_lsn))
    return {kind: 'lsn', commitLsn: start !== null && start > max ? start : max, changeLsn: null}
  }

  async retention(): Promise<CaptureRetention> {
    const jobs = await optional(this.#run.query<{retention: string | number}>(CDC_RETENTION_QUERY))
    const minutes = jobs?.[0]?.retention
    const instances = await optional(this.#run.query<CdcInstanceRow>(CDC_INSTANCES_QUERY))
    const relevant = (instances ?? []).filter((r) => this.#instances.length === 0 || this.#instances.includes(r.capture_instance))
    let oldest: string | null = null
    for (const r of relevant) {
      if (r.min_lsn === null || isZeroLsn(r.min_lsn)) continue
      const hex = lsnToHex(r.min_lsn)
      if (oldest === null || hex > oldest) oldest = hex
    }
    return {
      retentionSeconds: minutes === undefined || minutes === null ? null : Number(minutes) * 60,
      // resuming after position P reads from P + 1, so the LSN just before the low-water mark is still resumable
      oldest: oldest === null ? null : {kind: 'lsn', commitLsn: lsnDecrement(oldest), changeLsn: null},
    }
  }

  open(from: CapturePosition, tables: readonly TableModel[], signal?: AbortSignal): ChangeStream {
    if (from.kind !== 'lsn') throw new BugError(`A SQL Server change stream starts at an LSN position, not a ${from.kind} position.`)
    return new CdcChangeStream(this, from, tables, signal)
  }

  // -- used by the stream -----------------------------------------------------------------------

  get pollIntervalMs(): number {
    return this.#pollIntervalMs
  }

  now(): number {
    return this.#now()
  }

  async plans(tables: readonly TableModel[], signal?: AbortSignal): Promise<CapturePlan[]> {
    const instances = await this.#run.query<CdcInstanceRow>(CDC_INSTANCES_QUERY, {}, signal)
    const captured = await optional(this.#run.query<CdcCapturedColumnRow>(CDC_CAPTURED_COLUMNS_QUERY, {}, signal))
    const plans: CapturePlan[] = []
    const missing: string[] = []
    for (const t of tables) {
      const instance = chooseCaptureInstance(t, instances)
      if (instance === null) missing.push(`${t.schema}.${t.name}`)
      else plans.push(capturePlan(t, instance, captured))
    }
    if (missing.length > 0) {
      throw new EnvironmentError('PAYCTL_CDC_NOT_READY', `These tables have no CDC capture instance on ${this.#where()}: ${missing.join(', ')}.`, {
        actions: tables.filter((t) => missing.includes(`${t.schema}.${t.name}`)).map((t) => enableTableStatement(t.schema, t.name)),
        data: {side: this.#conn.label, tablesWithoutCapture: missing},
      })
    }
    this.#instances = plans.map((p) => p.instance)
    return plans
  }

  async window(after: LsnPosition, signal?: AbortSignal): Promise<{from: Buffer; to: Buffer; capped: boolean} | null> {
    const [row] = await this.#run.query<WindowRow>(
      CDC_WINDOW_QUERY,
      {
        after_lsn: {kind: 'binary', value: lsnFromHex(after.commitLsn)},
        inclusive: {kind: 'int', value: after.changeLsn === null ? 0 : 1},
        max_transactions: {kind: 'int', value: this.#maxTransactions},
      },
      signal,
    )
    if (row?.from_lsn == null || row.to_lsn == null || row.max_lsn == null) return null
    if (Buffer.compare(row.from_lsn, row.to_lsn) > 0) return null
    return {from: row.from_lsn, to: row.to_lsn, capped: Buffer.compare(row.to_lsn, row.max_lsn) < 0}
  }

  expired(plan: CapturePlan, from: Buffer): EnvironmentError {
    const oldest = plan.minLsn === null ? 'unknown' : `0x${lsnToHex(plan.minLsn)}`
    return new EnvironmentError(
      'PAYCTL_CAPTURE_POSITION_EXPIRED',
      `The change stream of ${this.#where()} must resume at LSN 0x${lsnToHex(from)}, but capture instance ${plan.instance} of ${plan.schema}.${plan.table} starts at ${oldest}: the CDC cleanup job removed the changes in between, or the instance was created after that position.`,
      {
        actions: [
          `Copy ${plan.schema}.${plan.table} again from a fresh start of payctl replicate (its changes since the position are lost to CDC).`,
          'Raise the CDC cleanup retention (EXEC sys.sp_cdc_change_job @job_type = N\'cleanup\', @retention = <minutes>) so a stopped replicate can resume later.',
        ],
        data: {side: this.#conn.label, table: `${plan.schema}.${plan.table}`, captureInstance: plan.instance, from: lsnToHex(from), oldest},
      },
    )
  }

  async readWindow(plans: readonly CapturePlan[], after: LsnPosition, from: Buffer, to: Buffer, signal?: AbortSignal): Promise<CapturedEvent[]> {
    const bounds = {from_lsn: {kind: 'binary', value: from}, to_lsn: {kind: 'binary', value: to}} as const
    const tables: CdcTableChanges[] = []
    for (const plan of plans) {
      if (plan.minLsn !== null && !isZeroLsn(plan.minLsn) && Buffer.compare(from, plan.minLsn) < 0) throw this.expired(plan, from)
      let rows: CdcChangeRow[]
      try {
        rows = await this.#run.query<CdcChangeRow>(cdcChangesQuery(plan.instance, plan.columns), bounds, signal)
      } catch (err) {
        if (driverErrorNumbers(err).has(CDC_RANGE_ERROR)) throw this.expired(plan, from)
        throw err
      }
      tables.push({schema: plan.schema, table: plan.table, columns: plan.columns, rows})
    }
    const commitTimes = await this.#run.query<CdcCommitTimeRow>(CDC_COMMIT_TIMES_QUERY, bounds, signal)
    const byInstance = new Map(plans.map((p) => [p.instance, p]))
    const ddlRows = await this.#run.query<{capture_instance: string; ddl_lsn: Buffer; ddl_command: string; ddl_time_ms: string | number}>(CDC_DDL_QUERY, bounds, signal)
    const ddl: CdcDdlEvent[] = []
    for (const r of ddlRows) {
      const plan = byInstance.get(r.capture_instance)
      if (plan !== undefined) ddl.push({schema: plan.schema, table: plan.table, ddl_lsn: r.ddl_lsn, ddl_command: r.ddl_command, ddl_time_ms: r.ddl_time_ms})
    }
    return decodeCdcChanges({tables, commitTimes, ddl, after, nowMs: this.#now(), windowEnd: to})
  }
}

/** A polling change stream over MS-CDC; see the file header. */
class CdcChangeStream implements ChangeStream {
  readonly #capture: SqlServerChangeCapture
  readonly #from: LsnPosition
  readonly #tables: readonly TableModel[]
  readonly #signal: AbortSignal | undefined
  #closed = false
  #started = false
  #wake: (() => void) | null = null

  constructor(capture: SqlServerChangeCapture, from: LsnPosition, tables: readonly TableModel[], signal?: AbortSignal) {
    this.#capture = capture
    this.#from = from
    this.#tables = tables
    this.#signal = signal
    signal?.addEventListener('abort', () => void this.close(), {once: true})
  }

  close(): Promise<void> {
    this.#closed = true
    this.#wake?.()
    return Promise.resolve()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<CapturedEvent, void, undefined> {
    if (this.#started) throw new BugError('A change stream can be iterated only once.')
    this.#started = true
    const signal = this.#signal
    try {
      if (signal?.aborted === true) return
      const plans = await this.#capture.plans(this.#tables, signal)
      let position: LsnPosition = this.#from
      while (!this.#closed) {
        const window = await this.#capture.window(position, signal)
        if (window !== null) {
          const events = await this.#capture.readWindow(plans, position, window.from, window.to, signal)
          for (const event of events) {
            if (this.#closed) return
            yield event
            if (event.kind === 'ddl') return
          }
          position = {kind: 'lsn', commitLsn: lsnToHex(window.to), changeLsn: null}
          // more transactions are waiting: read the next window at once
          if (window.capped) continue
        }
        await this.#sleep(this.#capture.pollIntervalMs)
      }
    } catch (err) {
      // a query cancelled by close() or the abort fails; the caller asked for the end, so it ends
      if (this.#closed) return
      throw err
    } finally {
      this.#closed = true
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#closed || this.#signal?.aborted === true) return Promise.resolve()
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.#signal?.removeEventListener('abort', done)
        this.#wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#signal?.addEventListener('abort', done, {once: true})
      this.#wake = done
    })
  }
}
