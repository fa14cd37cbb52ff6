/**
 * The payment service as a Fastify instance, without listening: main.ts listens, tests use
 * inject() or port 0. Everything it touches is handed in (router, logger, key, clock, processor),
 * so a test controls time and the processor's answers.
 */
import Fastify, {type FastifyBaseLogger, type FastifyInstance} from 'fastify'
import type {Logger} from 'pino'
import {mysqlPaymentsSql} from '../../src/engines/mysql/mysql-payments-sql.js'
import type {PaymentsSql} from '../../src/engines/payments-sql.js'
import {type DbRouter, RoutedRouter} from './data/router.js'
import {Store} from './data/store.js'
import {type Processor, SimulatedProcessor} from './domain/processor.js'
import {MemoryVault, type Vault} from './domain/vault.js'
import {installErrorHandling, routeOf} from './http/errors.js'
import {installIdempotency} from './http/idempotency.js'
import {RuntimeMetrics} from './http/metrics.js'
import {installRouting} from './http/routing.js'
import {collectRoutes, openApiDocument} from './http/openapi.js'
import {customerRoutes} from './http/routes/customers.js'
import {moneyRoutes} from './http/routes/money.js'
import {type Lifecycle, opsRoutes} from './http/routes/ops.js'
import {paymentIntentRoutes} from './http/routes/payment-intents.js'
import type {Services} from './services/context.js'

export interface BuildAppOptions {
  /** A RoutedRouter also gets the write gate and the routing metrics. */
  router: DbRouter
  logger: Logger
  /** The HMAC key for card fingerprints and for hashing card data out of idempotency records. */
  fingerprintKey: Buffer
  clock?: () => Date
  processor?: Processor
  vault?: Vault
  sql?: PaymentsSql
  /** Process metrics (CPU, memory, event loop) in /metrics; off in tests. */
  defaultMetrics?: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set shuttingDown to turn /readyz to 503 before the server stops accepting. */
    lifecycle: Lifecycle
  }
}

export const MIN_FINGERPRINT_KEY_BYTES = 16

export function buildApp(options: BuildAppOptions): FastifyInstance {
  if (options.fingerprintKey.length < MIN_FINGERPRINT_KEY_BYTES) throw new RangeError(`The fingerprint key must be at least ${MIN_FINGERPRINT_KEY_BYTES} bytes.`)
  const clock = options.clock ?? (() => new Date())
  const store = new Store(options.router, options.sql ?? mysqlPaymentsSql)
  const metrics = new RuntimeMetrics(options.defaultMetrics ?? false)
  for (const db of options.router.sides()) db.setObserver(metrics.observeQuery)
  metrics.watchPools(options.router)
  const services: Services = {
    store,
    processor: options.processor ?? new SimulatedProcessor(options.fingerprintKey),
    vault: options.vault ?? new MemoryVault(),
    fingerprintKey: options.fingerprintKey,
    clock,
  }

  // widened on purpose: Fastify's instance type is generic in the logger, the routes take the default
  const loggerInstance: FastifyBaseLogger = options.logger
  const app: FastifyInstance = Fastify({
    loggerInstance,
    bodyLimit: 64 * 1024,
    // Types are never coerced: "1099" is not an amount. Query strings are declared as strings.
    ajv: {customOptions: {coerceTypes: false, allErrors: false}},
    return503OnClosing: true,
  })
  // Response schemas document; JSON.stringify serializes, so nothing is dropped by a schema gap.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))
  app.decorate('lifecycle', {shuttingDown: false})

  const timers = new WeakMap<object, bigint>()
  app.addHook('onRequest', (req, _reply, done) => {
    timers.set(req, process.hrtime.bigint())
    done()
  })
  app.addHook('onResponse', (req, reply, done) => {
    const route = routeOf(req)
    metrics.requests.inc({method: req.method, route, status: String(reply.statusCode)})
    const start = timers.get(req)
    if (start !== undefined) metrics.duration.observe({method: req.method, route}, Number(process.hrtime.bigint() - start) / 1e9)
    done()
  })

  installErrorHandling(app, metrics)
  installIdempotency(app, store, metrics, options.fingerprintKey, clock)
  // after the Idempotency-Key's hooks: a write ends in the last onSend hook, after the key's own write
  const router = options.router
  if (router instanceof RoutedRouter) {
    installRouting(app, router, metrics)
    metrics.watchRouting(router.state)
    router.recentWrites.setObserver(() => metrics.readYourWrites.inc())
    router.shadow.setObserver((result, example) => {
      metrics.observeShadow(result)
      // names the statement and the columns, never a value
      if (example !== null) app.log.warn({shadow: example}, 'shadow read differs between the sides')
    })
  }
  const routes = collectRoutes(app)
  customerRoutes(app, services)
  paymentIntentRoutes(app, services, metrics)
  moneyRoutes(app, services)
  let doc: Record<string, unknown> | undefined
  opsRoutes(app, store, metrics, app.lifecycle, () => (doc ??= openApiDocument(routes)))
  return app
}
