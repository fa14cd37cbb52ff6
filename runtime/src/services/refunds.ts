/**
 * Refunds, partial or full, never more than was received. The check runs under the intent's row
 * lock (SELECT ... FOR UPDATE) and counts pending refunds as spent, so concurrent refunds of one
 * payment queue on the lock and each sees the ones before it: together they cannot exceed the
 * amount. The refund is recorded `pending` before the processor is called (no lock held during the
 * call) and settled, with its ledger transaction, afterwards.
 */
import {ApiError, notFound, unexpectedState} from '../domain/errors.js'
import {newId} from '../domain/ids.js'
import {ACCOUNTS, ledgerTxn} from '../domain/ledger.js'
import {currencyOf, decimalToUnits, minorToUnits, unitsToDecimal} from '../domain/money.js'
import type {Services} from './context.js'
import {outbox} from './context.js'
import {refundObject} from './serialize.js'

export interface CreateRefundBody {
  payment_intent: string
  amount?: number
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer'
}

export async function createRefund(s: Services, body: CreateRefundBody): Promise<Record<string, unknown>> {
  const now = s.clock()
  const publicId = newId('re')
  const pending = await s.store.tx(async (q) => {
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
    // the receivable of the connector that captured it (legacy payments went through others)
    return {refundId, intent, units, currency, txn: captured.connector_transaction_id, connector: captured.connector}
  })
  const {connectorRefundId} = await s.processor.refund(pending.txn, pending.units, pending.currency)
  await s.store.tx(async (q) => {
    await q.updateRefund(pending.refundId, 'succeeded', connectorRefundId, null, s.clock())
    await q.insertLedgerEntries(
      ledgerTxn('refund', pending.currency, [[ACCOUNTS.refunds, pending.units], [ACCOUNTS.receivable(pending.connector), -pending.units]], {paymentIntentId: pending.intent.id, refundId: pending.refundId}, now),
    )
    await outbox(q, 'refund', publicId, 'refund.succeeded', {object: 'refund', id: publicId, payment_intent: pending.intent.public_id, status: 'succeeded'}, now)
  })
  return getRefundOn(s.store.writer(), publicId)
}

async function getRefundOn(q: ReturnType<Services['store']['writer']>, id: string): Promise<Record<string, unknown>> {
  const row = await q.refund(id)
  if (row === null) throw notFound('refund', id)
  return refundObject(row)
}

export function getRefund(s: Services, id: string): Promise<Record<string, unknown>> {
  return getRefundOn(s.store.reader(id), id)
}
