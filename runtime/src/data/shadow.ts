/**
 * Shadow reads: a share of reads also runs on the other side, after the response's own read, and
 * the two results are compared. It is how the target proves it answers like the source before
 * reads (and then writes) move to it.
 *
 * - The shadow never delays or fails the request: the comparison starts after the primary read has
 *   returned its rows, runs detached, and its errors are only counted.
 * - A mismatch is read again on both sides after RECHECK_MS before it counts: replication lag makes
 *   two reads of a changing row differ for a moment, which is noise, not a difference.
 * - Results are compared as values: each row becomes {column: text} (Dates as ISO-8601, bytes as
 *   hex, numbers and strings as their text, objects as key-sorted JSON), rows as a multiset.
 * - What is kept and published names the statement and the columns that differ, never a value:
 *   these examples go into heartbeats and logs, and rows hold customer data.
 */
import type {ShadowExample, WriteSide} from '../../../src/control/routing-store.js'
import type {Statement} from '../../../src/engines/payments-sql.js'
import type {Db, PoolStats, Queryable, QueryObserver} from './db.js'
import {type RoutingClock, systemClock} from './routing-state.js'

export const RECHECK_MS = 250
/** Comparisons running at once; past it a sampled read is not shadowed (the other side is slow: do not pile on). */
export const MAX_PENDING_SHADOWS = 32
export const MAX_SHADOW_EXAMPLES = 10

export type ShadowResult = 'match' | 'mismatch' | 'error'

export interface ShadowStats {
  matched: number
  mismatched: number
  errors: number
  examples: ShadowExample[]
}

export type NormalRow = Record<string, string | null>

function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('hex')
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

/** One column's value as comparable text (null stays null). */
export function normalizeValue(value: unknown): string | null {
  const c = canonical(value)
  if (c === null) return null
  return typeof c === 'string' ? c : JSON.stringify(c)
}

export function normalizeRow(row: unknown): NormalRow {
  const out: NormalRow = {}
  if (row === null || typeof row !== 'object') return out
  for (const key of Object.keys(row).sort()) out[key] = normalizeValue((row as Record<string, unknown>)[key])
  return out
}

function rowText(row: NormalRow): string {
  return JSON.stringify(row)
}

/**
 * The columns that differ between two results, ['rows'] when the row counts differ, or null when
 * they hold the same rows (in any order, with columns in any order).
 */
export function diffRows(a: readonly unknown[], b: readonly unknown[]): string[] | null {
  return diffNormalized(a.map(normalizeRow), b.map(normalizeRow))
}

function diffNormalized(na: readonly NormalRow[], nb: readonly NormalRow[]): string[] | null {
  if (na.length !== nb.length) return ['rows']
  const sa = na.map(rowText).sort()
  const sb = nb.map(rowText).sort()
  if (sa.every((t, i) => t === sb[i])) return null
  // The statements order their rows, so row i of one side is row i of the other; the rows differ
  // as a multiset, so at least one pair differs.
  const columns = new Set<string>()
  na.forEach((ra, i) => {
    const rb = nb[i] ?? {}
    for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) if (ra[key] !== rb[key]) columns.add(key)
  })
  return columns.size === 0 ? ['rows'] : [...columns].sort()
}

export class ShadowReads {
  readonly #clock: RoutingClock
  readonly #wallClock: () => Date
  readonly #recheckMs: number
  readonly #maxPending: number
  #pending = 0
  #closed = false
  #matched = 0
  #mismatched = 0
  #errors = 0
  #examples: ShadowExample[] = []
  #observer: (result: ShadowResult, example: ShadowExample | null) => void = () => undefined

  constructor(options: {clock?: RoutingClock; wallClock?: () => Date; recheckMs?: number; maxPending?: number} = {}) {
    this.#clock = options.clock ?? systemClock
    this.#wallClock = options.wallClock ?? (() => new Date())
    this.#recheckMs = options.recheckMs ?? RECHECK_MS
    this.#maxPending = options.maxPending ?? MAX_PENDING_SHADOWS
  }

  /** Who is told each result (the metrics, the log); one observer at a time. */
  setObserver(fn: (result: ShadowResult, example: ShadowExample | null) => void): void {
    this.#observer = fn
  }

  get pending(): number {
    return this.#pending
  }

  stats(): ShadowStats {
    return {matched: this.#matched, mismatched: this.#mismatched, errors: this.#errors, examples: [...this.#examples]}
  }

  /** Stops comparing: pending comparisons end without a result (the pools are closing). */
  close(): void {
    this.#closed = true
  }

  /**
   * Compares `rows` (what `primary` answered to `stmt`) with the other side's answer, detached.
   * Returns the comparison's promise for tests; callers do not await it. It never rejects.
   */
  compare(stmt: Statement, primary: Queryable & {side: WriteSide}, other: Queryable & {side: WriteSide}, rows: readonly unknown[]): Promise<ShadowResult | null> {
    if (this.#closed || this.#pending >= this.#maxPending) return Promise.resolve(null)
    this.#pending++
    // normalized now: the caller goes on to use (and may change) the row objects
    return this.#run(stmt, primary, other, rows.map(normalizeRow)).finally(() => this.#pending--)
  }

  async #run(stmt: Statement, primary: Queryable & {side: WriteSide}, other: Queryable & {side: WriteSide}, rows: NormalRow[]): Promise<ShadowResult | null> {
    let columns: string[] | null
    try {
      columns = diffNormalized(rows, (await other.query(stmt)).map(normalizeRow))
      if (columns !== null) {
        await this.#delay(this.#recheckMs)
        if (this.#closed) return null
        const [again, againOther] = await Promise.all([primary.query(stmt), other.query(stmt)])
        columns = diffRows(again, againOther)
      }
    } catch {
      if (this.#closed) return null
      this.#errors++
      this.#observer('error', null)
      return 'error'
    }
    if (this.#closed) return null
    if (columns === null) {
      this.#matched++
      this.#observer('match', null)
      return 'match'
    }
    const example: ShadowExample = {at: this.#wallClock().toISOString(), op: stmt.op, sides: [primary.side, other.side], columns}
    this.#mismatched++
    this.#examples = [...this.#examples, example].slice(-MAX_SHADOW_EXAMPLES)
    this.#observer('mismatch', example)
    return 'mismatch'
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.after(ms, resolve))
  }
}

/**
 * A reader's Db whose plain queries are also compared on the other side. Statements that write
 * (none run on a reader) and transactions go to the primary only.
 */
export class ShadowingDb implements Db {
  constructor(
    readonly primary: Db,
    readonly other: Db,
    private readonly shadow: ShadowReads,
  ) {}

  get side(): WriteSide {
    return this.primary.side
  }

  async query<T>(stmt: Statement): Promise<T[]> {
    const rows = await this.primary.query<T>(stmt)
    void this.shadow.compare(stmt, this.primary, this.other, rows)
    return rows
  }

  execute(stmt: Statement): Promise<number> {
    return this.primary.execute(stmt)
  }

  insert(stmt: Statement): Promise<string> {
    return this.primary.insert(stmt)
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.primary.transaction(fn)
  }

  poolStats(): PoolStats {
    return this.primary.poolStats()
  }

  setObserver(observer: QueryObserver): void {
    this.primary.setObserver(observer)
  }

  close(): Promise<void> {
    return this.primary.close()
  }
}
