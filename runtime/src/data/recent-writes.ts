/**
 * Read-your-writes across requests: the routing keys (payment, customer, refund ids) that a write
 * request of this instance touched in the last few seconds, and the side that write went to. A
 * read of such a key goes to that side (router.ts), whatever readsTargetPercent says: replication
 * lags a few milliseconds, and a client that confirms a payment and shows it right after (a
 * checkout page) must not read the state from before its own write on the other side.
 *
 * PER INSTANCE ONLY: this memory is not shared. A client whose write went to one instance and
 * whose next read reaches another is not covered here; sticky load balancing (one client's
 * requests on one instance) covers that, and the shadow gate (reads move to the target only
 * once it answers like the source) keeps the window small.
 *
 * Bounded: at most maxKeys keys, the oldest dropped first; expired keys are dropped lazily (when
 * looked up, and from the oldest end when a write is remembered). The map is kept in write order
 * (a key written again moves to the end) with a monotonic clock, so both drops are cheap.
 */
import type {WriteSide} from '../../../src/control/routing-store.js'
import {type RoutingClock, systemClock} from './routing-state.js'

/** How long a written key reads from its write's side (PAYCTL_RUNTIME_RYW_MS overrides; 0 disables). */
export const READ_YOUR_WRITES_MS = 5_000
/** Keys remembered at most; past it the oldest are forgotten first. */
export const MAX_RECENT_WRITE_KEYS = 100_000

export interface RecentWritesStats {
  /** Keys held now (expired ones not dropped yet included). */
  keys: number
  /** Reads this rule sent to another side than the read percentage would have. */
  routedReads: number
}

interface Written {
  side: WriteSide
  /** Clock time of the write's answer. */
  at: number
}

export class RecentWrites {
  readonly windowMs: number
  readonly #maxKeys: number
  readonly #clock: Pick<RoutingClock, 'now'>
  readonly #keys = new Map<string, Written>()
  #routedReads = 0
  #observer: () => void = () => undefined

  constructor(options: {windowMs?: number; maxKeys?: number; clock?: Pick<RoutingClock, 'now'>} = {}) {
    const windowMs = options.windowMs ?? READ_YOUR_WRITES_MS
    if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`The read-your-writes window must be 0 or more milliseconds, got ${windowMs}.`)
    this.windowMs = windowMs
    this.#maxKeys = Math.max(1, Math.floor(options.maxKeys ?? MAX_RECENT_WRITE_KEYS))
    this.#clock = options.clock ?? systemClock
  }

  /** False with a window of 0: nothing is remembered. */
  get enabled(): boolean {
    return this.windowMs > 0
  }

  /** A write request that answered 2xx on `side` touched these keys. */
  remember(keys: Iterable<string>, side: WriteSide): void {
    if (!this.enabled) return
    const now = this.#clock.now()
    this.#dropExpired(now)
    for (const key of keys) {
      // deleted first so that the key moves to the end: the map stays in write order
      this.#keys.delete(key)
      this.#keys.set(key, {side, at: now})
    }
    for (const key of this.#keys.keys()) {
      if (this.#keys.size <= this.#maxKeys) break
      this.#keys.delete(key)
    }
  }

  /** The side a write of `key` went to within the window, else null. */
  sideOf(key: string): WriteSide | null {
    const written = this.#keys.get(key)
    if (written === undefined) return null
    if (this.#clock.now() - written.at >= this.windowMs) {
      this.#keys.delete(key)
      return null
    }
    return written.side
  }

  /** The router sent a read elsewhere than the percentage would have, by this rule. */
  countRouted(): void {
    this.#routedReads++
    this.#observer()
  }

  /** Who is told each read routed by this rule (the metrics); one observer at a time. */
  setObserver(fn: () => void): void {
    this.#observer = fn
  }

  stats(): RecentWritesStats {
    return {keys: this.#keys.size, routedReads: this.#routedReads}
  }

  #dropExpired(now: number): void {
    // oldest first: stop at the first key still within the window
    for (const [key, written] of this.#keys) {
      if (now - written.at < this.windowMs) break
      this.#keys.delete(key)
    }
  }
}
