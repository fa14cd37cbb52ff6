/**
 * payctl replicate: full load + change data capture, resumable, throttled and observable.
 *
 * One process: a change stream from the source into the applier (applier.ts), copy workers that
 * copy tables segment by segment (copier.ts, which also holds the correctness argument), a lag
 * probe, and a publisher that writes status and heartbeat to the control store every second and
 * reads the operator's pause flag from it. Everything durable lives in the control store on the
 * target, so a rerun after kill -9 continues where the last committed chunk and batch left it.
 */
import {hostname, tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {EnvironmentError, PayctlError, UsageError} from '../../cli/errors.js'
import {startMemoryGovernor} from '../../cli/memory.js'
import type {TableMatcher} from '../../config/tables.js'
import {replicateAlive, REPLICATION_ID, ReplicationStore, type TableCopyState, type TableRow} from '../../control/replication-store.js'
import type {ConnectionOptions, Engine} from '../../engines/engine.js'
import type {TableModel} from '../../engines/model.js'
import {openEngine} from '../../engines/open.js'
import {asError, type CapturePosition, comparePositions, describePosition, type ReplicaTable, replicaTable, type ReplicationSupport, type TargetWriter} from '../../engines/replication.js'
import {Applier, type ApplierStats} from './applier.js'
import {type ChunkSizing, copySegment, DEFAULT_CHUNK_SIZING, planSegments, type SegmentTask} from './copier.js'

export interface ReplicateOptions {
  source: ConnectionOptions
  target: ConnectionOptions
  controlDatabase: string
  tables: TableMatcher
  /** Copy workers (each has a target connection). */
  workers: number
  sizing?: ChunkSizing
  /** Rows per segment when splitting a large table (integer first key column). */
  segmentRows?: number
  /** Stop once everything is copied and the applier has reached the source's position; otherwise run until the signal aborts. */
  untilCaughtUp: boolean
  /** Forget the copy state and empty the target tables first. */
  restart: boolean
  /** Copy pauses while change lag exceeds this (seconds). */
  maxLagSeconds: number
  /** Copy pauses while a primary-key read on the target's control store takes longer than this (ms; default 1000). */
  maxTargetResponseMs?: number
  /** Where held-back changes spill to disk (default: a folder in the OS temp dir). */
  spillDir?: string
  signal?: AbortSignal
  onEvent?: (e: ReplicateEvent) => void
  /** Heap in use above which a full garbage collection runs (MB; default 128; see src/cli/memory.ts). */
  heapBudgetMb?: number
  /** How often status is published and the pause flag read (ms; default 1000). */
  statusIntervalMs?: number
}

export type ReplicateEvent =
  | {kind: 'plan'; tables: TableProgress[]; resumed: boolean; from: CapturePosition}
  | {kind: 'status'; status: ReplicationStatus}
  | {kind: 'table'; table: TableProgress}
  | {kind: 'warning'; message: string}

export interface TableProgress {
  table: string
  state: TableCopyState
  rowsEstimate: number
  rowsCopied: number
  bytesCopied: number
  rowsPerSecond: number
  /** Seconds left for the copy at the current rate, null when unknown or done. */
  etaSeconds: number | null
}

export interface ReplicationStatus {
  phase: 'copying' | 'replicating' | 'caught-up' | 'stopped'
  at: string
  position: CapturePosition
  sourcePosition: CapturePosition | null
  lagSeconds: number | null
  lagEvents: number
  changesApplied: number
  changesHeld: number
  applyRatePerSecond: number
  copy: {rowsCopied: number; rowsEstimate: number; bytesCopied: number; rowsPerSecond: number; bytesPerSecond: number; etaSeconds: number | null}
  throttled: string | null
  paused: {by: string | null; reason: string | null} | null
  tables: TableProgress[]
}

export interface ReplicateResult {
  resumed: boolean
  from: CapturePosition
  position: CapturePosition
  tables: TableProgress[]
  rowsCopied: number
  bytesCopied: number
  copySeconds: number
  changesApplied: number
  lagSeconds: number | null
  stoppedBy: 'caught-up' | 'signal'
  status: ReplicationStatus
}

interface LiveTable {
  source: ReplicaTable
  target: ReplicaTable
  model: TableModel
  row: TableRow
  copiedThisRun: number
  bytesThisRun: number
  startedMs: number | null
}

function replicationOf(engine: Engine, side: string): ReplicationSupport {
  const r = engine.replication
  if (r === undefined) throw new UsageError('PAYCTL_REPLICATION_UNSUPPORTED', `The ${side} engine (${engine.name}) cannot take part in replication.`)
  return r
}

export interface TablePair {
  /** The source table's model. */
  model: TableModel
  targetModel: TableModel
  source: ReplicaTable
  target: ReplicaTable
}

/** Tables to replicate (or verify) and their target counterparts; refuses (exit 3) when the target is not provisioned. */
export function pairTables(source: TableModel[], target: TableModel[], targetDatabase: string): TablePair[] {
  const byName = new Map(target.map((t) => [t.name.toLowerCase(), t]))
  const missing: string[] = []
  const noKey: string[] = []
  const out: TablePair[] = []
  for (const t of source) {
    const s = replicaTable(t)
    if (s === null) {
      noKey.push(t.name)
      continue
    }
    const tt = byName.get(t.name.toLowerCase())
    const cols = new Set(tt?.columns.map((c) => c.name.toLowerCase()))
    const lacking = s.columns.filter((c) => !cols.has(c.toLowerCase()))
    if (tt === undefined || lacking.length > 0) {
      missing.push(tt === undefined ? t.name : `${t.name} (columns ${lacking.join(', ')})`)
      continue
    }
    const colName = new Map(tt.columns.map((c) => [c.name.toLowerCase(), c.name]))
    const map = (c: string): string => colName.get(c.toLowerCase()) ?? c
    out.push({
      model: t,
      targetModel: tt,
      source: s,
      target: {schema: targetDatabase, name: tt.name, columns: s.columns.map(map), keyColumns: s.keyColumns.map(map), keyIndexes: s.keyIndexes, jsonColumns: s.jsonColumns.map(map)},
    })
  }
  if (noKey.length > 0) {
    throw new EnvironmentError('PAYCTL_TABLE_WITHOUT_KEY', `Tables without a primary key or a unique key on NOT NULL columns cannot be replicated: ${noKey.join(', ')}.`, {
      actions: ['Add a primary key on the source, or leave these tables out with tables.exclude in payctl.yaml.'],
    })
  }
  if (missing.length > 0) {
    throw new EnvironmentError('PAYCTL_TARGET_NOT_PROVISIONED', `The target lacks tables or columns to replicate into: ${missing.join('; ')}.`, {
      actions: ['Run payctl provision first (payctl provision --dry-run shows what it creates).'],
    })
  }
  return out
}

export async function replicate(o: ReplicateOptions): Promise<ReplicateResult> {
  const engines: Engine[] = []
  const writers: TargetWriter[] = []
  const stopGovernor = startMemoryGovernor(o.heapBudgetMb)
  try {
    const sourceEngine = await openEngine(o.source, o.signal)
    engines.push(sourceEngine)
    const targetEngine = await openEngine(o.target, o.signal)
    engines.push(targetEngine)
    return await run(o, sourceEngine, targetEngine, writers)
  } finally {
    stopGovernor()
    for (const w of writers) await w.close().catch(() => undefined)
    for (const e of engines) await e.close().catch(() => undefined)
  }
}

async function run(o: ReplicateOptions, sourceEngine: Engine, targetEngine: Engine, writers: TargetWriter[]): Promise<ReplicateResult> {
  const source = replicationOf(sourceEngine, 'source')
  const target = replicationOf(targetEngine, 'target')
  const emit = (e: ReplicateEvent): void => o.onEvent?.(e)
  const sizing = o.sizing ?? DEFAULT_CHUNK_SIZING

  // 1. What to copy, and whether the target and the control store are ready for it.
  const sourceModel = await sourceEngine.introspect(o.signal === undefined ? {} : {signal: o.signal})
  const chosen = sourceModel.tables.filter((t) => o.tables(t.schema, t.name))
  if (chosen.length === 0) throw new UsageError('PAYCTL_NO_TABLES', 'No source table matches tables.include / tables.exclude in payctl.yaml.', {actions: ['Check tables.include and tables.exclude.']})
  const targetModel = await targetEngine.introspect()
  const pairs = pairTables(chosen, targetModel.tables, o.target.database)
  const control = await targetEngine.introspect({database: o.controlDatabase})
  const controlNames = new Set(control.tables.map((t) => t.name))
  const lackingControl = ['replication_tables', 'replication_state', 'copy_checkpoints', 'capture_positions'].filter((n) => !controlNames.has(n))
  if (lackingControl.length > 0) {
    throw new EnvironmentError('PAYCTL_CONTROL_STORE_MISSING', `The control store ${o.controlDatabase} on the target lacks ${lackingControl.join(', ')}.`, {
      actions: ['Run payctl provision: it creates the control store (or adds the tables this payctl version needs).'],
    })
  }

  // 2. Refuse before anything is copied when changes cannot be captured.
  await source.capture.checkPrerequisites(pairs.map((p) => p.model))

  const store = new ReplicationStore(o.controlDatabase)
  const control0 = await target.openWriter()
  writers.push(control0)
  const cq = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => control0.query<T>(sql, p)

  // one replicate per control store: a second one would race the first's checkpoints
  const other = await store.state(cq)
  if (replicateAlive(other) && !deadHere(other.host, other.pid)) {
    throw new EnvironmentError('PAYCTL_REPLICATE_RUNNING', `Another payctl replicate is running (pid ${other.pid ?? '?'} on ${other.host ?? '?'}, heartbeat ${Math.round(other.heartbeatAgeMs ?? 0)} ms ago).`, {
      actions: ['Stop that one first (Ctrl-C or SIGTERM; it saves its state), or watch it with payctl status.'],
    })
  }

  if (o.restart) {
    await store.reset(cq)
    for (const p of pairs) await (target.truncate?.(p.target) ?? Promise.resolve())
  }
  let rows = await store.tables(cq)
  let applied = await store.position(cq)
  const resumed = applied !== null && rows.length > 0
  if (!resumed) {
    // a fresh copy into tables that already hold rows would leave rows the source does not have
    const filled: string[] = []
    for (const p of pairs) {
      const n = await target.countRows(p.target)
      if (n > 0) filled.push(`${p.target.name} (${n} rows)`)
    }
    if (filled.length > 0) {
      throw new EnvironmentError('PAYCTL_TARGET_NOT_EMPTY', `The target tables already hold rows and there is no copy to resume: ${filled.join(', ')}.`, {
        actions: ['Run payctl replicate --restart to empty them and copy from the start, or empty them yourself.'],
      })
    }
    await store.reset(cq)
    applied = await source.capture.currentPosition()
    await control0.begin()
    await store.savePosition(cq, applied)
    for (const p of pairs) await store.insertTable(cq, p.source.name, p.model.rowEstimate)
    await control0.commit()
    rows = await store.tables(cq)
  } else {
    // tables added to the config since the copy started join as pending
    const known = new Set(rows.map((r) => r.table))
    const added = pairs.filter((p) => !known.has(p.source.name))
    for (const p of added) await store.insertTable(cq, p.source.name, p.model.rowEstimate)
    if (added.length > 0) rows = await store.tables(cq)
  }
  if (applied === null) throw new Error('no capture position')
  const rowByName = new Map(rows.map((r) => [r.table, r]))
  const live: LiveTable[] = pairs.map((p) => {
    const row = rowByName.get(p.source.name)
    if (row === undefined) throw new Error(`no replication row for ${p.source.name}`)
    return {source: p.source, target: p.target, model: p.model, row, copiedThisRun: 0, bytesThisRun: 0, startedMs: null}
  })

  // 3. Resume point: the applied position, or earlier where a table's held-back changes were lost with the last process.
  let from: CapturePosition = applied
  for (const t of live) {
    if (t.row.state !== 'replicating' && t.row.state !== 'pending' && t.row.streamStart !== null && comparePositions(t.row.streamStart, from) < 0) from = t.row.streamStart
  }
  await checkRetention(source, from, live, emit)
  emit({kind: 'plan', tables: live.map((t) => progressOf(t)), resumed, from})

  const applierWriter = await target.openWriter()
  writers.push(applierWriter)
  const stream = source.capture.open(
    from,
    live.map((t) => t.model),
    o.signal,
  )
  let paused: {by: string | null; reason: string | null} | null = null
  let throttled: string | null = null
  const stopWaiters = new AbortController()
  const waitWhile = async (cond: () => boolean): Promise<void> => {
    while (cond() && !stopWaiters.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const applier = new Applier({
    stream,
    writer: applierWriter,
    store,
    tables: live.map((t) => ({source: t.source.name, target: t.target, state: t.row.state})),
    start: from,
    spillDir: o.spillDir ?? join(tmpdir(), `payctl-spill-${process.pid}`),
    waitWhilePaused: () => waitWhile(() => paused !== null),
  })
  const applierRun = applier.run()
  let failure: Error | null = null
  applierRun.catch((err: unknown) => {
    failure ??= asError(err)
    stopWaiters.abort()
  })

  // 4. Lag: the source's position sampled every 250 ms; lag = age of the oldest sample the applier has not reached.
  const probes: Array<{position: CapturePosition; at: number}> = []
  let sourcePosition: CapturePosition | null = null
  const lagSeconds = (): number | null => {
    const pos = applier.stats.position
    while (probes.length > 0 && comparePositions(probes[0]?.position ?? pos, pos) <= 0) probes.shift()
    const oldest = probes[0]
    return oldest === undefined ? 0 : (Date.now() - oldest.at) / 1000
  }
  const probeTimer = setInterval(() => {
    source.capture
      .currentPosition()
      .then((p) => {
        sourcePosition = p
        const last = probes.at(-1)
        if (last === undefined || comparePositions(last.position, p) !== 0) probes.push({position: p, at: Date.now()})
      })
      .catch(() => undefined)
  }, 250)

  // 5. Status and pause flag, every second, on the control connection.
  const copyStart = performance.now()
  let lastApplied = 0
  let lastTick = performance.now()
  let applyRate = 0
  let phase: ReplicationStatus['phase'] = live.every((t) => t.row.state === 'replicating') ? 'replicating' : 'copying'
  const statusOf = (): ReplicationStatus => {
    const stats: ApplierStats = applier.stats
    const tables = live.map((t) => progressOf(t))
    const rowsCopied = tables.reduce((n, t) => n + t.rowsCopied, 0)
    const rowsEstimate = tables.reduce((n, t) => n + Math.max(t.rowsEstimate, t.rowsCopied), 0)
    const elapsed = (performance.now() - copyStart) / 1000
    const thisRun = live.reduce((n, t) => n + t.copiedThisRun, 0)
    const bytesThisRun = live.reduce((n, t) => n + t.bytesThisRun, 0)
    const rps = elapsed > 0 ? thisRun / elapsed : 0
    return {
      phase,
      at: new Date().toISOString(),
      position: stats.position,
      sourcePosition,
      lagSeconds: lagSeconds(),
      lagEvents: applier.backlog,
      changesApplied: stats.changesApplied,
      changesHeld: stats.changesHeld,
      applyRatePerSecond: applyRate,
      copy: {rowsCopied, rowsEstimate, bytesCopied: tables.reduce((n, t) => n + t.bytesCopied, 0), rowsPerSecond: rps, bytesPerSecond: elapsed > 0 ? bytesThisRun / elapsed : 0, etaSeconds: rps > 0 && phase === 'copying' ? Math.max(0, rowsEstimate - rowsCopied) / rps : null},
      throttled,
      paused,
      tables,
    }
  }
  const host = hostname()
  const statusTick = async (): Promise<void> => {
    const now = performance.now()
    const appliedNow = applier.stats.changesApplied
    applyRate = ((appliedNow - lastApplied) * 1000) / Math.max(1, now - lastTick)
    lastApplied = appliedNow
    lastTick = now
    // the control read doubles as the target's health probe: a target this slow to answer a primary-key read is overloaded
    const asked = performance.now()
    const state = await store.state(cq)
    const answerMs = performance.now() - asked
    paused = state?.paused === true ? {by: state.pauseBy, reason: state.pauseReason} : null
    const lag = lagSeconds()
    throttled =
      paused !== null
        ? `paused by ${paused.by ?? 'an operator'}${paused.reason === null ? '' : `: ${paused.reason}`}`
        : lag !== null && lag > o.maxLagSeconds
          ? `change lag ${lag.toFixed(1)} s > ${o.maxLagSeconds} s`
          : answerMs > (o.maxTargetResponseMs ?? 1_000)
            ? `target slow: a control-store read took ${Math.round(answerMs)} ms > ${o.maxTargetResponseMs ?? 1_000} ms`
            : null
    const status = statusOf()
    await store.heartbeat(cq, host, process.pid, status)
    emit({kind: 'status', status})
  }
  let ticking = Promise.resolve()
  let tickRunning = false
  const statusTimer = setInterval(() => {
    // a slow target makes a tick outlast the interval: skip rather than queue ticks behind it
    if (tickRunning) return
    tickRunning = true
    ticking = statusTick()
      .catch((err: unknown) => {
        failure ??= asError(err)
        stopWaiters.abort()
      })
      .finally(() => {
        tickRunning = false
      })
  }, o.statusIntervalMs ?? 1000)

  try {
    await statusTick()
    // 6. Copy what is not copied yet.
    const pendingRelease = live.filter((t) => t.row.state === 'catching-up')
    for (const t of pendingRelease) await releaseTable(applier, t, emit)
    const toCopy = live.filter((t) => t.row.state === 'pending' || t.row.state === 'copying').sort((a, b) => b.model.rowEstimate - a.model.rowEstimate)
    if (toCopy.length > 0) {
      await copyTables({o, source, target, store, applier, tables: toCopy, sizing, writers, emit, failed: () => failure, stop: stopWaiters.signal, waitForThrottle: () => waitWhile(() => throttled !== null)})
    }
    if (failure !== null) throw asError(failure)
    phase = 'replicating'

    // 7. Follow changes: until caught up, or until stopped.
    if (o.untilCaughtUp) {
      const goal = await source.capture.currentPosition()
      await waitWhile(() => comparePositions(applier.stats.position, goal) < 0 && failure === null && o.signal?.aborted !== true)
      if (failure !== null) throw asError(failure)
      if (o.signal?.aborted !== true) phase = 'caught-up'
    } else {
      await waitWhile(() => failure === null && o.signal?.aborted !== true)
      if (failure !== null) throw asError(failure)
    }
  } catch (err) {
    failure ??= asError(err)
  } finally {
    clearInterval(probeTimer)
    clearInterval(statusTimer)
    stopWaiters.abort()
    applier.stop()
    await applierRun.catch(() => undefined)
    await ticking.catch(() => undefined)
  }
  if (failure !== null && !(o.signal?.aborted === true && !(failure instanceof PayctlError))) throw failure
  if (phase !== 'caught-up') phase = 'stopped'
  const status = statusOf()
  await store.heartbeat(cq, host, process.pid, status).catch(() => undefined)
  emit({kind: 'status', status})
  return {
    resumed,
    from,
    position: applier.stats.position,
    tables: status.tables,
    rowsCopied: live.reduce((n, t) => n + t.copiedThisRun, 0),
    bytesCopied: live.reduce((n, t) => n + t.bytesThisRun, 0),
    copySeconds: (performance.now() - copyStart) / 1000,
    changesApplied: applier.stats.changesApplied,
    lagSeconds: status.lagSeconds,
    stoppedBy: o.signal?.aborted === true ? 'signal' : 'caught-up',
    status,
  }
}

/** A process on this host that no longer exists (killed with -9: its heartbeat is recent but nobody is behind it). */
function deadHere(host: string | null, pid: number | null): boolean {
  if (host !== hostname() || pid === null) return false
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as {code?: string}).code === 'ESRCH'
  }
}

function progressOf(t: LiveTable): TableProgress {
  const elapsed = t.startedMs === null ? 0 : (performance.now() - t.startedMs) / 1000
  const rps = elapsed > 0 ? t.copiedThisRun / elapsed : 0
  const left = Math.max(0, t.row.rowsEstimate - t.row.rowsCopied)
  return {
    table: t.source.name,
    state: t.row.state,
    rowsEstimate: t.row.rowsEstimate,
    rowsCopied: t.row.rowsCopied,
    bytesCopied: t.row.bytesCopied,
    rowsPerSecond: rps,
    etaSeconds: t.row.state === 'pending' || t.row.state === 'copying' ? (rps > 0 ? left / rps : null) : null,
  }
}

async function releaseTable(applier: Applier, t: LiveTable, emit: (e: ReplicateEvent) => void): Promise<void> {
  t.row.state = 'catching-up'
  emit({kind: 'table', table: progressOf(t)})
  await applier.release(t.source.name)
  t.row.state = 'replicating'
  emit({kind: 'table', table: progressOf(t)})
}

async function checkRetention(source: ReplicationSupport, from: CapturePosition, live: LiveTable[], emit: (e: ReplicateEvent) => void): Promise<void> {
  const r = await source.capture.retention()
  if (r.oldest !== null && comparePositions(r.oldest, from) > 0) {
    throw new EnvironmentError('PAYCTL_CAPTURE_POSITION_LOST', `The source no longer keeps the changes replication must resume from (${describePosition(from)}; oldest kept: ${describePosition(r.oldest)}).`, {
      actions: ['Start over with payctl replicate --restart, and keep change history longer on the source (binlog_expire_logs_seconds, CDC retention).'],
    })
  }
  if (r.retentionSeconds !== null && r.retentionSeconds > 0) {
    const oldest = live.map((t) => (t.row.startedAt === null || t.row.state === 'replicating' ? null : Date.parse(`${t.row.startedAt.replace(' ', 'T')}Z`))).filter((x): x is number => x !== null && Number.isFinite(x))
    const age = oldest.length === 0 ? 0 : (Date.now() - Math.min(...oldest)) / 1000
    if (age > 0.8 * r.retentionSeconds) {
      emit({kind: 'warning', message: `The resume position is ${Math.round(age / 3600)} h old and the source keeps changes for ${Math.round(r.retentionSeconds / 3600)} h: let replication catch up soon, or raise the retention, or the copy must restart.`})
    }
  }
}

interface CopyContext {
  o: ReplicateOptions
  source: ReplicationSupport
  target: ReplicationSupport
  store: ReplicationStore
  applier: Applier
  tables: LiveTable[]
  sizing: ChunkSizing
  writers: TargetWriter[]
  emit: (e: ReplicateEvent) => void
  failed: () => unknown
  stop: AbortSignal
  waitForThrottle: () => Promise<void>
}

/** Workers take segments; a table is opened (held back, segmented) when its first segment is needed, and released when its last is done. */
async function copyTables(c: CopyContext): Promise<void> {
  const queue: SegmentTask[] = []
  const openTables = [...c.tables]
  const remaining = new Map<string, number>()
  let opening: Promise<void> | null = null

  const openNext = async (): Promise<void> => {
    const t = openTables.shift()
    if (t === undefined) return
    const cq = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => c.writers[0]?.query<T>(sql, p) ?? Promise.resolve([])
    if (t.row.state === 'pending') {
      await c.applier.hold(t.source.name)
      t.row.state = 'copying'
    }
    let segments = (await c.store.segments(cq)).filter((s) => s.table === t.source.name)
    if (segments.length === 0) {
      const bounds = await c.source.keyBounds(t.source)
      const control = c.writers[0]
      if (control === undefined) throw new Error('no control connection')
      // all of a table's segments or none: a resume re-plans only a table that has no segment at all
      await control.begin()
      try {
        await c.store.insertSegments(cq, t.source.name, planSegments(bounds, t.model.rowEstimate, c.o.segmentRows ?? 250_000, Math.max(1, c.o.workers * 2)))
        await control.commit()
      } catch (err) {
        await control.rollback().catch(() => undefined)
        throw err
      }
      segments = (await c.store.segments(cq)).filter((s) => s.table === t.source.name)
    }
    t.startedMs = performance.now()
    c.emit({kind: 'table', table: progressOf(t)})
    const open = segments.filter((s) => s.status !== 'done')
    remaining.set(t.source.name, open.length)
    if (open.length === 0) await releaseTable(c.applier, t, c.emit)
    for (const s of open) queue.push({source: t.source, target: t.target, segment: s})
  }

  const next = async (): Promise<SegmentTask | undefined> => {
    for (;;) {
      const task = queue.shift()
      if (task !== undefined) return task
      if (openTables.length === 0) return undefined
      opening ??= openNext().finally(() => {
        opening = null
      })
      await opening
    }
  }

  let workerFailure: Error | null = null
  const stopReason = (): Error | null => workerFailure ?? c.applier.ended ?? (c.failed() === null ? null : asError(c.failed()))
  const worker = async (): Promise<void> => {
    const writer = await c.target.openWriter()
    c.writers.push(writer)
    try {
      await workLoop(writer)
    } catch (err) {
      workerFailure ??= asError(err)
      throw err
    }
  }
  const workLoop = async (writer: TargetWriter): Promise<void> => {
    for (;;) {
      if (stopReason() !== null || c.stop.aborted || c.o.signal?.aborted === true) return
      const task = await next()
      if (task === undefined) return
      const t = c.tables.find((x) => x.source.name === task.source.name)
      if (t === undefined) continue
      await copySegment(task, {
        source: c.source,
        writer,
        store: c.store,
        sizing: c.sizing,
        ...(c.o.signal === undefined ? {} : {signal: c.o.signal}),
        waitForThrottle: c.waitForThrottle,
        stopReason,
        onChunk: (chunk) => {
          t.row.rowsCopied += chunk.rows
          t.row.bytesCopied += chunk.bytes
          t.copiedThisRun += chunk.rows
          t.bytesThisRun += chunk.bytes
          c.emit({kind: 'table', table: progressOf(t)})
        },
      })
      const left = (remaining.get(t.source.name) ?? 1) - 1
      remaining.set(t.source.name, left)
      if (left === 0) await releaseTable(c.applier, t, c.emit)
    }
  }

  const results = await Promise.allSettled(Array.from({length: Math.max(1, c.o.workers)}, () => worker()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw asError(failed.reason)
  const stop = stopReason()
  if (stop !== null) throw stop
}

/** For status: whether this table id is this stream's (tests and status use it). */
export const STREAM = REPLICATION_ID

/** Who runs this (the audit log and the pause flag name them). */
export function operatorName(): string {
  try {
    return `${userInfo().username}@${hostname()}`
  } catch {
    return `unknown@${hostname()}`
  }
}
