/**
 * Double-entry bookkeeping: every money movement is one ledger transaction whose entries (debit
 * > 0, credit < 0) sum to exactly zero, written in the same database transaction as the state
 * change it records. Account names follow the legacy data set's, so balances over old and new
 * rows add up: assets:receivable:<connector> (owed to us by the processor), expenses:processing_fees,
 * revenue:sales, revenue:refunds (contra-revenue), liabilities:customer_wallets (stored value we owe).
 */
import type {LedgerEntry} from '../../../src/engines/payments-sql.js'
import {newLedgerTxnId} from './ids.js'
import {unitsToDecimal} from './money.js'

export type LedgerTxnType = LedgerEntry['txnType']

export interface LedgerRefs {
  paymentIntentId?: string
  refundId?: string
  walletTransactionId?: string
}

export const ACCOUNTS = {
  receivable: (connector: string) => `assets:receivable:${connector}`,
  fees: 'expenses:processing_fees',
  sales: 'revenue:sales',
  refunds: 'revenue:refunds',
  wallets: 'liabilities:customer_wallets',
} as const

/** Builds one balanced transaction; throws (a bug) when the legs do not sum to zero. Zero legs are dropped. */
export function ledgerTxn(type: LedgerTxnType, currency: string, legs: ReadonlyArray<readonly [string, bigint]>, refs: LedgerRefs, now: Date): LedgerEntry[] {
  let sum = 0n
  for (const [, units] of legs) sum += units
  if (sum !== 0n) throw new Error(`Ledger transaction of type ${type} does not balance (off by ${sum} units).`)
  const txnId = newLedgerTxnId()
  return legs
    .filter(([, units]) => units !== 0n)
    .map(([account, units], i) => ({
      txnId,
      entryNo: i + 1,
      txnType: type,
      account,
      amount: unitsToDecimal(units),
      currency,
      paymentIntentId: refs.paymentIntentId ?? null,
      refundId: refs.refundId ?? null,
      walletTransactionId: refs.walletTransactionId ?? null,
      now,
    }))
}
