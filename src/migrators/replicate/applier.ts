/**
 * The change applier: one loop that takes committed source transactions in commit order and makes
 * the target follow them. See copier.ts for why the copy and this loop together end in target =
 * source. What this loop guarantees:
 *
 * - Per table state: `pending` (copy not started: a change is dropped, the copy will read the row
 *   later and see it), `copying` / `catching-up` (held back, in order, in a SpillBuffer), and
 *   `replicating` (applied).
 * - A batch (up to `batchChanges` changes from whole transactions) is coalesced per key (the last
 *   image wins, an update that moves a key deletes the old one) and written in one target
 *   transaction together with the stream position it reaches: after a crash the target holds
 *   exactly the changes up to the saved position, and replaying from any earlier position is
 *   harmless (upserts of full after-images and deletes by key are idempotent in order).
 * - A coalesced batch that trips a unique key (two rows swapping a unique value within the batch)
 *   is rolled back and applied change by change, in source order.
 * - A DDL event on a captured table stops the loop with a clear error.
 * - drainTo(P) applies every transaction up to P and none after it, then reports it has drained:
 *   the routing handover stops one direction exactly at the position the cutover read, so that
 *   nothing committed after P (by the side that has become the writer) is applied twice.
 *
 * Reverse replication (target -> source) writes to the source, while the control store lives on
 * the target: its position cannot commit in the same transaction as the rows. With the
 * `checkpoint.afterCommit` option the position is saved after the writer's transaction commits,
 * so it is at-least-once: after a crash between the commit and the save, the stream resumes from
 * the older saved position and applies some transactions a second time. That is harmless for the
 * same reason a resume of the forward stream from an older position is (copier.ts, point 5): every
 * change is a full-row image written with REPLACE semantics or a delete by key, applied in commit
 * order, so replaying a contiguous run of them ends in the state the last one leaves; a change
 * already applied is overwritten by the later ones that follow it in the replay.
 */
import {EnvironmentError} from '../../cli/errors.js'
import type {CapturedEvent, CapturePosition, ChangeStream, ReplicaTable, RowChange, TargetWriter} from '../../engines/replication.js'
import {asError, comparePositions, describePosition, keyText} from '../../engines/replication.js'
import type {ReplicationStore, TableCopyState} from '../../control/replication-store.js'
import {SpillBuffer} from './spill-buffer.js'

export interface ApplierTable {
  /** Source table name (as the stream names it). */
  source: string
  /** Where its rows go on the target. */
  target: ReplicaTable
  /** The names the stream's row images use for target.columns, in the same order (default: target.columns). */
  imageColumns?: readonly string[]
  state: TableCopyState
}

export interface ApplierStats {
  position: CapturePosition
  /** Commit time of the last source transaction applied (ms), null before the first. */
  lastCommitMs: number | null
  transactions: number
  changesApplied: number
  changesHeld: number
  batches: number
  /** Wall-clock ms when the applier last had nothing left to read. */
  idleSinceMs: number | null
}

export interface ApplierOptions {
  stream: ChangeStream
  writer: TargetWriter
  store: ReplicationStore
  tables: readonly ApplierTable[]
  start: CapturePosition
  spillDir: string
  batchChanges?: number
  /** Resolves while replication is paused (operator request); called between batches. */
  waitWhilePaused?: () => Promise<void>
  /** Called after each batch commits. */
  onBatch?: (stats: ApplierStats) => void
  /**
   * Save the position after the writer's transaction commits instead of in it (reverse
   * replication: the control store is not on the writer's server). At-least-once, see the top of
   * this file. Every table must be replicating: hold and release are refused.
   */
  checkpoint?: {afterCommit: (position: CapturePosition) => Promise<void>}
  /** The side the stream captures, for messages (default: source). */
  captureSide?: 'source' | 'target'
}

type Control = {kind: 'hold'; table: string; resolve: (p: CapturePosition) => void; reject: (e: unknown) => void} | {kind: 'release'; table: string; resolve: () => void; reject: (e: unknown) => void}

const READ_AHEAD = 20_000
/** After-commit checkpoints of batches without changes (the capture side's own unrelated writes): at most this often. */
const IDLE_CHECKPOINT_MS = 1_000

function isDuplicateKey(err: unknown): boolean {
  const codes: string[] = []
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string') codes.push(code)
    e = (e as {cause?: unknown}).cause
  }
  return codes.includes('ER_DUP_ENTRY')
}

export class Applier {
  readonly #tables = new Map<string, ApplierTable>()
  readonly #buffers = new Map<string, SpillBuffer>()
  readonly #controls: Control[] = []
  readonly #inbox: CapturedEvent[] = []
  #streamDone = false
  #streamError: unknown = null
  #wake: (() => void) | null = null
  #stopped = false
  #ended: Error | null = null
  readonly #stats: ApplierStats
  readonly #batchChanges: number
  /** drainTo's position: nothing after it is applied. */
  #limit: CapturePosition | null = null
  readonly #drainWaiters: Array<{resolve: () => void; reject: (e: unknown) => void}> = []
  #savedPosition: CapturePosition | null = null
  #savedAtMs = 0

  constructor(private readonly o: ApplierOptions) {
    if (o.checkpoint !== undefined && o.tables.some((t) => t.state !== 'replicating')) throw new Error('after-commit checkpoints need every table replicating')
    for (const t of o.tables) this.#tables.set(t.source, {...t})
    for (const t of o.tables) if (t.state === 'copying' || t.state === 'catching-up') this.#buffers.set(t.source, new SpillBuffer(o.spillDir, t.source))
    this.#batchChanges = o.batchChanges ?? 2_000
    this.#stats = {position: o.start, lastCommitMs: null, transactions: 0, changesApplied: 0, changesHeld: 0, batches: 0, idleSinceMs: null}
  }

  get stats(): ApplierStats {
    return {...this.#stats, changesHeld: [...this.#buffers.values()].reduce((n, b) => n + b.size, 0)}
  }

  /** Transactions received and not yet applied. */
  get backlog(): number {
    return this.#inbox.length
  }

  tableState(source: string): TableCopyState | undefined {
    return this.#tables.get(source)?.state
  }

  /** Starts holding back a table's changes (its copy is about to read it); resolves with the position from which they are held. */
  hold(table: string): Promise<CapturePosition> {
    return new Promise((resolve, reject) => {
      if (this.#ended !== null) return reject(this.#ended)
      if (this.o.checkpoint !== undefined) return reject(new Error('tables cannot be held back with after-commit checkpoints'))
      this.#controls.push({kind: 'hold', table, resolve, reject})
      this.#notify()
    })
  }

  /** The table's copy is complete: applies what was held back, then follows its changes live. */
  release(table: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#ended !== null) return reject(this.#ended)
      if (this.o.checkpoint !== undefined) return reject(new Error('tables cannot be released with after-commit checkpoints'))
      this.#controls.push({kind: 'release', table, resolve, reject})
      this.#notify()
    })
  }

  /** Why the loop ended (its failure, or "stopped"), null while it runs; requests made after that are refused at once. */
  get ended(): Error | null {
    return this.#ended
  }

  stop(): void {
    this.#stopped = true
    this.#notify()
  }

  /**
   * Applies every transaction up to `position` and nothing after it; resolves once there is
   * nothing left at or before it (applied position >= `position`, or the next transaction is past
   * it). The loop keeps running (idle) until stop(). Rejects when the loop ends first.
   */
  drainTo(position: CapturePosition): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#ended !== null) return reject(this.#ended)
      this.#limit = position
      this.#drainWaiters.push({resolve, reject})
      this.#notify()
    })
  }

  /** Whether the next transaction received may be applied (it is not past drainTo's position). */
  #applicable(): boolean {
    const head = this.#inbox[0]
    return head !== undefined && (this.#limit === null || comparePositions(head.position, this.#limit) <= 0)
  }

  #checkDrained(): void {
    const limit = this.#limit
    if (limit === null || this.#drainWaiters.length === 0) return
    const head = this.#inbox[0]
    if (comparePositions(this.#stats.position, limit) >= 0 || (head !== undefined && comparePositions(head.position, limit) > 0)) {
      for (const w of this.#drainWaiters.splice(0)) w.resolve()
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }

  async #pump(): Promise<void> {
    try {
      for await (const event of this.o.stream) {
        this.#inbox.push(event)
        this.#notify()
        while (this.#inbox.length > READ_AHEAD && !this.#stopped) {
          await new Promise<void>((resolve) => setTimeout(resolve, 5))
        }
        if (this.#stopped) break
      }
    } catch (err) {
      this.#streamError = err
    } finally {
      this.#streamDone = true
      this.#notify()
    }
  }

  /** Runs until stop() (or a failure, thrown). Pending hold/release requests are rejected on the way out. */
  async run(): Promise<void> {
    const pump = this.#pump()
    try {
      while (!this.#stopped) {
        await this.#handleControls()
        this.#checkDrained()
        if (this.#applicable()) {
          await this.o.waitWhilePaused?.()
          if (this.#stopped) break
          await this.#applyBatch()
          continue
        }
        if (this.#streamError !== null) throw asError(this.#streamError)
        if (this.#streamDone) break
        this.#stats.idleSinceMs ??= Date.now()
        await new Promise<void>((resolve) => {
          this.#wake = resolve
          if (this.#applicable() || this.#controls.length > 0 || this.#stopped || this.#streamDone || this.#streamError !== null) this.#notify()
        })
      }
    } catch (err) {
      this.#ended = asError(err)
      for (const c of this.#controls.splice(0)) c.reject(err)
      for (const w of this.#drainWaiters.splice(0)) w.reject(err)
      throw err
    } finally {
      this.#stopped = true
      this.#ended ??= new Error('replication stopped')
      for (const c of this.#controls.splice(0)) c.reject(this.#ended)
      for (const w of this.#drainWaiters.splice(0)) w.reject(this.#ended)
      await this.o.stream.close()
      await pump
      for (const c of this.#controls.splice(0)) c.reject(this.#ended)
      // whatever committed last is saved too (best effort: a lost save only means a harmless replay)
      const checkpoint = this.o.checkpoint
      if (checkpoint !== undefined && this.#savedPosition !== this.#stats.position) await checkpoint.afterCommit(this.#stats.position).catch(() => undefined)
    }
  }

  async #handleControls(): Promise<void> {
    while (this.#controls.length > 0) {
      const c = this.#controls.shift()
      if (c === undefined) break
      try {
        const t = this.#tables.get(c.table)
        if (t === undefined) throw new Error(`unknown table ${c.table}`)
        if (c.kind === 'hold') {
          // from here on its changes are held back: everything processed so far was read before the copy starts
          if (!this.#buffers.has(c.table)) this.#buffers.set(c.table, new SpillBuffer(this.o.spillDir, c.table))
          t.state = 'copying'
          await this.o.store.startTable((sql, p) => this.o.writer.query(sql, p), c.table, this.#stats.position)
          c.resolve(this.#stats.position)
        } else {
          await this.#drain(t)
          c.resolve()
        }
      } catch (err) {
        c.reject(err)
        throw err
      }
    }
  }

  /** Applies a table's held-back changes in order; the last batch also switches it to replicating. */
  async #drain(t: ApplierTable): Promise<void> {
    const buffer = this.#buffers.get(t.source)
    const w = this.o.writer
    const query = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => w.query<T>(sql, p)
    t.state = 'catching-up'
    await this.o.store.setTableState(query, t.source, 'catching-up')
    if (buffer !== undefined) {
      for await (const batch of buffer.drain(this.#batchChanges)) {
        await this.#write(batch, false)
      }
      this.#buffers.delete(t.source)
    }
    await w.begin()
    try {
      await this.o.store.setTableState(query, t.source, 'replicating')
      await this.o.store.savePosition(query, this.#stats.position)
      await w.commit()
    } catch (err) {
      await w.rollback().catch(() => undefined)
      throw err
    }
    t.state = 'replicating'
  }

  async #applyBatch(): Promise<void> {
    const live: RowChange[] = []
    let taken = 0
    let lastPosition = this.#stats.position
    let lastCommit = this.#stats.lastCommitMs
    let transactions = 0
    while (this.#applicable() && taken < this.#batchChanges) {
      const event = this.#inbox[0]
      if (event === undefined) break
      if (event.kind === 'ddl') {
        if (live.length > 0 || transactions > 0) break
        const side = this.o.captureSide ?? 'source'
        const other = side === 'source' ? 'target' : 'source'
        throw new EnvironmentError(side === 'source' ? 'PAYCTL_SOURCE_DDL' : 'PAYCTL_TARGET_DDL', `A schema change on the ${side} stopped replication at ${describePosition(event.position)}: ${event.statement.slice(0, 500)}`, {
          actions: [
            `Apply the same change to the ${other}${side === 'source' ? ' (payctl provision shows the difference)' : ''}, then run payctl replicate again: it resumes after this statement.`,
            'Or, if the table is not part of the migration, exclude it in payctl.yaml (tables.exclude).',
          ],
          data: {position: event.position, statement: event.statement.slice(0, 500)},
        })
      }
      this.#inbox.shift()
      transactions++
      lastPosition = event.position
      lastCommit = event.commitTimeMs
      for (const change of event.changes) {
        const t = this.#tables.get(change.table)
        if (t === undefined || t.state === 'pending') continue
        if (t.state === 'replicating') live.push(change)
        else await this.#buffers.get(change.table)?.push(change)
        taken++
      }
    }
    await this.#write(live, true, lastPosition)
    this.#stats.position = lastPosition
    this.#stats.lastCommitMs = lastCommit
    this.#stats.transactions += transactions
    this.#stats.batches++
    this.#stats.idleSinceMs = this.#inbox.length === 0 ? Date.now() : null
    this.o.onBatch?.(this.stats)
  }

  /**
   * Writes changes in one transaction (with the position when given: in it, or after its commit
   * with after-commit checkpoints), coalesced; in source order when coalescing trips a unique key.
   */
  async #write(changes: readonly RowChange[], coalesce: boolean, position?: CapturePosition): Promise<void> {
    const afterCommit = this.o.checkpoint?.afterCommit
    const inTransaction = afterCommit === undefined ? position : undefined
    if (changes.length > 0 || inTransaction !== undefined) {
      try {
        await this.#writeOnce(changes, coalesce, inTransaction)
      } catch (err) {
        if (!isDuplicateKey(err)) throw err
        await this.#writeOnce(changes, false, inTransaction, true)
      }
    }
    this.#stats.changesApplied += changes.length
    // Saving after every batch without changes would feed itself: the save is a write on the
    // captured server, which comes back as one more (empty) transaction to save.
    if (afterCommit !== undefined && position !== undefined && (changes.length > 0 || Date.now() - this.#savedAtMs >= IDLE_CHECKPOINT_MS)) {
      await afterCommit(position)
      this.#savedPosition = position
      this.#savedAtMs = Date.now()
    }
  }

  async #writeOnce(changes: readonly RowChange[], coalesce: boolean, position: CapturePosition | undefined, oneByOne = false): Promise<void> {
    const w = this.o.writer
    await w.begin()
    try {
      if (oneByOne || !coalesce) await this.#applyInOrder(changes, oneByOne)
      else await this.#applyCoalesced(changes)
      if (position !== undefined) await this.o.store.savePosition((sql, p) => w.query(sql, p), position)
      await w.commit()
    } catch (err) {
      await w.rollback().catch(() => undefined)
      throw err
    }
  }

  #rowOf(t: ApplierTable, image: Record<string, unknown>): unknown[] {
    return (t.imageColumns ?? t.target.columns).map((c) => image[c] ?? null)
  }

  #keyOf(t: ApplierTable, image: Record<string, unknown>): unknown[] {
    const names = t.imageColumns ?? t.target.columns
    return t.target.keyIndexes.map((i) => image[names[i] ?? ''] ?? null)
  }

  async #applyCoalesced(changes: readonly RowChange[]): Promise<void> {
    const perTable = new Map<string, Map<string, {key: unknown[]; row: unknown[] | null}>>()
    for (const ch of changes) {
      const t = this.#tables.get(ch.table)
      if (t === undefined) continue
      let ops = perTable.get(ch.table)
      if (ops === undefined) perTable.set(ch.table, (ops = new Map<string, {key: unknown[]; row: unknown[] | null}>()))
      if (ch.before !== null && (ch.after === null || keyText(this.#keyOf(t, ch.before)) !== keyText(this.#keyOf(t, ch.after)))) {
        const key = this.#keyOf(t, ch.before)
        ops.delete(keyText(key))
        ops.set(keyText(key), {key, row: null})
      }
      if (ch.after !== null) {
        const key = this.#keyOf(t, ch.after)
        ops.delete(keyText(key))
        ops.set(keyText(key), {key, row: this.#rowOf(t, ch.after)})
      }
    }
    for (const [table, ops] of perTable) {
      const t = this.#tables.get(table)
      if (t === undefined) continue
      const deletes: unknown[][] = []
      const upserts: unknown[][] = []
      for (const op of ops.values()) (op.row === null ? deletes : upserts).push(op.row ?? op.key)
      if (deletes.length > 0) await this.o.writer.deleteKeys(t.target, deletes)
      if (upserts.length > 0) await this.o.writer.upsertRows(t.target, upserts)
    }
  }

  /** Change by change (oneByOne), or consecutive runs of the same kind on the same table batched (held-back changes). */
  async #applyInOrder(changes: readonly RowChange[], oneByOne: boolean): Promise<void> {
    let run: {table: ApplierTable; kind: 'delete' | 'upsert'; items: unknown[][]} | null = null
    const flush = async (): Promise<void> => {
      if (run === null) return
      if (run.kind === 'delete') await this.o.writer.deleteKeys(run.table.target, run.items)
      else await this.o.writer.upsertRows(run.table.target, run.items)
      run = null
    }
    const add = async (table: ApplierTable, kind: 'delete' | 'upsert', item: unknown[]): Promise<void> => {
      // a key repeated within a run would be written twice in one statement: flush first so the order holds
      if (run !== null && (oneByOne || run.table !== table || run.kind !== kind)) await flush()
      run ??= {table, kind, items: []}
      run.items.push(item)
    }
    const seen = new Set<string>()
    for (const ch of changes) {
      const t = this.#tables.get(ch.table)
      if (t === undefined) continue
      if (ch.before !== null && (ch.after === null || keyText(this.#keyOf(t, ch.before)) !== keyText(this.#keyOf(t, ch.after)))) {
        await add(t, 'delete', this.#keyOf(t, ch.before))
      }
      if (ch.after !== null) {
        const k = `${ch.table}\0${keyText(this.#keyOf(t, ch.after))}`
        if (seen.has(k)) {
          await flush()
          seen.clear()
        }
        seen.add(k)
        await add(t, 'upsert', this.#rowOf(t, ch.after))
      }
    }
    await flush()
  }
}
