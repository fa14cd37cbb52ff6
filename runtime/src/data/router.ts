/**
 * Which database a query goes to. Every query in the service asks the router, never a pool
 * directly, so routing stays inside this file.
 *
 * - SingleSideRouter: one side serves everything (tests, and a service with no cutover).
 * - RoutedRouter: both sides, routed by the versioned routing state (routing-state.ts). Each HTTP
 *   request runs in a RequestRouting context (http/routing.ts sets it up): a write request's side
 *   is fixed when it is admitted at the gate, and its reads go there too (read-your-writes); a read
 *   request reads from the side its routing key's bucket picks (sticky per payment or customer),
 *   and a shadowPercent share of those reads is compared on the other side (shadow.ts).
 *   Across requests, a key that a write request of this instance touched within the last
 *   READ_YOUR_WRITES_MS reads from the side of that write instead (recent-writes.ts): per instance
 *   only, so a client whose read reaches another instance than its write relies on sticky load
 *   balancing (or on the shadow gate having shown the target keeps up).
 */
import {AsyncLocalStorage} from 'node:async_hooks'
import type {WriteSide} from '../../../src/control/routing-store.js'
import type {Statement} from '../../../src/engines/payments-sql.js'
import type {Db, PoolStats, Queryable, QueryObserver, Side} from './db.js'
import {RecentWrites} from './recent-writes.js'
import type {RoutingState, WriteTicket} from './routing-state.js'
import {ShadowingDb, type ShadowReads} from './shadow.js'

export interface DbRouter {
  /** The side that takes writes (and reads that must see them). */
  writer(): Db
  /** The side for a read; the key (a customer or payment id) keeps one payment's reads on one side. */
  reader(routingKey?: string): Db
  /** Every side with an open pool (pool metrics, shutdown). */
  sides(): Db[]
  /** The sides requests are served from now (readiness); every side when absent. */
  serving?(): Db[]
  /**
   * Where a single-row lookup that found nothing on `db` (a reader's Db) is repeated: the side
   * that takes writes, when `db` is not it (the row may be too new to be replicated); else null.
   */
  readFallback?(db: Db): Db | null
  close(): Promise<void>
}

export class SingleSideRouter implements DbRouter {
  constructor(private readonly db: Db) {}

  get side(): Side {
    return this.db.side
  }

  writer(): Db {
    return this.db
  }

  reader(_routingKey?: string): Db {
    return this.db
  }

  sides(): Db[] {
    return [this.db]
  }

  close(): Promise<void> {
    return this.db.close()
  }
}

/** What the router knows of the HTTP request a query runs for. */
export interface RequestRouting {
  /** Not GET/HEAD: the request was admitted at the write gate. */
  readonly write: boolean
  /** Set once a write request is admitted. */
  ticket: WriteTicket | null
}

/** A Db whose every statement (and every commit) first asks `guard`, which throws to refuse it. */
class GuardedDb implements Db {
  constructor(
    private readonly inner: Db,
    private readonly guard: () => void,
  ) {}

  get side(): Side {
    return this.inner.side
  }

  query<T>(stmt: Statement): Promise<T[]> {
    return this.#guarded(() => this.inner.query<T>(stmt))
  }

  execute(stmt: Statement): Promise<number> {
    return this.#guarded(() => this.inner.execute(stmt))
  }

  insert(stmt: Statement): Promise<string> {
    return this.#guarded(() => this.inner.insert(stmt))
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#guarded(() =>
      this.inner.transaction(async (tx) => {
        const result = await fn({
          query: <R>(s: Statement) => this.#guarded(() => tx.query<R>(s)),
          execute: (s) => this.#guarded(() => tx.execute(s)),
          insert: (s) => this.#guarded(() => tx.insert(s)),
        })
        // the last check before COMMIT: a fence or a flip during the transaction rolls it back
        this.guard()
        return result
      }),
    )
  }

  poolStats(): PoolStats {
    return this.inner.poolStats()
  }

  setObserver(observer: QueryObserver): void {
    this.inner.setObserver(observer)
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  async #guarded<T>(run: () => Promise<T>): Promise<T> {
    this.guard()
    return run()
  }
}

export class RoutedRouter implements DbRouter {
  /** The request context; http/routing.ts enters it for every request. */
  readonly context = new AsyncLocalStorage<RequestRouting>()

  constructor(
    readonly source: Db,
    readonly target: Db,
    readonly state: RoutingState,
    readonly shadow: ShadowReads,
    /** Keys written by this instance's requests a moment ago (http/routing.ts fills it). */
    readonly recentWrites: RecentWrites = new RecentWrites(),
  ) {}

  db(side: WriteSide): Db {
    return side === 'source' ? this.source : this.target
  }

  /**
   * In a write request: its admitted side, every statement checked first (a fenced instance, or
   * writes moved to the other side, refuse it with a 503). In a read request: the side with the
   * newest data, for reads only. Outside a request: the side writes are open on, checked the same
   * way, or a 503 when they are not open.
   */
  writer(): Db {
    const ctx = this.context.getStore()
    if (ctx?.ticket != null) {
      const ticket = ctx.ticket
      this.state.check(ticket)
      return new GuardedDb(this.db(ticket.side), () => this.state.check(ticket))
    }
    if (ctx !== undefined && !ctx.write) return this.db(this.state.primarySide())
    const side = this.state.writableSide()
    if (side === null) throw this.state.unavailable()
    return new GuardedDb(this.db(side), () => this.state.checkSide(side))
  }

  reader(routingKey?: string): Db {
    const ctx = this.context.getStore()
    if (ctx?.ticket != null) return this.db(ctx.ticket.side)
    if (ctx?.write === true) return this.db(this.state.primarySide())
    const side = this.#readSide(routingKey)
    const db = this.db(side)
    // only reads of read requests are shadowed: outside a request nobody asked for the data
    if (ctx !== undefined && this.state.shadowSampled()) return new ShadowingDb(db, this.db(side === 'source' ? 'target' : 'source'), this.shadow)
    return db
  }

  /**
   * A read's side: by the percentage, unless this instance wrote the key within the window
   * (read-your-writes). Per instance: see recent-writes.ts for what that leaves uncovered.
   */
  #readSide(routingKey: string | undefined): WriteSide {
    const written = routingKey === undefined ? null : this.recentWrites.sideOf(routingKey)
    if (written === null) return this.state.readSide(routingKey)
    // The side that took the write, which is the primary side unless writes flipped since: then
    // the new primary, which holds every write of the old one (payctl drains replication into it
    // before it opens writes there) and is the only side still served.
    const primary = this.state.primarySide()
    const side = written === primary ? written : primary
    if (side !== this.state.readSide(routingKey)) this.recentWrites.countRouted()
    return side
  }

  readFallback(db: Db): Db | null {
    // a write request reads on its own side already
    if (this.context.getStore()?.write === true) return null
    const primary = this.state.primarySide()
    return db.side === primary ? null : this.db(primary)
  }

  sides(): Db[] {
    return [this.source, this.target]
  }

  serving(): Db[] {
    return this.state.servingSides().map((side) => this.db(side))
  }

  async close(): Promise<void> {
    this.shadow.close()
    await Promise.all([this.source.close(), this.target.close()])
  }
}
