/**
 * Prometheus metrics (prom-client), one registry per app so several apps in one process (tests,
 * a bench) never share counters. Route labels are route templates (/v1/payment_intents/:id),
 * never raw URLs, so the label set stays bounded.
 */
import {Counter, Gauge, Histogram, Registry, collectDefaultMetrics} from 'prom-client'
import type {DbRouter} from '../data/router.js'
import type {Side} from '../data/db.js'

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

  constructor(defaults = false) {
    if (defaults) collectDefaultMetrics({register: this.registry})
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
