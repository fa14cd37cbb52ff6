/**
 * Refunds, partial or full, never more than was received. The check runs under the intent's row
 * lock (SELECT ... FOR UPDATE) and counts pending refunds as spent, so concurrent refunds of one
 * payment queue on the lock and each sees the ones before it: together they cannot exceed the
 * amount. The refund is recorded `pending` before the processor is called (no lock held during the
 * call) and settled, with its ledger transaction, afterwards.
 */
import type {Queries} from '../data/store.js'
import {ApiError, notFound, unexpectedState} from '../domain/errors.js'
import {newId} from '../domain/ids.js'
import {ACCOUNTS, ledgerTxn} from '../domain/ledger.js'
import {currencyOf, decimalToUnits, minorToUnits, unitsToDecimal} from '../domain/money.js'
import type {IdempotencyHold, Services} from './context.js'
import {bindKey, outbox, saveResponse} from './context.js'
import {refundObject} from './serialize.js'

export interface CreateRefundBody {
  payment_intent: string
  amount?: number
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer'
}

export async function createRefund(s: Services, body: CreateRefundBody, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  // an earlier run of this request recorded the refund and died before answering: settle that one
  if (idem?.resumed?.object === 'refund') return resumeRefund(s, idem.resumed.id, idem)
  const now = s.clock()
  const publicId = newId('re')
  const pending = await s.store.tx(async (q): Promise<PendingRefund> => {
    const intent = await q.intentForUpdate(body.payment_intent)
    if (intent === null) throw notFound('payment_intent', body.payment_intent, 'payment_intent')
    if (intent.status !== 'succeeded') throw unexpectedState(intent.public_id, intent.status, 'refund')
    const currency = currencyOf(intent.currency)
    const remaining = decimalToUnits(intent.amount_received) - decimalToUnits(await q.refundedTotal(intent.id))
    if (remaining <= 0n) throw new ApiError(422, 'invalid_request_error', 'charge_already_refunded', `The PaymentIntent ${intent.public_id} has already been refunded in full.`, 'payment_intent')
    const units = body.amount === undefined ? remaining : minorToUnits(body.amount, currency)
    if (units > remaining) {
      throw new ApiError(422, 'invalid_request_error', 'amount_too_large', `Refund amount is greater than the unrefunded amount of the payment (${unitsToDecimal(remaining)} ${currency}).`, 'amount')
    }
    const captured = (await q.attempts(intent.id)).filter((a) => a.status === 'captured').at(-1)
    if (captured === undefined) throw new Error(`PaymentIntent ${intent.public_id} succeeded without a captured attempt`)
    const refundId = await q.insertRefund({publicId, intentId: intent.id, attemptNo: captured.attempt_no, amount: unitsToDecimal(units), currency, reason: body.reason ?? null, status: 'pending', connectorRefundId: null, now})
    await outbox(q, 'refund', publicId, 'refund.created', {object: 'refund', id: publicId, payment_intent: intent.public_id, amount: unitsToDecimal(units), currency}, now)
    await bindKey(q, idem, {object: 'refund', id: publicId}, intent.public_id)
    // the receivable of the connector that captured it (legacy payments went through others)
    return {publicId, refundId, intentId: intent.id, intentPublicId: intent.public_id, units, currency, txn: captured.connector_transaction_id, connector: captured.connector}
  })
  return settleRefund(s, pending, idem)
}

interface PendingRefund {
  publicId: string
  refundId: string
  intentId: string
  intentPublicId: string
  units: bigint
  currency: string
  txn: string | null
  connector: string
}

/** Calls the processor for a pending refund, then records the result once (under the intent's row lock). */
async function settleRefund(s: Services, p: PendingRefund, idem: IdempotencyHold | undefined): Promise<Record<string, unknown>> {
  const {connectorRefundId} = await s.processor.refund(p.txn, p.units, p.currency)
  const now = s.clock()
  return s.store.tx(async (q) => {
    await q.intentForUpdate(p.intentPublicId)
    const current = await q.refund(p.publicId)
    if (current === null) throw notFound('refund', p.publicId)
    // settled meanwhile by another run of the same request: record nothing twice
    if (current.status === 'pending') {
      await q.updateRefund(p.refundId, 'succeeded', connectorRefundId, null, now)
      await q.insertLedgerEntries(
        ledgerTxn('refund', p.currency, [[ACCOUNTS.refunds, p.units], [ACCOUNTS.receivable(p.connector), -p.units]], {paymentIntentId: p.intentId, refundId: p.refundId}, now),
      )
      await outbox(q, 'refund', p.publicId, 'refund.succeeded', {object: 'refund', id: p.publicId, payment_intent: p.intentPublicId, status: 'succeeded'}, now)
    }
    const refund = await getRefundOn(q, p.publicId)
    await saveResponse(q, idem, 200, refund, p.intentPublicId)
    return refund
  })
}

async function resumeRefund(s: Services, publicId: string, idem: IdempotencyHold): Promise<Record<string, unknown>> {
  const q = s.store.writer()
  const row = await q.refund(publicId)
  if (row === null) throw notFound('refund', publicId)
  if (row.status !== 'pending') return refundObject(row)
  const attempt = (await q.attempts(row.payment_intent_id)).find((a) => a.attempt_no === row.attempt_no)
  if (attempt === undefined) throw new Error(`refund ${publicId} without its attempt`)
  return settleRefund(
    s,
    {publicId, refundId: row.id, intentId: row.payment_intent_id, intentPublicId: row.payment_intent_public_id, units: decimalToUnits(row.amount), currency: row.currency, txn: attempt.connector_transaction_id, connector: attempt.connector},
    idem,
  )
}

async function getRefundOn(q: Queries, id: string): Promise<Record<string, unknown>> {
  const row = await q.refund(id)
  if (row === null) throw notFound('refund', id)
  return refundObject(row)
}

export function getRefund(s: Services, id: string): Promise<Record<string, unknown>> {
  return getRefundOn(s.store.reader(id), id)
}
