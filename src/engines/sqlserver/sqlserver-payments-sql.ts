/**
 * The payment service's statements in T-SQL, for when the service runs on the legacy SQL Server
 * (before the cutover, or after a rollback): @p1..@pN parameters (the mssql driver's inputs
 * p1..pN, in the order of `params`), OUTPUT INSERTED.id for generated keys, TOP (@pN) for limits,
 * WITH (UPDLOCK, ROWLOCK) for the row locks MySQL takes with FOR UPDATE, and MERGE ... WITH
 * (HOLDLOCK) for the one upsert (HOLDLOCK makes the not-matched check and the insert atomic; without
 * it two concurrent MERGEs can both insert). Contract and conventions: ../payments-sql.ts.
 */
import type {PaymentsSql, Statement, StatementKind} from '../payments-sql.js'

/** Writes `?` placeholders as @p1, @p2, ... in text order (no literal in these statements holds a `?`). */
function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `@p${++n}`)
}

const st = (kind: StatementKind, op: string, sql: string, params: readonly unknown[] = []): Statement => {
  const text = numbered(sql)
  const count = (text.match(/@p\d+/g) ?? []).length
  if (count !== params.length) throw new TypeError(`${op}: ${count} placeholders but ${params.length} parameters`)
  return {kind, op, sql: text, params}
}

const CUSTOMER_COLUMNS = 'c.id, c.public_id, c.email, c.name, c.metadata, c.created_at'
const METHOD_COLUMNS =
  'pm.id, pm.public_id, pm.customer_id, c.public_id AS customer_public_id, pm.type, pm.vault_token, pm.card_brand, pm.card_bin, pm.card_last4, pm.exp_month, pm.exp_year, pm.fingerprint, pm.status, pm.created_at'
const INTENT_COLUMNS =
  'pi.id, pi.public_id, pi.customer_id, c.public_id AS customer_public_id, pi.payment_method_id, pm.public_id AS payment_method_public_id, pi.amount, pi.currency, pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received, pi.attempt_count, pi.description, pi.cancellation_reason, pi.last_error_code, pi.metadata, pi.version, pi.created_at, pi.succeeded_at, pi.canceled_at'
const intentFrom = (hint: string): string => `FROM payment_intents pi${hint}
JOIN customers c ON c.id = pi.customer_id
LEFT JOIN payment_methods pm ON pm.id = pi.payment_method_id`
const WALLET_COLUMNS = 'id, public_id, customer_id, currency, balance, status, version'

export const sqlserverPaymentsSql: PaymentsSql = {
  engine: 'sqlserver',
  ping: () => st('query', 'ping', 'SELECT 1 AS ok'),

  insertCustomer: (c) =>
    st('insert', 'customer.insert', 'INSERT INTO customers (public_id, email, name, metadata, created_at, updated_at) OUTPUT INSERTED.id VALUES (?, ?, ?, ?, ?, ?)', [
      c.publicId, c.email, c.name, c.metadata, c.now, c.now,
    ]),
  customerByPublicId: (publicId) => st('query', 'customer.get', `SELECT ${CUSTOMER_COLUMNS} FROM customers c WHERE c.public_id = ?`, [publicId]),

  insertCardMethod: (m) =>
    st(
      'insert',
      'payment_method.insert',
      "INSERT INTO payment_methods (public_id, customer_id, type, vault_token, card_brand, card_bin, card_last4, exp_month, exp_year, fingerprint, status, created_at, updated_at) OUTPUT INSERTED.id VALUES (?, ?, 'card', ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
      [m.publicId, m.customerId, m.vaultToken, m.brand, m.bin, m.last4, m.expMonth, m.expYear, m.fingerprint, m.now, m.now],
    ),
  paymentMethodByPublicId: (publicId) =>
    st('query', 'payment_method.get', `SELECT ${METHOD_COLUMNS} FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.public_id = ?`, [publicId]),
  paymentMethodById: (id) =>
    st('query', 'payment_method.get_by_id', `SELECT ${METHOD_COLUMNS} FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.id = ?`, [id]),
  paymentMethodsByCustomer: (customerId, limit) =>
    st(
      'query',
      'payment_method.list',
      `SELECT TOP (?) ${METHOD_COLUMNS} FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.customer_id = ? AND pm.status = 'active' ORDER BY pm.id DESC`,
      [limit, customerId],
    ),

  insertIntent: (i) =>
    st(
      'insert',
      'payment_intent.insert',
      'INSERT INTO payment_intents (public_id, customer_id, payment_method_id, amount, currency, status, capture_method, description, metadata, version, created_at, updated_at) OUTPUT INSERTED.id VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)',
      [i.publicId, i.customerId, i.paymentMethodId, i.amount, i.currency, i.status, i.captureMethod, i.description, i.metadata, i.now, i.now],
    ),
  intentByPublicId: (publicId) => st('query', 'payment_intent.get', `SELECT ${INTENT_COLUMNS}\n${intentFrom('')}\nWHERE pi.public_id = ?`, [publicId]),
  // Only the intent row is locked (the hint sits on it alone), unlike MySQL's FOR UPDATE.
  intentByPublicIdForUpdate: (publicId) =>
    st('query', 'payment_intent.lock', `SELECT ${INTENT_COLUMNS}\n${intentFrom(' WITH (UPDLOCK, ROWLOCK)')}\nWHERE pi.public_id = ?`, [publicId]),
  intentsByCustomer: (customerId, after, limit) =>
    after === null
      ? st('query', 'payment_intent.list', `SELECT TOP (?) ${INTENT_COLUMNS}\n${intentFrom('')}\nWHERE pi.customer_id = ?\nORDER BY pi.created_at DESC, pi.id DESC`, [limit, customerId])
      : st(
          'query',
          'payment_intent.list',
          `SELECT TOP (?) ${INTENT_COLUMNS}\n${intentFrom('')}\nWHERE pi.customer_id = ? AND (pi.created_at < ? OR (pi.created_at = ? AND pi.id < ?))\nORDER BY pi.created_at DESC, pi.id DESC`,
          [limit, customerId, after.createdAt, after.createdAt, after.id],
        ),
  updateIntent: (s) =>
    st(
      'execute',
      'payment_intent.update',
      'UPDATE payment_intents SET status = ?, payment_method_id = ?, amount_capturable = ?, amount_received = ?, attempt_count = ?, cancellation_reason = ?, last_error_code = ?, succeeded_at = ?, canceled_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?',
      [s.status, s.paymentMethodId, s.amountCapturable, s.amountReceived, s.attemptCount, s.cancellationReason, s.lastErrorCode, s.succeededAt, s.canceledAt, s.now, s.id, s.expectedVersion],
    ),

  insertAttempt: (a) =>
    st(
      'execute',
      'payment_attempt.insert',
      "INSERT INTO payment_attempts (payment_intent_id, attempt_no, payment_method_id, connector, status, amount, currency, authentication_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'no_three_ds', ?, ?)",
      [a.intentId, a.attemptNo, a.paymentMethodId, a.connector, a.status, a.amount, a.currency, a.now, a.now],
    ),
  updateAttempt: (r) =>
    st(
      'execute',
      'payment_attempt.update',
      'UPDATE payment_attempts SET status = ?, authentication_type = ?, processor_response_code = ?, decline_code = ?, decline_reason = ?, connector_transaction_id = ?, network_transaction_id = ?, latency_ms = ?, updated_at = ? WHERE payment_intent_id = ? AND attempt_no = ?',
      [r.status, r.authenticationType, r.responseCode, r.declineCode, r.declineReason, r.connectorTransactionId, r.networkTransactionId, r.latencyMs, r.now, r.intentId, r.attemptNo],
    ),
  attemptsByIntent: (intentId) =>
    st(
      'query',
      'payment_attempt.list',
      'SELECT a.payment_intent_id, a.attempt_no, a.payment_method_id, pm.public_id AS payment_method_public_id, a.connector, a.status, a.amount, a.currency, a.authentication_type, a.processor_response_code, a.decline_code, a.decline_reason, a.connector_transaction_id, a.network_transaction_id, a.latency_ms, a.created_at FROM payment_attempts a JOIN payment_methods pm ON pm.id = a.payment_method_id WHERE a.payment_intent_id = ? ORDER BY a.attempt_no',
      [intentId],
    ),

  insertRefund: (r) =>
    st(
      'insert',
      'refund.insert',
      'INSERT INTO refunds (public_id, payment_intent_id, attempt_no, amount, currency, reason, status, connector_refund_id, created_at, updated_at) OUTPUT INSERTED.id VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [r.publicId, r.intentId, r.attemptNo, r.amount, r.currency, r.reason, r.status, r.connectorRefundId, r.now, r.now],
    ),
  updateRefund: (id, status, connectorRefundId, failureReason, now) =>
    st('execute', 'refund.update', 'UPDATE refunds SET status = ?, connector_refund_id = ?, failure_reason = ?, updated_at = ? WHERE id = ?', [status, connectorRefundId, failureReason, now, id]),
  refundByPublicId: (publicId) =>
    st(
      'query',
      'refund.get',
      'SELECT r.id, r.public_id, r.payment_intent_id, pi.public_id AS payment_intent_public_id, r.attempt_no, r.amount, r.currency, r.reason, r.status, r.failure_reason, r.connector_refund_id, r.created_at FROM refunds r JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE r.public_id = ?',
      [publicId],
    ),
  refundedTotal: (intentId) =>
    st('query', 'refund.total', "SELECT COALESCE(SUM(amount), 0) AS refunded FROM refunds WHERE payment_intent_id = ? AND status IN ('pending', 'succeeded')", [intentId]),

  ensureWallet: (w) =>
    st(
      'execute',
      'wallet.ensure',
      "MERGE INTO wallets WITH (HOLDLOCK) AS t USING (SELECT ? AS customer_id) AS s ON t.customer_id = s.customer_id WHEN NOT MATCHED THEN INSERT (public_id, customer_id, currency, balance, status, version, created_at, updated_at) VALUES (?, s.customer_id, ?, 0, 'active', 0, ?, ?);",
      [w.customerId, w.publicId, w.currency, w.now, w.now],
    ),
  walletByCustomer: (customerId) => st('query', 'wallet.get', `SELECT ${WALLET_COLUMNS} FROM wallets WHERE customer_id = ?`, [customerId]),
  walletByCustomerForUpdate: (customerId) => st('query', 'wallet.lock', `SELECT ${WALLET_COLUMNS} FROM wallets WITH (UPDLOCK, ROWLOCK) WHERE customer_id = ?`, [customerId]),
  updateWalletBalance: (walletId, balance, expectedVersion, now) =>
    st('execute', 'wallet.update', 'UPDATE wallets SET balance = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?', [balance, now, walletId, expectedVersion]),
  insertWalletTransaction: (t) =>
    st(
      'insert',
      'wallet_transaction.insert',
      'INSERT INTO wallet_transactions (wallet_id, kind, amount, balance_after, currency, payment_intent_id, reference, created_at) OUTPUT INSERTED.id VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [t.walletId, t.kind, t.amount, t.balanceAfter, t.currency, t.paymentIntentId, t.reference, t.now],
    ),
  walletTransactions: (walletId, limit) =>
    st('query', 'wallet_transaction.list', 'SELECT TOP (?) id, kind, amount, balance_after, currency, reference, created_at FROM wallet_transactions WHERE wallet_id = ? ORDER BY id DESC', [
      limit, walletId,
    ]),

  insertLedgerEntries: (entries) => {
    if (entries.length === 0) throw new TypeError('A ledger transaction needs at least one entry.')
    return st(
      'execute',
      'ledger.insert',
      `INSERT INTO ledger_entries (txn_id, entry_no, txn_type, account, amount, currency, payment_intent_id, refund_id, wallet_transaction_id, created_at) VALUES ${entries.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      entries.flatMap((e) => [e.txnId, e.entryNo, e.txnType, e.account, e.amount, e.currency, e.paymentIntentId, e.refundId, e.walletTransactionId, e.now]),
    )
  },
  ledgerBalances: () =>
    st('query', 'ledger.balances', 'SELECT account, currency, SUM(amount) AS balance FROM ledger_entries GROUP BY account, currency ORDER BY account, currency'),
  ledgerUnbalancedTxns: (limit) =>
    st('query', 'ledger.unbalanced', 'SELECT TOP (?) txn_id, SUM(amount) AS total FROM ledger_entries GROUP BY txn_id HAVING SUM(amount) <> 0 ORDER BY txn_id', [limit]),

  insertOutboxEvent: (e) =>
    st('execute', 'outbox.insert', 'INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)', [
      e.aggregateType, e.aggregateId, e.eventType, e.payload, e.now,
    ]),

  insertIdempotencyKey: (k) =>
    st(
      'execute',
      'idempotency.insert',
      'INSERT INTO idempotency_keys (scope, idem_key, request_method, request_path, request_hash, locked_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [k.scope, k.key, k.method, k.path, k.hash, k.now, k.now, k.expiresAt],
    ),
  idempotencyKey: (scope, key) =>
    st('query', 'idempotency.get', 'SELECT request_method, request_path, request_hash, response_code, response_body, locked_at, expires_at FROM idempotency_keys WHERE scope = ? AND idem_key = ?', [
      scope, key,
    ]),
  takeOverIdempotencyKey: (scope, key, staleBefore, now) =>
    st(
      'execute',
      'idempotency.take_over',
      'UPDATE idempotency_keys SET locked_at = ? WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND (locked_at IS NULL OR locked_at <= ?)',
      [now, scope, key, staleBefore],
    ),
  bindIdempotencyKey: (scope, key, lockedAt, body, intentPublicId) =>
    st(
      'execute',
      'idempotency.bind',
      'UPDATE idempotency_keys SET response_body = ?, payment_intent_id = COALESCE((SELECT id FROM payment_intents WHERE public_id = ?), payment_intent_id) WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND locked_at = ?',
      [body, intentPublicId, scope, key, lockedAt],
    ),
  saveIdempotencyResponse: (scope, key, code, body, intentPublicId, lockedAt) =>
    st(
      'execute',
      'idempotency.save',
      'UPDATE idempotency_keys SET response_code = ?, response_body = ?, payment_intent_id = COALESCE((SELECT id FROM payment_intents WHERE public_id = ?), payment_intent_id), locked_at = NULL WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND locked_at = ?',
      [code, body, intentPublicId, scope, key, lockedAt],
    ),
  deleteIdempotencyKey: (scope, key) => st('execute', 'idempotency.delete', 'DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ?', [scope, key]),
  deleteExpiredIdempotencyKey: (scope, key, now) =>
    st('execute', 'idempotency.delete_expired', 'DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND expires_at <= ?', [scope, key, now]),
}
