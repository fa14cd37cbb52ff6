/**
 * The routing state and the runtime's heartbeats in the control store: the one versioned truth that
 * payctl (shift-traffic, rollback, finalize), the replicate process and every runtime instance
 * agree on.
 *
 * - routing_state is append-only. Each change is a new row with version = previous + 1; two
 *   writers racing for the same version collide on the primary key and the loser re-reads
 *   (compare-and-set). Who changed it, from where and why go with the row and into audit_log.
 * - Runtime instances poll the newest version (RUNTIME_POLL_MS) and report the version they have
 *   fully applied in runtime_heartbeats. "Applied" for a write pause means: no write admitted under
 *   an earlier version is still in flight on this instance.
 * - An instance that has not read the state for longer than `leaseMs` stops writing (it fences
 *   itself). payctl treats an instance whose heartbeat is older than leaseMs + FENCE_GRACE_MS as
 *   gone: by then it has fenced itself and its in-flight writes have ended or failed.
 * - The replicate process follows `replication`: it drains the running direction up to `stopAt`,
 *   stops it, and starts the other direction from `from`.
 *
 * Times are the control store server's clock (UTC_TIMESTAMP(6)); ages are computed there, so
 * clocks of the machines involved never have to agree.
 */
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'
import {insertAudit, jsonColumn, type Query} from './rows.js'
import {type CapturePosition, valueText} from '../engines/replication.js'

export type WriteSide = 'source' | 'target'
export type WriteMode = WriteSide | 'paused'
export type ReplicationDirection = 'forward' | 'reverse' | 'none'

export interface RoutingDesired {
  /** Share of reads (0..100) served by the target; sticky per payment. */
  readsTargetPercent: number
  /** Share of reads (0..100) also run on the other side and compared (shadow reads). */
  shadowPercent: number
  /** Where writes go, or held at the instances' gate while paused. */
  writes: WriteMode
  /** While paused: the side writes were on before the pause (where they resume if the flip reverts). */
  pausedFrom?: WriteSide
  /** How long an instance holds a write request at the pause gate before answering 503 with Retry-After. */
  holdMs: number
  /** An instance that could not read this state for longer than this stops writing. */
  leaseMs: number
  /** What the replicate process runs. */
  replication: {
    direction: ReplicationDirection
    /** Drain the direction that ran before up to this position (of its own capture side) before stopping it. */
    stopAt?: CapturePosition | null
    /** Start this direction's change stream after this position (of its capture side). */
    from?: CapturePosition | null
  }
  /** The shift step this state belongs to (for status), e.g. "reads-10". */
  step?: string | null
}

export interface RoutingVersion {
  version: number
  desired: RoutingDesired
  createdAt: string
  createdBy: string
  reason: string | null
  /** Age on the control store's clock. */
  ageMs: number
}

export interface InstanceHeartbeat {
  instanceId: string
  host: string
  pid: number
  /** The routing version this instance has fully applied, null before its first read. */
  appliedVersion: number | null
  lastSeenAt: string
  /** Age of the heartbeat on the control store's clock. */
  ageMs: number
  startedAt: string
  detail: RuntimeHeartbeatDetail | null
}

/** What an instance publishes with each heartbeat (no secrets, no card data). */
export interface RuntimeHeartbeatDetail {
  /** Where its HTTP API (and /metrics) listens, e.g. http://127.0.0.1:18080. */
  url: string | null
  /** The write mode it applies: source | target | paused, or fenced when it stopped writing on its own. */
  writes: WriteMode | 'fenced'
  readsTargetPercent: number
  shadowPercent: number
  /** Write requests admitted and not finished. */
  inFlightWrites: number
  /** Write requests waiting at the pause gate. */
  heldWrites: number
  fenced: boolean
  /** Milliseconds since this instance last read the routing state. */
  lastReadAgeMs: number
  shadow: {matched: number; mismatched: number; errors: number; examples: ShadowExample[]}
}

export interface ShadowExample {
  at: string
  /** The statement's name (e.g. intentByPublicId), never its values. */
  op: string
  /** Sides compared: primary first. */
  sides: [WriteSide, WriteSide]
  /** Columns that differ, or "rows" when the row counts differ. */
  columns: string[]
}

/** How often a runtime instance reads the routing state (and publishes its heartbeat). */
export const RUNTIME_POLL_MS = 100
export const DEFAULT_LEASE_MS = 1_000
export const DEFAULT_HOLD_MS = 2_000
/** Past its lease, how long payctl still waits before it takes a silent instance as fenced and gone. */
export const FENCE_GRACE_MS = 1_000

/** Routing before any shift: everything on the source, replication forward. */
export const INITIAL_ROUTING: RoutingDesired = {
  readsTargetPercent: 0,
  shadowPercent: 0,
  writes: 'source',
  holdMs: DEFAULT_HOLD_MS,
  leaseMs: DEFAULT_LEASE_MS,
  replication: {direction: 'forward'},
  step: null,
}

export type {Query} from './rows.js'

/** Thrown by RoutingStore.set when another writer took the version first. */
export class RoutingConflictError extends Error {
  constructor(readonly expected: number) {
    super(`The routing state moved past version ${expected} while this change was being made.`)
    this.name = 'RoutingConflictError'
  }
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)


export class RoutingStore {
  readonly #db: string

  constructor(readonly database: string) {
    this.#db = q(database)
  }

  #t(name: string): string {
    return `${this.#db}.${q(name)}`
  }

  /** The newest routing version, or version 0 with INITIAL_ROUTING when nothing was ever set. */
  async current(query: Query): Promise<RoutingVersion> {
    return (await this.history(query, 1))[0] ?? {version: 0, desired: INITIAL_ROUTING, createdAt: '', createdBy: '', reason: null, ageMs: 0}
  }

  /** Only the version number and desired state: what a runtime instance polls. */
  async poll(query: Query): Promise<{version: number; desired: RoutingDesired}> {
    const rows = await query<Record<string, unknown>>(`SELECT version, desired FROM ${this.#t('routing_state')} ORDER BY version DESC LIMIT 1`)
    const r = rows[0]
    if (r === undefined) return {version: 0, desired: INITIAL_ROUTING}
    return {version: Number(r.version), desired: {...INITIAL_ROUTING, ...jsonColumn<RoutingDesired>(r.desired)}}
  }

  /** Recent versions, newest first. */
  async history(query: Query, limit: number): Promise<RoutingVersion[]> {
    const rows = await query<Record<string, unknown>>(
      `SELECT version, desired, created_at, created_by, reason, TIMESTAMPDIFF(MICROSECOND, created_at, UTC_TIMESTAMP(6)) AS age_us FROM ${this.#t('routing_state')} ORDER BY version DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
    )
    return rows.map((r) => ({
      version: Number(r.version),
      desired: {...INITIAL_ROUTING, ...jsonColumn<RoutingDesired>(r.desired)},
      createdAt: valueText(r.created_at),
      createdBy: valueText(r.created_by),
      reason: r.reason === null ? null : valueText(r.reason),
      ageMs: Number(r.age_us) / 1000,
    }))
  }

  /**
   * Writes version expected + 1 with `desired`, and its audit entry. Throws RoutingConflictError
   * when another writer took that version first. Returns the new version.
   */
  async set(query: Query, expected: number, desired: RoutingDesired, actor: string, host: string, reason: string | null): Promise<number> {
    const version = expected + 1
    try {
      await query(`INSERT INTO ${this.#t('routing_state')} (version, desired, created_at, created_by, reason) VALUES (?, ?, UTC_TIMESTAMP(6), ?, ?)`, [version, JSON.stringify(desired), actor, reason])
    } catch (err) {
      const e = err as {errno?: number; code?: string}
      if (e.errno === 1062 || e.code === 'ER_DUP_ENTRY') throw new RoutingConflictError(expected)
      throw err
    }
    await insertAudit(query, this.database, actor, host, 'routing', {version, desired}, reason)
    return version
  }

  /** An audit entry that is not a routing change (an approval, a finalize). */
  async audit(query: Query, actor: string, host: string, action: string, detail: unknown, reason: string | null): Promise<void> {
    await insertAudit(query, this.database, actor, host, action, detail, reason)
  }

  /** An instance's heartbeat (insert or update). */
  async heartbeat(query: Query, instanceId: string, host: string, pid: number, appliedVersion: number | null, detail: RuntimeHeartbeatDetail): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('runtime_heartbeats')} (instance_id, host, pid, routing_version_applied, last_seen_at, started_at, detail) VALUES (?, ?, ?, ?, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6), ?)` +
        ' ON DUPLICATE KEY UPDATE host = VALUES(host), pid = VALUES(pid), routing_version_applied = VALUES(routing_version_applied), last_seen_at = VALUES(last_seen_at), detail = VALUES(detail)',
      [instanceId, host, pid, appliedVersion, JSON.stringify(detail)],
    )
  }

  /** A stopping instance leaves the list (so payctl does not wait for it). */
  async leave(query: Query, instanceId: string): Promise<void> {
    await query(`DELETE FROM ${this.#t('runtime_heartbeats')} WHERE instance_id = ?`, [instanceId])
  }

  /** Every instance that has sent a heartbeat, with its age; old rows included (callers decide who is live). */
  async instances(query: Query): Promise<InstanceHeartbeat[]> {
    const rows = await query<Record<string, unknown>>(
      `SELECT instance_id, host, pid, routing_version_applied, last_seen_at, started_at, detail, TIMESTAMPDIFF(MICROSECOND, last_seen_at, UTC_TIMESTAMP(6)) AS age_us FROM ${this.#t('runtime_heartbeats')} ORDER BY instance_id`,
    )
    return rows.map((r) => ({
      instanceId: valueText(r.instance_id),
      host: valueText(r.host),
      pid: Number(r.pid),
      appliedVersion: r.routing_version_applied === null ? null : Number(r.routing_version_applied),
      lastSeenAt: valueText(r.last_seen_at),
      ageMs: Number(r.age_us) / 1000,
      startedAt: valueText(r.started_at),
      detail: jsonColumn<RuntimeHeartbeatDetail>(r.detail),
    }))
  }
}

/** Whether an instance counts as live for a routing change: it heartbeated within its lease plus the grace. */
export function instanceLive(i: InstanceHeartbeat, leaseMs: number): boolean {
  return i.ageMs <= leaseMs + FENCE_GRACE_MS
}

/** Sticky read routing: the same key always lands on the same side for a given percentage (FNV-1a of the key, mod 100). */
export function readBucket(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % 100
}
