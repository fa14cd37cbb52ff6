/**
 * What payctl status and payctl replicate pause / resume do with the control store: read the
 * replication process's last published status and heartbeat, and set the operator's pause flag
 * (the running process reads it every second). Every pause and resume is written to the audit log.
 */
import {hostname} from 'node:os'
import {EnvironmentError} from '../../cli/errors.js'
import {replicateAlive, ReplicationStore, type TableRow} from '../../control/replication-store.js'
import type {ConnectionOptions} from '../../engines/engine.js'
import {withEngine} from '../../engines/open.js'
import {operatorName, type ReplicationStatus} from './replicate.js'

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
}

function withStore<R>(target: ConnectionOptions, database: string, fn: (q: <T>(sql: string, p?: readonly unknown[]) => Promise<T[]>, store: ReplicationStore) => Promise<R>): Promise<R> {
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
    const age = state?.heartbeatAgeMs ?? null
    const status = (state?.status ?? null) as ReplicationStatus | null
    return {
      running: replicateAlive(state),
      heartbeatAgeSeconds: age === null ? null : age / 1000,
      host: state?.host ?? null,
      pid: state?.pid ?? null,
      paused: state?.paused === true ? {by: state.pauseBy, reason: state.pauseReason} : null,
      status,
      tables,
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
