/**
 * Replication's rows in the control store: per-table copy state, per-segment copy checkpoints, the
 * applied change-stream position of each direction, the routing version the replicate process has
 * acted on, and the process's pause flag, heartbeat and published status. Every forward write that
 * covers copied or applied rows goes through the TargetWriter that wrote them, in the same
 * transaction (the control store lives on the target server, in its own database); the reverse
 * stream writes to the source, so its position is saved after the source commits (see applier.ts).
 *
 * Two streams per control store, told apart by run_id (and capture_positions.direction): 'forward'
 * (source -> target, with the full load) and 'reverse' (target -> source, after the write flip).
 * The process itself (pause flag, heartbeat, status) is the replication_state row REPLICATION_ID,
 * whichever direction it runs; the routing version it acted on is the row HANDOVER_ID.
 */
import type {ReplicationDirection} from './routing-store.js'
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'
import {insertAudit, jsonColumn, type Query} from './rows.js'
import {type CapturePosition, valueText} from '../engines/replication.js'

/** The replicate process's replication_state row (and the forward stream's run_id). */
export const REPLICATION_ID = 'forward'
/** The replication_state row that records which routing version the process has acted on. */
export const HANDOVER_ID = 'handover'

export type ReplicationStream = 'forward' | 'reverse'

/** What the replicate process last did about the routing state: the version and the direction it switched to. */
export interface ActedRouting {
  version: number
  direction: ReplicationDirection
}

export type TableCopyState = 'pending' | 'copying' | 'catching-up' | 'replicating'

export interface TableRow {
  table: string
  state: TableCopyState
  streamStart: CapturePosition | null
  rowsEstimate: number
  rowsCopied: number
  bytesCopied: number
  startedAt: string | null
  copiedAt: string | null
}

export interface SegmentRow {
  table: string
  segment: number
  /** Inclusive lower bound (a key prefix) the segment starts at; null for the table start, and once a chunk is copied. */
  from: unknown[] | null
  /** Last key copied (the exclusive cursor), null before the first chunk. */
  cursor: unknown[] | null
  /** Exclusive upper bound (a key prefix), null for the table end. */
  until: unknown[] | null
  rowsCopied: number
  bytes: number
  status: 'pending' | 'copying' | 'done'
}

export type {Query} from './rows.js'

/** A replicate process that has not published a heartbeat for this long is taken to be gone. */
export const LIVE_HEARTBEAT_MS = 5_000

export interface ReplicationStateRow {
  paused: boolean
  pauseReason: string | null
  pauseBy: string | null
  host: string | null
  pid: number | null
  heartbeatAt: string | null
  heartbeatAgeMs: number | null
  status: unknown
}

/** Whether a replicate process is running: a recent heartbeat, and its last status is not the final one (caught-up or stopped). */
export function replicateAlive(state: ReplicationStateRow | null): state is ReplicationStateRow {
  if (state === null || state.heartbeatAgeMs === null || state.heartbeatAgeMs >= LIVE_HEARTBEAT_MS) return false
  const phase = (state.status as {phase?: unknown} | null)?.phase
  return phase !== 'caught-up' && phase !== 'stopped'
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

/** JSON text of a key: Buffers as {"$hex": "..."} so binary keys survive the round trip. */
export function encodeKey(key: readonly unknown[] | null): string | null {
  if (key === null) return null
  return JSON.stringify(key.map((v) => (Buffer.isBuffer(v) ? {$hex: v.toString('hex')} : v)))
}

export function decodeKey(text: unknown): unknown[] | null {
  if (text === null || text === undefined) return null
  const parsed: unknown = typeof text === 'string' ? JSON.parse(text) : text
  if (!Array.isArray(parsed)) return null
  return parsed.map((v: unknown) => (typeof v === 'object' && v !== null && '$hex' in v ? Buffer.from(String((v).$hex), 'hex') : v))
}


export class ReplicationStore {
  readonly #db: string

  constructor(
    readonly database: string,
    readonly stream: ReplicationStream = 'forward',
  ) {
    this.#db = q(database)
  }

  #t(name: string): string {
    return `${this.#db}.${q(name)}`
  }

  async tables(query: Query): Promise<TableRow[]> {
    const rows = await query<Record<string, unknown>>(
      `SELECT table_name, state, stream_start, rows_estimate, rows_copied, bytes_copied, started_at, copied_at FROM ${this.#t('replication_tables')} WHERE run_id = ? ORDER BY table_name`,
      [this.stream],
    )
    return rows.map((r) => ({
      table: valueText(r.table_name),
      state: valueText(r.state) as TableCopyState,
      streamStart: jsonColumn<CapturePosition>(r.stream_start),
      rowsEstimate: Number(r.rows_estimate),
      rowsCopied: Number(r.rows_copied),
      bytesCopied: Number(r.bytes_copied),
      startedAt: r.started_at === null ? null : valueText(r.started_at),
      copiedAt: r.copied_at === null ? null : valueText(r.copied_at),
    }))
  }

  async insertTable(query: Query, table: string, rowsEstimate: number): Promise<void> {
    await query(
      `INSERT IGNORE INTO ${this.#t('replication_tables')} (run_id, table_name, state, stream_start, rows_estimate, rows_copied, bytes_copied, updated_at) VALUES (?, ?, 'pending', NULL, ?, 0, 0, UTC_TIMESTAMP(6))`,
      [this.stream, table, rowsEstimate],
    )
  }

  async startTable(query: Query, table: string, streamStart: CapturePosition): Promise<void> {
    await query(
      `UPDATE ${this.#t('replication_tables')} SET state = 'copying', stream_start = ?, started_at = COALESCE(started_at, UTC_TIMESTAMP(6)), updated_at = UTC_TIMESTAMP(6) WHERE run_id = ? AND table_name = ?`,
      [JSON.stringify(streamStart), this.stream, table],
    )
  }

  async setTableState(query: Query, table: string, state: TableCopyState): Promise<void> {
    await query(
      `UPDATE ${this.#t('replication_tables')} SET state = ?, copied_at = CASE WHEN ? = 'catching-up' THEN UTC_TIMESTAMP(6) ELSE copied_at END, updated_at = UTC_TIMESTAMP(6) WHERE run_id = ? AND table_name = ?`,
      [state, state, this.stream, table],
    )
  }

  async addCopied(query: Query, table: string, rows: number, bytes: number): Promise<void> {
    await query(
      `UPDATE ${this.#t('replication_tables')} SET rows_copied = rows_copied + ?, bytes_copied = bytes_copied + ?, updated_at = UTC_TIMESTAMP(6) WHERE run_id = ? AND table_name = ?`,
      [rows, bytes, this.stream, table],
    )
  }

  async segments(query: Query): Promise<SegmentRow[]> {
    const rows = await query<Record<string, unknown>>(
      `SELECT table_name, chunk_id, low_key, high_key, rows_copied, bytes, status FROM ${this.#t('copy_checkpoints')} WHERE run_id = ? ORDER BY table_name, chunk_id`,
      [this.stream],
    )
    // low_key is the segment's inclusive start while it is pending, then the cursor (last key copied)
    return rows.map((r) => ({
      table: valueText(r.table_name),
      segment: Number(r.chunk_id),
      from: valueText(r.status) === 'pending' ? decodeKey(r.low_key) : null,
      cursor: valueText(r.status) === 'pending' ? null : decodeKey(r.low_key),
      until: decodeKey(r.high_key),
      rowsCopied: Number(r.rows_copied),
      bytes: Number(r.bytes),
      status: valueText(r.status) as SegmentRow['status'],
    }))
  }

  /** The segments of a table, written once when its copy is planned (with its state change, in one transaction). */
  async insertSegments(query: Query, table: string, segments: ReadonlyArray<{from: unknown[] | null; until: unknown[] | null}>): Promise<void> {
    for (const [i, s] of segments.entries()) {
      await query(
        `INSERT IGNORE INTO ${this.#t('copy_checkpoints')} (run_id, table_name, chunk_id, low_key, high_key, rows_copied, bytes, status, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0, 'pending', UTC_TIMESTAMP(6))`,
        [this.stream, table, i, encodeKey(s.from), encodeKey(s.until)],
      )
    }
  }

  async advanceSegment(query: Query, table: string, segment: number, cursor: unknown[], rows: number, bytes: number, done: boolean): Promise<void> {
    await query(
      `UPDATE ${this.#t('copy_checkpoints')} SET low_key = ?, rows_copied = rows_copied + ?, bytes = bytes + ?, status = ?, updated_at = UTC_TIMESTAMP(6) WHERE run_id = ? AND table_name = ? AND chunk_id = ?`,
      [encodeKey(cursor), rows, bytes, done ? 'done' : 'copying', this.stream, table, segment],
    )
  }

  async finishSegment(query: Query, table: string, segment: number): Promise<void> {
    await query(`UPDATE ${this.#t('copy_checkpoints')} SET status = 'done', updated_at = UTC_TIMESTAMP(6) WHERE run_id = ? AND table_name = ? AND chunk_id = ?`, [this.stream, table, segment])
  }

  async position(query: Query): Promise<CapturePosition | null> {
    const rows = await query<{position: unknown}>(`SELECT position FROM ${this.#t('capture_positions')} WHERE run_id = ? AND direction = ?`, [this.stream, this.stream])
    return jsonColumn<CapturePosition>(rows[0]?.position)
  }

  async savePosition(query: Query, position: CapturePosition): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('capture_positions')} (run_id, direction, position, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE position = VALUES(position), updated_at = VALUES(updated_at)`,
      [this.stream, this.stream, JSON.stringify(position)],
    )
  }

  async state(query: Query): Promise<ReplicationStateRow | null> {
    const rows = await query<Record<string, unknown>>(
      `SELECT paused, pause_reason, pause_by, host, pid, heartbeat_at, TIMESTAMPDIFF(MICROSECOND, heartbeat_at, UTC_TIMESTAMP(6)) AS age_us, status FROM ${this.#t('replication_state')} WHERE run_id = ?`,
      [REPLICATION_ID],
    )
    const r = rows[0]
    if (r === undefined) return null
    return {
      paused: Number(r.paused) === 1,
      pauseReason: r.pause_reason === null ? null : valueText(r.pause_reason),
      pauseBy: r.pause_by === null ? null : valueText(r.pause_by),
      host: r.host === null ? null : valueText(r.host),
      pid: r.pid === null ? null : Number(r.pid),
      heartbeatAt: r.heartbeat_at === null ? null : valueText(r.heartbeat_at),
      heartbeatAgeMs: r.age_us === null ? null : Number(r.age_us) / 1000,
      status: jsonColumn<unknown>(r.status),
    }
  }

  async setPaused(query: Query, paused: boolean, by: string, reason: string | null): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('replication_state')} (run_id, paused, pause_reason, pause_by, updated_at) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE paused = VALUES(paused), pause_reason = VALUES(pause_reason), pause_by = VALUES(pause_by), updated_at = VALUES(updated_at)`,
      [REPLICATION_ID, paused ? 1 : 0, reason, by],
    )
  }

  async heartbeat(query: Query, host: string, pid: number, status: unknown): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('replication_state')} (run_id, paused, host, pid, heartbeat_at, status, updated_at) VALUES (?, 0, ?, ?, UTC_TIMESTAMP(6), ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE host = VALUES(host), pid = VALUES(pid), heartbeat_at = VALUES(heartbeat_at), status = VALUES(status)`,
      [REPLICATION_ID, host, pid, JSON.stringify(status)],
    )
  }

  async audit(query: Query, actor: string, host: string, action: string, detail: unknown, reason: string | null): Promise<void> {
    await insertAudit(query, this.database, actor, host, action, detail, reason)
  }

  /** The routing version the process acted on last (null before the first one). */
  async acted(query: Query): Promise<ActedRouting | null> {
    const rows = await query<{status: unknown}>(`SELECT status FROM ${this.#t('replication_state')} WHERE run_id = ?`, [HANDOVER_ID])
    const a = jsonColumn<Partial<ActedRouting>>(rows[0]?.status)
    if (a === null || typeof a.version !== 'number' || (a.direction !== 'forward' && a.direction !== 'reverse' && a.direction !== 'none')) return null
    return {version: a.version, direction: a.direction}
  }

  /** Records the routing version acted on; written in the same control-store transaction as the position the new direction starts from. */
  async setActed(query: Query, acted: ActedRouting): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('replication_state')} (run_id, paused, status, updated_at) VALUES (?, 0, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE status = VALUES(status), updated_at = VALUES(updated_at)`,
      [HANDOVER_ID, JSON.stringify({version: acted.version, direction: acted.direction})],
    )
  }

  /** Forgets this stream's copy and positions (payctl replicate --restart). */
  async reset(query: Query): Promise<void> {
    for (const table of ['replication_tables', 'copy_checkpoints', 'capture_positions']) await query(`DELETE FROM ${this.#t(table)} WHERE run_id = ?`, [this.stream])
  }
}
