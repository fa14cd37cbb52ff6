/**
 * Stored-value wallets: one per customer, in one currency. Every balance change locks the wallet
 * row (SELECT ... FOR UPDATE) and then writes it with the version it read (optimistic check as a
 * second guard; the schema's CHECK (balance >= 0) is the third), so the balance never goes
 * negative and each wallet transaction's balance_after is the running sum.
 */
import type {Queries} from '../data/store.js'
import {ApiError, notFound} from '../domain/errors.js'
import {newId} from '../domain/ids.js'
import {ACCOUNTS, ledgerTxn} from '../domain/ledger.js'
import {type Currency, currencyOf, decimalToUnits, minorToUnits, unitsToDecimal} from '../domain/money.js'
import {CONNECTOR} from '../domain/processor.js'
import type {IdempotencyHold, Services} from './context.js'
import {bindKey, outbox, saveResponse} from './context.js'
import {walletObject} from './serialize.js'

const RECENT = 10

function currencyMismatch(walletCurrency: string, asked: Currency): ApiError {
  return new ApiError(400, 'invalid_request_error', 'currency_mismatch', `The wallet holds ${walletCurrency}; this request is in ${asked}.`, 'currency')
}

function walletUnavailable(status: string): ApiError {
  return new ApiError(409, 'invalid_request_error', 'wallet_unavailable', `The wallet is ${status}.`)
}

export async function getWallet(s: Services, customerId: string): Promise<Record<string, unknown>> {
  return walletView(s.store.reader(customerId), customerId)
}

async function walletView(q: Queries, customerId: string): Promise<Record<string, unknown>> {
  const customer = await q.customer(customerId)
  if (customer === null) throw notFound('customer', customerId)
  const wallet = await q.wallet(customer.id)
  if (wallet === null) throw notFound('wallet for customer', customerId)
  return walletObject(wallet, customerId, await q.walletTransactions(wallet.id, RECENT))
}

export async function topUpWallet(s: Services, customerId: string, body: {amount: number; currency: string; payment_method: string}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const currency = currencyOf(body.currency)
  const units = minorToUnits(body.amount, currency)
  const w = s.store.writer()
  const customer = await w.customer(customerId)
  if (customer === null) throw notFound('customer', customerId)
  const pm = await w.paymentMethod(body.payment_method)
  if (pm === null || pm.customer_id !== customer.id) throw notFound('payment_method', body.payment_method, 'payment_method')
  const existing = await w.wallet(customer.id)
  if (existing !== null && existing.currency !== currency) throw currencyMismatch(existing.currency, currency)
  if (existing !== null && existing.status !== 'active') throw walletUnavailable(existing.status)

  // The charge's processor reference is bound to the Idempotency-Key before the card is charged: a
  // retry of a run that died after the charge charges under the same reference, which the
  // processor deduplicates, and the credit below commits once (with the saved response).
  let reference = idem?.resumed?.object === 'wallet_top_up' ? idem.resumed.id : null
  if (reference === null) {
    reference = newId('wtu')
    await bindKey(w, idem, {object: 'wallet_top_up', id: reference}, null)
  }

  // Charge first, outside any transaction; credit the wallet only for money actually received.
  const result = await s.processor.authorize({bin: pm.card_bin ?? '', last4: pm.card_last4 ?? '', fingerprint: pm.fingerprint ?? Buffer.alloc(0)}, units, currency, reference)
  if (result.outcome === 'action_required') throw new ApiError(402, 'card_error', 'authentication_required', 'This card needs authentication, which wallet top-ups do not support; use another card.', 'payment_method')
  if (result.outcome === 'failed') throw new ApiError(402, 'card_error', result.code, result.message, 'payment_method', result.declineCode === null ? {} : {decline_code: result.declineCode})

  const now = s.clock()
  return s.store.tx(async (q) => {
    await q.ensureWallet({publicId: newId('wal'), customerId: customer.id, currency, now})
    const wallet = await q.walletForUpdate(customer.id)
    if (wallet === null) throw new Error(`wallet of ${customerId} vanished after ensureWallet`)
    if (wallet.currency !== currency) throw currencyMismatch(wallet.currency, currency)
    if (wallet.status !== 'active') throw walletUnavailable(wallet.status)
    const balance = decimalToUnits(wallet.balance) + units
    if (!(await q.updateWalletBalance(wallet.id, unitsToDecimal(balance), wallet.version, now))) throw new Error(`wallet ${wallet.public_id} changed under its row lock`)
    const txnId = await q.insertWalletTransaction({walletId: wallet.id, kind: 'top_up', amount: unitsToDecimal(units), balanceAfter: unitsToDecimal(balance), currency, paymentIntentId: null, reference: result.connectorTxnId, now})
    await q.insertLedgerEntries(ledgerTxn('wallet_top_up', currency, [[ACCOUNTS.receivable(CONNECTOR), units], [ACCOUNTS.wallets, -units]], {walletTransactionId: txnId}, now))
    await outbox(q, 'wallet', wallet.public_id, 'wallet.credited', {object: 'wallet_transaction', wallet: wallet.public_id, kind: 'top_up', amount: unitsToDecimal(units), balance: unitsToDecimal(balance), currency}, now)
    const view = await walletView(q, customerId)
    await saveResponse(q, idem, 200, view, null)
    return view
  })
}

export async function payFromWallet(s: Services, customerId: string, body: {amount: number; currency: string; description?: string}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const currency = currencyOf(body.currency)
  const units = minorToUnits(body.amount, currency)
  const now = s.clock()
  return s.store.tx(async (q) => {
    const customer = await q.customer(customerId)
    if (customer === null) throw notFound('customer', customerId)
    const wallet = await q.walletForUpdate(customer.id)
    const insufficient = new ApiError(402, 'card_error', 'insufficient_funds', 'The wallet balance is too low for this payment.', 'amount')
    if (wallet === null) throw insufficient
    if (wallet.currency !== currency) throw currencyMismatch(wallet.currency, currency)
    if (wallet.status !== 'active') throw walletUnavailable(wallet.status)
    const balance = decimalToUnits(wallet.balance) - units
    if (balance < 0n) throw insufficient
    if (!(await q.updateWalletBalance(wallet.id, unitsToDecimal(balance), wallet.version, now))) throw new Error(`wallet ${wallet.public_id} changed under its row lock`)
    const txnId = await q.insertWalletTransaction({walletId: wallet.id, kind: 'payment', amount: unitsToDecimal(-units), balanceAfter: unitsToDecimal(balance), currency, paymentIntentId: null, reference: null, now})
    await q.insertLedgerEntries(ledgerTxn('wallet_payment', currency, [[ACCOUNTS.wallets, units], [ACCOUNTS.sales, -units]], {walletTransactionId: txnId}, now))
    await outbox(
      q, 'wallet', wallet.public_id, 'wallet.debited',
      {object: 'wallet_transaction', wallet: wallet.public_id, kind: 'payment', amount: unitsToDecimal(-units), balance: unitsToDecimal(balance), currency, description: body.description ?? null},
      now,
    )
    const view = await walletView(q, customerId)
    await saveResponse(q, idem, 200, view, null)
    return view
  })
}
