/** Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document. */
import type {FastifyInstance} from 'fastify'
import type {Store} from '../../data/store.js'
import type {RuntimeMetrics} from '../metrics.js'

export const READY_TIMEOUT_MS = 1000

export interface Lifecycle {
  shuttingDown: boolean
}

async function withinDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work.then(() => true, () => false), deadline])
  } finally {
    clearTimeout(timer)
  }
}

export function opsRoutes(app: FastifyInstance, store: Store, metrics: RuntimeMetrics, lifecycle: Lifecycle, openapi: () => Record<string, unknown>): void {
  app.get('/healthz', (_req, reply) => reply.send({status: 'ok'}))

  app.get('/readyz', async (_req, reply) => {
    if (lifecycle.shuttingDown) return reply.code(503).send({status: 'shutting_down'})
    // the sides serving requests now: a target that is not provisioned yet does not make the service unready
    const sides = store.router.serving?.() ?? store.router.sides()
    const checks = await Promise.all(sides.map(async (db) => ({side: db.side, ok: await withinDeadline(db.query(store.sql.ping()), READY_TIMEOUT_MS)})))
    const ready = checks.every((c) => c.ok)
    return reply.code(ready ? 200 : 503).send({status: ready ? 'ready' : 'database_unreachable', checks})
  })

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))

  app.get('/openapi.json', (_req, reply) => reply.send(openapi()))
}
