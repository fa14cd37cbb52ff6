/**
 * The traffic shift's row in the control store (cutover_state, id 'main'): the operator lease that
 * lets one payctl at a time drive routing, and the shift's durable state (step reached, gate
 * results, approvals, write-flip measurements, the source position through which changed rows were
 * verified). A CLI has no controller: this row is what a second operator, `payctl status` and a
 * rerun after a crash read.
 *
 * The lease is a row lock with an expiry on the control store's clock: taken when free, expired, or
 * already ours (same holder, host and pid), renewed while the command runs, released at its end.
 * A holder on this host whose process no longer exists (kill -9) is taken over at once.
 */
import {hostname} from 'node:os'
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'
import {type CapturePosition, valueText} from '../engines/replication.js'
import {jsonColumn, type Query} from './rows.js'

export const CUTOVER_ID = 'main'
export const LEASE_TTL_MS = 15_000

export type ShiftStatus =
  | 'not-started'
  | 'shifting'
  | 'waiting-for-approval'
  | 'failed'
  | 'rolled-back'
  | 'flipped'
  | 'observed'
  | 'finalized'

export interface FlipMeasurement {
  direction: 'to-target' | 'to-source'
  at: string
  outcome: 'flipped' | 'reverted'
  /** From the pause version's commit to the flip version's commit, measured by payctl. */
  pauseMs: number
  /** The parts of the pause: acknowledgements, forward drain, changed-row check, the rest. */
  phases: Record<string, number>
  rowsChecked: number
  reason: string | null
  versions: {paused: number; flipped: number | null}
}

export interface ShiftFailure {
  step: string
  at: string
  reason: string
  /** The gate results (JSON of the gate evaluator) that failed the step. */
  gates: unknown
  rolledBackTo: number | null
}

export interface CutoverState {
  status: ShiftStatus
  /** Names of the configured steps, in order. */
  steps: string[]
  /** Index of the last step completed, -1 before the first. */
  completed: number
  /** The step running now, or null. */
  current: string | null
  approvals: Array<{step: string; by: string; host: string; at: string}>
  /** The last sample's gate results of the running (or last) step. */
  lastGates: unknown
  failure: ShiftFailure | null
  flips: FlipMeasurement[]
  /** Source position through which rows changed on the source were compared with the target (null: none yet). */
  verifiedThrough: CapturePosition | null
  finalizedAt: string | null
}

export const EMPTY_CUTOVER: CutoverState = {
  status: 'not-started',
  steps: [],
  completed: -1,
  current: null,
  approvals: [],
  lastGates: null,
  failure: null,
  flips: [],
  verifiedThrough: null,
  finalizedAt: null,
}

export interface LeaseInfo {
  holder: string | null
  host: string | null
  pid: number | null
  /** Milliseconds until it expires on the control store's clock (negative: expired). */
  expiresInMs: number | null
}

export class LeaseHeldError extends Error {
  constructor(readonly lease: LeaseInfo) {
    super(`The traffic shift is driven by ${lease.holder ?? '?'} (pid ${lease.pid ?? '?'} on ${lease.host ?? '?'}); its lease expires in ${Math.max(0, Math.round((lease.expiresInMs ?? 0) / 1000))} s.`)
    this.name = 'LeaseHeldError'
  }
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)


function processGone(host: string | null, pid: number | null): boolean {
  if (host !== hostname() || pid === null || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as {code?: string}).code === 'ESRCH'
  }
}

export class CutoverStore {
  readonly #table: string

  constructor(database: string) {
    this.#table = `${q(database)}.${q('cutover_state')}`
  }

  async lease(query: Query): Promise<LeaseInfo> {
    const rows = await query<Record<string, unknown>>(
      `SELECT lease_holder, lease_host, lease_pid, TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), lease_until) AS left_us FROM ${this.#table} WHERE id = ?`,
      [CUTOVER_ID],
    )
    const r = rows[0]
    if (r === undefined) return {holder: null, host: null, pid: null, expiresInMs: null}
    return {
      holder: r.lease_holder === null ? null : valueText(r.lease_holder),
      host: r.lease_host === null ? null : valueText(r.lease_host),
      pid: r.lease_pid === null ? null : Number(r.lease_pid),
      expiresInMs: r.left_us === null ? null : Number(r.left_us) / 1000,
    }
  }

  /**
   * Takes (or renews) the lease for this process; throws LeaseHeldError when another live holder
   * has it, unless `force` (an on-call's rollback takes it over; the shift that held it notices at
   * its next renewal and stops before changing routing again).
   */
  async acquire(query: Query, holder: string, ttlMs = LEASE_TTL_MS, force = false): Promise<void> {
    const host = hostname()
    await query(`INSERT IGNORE INTO ${this.#table} (id, updated_at) VALUES (?, UTC_TIMESTAMP(6))`, [CUTOVER_ID])
    const current = await this.lease(query)
    const ours = current.holder === holder && current.host === host && current.pid === process.pid
    const free = current.holder === null || (current.expiresInMs ?? -1) < 0 || processGone(current.host, current.pid)
    if (!ours && !free && !force) throw new LeaseHeldError(current)
    // the WHERE repeats what was read: two operators racing both pass the read, only one UPDATE matches
    await query(
      `UPDATE ${this.#table} SET lease_holder = ?, lease_host = ?, lease_pid = ?, lease_until = TIMESTAMPADD(MICROSECOND, ?, UTC_TIMESTAMP(6)), updated_at = UTC_TIMESTAMP(6)` +
        ' WHERE id = ? AND (lease_holder <=> ?) AND (lease_host <=> ?) AND (lease_pid <=> ?)',
      [holder, host, process.pid, ttlMs * 1000, CUTOVER_ID, current.holder, current.host, current.pid],
    )
    const after = await this.lease(query)
    if (after.holder !== holder || after.host !== host || after.pid !== process.pid) throw new LeaseHeldError(after)
  }

  /** Gives the lease up if this process holds it. */
  async release(query: Query, holder: string): Promise<void> {
    await query(`UPDATE ${this.#table} SET lease_holder = NULL, lease_host = NULL, lease_pid = NULL, lease_until = NULL, updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND lease_holder = ? AND lease_host = ? AND lease_pid = ?`, [
      CUTOVER_ID,
      holder,
      hostname(),
      process.pid,
    ])
  }

  async state(query: Query): Promise<CutoverState> {
    const rows = await query<{state: unknown}>(`SELECT state FROM ${this.#table} WHERE id = ?`, [CUTOVER_ID])
    return {...EMPTY_CUTOVER, ...jsonColumn<CutoverState>(rows[0]?.state)}
  }

  async save(query: Query, state: CutoverState): Promise<void> {
    await query(`INSERT INTO ${this.#table} (id, state, updated_at) VALUES (?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE state = VALUES(state), updated_at = VALUES(updated_at)`, [
      CUTOVER_ID,
      JSON.stringify({...state, flips: state.flips.slice(-50), approvals: state.approvals.slice(-50)}),
    ])
  }

  /** Read-modify-write of the state (callers hold the lease, so nobody else writes it meanwhile). */
  async update(query: Query, change: (s: CutoverState) => CutoverState): Promise<CutoverState> {
    const next = change(await this.state(query))
    await this.save(query, next)
    return next
  }
}
