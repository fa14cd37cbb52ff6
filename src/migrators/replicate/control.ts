/**
 * What payctl status, payctl replicate pause / resume / stop and the cutover do with the control
 * store: read the replication process's last published status and heartbeat, the applied position
 * of each direction and the routing version the process has acted on, and set the operator's
 * pause flag (the running process reads it every second). Every pause and resume is written to
 * the audit log.
 */
import {hostname} from 'node:os'
import {EnvironmentError} from '../../cli/errors.js'
import {type ActedRouting, type Query, replicateAlive, ReplicationStore, type TableRow} from '../../control/replication-store.js'
import type {ReplicationDirection} from '../../control/routing-store.js'
import type {ConnectionOptions} from '../../engines/engine.js'
import {withEngine} from '../../engines/open.js'
import {type CapturePosition, comparePositions} from '../../engines/replication.js'
import {operatorName, type ReplicationStatus} from './replicate.js'

/** Where each direction is, and what the replicate process acted on: what the cutover waits on. */
export interface ReplicationPositions {
  /** Source position the forward stream has applied to the target (saved in the same target transaction as the rows). */
  forward: CapturePosition | null
  /** Target position the reverse stream has applied to the source (saved after the source commits: at or behind what is applied). */
  reverse: CapturePosition | null
  /** The routing version the process has switched to or adopted, and its direction; null before the first. */
  acted: ActedRouting | null
  process: {
    /** A heartbeat in the last 5 seconds from a process that has not ended. */
    alive: boolean
    host: string | null
    pid: number | null
    heartbeatAgeMs: number | null
    /** Its last published status (at most a second old while alive). */
    status: ReplicationStatus | null
  }
}

/** Reads both directions' positions, the acted routing version and the process's status, on the caller's control-store connection. */
export async function replicationPositions(query: Query, controlDatabase: string): Promise<ReplicationPositions> {
  const forward = new ReplicationStore(controlDatabase, 'forward')
  const state = await forward.state(query)
  return {
    forward: await forward.position(query),
    reverse: await new ReplicationStore(controlDatabase, 'reverse').position(query),
    acted: await forward.acted(query),
    process: {
      alive: replicateAlive(state),
      host: state?.host ?? null,
      pid: state?.pid ?? null,
      heartbeatAgeMs: state?.heartbeatAgeMs ?? null,
      status: (state?.status ?? null) as ReplicationStatus | null,
    },
  }
}

/**
 * Whether `direction` has applied everything up to `goal` (a position of its capture side: the
 * source for forward, the target for reverse): its saved position, or the position a live process
 * published while running that direction (reverse saves lazily while idle, so the published one
 * can be ahead by up to a second).
 */
export function appliedAtLeast(p: ReplicationPositions, direction: 'forward' | 'reverse', goal: CapturePosition): boolean {
  const status = p.process.alive ? p.process.status : null
  const published = direction === 'forward' ? (status?.direction === 'forward' ? status.position : null) : (status?.reverse?.position ?? null)
  return [p[direction], published].some((at) => at !== null && at.kind === goal.kind && comparePositions(at, goal) >= 0)
}

/** Whether the process has acted on routing version `version` (switched to it, or to a later one). */
export function actedOn(p: ReplicationPositions, version: number): boolean {
  return p.acted !== null && p.acted.version >= version
}

export interface ReplicationOverview {
  /** Whether a replicate process published a heartbeat in the last 5 seconds and has not ended. */
  running: boolean
  heartbeatAgeSeconds: number | null
  host: string | null
  pid: number | null
  paused: {by: string | null; reason: string | null} | null
  /** The last status the process published (while running, at most a second old). */
  status: ReplicationStatus | null
  tables: TableRow[]
  /** The direction the process runs (or last ran), as recorded when it acted on the routing state. */
  direction: ReplicationDirection
  /** The routing version it has acted on (0: none yet). */
  routingVersion: number
  positions: {forward: CapturePosition | null; reverse: CapturePosition | null}
  /** Seconds each direction is behind its capture side, while the process runs it; null otherwise. */
  lag: {forward: number | null; reverse: number | null}
}

/** Runs fn on a control-store connection of the target, refusing (exit 3) when the replication tables are not there. */
export function withStore<R>(target: ConnectionOptions, database: string, fn: (q: <T>(sql: string, p?: readonly unknown[]) => Promise<T[]>, store: ReplicationStore) => Promise<R>): Promise<R> {
  return withEngine(target, undefined, async (engine) => {
    const replication = engine.replication
    if (replication === undefined) throw new Error(`the ${engine.name} engine has no replication support`)
    const control = await engine.introspect({database})
    if (!control.tables.some((t) => t.name === 'replication_state')) {
      throw new EnvironmentError('PAYCTL_CONTROL_STORE_MISSING', `The control store ${database} on the target has no replication tables yet.`, {
        actions: ['Run payctl provision, then payctl replicate.'],
      })
    }
    const writer = await replication.openWriter()
    try {
      return await fn((sql, p) => writer.query(sql, p), new ReplicationStore(database))
    } finally {
      await writer.close()
    }
  })
}

export function replicationOverview(target: ConnectionOptions, database: string): Promise<ReplicationOverview> {
  return withStore(target, database, async (q, store) => {
    const state = await store.state(q)
    const tables = await store.tables(q)
    const positions = await replicationPositions(q, database)
    const age = state?.heartbeatAgeMs ?? null
    const status = (state?.status ?? null) as ReplicationStatus | null
    const running = replicateAlive(state)
    return {
      running,
      heartbeatAgeSeconds: age === null ? null : age / 1000,
      host: state?.host ?? null,
      pid: state?.pid ?? null,
      paused: state?.paused === true ? {by: state.pauseBy, reason: state.pauseReason} : null,
      status,
      tables,
      direction: positions.acted?.direction ?? 'forward',
      routingVersion: positions.acted?.version ?? 0,
      positions: {forward: positions.forward, reverse: positions.reverse},
      lag: {forward: running ? (status?.lagSeconds ?? null) : null, reverse: running ? (status?.reverse?.lagSeconds ?? null) : null},
    }
  })
}

export function setReplicationPaused(target: ConnectionOptions, database: string, paused: boolean, reason: string | null): Promise<ReplicationOverview> {
  return withStore(target, database, async (q, store) => {
    const by = operatorName()
    await store.setPaused(q, paused, by, reason)
    await store.audit(q, by, hostname(), paused ? 'replicate.pause' : 'replicate.resume', {}, reason)
    return replicationOverview(target, database)
  })
}
