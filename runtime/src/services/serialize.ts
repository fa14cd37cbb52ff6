/**
 * Database rows to API objects (Stripe's shapes): amounts in integer minor units, currencies in
 * lower case, times as unix seconds, internal ids never exposed. The fingerprint is shown as a
 * short hex prefix: enough to spot the same card twice, useless without the key.
 */
import type {
  CustomerRow,
  PaymentAttemptRow,
  PaymentIntentRow,
  PaymentMethodRow,
  RefundRow,
  WalletRow,
  WalletTransactionRow,
} from '../../../src/engines/payments-sql.js'
import {currencyOf, decimalToMinor} from '../domain/money.js'

const unix = (d: Date | null): number | null => (d === null ? null : Math.floor(d.getTime() / 1000))

/** The JSON column as an object: mysql2 parses JSON on MySQL; MariaDB's JSON is LONGTEXT, returned as text. */
function json(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null
  try {
    return JSON.parse(value) as unknown
  } catch {
    return value
  }
}

export function customerObject(c: CustomerRow): Record<string, unknown> {
  return {id: c.public_id, object: 'customer', email: c.email, name: c.name, metadata: json(c.metadata) ?? {}, created: unix(c.created_at)}
}

export function paymentMethodObject(m: PaymentMethodRow): Record<string, unknown> {
  return {
    id: m.public_id,
    object: 'payment_method',
    type: m.type,
    customer: m.customer_public_id,
    status: m.status,
    card:
      m.type === 'card'
        ? {
            brand: m.card_brand,
            bin: m.card_bin,
            last4: m.card_last4,
            exp_month: m.exp_month,
            exp_year: m.exp_year,
            fingerprint: m.fingerprint === null ? null : m.fingerprint.toString('hex').slice(0, 16),
          }
        : null,
    created: unix(m.created_at),
  }
}

export function attemptObject(a: PaymentAttemptRow): Record<string, unknown> {
  const cur = currencyOf(a.currency)
  return {
    attempt: a.attempt_no,
    status: a.status,
    payment_method: a.payment_method_public_id,
    connector: a.connector,
    amount: decimalToMinor(a.amount, cur),
    authentication_type: a.authentication_type,
    processor_response_code: a.processor_response_code,
    decline_code: a.decline_code,
    decline_reason: a.decline_reason,
    created: unix(a.created_at),
  }
}

export function intentObject(i: PaymentIntentRow, attempts?: PaymentAttemptRow[]): Record<string, unknown> {
  const cur = currencyOf(i.currency)
  const lastFailed = attempts?.filter((a) => a.status === 'failed').at(-1)
  return {
    id: i.public_id,
    object: 'payment_intent',
    amount: decimalToMinor(i.amount, cur),
    amount_capturable: decimalToMinor(i.amount_capturable, cur),
    amount_received: decimalToMinor(i.amount_received, cur),
    currency: cur.toLowerCase(),
    customer: i.customer_public_id,
    payment_method: i.payment_method_public_id,
    status: i.status,
    capture_method: i.capture_method,
    description: i.description,
    metadata: json(i.metadata) ?? {},
    cancellation_reason: i.cancellation_reason,
    canceled_at: unix(i.canceled_at),
    last_payment_error:
      i.last_error_code === null
        ? null
        : {code: i.last_error_code, ...(lastFailed === undefined ? {} : {decline_code: lastFailed.decline_code, message: lastFailed.decline_reason, payment_method: lastFailed.payment_method_public_id})},
    next_action: i.status === 'requires_action' ? {type: 'authenticate', authenticate: {url: `/v1/payment_intents/${i.public_id}/authenticate`}} : null,
    attempt_count: i.attempt_count,
    ...(attempts === undefined ? {} : {attempts: attempts.map(attemptObject)}),
    created: unix(i.created_at),
  }
}

export function refundObject(r: RefundRow): Record<string, unknown> {
  const cur = currencyOf(r.currency)
  return {
    id: r.public_id,
    object: 'refund',
    payment_intent: r.payment_intent_public_id,
    amount: decimalToMinor(r.amount, cur),
    currency: cur.toLowerCase(),
    reason: r.reason,
    status: r.status,
    failure_reason: r.failure_reason,
    created: unix(r.created_at),
  }
}

export function walletObject(w: WalletRow, customerPublicId: string, txns: WalletTransactionRow[]): Record<string, unknown> {
  const cur = currencyOf(w.currency)
  return {
    id: w.public_id,
    object: 'wallet',
    customer: customerPublicId,
    currency: cur.toLowerCase(),
    balance: decimalToMinor(w.balance, cur),
    status: w.status,
    transactions: txns.map((t) => walletTransactionObject(t)),
  }
}

export function walletTransactionObject(t: WalletTransactionRow): Record<string, unknown> {
  const cur = currencyOf(t.currency)
  return {
    id: `wtx_${t.id}`,
    object: 'wallet_transaction',
    kind: t.kind,
    amount: decimalToMinor(t.amount, cur),
    balance_after: decimalToMinor(t.balance_after, cur),
    currency: cur.toLowerCase(),
    created: unix(t.created_at),
  }
}
