/**
 * The ledger's health: per-account balances and whether the books balance (every transaction's
 * entries, and so all entries together, sum to zero per currency). Read on the writer: a check
 * after a write must see it.
 */
import {decimalToUnits, unitsToDecimal} from '../domain/money.js'
import type {Services} from './context.js'

export async function ledgerBalance(s: Services): Promise<Record<string, unknown>> {
  const q = s.store.writer()
  const [rows, unbalanced] = await Promise.all([q.ledgerBalances(), q.ledgerUnbalancedTxns(100)])
  const totals = new Map<string, bigint>()
  for (const r of rows) totals.set(r.currency, (totals.get(r.currency) ?? 0n) + decimalToUnits(String(r.balance)))
  const currencyTotals = [...totals].map(([currency, total]) => ({currency, total: unitsToDecimal(total)}))
  return {
    object: 'ledger_balance',
    accounts: rows.map((r) => ({account: r.account, currency: r.currency, balance: unitsToDecimal(decimalToUnits(String(r.balance)))})),
    totals: currencyTotals,
    unbalanced_txns: unbalanced.map((u) => ({txn_id: String(u.txn_id), total: String(u.total)})),
    balanced: unbalanced.length === 0 && [...totals.values()].every((t) => t === 0n),
  }
}
