/**
 * What payctl status shows about the cutover, read from the control store only (it works from any
 * machine, and while the source is down): the routing wanted now and what each runtime instance
 * applies (desired vs actual), the shift's step, gate results, lease and approvals, the write-flip
 * measurements, and the latest audit entries.
 */
import {type CutoverState, CutoverStore, type FlipMeasurement, type LeaseInfo} from '../control/cutover-store.js'
import {instanceLive, type Query, type RoutingDesired, RoutingStore, type ShadowExample} from '../control/routing-store.js'
import type {ConnectionOptions} from '../engines/engine.js'
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'
import {withEngine} from '../engines/open.js'
import {type CapturePosition, valueText} from '../engines/replication.js'

export interface InstanceView {
  instance: string
  host: string
  pid: number
  url: string | null
  live: boolean
  /** Seconds since its last heartbeat. */
  heartbeatAgeSeconds: number
  appliedVersion: number | null
  upToDate: boolean
  writes: string | null
  readsTargetPercent: number | null
  shadowPercent: number | null
  inFlightWrites: number | null
  heldWrites: number | null
  fenced: boolean | null
  shadow: {matched: number; mismatched: number; errors: number; examples: ShadowExample[]} | null
}

export interface AuditEntry {
  at: string
  actor: string
  host: string
  action: string
  reason: string | null
}

export interface CutoverOverview {
  routing: {version: number; desired: RoutingDesired; at: string; by: string; reason: string | null}
  instances: InstanceView[]
  shift: CutoverState
  lease: LeaseInfo
  lastFlip: FlipMeasurement | null
  audit: AuditEntry[]
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

export async function readCutoverOverview(query: Query, database: string, auditEntries = 10): Promise<CutoverOverview> {
  const routing = new RoutingStore(database)
  const store = new CutoverStore(database)
  const current = await routing.current(query)
  const instances = (await routing.instances(query)).map((i): InstanceView => {
    const live = instanceLive(i, current.desired.leaseMs)
    return {
      instance: i.instanceId,
      host: i.host,
      pid: i.pid,
      url: i.detail?.url ?? null,
      live,
      heartbeatAgeSeconds: i.ageMs / 1000,
      appliedVersion: i.appliedVersion,
      upToDate: live && (i.appliedVersion ?? -1) >= current.version,
      writes: i.detail?.writes ?? null,
      readsTargetPercent: i.detail?.readsTargetPercent ?? null,
      shadowPercent: i.detail?.shadowPercent ?? null,
      inFlightWrites: i.detail?.inFlightWrites ?? null,
      heldWrites: i.detail?.heldWrites ?? null,
      fenced: i.detail?.fenced ?? null,
      shadow: i.detail?.shadow ?? null,
    }
  })
  const shift = await store.state(query)
  const audit = await query<Record<string, unknown>>(`SELECT at, actor, origin_host, action, reason FROM ${q(database)}.${q('audit_log')} ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(auditEntries))}`)
  return {
    routing: {version: current.version, desired: current.desired, at: current.createdAt, by: current.createdBy, reason: current.reason},
    instances,
    shift,
    lease: await store.lease(query),
    lastFlip: shift.flips.at(-1) ?? null,
    audit: audit.map((r) => ({at: valueText(r.at), actor: valueText(r.actor), host: valueText(r.origin_host), action: valueText(r.action), reason: r.reason === null ? null : valueText(r.reason)})),
  }
}

/** Runs fn on a fresh control-store connection of the target; null (fn not run) when the control store lacks any of `tables`. */
function withControlTables<R>(target: ConnectionOptions, database: string, tables: readonly string[], fn: (query: Query) => Promise<R>): Promise<R | null> {
  return withEngine(target, undefined, async (engine) => {
    const replication = engine.replication
    if (replication === undefined) return null
    const present = new Set((await engine.introspect({database})).tables.map((t) => t.name))
    if (!tables.every((n) => present.has(n))) return null
    const writer = await replication.openWriter()
    try {
      return await fn((sql, p) => writer.query(sql, p))
    } finally {
      await writer.close()
    }
  })
}

/** The overview over a fresh target connection; null when the control store has no cutover tables (not provisioned by this version). */
export function cutoverOverview(target: ConnectionOptions, database: string): Promise<CutoverOverview | null> {
  return withControlTables(target, database, ['routing_state', 'runtime_heartbeats', 'cutover_state', 'audit_log'], (query) => readCutoverOverview(query, database))
}

/**
 * Records a verify that found both sides equal as the flip's starting point: rows the source
 * changed before `position` (taken before the verify read anything) are checked. Only while writes
 * are on the source; returns whether it was recorded.
 */
export async function recordVerified(target: ConnectionOptions, database: string, position: CapturePosition): Promise<boolean> {
  const recorded = await withControlTables(target, database, ['cutover_state', 'routing_state'], async (query) => {
    const routing = await new RoutingStore(database).current(query)
    if (routing.desired.writes !== 'source') return false
    await new CutoverStore(database).update(query, (s) => ({...s, verifiedThrough: position}))
    return true
  })
  return recorded === true
}
