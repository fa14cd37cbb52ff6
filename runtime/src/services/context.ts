/**
 * What every service needs, handed in by buildApp (tests swap the clock and the processor), and
 * the one way services write an outbox event (same transaction as the change it announces).
 */
import type {Queries, Store} from '../data/store.js'
import {ApiError} from '../domain/errors.js'
import type {Processor} from '../domain/processor.js'
import type {Vault} from '../domain/vault.js'

export interface Services {
  store: Store
  processor: Processor
  vault: Vault
  fingerprintKey: Buffer
  clock: () => Date
}

export async function outbox(q: Queries, aggregateType: string, aggregateId: string, eventType: string, data: Record<string, unknown>, now: Date): Promise<void> {
  await q.insertOutboxEvent({aggregateType, aggregateId, eventType, payload: JSON.stringify({type: eventType, ...data}), now})
}

/**
 * What a multi-step request bound to its Idempotency-Key before it could answer: the object it
 * created (and, for a card charge, the processor reference it charged under). A retry of a request
 * that died finds it here and resumes that object instead of making a second one.
 */
export interface BoundObject {
  object: 'payment_intent' | 'refund' | 'wallet_top_up'
  id: string
  /** payment_intent only: 'created' (not confirmed yet) or 'confirming' (an attempt was started). */
  step?: 'created' | 'confirming'
}

/** The Idempotency-Key a request holds (none when it came without one). */
export interface IdempotencyHold {
  scope: string
  key: string
  /** The key's locked_at as this request set it: the fencing token of every write to the key. */
  token: Date
  /** Set when this request took over the key of an earlier run that died after binding an object. */
  resumed: BoundObject | null
}

const lostKey = (): ApiError =>
  new ApiError(409, 'idempotency_error', 'idempotency_key_in_use', 'Another request took over this Idempotency-Key; retry later.')

/** Binds the created object to the key, in the transaction that creates it (throws, rolling back, when the key was taken over). */
export async function bindKey(q: Queries, idem: IdempotencyHold | undefined, bound: BoundObject, intentPublicId: string | null): Promise<void> {
  if (idem === undefined) return
  if (!(await q.bindIdempotencyKey(idem.scope, idem.key, idem.token, JSON.stringify({bound}), intentPublicId))) throw lostKey()
}

/**
 * Saves the response in the transaction of the work it answers, so that a crash after the commit
 * cannot leave work done without its saved response (throws, rolling back, when the key was taken over).
 */
export async function saveResponse(q: Queries, idem: IdempotencyHold | undefined, code: number, body: unknown, intentPublicId: string | null): Promise<void> {
  if (idem === undefined) return
  if (!(await q.saveIdempotencyResponse(idem.scope, idem.key, code, JSON.stringify(body), intentPublicId, idem.token))) throw lostKey()
}
