/**
 * payctl replicate: full load + change data capture, resumable, throttled and observable, in the
 * direction the cutover asks for.
 *
 * One process: a change stream into the applier (applier.ts), copy workers that copy tables
 * segment by segment (copier.ts, which also holds the correctness argument), a lag probe, a
 * publisher that writes status and heartbeat to the control store every second and reads the
 * operator's pause flag from it, and a routing poller. Everything durable lives in the control
 * store on the target, so a rerun after kill -9 continues where the last committed chunk and
 * batch left it.
 *
 * Direction (handover.ts): the process polls the routing state every 100 ms and follows its
 * `replication` field. Forward is source -> target (the copy, then changes); reverse is target ->
 * source after the write flip (changes only, every table live from the target position the
 * cutover read); none ends the process (finalize). A switch drains the running direction to the
 * cutover's `stopAt`, stops it, and then, in one control-store transaction, saves the position the
 * new direction starts from and the routing version acted on. A restart reads that record and
 * resumes the direction it names from that direction's saved position; one that finds a newer
 * routing version replays the switches it missed, in order. Both directions never run at once.
 */
import {hostname, tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {BugError, EnvironmentError, InterruptedError, PayctlError, UsageError} from '../../cli/errors.js'
import {startMemoryGovernor} from '../../cli/memory.js'
import type {TableMatcher} from '../../config/tables.js'
import {type ActedRouting, replicateAlive, REPLICATION_ID, ReplicationStore, type TableCopyState, type TableRow} from '../../control/replication-store.js'
import {type ReplicationDirection, RoutingStore} from '../../control/routing-store.js'
import type {ConnectionOptions, Engine} from '../../engines/engine.js'
import type {TableModel} from '../../engines/model.js'
import {openEngine} from '../../engines/open.js'
import {asError, type CapturePosition, type ChangeCapture, comparePositions, describePosition, type ReplicaTable, replicaTable, type ReplicationSupport, type TargetWriter} from '../../engines/replication.js'
import {Applier} from './applier.js'
import {type ChunkSizing, copySegment, DEFAULT_CHUNK_SIZING, planSegments, type SegmentTask} from './copier.js'
import {type HandoverStep, nextHandover, NOT_ACTED} from './handover.js'
import {LagMeter} from './lag-meter.js'
import {forwardTable, reverseTables} from './reverse.js'

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
  /** Stop once everything is copied and the applier has reached the capture side's position; otherwise run until the signal aborts (or the routing state says none). */
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
  /** How often the routing state is read (ms; default 100). */
  routingPollMs?: number
}

export type ReplicateEvent =
  | {kind: 'plan'; tables: TableProgress[]; resumed: boolean; from: CapturePosition}
  | {kind: 'status'; status: ReplicationStatus}
  | {kind: 'table'; table: TableProgress}
  | {kind: 'warning'; message: string}
  /** A direction starts (or, with none, replication has ended for good), as routing version `routingVersion` asks. */
  | {kind: 'direction'; direction: ReplicationDirection; routingVersion: number; from: CapturePosition | null}

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

/** Reverse replication (target -> source) while it runs. */
export interface ReverseStatus {
  /** The target position applied to the source. */
  position: CapturePosition
  /** The target's position at the last probe (every 250 ms). */
  targetPosition: CapturePosition | null
  lagSeconds: number | null
  lagEvents: number
  changesApplied: number
  applyRatePerSecond: number
}

/** A switch of direction in progress: the running direction drains to `stopAt`, then `to` starts. */
export interface HandoverStatus {
  version: number
  to: ReplicationDirection
  stopAt: CapturePosition | null
  since: string
}

export interface ReplicationStatus {
  phase: 'copying' | 'replicating' | 'caught-up' | 'stopped'
  at: string
  /** The forward stream's applied source position (where it stopped, while reverse runs). */
  position: CapturePosition
  sourcePosition: CapturePosition | null
  /** Forward lag; null while forward does not run. */
  lagSeconds: number | null
  lagEvents: number
  changesApplied: number
  changesHeld: number
  applyRatePerSecond: number
  copy: {rowsCopied: number; rowsEstimate: number; bytesCopied: number; rowsPerSecond: number; bytesPerSecond: number; etaSeconds: number | null}
  throttled: string | null
  paused: {by: string | null; reason: string | null} | null
  tables: TableProgress[]
  /** Which way changes flow: forward (source -> target), reverse (target -> source), none (finalized). */
  direction: ReplicationDirection
  /** The routing version the process has acted on (0 before any). */
  routingVersion: number
  handover: HandoverStatus | null
  reverse: ReverseStatus | null
}

export interface ReplicateResult {
  resumed: boolean
  from: CapturePosition
  /** The forward stream's applied position. */
  position: CapturePosition
  tables: TableProgress[]
  rowsCopied: number
  bytesCopied: number
  copySeconds: number
  changesApplied: number
  lagSeconds: number | null
  stoppedBy: 'caught-up' | 'signal' | 'finalized'
  status: ReplicationStatus
  direction: ReplicationDirection
  routingVersion: number
  reverse: {position: CapturePosition | null; changesApplied: number}
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
  const sameColumns = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((c, i) => c.toLowerCase() === b[i]?.toLowerCase())
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
      target: {schema: targetDatabase, name: tt.name, columns: s.columns.map(map), keyColumns: s.keyColumns.map(map), keyIndexes: s.keyIndexes, keyIsPrimary: sameColumns(tt.primaryKey?.columns.map((c) => c.name) ?? [], s.keyColumns), jsonColumns: s.jsonColumns.map(map)},
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
    const run = await ReplicateRun.prepare(o, sourceEngine, targetEngine, writers)
    return await run.main()
  } finally {
    stopGovernor()
    for (const w of writers) await w.close().catch(() => undefined)
    for (const e of engines) await e.close().catch(() => undefined)
  }
}

type Stream = 'forward' | 'reverse'

/** One direction running: its change stream, applier and connections. */
interface Leg {
  direction: Stream
  applier: Applier
  /** The applier's loop; never rejects (a failure is recorded as the run's failure). */
  done: Promise<void>
  capture: ChangeCapture
  writers: TargetWriter[]
}

type Query = <T>(sql: string, p?: readonly unknown[]) => Promise<T[]>

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

class ReplicateRun {
  readonly #emit: (e: ReplicateEvent) => void
  readonly #host = hostname()
  readonly #forwardStore: ReplicationStore
  readonly #reverseStore: ReplicationStore
  readonly #routing: RoutingStore
  #acted: ActedRouting = NOT_ACTED
  #live: LiveTable[] = []
  #leg: Leg | null = null
  /** A switch the poller found; the main loop acts on it. */
  #pending: Extract<HandoverStep, {kind: 'switch'}> | null = null
  #handover: HandoverStatus | null = null
  /** While true the poller only waits: the main loop itself reads the routing state and records what it acts on. */
  #switching = true
  #polling: Promise<void> = Promise.resolve()
  #failure: Error | null = null
  readonly #stopWaiters = new AbortController()
  #paused: {by: string | null; reason: string | null} | null = null
  #throttled: string | null = null
  #phase: ReplicationStatus['phase'] = 'replicating'
  readonly #lag = {forward: new LagMeter(), reverse: new LagMeter()}
  /** Per direction: the position and changes of legs that ended in this process (positions loaded from the store at start). */
  readonly #applied: Record<Stream, {position: CapturePosition | null; changes: number}> = {forward: {position: null, changes: 0}, reverse: {position: null, changes: 0}}
  readonly #rate = {forward: 0, reverse: 0, lastTotal: {forward: 0, reverse: 0}, lastTick: performance.now()}
  readonly #copyStart = performance.now()
  #resumed = true
  #from: CapturePosition | null = null

  private constructor(
    private readonly o: ReplicateOptions,
    private readonly source: ReplicationSupport,
    private readonly target: ReplicationSupport,
    private readonly pairs: TablePair[],
    private readonly control: TargetWriter,
  ) {
    this.#emit = (e) => o.onEvent?.(e)
    this.#forwardStore = new ReplicationStore(o.controlDatabase, 'forward')
    this.#reverseStore = new ReplicationStore(o.controlDatabase, 'reverse')
    this.#routing = new RoutingStore(o.controlDatabase)
  }

  readonly #cq: Query = (sql, p) => this.control.query(sql, p)

  /** Everything checked before a row moves: tables, control store, capture prerequisites, no other replicate running, --restart allowed. */
  static async prepare(o: ReplicateOptions, sourceEngine: Engine, targetEngine: Engine, writers: TargetWriter[]): Promise<ReplicateRun> {
    const source = replicationOf(sourceEngine, 'source')
    const target = replicationOf(targetEngine, 'target')

    // 1. What to copy, and whether the target and the control store are ready for it.
    const sourceModel = await sourceEngine.introspect(o.signal === undefined ? {} : {signal: o.signal})
    const chosen = sourceModel.tables.filter((t) => o.tables(t.schema, t.name))
    if (chosen.length === 0) throw new UsageError('PAYCTL_NO_TABLES', 'No source table matches tables.include / tables.exclude in payctl.yaml.', {actions: ['Check tables.include and tables.exclude.']})
    const targetModel = await targetEngine.introspect()
    const pairs = pairTables(chosen, targetModel.tables, o.target.database)
    const control = await targetEngine.introspect({database: o.controlDatabase})
    const controlNames = new Set(control.tables.map((t) => t.name))
    const lackingControl = ['replication_tables', 'replication_state', 'copy_checkpoints', 'capture_positions', 'routing_state'].filter((n) => !controlNames.has(n))
    if (lackingControl.length > 0) {
      throw new EnvironmentError('PAYCTL_CONTROL_STORE_MISSING', `The control store ${o.controlDatabase} on the target lacks ${lackingControl.join(', ')}.`, {
        actions: ['Run payctl provision: it creates the control store (or adds the tables this payctl version needs).'],
      })
    }

    // 2. Refuse before anything is copied when changes cannot be captured.
    await source.capture.checkPrerequisites(pairs.map((p) => p.model))

    const control0 = await target.openWriter()
    writers.push(control0)
    const run = new ReplicateRun(o, source, target, pairs, control0)
    const cq = run.#cq

    // one replicate per control store: a second one would race the first's checkpoints
    const other = await run.#forwardStore.state(cq)
    if (replicateAlive(other) && !deadHere(other.host, other.pid)) {
      throw new EnvironmentError('PAYCTL_REPLICATE_RUNNING', `Another payctl replicate is running (pid ${other.pid ?? '?'} on ${other.host ?? '?'}, heartbeat ${Math.round(other.heartbeatAgeMs ?? 0)} ms ago).`, {
        actions: ['Stop that one first (payctl replicate stop, Ctrl-C or SIGTERM; it saves its state), or watch it with payctl status.'],
      })
    }
    run.#acted = (await run.#forwardStore.acted(cq)) ?? NOT_ACTED
    run.#applied.forward.position = await run.#forwardStore.position(cq)
    run.#applied.reverse.position = await run.#reverseStore.position(cq)

    if (o.restart) {
      // emptying the target while it takes the application's writes would destroy them
      const routing = await run.#routing.poll(cq)
      if (run.#acted.direction !== 'forward' || routing.desired.replication.direction !== 'forward' || routing.desired.writes !== 'source') {
        throw new UsageError('PAYCTL_RESTART_REFUSED', `payctl replicate --restart empties the target tables, but the routing state (version ${routing.version}) has writes ${routing.desired.writes} and replication ${routing.desired.replication.direction}.`, {
          actions: ['Roll the routing back first (payctl rollback) so that writes are on the source and replication runs forward, or run payctl replicate without --restart: it resumes.'],
        })
      }
      await run.#forwardStore.reset(cq)
      for (const p of pairs) await (target.truncate?.(p.target) ?? Promise.resolve())
      run.#applied.forward.position = null
    }
    return run
  }

  async main(): Promise<ReplicateResult> {
    const statusMs = this.o.statusIntervalMs ?? 1000
    let ended = false
    let tickRunning = false
    let ticking = Promise.resolve()
    const statusTimer = setInterval(() => {
      // a slow target makes a tick outlast the interval: skip rather than queue ticks behind it
      if (tickRunning || this.#leg === null) return
      tickRunning = true
      ticking = this.#statusTick()
        .catch((err: unknown) => this.#fail(asError(err)))
        .finally(() => {
          tickRunning = false
        })
    }, statusMs)
    // 4. Lag: the capture side's position sampled every 250 ms; lag = age of the oldest sample the applier has not reached.
    let probing = false
    const probeTimer = setInterval(() => {
      const leg = this.#leg
      if (leg === null || probing) return
      probing = true
      leg.capture
        .currentPosition()
        .then((p) => this.#lag[leg.direction].sample(p))
        .catch(() => undefined)
        .finally(() => {
          probing = false
        })
    }, 250)
    const pollLoop = (async () => {
      while (!ended) {
        if (!this.#switching && this.#pending === null && this.#failure === null) {
          this.#polling = this.#poll()
          await this.#polling
        }
        await sleep(this.o.routingPollMs ?? 100)
      }
    })()

    let outcome: 'caught-up' | 'signal' | 'finalized' = 'signal'
    try {
      outcome = await this.#legs()
    } catch (err) {
      this.#fail(asError(err))
    } finally {
      ended = true
      clearInterval(probeTimer)
      clearInterval(statusTimer)
      this.#stopWaiters.abort()
      if (this.#leg !== null) await this.#stopLeg(this.#leg)
      await ticking.catch(() => undefined)
      await pollLoop
    }
    const failure = this.#failure
    if (failure !== null && !(this.o.signal?.aborted === true && !(failure instanceof PayctlError))) throw failure
    // stopped before either stream had a position: there is nothing to report on
    if (this.#position('forward') === null && this.#position('reverse') === null) throw failure ?? new InterruptedError('Stopped before replication started; nothing was changed. Run payctl replicate again.')
    if (outcome !== 'caught-up') this.#phase = 'stopped'
    const status = this.#status()
    await this.#forwardStore.heartbeat(this.#cq, this.#host, process.pid, status).catch(() => undefined)
    this.#emit({kind: 'status', status})
    const tables = status.tables
    return {
      resumed: this.#resumed,
      from: this.#from ?? status.position,
      position: status.position,
      tables,
      rowsCopied: this.#live.reduce((n, t) => n + t.copiedThisRun, 0),
      bytesCopied: this.#live.reduce((n, t) => n + t.bytesThisRun, 0),
      copySeconds: (performance.now() - this.#copyStart) / 1000,
      changesApplied: this.#changes('forward'),
      lagSeconds: status.lagSeconds,
      stoppedBy: this.o.signal?.aborted === true ? 'signal' : outcome,
      status,
      direction: this.#acted.direction,
      routingVersion: this.#acted.version,
      reverse: {position: this.#position('reverse'), changesApplied: this.#changes('reverse')},
    }
  }

  /** Runs the acted direction, switching as the routing state asks, until caught up (--until), stopped, or finalized. */
  async #legs(): Promise<'caught-up' | 'signal' | 'finalized'> {
    for (;;) {
      if (this.o.signal?.aborted === true) return 'signal'
      this.#switching = true
      await this.#polling
      const step = this.#pending ?? (await this.#decide())
      this.#pending = null
      if (step.kind === 'invalid') throw invalidRouting(step)
      const running = this.#acted.direction
      if (running === 'none') {
        if (step.kind !== 'switch') return 'finalized'
        await this.#switch(null, step)
        continue
      }
      const saved = this.#position(running)
      // nothing to drain: the stream already stopped at (or past) the position asked for
      if (step.kind === 'switch' && (step.stopAt === null || (saved !== null && saved.kind === step.stopAt.kind && comparePositions(saved, step.stopAt) >= 0))) {
        if (running === 'forward') await this.#requireCopied(step)
        if ((await this.#switch(null, step)) === 'signal') return 'signal'
        continue
      }
      const leg = running === 'forward' ? await this.#startForward(step) : await this.#startReverse()
      if (step.kind === 'switch') this.#pending = step
      this.#switching = false
      await this.#statusTick()
      const end = await this.#follow(leg)
      if (end !== 'switch') return end
      const next = this.#pending
      if (next === null) throw new BugError('a switch of direction was signalled without one pending')
      if ((await this.#switch(leg, next)) === 'signal') return 'signal'
      this.#pending = null
    }
  }

  /** Reads the routing state: records a newer version in the running direction at once, returns a switch or an invalid version for the main loop. */
  async #decide(): Promise<HandoverStep> {
    const newest = await this.#routing.poll(this.#cq)
    if (newest.version <= this.#acted.version) return {kind: 'stay'}
    const versions =
      newest.version === this.#acted.version + 1
        ? [{version: newest.version, replication: newest.desired.replication}]
        : (await this.#routing.history(this.#cq, Math.min(newest.version - this.#acted.version, 10_000))).map((v) => ({version: v.version, replication: v.desired.replication}))
    const step = nextHandover(this.#acted, versions)
    if (step.kind !== 'adopt') return step
    await this.#forwardStore.setActed(this.#cq, {version: step.version, direction: this.#acted.direction})
    this.#acted = {version: step.version, direction: this.#acted.direction}
    return {kind: 'stay'}
  }

  async #poll(): Promise<void> {
    try {
      const step = await this.#decide()
      if (step.kind === 'invalid') this.#fail(invalidRouting(step))
      else if (step.kind === 'switch') {
        if (this.#leg?.direction === 'forward' && this.#live.some((t) => t.row.state !== 'replicating')) this.#fail(handoverBeforeCopy(step, this.#live))
        else this.#pending = step
      }
    } catch (err) {
      this.#fail(asError(err))
    }
  }

  #fail(err: Error): void {
    this.#failure ??= err
    this.#stopWaiters.abort()
  }

  async #waitWhile(cond: () => boolean): Promise<void> {
    while (cond() && !this.#stopWaiters.signal.aborted) await sleep(100)
  }

  /** A switch away from forward needs a complete copy: a table still copying has rows the target lacks, and its copy would overwrite the target's own writes. */
  async #requireCopied(step: Extract<HandoverStep, {kind: 'switch'}>): Promise<void> {
    const rows = await this.#forwardStore.tables(this.#cq)
    const live = rows.map((row) => ({row, source: {name: row.table}}))
    if (rows.length === 0 || rows.some((r) => r.state !== 'replicating')) throw handoverBeforeCopy(step, live)
  }

  /**
   * Drains `leg` (null: nothing runs) to the switch's stopAt, stops it, and records the new
   * direction with its start position in one control-store transaction. 'signal' when stopped
   * before the drain completed: nothing is recorded, and a restart drains again.
   */
  async #switch(leg: Leg | null, step: Extract<HandoverStep, {kind: 'switch'}>): Promise<'done' | 'signal'> {
    this.#switching = true
    await this.#polling
    this.#handover = {version: step.version, to: step.to, stopAt: step.stopAt, since: new Date().toISOString()}
    // the new direction's capture side must be able to serve its start before the running one stops
    if (step.to !== 'none' && step.start !== null) {
      const capture = step.to === 'forward' ? this.source : this.target
      const side = step.to === 'forward' ? 'source' : 'target'
      if (step.to === 'reverse') await this.target.capture.checkPrerequisites(this.pairs.map((p) => p.targetModel))
      const now = await capture.capture.currentPosition()
      if (now.kind !== step.start.kind) throw positionKindError(step.version, 'from', side, step.start, now)
      await checkRetention(capture, step.start, [], this.#emit)
    }
    if (leg !== null) {
      if (step.stopAt !== null) {
        const at = leg.applier.stats.position
        if (at.kind !== step.stopAt.kind) throw positionKindError(step.version, 'stopAt', leg.direction === 'forward' ? 'source' : 'target', step.stopAt, at)
        let drained = false
        leg.applier.drainTo(step.stopAt).then(
          () => (drained = true),
          (err: unknown) => {
            if (this.o.signal?.aborted !== true) this.#fail(asError(err))
          },
        )
        await this.#waitWhile(() => !drained && this.#failure === null && this.o.signal?.aborted !== true)
        if (this.#failure !== null) throw this.#failure
        if (!drained) return 'signal'
      }
      await this.#stopLeg(leg)
    }
    await this.control.begin()
    try {
      if (step.to === 'forward' && step.start !== null) await this.#forwardStore.savePosition(this.#cq, step.start)
      if (step.to === 'reverse' && step.start !== null) await this.#reverseStore.savePosition(this.#cq, step.start)
      await this.#forwardStore.setActed(this.#cq, {version: step.version, direction: step.to})
      await this.#forwardStore.audit(this.#cq, operatorName(), this.#host, 'replicate.direction', {version: step.version, from: step.from, to: step.to, stopAt: step.stopAt, start: step.start}, null)
      await this.control.commit()
    } catch (err) {
      await this.control.rollback().catch(() => undefined)
      throw err
    }
    this.#acted = {version: step.version, direction: step.to}
    if (step.to !== 'none' && step.start !== null) this.#applied[step.to].position = step.start
    this.#handover = null
    // a leg that starts says so itself; none starts nothing
    if (step.to === 'none') this.#emit({kind: 'direction', direction: 'none', routingVersion: step.version, from: null})
    return 'done'
  }

  /** The forward leg: the copy state (a fresh copy, or its resume), the source's change stream and the applier into the target. */
  async #startForward(step: HandoverStep): Promise<Leg> {
    const o = this.o
    const store = this.#forwardStore
    const cq = this.#cq
    let rows = await store.tables(cq)
    let applied = await store.position(cq)
    const resumed = applied !== null && rows.length > 0
    if (!resumed) {
      if (step.kind === 'switch') throw handoverBeforeCopy(step, [])
      // a fresh copy into tables that already hold rows would leave rows the source does not have
      const filled: string[] = []
      for (const p of this.pairs) {
        const n = await this.target.countRows(p.target)
        if (n > 0) filled.push(`${p.target.name} (${n} rows)`)
      }
      if (filled.length > 0) {
        throw new EnvironmentError('PAYCTL_TARGET_NOT_EMPTY', `The target tables already hold rows and there is no copy to resume: ${filled.join(', ')}.`, {
          actions: ['Run payctl replicate --restart to empty them and copy from the start, or empty them yourself.'],
        })
      }
      await store.reset(cq)
      applied = await this.source.capture.currentPosition()
      await this.control.begin()
      await store.savePosition(cq, applied)
      for (const p of this.pairs) await store.insertTable(cq, p.source.name, p.model.rowEstimate)
      await this.control.commit()
      rows = await store.tables(cq)
    } else {
      // tables added to the config since the copy started join as pending
      const known = new Set(rows.map((r) => r.table))
      const added = this.pairs.filter((p) => !known.has(p.source.name))
      for (const p of added) await store.insertTable(cq, p.source.name, p.model.rowEstimate)
      if (added.length > 0) rows = await store.tables(cq)
    }
    if (applied === null) throw new Error('no capture position')
    this.#live = this.#liveTables(rows)
    if (step.kind === 'switch' && this.#live.some((t) => t.row.state !== 'replicating')) throw handoverBeforeCopy(step, this.#live)

    // 3. Resume point: the applied position, or earlier where a table's held-back changes were lost with the last process.
    let from: CapturePosition = applied
    for (const t of this.#live) {
      if (t.row.state !== 'replicating' && t.row.state !== 'pending' && t.row.streamStart !== null && comparePositions(t.row.streamStart, from) < 0) from = t.row.streamStart
    }
    await checkRetention(this.source, from, this.#live, this.#emit)
    if (this.#from === null) {
      this.#resumed = resumed
      this.#from = from
    }
    this.#emit({kind: 'plan', tables: this.#live.map((t) => progressOf(t)), resumed, from})
    this.#emit({kind: 'direction', direction: 'forward', routingVersion: this.#acted.version, from})
    this.#phase = this.#live.every((t) => t.row.state === 'replicating') ? 'replicating' : 'copying'

    const writer = await this.target.openWriter()
    const stream = this.source.capture.open(
      from,
      this.#live.map((t) => t.model),
      o.signal,
    )
    const applier = new Applier({
      stream,
      writer,
      store,
      tables: this.#live.map((t) => forwardTable(t, t.row.state)),
      start: from,
      spillDir: o.spillDir ?? join(tmpdir(), `payctl-spill-${process.pid}`),
      waitWhilePaused: () => this.#waitWhile(() => this.#paused !== null),
    })
    return this.#begin('forward', applier, this.source.capture, [writer])
  }

  /** The reverse leg: the target's change stream from the saved reverse position, applied to the source; no copy. */
  async #startReverse(): Promise<Leg> {
    const from = await this.#reverseStore.position(this.#cq)
    if (from === null) {
      throw new EnvironmentError('PAYCTL_REVERSE_POSITION_MISSING', `The control store says replication runs in reverse (routing version ${this.#acted.version}) but holds no reverse position.`, {
        actions: ['Write a new routing version with replication.direction reverse and from = the target position where writes moved to it (the cutover does), then run payctl replicate again.'],
      })
    }
    const targetModels = this.pairs.map((p) => p.targetModel)
    await this.target.capture.checkPrerequisites(targetModels)
    await checkRetention(this.target, from, [], this.#emit)
    // for status only: the forward copy's tables (one added to the config since has no row)
    if (this.#live.length === 0) this.#live = this.#liveTables(await this.#forwardStore.tables(this.#cq), false)
    if (this.#from === null) this.#from = from
    this.#phase = 'replicating'
    this.#emit({kind: 'direction', direction: 'reverse', routingVersion: this.#acted.version, from})
    const writer = await this.source.openWriter()
    const store = this.#reverseStore
    const applier = new Applier({
      stream: this.target.capture.open(from, targetModels, this.o.signal),
      writer,
      store,
      tables: reverseTables(this.pairs),
      start: from,
      spillDir: this.o.spillDir ?? join(tmpdir(), `payctl-spill-${process.pid}`),
      waitWhilePaused: () => this.#waitWhile(() => this.#paused !== null),
      checkpoint: {afterCommit: (position) => store.savePosition(this.#cq, position)},
      captureSide: 'target',
    })
    return this.#begin('reverse', applier, this.target.capture, [writer])
  }

  #begin(direction: Stream, applier: Applier, capture: ChangeCapture, writers: TargetWriter[]): Leg {
    this.#lag[direction] = new LagMeter()
    const done = applier.run().catch((err: unknown) => this.#fail(asError(err)))
    const leg: Leg = {direction, applier, done, capture, writers}
    this.#leg = leg
    return leg
  }

  async #stopLeg(leg: Leg): Promise<void> {
    leg.applier.stop()
    await leg.done
    const stats = leg.applier.stats
    this.#applied[leg.direction] = {position: stats.position, changes: this.#applied[leg.direction].changes + stats.changesApplied}
    for (const w of leg.writers) await w.close().catch(() => undefined)
    if (this.#leg === leg) this.#leg = null
  }

  #liveTables(rows: TableRow[], everyPair = true): LiveTable[] {
    const rowByName = new Map(rows.map((r) => [r.table, r]))
    return this.pairs.flatMap((p) => {
      const row = rowByName.get(p.source.name)
      if (row === undefined) {
        if (everyPair) throw new Error(`no replication row for ${p.source.name}`)
        return []
      }
      return [{source: p.source, target: p.target, model: p.model, row, copiedThisRun: 0, bytesThisRun: 0, startedMs: null}]
    })
  }

  /** Copies what is not copied yet (forward), then follows changes until caught up (--until), stopped, or a switch is asked for. */
  async #follow(leg: Leg): Promise<'caught-up' | 'signal' | 'switch'> {
    if (leg.direction === 'forward') {
      // 6. Copy what is not copied yet.
      const pendingRelease = this.#live.filter((t) => t.row.state === 'catching-up')
      for (const t of pendingRelease) await releaseTable(leg.applier, t, this.#emit)
      const toCopy = this.#live.filter((t) => t.row.state === 'pending' || t.row.state === 'copying').sort((a, b) => b.model.rowEstimate - a.model.rowEstimate)
      if (toCopy.length > 0) {
        await copyTables({
          o: this.o,
          source: this.source,
          target: this.target,
          store: this.#forwardStore,
          applier: leg.applier,
          tables: toCopy,
          sizing: this.o.sizing ?? DEFAULT_CHUNK_SIZING,
          control: this.control,
          writers: leg.writers,
          emit: this.#emit,
          failed: () => this.#failure,
          stop: this.#stopWaiters.signal,
          waitForThrottle: () => this.#waitWhile(() => this.#throttled !== null),
        })
      }
      if (this.#failure !== null) throw this.#failure
      this.#phase = 'replicating'
    }
    // 7. Follow changes: until caught up, until stopped, or until the routing state asks for another direction.
    const aborted = (): boolean => this.o.signal?.aborted === true
    const goal = this.o.untilCaughtUp && this.#pending === null ? await leg.capture.currentPosition() : null
    await this.#waitWhile(() => this.#failure === null && !aborted() && this.#pending === null && (goal === null || comparePositions(leg.applier.stats.position, goal) < 0))
    if (this.#failure !== null) throw this.#failure
    if (this.#pending !== null) return 'switch'
    if (aborted()) return 'signal'
    this.#phase = 'caught-up'
    return 'caught-up'
  }

  #position(direction: Stream): CapturePosition | null {
    const leg = this.#leg
    return leg?.direction === direction ? leg.applier.stats.position : this.#applied[direction].position
  }

  #changes(direction: Stream): number {
    const leg = this.#leg
    return this.#applied[direction].changes + (leg?.direction === direction ? leg.applier.stats.changesApplied : 0)
  }

  async #statusTick(): Promise<void> {
    const now = performance.now()
    for (const d of ['forward', 'reverse'] as const) {
      const total = this.#changes(d)
      this.#rate[d] = ((total - this.#rate.lastTotal[d]) * 1000) / Math.max(1, now - this.#rate.lastTick)
      this.#rate.lastTotal[d] = total
    }
    this.#rate.lastTick = now
    // the control read doubles as the target's health probe: a target this slow to answer a primary-key read is overloaded
    const asked = performance.now()
    const state = await this.#forwardStore.state(this.#cq)
    const answerMs = performance.now() - asked
    this.#paused = state?.paused === true ? {by: state.pauseBy, reason: state.pauseReason} : null
    const lag = this.#forwardLag()
    const maxResponse = this.o.maxTargetResponseMs ?? 1_000
    this.#throttled =
      this.#paused !== null
        ? `paused by ${this.#paused.by ?? 'an operator'}${this.#paused.reason === null ? '' : `: ${this.#paused.reason}`}`
        : lag !== null && lag > this.o.maxLagSeconds
          ? `change lag ${lag.toFixed(1)} s > ${this.o.maxLagSeconds} s`
          : answerMs > maxResponse
            ? `target slow: a control-store read took ${Math.round(answerMs)} ms > ${maxResponse} ms`
            : null
    const status = this.#status()
    await this.#forwardStore.heartbeat(this.#cq, this.#host, process.pid, status)
    this.#emit({kind: 'status', status})
  }

  #forwardLag(): number | null {
    const leg = this.#leg
    return leg?.direction === 'forward' ? this.#lag.forward.lagSeconds(leg.applier.stats.position) : null
  }

  #status(): ReplicationStatus {
    const leg = this.#leg
    const forward = leg?.direction === 'forward' ? leg : null
    const reverse = leg?.direction === 'reverse' ? leg : null
    const tables = this.#live.map((t) => progressOf(t))
    const rowsCopied = tables.reduce((n, t) => n + t.rowsCopied, 0)
    const rowsEstimate = tables.reduce((n, t) => n + Math.max(t.rowsEstimate, t.rowsCopied), 0)
    const elapsed = (performance.now() - this.#copyStart) / 1000
    const thisRun = this.#live.reduce((n, t) => n + t.copiedThisRun, 0)
    const bytesThisRun = this.#live.reduce((n, t) => n + t.bytesThisRun, 0)
    const rps = elapsed > 0 ? thisRun / elapsed : 0
    const position = this.#position('forward') ?? this.#position('reverse')
    if (position === null) throw new BugError('replication status without a position')
    const reversePosition = this.#position('reverse')
    return {
      phase: this.#phase,
      at: new Date().toISOString(),
      position,
      sourcePosition: this.#lag.forward.latest,
      lagSeconds: this.#forwardLag(),
      lagEvents: forward?.applier.backlog ?? 0,
      changesApplied: this.#changes('forward'),
      changesHeld: forward?.applier.stats.changesHeld ?? 0,
      applyRatePerSecond: this.#rate.forward,
      copy: {
        rowsCopied,
        rowsEstimate,
        bytesCopied: tables.reduce((n, t) => n + t.bytesCopied, 0),
        rowsPerSecond: rps,
        bytesPerSecond: elapsed > 0 ? bytesThisRun / elapsed : 0,
        etaSeconds: rps > 0 && this.#phase === 'copying' ? Math.max(0, rowsEstimate - rowsCopied) / rps : null,
      },
      throttled: this.#throttled,
      paused: this.#paused,
      tables,
      direction: this.#acted.direction,
      routingVersion: this.#acted.version,
      handover: this.#handover,
      reverse:
        this.#acted.direction === 'reverse' && reversePosition !== null
          ? {
              position: reversePosition,
              targetPosition: this.#lag.reverse.latest,
              lagSeconds: reverse === null ? null : this.#lag.reverse.lagSeconds(reverse.applier.stats.position),
              lagEvents: reverse?.applier.backlog ?? 0,
              changesApplied: this.#changes('reverse'),
              applyRatePerSecond: this.#rate.reverse,
            }
          : null,
    }
  }
}

function invalidRouting(step: Extract<HandoverStep, {kind: 'invalid'}>): EnvironmentError {
  return new EnvironmentError('PAYCTL_ROUTING_INVALID', `payctl replicate cannot follow the routing state: ${step.reason}.`, {
    actions: ['Write a new routing version that names the position (the cutover commands do), then run payctl replicate again; the running direction keeps its saved position.'],
    data: {version: step.version},
  })
}

function handoverBeforeCopy(step: Extract<HandoverStep, {kind: 'switch'}>, live: ReadonlyArray<{row: Pick<TableRow, 'state'>; source: {name: string}}>): EnvironmentError {
  const copying = live.filter((t) => t.row.state !== 'replicating').map((t) => t.source.name)
  return new EnvironmentError(
    'PAYCTL_HANDOVER_BEFORE_COPY',
    `Routing version ${step.version} switches replication to ${step.to}, but the full load is not complete${copying.length > 0 ? ` (${copying.join(', ')} not yet replicating)` : ''}: the target lacks rows, and finishing the copy would overwrite the target's own writes.`,
    {
      actions: ['Move writes back to the source (payctl rollback) and let payctl replicate finish the copy (payctl status shows every table replicating) before the write flip.'],
      data: {version: step.version, to: step.to, copying},
    },
  )
}

function positionKindError(version: number, field: string, side: string, given: CapturePosition, actual: CapturePosition): EnvironmentError {
  return new EnvironmentError('PAYCTL_ROUTING_INVALID', `Routing version ${version} gives replication.${field} as a ${given.kind} position (${describePosition(given)}), but the ${side} has ${actual.kind} positions.`, {
    actions: [`Write a new routing version whose ${field} is a position of the ${side} (its capture side), then run payctl replicate again.`],
    data: {version, field, side},
  })
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
  /** The control-store connection (segment plans are written on it). */
  control: TargetWriter
  /** The leg's connections: each worker adds its own, the leg closes them. */
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
    const control = c.control
    const cq = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => control.query<T>(sql, p)
    if (t.row.state === 'pending') {
      await c.applier.hold(t.source.name)
      t.row.state = 'copying'
    }
    let segments = (await c.store.segments(cq)).filter((s) => s.table === t.source.name)
    if (segments.length === 0) {
      const bounds = await c.source.keyBounds(t.source)
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
