/**
 * What one instance applies of the routing state (src/control/routing-store.ts): where writes go,
 * where reads go, whether writes are held at the gate, and whether the instance has fenced itself.
 * Pure: no database and no HTTP; the poller (routing.ts) feeds it what it reads, the router and the
 * request hooks ask it. Time comes from an injected monotonic clock.
 *
 * The write flip relies on three promises made here:
 *
 * 1. A write request's side is fixed when it is admitted, and every statement it runs is checked
 *    first (`check`): it never writes to a side the newest state it has read does not accept, and
 *    never once the instance is fenced.
 * 2. A version is acknowledged as applied only when no write admitted under an earlier version is
 *    still running on a side that version does not accept. For `writes: paused` that means no write
 *    in flight at all, which is what payctl waits for before it flips: once every live instance has
 *    acknowledged the pause, the old side receives no more writes from anyone.
 * 3. An instance that has read the state once and then cannot read it for longer than the lease
 *    (measured from when its last successful read was *sent*, so a read that was slow to answer is
 *    not given credit for time it did not see) takes no writes. payctl waits lease + grace before it
 *    counts a silent instance as gone, so a partitioned instance has stopped writing before the
 *    flip can happen without it. Before its first successful read an instance does not know the
 *    state and takes no writes either: a restart during a partition must not write to the old side.
 *    The fence is computed from the clock on every question, not by a timer, so a stalled event
 *    loop cannot delay it.
 */
import {INITIAL_ROUTING, readBucket, type RoutingDesired, type WriteMode, type WriteSide} from '../../../src/control/routing-store.js'
import {WritesUnavailableError} from '../domain/errors.js'

export interface RoutingClock {
  /** Monotonic milliseconds. */
  now(): number
  /** Runs fn once after ms; returns what cancels it. Must not keep the process alive. */
  after(ms: number, fn: () => void): () => void
}

export const systemClock: RoutingClock = {
  now: () => performance.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return () => clearTimeout(timer)
  },
}

/** A write request admitted at the gate: the side all its statements go to. */
export interface WriteTicket {
  readonly side: WriteSide
  /** The routing version it was admitted under. */
  readonly version: number
  /** Time spent held at the gate (0 when admitted at once). */
  readonly waitedMs: number
  readonly held: boolean
  /** Set when the request ended; a later statement is a bug and is refused. */
  released: boolean
}

export type AppliedMode = WriteMode | 'fenced'

export interface RoutingSnapshot {
  /** Newest version read, null before the first successful read. */
  version: number | null
  /** Version fully applied (what the heartbeat acknowledges), null before the first one. */
  appliedVersion: number | null
  desired: RoutingDesired
  writes: AppliedMode
  fenced: boolean
  inFlightWrites: number
  heldWrites: number
  /** Milliseconds since the last successful read was sent, null before the first. */
  lastReadAgeMs: number | null
}

interface Held {
  since: number
  resolve: (ticket: WriteTicket) => void
  reject: (error: Error) => void
  cancel: () => void
}

/** What a read of the routing state gave: a version and its desired state. */
export interface RoutingRead {
  version: number
  desired: RoutingDesired
}

export class RoutingState {
  readonly #clock: RoutingClock
  readonly #random: () => number
  #version: number | null = null
  #desired: RoutingDesired = INITIAL_ROUTING
  #applied: number | null = null
  #lastReadAt: number | null = null
  /** Null until heartbeats count (the control store's tables exist); then when the last successful one was sent. */
  #heartbeats: {lastAt: number | null} | null = null
  readonly #inFlight = new Set<WriteTicket>()
  #held: Held[] = []
  #onApplied: (version: number) => void = () => undefined

  constructor(options: {clock?: RoutingClock; random?: () => number} = {}) {
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? Math.random
  }

  /** Who is told when the applied version moves (the poller publishes it at once). */
  onApplied(fn: (version: number) => void): void {
    this.#onApplied = fn
  }

  get version(): number | null {
    return this.#version
  }

  get appliedVersion(): number | null {
    return this.#applied
  }

  get desired(): RoutingDesired {
    return this.#desired
  }

  /**
   * True before the first successful read, when the last one was sent more than leaseMs ago, and
   * (once the control store exists) when no heartbeat succeeded within leaseMs: payctl takes an
   * instance whose heartbeat is older than its lease plus a grace for gone, so an instance that can
   * read but not heartbeat must stop writing too, or payctl would flip without it while it writes.
   */
  get fenced(): boolean {
    if (this.#lastReadAt === null) return true
    const now = this.#clock.now()
    if (now - this.#lastReadAt > this.#desired.leaseMs) return true
    const hb = this.#heartbeats
    return hb !== null && (hb.lastAt === null || now - hb.lastAt > this.#desired.leaseMs)
  }

  /**
   * From now on a heartbeat must succeed within every lease (the control store's tables exist).
   * The first one gets a lease from now: the instance was not fenced a moment ago, and a write
   * statement between this call and that heartbeat's answer must not be refused for it.
   */
  requireHeartbeats(): void {
    this.#heartbeats ??= {lastAt: this.#clock.now()}
  }

  /** A heartbeat sent at `sentAt` (clock time) was written. */
  heartbeatSucceeded(sentAt: number): void {
    const hb = (this.#heartbeats ??= {lastAt: null})
    const wasFenced = this.fenced
    hb.lastAt = hb.lastAt === null ? sentAt : Math.max(hb.lastAt, sentAt)
    if (wasFenced && !this.fenced) this.#releaseHeld()
  }

  /**
   * A successful read, sent at `sentAt` (clock time). Returns false, changing nothing, when the
   * version went backwards: routing_state is append-only, so an older version means the control
   * store was recreated or restored, and that is not a state to act on.
   */
  observe(read: RoutingRead, sentAt: number): boolean {
    if (this.#version !== null && read.version < this.#version) return false
    this.#version = read.version
    this.#desired = read.desired
    this.#lastReadAt = this.#lastReadAt === null ? sentAt : Math.max(this.#lastReadAt, sentAt)
    this.#updateApplied()
    this.#releaseHeld()
    return true
  }

  /** The side a write admitted now would take, or null while writes are paused or the instance is fenced. */
  writableSide(): WriteSide | null {
    if (this.fenced) return null
    const w = this.#desired.writes
    return w === 'paused' ? null : w
  }

  mode(): AppliedMode {
    return this.fenced ? 'fenced' : this.#desired.writes
  }

  /**
   * Admits a write request: at once when writes are open, else it is held until they open (on the
   * side they open on) or until holdMs has passed, when it is refused with a 503.
   */
  admit(): Promise<WriteTicket> {
    const side = this.writableSide()
    if (side !== null) return Promise.resolve(this.#take(side, 0, false))
    return new Promise<WriteTicket>((resolve, reject) => {
      const held: Held = {since: this.#clock.now(), resolve, reject, cancel: () => undefined}
      held.cancel = this.#clock.after(this.#desired.holdMs, () => {
        this.#held = this.#held.filter((h) => h !== held)
        reject(this.unavailable())
      })
      this.#held.push(held)
    })
  }

  /** The request of this ticket ended (answered, failed or aborted). Idempotent. */
  finish(ticket: WriteTicket): void {
    if (ticket.released) return
    ticket.released = true
    this.#inFlight.delete(ticket)
    this.#updateApplied()
  }

  /** Throws unless the ticket's request may run a write statement now (called before every one). */
  check(ticket: WriteTicket): void {
    if (ticket.released) throw new Error('A write statement was issued after its request ended.')
    if (this.fenced) throw new WritesUnavailableError('fenced')
    const w = this.#desired.writes
    if (w !== 'paused' && w !== ticket.side) throw new WritesUnavailableError('moved')
  }

  /** Throws unless a write outside any request (no ticket) may go to `side` now. */
  checkSide(side: WriteSide): void {
    const open = this.writableSide()
    if (open === side) return
    throw this.unavailable()
  }

  /** The error for a write that cannot be admitted now. */
  unavailable(): WritesUnavailableError {
    return new WritesUnavailableError(this.fenced ? 'fenced' : this.#desired.writes === 'paused' ? 'paused' : 'moved')
  }

  /** The side that has the newest data: where writes go, or went before the pause. */
  primarySide(): WriteSide {
    const d = this.#desired
    return d.writes === 'paused' ? (d.pausedFrom ?? 'source') : d.writes
  }

  /**
   * The side for a read outside a write request. With writes on the target every read is there;
   * otherwise a key reads from the target when its bucket (0..99, the same for the same key on
   * every instance) is below readsTargetPercent, so one payment's reads stay on one side and
   * raising the percentage only moves keys source -> target. No key: a random draw.
   */
  readSide(routingKey?: string): WriteSide {
    if (this.primarySide() === 'target') return 'target'
    const pct = this.#desired.readsTargetPercent
    if (!(pct > 0)) return 'source'
    if (pct >= 100) return 'target'
    const bucket = routingKey === undefined ? Math.floor(this.#random() * 100) : readBucket(routingKey)
    return bucket < pct ? 'target' : 'source'
  }

  /** Whether this read is also run on the other side (a shadowPercent share). */
  shadowSampled(): boolean {
    const pct = this.#desired.shadowPercent
    return pct > 0 && this.#random() * 100 < pct
  }

  /** The sides requests are served from under the current state (readiness checks these). */
  servingSides(): WriteSide[] {
    if (this.primarySide() === 'target') return ['target']
    return this.#desired.readsTargetPercent > 0 ? ['source', 'target'] : ['source']
  }

  snapshot(): RoutingSnapshot {
    return {
      version: this.#version,
      appliedVersion: this.#applied,
      desired: this.#desired,
      writes: this.mode(),
      fenced: this.fenced,
      inFlightWrites: this.#inFlight.size,
      heldWrites: this.#held.length,
      lastReadAgeMs: this.#lastReadAt === null ? null : Math.max(0, this.#clock.now() - this.#lastReadAt),
    }
  }

  #take(side: WriteSide, waitedMs: number, held: boolean): WriteTicket {
    const ticket: WriteTicket = {side, version: this.#version ?? 0, waitedMs, held, released: false}
    this.#inFlight.add(ticket)
    return ticket
  }

  #releaseHeld(): void {
    const side = this.writableSide()
    if (side === null || this.#held.length === 0) return
    const now = this.#clock.now()
    const held = this.#held
    this.#held = []
    for (const h of held) {
      h.cancel()
      h.resolve(this.#take(side, now - h.since, true))
    }
  }

  #updateApplied(): void {
    const version = this.#version
    if (version === null || this.#applied === version) return
    const accepts = this.#desired.writes
    for (const t of this.#inFlight) if (t.side !== accepts) return
    this.#applied = version
    this.#onApplied(version)
  }
}
