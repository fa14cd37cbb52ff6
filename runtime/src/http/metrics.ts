/**
 * Prometheus metrics (prom-client), one registry per app so several apps in one process (tests,
 * a bench) never share counters. Route labels are route templates (/v1/payment_intents/:id),
 * never raw URLs, so the label set stays bounded.
 */
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'
import type {DbRouter} from '../data/router.js'
import type {Side} from '../data/db.js'
import type {AppliedMode, RoutingState} from '../data/routing-state.js'
import type {ShadowResult} from '../data/shadow.js'

const WRITE_MODES: readonly AppliedMode[] = ['source', 'target', 'paused', 'fenced']
const SHADOW_RESULTS: readonly ShadowResult[] = ['match', 'mismatch', 'error']

export class RuntimeMetrics {
  readonly registry = new Registry()
  readonly requests = new Counter({name: 'http_requests_total', help: 'HTTP requests by method, route template and status code.', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry]})
  readonly errors = new Counter({name: 'http_request_errors_total', help: 'HTTP error responses by route template and API error code.', labelNames: ['route', 'code'] as const, registers: [this.registry]})
  readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  })
  readonly dbDuration = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Database statement latency by side (source|target) and statement.',
    labelNames: ['side', 'op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  })

  // payctl's gates read these names (error rate, p99 per side, shadow mismatch rate): keep them
  readonly gateWait = new Histogram({
    name: 'payctl_write_gate_wait_seconds',
    help: 'Time write requests were held at the write gate (paused or fenced) before they were admitted or refused.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  })
  readonly gateRejected = new Counter({name: 'payctl_write_gate_rejected_total', help: 'Write requests refused with 503 after their hold at the write gate.', registers: [this.registry]})
  readonly readYourWrites = new Counter({
    name: 'payctl_read_your_writes_total',
    help: 'Reads sent to the side that took a write of their key by this instance within the read-your-writes window, where the read percentage would have picked the other side.',
    registers: [this.registry],
  })
  readonly shadowReads = new Counter({name: 'payctl_shadow_reads_total', help: 'Shadow reads by result (match, mismatch after a re-read, error).', labelNames: ['result'] as const, registers: [this.registry]})

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({register: this.registry})
    // every series exists from the start, so a rate over it is 0 rather than absent
    for (const result of SHADOW_RESULTS) this.shadowReads.inc({result}, 0)
  }

  observeShadow = (result: ShadowResult): void => {
    this.shadowReads.inc({result})
  }

  /** Routing gauges read at scrape time from the instance's routing state. */
  watchRouting(state: RoutingState): void {
    new Gauge({
      name: 'payctl_routing_version',
      help: 'The routing version this instance has fully applied (-1 before the first).',
      registers: [this.registry],
      collect() {
        this.set(state.appliedVersion ?? -1)
      },
    })
    new Gauge({
      name: 'payctl_writes_mode',
      help: 'Where this instance sends writes: 1 for the current mode (source, target, paused or fenced), 0 for the others.',
      labelNames: ['mode'] as const,
      registers: [this.registry],
      collect() {
        const mode = state.mode()
        for (const m of WRITE_MODES) this.set({mode: m}, m === mode ? 1 : 0)
      },
    })
    new Gauge({
      name: 'payctl_writes_in_flight',
      help: 'Write requests admitted and not finished.',
      registers: [this.registry],
      collect() {
        this.set(state.snapshot().inFlightWrites)
      },
    })
    new Gauge({
      name: 'payctl_write_gate_held',
      help: 'Write requests waiting at the write gate now.',
      registers: [this.registry],
      collect() {
        this.set(state.snapshot().heldWrites)
      },
    })
    new Gauge({
      name: 'payctl_routing_last_read_age_seconds',
      help: 'Seconds since this instance last read the routing state (-1 before the first read).',
      registers: [this.registry],
      collect() {
        const age = state.snapshot().lastReadAgeMs
        this.set(age === null ? -1 : age / 1000)
      },
    })
  }

  observeQuery = (side: Side, op: string, seconds: number): void => {
    this.dbDuration.observe({side, op}, seconds)
  }

  /** Pool gauges read at scrape time from the router's sides. */
  watchPools(router: DbRouter): void {
    new Gauge({
      name: 'db_pool_connections',
      help: 'Connections of each side\'s pool by state (total, idle, waiting requests).',
      labelNames: ['side', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset()
        for (const db of router.sides()) {
          const s = db.poolStats()
          this.set({side: db.side, state: 'total'}, s.total)
          this.set({side: db.side, state: 'idle'}, s.idle)
          this.set({side: db.side, state: 'in_use'}, s.total - s.idle)
          this.set({side: db.side, state: 'waiting'}, s.waiting)
        }
      },
    })
  }
}
