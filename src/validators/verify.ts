/**
 * payctl verify: source against target, table by table, in key-range chunks sized to a target
 * time, both sides read in parallel.
 *
 * - A chunk is compared by count and a strong hash: computed by both servers (pushdown) when they
 *   run the same hash expressions over the same column types, else over the canonical encoding of
 *   rows streamed in key order (canonical.ts). The report says which, per table, and why.
 * - Online: before reading a chunk, verify notes the source's change-capture position. A chunk that
 *   differs is read again once replication (payctl replicate, seen through the control store) has
 *   applied past that position, up to `recheckRetries` times, so a change in flight is not a
 *   difference. With replication stopped, one immediate re-read still rules out a race.
 * - A chunk that still differs is bisected down to at most BISECT_ROWS rows, and those rows are
 *   compared column by column on their canonical text: missing in target, missing in source, or
 *   different (with the columns and both values, card-like and secret values masked).
 * - --repair makes the target rows equal the source's in small transactions (deletes by key, then
 *   upserts of the source's full rows), logs every statement to a file, and verifies the repaired
 *   tables again.
 */
import {appendFile, mkdir} from 'node:fs/promises'
import {dirname} from 'node:path'
import {EnvironmentError, PayctlError, UsageError} from '../cli/errors.js'
import {startMemoryGovernor} from '../cli/memory.js'
import type {TableMatcher} from '../config/tables.js'
import {RoutingStore} from '../control/routing-store.js'
import {replicateAlive, ReplicationStore} from '../control/replication-store.js'
import type {ConnectionOptions, Engine} from '../engines/engine.js'
import type {ColumnModel, TableModel} from '../engines/model.js'
import {openEngine} from '../engines/open.js'
import {asError, type CapturePosition, comparePositions, type KeyRange, keyText, type RangeHash, type ReplicationSupport, type TargetWriter, type VerifySupport} from '../engines/replication.js'
import {pairTables, type TablePair} from '../migrators/replicate/replicate.js'
import {Prng} from '../sandbox/prng.js'
import {canonicalRow, canonicalValue, ChunkHasher, maskValue, rowDigest, type TypeFamily, typeFamily} from './canonical.js'
import type {ColumnDiff, HashMethod, RowDiff, TableVerifyResult, VerifyResult} from './types.js'

/** Ranges of at most this many rows are compared row by row. */
export const BISECT_ROWS = 256
const REPAIR_BATCH_ROWS = 200

export interface VerifyOptions {
  source: ConnectionOptions
  target: ConnectionOptions
  controlDatabase: string
  tables: TableMatcher
  countOnly: boolean
  /** Verify this share of chunks (0 < pct <= 100), chosen at random (seeded). */
  samplePct: number | null
  sampleSeed?: number
  /** An extra filter, the same SQL text on both sides. */
  where: string | null
  repair: boolean
  /** With repair: print the statements only. */
  dryRun: boolean
  /** With repair: every statement is appended here. */
  repairLog: string | null
  /** Stop listing row differences of a table after this many. */
  maxRowDiffs: number
  /** Target time per chunk, ms. */
  chunkMs: number
  /** Most row text one server-side hash holds in a server's memory (pushdown); larger ranges are hashed in parts. */
  hashMaxBytes: number
  /** Chunks compared at the same time, across tables. */
  concurrency: number
  recheckRetries: number
  /** How long a re-check waits for replication to pass a chunk's position. */
  recheckWaitMs: number
  signal?: AbortSignal
  onEvent?: (e: VerifyEvent) => void
}

export type VerifyEvent =
  | {kind: 'table-start'; table: string; method: HashMethod; reason: string}
  | {kind: 'progress'; table: string; chunks: number; rows: number}
  | {kind: 'table-done'; result: TableVerifyResult}
  | {kind: 'repair-sql'; table: string; statements: string[]}

interface Side {
  engine: Engine
  replication: ReplicationSupport
  verify: VerifySupport
}

function sideOf(engine: Engine, label: string): Side {
  const replication = engine.replication
  const verify = replication?.verify
  if (replication === undefined || verify === undefined) throw new EnvironmentError('PAYCTL_VERIFY_UNSUPPORTED', `The ${label} engine (${engine.name}) cannot be verified.`)
  return {engine, replication, verify}
}

/** Pushdown when both servers hash the same way over the same column types; the reason otherwise. */
export function chooseMethod(pair: Pick<TablePair, 'model' | 'targetModel' | 'source'>, source: VerifySupport, target: VerifySupport): {method: HashMethod; reason: string} {
  if (source.hashRange === undefined || target.hashRange === undefined || source.hashDialect === undefined) {
    return {method: 'client', reason: 'the source engine cannot compute the hash in SQL; rows are streamed and hashed by payctl'}
  }
  if (source.hashDialect !== target.hashDialect) {
    return {method: 'client', reason: `the servers hash differently (${source.hashDialect} vs ${target.hashDialect ?? 'none'}); rows are streamed and hashed by payctl`}
  }
  const targetCols = new Map(pair.targetModel.columns.map((c) => [c.name.toLowerCase(), c]))
  const differing = pair.source.columns.filter((name) => {
    const s = pair.model.columns.find((c) => c.name === name)
    const t = targetCols.get(name.toLowerCase())
    return s === undefined || t === undefined || s.columnType.toLowerCase() !== t.columnType.toLowerCase() || (s.charset ?? '') !== (t.charset ?? '') || (s.collation ?? '') !== (t.collation ?? '') || s.nullable !== t.nullable
  })
  if (differing.length > 0) return {method: 'client', reason: `column types differ between the sides (${differing.join(', ')}); rows are streamed and hashed over the canonical encoding`}
  return {method: 'pushdown', reason: `both servers compute the hash (${source.hashDialect}) over identical column types`}
}

interface TableContext {
  pair: TablePair
  method: HashMethod
  sourceColumns: ColumnModel[]
  targetColumns: ColumnModel[]
  families: TypeFamily[]
  source: Side
  target: Side
}

/** What a repair needs for one differing row; kept out of the report (it holds raw values). */
interface RepairItem {
  sourceRow: unknown[] | null
  targetKey: unknown[]
}

const repairsOf = new WeakMap<TableVerifyResult, RepairItem[]>()

interface ChunkOutcome {
  equal: boolean
  sourceCount: number
  targetCount: number
  /** Ranges (this one and parts of it) whose hash was not comparable and that were compared in parts or row by row. */
  splits: number
  /** When this range's hash was cut: how many of its rows fitted whole (the chunker's cap). */
  rowsWhole: number | null
}

export async function verify(o: VerifyOptions): Promise<VerifyResult> {
  if (o.repair && o.where !== null) {
    throw new UsageError('PAYCTL_USAGE', '--repair cannot be combined with --where: a row whose change moved it out of the filter on one side would look missing and be deleted.', {
      actions: ['Run payctl verify --repair without --where (narrow it with --tables instead).'],
    })
  }
  const engines: Engine[] = []
  const stopGovernor = startMemoryGovernor()
  try {
    const sourceEngine = await openEngine(o.source, o.signal)
    engines.push(sourceEngine)
    const targetEngine = await openEngine(o.target, o.signal)
    engines.push(targetEngine)
    return await run(o, sideOf(sourceEngine, 'source'), sideOf(targetEngine, 'target'))
  } finally {
    stopGovernor()
    for (const e of engines) await e.close().catch(() => undefined)
  }
}

async function run(o: VerifyOptions, source: Side, target: Side): Promise<VerifyResult> {
  const started = performance.now()
  const sourceModel = await source.engine.introspect(o.signal === undefined ? {} : {signal: o.signal})
  const chosen = sourceModel.tables.filter((t) => o.tables(t.schema, t.name))
  if (chosen.length === 0) throw new UsageError('PAYCTL_NO_TABLES', 'No source table matches the tables to verify (payctl.yaml tables, --tables).', {actions: ['Check --tables and tables.include / tables.exclude.']})
  const targetModel = await target.engine.introspect()
  const pairs = pairTables(chosen, targetModel.tables, o.target.database)
  await source.verify.prepare?.({hashMaxBytes: o.hashMaxBytes})
  await target.verify.prepare?.({hashMaxBytes: o.hashMaxBytes})

  const online = await replicationWatch(target, o.controlDatabase)
  if (o.repair && !o.dryRun) await refuseRepairAfterFlip(target, o.controlDatabase)
  if (o.repair && !o.dryRun && online.running) {
    // a repair writes source rows read a moment ago; replication applying a newer image meanwhile would be undone
    throw new EnvironmentError('PAYCTL_REPAIR_WHILE_REPLICATING', 'payctl replicate is running: a repair now could overwrite a change replication applies at the same moment.', {
      actions: ['Pause it (payctl replicate pause), run payctl verify --repair, then payctl replicate resume.'],
    })
  }
  const results: TableVerifyResult[] = []
  const queue = [...pairs].sort((a, b) => b.model.rowEstimate - a.model.rowEstimate)
  const slots = new ChunkSlots(o.concurrency)
  let failed = false
  const worker = async (): Promise<void> => {
    // after a table fails no other starts; the ones running finish before the error is reported
    while (!failed) {
      o.signal?.throwIfAborted()
      const pair = queue.shift()
      if (pair === undefined) return
      try {
        const result = await verifyTable(o, source, target, pair, online, slots)
        results.push(result)
        o.onEvent?.({kind: 'table-done', result})
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  const settled = await Promise.allSettled(Array.from({length: Math.max(1, Math.min(o.concurrency, pairs.length))}, () => worker()))
  const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected !== undefined) throw rejected.reason
  results.sort((a, b) => a.table.localeCompare(b.table))
  const different = results.filter((r) => r.status !== 'equal' && r.status !== 'skipped').length
  return {
    status: different === 0 ? 'equal' : 'different',
    tables: results,
    totals: {
      tables: results.length,
      equal: results.filter((r) => r.status === 'equal').length,
      different,
      rowsCompared: results.reduce((n, r) => n + r.sourceRows, 0),
      rowDiffs: results.reduce((n, r) => n + r.diffs.length, 0),
      seconds: (performance.now() - started) / 1000,
    },
    online: {replicationRunning: online.running, waitedFor: online.lastWaited},
    repairLog: o.repair && !o.dryRun ? o.repairLog : null,
  }
}

/** Replication as the control store shows it: whether payctl replicate is running, and its applied position. */
interface ReplicationWatch {
  running: boolean
  lastWaited: CapturePosition | null
  /** Resolves once the applied position is at or past `position` (false after waitMs). */
  waitFor(position: CapturePosition, waitMs: number, signal?: AbortSignal): Promise<boolean>
}

async function replicationWatch(target: Side, controlDatabase: string): Promise<ReplicationWatch> {
  const control = await target.engine.introspect({database: controlDatabase})
  const none: ReplicationWatch = {running: false, lastWaited: null, waitFor: () => Promise.resolve(false)}
  if (!control.tables.some((t) => t.name === 'replication_state')) return none
  const store = new ReplicationStore(controlDatabase)
  const writer = await target.replication.openWriter()
  const q = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => writer.query<T>(sql, p)
  try {
    const state = await store.state(q)
    // paused replication will not pass anything: compare as if it were stopped
    if (!replicateAlive(state) || state.paused) return none
  } finally {
    await writer.close()
  }
  const watch: ReplicationWatch = {
    running: true,
    lastWaited: null,
    async waitFor(position, waitMs, signal) {
      watch.lastWaited = position
      const w = await target.replication.openWriter()
      try {
        const deadline = Date.now() + waitMs
        for (;;) {
          const applied = await store.position((sql, p) => w.query(sql, p))
          if (applied !== null && applied.kind === position.kind && comparePositions(applied, position) >= 0) return true
          const state = await store.state((sql, p) => w.query(sql, p))
          if (!replicateAlive(state) || state.paused || Date.now() > deadline || signal?.aborted === true) {
            // replication paused, stopped or stalled: later re-checks do not wait for it either
            watch.running = false
            return false
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      } finally {
        await w.close()
      }
    },
  }
  return watch
}

async function verifyTable(o: VerifyOptions, source: Side, target: Side, pair: TablePair, online: ReplicationWatch, slots: ChunkSlots): Promise<TableVerifyResult> {
  const started = performance.now()
  const name = pair.source.name
  const byName = (model: TableModel, names: readonly string[]): ColumnModel[] =>
    names.map((n) => {
      const c = model.columns.find((x) => x.name.toLowerCase() === n.toLowerCase())
      if (c === undefined) throw new Error(`column ${n} not in ${model.name}`)
      return c
    })
  const sourceColumns = byName(pair.model, pair.source.columns)
  const targetColumns = byName(pair.targetModel, pair.target.columns)
  const choice = o.countOnly ? {method: 'count' as const, reason: 'row counts only (--count-only)'} : chooseMethod(pair, source.verify, target.verify)
  o.onEvent?.({kind: 'table-start', table: name, method: choice.method, reason: choice.reason})
  const ctx: TableContext = {pair, method: choice.method, sourceColumns, targetColumns, families: sourceColumns.map((c) => typeFamily(c, source.engine.name)), source, target}
  const result: TableVerifyResult = {table: name, method: choice.method, methodReason: choice.reason, chunks: 0, rechecked: 0, splits: 0, sourceRows: 0, targetRows: 0, status: 'equal', diffs: [], diffsTruncated: false, seconds: 0}
  try {
    if (choice.method === 'count') {
      const [s, t] = await Promise.all([source.verify.countRows(pair.source, null, o.where), target.verify.countRows(pair.target, null, o.where)])
      result.sourceRows = s
      result.targetRows = t
      result.chunks = 1
      result.status = s === t ? 'equal' : 'different'
    } else {
      await compareTable(o, ctx, online, result, slots)
      if (o.repair && result.diffs.length > 0) {
        const repaired = await repairTable(o, ctx, repairsOf.get(result) ?? [])
        result.repaired = repaired
        if (!o.dryRun) {
          // verify the repaired table again: what the report says is the state after the repair
          const again: TableVerifyResult = {...result, chunks: 0, rechecked: 0, splits: 0, sourceRows: 0, targetRows: 0, status: 'equal', diffs: [], diffsTruncated: false}
          await compareTable(o, ctx, online, again, slots)
          Object.assign(result, {...again, repaired})
        }
      }
    }
  } catch (err) {
    const code = (err as {code?: unknown}).code
    if (o.where !== null && typeof code === 'string' && /^ER_(PARSE_ERROR|BAD_FIELD_ERROR|SYNTAX_ERROR)/.test(code)) {
      throw new UsageError('PAYCTL_VERIFY_WHERE', `--where does not work on table ${name}: ${asError(err).message}`, {
        actions: ['Give --where a condition both servers accept on every table verified (use --tables to narrow the tables).'],
        cause: err,
      })
    }
    if (err instanceof PayctlError || o.signal?.aborted === true) throw err
    // a server's own error (a lock wait, a table dropped meanwhile): an environment problem, not a bug
    throw new EnvironmentError('PAYCTL_VERIFY_FAILED', `Verifying ${name} failed: ${asError(err).message}`, {
      actions: ['Check the servers (and that the table still exists), then run payctl verify again (--tables to redo only this one).'],
      cause: err,
    })
  }
  result.seconds = (performance.now() - started) / 1000
  return result
}

/**
 * Where the next chunk ends. A key whose first column is an integer is cut by that column's value
 * (no read: the step follows the key density and the time the last chunk took); any other key by
 * the key `rows` rows further, read from the source. With pushdown, a chunk also holds no more rows
 * than the servers' hash buffer takes whole: estimated from the table's bytes per row, and lowered
 * whenever a hash is cut.
 */
interface Chunker {
  next(after: unknown[] | null): Promise<unknown[] | null>
  /**
   * After a chunk (chunks may finish out of order): its range, its time, its rows (null: skipped by
   * --sample), and the rows one hash held whole when one was cut.
   */
  adapt(range: KeyRange, ms: number, rows: number | null, rowsWhole: number | null): void
}

/** Share of the hash buffer a chunk aims to fill: row sizes vary around the estimate. */
const HASH_FILL = 0.75

/** The most rows a pushdown chunk should hold, from the table's size per row and the smaller hash buffer of the two sides; null without pushdown or statistics. */
function hashRowCap(ctx: Pick<TableContext, 'method' | 'pair' | 'source' | 'target'>): number | null {
  if (ctx.method !== 'pushdown') return null
  const limit = Math.min(ctx.source.verify.hashBytesLimit ?? Infinity, ctx.target.verify.hashBytesLimit ?? Infinity)
  const {dataBytes, rowEstimate} = ctx.pair.model
  if (!Number.isFinite(limit) || !(rowEstimate > 0) || !(dataBytes > 0)) return null
  return Math.max(1, Math.floor((limit * HASH_FILL) / Math.max(16, dataBytes / rowEstimate)))
}

async function chunker(o: VerifyOptions, ctx: TableContext): Promise<Chunker> {
  const scale = (n: number, ms: number): number => n * Math.min(2, Math.max(0.5, o.chunkMs / Math.max(1, ms)))
  const estimate = hashRowCap(ctx)
  let capRows = estimate
  let uncut = 0
  /**
   * After each chunk: a cut near the cap means longer rows than estimated (the cap comes down to
   * what fitted); a cut far sooner may be one very large row, and halves the cap only. The
   * cap grows back by half after 8 chunks in a row that fitted, up to the estimate, so one large row
   * does not shrink the chunks of the rest of the table.
   */
  const fitCap = (rows: number | null, rowsWhole: number | null): void => {
    if (rows === null) return
    if (rowsWhole === null) {
      if (++uncut >= 8 && capRows !== null) {
        capRows = estimate === null ? Math.ceil(capRows * 1.5) : Math.min(estimate, Math.ceil(capRows * 1.5))
        uncut = 0
      }
      return
    }
    uncut = 0
    // without a cap yet the fit is all there is to go by
    const fits = capRows === null || rowsWhole >= capRows / 2 ? Math.floor(rowsWhole * 0.9) : Math.floor(capRows / 2)
    capRows = Math.max(1, capRows === null ? fits : Math.min(capRows, fits))
  }
  // an integer first key column cuts by value; with a composite key the bounds are prefixes (whole first-column values)
  const integerKey = ctx.families[ctx.pair.source.keyIndexes[0] ?? 0] === 'integer'
  const bounds = integerKey ? await ctx.source.replication.keyBounds(ctx.pair.source) : null
  const lo = bounds === null ? null : BigInt(String(bounds.min[0]))
  const hi = bounds === null ? null : BigInt(String(bounds.max[0]))
  if (lo !== null && hi !== null) {
    // the first step from the real keys (the key 5,000 rows in), not the catalog's estimate, which can be stale or 0
    const probeRows = Math.max(1, Math.min(5_000, capRows ?? 5_000))
    const probe = await ctx.source.verify.keyAt(ctx.pair.source, null, probeRows, o.where)
    let step = probe === null ? Number(hi - lo + 1n) : Math.max(1, Number(BigInt(String(probe[0])) - lo + 1n))
    // rows per key value, from the probe and then from each chunk
    let density = probe === null ? null : probeRows / step
    return {
      next: (after) => {
        // the first range starts at the table start (target rows below the source's first key are in it), the last runs to the end
        const from = after === null ? lo - 1n : BigInt(String(after[0]))
        const through = from + BigInt(step)
        return Promise.resolve(through >= hi ? null : [String(through)])
      },
      adapt: (range, ms, rows, rowsWhole) => {
        fitCap(rows, rowsWhole)
        // the chunk's own width in key values (the step may have moved since it was cut)
        const from = range.after === null ? lo - 1n : BigInt(String(range.after[0]))
        const width = Math.max(1, Number((range.through === null ? hi : BigInt(String(range.through[0]))) - from))
        // the density where the keys are now: an empty stretch (a gap in the keys) lifts the cap, so steps double across it
        if (rows !== null) density = rows / width
        step = Math.max(1, Math.round(scale(width, ms)))
        if (capRows !== null && density !== null && density > 0) step = Math.max(1, Math.min(step, Math.floor(capRows / density)))
      },
    }
  }
  let rows = Math.min(5_000, capRows ?? 5_000)
  return {
    next: (after) => ctx.source.verify.keyAt(ctx.pair.source, after, rows, o.where),
    adapt: (_range, ms, chunkRows, rowsWhole) => {
      fitCap(chunkRows, rowsWhole)
      rows = Math.round(Math.min(200_000, capRows ?? 200_000, Math.max(Math.min(500, capRows ?? 500), scale(chunkRows ?? rows, ms))))
    },
  }
}

/**
 * Chunk comparisons in flight across all tables (--parallel): each holds a slot while both servers
 * hash its range. A table takes a free slot for its next chunk without waiting for its last one, so
 * when the other tables are done, the last (largest) one runs --parallel chunks at once.
 */
class ChunkSlots {
  #free: number
  readonly #waiting: Array<() => void> = []

  constructor(slots: number) {
    this.#free = Math.max(1, slots)
  }

  async take(): Promise<void> {
    if (this.#free > 0) {
      this.#free--
      return
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve))
  }

  give(): void {
    const next = this.#waiting.shift()
    if (next === undefined) this.#free++
    else next()
  }
}

/** What one chunk's row diff found; merged in chunk order, so the report lists differences in key order. */
interface Findings {
  diffs: RowDiff[]
  repairs: RepairItem[]
  truncated: boolean
}

/** Compares a table chunk by chunk (several at once when slots are free); fills counts, chunk numbers, status and row diffs. */
async function compareTable(o: VerifyOptions, ctx: TableContext, online: ReplicationWatch, result: TableVerifyResult, slots: ChunkSlots): Promise<void> {
  const rng = o.samplePct === null ? null : new Prng(o.sampleSeed ?? 1, ctx.pair.source.name.length)
  const chunks = await chunker(o, ctx)
  const found: Findings[] = []
  // row diffs listed for the whole table, shared by its chunks
  const budget = {left: o.maxRowDiffs}
  const running = new Set<Promise<void>>()
  let failure: {error: unknown} | null = null
  const compareChunk = async (range: KeyRange, findings: Findings): Promise<void> => {
    const started = performance.now()
    try {
      const outcome = await compareRangeOnline(o, ctx, online, range, result)
      result.chunks++
      result.sourceRows += outcome.sourceCount
      result.targetRows += outcome.targetCount
      if (!outcome.equal) {
        await diffRange(o, ctx, online, range, result, findings, budget)
        // a range whose rows all matched on their re-check was a change in flight
        if (findings.diffs.length > 0 || findings.truncated) result.status = 'different'
        else result.rechecked++
      }
      chunks.adapt(range, performance.now() - started, Math.max(outcome.sourceCount, outcome.targetCount), outcome.rowsWhole)
      o.onEvent?.({kind: 'progress', table: ctx.pair.source.name, chunks: result.chunks, rows: result.sourceRows})
    } finally {
      slots.give()
    }
  }
  try {
    let after: unknown[] | null = null
    for (;;) {
      o.signal?.throwIfAborted()
      const startedNext = performance.now()
      const through = await chunks.next(after)
      const range: KeyRange = {after, through}
      if (rng === null || rng.next() * 100 < (o.samplePct ?? 100)) {
        await slots.take()
        if (failure !== null) {
          slots.give()
          break
        }
        const findings: Findings = {diffs: [], repairs: [], truncated: false}
        found.push(findings)
        const task = compareChunk(range, findings).catch((error: unknown) => {
          failure ??= {error}
        })
        running.add(task)
        void task.finally(() => running.delete(task))
      } else chunks.adapt(range, performance.now() - startedNext, null, null)
      if (through === null || failure !== null) break
      after = through
    }
  } finally {
    await Promise.allSettled([...running])
  }
  if (failure !== null) throw (failure as {error: unknown}).error
  const repairs: RepairItem[] = []
  for (const f of found) {
    result.diffs.push(...f.diffs)
    repairs.push(...f.repairs)
    result.diffsTruncated ||= f.truncated
  }
  repairsOf.set(result, repairs)
}

/** A chunk compared, and re-compared after replication has passed the moment it was read. */
async function compareRangeOnline(o: VerifyOptions, ctx: TableContext, online: ReplicationWatch, range: KeyRange, result: TableVerifyResult): Promise<ChunkOutcome> {
  let outcome: ChunkOutcome | null = null
  for (let attempt = 0; attempt <= o.recheckRetries; attempt++) {
    const position = online.running ? await ctx.source.replication.capture.currentPosition().catch(() => null) : null
    outcome = await compareRange(ctx, range, o.where)
    result.splits += outcome.splits
    if (outcome.equal) {
      if (attempt > 0) result.rechecked++
      return outcome
    }
    if (position !== null) {
      const passed = await online.waitFor(position, o.recheckWaitMs, o.signal)
      if (!passed) break
    } else if (attempt >= 1) break
  }
  if (outcome === null) throw new Error('no comparison')
  return outcome
}

async function compareRange(ctx: TableContext, range: KeyRange, where: string | null): Promise<ChunkOutcome> {
  if (ctx.method === 'pushdown') {
    const sv = ctx.source.verify
    const tv = ctx.target.verify
    if (sv.hashRange === undefined || tv.hashRange === undefined) throw new Error('pushdown without hashRange')
    // JSON as stored first (cheap; equal bytes are equal JSON), normalised only where that differs
    const hasJson = ctx.families.includes('json')
    const [s, t] = await Promise.all([sv.hashRange(ctx.pair.source, ctx.sourceColumns, range, where, hasJson), tv.hashRange(ctx.pair.target, ctx.targetColumns, range, where, hasJson)])
    if (s.cut !== undefined || t.cut !== undefined) return compareInParts(ctx, range, where, s, t)
    if (s.count === t.count && s.hash === t.hash) return {equal: true, sourceCount: s.count, targetCount: t.count, splits: 0, rowsWhole: null}
    if (!hasJson) return {equal: false, sourceCount: s.count, targetCount: t.count, splits: 0, rowsWhole: null}
    const [sn, tn] = await Promise.all([sv.hashRange(ctx.pair.source, ctx.sourceColumns, range, where), tv.hashRange(ctx.pair.target, ctx.targetColumns, range, where)])
    if (sn.cut !== undefined || tn.cut !== undefined) return compareInParts(ctx, range, where, sn, tn)
    return {equal: sn.count === tn.count && sn.hash === tn.hash, sourceCount: sn.count, targetCount: tn.count, splits: 0, rowsWhole: null}
  }
  return compareRows(ctx, range, where)
}

/** Both sides' rows of a range streamed and hashed by payctl over the canonical encoding. */
async function compareRows(ctx: TableContext, range: KeyRange, where: string | null): Promise<ChunkOutcome> {
  const [s, t] = await Promise.all([ctx.source.verify.readRange(ctx.pair.source, range, where), ctx.target.verify.readRange(ctx.pair.target, range, where)])
  const hs = new ChunkHasher()
  const ht = new ChunkHasher()
  for (const row of s) hs.add(rowDigest(canonicalRow(row, ctx.sourceColumns, ctx.families)))
  for (const row of t) ht.add(rowDigest(canonicalRow(row, ctx.sourceColumns, ctx.families)))
  return {equal: s.length === t.length && hs.digestHex() === ht.digestHex(), sourceCount: s.length, targetCount: t.length, splits: 0, rowsWhole: null}
}

/**
 * A range whose hash a server could not give whole (its text did not fit the hash buffer, or rows
 * were left out) is compared in parts of a little fewer rows than fitted (half the range when the
 * server did not say); a part that is cut again is split the same way. A range of at most
 * BISECT_ROWS rows that still does not fit (very large rows) is compared row by row.
 */
async function compareInParts(ctx: TableContext, range: KeyRange, where: string | null, s: RangeHash, t: RangeHash): Promise<ChunkOutcome> {
  const fitted = [s.cut, t.cut].flatMap((c) => (c?.rowsWhole === null || c === undefined ? [] : [c.rowsWhole]))
  const rows = Math.max(s.count, t.count)
  // what this range tells the chunker: how many rows fitted whole
  const rowsWhole = fitted.length === 0 || Math.min(...fitted) === 0 ? Math.max(1, Math.floor(rows / 2)) : Math.min(...fitted)
  const out: ChunkOutcome = {equal: true, sourceCount: 0, targetCount: 0, splits: 1, rowsWhole}
  const add = (o: ChunkOutcome): void => {
    out.equal &&= o.equal
    out.sourceCount += o.sourceCount
    out.targetCount += o.targetCount
    out.splits += o.splits
  }
  if (rows <= BISECT_ROWS) {
    add(await compareRows(ctx, range, where))
    return out
  }
  let partRows = Math.max(1, Math.floor(rowsWhole * 0.9))
  // parts cut by the keys of the side with more rows, as bisection does, never past the range's end
  const side = s.count >= t.count ? {verify: ctx.source.verify, table: ctx.pair.source} : {verify: ctx.target.verify, table: ctx.pair.target}
  let after = range.after
  for (;;) {
    const mid = await side.verify.keyAt(side.table, after, partRows, where, range.through)
    const last = mid === null || (range.through !== null && keyText(mid) === keyText(range.through))
    const part = await compareRange(ctx, {after, through: last ? range.through : mid}, where)
    add(part)
    if (last) break
    after = mid
    // a part cut near its size: the rows grew longer, the next parts are smaller; cut far sooner
    // (one very large row, already compared in its own parts): the next parts keep their size
    if (part.rowsWhole !== null) partRows = part.rowsWhole >= partRows / 2 ? Math.max(1, Math.floor(part.rowsWhole * 0.9)) : partRows
  }
  return out
}

/** Narrows a differing range to small ranges by halving, then compares their rows; at most `budget.left` more differences are listed. */
async function diffRange(o: VerifyOptions, ctx: TableContext, online: ReplicationWatch, range: KeyRange, result: TableVerifyResult, findings: Findings, budget: {left: number}): Promise<void> {
  if (budget.left <= 0) {
    findings.truncated = true
    return
  }
  const [sourceRows, targetRows] = await Promise.all([ctx.source.verify.countRows(ctx.pair.source, range, o.where), ctx.target.verify.countRows(ctx.pair.target, range, o.where)])
  if (Math.max(sourceRows, targetRows) > BISECT_ROWS) {
    // halve by the keys of the side with more rows (extra rows on the target are split too)
    const mid =
      sourceRows >= targetRows
        ? await ctx.source.verify.keyAt(ctx.pair.source, range.after, Math.floor(sourceRows / 2), o.where)
        : await ctx.target.verify.keyAt(ctx.pair.target, range.after, Math.floor(targetRows / 2), o.where)
    if (mid !== null && (range.through === null || keyText(mid) !== keyText(range.through))) {
      for (const half of [{after: range.after, through: mid}, {after: mid, through: range.through}]) {
        const outcome = await compareRange(ctx, half, o.where)
        result.splits += outcome.splits
        if (!outcome.equal) await diffRange(o, ctx, online, half, result, findings, budget)
      }
      return
    }
  }
  for (const {sourceRow, targetKey, ...diff} of await leafDiffs(o, ctx, online, range)) {
    if (budget.left <= 0) {
      findings.truncated = true
      return
    }
    budget.left--
    findings.diffs.push(diff)
    findings.repairs.push({sourceRow, targetKey})
  }
}

type FoundDiff = RowDiff & {sourceRow: unknown[] | null; targetKey: unknown[]}

/**
 * The rows of a small range that differ, re-read until replication has passed the moment of each
 * read (online), or once more (offline): only a row that differs on every read is reported, with
 * its values from the last read. A row in flight on every read would need to change faster than
 * replication applies it, for recheckRetries rounds in a row.
 */
async function leafDiffs(o: VerifyOptions, ctx: TableContext, online: ReplicationWatch, range: KeyRange): Promise<FoundDiff[]> {
  let candidates: Map<string, FoundDiff> | null = null
  for (let attempt = 0; attempt <= Math.max(1, o.recheckRetries); attempt++) {
    const position = online.running ? await ctx.source.replication.capture.currentPosition().catch(() => null) : null
    const [s, t] = await Promise.all([ctx.source.verify.readRange(ctx.pair.source, range, o.where), ctx.target.verify.readRange(ctx.pair.target, range, o.where)])
    const found = new Map(diffRows(ctx, s, t).map((d) => [JSON.stringify(d.key), d]))
    const kept = new Map<string, FoundDiff>()
    for (const [k, d] of found) if (attempt === 0 || (candidates?.has(k) ?? false)) kept.set(k, d)
    candidates = kept
    if (kept.size === 0) return []
    if (position === null) {
      if (attempt >= 1) break
      continue
    }
    if (!(await online.waitFor(position, o.recheckWaitMs, o.signal))) break
  }
  return [...(candidates ?? new Map<string, FoundDiff>()).values()]
}

/** Source and target rows of one range, merged by key; the canonical text decides what differs. */
export function diffRows(ctx: Pick<TableContext, 'pair' | 'sourceColumns' | 'families'>, sourceRows: readonly unknown[][], targetRows: readonly unknown[][]): FoundDiff[] {
  const {pair, sourceColumns, families} = ctx
  const canon = (row: readonly unknown[]): Array<string | null> => row.map((v, i) => {
    const col = sourceColumns[i]
    const fam = families[i]
    return col === undefined || fam === undefined ? null : canonicalValue(v, col, fam)
  })
  const keyText = (c: Array<string | null>): string => JSON.stringify(pair.source.keyIndexes.map((i) => c[i] ?? null))
  // keys are reported masked like any value (a table keyed by a card number must not print it); repairs use the raw key
  const keyRecord = (c: Array<string | null>): Record<string, string | null> =>
    Object.fromEntries(
      pair.source.keyColumns.map((k, j) => {
        const i = pair.source.keyIndexes[j] ?? 0
        const column = sourceColumns[i]
        const text = c[i] ?? null
        return [k, column === undefined ? text : maskValue(text, column)]
      }),
    )
  const targets = new Map<string, {row: unknown[]; canon: Array<string | null>}>()
  for (const row of targetRows) {
    const c = canon(row)
    targets.set(keyText(c), {row, canon: c})
  }
  const out: FoundDiff[] = []
  for (const row of sourceRows) {
    const c = canon(row)
    const k = keyText(c)
    const t = targets.get(k)
    const key = pair.source.keyIndexes.map((i) => row[i])
    if (t === undefined) {
      out.push({table: pair.source.name, key: keyRecord(c), kind: 'missing-in-target', columns: [], sourceRow: row, targetKey: key})
      continue
    }
    targets.delete(k)
    const columns: ColumnDiff[] = []
    for (let i = 0; i < c.length; i++) {
      if (c[i] === t.canon[i]) continue
      const col = sourceColumns[i]
      if (col === undefined) continue
      columns.push({column: col.name, source: maskValue(c[i] ?? null, col), target: maskValue(t.canon[i] ?? null, col)})
    }
    if (columns.length > 0) out.push({table: pair.source.name, key: keyRecord(c), kind: 'different', columns, sourceRow: row, targetKey: key})
  }
  for (const t of targets.values()) {
    out.push({table: pair.source.name, key: keyRecord(t.canon), kind: 'missing-in-source', columns: [], sourceRow: null, targetKey: pair.source.keyIndexes.map((i) => t.row[i])})
  }
  return out
}

/**
 * A repair makes the target equal the source. Once writes have moved to the target (or are paused
 * for a flip), the target holds the newest rows and the source follows it through reverse
 * replication: target := source would delete or revert live payments, and reverse replication would
 * then carry that loss back to the source. Refused unless writes are on the source and replication
 * runs forward.
 */
async function refuseRepairAfterFlip(target: Side, controlDatabase: string): Promise<void> {
  const control = await target.engine.introspect({database: controlDatabase})
  if (!control.tables.some((t) => t.name === 'routing_state')) return
  const writer = await target.replication.openWriter()
  try {
    const routing = await new RoutingStore(controlDatabase).current((sql, p) => writer.query(sql, p))
    if (routing.desired.writes !== 'source' || routing.desired.replication.direction !== 'forward') {
      throw new EnvironmentError('PAYCTL_REPAIR_AFTER_FLIP', `Writes are ${routing.desired.writes === 'paused' ? 'paused for a write flip' : `on the ${routing.desired.writes}`} (routing version ${routing.version}): the target holds the newest rows, and --repair (target := source) would undo live writes.`, {
        actions: ['Run payctl verify without --repair to see the differences; roll back first (payctl rollback) if the source must become the reference again.'],
      })
    }
  } finally {
    await writer.close()
  }
}

/** Target := source for the differing rows; returns how many rows the statements cover. */
async function repairTable(o: VerifyOptions, ctx: TableContext, items: readonly RepairItem[]): Promise<number> {
  const tv = ctx.target.verify
  if (tv.repairStatements === undefined) throw new EnvironmentError('PAYCTL_REPAIR_UNSUPPORTED', `The target engine (${ctx.target.engine.name}) cannot write repairs.`)
  // a row the source has is written whole (insert or overwrite); a row only the target has is deleted
  const upserts = items.flatMap((d) => (d.sourceRow === null ? [] : [d.sourceRow]))
  // a key the source has is written, never deleted (it can be listed both ways when the sides order keys differently)
  const kept = new Set(items.flatMap((d) => (d.sourceRow === null ? [] : [keyText(d.targetKey)])))
  const deletes = items.flatMap((d) => (d.sourceRow === null && !kept.has(keyText(d.targetKey)) ? [d.targetKey] : []))
  let writer: TargetWriter | null = null
  let written = 0
  try {
    if (!o.dryRun) writer = await ctx.target.replication.openWriter()
    for (let i = 0; i < Math.max(upserts.length, deletes.length); i += REPAIR_BATCH_ROWS) {
      const u = upserts.slice(i, i + REPAIR_BATCH_ROWS)
      const d = deletes.slice(i, i + REPAIR_BATCH_ROWS)
      const statements = tv.repairStatements?.(ctx.pair.target, u, d) ?? []
      o.onEvent?.({kind: 'repair-sql', table: ctx.pair.source.name, statements})
      if (writer === null) continue
      if (o.repairLog !== null) {
        await mkdir(dirname(o.repairLog), {recursive: true})
        await appendFile(o.repairLog, `-- ${new Date().toISOString()} ${ctx.pair.source.name}: ${u.length} upserts, ${d.length} deletes\n${statements.map((s) => `${s};`).join('\n')}\n`)
      }
      await writer.begin()
      try {
        for (const s of statements) await writer.query(s)
        await writer.commit()
      } catch (err) {
        await writer.rollback().catch(() => undefined)
        // the server's message can quote a value: name the batch, not its rows
        const code = (err as {code?: unknown}).code
        throw new EnvironmentError('PAYCTL_REPAIR_FAILED', `Repairing ${ctx.pair.source.name} failed (${typeof code === 'string' ? code : 'error'}) in a batch of ${u.length} upserts and ${d.length} deletes; it was rolled back.`, {
          actions: [`Batches before it are applied and logged in ${o.repairLog ?? 'the repair log'}; run payctl verify --repair again after checking the target.`],
        })
      }
      written += u.length + d.length
    }
  } finally {
    await writer?.close()
  }
  return o.dryRun ? upserts.length + deletes.length : written
}
