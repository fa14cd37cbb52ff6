/**
 * The request side of routing: every request runs in a RequestRouting context (AsyncLocalStorage)
 * that the RoutedRouter reads, and every write request (any method but GET and HEAD) passes the
 * write gate in onRequest, before its body is read: it is admitted on the side writes are open on,
 * or held while they are paused (or the instance is fenced) until they open or holdMs has passed,
 * when it is answered 503 with Retry-After and has done nothing.
 *
 * The request's write ends, for the pause's acknowledgement, in the last onSend hook: the handler
 * and the Idempotency-Key's own onSend write (registered before this one) are done by then, and
 * nothing after it touches a database. That also holds when the client went away mid-request (the
 * handler still runs to its end, then onSend), where onResponse may never come; onResponse only
 * backs it up.
 *
 * That same onSend hook remembers, for read-your-writes across requests (data/recent-writes.ts),
 * the routing keys a write request that answered 2xx (or 402, a card decline) touched, with its side: see writtenKeys. It
 * runs before the answer leaves, so the client cannot read before the keys are remembered. Per
 * instance only: a read that reaches another instance is not covered (sticky load balancing is).
 */
import {AsyncResource} from 'node:async_hooks'
import type {FastifyInstance, FastifyRequest} from 'fastify'
import type {RequestRouting, RoutedRouter} from '../data/router.js'
import {WritesUnavailableError} from '../domain/errors.js'
import {sendError} from './errors.js'
import type {RuntimeMetrics} from './metrics.js'

export function isWriteRequest(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD'
}

/**
 * Fields of a write's JSON answer (top level) that hold the routing key of a later read: the
 * services read with store.reader(key) by the object's own id (payment intent, customer, payment
 * method, refund) or by its customer (lists, wallet), and a refund's answer names its intent.
 */
const ANSWER_KEY_FIELDS = ['id', 'customer', 'payment_intent'] as const
/** Public ids fit 64 characters; anything longer is no key of ours. */
const MAX_KEY_LENGTH = 64

function jsonObject(payload: unknown): Record<string, unknown> | null {
  let text: string | null = null
  if (typeof payload === 'string') text = payload
  else if (Buffer.isBuffer(payload)) text = payload.toString('utf8')
  else if (payload !== null && typeof payload === 'object' && typeof (payload as {pipe?: unknown}).pipe !== 'function') return Array.isArray(payload) ? null : (payload as Record<string, unknown>)
  if (text === null || !text.startsWith('{')) return null
  try {
    const value = JSON.parse(text) as unknown
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * The routing keys a write request touched: the route's :id param (/v1/payment_intents/:id/...,
 * /v1/customers/:id/wallet/...) and the id, customer and payment_intent of its JSON answer.
 */
export function writtenKeys(params: unknown, payload: unknown): string[] {
  const keys = new Set<string>()
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_KEY_LENGTH) keys.add(value)
  }
  if (params !== null && typeof params === 'object') add((params as {id?: unknown}).id)
  const answer = jsonObject(payload)
  if (answer !== null) for (const field of ANSWER_KEY_FIELDS) add(answer[field])
  return [...keys]
}

export function installRouting(app: FastifyInstance, router: RoutedRouter, metrics: RuntimeMetrics): void {
  const contexts = new WeakMap<FastifyRequest, {routing: RequestRouting; scope: AsyncResource}>()

  const end = (req: FastifyRequest): void => {
    const ticket = contexts.get(req)?.routing.ticket
    if (ticket != null) router.state.finish(ticket)
  }

  app.addHook('onRequest', (req, reply, done) => {
    const routing: RequestRouting = {write: isWriteRequest(req.method), ticket: null}
    router.context.run(routing, () => {
      // Fastify's own body parsers keep the async context; one that reads the body through
      // another async resource would not, so preValidation re-enters it through this resource.
      const scope = new AsyncResource('payctl.request')
      contexts.set(req, {routing, scope})
      if (!routing.write) {
        done()
        return
      }
      const since = process.hrtime.bigint()
      const waited = (): number => Number(process.hrtime.bigint() - since) / 1e9
      router.state.admit().then(
        (ticket) => {
          routing.ticket = ticket
          if (ticket.held) metrics.gateWait.observe(waited())
          scope.runInAsyncScope(done)
        },
        (error: unknown) => {
          if (!(error instanceof WritesUnavailableError)) {
            scope.runInAsyncScope(done, undefined, error)
            return
          }
          metrics.gateWait.observe(waited())
          metrics.gateRejected.inc()
          scope.runInAsyncScope(() => sendError(req, reply, metrics, error))
        },
      )
    })
  })

  app.addHook('preValidation', (req, _reply, done) => {
    const c = contexts.get(req)
    if (c === undefined) done()
    else c.scope.runInAsyncScope(done)
  })

  app.addHook('onSend', (req, reply, payload, done) => {
    const ticket = contexts.get(req)?.routing.ticket
    end(req)
    // a write that succeeded, or a card decline (402: the failed attempt and the intent's new status
    // are written); a refused or failed one wrote nothing the client would read back
    if (ticket != null && ((reply.statusCode >= 200 && reply.statusCode < 300) || reply.statusCode === 402) && router.recentWrites.enabled) {
      router.recentWrites.remember(writtenKeys(req.params, payload), ticket.side)
    }
    done(null, payload)
  })

  app.addHook('onResponse', (req, _reply, done) => {
    end(req)
    done()
  })
}
