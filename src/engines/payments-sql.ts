/**
 * Every statement the bundled payment service (runtime/) runs against the legacy payments schema
 * (src/sandbox/legacy-schema.ts), as pure functions: arguments in, {sql, params} out. One
 * implementation per engine folder (mysql-payments-sql.ts, sqlserver-payments-sql.ts), each pinned
 * by a unit test, so the service never builds dialect SQL and a new engine is one new file.
 *
 * Conventions shared by both engines:
 * - money is passed and read as DECIMAL strings ("10.9900"), never numbers;
 * - internal ids (BIGINT) are passed and read as decimal strings: the driver must be set up to
 *   return them so (mysql2: supportBigNumbers + bigNumberStrings), because ledger txn ids exceed 2^53;
 * - times are Date values in UTC;
 * - `kind` tells the executor what to return: rows, the affected-row count, or the generated id
 *   (MySQL reports it in the result header, SQL Server returns it as a row via OUTPUT INSERTED.id);
 * - `...ForUpdate` reads take a row lock until the surrounding transaction ends.
 */

export type StatementKind = 'query' | 'execute' | 'insert'

export interface Statement {
  readonly kind: StatementKind
  readonly sql: string
  readonly params: readonly unknown[]
  /** A short stable name for metrics and logs (never the SQL text or the values). */
  readonly op: string
}

export interface CustomerRow {
  id: string
  public_id: string
  email: string | null
  name: string | null
  metadata: unknown
  created_at: Date
}

export interface PaymentMethodRow {
  id: string
  public_id: string
  customer_id: string
  customer_public_id: string
  type: string
  vault_token: string | null
  card_brand: string | null
  card_bin: string | null
  card_last4: string | null
  exp_month: number | null
  exp_year: number | null
  fingerprint: Buffer | null
  status: string
  created_at: Date
}

export interface PaymentIntentRow {
  id: string
  public_id: string
  customer_id: string
  customer_public_id: string
  payment_method_id: string | null
  payment_method_public_id: string | null
  amount: string
  currency: string
  status: string
  capture_method: string
  amount_capturable: string
  amount_received: string
  attempt_count: number
  description: string | null
  cancellation_reason: string | null
  last_error_code: string | null
  metadata: unknown
  version: number
  created_at: Date
  succeeded_at: Date | null
  canceled_at: Date | null
}

export interface PaymentAttemptRow {
  payment_intent_id: string
  attempt_no: number
  payment_method_id: string
  payment_method_public_id: string
  connector: string
  status: string
  amount: string
  currency: string
  authentication_type: string
  processor_response_code: string | null
  decline_code: string | null
  decline_reason: string | null
  connector_transaction_id: string | null
  network_transaction_id: string | null
  latency_ms: number | null
  created_at: Date
}

export interface RefundRow {
  id: string
  public_id: string
  payment_intent_id: string
  payment_intent_public_id: string
  attempt_no: number
  amount: string
  currency: string
  reason: string | null
  status: string
  failure_reason: string | null
  connector_refund_id: string | null
  created_at: Date
}

export interface WalletRow {
  id: string
  public_id: string
  customer_id: string
  currency: string
  balance: string
  status: string
  version: number
}

export interface WalletTransactionRow {
  id: string
  kind: string
  amount: string
  balance_after: string
  currency: string
  reference: string | null
  created_at: Date
}

export interface IdempotencyKeyRow {
  request_method: string
  request_path: string
  request_hash: Buffer
  response_code: number | null
  response_body: unknown
  locked_at: Date | null
  expires_at: Date
}

export interface LedgerBalanceRow {
  account: string
  currency: string
  balance: string
}

export interface NewCustomer {
  publicId: string
  email: string | null
  name: string | null
  metadata: string | null
  now: Date
}

export interface NewCardMethod {
  publicId: string
  customerId: string
  vaultToken: string
  brand: string
  bin: string
  last4: string
  expMonth: number
  expYear: number
  fingerprint: Buffer
  now: Date
}

export interface NewIntent {
  publicId: string
  customerId: string
  paymentMethodId: string | null
  amount: string
  currency: string
  status: string
  captureMethod: string
  description: string | null
  metadata: string | null
  now: Date
}

/** The mutable part of an intent, written whole with an optimistic version check. */
export interface IntentState {
  id: string
  expectedVersion: number
  status: string
  paymentMethodId: string | null
  amountCapturable: string
  amountReceived: string
  attemptCount: number
  cancellationReason: string | null
  lastErrorCode: string | null
  succeededAt: Date | null
  canceledAt: Date | null
  now: Date
}

export interface NewAttempt {
  intentId: string
  attemptNo: number
  paymentMethodId: string
  connector: string
  status: string
  amount: string
  currency: string
  now: Date
}

export interface AttemptResult {
  intentId: string
  attemptNo: number
  status: string
  authenticationType: string
  responseCode: string | null
  declineCode: string | null
  declineReason: string | null
  connectorTransactionId: string | null
  networkTransactionId: string | null
  latencyMs: number | null
  now: Date
}

export interface NewRefund {
  publicId: string
  intentId: string
  attemptNo: number
  amount: string
  currency: string
  reason: string | null
  status: string
  connectorRefundId: string | null
  now: Date
}

export interface NewWallet {
  publicId: string
  customerId: string
  currency: string
  now: Date
}

export interface NewWalletTransaction {
  walletId: string
  kind: 'top_up' | 'payment' | 'refund'
  amount: string
  balanceAfter: string
  currency: string
  paymentIntentId: string | null
  reference: string | null
  now: Date
}

export interface LedgerEntry {
  txnId: string
  entryNo: number
  txnType: 'capture' | 'refund' | 'wallet_top_up' | 'wallet_payment' | 'wallet_refund'
  account: string
  amount: string
  currency: string
  paymentIntentId: string | null
  refundId: string | null
  walletTransactionId: string | null
  now: Date
}

export interface NewOutboxEvent {
  aggregateType: string
  aggregateId: string
  eventType: string
  payload: string
  now: Date
}

export interface NewIdempotencyKey {
  scope: string
  key: string
  method: string
  path: string
  hash: Buffer
  now: Date
  expiresAt: Date
}

export interface PaymentsSql {
  readonly engine: 'mysql' | 'sqlserver'
  ping(): Statement

  insertCustomer(c: NewCustomer): Statement
  customerByPublicId(publicId: string): Statement

  insertCardMethod(m: NewCardMethod): Statement
  paymentMethodByPublicId(publicId: string): Statement
  paymentMethodById(id: string): Statement
  paymentMethodsByCustomer(customerId: string, limit: number): Statement

  insertIntent(i: NewIntent): Statement
  intentByPublicId(publicId: string): Statement
  intentByPublicIdForUpdate(publicId: string): Statement
  /** Newest first; `after` is the (created_at, id) of the last row of the previous page. */
  intentsByCustomer(customerId: string, after: {createdAt: Date; id: string} | null, limit: number): Statement
  updateIntent(s: IntentState): Statement

  insertAttempt(a: NewAttempt): Statement
  updateAttempt(r: AttemptResult): Statement
  attemptsByIntent(intentId: string): Statement

  insertRefund(r: NewRefund): Statement
  updateRefund(id: string, status: string, connectorRefundId: string | null, failureReason: string | null, now: Date): Statement
  refundByPublicId(publicId: string): Statement
  /** SUM of pending and succeeded refunds of an intent, as `refunded` (a DECIMAL string, '0' when none). */
  refundedTotal(intentId: string): Statement

  /** Creates the customer's wallet when it has none; leaves an existing one untouched. */
  ensureWallet(w: NewWallet): Statement
  walletByCustomer(customerId: string): Statement
  walletByCustomerForUpdate(customerId: string): Statement
  updateWalletBalance(walletId: string, balance: string, expectedVersion: number, now: Date): Statement
  insertWalletTransaction(t: NewWalletTransaction): Statement
  walletTransactions(walletId: string, limit: number): Statement

  /** One multi-row INSERT: the entries of a ledger transaction land together. */
  insertLedgerEntries(entries: readonly LedgerEntry[]): Statement
  ledgerBalances(): Statement
  /** Up to `limit` txn ids whose entries do not sum to zero (column `txn_id`, `total`). */
  ledgerUnbalancedTxns(limit: number): Statement

  insertOutboxEvent(e: NewOutboxEvent): Statement

  /** Plain INSERT: a duplicate (scope, key) fails with the engine's duplicate-key error. */
  insertIdempotencyKey(k: NewIdempotencyKey): Statement
  idempotencyKey(scope: string, key: string): Statement
  /**
   * Takes over the key of a request that crashed: only while no response is saved and the lock is
   * older than `staleBefore`. The new lock makes the condition false for a second, concurrent
   * retry, so at most one of them gets an affected row.
   */
  takeOverIdempotencyKey(scope: string, key: string, staleBefore: Date, now: Date): Statement
  /**
   * Records, while the key is still held (no response yet), what the request has durably done so
   * far (`body`, a JSON marker naming the object it created) and links the intent, if any. Fenced
   * by the holder's `lockedAt`: a request whose key was taken over gets no affected row. Runs in
   * the work's own transaction, so the marker exists exactly when the work does.
   */
  bindIdempotencyKey(scope: string, key: string, lockedAt: Date, body: string, intentPublicId: string | null): Statement
  /**
   * Saves the response and releases the lock; links the intent named by its public id, if any.
   * Only for the request that holds the key (`lockedAt`) and only once (no response saved yet):
   * run inside the work's transaction, it commits the response together with the work.
   */
  saveIdempotencyResponse(scope: string, key: string, code: number, body: string, intentPublicId: string | null, lockedAt: Date): Statement
  deleteIdempotencyKey(scope: string, key: string): Statement
  deleteExpiredIdempotencyKey(scope: string, key: string, now: Date): Statement
}
