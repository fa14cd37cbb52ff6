/**
 * What the cutover commands work with: both engines (positions, fence, row reads), one connection
 * to the control store, the replicated table pairs, and the helpers every step shares (read the
 * routing state, wait for the runtime instances to apply a version, read replication's positions).
 */
import {hostname} from 'node:os'
import {EnvironmentError, UsageError} from '../cli/errors.js'
import type {LoadedConfig} from '../config/index.js'
import {resolveConnection} from '../config/index.js'
import {tableMatcher} from '../config/tables.js'
import {CutoverStore} from '../control/cutover-store.js'
import {type InstanceHeartbeat, instanceLive, type Query, RoutingStore, type RoutingVersion} from '../control/routing-store.js'
import type {Engine} from '../engines/engine.js'
import type {ColumnModel} from '../engines/model.js'
import {openEngine} from '../engines/open.js'
import type {CapturePosition, ReplicationSupport, TargetWriter, VerifySupport} from '../engines/replication.js'
import {appliedAtLeast, replicationPositions} from '../migrators/replicate/control.js'
import {operatorName, pairTables, type TablePair} from '../migrators/replicate/replicate.js'
import {typeFamily, type TypeFamily} from '../validators/canonical.js'

export interface Side {
  engine: Engine
  replication: ReplicationSupport
  verify: VerifySupport
}

export interface ComparedPair extends TablePair {
  sourceColumns: ColumnModel[]
  families: TypeFamily[]
}

export interface CutoverEnv {
  loaded: LoadedConfig
  controlDatabase: string
  source: Side
  target: Side
  /** One connection to the control store (on the target). */
  control: Query
  routing: RoutingStore
  cutover: CutoverStore
  /** Who acts: user@host, for the audit log and the lease. */
  actor: string
  host: string
  pairs(): Promise<ComparedPair[]>
  close(): Promise<void>
}

function sideOf(engine: Engine, name: string): Side {
  const replication = engine.replication
  const verify = replication?.verify
  if (replication === undefined || verify === undefined) throw new UsageError('PAYCTL_CUTOVER_UNSUPPORTED', `The ${name} engine (${engine.name}) cannot take part in a cutover.`)
  return {engine, replication, verify}
}

export async function openCutoverEnv(loaded: LoadedConfig, signal?: AbortSignal): Promise<CutoverEnv> {
  const {controlStore} = loaded.config
  if (controlStore.side !== 'target') {
    throw new UsageError('PAYCTL_CONTROL_STORE_SIDE', 'The cutover keeps its routing state in the control store on the target, but controlStore.side is source.', {
      actions: ['Set controlStore.side: target in payctl.yaml and run payctl provision.'],
    })
  }
  const engines: Engine[] = []
  let writer: TargetWriter | null = null
  try {
    const source = sideOf(await openEngine(await resolveConnection('source', loaded), signal), 'source')
    engines.push(source.engine)
    const target = sideOf(await openEngine(await resolveConnection('target', loaded), signal), 'target')
    engines.push(target.engine)
    writer = await target.replication.openWriter()
    const w = writer
    const control: Query = <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => w.query<T>(sql, params)
    const present = new Set((await target.engine.introspect({database: controlStore.database})).tables.map((t) => t.name))
    const lacking = ['routing_state', 'runtime_heartbeats', 'cutover_state', 'audit_log', 'capture_positions', 'replication_state'].filter((n) => !present.has(n))
    if (lacking.length > 0) {
      throw new EnvironmentError('PAYCTL_CONTROL_STORE_MISSING', `The control store ${controlStore.database} on the target lacks ${lacking.join(', ')}.`, {
        actions: ['Run payctl provision: it creates the control store (or adds the tables this payctl version needs).'],
      })
    }
    let pairs: ComparedPair[] | null = null
    return {
      loaded,
      controlDatabase: controlStore.database,
      source,
      target,
      control,
      routing: new RoutingStore(controlStore.database),
      cutover: new CutoverStore(controlStore.database),
      actor: operatorName(),
      host: hostname(),
      pairs: async () => {
        if (pairs !== null) return pairs
        const matcher = tableMatcher(loaded.config.tables)
        const sourceTables = (await source.engine.introspect()).tables.filter((t) => matcher(t.schema, t.name))
        const targetTables = (await target.engine.introspect()).tables
        pairs = pairTables(sourceTables, targetTables, target.engine.options.database).map((p) => {
          const byName = new Map(p.model.columns.map((c) => [c.name, c]))
          const sourceColumns = p.source.columns.map((n) => {
            const c = byName.get(n)
            if (c === undefined) throw new Error(`column ${n} of ${p.source.name} is not in the model`)
            return c
          })
          return {...p, sourceColumns, families: sourceColumns.map((c) => typeFamily(c, source.engine.name))}
        })
        return pairs
      },
      close: async () => {
        await w.close().catch(() => undefined)
        for (const e of engines) await e.close().catch(() => undefined)
      },
    }
  } catch (err) {
    await writer?.close().catch(() => undefined)
    for (const e of engines) await e.close().catch(() => undefined)
    throw err
  }
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      {once: true},
    )
  })

/** Waits until `done()` holds, polling every `everyMs`, until `deadline` (performance.now() ms); false when the deadline passed first. */
export async function pollUntil(done: () => Promise<boolean>, deadline: number, everyMs: number, signal?: AbortSignal): Promise<boolean> {
  for (;;) {
    if (await done()) return true
    if (performance.now() >= deadline || signal?.aborted === true) return false
    await sleep(Math.min(everyMs, Math.max(1, deadline - performance.now())), signal)
  }
}

/** Waits until the replication direction has applied through `position`; false at the deadline. */
export function waitApplied(env: CutoverEnv, direction: 'forward' | 'reverse', position: CapturePosition, deadline: number, signal?: AbortSignal): Promise<boolean> {
  return pollUntil(async () => appliedAtLeast(await replicationPositions(env.control, env.controlDatabase), direction, position), deadline, 5, signal)
}

export interface AckResult {
  acknowledged: string[]
  /** Instances silent past their lease plus grace: they have fenced themselves. */
  gone: string[]
  /** Live instances that did not acknowledge in time. */
  missing: string[]
}

/**
 * Waits until every live runtime instance has applied `version`. An instance counts as live while
 * its heartbeat is younger than its lease plus the grace; one that falls silent during the wait
 * stops counting once it is past that (it has fenced itself by then).
 */
export async function waitForAcks(env: CutoverEnv, version: number, leaseMs: number, deadline: number, signal?: AbortSignal): Promise<AckResult> {
  let last: InstanceHeartbeat[] = []
  const done = async (): Promise<boolean> => {
    last = await env.routing.instances(env.control)
    return last.every((i) => !instanceLive(i, leaseMs) || (i.appliedVersion ?? -1) >= version)
  }
  await pollUntil(done, deadline, 5, signal)
  return {
    acknowledged: last.filter((i) => instanceLive(i, leaseMs) && (i.appliedVersion ?? -1) >= version).map((i) => i.instanceId),
    gone: last.filter((i) => !instanceLive(i, leaseMs)).map((i) => i.instanceId),
    missing: last.filter((i) => instanceLive(i, leaseMs) && (i.appliedVersion ?? -1) < version).map((i) => i.instanceId),
  }
}

/** The routing now, re-read (callers build the next version from it). */
export function currentRouting(env: CutoverEnv): Promise<RoutingVersion> {
  return env.routing.current(env.control)
}
