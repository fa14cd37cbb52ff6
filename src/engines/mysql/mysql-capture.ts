/**
 * Change capture from the binlog of a MySQL-family server (MariaDB, MySQL, Aurora MySQL) with
 * @vlasky/zongji, which speaks the replication protocol over mysql2 and decodes row events into the
 * same value forms as the pool's queries (dateStrings, bigNumberStrings, DECIMAL as exact strings).
 *
 * - Row changes are grouped per transaction and delivered when its commit marker (XID, or a COMMIT
 *   query) arrives, with the position at the end of that transaction: a resume from a delivered
 *   position never starts inside a transaction.
 * - Transactions on other tables are delivered empty (consecutive ones merged), so the position
 *   keeps moving and lag is measured against the real end of the binlog.
 * - A DDL statement naming a captured table (or the database) arrives as a CapturedDdl.
 * - Memory is bounded: past HIGH_WATER queued events the binlog connection is closed and reopened
 *   from the last delivered position once the consumer has drained below LOW_WATER.
 * - TiDB has no binlog for this (TiCDC is its change feed) and is refused as a capture source.
 */
import {randomInt} from 'node:crypto'
import ZongJi from '@vlasky/zongji'
import type {ConnectionOptions as Mysql2ConnectionOptions} from 'mysql2'
import {EnvironmentError} from '../../cli/errors.js'
import {redact} from '../../cli/redact.js'
import type {ConnectionOptions} from '../engine.js'
import {describeEndpoint} from '../engine.js'
import type {BinlogSettings, ServerInfo, TableModel} from '../model.js'
import type {CapturedEvent, CapturePosition, CaptureRetention, ChangeCapture, ChangeStream, RowChange} from '../replication.js'
import {asError, describePosition} from '../replication.js'
import * as S from './mysql-replication-sql.js'

const HIGH_WATER = 20_000
const LOW_WATER = 2_000

export interface MysqlCaptureDeps {
  options: ConnectionOptions
  serverInfo(): Promise<ServerInfo>
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /** mysql2 connection options for the binlog connection (same TLS and value settings as the pool). */
  connectionConfig(): Mysql2ConnectionOptions
}

/** Every setting binlog capture needs that the server lacks, with what to set; empty when it can be captured. */
export function binlogProblems(flavor: string, cc: BinlogSettings): string[] {
  if (flavor === 'tidb') return ['TiDB writes no MySQL binlog for payctl to read: use TiCDC, or replicate from the MySQL-family source instead']
  const out: string[] = []
  const where = flavor === 'aurora-mysql' ? 'in the DB cluster parameter group' : 'in the server config (my.cnf [mysqld]) and restart, or SET GLOBAL'
  if (!cc.logBin) out.push(`binary logging is off: set log_bin (${flavor === 'aurora-mysql' ? 'binlog_format in the DB cluster parameter group turns it on' : 'log_bin = ON in my.cnf [mysqld], then restart'})`)
  if (cc.binlogFormat !== 'ROW') out.push(`binlog_format is ${cc.binlogFormat ?? 'unknown'}: set binlog_format = ROW ${where}`)
  if (cc.binlogRowImage !== null && cc.binlogRowImage !== 'FULL') out.push(`binlog_row_image is ${cc.binlogRowImage}: set binlog_row_image = FULL ${where}`)
  return out
}

export class MysqlCapture implements ChangeCapture {
  constructor(private readonly deps: MysqlCaptureDeps) {}

  async checkPrerequisites(tables: readonly TableModel[]): Promise<void> {
    const info = await this.deps.serverInfo()
    const o = this.deps.options
    const cc = info.changeCapture
    const problems = cc.kind === 'binlog' ? binlogProblems(info.flavor, cc) : ['this server has no binlog']
    if (problems.length > 0) {
      throw new EnvironmentError('PAYCTL_CAPTURE_NOT_READY', `The ${o.label} (${describeEndpoint(o)}) cannot be replicated from: ${problems.join('; ')}.`, {
        actions: ['Change the setting(s) named, then run the command again. Nothing was copied.'],
        data: {side: o.label, problems},
      })
    }
    try {
      await this.currentPosition()
    } catch (err) {
      if (err instanceof EnvironmentError) throw err
      throw new EnvironmentError('PAYCTL_CAPTURE_NOT_READY', `The ${o.label} user "${o.user}" cannot read the binlog position: ${redact(err instanceof Error ? err.message : String(err))}`, {
        actions: [`GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO the ${o.label} user (payctl assess lists every privilege each phase needs).`],
        cause: err,
        data: {side: o.label},
      })
    }
    const missing = tables.filter((t) => t.primaryKey === null && t.uniqueKeys.length === 0)
    if (missing.length > 0) {
      throw new EnvironmentError('PAYCTL_TABLE_WITHOUT_KEY', `Tables without a primary or unique key cannot be replicated (a change cannot name its row): ${missing.map((t) => t.name).join(', ')}.`, {
        actions: ['Add a primary key on the source, or leave these tables out with tables.exclude in payctl.yaml.'],
      })
    }
  }

  async currentPosition(): Promise<CapturePosition> {
    let rows: Array<{File?: string; Position?: number | string}>
    try {
      rows = await this.deps.query(S.SHOW_MASTER_STATUS)
    } catch {
      rows = await this.deps.query(S.SHOW_BINARY_LOG_STATUS)
    }
    const row = rows[0]
    if (row?.File === undefined) {
      const o = this.deps.options
      throw new EnvironmentError('PAYCTL_CAPTURE_NOT_READY', `The ${o.label} (${describeEndpoint(o)}) reports no binlog position: binary logging is off.`, {
        actions: ['Turn on binary logging (log_bin) with binlog_format = ROW and binlog_row_image = FULL, then run the command again.'],
      })
    }
    const info = await this.deps.serverInfo()
    const [g] = await this.deps.query<{gtid: string | null}>(info.flavor === 'mariadb' ? S.MARIADB_GTID_POS : S.MYSQL_GTID_EXECUTED)
    return {kind: 'binlog', file: row.File, pos: Number(row.Position), gtid: g?.gtid ?? null}
  }

  async retention(): Promise<CaptureRetention> {
    const info = await this.deps.serverInfo()
    const retentionSeconds = info.changeCapture.kind === 'binlog' ? info.changeCapture.retentionSeconds : null
    let oldest: CapturePosition | null = null
    try {
      const logs = await this.deps.query<{Log_name: string}>(S.SHOW_BINARY_LOGS)
      if (logs[0] !== undefined) oldest = {kind: 'binlog', file: logs[0].Log_name, pos: 4, gtid: null}
    } catch {
      // without REPLICATION CLIENT the oldest file is unknown; the retention time still warns
    }
    return {retentionSeconds, oldest}
  }

  open(from: CapturePosition, tables: readonly TableModel[], signal?: AbortSignal): ChangeStream {
    if (from.kind !== 'binlog') throw new Error(`a MySQL-family source resumes from a binlog position, not ${from.kind}`)
    return new BinlogStream(this.deps, from, tables, signal)
  }
}

const DDL = /^\s*(?:\/\*.*?\*\/\s*)*(ALTER|CREATE|DROP|RENAME|TRUNCATE)\b/is

/** Whether a DDL statement can change a captured table: it names one of them, or the database. */
export function ddlTouches(statement: string, database: string, tables: readonly string[]): boolean {
  if (!DDL.test(statement)) return false
  const text = statement.toLowerCase().replaceAll('`', '')
  const word = (name: string): RegExp => new RegExp(`(^|[^a-z0-9_$])${name.toLowerCase().replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_$])`)
  if (/^\s*(drop|create|alter)\s+(database|schema)\b/.test(text)) return word(database).test(text)
  return tables.some((t) => word(t).test(text))
}

interface ZongJiEvent {
  getEventName(): string
  timestamp: number
  nextPosition: number
  tableId?: number
  tableMap?: Record<number, {parentSchema: string; tableName: string}>
  rows?: Array<Record<string, unknown> | {before: Record<string, unknown>; after: Record<string, unknown>}>
  query?: string
  schema?: string
}

interface ZongJiLike {
  on(event: 'binlog', fn: (e: ZongJiEvent) => void): void
  on(event: 'error', fn: (e: unknown) => void): void
  on(event: 'ready', fn: () => void): void
  start(options: Record<string, unknown>): void
  stop(): void
  readonly options: {filename?: string; position?: number}
  readonly gtidSet?: string
}

class BinlogStream implements ChangeStream {
  readonly #queue: CapturedEvent[] = []
  #pending: RowChange[] = []
  #inTransaction = false
  #zj: ZongJiLike | null = null
  #error: unknown = null
  #closed = false
  #wake: (() => void) | null = null
  /** The end of the last transaction queued: where a reopened connection starts. */
  #resumeFrom: CapturePosition
  readonly #tableNames: Set<string>

  constructor(
    private readonly deps: MysqlCaptureDeps,
    from: CapturePosition,
    private readonly tables: readonly TableModel[],
    signal?: AbortSignal,
  ) {
    this.#resumeFrom = from
    this.#tableNames = new Set(tables.map((t) => t.name))
    signal?.addEventListener('abort', () => void this.close(), {once: true})
  }

  #connect(): void {
    const from = this.#resumeFrom
    if (from.kind !== 'binlog') return
    this.#pending = []
    this.#inTransaction = false
    const zj = new ZongJi(this.deps.connectionConfig()) as unknown as ZongJiLike
    this.#zj = zj
    zj.on('binlog', (e) => {
      if (this.#zj === zj) this.#onEvent(zj, e)
    })
    zj.on('error', (err) => {
      if (this.#zj !== zj) return
      this.#error = this.#mapError(err)
      this.#notify()
    })
    const database = this.deps.options.database
    zj.start({
      serverId: randomInt(100_000_000, 4_000_000_000),
      filename: from.file,
      position: from.pos,
      includeSchema: {[database]: this.tables.map((t) => t.name)},
    })
  }

  #mapError(err: unknown): EnvironmentError {
    const o = this.deps.options
    const message = redact(err instanceof Error ? err.message : String(err))
    const purged = /could not find first log file|purged|1236/i.test(message)
    return new EnvironmentError(
      purged ? 'PAYCTL_CAPTURE_POSITION_LOST' : 'PAYCTL_CAPTURE_FAILED',
      purged
        ? `The ${o.label}'s binlog no longer holds the resume position ${describePosition(this.#resumeFrom)}: ${message}`
        : `Reading the ${o.label}'s binlog (${describeEndpoint(o)}) failed: ${message}`,
      {
        actions: purged
          ? ['The changes since that position are gone: start the copy again with payctl replicate --restart, and keep binlogs longer (binlog_expire_logs_seconds).']
          : ['Check that the server is up and the user has REPLICATION SLAVE and REPLICATION CLIENT, then run payctl replicate again: it resumes from its checkpoint.'],
        cause: err,
        data: {side: o.label, position: this.#resumeFrom},
      },
    )
  }

  #onEvent(zj: ZongJiLike, e: ZongJiEvent): void {
    const name = e.getEventName()
    if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
      const meta = e.tableMap?.[e.tableId ?? -1]
      if (meta === undefined || meta.parentSchema !== this.deps.options.database || !this.#tableNames.has(meta.tableName)) return
      for (const r of e.rows ?? []) {
        if (name === 'writerows') this.#pending.push({op: 'insert', schema: meta.parentSchema, table: meta.tableName, before: null, after: r})
        else if (name === 'deleterows') this.#pending.push({op: 'delete', schema: meta.parentSchema, table: meta.tableName, before: r, after: null})
        else {
          const u = r as {before: Record<string, unknown>; after: Record<string, unknown>}
          this.#pending.push({op: 'update', schema: meta.parentSchema, table: meta.tableName, before: u.before, after: u.after})
        }
      }
      return
    }
    const file = (): string => zj.options.filename ?? (this.#resumeFrom.kind === 'binlog' ? this.#resumeFrom.file : '')
    const position = (): CapturePosition => ({kind: 'binlog', file: file(), pos: e.nextPosition, gtid: zj.gtidSet ?? null})
    if (name === 'xid' || (name === 'query' && /^\s*COMMIT\b/i.test(e.query ?? ''))) {
      if (e.nextPosition > 0) this.#push({kind: 'transaction', position: position(), commitTimeMs: e.timestamp, changes: this.#pending})
      this.#pending = []
      this.#inTransaction = false
      return
    }
    if (name === 'gtid' || name === 'mariadbgtid' || name === 'anonymousgtid') {
      this.#inTransaction = true
      return
    }
    if (name === 'query') {
      const statement = e.query ?? ''
      if (/^\s*(BEGIN|XA\s)/i.test(statement)) {
        this.#inTransaction = true
        return
      }
      // a DDL statement is its own transaction (no commit marker follows it)
      this.#inTransaction = false
      if (ddlTouches(statement, this.deps.options.database, [...this.#tableNames]) && (e.schema === this.deps.options.database || statement.toLowerCase().includes(this.deps.options.database.toLowerCase()))) {
        this.#push({kind: 'ddl', position: position(), commitTimeMs: e.timestamp, schema: e.schema ?? '', statement})
        return
      }
      if (e.nextPosition > 0) this.#push({kind: 'transaction', position: position(), commitTimeMs: e.timestamp, changes: []})
      return
    }
    // Between transactions (rotate, format description, GTID list, checkpoint, heartbeat): the
    // position moves with them, so a caught-up applier reaches the source's reported position
    // even when the binlog ends in such events (a rotation after a server restart, say).
    if (!this.#inTransaction && name !== 'tablemap' && (zj.options.position ?? 0) > 0) {
      this.#push({kind: 'transaction', position: {kind: 'binlog', file: file(), pos: zj.options.position ?? 0, gtid: zj.gtidSet ?? null}, commitTimeMs: e.timestamp, changes: []})
    }
  }

  #push(event: CapturedEvent): void {
    const last = this.#queue.at(-1)
    // consecutive transactions with nothing for us: keep only the furthest position
    if (event.kind === 'transaction' && event.changes.length === 0 && last?.kind === 'transaction' && last.changes.length === 0) this.#queue[this.#queue.length - 1] = event
    else this.#queue.push(event)
    this.#resumeFrom = event.position
    if (this.#queue.length > HIGH_WATER && this.#zj !== null) {
      this.#zj.stop()
      this.#zj = null
    }
    this.#notify()
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CapturedEvent> {
    this.#connect()
    try {
      while (!this.#closed) {
        const next = this.#queue.shift()
        if (next !== undefined) {
          if (this.#zj === null && this.#queue.length < LOW_WATER && !this.#closed) this.#connect()
          yield next
          continue
        }
        if (this.#error !== null) throw asError(this.#error)
        await new Promise<void>((resolve) => {
          this.#wake = resolve
        })
      }
    } finally {
      await this.close()
    }
  }

  close(): Promise<void> {
    this.#closed = true
    const zj = this.#zj
    this.#zj = null
    zj?.stop()
    this.#notify()
    return Promise.resolve()
  }
}
