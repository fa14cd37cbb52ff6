/**
 * PaymentIntents: create, confirm, authenticate (3DS), capture, cancel, read and list.
 *
 * A confirm is three steps so that no row lock is held while the processor is called (a real one
 * answers in seconds, or not at all): (1) one transaction locks the intent, checks the state
 * machine, records a `started` attempt and moves the intent to `processing` (which refuses a second
 * confirm or a cancel meanwhile); (2) the processor is called with no transaction open; (3) one
 * transaction records its answer on the attempt and the intent, and for a captured payment writes
 * the ledger transaction, all with the outbox event of the change. A crash between (1) and (3)
 * leaves the intent in `processing`, which is where a reconciliation job would pick it up.
 */
import type {PaymentIntentRow, PaymentMethodRow} from '../../../src/engines/payments-sql.js'
import type {Queries} from '../data/store.js'
import {ApiError, notFound, unexpectedState} from '../domain/errors.js'
import {newId} from '../domain/ids.js'
import {ACCOUNTS, ledgerTxn} from '../domain/ledger.js'
import {currencyOf, decimalToUnits, minorToDecimal, minorToUnits, processingFee, unitsToDecimal} from '../domain/money.js'
import {type AuthorizeResult, CONNECTOR} from '../domain/processor.js'
import {assertTransition, type IntentStatus} from '../domain/state-machine.js'
import type {IdempotencyHold, Services} from './context.js'
import {bindKey, outbox, saveResponse} from './context.js'
import {intentObject} from './serialize.js'

export interface CreateIntentBody {
  amount: number
  currency: string
  customer: string
  payment_method?: string
  capture_method?: 'automatic' | 'manual'
  confirm?: boolean
  description?: string
  metadata?: Record<string, string>
}

/** The result of a confirm-like call: the intent, and the card error to answer with when the attempt failed. */
export interface IntentOutcome {
  intent: Record<string, unknown>
  error: ApiError | null
}

const MAX_ATTEMPTS = 255 // payment_attempts.attempt_no is TINYINT UNSIGNED

async function methodFor(q: Queries, intent: PaymentIntentRow, publicId: string): Promise<PaymentMethodRow> {
  const pm = await q.paymentMethod(publicId)
  if (pm === null) throw notFound('payment_method', publicId, 'payment_method')
  if (pm.customer_id !== intent.customer_id) {
    throw new ApiError(400, 'invalid_request_error', 'payment_method_customer_mismatch', `The PaymentMethod ${publicId} belongs to another customer.`, 'payment_method')
  }
  if (pm.type !== 'card' || pm.status !== 'active') {
    throw new ApiError(400, 'invalid_request_error', 'payment_method_unusable', `The PaymentMethod ${publicId} cannot be charged (type ${pm.type}, status ${pm.status}).`, 'payment_method')
  }
  return pm
}

function state(i: PaymentIntentRow, now: Date, change: Partial<{status: IntentStatus; paymentMethodId: string | null; amountCapturable: string; amountReceived: string; attemptCount: number; cancellationReason: string | null; lastErrorCode: string | null; succeededAt: Date | null; canceledAt: Date | null}>) {
  return {
    id: i.id,
    expectedVersion: i.version,
    status: change.status ?? i.status,
    paymentMethodId: change.paymentMethodId === undefined ? i.payment_method_id : change.paymentMethodId,
    amountCapturable: change.amountCapturable ?? i.amount_capturable,
    amountReceived: change.amountReceived ?? i.amount_received,
    attemptCount: change.attemptCount ?? i.attempt_count,
    cancellationReason: change.cancellationReason === undefined ? i.cancellation_reason : change.cancellationReason,
    lastErrorCode: change.lastErrorCode === undefined ? i.last_error_code : change.lastErrorCode,
    succeededAt: change.succeededAt === undefined ? i.succeeded_at : change.succeededAt,
    canceledAt: change.canceledAt === undefined ? i.canceled_at : change.canceledAt,
    now,
  }
}

/** Writes the intent or fails: the row is locked, so a version mismatch means a bug, not a race. */
async function update(q: Queries, i: PaymentIntentRow, now: Date, change: Parameters<typeof state>[2]): Promise<void> {
  if (!(await q.updateIntent(state(i, now, change)))) throw new ApiError(409, 'invalid_request_error', 'lock_timeout', `The PaymentIntent ${i.public_id} was changed concurrently; retry the request.`)
}

async function locked(q: Queries, id: string): Promise<PaymentIntentRow> {
  const row = await q.intentForUpdate(id)
  if (row === null) throw notFound('payment_intent', id)
  return row
}

function event(i: PaymentIntentRow, status: string): Record<string, unknown> {
  return {object: 'payment_intent', id: i.public_id, status, amount: i.amount, currency: i.currency, customer: i.customer_public_id}
}

export async function getIntent(s: Services, id: string): Promise<Record<string, unknown>> {
  const q = s.store.reader(id)
  const row = await q.intent(id)
  if (row === null) throw notFound('payment_intent', id)
  return intentObject(row, await q.attempts(row.id))
}

export async function listIntents(s: Services, customerId: string, limit: number, startingAfter: string | undefined): Promise<Record<string, unknown>> {
  const q = s.store.reader(customerId)
  const customer = await q.customer(customerId)
  if (customer === null) throw notFound('customer', customerId, 'customer')
  let after: {createdAt: Date; id: string} | null = null
  if (startingAfter !== undefined) {
    const cursor = await q.intent(startingAfter)
    if (cursor === null || cursor.customer_id !== customer.id) throw notFound('payment_intent', startingAfter, 'starting_after')
    after = {createdAt: cursor.created_at, id: cursor.id}
  }
  const rows = await q.intents(customer.id, after, limit + 1)
  return {object: 'list', data: rows.slice(0, limit).map((r) => intentObject(r)), has_more: rows.length > limit}
}

export async function createIntent(s: Services, body: CreateIntentBody, idem?: IdempotencyHold): Promise<IntentOutcome> {
  const resumed = idem?.resumed
  if (resumed?.object === 'payment_intent') {
    // an earlier run of this request created the intent and died before answering: resume it
    const row = await s.store.writer().intent(resumed.id)
    if (row === null) throw notFound('payment_intent', resumed.id)
    if (body.confirm === true && resumed.step === 'created' && row.status === 'requires_confirmation' && row.attempt_count === 0) return confirmIntent(s, resumed.id, {}, idem)
    return {intent: await getIntentOnWriter(s, resumed.id), error: null}
  }
  const now = s.clock()
  const currency = currencyOf(body.currency)
  const publicId = newId('pi')
  const created = await s.store.tx(async (q) => {
    const customer = await q.customer(body.customer)
    if (customer === null) throw notFound('customer', body.customer, 'customer')
    let pmId: string | null = null
    if (body.payment_method !== undefined) {
      const pm = await q.paymentMethod(body.payment_method)
      if (pm === null) throw notFound('payment_method', body.payment_method, 'payment_method')
      if (pm.customer_id !== customer.id) throw new ApiError(400, 'invalid_request_error', 'payment_method_customer_mismatch', `The PaymentMethod ${body.payment_method} belongs to another customer.`, 'payment_method')
      pmId = pm.id
    }
    const status: IntentStatus = pmId === null ? 'requires_payment_method' : 'requires_confirmation'
    await q.insertIntent({
      publicId,
      customerId: customer.id,
      paymentMethodId: pmId,
      amount: minorToDecimal(body.amount, currency),
      currency,
      status,
      captureMethod: body.capture_method ?? 'automatic',
      description: body.description ?? null,
      metadata: body.metadata === undefined ? null : JSON.stringify(body.metadata),
      now,
    })
    await outbox(q, 'payment_intent', publicId, 'payment_intent.created', {object: 'payment_intent', id: publicId, status, amount: minorToDecimal(body.amount, currency), currency, customer: body.customer}, now)
    if (body.confirm === true) {
      await bindKey(q, idem, {object: 'payment_intent', id: publicId, step: 'created'}, publicId)
      return null
    }
    const intent = await intentIn(q, publicId)
    await saveResponse(q, idem, 200, intent, publicId)
    return intent
  })
  if (created === null) return confirmIntent(s, publicId, {}, idem)
  return {intent: created, error: null}
}

/** The intent as the API shows it, read in the given transaction (or on the writer). */
async function intentIn(q: Queries, id: string): Promise<Record<string, unknown>> {
  const row = await q.intent(id)
  if (row === null) throw notFound('payment_intent', id)
  return intentObject(row, await q.attempts(row.id))
}

async function getIntentOnWriter(s: Services, id: string): Promise<Record<string, unknown>> {
  const q = s.store.writer()
  const row = await q.intent(id)
  if (row === null) throw notFound('payment_intent', id)
  return intentObject(row, await q.attempts(row.id))
}

export async function confirmIntent(s: Services, id: string, body: {payment_method?: string}, idem?: IdempotencyHold): Promise<IntentOutcome> {
  // an earlier run of this request started an attempt and died: answer with the intent as it is now
  // (a `processing` intent is settled by reconciliation), never a second attempt
  if (idem?.resumed?.step === 'confirming') return {intent: await getIntentOnWriter(s, id), error: null}
  const now = s.clock()
  // (1) start the attempt
  const started = await s.store.tx(async (q) => {
    const intent = await locked(q, id)
    let status = intent.status
    const pm = body.payment_method !== undefined ? await methodFor(q, intent, body.payment_method) : intent.payment_method_id === null ? null : await q.paymentMethodById(intent.payment_method_id)
    if (status === 'requires_payment_method') {
      if (pm === null) throw new ApiError(400, 'invalid_request_error', 'parameter_missing', 'You cannot confirm this PaymentIntent because it has no payment method; pass payment_method.', 'payment_method')
      assertTransition(id, status, 'requires_confirmation', 'confirm')
      status = 'requires_confirmation'
    }
    assertTransition(id, status, 'processing', 'confirm')
    if (pm === null) throw new ApiError(400, 'invalid_request_error', 'parameter_missing', 'You cannot confirm this PaymentIntent because it has no payment method; pass payment_method.', 'payment_method')
    if (intent.attempt_count >= MAX_ATTEMPTS) throw new ApiError(409, 'invalid_request_error', 'too_many_attempts', `The PaymentIntent ${id} has had ${MAX_ATTEMPTS} attempts; create a new one.`)
    const attemptNo = intent.attempt_count + 1
    await q.insertAttempt({intentId: intent.id, attemptNo, paymentMethodId: pm.id, connector: CONNECTOR, status: 'started', amount: intent.amount, currency: intent.currency, now})
    await update(q, intent, now, {status: 'processing', paymentMethodId: pm.id, attemptCount: attemptNo, lastErrorCode: null})
    await outbox(q, 'payment_intent', id, 'payment_intent.processing', event(intent, 'processing'), now)
    await bindKey(q, idem, {object: 'payment_intent', id, step: 'confirming'}, id)
    return {intent, pm, attemptNo}
  })
  // (2) the processor, with no transaction open; the reference names the attempt, so a processor deduplicates on it
  const card = {bin: started.pm.card_bin ?? '', last4: started.pm.card_last4 ?? '', fingerprint: started.pm.fingerprint ?? Buffer.alloc(0)}
  const result = await s.processor.authorize(card, decimalToUnits(started.intent.amount), started.intent.currency, `${id}:${started.attemptNo}`)
  // (3) record the answer
  return finishAttempt(s, id, started.attemptNo, result, false, idem)
}

export async function authenticateIntent(s: Services, id: string, success: boolean, idem?: IdempotencyHold): Promise<IntentOutcome> {
  if (idem?.resumed?.step === 'confirming') return {intent: await getIntentOnWriter(s, id), error: null}
  const now = s.clock()
  const resumed = await s.store.tx(async (q) => {
    const intent = await locked(q, id)
    // only an attempt waiting for 3DS can be authenticated (requires_confirmation -> processing is a confirm)
    if (intent.status !== 'requires_action') throw unexpectedState(id, intent.status, 'authenticate')
    assertTransition(id, intent.status, 'processing', 'authenticate')
    const attempt = (await q.attempts(intent.id)).find((a) => a.attempt_no === intent.attempt_count)
    const pm = attempt === undefined ? null : await q.paymentMethodById(attempt.payment_method_id)
    if (attempt === undefined || pm === null) throw new Error(`PaymentIntent ${id} is in requires_action without its attempt`)
    await update(q, intent, now, {status: 'processing'})
    await outbox(q, 'payment_intent', id, 'payment_intent.processing', event(intent, 'processing'), now)
    await bindKey(q, idem, {object: 'payment_intent', id, step: 'confirming'}, id)
    return {attemptNo: attempt.attempt_no, txn: attempt.connector_transaction_id ?? '', pm}
  })
  const card = {bin: resumed.pm.card_bin ?? '', last4: resumed.pm.card_last4 ?? '', fingerprint: resumed.pm.fingerprint ?? Buffer.alloc(0)}
  const result = await s.processor.completeAuthentication(card, resumed.txn, success)
  return finishAttempt(s, id, resumed.attemptNo, result, true, idem)
}

async function finishAttempt(s: Services, id: string, attemptNo: number, result: AuthorizeResult, threeDs: boolean, idem: IdempotencyHold | undefined): Promise<IntentOutcome> {
  const now = s.clock()
  return s.store.tx(async (q): Promise<IntentOutcome> => {
    const failure = await recordAttempt(q, id, attemptNo, result, threeDs, now)
    // the answer is read and saved in the transaction that records it
    const intent = await intentIn(q, id)
    if (failure === null) {
      await saveResponse(q, idem, 200, intent, id)
      return {intent, error: null}
    }
    const error = new ApiError(failure.status, failure.type, failure.code, failure.message, undefined, {...failure.extra, payment_intent: intent})
    await saveResponse(q, idem, error.status, error.toBody(), id)
    return {intent, error}
  })
}

async function recordAttempt(q: Queries, id: string, attemptNo: number, result: AuthorizeResult, threeDs: boolean, now: Date): Promise<ApiError | null> {
  const intent = await locked(q, id)
  if (intent.status !== 'processing' || intent.attempt_count !== attemptNo) throw unexpectedState(id, intent.status, 'complete an attempt on')
  const base = {intentId: intent.id, attemptNo, authenticationType: threeDs || result.outcome === 'action_required' ? 'three_ds' : 'no_three_ds', latencyMs: result.latencyMs, now}
  switch (result.outcome) {
    case 'approved': {
      const manual = intent.capture_method === 'manual'
      await q.updateAttempt({...base, status: manual ? 'authorized' : 'captured', responseCode: result.responseCode, declineCode: null, declineReason: null, connectorTransactionId: result.connectorTxnId, networkTransactionId: result.networkTxnId})
      if (manual) {
        assertTransition(id, intent.status, 'requires_capture', 'authorize')
        await update(q, intent, now, {status: 'requires_capture', amountCapturable: intent.amount})
        await outbox(q, 'payment_intent', id, 'payment_intent.amount_capturable_updated', event(intent, 'requires_capture'), now)
      } else {
        assertTransition(id, intent.status, 'succeeded', 'capture')
        await update(q, intent, now, {status: 'succeeded', amountReceived: intent.amount, succeededAt: now})
        await recordCapture(q, intent, decimalToUnits(intent.amount), now)
        await outbox(q, 'payment_intent', id, 'payment_intent.succeeded', event(intent, 'succeeded'), now)
      }
      return null
    }
    case 'action_required':
      await q.updateAttempt({...base, status: 'requires_action', responseCode: null, declineCode: null, declineReason: null, connectorTransactionId: result.connectorTxnId, networkTransactionId: null})
      assertTransition(id, intent.status, 'requires_action', 'authorize')
      await update(q, intent, now, {status: 'requires_action'})
      await outbox(q, 'payment_intent', id, 'payment_intent.requires_action', event(intent, 'requires_action'), now)
      return null
    case 'failed': {
      const code = result.declineCode ?? result.code
      await q.updateAttempt({...base, status: 'failed', responseCode: result.responseCode, declineCode: code, declineReason: result.message, connectorTransactionId: result.connectorTxnId, networkTransactionId: null})
      assertTransition(id, intent.status, 'requires_payment_method', 'fail')
      // Stripe detaches the failed method: a retry names a method again.
      await update(q, intent, now, {status: 'requires_payment_method', paymentMethodId: null, lastErrorCode: code})
      await outbox(q, 'payment_intent', id, 'payment_intent.payment_failed', {...event(intent, 'requires_payment_method'), code}, now)
      return new ApiError(402, 'card_error', result.code, result.message, undefined, result.declineCode === null ? {} : {decline_code: result.declineCode})
    }
  }
}

/** The capture's ledger transaction: the processor owes us the amount less its fee. */
async function recordCapture(q: Queries, intent: PaymentIntentRow, units: bigint, now: Date): Promise<void> {
  const fee = processingFee(units, currencyOf(intent.currency))
  await q.insertLedgerEntries(
    ledgerTxn('capture', intent.currency, [[ACCOUNTS.receivable(CONNECTOR), units - fee], [ACCOUNTS.fees, fee], [ACCOUNTS.sales, -units]], {paymentIntentId: intent.id}, now),
  )
}

export async function captureIntent(s: Services, id: string, body: {amount_to_capture?: number}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const now = s.clock()
  return s.store.tx(async (q) => {
    const intent = await locked(q, id)
    assertTransition(id, intent.status, 'succeeded', 'capture')
    const currency = currencyOf(intent.currency)
    const capturable = decimalToUnits(intent.amount_capturable)
    const units = body.amount_to_capture === undefined ? capturable : minorToUnits(body.amount_to_capture, currency)
    if (units > capturable) {
      throw new ApiError(400, 'invalid_request_error', 'amount_too_large', `amount_to_capture is greater than the amount capturable (${intent.amount_capturable} ${currency}).`, 'amount_to_capture')
    }
    const attempt = (await q.attempts(intent.id)).find((a) => a.attempt_no === intent.attempt_count)
    if (attempt === undefined) throw new Error(`PaymentIntent ${id} is capturable without an attempt`)
    await q.updateAttempt({
      intentId: intent.id, attemptNo: attempt.attempt_no, status: 'captured', authenticationType: attempt.authentication_type, responseCode: attempt.processor_response_code,
      declineCode: null, declineReason: null, connectorTransactionId: attempt.connector_transaction_id, networkTransactionId: attempt.network_transaction_id, latencyMs: attempt.latency_ms, now,
    })
    // A partial capture releases the rest of the authorization (amount_capturable goes to 0).
    await update(q, intent, now, {status: 'succeeded', amountReceived: unitsToDecimal(units), amountCapturable: '0', succeededAt: now})
    await recordCapture(q, intent, units, now)
    await outbox(q, 'payment_intent', id, 'payment_intent.succeeded', {...event(intent, 'succeeded'), amount_received: unitsToDecimal(units)}, now)
    const captured = await intentIn(q, id)
    await saveResponse(q, idem, 200, captured, id)
    return captured
  })
}

export async function cancelIntent(s: Services, id: string, body: {cancellation_reason?: string}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const now = s.clock()
  return s.store.tx(async (q) => {
    const intent = await locked(q, id)
    assertTransition(id, intent.status, 'canceled', 'cancel')
    if (intent.status === 'requires_capture') {
      const attempt = (await q.attempts(intent.id)).find((a) => a.attempt_no === intent.attempt_count)
      if (attempt !== undefined) {
        await q.updateAttempt({
          intentId: intent.id, attemptNo: attempt.attempt_no, status: 'voided', authenticationType: attempt.authentication_type, responseCode: attempt.processor_response_code,
          declineCode: null, declineReason: null, connectorTransactionId: attempt.connector_transaction_id, networkTransactionId: attempt.network_transaction_id, latencyMs: attempt.latency_ms, now,
        })
      }
    }
    await update(q, intent, now, {status: 'canceled', amountCapturable: '0', cancellationReason: body.cancellation_reason ?? null, canceledAt: now})
    await outbox(q, 'payment_intent', id, 'payment_intent.canceled', event(intent, 'canceled'), now)
    const canceled = await intentIn(q, id)
    await saveResponse(q, idem, 200, canceled, id)
    return canceled
  })
}
