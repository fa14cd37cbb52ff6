/**
 * The instance's link to the control store: every RUNTIME_POLL_MS it reads the routing state,
 * hands it to RoutingState, and publishes a heartbeat with the version it has fully applied (see
 * routing-state.ts for what "applied" and "fenced" promise). One read at a time: the next one is
 * scheduled when the last one ends, so a slow control store is never queried by a pile of reads.
 *
 * Reading it fails in two ways that mean different things before the first successful read:
 * - the control database or table does not exist (ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE): nothing was
 *   ever provisioned, so no cutover can have happened: the state is INITIAL_ROUTING (writes on the
 *   source), and that counts as a successful read;
 * - anything else (server down, timeout, access denied): the state is unknown and the instance stays
 *   fenced until a read succeeds.
 * Once a version above 0 has been read, a missing table is a failure like any other (the store was
 * dropped or is being recreated; it is not a reason to write to the source again).
 */
import mysql from 'mysql2/promise'
import type {Logger} from 'pino'
import {INITIAL_ROUTING, type Query, RoutingStore, RUNTIME_POLL_MS, type RuntimeHeartbeatDetail} from '../../../src/control/routing-store.js'
import type {ConnectionOptions} from '../../../src/engines/engine.js'
import {sslOptions} from '../../../src/engines/mysql/mysql-engine.js'
import {type RoutingClock, type RoutingRead, type RoutingState, systemClock} from './routing-state.js'
import type {ShadowStats} from './shadow.js'

/** Connect and statement timeout towards the control store: well under the default lease (1 s). */
export const CONTROL_TIMEOUT_MS = 500

const MISSING_ERRNOS = new Set([1049, 1146]) // ER_BAD_DB_ERROR, ER_NO_SUCH_TABLE

function isMissing(error: unknown): boolean {
  const e = error as {errno?: unknown} | null
  return typeof e?.errno === 'number' && MISSING_ERRNOS.has(e.errno)
}

/** What a failure is called in logs: the driver's code, never its message (it may quote SQL). */
function failureKind(error: unknown): string {
  const e = error as {code?: unknown; errno?: unknown} | null
  if (typeof e?.code === 'string') return e.code
  if (typeof e?.errno === 'number') return `errno ${e.errno}`
  return error instanceof Error ? error.name : 'unknown'
}

export interface ControlStoreClient {
  query: Query
  close(): Promise<void>
}

/**
 * A small pool to the control store's server: two connections, short timeouts, no default
 * database (RoutingStore names its tables in full, and the database may not exist yet).
 */
export function controlStoreClient(o: ConnectionOptions, timeoutMs = CONTROL_TIMEOUT_MS): ControlStoreClient {
  const ssl = sslOptions(o)
  const pool = mysql.createPool({
    ...(o.socketPath === undefined ? {host: o.host, port: o.port} : {socketPath: o.socketPath}),
    user: o.user,
    ...(o.password === null ? {} : {password: o.password.reveal()}),
    ...(ssl === undefined ? {} : {ssl}),
    connectTimeout: timeoutMs,
    connectionLimit: 2,
    waitForConnections: true,
    // a read that cannot get a connection soon is as good as failed: the next tick tries again
    queueLimit: 2,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
  })
  // an idle connection the server closed must not become an unhandled 'error'
  pool.on('connection', (conn) => conn.on('error', () => undefined))
  return {
    query: async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
      let timer: NodeJS.Timeout | undefined
      // mysql2's own timeout covers the statement; this one also covers waiting for a connection
      const deadline = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('control store did not answer in time'), {code: 'PAYCTL_CONTROL_TIMEOUT'})), timeoutMs * 2)
      })
      try {
        const [rows] = await Promise.race([pool.query({sql, timeout: timeoutMs}, params as unknown[]), deadline])
        return rows as unknown as T[]
      } finally {
        clearTimeout(timer)
      }
    },
    close: () => pool.end(),
  }
}

export interface RoutingPollerOptions {
  query: Query
  /** The control store database (payctl.yaml controlStore.database). */
  database: string
  state: RoutingState
  instanceId: string
  host: string
  pid: number
  logger: Logger
  /** Where this instance listens (null until it does) and its shadow-read counters, for the heartbeat. */
  detail: () => {url: string | null; shadow: ShadowStats}
  pollMs?: number
  clock?: RoutingClock
}

export class RoutingPoller {
  readonly #o: RoutingPollerOptions
  readonly #store: RoutingStore
  readonly #clock: RoutingClock
  readonly #pollMs: number
  #cancel: () => void = () => undefined
  #running: Promise<void> | null = null
  #again = false
  #stopped = false
  #problem: string | null = null
  #heartbeatProblem: string | null = null
  #wasFenced = true
  #loggedVersion: number | null = null

  constructor(options: RoutingPollerOptions) {
    this.#o = options
    this.#store = new RoutingStore(options.database)
    this.#clock = options.clock ?? systemClock
    this.#pollMs = options.pollMs ?? RUNTIME_POLL_MS
    // a drained pause is acknowledged at once, not at the next tick
    options.state.onApplied(() => this.kick())
  }

  /** Reads once (the instance knows whether it may write before it listens), then every pollMs. */
  async start(): Promise<void> {
    await this.#loop()
  }

  /** Runs a tick now (or right after the one running). */
  kick(): void {
    if (this.#stopped) return
    if (this.#running !== null) {
      this.#again = true
      return
    }
    this.#cancel()
    void this.#loop()
  }

  /** Stops polling and leaves the instance list, so payctl does not wait for this instance. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#cancel()
    await this.#running
    try {
      await this.#store.leave(this.#o.query, this.#o.instanceId)
    } catch (error) {
      this.#o.logger.warn({reason: failureKind(error)}, 'could not remove this instance from the control store; payctl will drop it once its heartbeat is older than the lease')
    }
  }

  /**
   * One read of the routing state and, when it succeeded, one heartbeat; never two at once: called
   * while one runs, it runs again after it.
   */
  tick(): Promise<void> {
    if (this.#running !== null) {
      this.#again = true
      return this.#running
    }
    const running = (async () => {
      do {
        this.#again = false
        try {
          await this.#tick()
        } catch (error) {
          // #tick handles the control store's errors; anything else is a bug, and polling must go on
          this.#o.logger.error({err: error}, 'routing poll failed')
        }
      } while (this.#again && !this.#stopped)
    })()
    this.#running = running.finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #tick(): Promise<void> {
    const {state, logger} = this.#o
    const sentAt = this.#clock.now()
    let ok = false
    let tableExists = true
    try {
      ok = this.#accept(await this.#store.poll(this.#o.query), sentAt)
    } catch (error) {
      if (isMissing(error) && (state.version ?? 0) === 0) {
        tableExists = false
        ok = this.#accept({version: 0, desired: INITIAL_ROUTING}, sentAt)
        this.#setProblem(null)
      } else {
        this.#setProblem(failureKind(error))
      }
    }
    this.#logFence()
    if (!ok || !tableExists || this.#stopped) return
    const applied = state.appliedVersion
    const detail = this.heartbeatDetail()
    state.requireHeartbeats()
    const heartbeatSentAt = this.#clock.now()
    try {
      await this.#store.heartbeat(this.#o.query, this.#o.instanceId, this.#o.host, this.#o.pid, applied, detail)
      state.heartbeatSucceeded(heartbeatSentAt)
      // the version applied during this tick is published: no extra tick for it
      if (state.appliedVersion === applied) this.#again = false
      if (this.#heartbeatProblem !== null) logger.info('heartbeat published again')
      this.#heartbeatProblem = null
    } catch (error) {
      const kind = failureKind(error)
      if (this.#heartbeatProblem !== kind) logger.warn({reason: kind}, 'could not publish the heartbeat')
      this.#heartbeatProblem = kind
    }
  }

  heartbeatDetail(): RuntimeHeartbeatDetail {
    const s = this.#o.state.snapshot()
    const {url, shadow} = this.#o.detail()
    return {
      url,
      writes: s.writes,
      readsTargetPercent: s.desired.readsTargetPercent,
      shadowPercent: s.desired.shadowPercent,
      inFlightWrites: s.inFlightWrites,
      heldWrites: s.heldWrites,
      fenced: s.fenced,
      lastReadAgeMs: Math.round(s.lastReadAgeMs ?? -1),
      shadow,
    }
  }

  #accept(read: RoutingRead, sentAt: number): boolean {
    const {state, logger} = this.#o
    if (!state.observe(read, sentAt)) {
      this.#setProblem(`routing version went back from ${state.version} to ${read.version}`)
      return false
    }
    this.#setProblem(null)
    if (read.version !== this.#loggedVersion) {
      this.#loggedVersion = read.version
      const d = read.desired
      logger.info({version: read.version, writes: d.writes, readsTargetPercent: d.readsTargetPercent, shadowPercent: d.shadowPercent, step: d.step ?? null, appliedVersion: state.appliedVersion}, 'routing state read')
    }
    return true
  }

  #setProblem(problem: string | null): void {
    if (problem === this.#problem) return
    const {logger, state} = this.#o
    if (problem === null) logger.info('routing state readable')
    else if (state.version === null) logger.warn({reason: problem}, 'cannot read the routing state: no writes until it has been read once')
    else logger.warn({reason: problem, leaseMs: state.desired.leaseMs}, 'cannot read the routing state: writes stop once the lease has passed')
    this.#problem = problem
  }

  #logFence(): void {
    const fenced = this.#o.state.fenced
    if (fenced === this.#wasFenced) return
    this.#wasFenced = fenced
    if (fenced) this.#o.logger.warn({leaseMs: this.#o.state.desired.leaseMs}, 'fenced: no writes until the routing state is read again')
    else this.#o.logger.info({version: this.#o.state.version}, 'writes allowed by the routing state')
  }

  async #loop(): Promise<void> {
    await this.tick()
    if (!this.#stopped) this.#cancel = this.#clock.after(this.#pollMs, () => void this.#loop())
  }
}
