/**
 * Typed access to the payments schema: each method runs one statement of the engine's
 * PaymentsSql on a Queryable (the pool, or one transaction's connection) and returns typed rows.
 * The store decides nothing; the services in ../services/ hold the business rules and choose
 * where a statement runs through the DbRouter (writer for anything that writes or must see a
 * write, reader for plain lookups).
 */
import type {
  AttemptResult,
  CustomerRow,
  IdempotencyKeyRow,
  IntentState,
  LedgerBalanceRow,
  LedgerEntry,
  NewAttempt,
  NewCardMethod,
  NewCustomer,
  NewIdempotencyKey,
  NewIntent,
  NewOutboxEvent,
  NewRefund,
  NewWallet,
  NewWalletTransaction,
  PaymentAttemptRow,
  PaymentIntentRow,
  PaymentMethodRow,
  PaymentsSql,
  RefundRow,
  Statement,
  WalletRow,
  WalletTransactionRow,
} from '../../../src/engines/payments-sql.js'
import type {Db, Queryable} from './db.js'
import type {DbRouter} from './router.js'

export class Queries {
  constructor(
    private readonly q: Queryable,
    private readonly sql: PaymentsSql,
    /** Where a single-row lookup that found nothing is repeated (see Store.reader); null for none. */
    private readonly fallback: Queryable | null = null,
  ) {}

  async #one<T>(stmt: Statement): Promise<T | null> {
    const row = (await this.q.query<T>(stmt))[0]
    if (row !== undefined || this.fallback === null) return row ?? null
    return (await this.fallback.query<T>(stmt))[0] ?? null
  }

  ping(): Promise<unknown[]> {
    return this.q.query(this.sql.ping())
  }

  insertCustomer(c: NewCustomer): Promise<string> {
    return this.q.insert(this.sql.insertCustomer(c))
  }
  customer(publicId: string): Promise<CustomerRow | null> {
    return this.#one<CustomerRow>(this.sql.customerByPublicId(publicId))
  }

  insertCardMethod(m: NewCardMethod): Promise<string> {
    return this.q.insert(this.sql.insertCardMethod(m))
  }
  paymentMethod(publicId: string): Promise<PaymentMethodRow | null> {
    return this.#one<PaymentMethodRow>(this.sql.paymentMethodByPublicId(publicId))
  }
  paymentMethodById(id: string): Promise<PaymentMethodRow | null> {
    return this.#one<PaymentMethodRow>(this.sql.paymentMethodById(id))
  }
  paymentMethods(customerId: string, limit: number): Promise<PaymentMethodRow[]> {
    return this.q.query<PaymentMethodRow>(this.sql.paymentMethodsByCustomer(customerId, limit))
  }

  insertIntent(i: NewIntent): Promise<string> {
    return this.q.insert(this.sql.insertIntent(i))
  }
  intent(publicId: string): Promise<PaymentIntentRow | null> {
    return this.#one<PaymentIntentRow>(this.sql.intentByPublicId(publicId))
  }
  intentForUpdate(publicId: string): Promise<PaymentIntentRow | null> {
    return this.#one<PaymentIntentRow>(this.sql.intentByPublicIdForUpdate(publicId))
  }
  intents(customerId: string, after: {createdAt: Date; id: string} | null, limit: number): Promise<PaymentIntentRow[]> {
    return this.q.query<PaymentIntentRow>(this.sql.intentsByCustomer(customerId, after, limit))
  }
  /** False when the version moved: someone else changed the intent since it was read. */
  async updateIntent(s: IntentState): Promise<boolean> {
    return (await this.q.execute(this.sql.updateIntent(s))) === 1
  }

  async insertAttempt(a: NewAttempt): Promise<void> {
    await this.q.execute(this.sql.insertAttempt(a))
  }
  async updateAttempt(r: AttemptResult): Promise<void> {
    await this.q.execute(this.sql.updateAttempt(r))
  }
  attempts(intentId: string): Promise<PaymentAttemptRow[]> {
    return this.q.query<PaymentAttemptRow>(this.sql.attemptsByIntent(intentId))
  }

  insertRefund(r: NewRefund): Promise<string> {
    return this.q.insert(this.sql.insertRefund(r))
  }
  async updateRefund(id: string, status: string, connectorRefundId: string | null, failureReason: string | null, now: Date): Promise<void> {
    await this.q.execute(this.sql.updateRefund(id, status, connectorRefundId, failureReason, now))
  }
  refund(publicId: string): Promise<RefundRow | null> {
    return this.#one<RefundRow>(this.sql.refundByPublicId(publicId))
  }
  async refundedTotal(intentId: string): Promise<string> {
    const row = await this.#one<{refunded: string | number}>(this.sql.refundedTotal(intentId))
    return String(row?.refunded ?? '0')
  }

  async ensureWallet(w: NewWallet): Promise<void> {
    await this.q.execute(this.sql.ensureWallet(w))
  }
  wallet(customerId: string): Promise<WalletRow | null> {
    return this.#one<WalletRow>(this.sql.walletByCustomer(customerId))
  }
  walletForUpdate(customerId: string): Promise<WalletRow | null> {
    return this.#one<WalletRow>(this.sql.walletByCustomerForUpdate(customerId))
  }
  async updateWalletBalance(walletId: string, balance: string, expectedVersion: number, now: Date): Promise<boolean> {
    return (await this.q.execute(this.sql.updateWalletBalance(walletId, balance, expectedVersion, now))) === 1
  }
  insertWalletTransaction(t: NewWalletTransaction): Promise<string> {
    return this.q.insert(this.sql.insertWalletTransaction(t))
  }
  walletTransactions(walletId: string, limit: number): Promise<WalletTransactionRow[]> {
    return this.q.query<WalletTransactionRow>(this.sql.walletTransactions(walletId, limit))
  }

  async insertLedgerEntries(entries: readonly LedgerEntry[]): Promise<void> {
    await this.q.execute(this.sql.insertLedgerEntries(entries))
  }
  ledgerBalances(): Promise<LedgerBalanceRow[]> {
    return this.q.query<LedgerBalanceRow>(this.sql.ledgerBalances())
  }
  ledgerUnbalancedTxns(limit: number): Promise<Array<{txn_id: string; total: string}>> {
    return this.q.query(this.sql.ledgerUnbalancedTxns(limit))
  }

  async insertOutboxEvent(e: NewOutboxEvent): Promise<void> {
    await this.q.execute(this.sql.insertOutboxEvent(e))
  }

  async insertIdempotencyKey(k: NewIdempotencyKey): Promise<void> {
    await this.q.execute(this.sql.insertIdempotencyKey(k))
  }
  idempotencyKey(scope: string, key: string): Promise<IdempotencyKeyRow | null> {
    return this.#one<IdempotencyKeyRow>(this.sql.idempotencyKey(scope, key))
  }
  async takeOverIdempotencyKey(scope: string, key: string, staleBefore: Date, now: Date): Promise<boolean> {
    return (await this.q.execute(this.sql.takeOverIdempotencyKey(scope, key, staleBefore, now))) === 1
  }
  /** False when the key is no longer held by `lockedAt` (taken over, or already answered). */
  async bindIdempotencyKey(scope: string, key: string, lockedAt: Date, body: string, intentPublicId: string | null): Promise<boolean> {
    return (await this.q.execute(this.sql.bindIdempotencyKey(scope, key, lockedAt, body, intentPublicId))) === 1
  }
  /** False when the key is no longer held by `lockedAt` (taken over, or already answered). */
  async saveIdempotencyResponse(scope: string, key: string, code: number, body: string, intentPublicId: string | null, lockedAt: Date): Promise<boolean> {
    return (await this.q.execute(this.sql.saveIdempotencyResponse(scope, key, code, body, intentPublicId, lockedAt))) === 1
  }
  async deleteIdempotencyKey(scope: string, key: string): Promise<void> {
    await this.q.execute(this.sql.deleteIdempotencyKey(scope, key))
  }
  async deleteExpiredIdempotencyKey(scope: string, key: string, now: Date): Promise<boolean> {
    return (await this.q.execute(this.sql.deleteExpiredIdempotencyKey(scope, key, now))) === 1
  }
}

/** The store: typed queries on the side the router picks. */
export class Store {
  constructor(
    readonly router: DbRouter,
    readonly sql: PaymentsSql,
  ) {}

  /** Autocommit statements on the writer (short writes such as the idempotency key's row). */
  writer(): Queries {
    return new Queries(this.router.writer(), this.sql)
  }

  /**
   * Plain lookups on the side the router picks for the key. When that side does not take writes
   * (the target while writes are on the source, or the reverse), a single-row lookup that finds
   * nothing is repeated on the side that does: the object may have been created a moment ago and
   * not be replicated yet, and answering 404 for it would be wrong.
   */
  reader(routingKey?: string): Queries {
    const db = this.router.reader(routingKey)
    return new Queries(db, this.sql, this.router.readFallback?.(db) ?? null)
  }

  /** One transaction on the writer. */
  tx<T>(fn: (q: Queries) => Promise<T>): Promise<T> {
    const db: Db = this.router.writer()
    return db.transaction((tx) => fn(new Queries(tx, this.sql)))
  }
}
