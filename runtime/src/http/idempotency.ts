/**
 * The Idempotency-Key protocol around every POST under /v1 (see ../domain/idempotency.ts for the
 * semantics). The key's row is inserted first, in its own autocommit statement, so a concurrent
 * duplicate fails on the primary key at once instead of waiting on the work's transaction.
 *
 * The response is saved in the transaction of the work it answers (services/context.ts
 * saveResponse), so work and saved response commit together: a crash after the commit cannot make
 * a retry run the work again. A multi-step request (create-and-confirm, refund, wallet top-up)
 * first binds the object it created to the key in that object's transaction; a retry that takes
 * over the key of a run that died finds the binding and resumes that object. Every write to the
 * key is fenced by the holder's locked_at, so a run whose key was taken over cannot commit. What
 * the services did not save themselves (errors, reads) is saved here when it is sent (onSend).
 */
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import {DuplicateKeyError} from '../data/db.js'
import type {Store} from '../data/store.js'
import {ApiError} from '../domain/errors.js'
import {KEY_TTL_MS, LOCK_TIMEOUT_MS, MAX_KEY_LENGTH, requestHash} from '../domain/idempotency.js'
import {sendError} from './errors.js'
import type {RuntimeMetrics} from './metrics.js'
import type {BoundObject, IdempotencyHold} from '../services/context.js'

const held = new WeakMap<FastifyRequest, IdempotencyHold>()

/** The key this request holds, for the services to bind to and save in their transactions. */
export function idempotencyOf(req: FastifyRequest): IdempotencyHold | undefined {
  return held.get(req)
}

/** The object an earlier run bound to the key (a JSON marker in response_body while no response is saved). */
function boundIn(body: unknown): BoundObject | null {
  if (body === null || body === undefined) return null
  let value: unknown = body
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body) as unknown
    } catch {
      return null
    }
  }
  const bound = (value as {bound?: BoundObject} | null)?.bound
  return bound !== undefined && typeof bound.id === 'string' && typeof bound.object === 'string' ? bound : null
}

/** The customer a request acts for (its scope), else 'global'. Public ids fit the 64-character column. */
function scopeOf(req: FastifyRequest): string {
  const body = req.body as {customer?: unknown} | undefined
  if (body !== undefined && body !== null && typeof body.customer === 'string') return body.customer
  const params = req.params as {id?: unknown} | undefined
  if (req.routeOptions.url?.startsWith('/v1/customers/:id') === true && typeof params?.id === 'string') return params.id
  return 'global'
}

type Begin = {kind: 'acquired'; token: Date; resumed: BoundObject | null} | {kind: 'replay'; code: number; body: string}

async function begin(store: Store, scope: string, key: string, method: string, path: string, hash: Buffer, now: Date): Promise<Begin> {
  const w = store.writer()
  for (let round = 0; round < 3; round++) {
    try {
      await w.insertIdempotencyKey({scope, key, method, path, hash, now, expiresAt: new Date(now.getTime() + KEY_TTL_MS)})
      return {kind: 'acquired', token: now, resumed: null}
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error
    }
    const row = await w.idempotencyKey(scope, key)
    if (row === null) continue // deleted (expired) between the insert and the read: insert again
    if (row.expires_at.getTime() <= now.getTime()) {
      // older than its 24 hours: the key is free again (Stripe prunes such keys)
      await w.deleteExpiredIdempotencyKey(scope, key, now)
      continue
    }
    if (!Buffer.from(row.request_hash).equals(hash)) {
      throw new ApiError(422, 'idempotency_error', 'idempotency_key_mismatch', 'Keys for idempotent requests can only be used with the same parameters they were first used with.')
    }
    if (row.response_code === null) {
      const stale = row.locked_at === null || row.locked_at.getTime() <= now.getTime() - LOCK_TIMEOUT_MS
      if (stale && (await w.takeOverIdempotencyKey(scope, key, new Date(now.getTime() - LOCK_TIMEOUT_MS), now))) {
        // read again after taking over: the dead run may have committed a binding since the first read
        const fresh = await w.idempotencyKey(scope, key)
        return {kind: 'acquired', token: now, resumed: boundIn(fresh?.response_body)}
      }
      throw new ApiError(409, 'idempotency_error', 'idempotency_key_in_use', 'There is currently another in-progress request using this Idempotency-Key; retry later.')
    }
    const body = typeof row.response_body === 'string' ? row.response_body : JSON.stringify(row.response_body)
    return {kind: 'replay', code: row.response_code, body}
  }
  throw new ApiError(409, 'idempotency_error', 'idempotency_key_in_use', 'The Idempotency-Key is being reused concurrently; retry later.')
}

function intentIdIn(payload: string): string | null {
  const m = /"(?:id|payment_intent)":"(pi_[A-Za-z0-9]+)"/.exec(payload)
  return m?.[1] ?? null
}

export function installIdempotency(app: FastifyInstance, store: Store, metrics: RuntimeMetrics, fingerprintKey: Buffer, clock: () => Date): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.method !== 'POST' || req.routeOptions.url?.startsWith('/v1/') !== true) return
    const header = req.headers['idempotency-key']
    if (header === undefined) return
    if (typeof header !== 'string' || header.length === 0 || header.length > MAX_KEY_LENGTH) {
      return sendError(req, reply, metrics, new ApiError(400, 'idempotency_error', 'idempotency_key_invalid', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters, sent once.`))
    }
    const scope = scopeOf(req)
    const path = req.url.split('?')[0] ?? req.url
    const hash = requestHash(req.method, path, req.body, fingerprintKey)
    let outcome: Begin
    try {
      outcome = await begin(store, scope, header, req.method, path, hash, clock())
    } catch (error) {
      if (error instanceof ApiError) return sendError(req, reply, metrics, error)
      throw error
    }
    if (outcome.kind === 'replay') return reply.code(outcome.code).header('Idempotent-Replayed', 'true').type('application/json').send(outcome.body)
    held.set(req, {scope, key: header, token: outcome.token, resumed: outcome.resumed})
  })

  app.addHook('onSend', async (req, reply, payload) => {
    const h = held.get(req)
    if (h === undefined) return payload
    held.delete(req)
    const text = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : JSON.stringify(payload ?? null)
    try {
      // A 400 is a request the client must fix: like Stripe, it is not saved, and the key is free again.
      if (reply.statusCode === 400 && h.resumed === null) await store.writer().deleteIdempotencyKey(h.scope, h.key)
      // a no-op when the service saved the response in its transaction (or lost the key)
      else await store.writer().saveIdempotencyResponse(h.scope, h.key, reply.statusCode, text, intentIdIn(text), h.token)
    } catch (error) {
      // the key stays locked and expires after LOCK_TIMEOUT_MS: a retry then runs again
      req.log.error({err: error}, 'could not save the idempotent response')
    }
    return payload
  })
}
