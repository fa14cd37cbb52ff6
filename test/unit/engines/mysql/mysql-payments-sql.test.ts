// Pins the exact MySQL-family SQL the payment service (runtime/) sends, statement by statement, with its parameter order.
import {describe, expect, it} from 'vitest'
import {mysqlPaymentsSql} from '../../../../src/engines/mysql/mysql-payments-sql.js'
import type {PaymentsSql, Statement} from '../../../../src/engines/payments-sql.js'

const T = new Date('2026-01-02T03:04:05.678Z')
const FP = Buffer.alloc(32, 1)
const S: PaymentsSql = mysqlPaymentsSql
const shape = (s: Statement) => ({kind: s.kind, op: s.op, sql: s.sql, params: s.params})

describe('mysql payments SQL', () => {
  it("ping", () => {
    expect(shape(S.ping())).toEqual({
      kind: "query",
      op: "ping",
      sql: "SELECT 1 AS ok",
      params: [],
    })
  })

  it("insertCustomer", () => {
    expect(shape(S.insertCustomer({publicId: 'cus_1', email: 'a@b.c', name: 'A', metadata: null, now: T}))).toEqual({
      kind: "insert",
      op: "customer.insert",
      sql: "INSERT INTO customers (public_id, email, name, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
      params: ["cus_1","a@b.c","A",null,T,T],
    })
  })

  it("customerByPublicId", () => {
    expect(shape(S.customerByPublicId('cus_1'))).toEqual({
      kind: "query",
      op: "customer.get",
      sql: "SELECT c.id, c.public_id, c.email, c.name, c.metadata, c.created_at FROM customers c WHERE c.public_id = ?",
      params: ["cus_1"],
    })
  })

  it("insertCardMethod", () => {
    expect(shape(S.insertCardMethod({publicId: 'pm_1', customerId: '7', vaultToken: 'tok_1', brand: 'visa', bin: '42424242', last4: '4242', expMonth: 12, expYear: 2030, fingerprint: FP, now: T}))).toEqual({
      kind: "insert",
      op: "payment_method.insert",
      sql: "INSERT INTO payment_methods (public_id, customer_id, type, vault_token, card_brand, card_bin, card_last4, exp_month, exp_year, fingerprint, status, created_at, updated_at) VALUES (?, ?, 'card', ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
      params: ["pm_1","7","tok_1","visa","42424242","4242",12,2030,FP,T,T],
    })
  })

  it("paymentMethodByPublicId", () => {
    expect(shape(S.paymentMethodByPublicId('pm_1'))).toEqual({
      kind: "query",
      op: "payment_method.get",
      sql: "SELECT pm.id, pm.public_id, pm.customer_id, c.public_id AS customer_public_id, pm.type, pm.vault_token, pm.card_brand, pm.card_bin, pm.card_last4, pm.exp_month, pm.exp_year, pm.fingerprint, pm.status, pm.created_at FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.public_id = ?",
      params: ["pm_1"],
    })
  })

  it("paymentMethodById", () => {
    expect(shape(S.paymentMethodById('9'))).toEqual({
      kind: "query",
      op: "payment_method.get_by_id",
      sql: "SELECT pm.id, pm.public_id, pm.customer_id, c.public_id AS customer_public_id, pm.type, pm.vault_token, pm.card_brand, pm.card_bin, pm.card_last4, pm.exp_month, pm.exp_year, pm.fingerprint, pm.status, pm.created_at FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.id = ?",
      params: ["9"],
    })
  })

  it("paymentMethodsByCustomer", () => {
    expect(shape(S.paymentMethodsByCustomer('7', 11))).toEqual({
      kind: "query",
      op: "payment_method.list",
      sql: "SELECT pm.id, pm.public_id, pm.customer_id, c.public_id AS customer_public_id, pm.type, pm.vault_token, pm.card_brand, pm.card_bin, pm.card_last4, pm.exp_month, pm.exp_year, pm.fingerprint, pm.status, pm.created_at FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE pm.customer_id = ? AND pm.status = 'active' ORDER BY pm.id DESC LIMIT ?",
      params: ["7",11],
    })
  })

  it("insertIntent", () => {
    expect(shape(S.insertIntent({publicId: 'pi_1', customerId: '7', paymentMethodId: null, amount: '10.9900', currency: 'USD', status: 'requires_payment_method', captureMethod: 'automatic', description: null, metadata: null, now: T}))).toEqual({
      kind: "insert",
      op: "payment_intent.insert",
      sql: "INSERT INTO payment_intents (public_id, customer_id, payment_method_id, amount, currency, status, capture_method, description, metadata, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
      params: ["pi_1","7",null,"10.9900","USD","requires_payment_method","automatic",null,null,T,T],
    })
  })

  it("intentByPublicId", () => {
    expect(shape(S.intentByPublicId('pi_1'))).toEqual({
      kind: "query",
      op: "payment_intent.get",
      sql: "SELECT pi.id, pi.public_id, pi.customer_id, c.public_id AS customer_public_id, pi.payment_method_id, pm.public_id AS payment_method_public_id, pi.amount, pi.currency, pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received, pi.attempt_count, pi.description, pi.cancellation_reason, pi.last_error_code, pi.metadata, pi.version, pi.created_at, pi.succeeded_at, pi.canceled_at\nFROM payment_intents pi\nJOIN customers c ON c.id = pi.customer_id\nLEFT JOIN payment_methods pm ON pm.id = pi.payment_method_id\nWHERE pi.public_id = ?",
      params: ["pi_1"],
    })
  })

  it("intentByPublicIdForUpdate", () => {
    expect(shape(S.intentByPublicIdForUpdate('pi_1'))).toEqual({
      kind: "query",
      op: "payment_intent.lock",
      sql: "SELECT pi.id, pi.public_id, pi.customer_id, c.public_id AS customer_public_id, pi.payment_method_id, pm.public_id AS payment_method_public_id, pi.amount, pi.currency, pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received, pi.attempt_count, pi.description, pi.cancellation_reason, pi.last_error_code, pi.metadata, pi.version, pi.created_at, pi.succeeded_at, pi.canceled_at\nFROM payment_intents pi\nJOIN customers c ON c.id = pi.customer_id\nLEFT JOIN payment_methods pm ON pm.id = pi.payment_method_id\nWHERE pi.public_id = ?\nFOR UPDATE",
      params: ["pi_1"],
    })
  })

  it("intentsByCustomer (first page)", () => {
    expect(shape(S.intentsByCustomer('7', null, 11))).toEqual({
      kind: "query",
      op: "payment_intent.list",
      sql: "SELECT pi.id, pi.public_id, pi.customer_id, c.public_id AS customer_public_id, pi.payment_method_id, pm.public_id AS payment_method_public_id, pi.amount, pi.currency, pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received, pi.attempt_count, pi.description, pi.cancellation_reason, pi.last_error_code, pi.metadata, pi.version, pi.created_at, pi.succeeded_at, pi.canceled_at\nFROM payment_intents pi\nJOIN customers c ON c.id = pi.customer_id\nLEFT JOIN payment_methods pm ON pm.id = pi.payment_method_id\nWHERE pi.customer_id = ?\nORDER BY pi.created_at DESC, pi.id DESC\nLIMIT ?",
      params: ["7",11],
    })
  })

  it("intentsByCustomer (after a cursor)", () => {
    expect(shape(S.intentsByCustomer('7', {createdAt: T, id: '42'}, 11))).toEqual({
      kind: "query",
      op: "payment_intent.list",
      sql: "SELECT pi.id, pi.public_id, pi.customer_id, c.public_id AS customer_public_id, pi.payment_method_id, pm.public_id AS payment_method_public_id, pi.amount, pi.currency, pi.status, pi.capture_method, pi.amount_capturable, pi.amount_received, pi.attempt_count, pi.description, pi.cancellation_reason, pi.last_error_code, pi.metadata, pi.version, pi.created_at, pi.succeeded_at, pi.canceled_at\nFROM payment_intents pi\nJOIN customers c ON c.id = pi.customer_id\nLEFT JOIN payment_methods pm ON pm.id = pi.payment_method_id\nWHERE pi.customer_id = ? AND (pi.created_at < ? OR (pi.created_at = ? AND pi.id < ?))\nORDER BY pi.created_at DESC, pi.id DESC\nLIMIT ?",
      params: ["7",T,T,"42",11],
    })
  })

  it("updateIntent", () => {
    expect(shape(S.updateIntent({id: '5', expectedVersion: 3, status: 'succeeded', paymentMethodId: '9', amountCapturable: '0', amountReceived: '10.9900', attemptCount: 1, cancellationReason: null, lastErrorCode: null, succeededAt: T, canceledAt: null, now: T}))).toEqual({
      kind: "execute",
      op: "payment_intent.update",
      sql: "UPDATE payment_intents SET status = ?, payment_method_id = ?, amount_capturable = ?, amount_received = ?, attempt_count = ?, cancellation_reason = ?, last_error_code = ?, succeeded_at = ?, canceled_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
      params: ["succeeded","9","0","10.9900",1,null,null,T,null,T,"5",3],
    })
  })

  it("insertAttempt", () => {
    expect(shape(S.insertAttempt({intentId: '5', attemptNo: 1, paymentMethodId: '9', connector: 'simulator', status: 'started', amount: '10.9900', currency: 'USD', now: T}))).toEqual({
      kind: "execute",
      op: "payment_attempt.insert",
      sql: "INSERT INTO payment_attempts (payment_intent_id, attempt_no, payment_method_id, connector, status, amount, currency, authentication_type, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'no_three_ds', ?, ?)",
      params: ["5",1,"9","simulator","started","10.9900","USD",T,T],
    })
  })

  it("updateAttempt", () => {
    expect(shape(S.updateAttempt({intentId: '5', attemptNo: 1, status: 'captured', authenticationType: 'no_three_ds', responseCode: '00', declineCode: null, declineReason: null, connectorTransactionId: 'sim_1', networkTransactionId: 'n1', latencyMs: 3, now: T}))).toEqual({
      kind: "execute",
      op: "payment_attempt.update",
      sql: "UPDATE payment_attempts SET status = ?, authentication_type = ?, processor_response_code = ?, decline_code = ?, decline_reason = ?, connector_transaction_id = ?, network_transaction_id = ?, latency_ms = ?, updated_at = ? WHERE payment_intent_id = ? AND attempt_no = ?",
      params: ["captured","no_three_ds","00",null,null,"sim_1","n1",3,T,"5",1],
    })
  })

  it("attemptsByIntent", () => {
    expect(shape(S.attemptsByIntent('5'))).toEqual({
      kind: "query",
      op: "payment_attempt.list",
      sql: "SELECT a.payment_intent_id, a.attempt_no, a.payment_method_id, pm.public_id AS payment_method_public_id, a.connector, a.status, a.amount, a.currency, a.authentication_type, a.processor_response_code, a.decline_code, a.decline_reason, a.connector_transaction_id, a.network_transaction_id, a.latency_ms, a.created_at FROM payment_attempts a JOIN payment_methods pm ON pm.id = a.payment_method_id WHERE a.payment_intent_id = ? ORDER BY a.attempt_no",
      params: ["5"],
    })
  })

  it("insertRefund", () => {
    expect(shape(S.insertRefund({publicId: 're_1', intentId: '5', attemptNo: 1, amount: '1.0000', currency: 'USD', reason: null, status: 'pending', connectorRefundId: null, now: T}))).toEqual({
      kind: "insert",
      op: "refund.insert",
      sql: "INSERT INTO refunds (public_id, payment_intent_id, attempt_no, amount, currency, reason, status, connector_refund_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params: ["re_1","5",1,"1.0000","USD",null,"pending",null,T,T],
    })
  })

  it("updateRefund", () => {
    expect(shape(S.updateRefund('8', 'succeeded', 'sim_re_1', null, T))).toEqual({
      kind: "execute",
      op: "refund.update",
      sql: "UPDATE refunds SET status = ?, connector_refund_id = ?, failure_reason = ?, updated_at = ? WHERE id = ?",
      params: ["succeeded","sim_re_1",null,T,"8"],
    })
  })

  it("refundByPublicId", () => {
    expect(shape(S.refundByPublicId('re_1'))).toEqual({
      kind: "query",
      op: "refund.get",
      sql: "SELECT r.id, r.public_id, r.payment_intent_id, pi.public_id AS payment_intent_public_id, r.attempt_no, r.amount, r.currency, r.reason, r.status, r.failure_reason, r.connector_refund_id, r.created_at FROM refunds r JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE r.public_id = ?",
      params: ["re_1"],
    })
  })

  it("refundedTotal", () => {
    expect(shape(S.refundedTotal('5'))).toEqual({
      kind: "query",
      op: "refund.total",
      sql: "SELECT COALESCE(SUM(amount), 0) AS refunded FROM refunds WHERE payment_intent_id = ? AND status IN ('pending', 'succeeded')",
      params: ["5"],
    })
  })

  it("ensureWallet", () => {
    expect(shape(S.ensureWallet({publicId: 'wal_1', customerId: '7', currency: 'USD', now: T}))).toEqual({
      kind: "execute",
      op: "wallet.ensure",
      sql: "INSERT INTO wallets (public_id, customer_id, currency, balance, status, version, created_at, updated_at) VALUES (?, ?, ?, 0, 'active', 0, ?, ?) ON DUPLICATE KEY UPDATE id = id",
      params: ["wal_1","7","USD",T,T],
    })
  })

  it("walletByCustomer", () => {
    expect(shape(S.walletByCustomer('7'))).toEqual({
      kind: "query",
      op: "wallet.get",
      sql: "SELECT id, public_id, customer_id, currency, balance, status, version FROM wallets WHERE customer_id = ?",
      params: ["7"],
    })
  })

  it("walletByCustomerForUpdate", () => {
    expect(shape(S.walletByCustomerForUpdate('7'))).toEqual({
      kind: "query",
      op: "wallet.lock",
      sql: "SELECT id, public_id, customer_id, currency, balance, status, version FROM wallets WHERE customer_id = ? FOR UPDATE",
      params: ["7"],
    })
  })

  it("updateWalletBalance", () => {
    expect(shape(S.updateWalletBalance('3', '12.0000', 4, T))).toEqual({
      kind: "execute",
      op: "wallet.update",
      sql: "UPDATE wallets SET balance = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
      params: ["12.0000",T,"3",4],
    })
  })

  it("insertWalletTransaction", () => {
    expect(shape(S.insertWalletTransaction({walletId: '3', kind: 'top_up', amount: '12.0000', balanceAfter: '12.0000', currency: 'USD', paymentIntentId: null, reference: 'sim_1', now: T}))).toEqual({
      kind: "insert",
      op: "wallet_transaction.insert",
      sql: "INSERT INTO wallet_transactions (wallet_id, kind, amount, balance_after, currency, payment_intent_id, reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      params: ["3","top_up","12.0000","12.0000","USD",null,"sim_1",T],
    })
  })

  it("walletTransactions", () => {
    expect(shape(S.walletTransactions('3', 10))).toEqual({
      kind: "query",
      op: "wallet_transaction.list",
      sql: "SELECT id, kind, amount, balance_after, currency, reference, created_at FROM wallet_transactions WHERE wallet_id = ? ORDER BY id DESC LIMIT ?",
      params: ["3",10],
    })
  })

  it("insertLedgerEntries (two entries)", () => {
    expect(shape(S.insertLedgerEntries([{txnId: '1099511627777', entryNo: 1, txnType: 'wallet_payment', account: 'liabilities:customer_wallets', amount: '1.0000', currency: 'USD', paymentIntentId: null, refundId: null, walletTransactionId: '4', now: T}, {txnId: '1099511627777', entryNo: 2, txnType: 'wallet_payment', account: 'revenue:sales', amount: '-1.0000', currency: 'USD', paymentIntentId: null, refundId: null, walletTransactionId: '4', now: T}]))).toEqual({
      kind: "execute",
      op: "ledger.insert",
      sql: "INSERT INTO ledger_entries (txn_id, entry_no, txn_type, account, amount, currency, payment_intent_id, refund_id, wallet_transaction_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      params: ["1099511627777",1,"wallet_payment","liabilities:customer_wallets","1.0000","USD",null,null,"4",T,"1099511627777",2,"wallet_payment","revenue:sales","-1.0000","USD",null,null,"4",T],
    })
  })

  it("ledgerBalances", () => {
    expect(shape(S.ledgerBalances())).toEqual({
      kind: "query",
      op: "ledger.balances",
      sql: "SELECT account, currency, SUM(amount) AS balance FROM ledger_entries GROUP BY account, currency ORDER BY account, currency",
      params: [],
    })
  })

  it("ledgerUnbalancedTxns", () => {
    expect(shape(S.ledgerUnbalancedTxns(100))).toEqual({
      kind: "query",
      op: "ledger.unbalanced",
      sql: "SELECT txn_id, SUM(amount) AS total FROM ledger_entries GROUP BY txn_id HAVING SUM(amount) <> 0 ORDER BY txn_id LIMIT ?",
      params: [100],
    })
  })

  it("insertOutboxEvent", () => {
    expect(shape(S.insertOutboxEvent({aggregateType: 'payment_intent', aggregateId: 'pi_1', eventType: 'payment_intent.created', payload: '{}', now: T}))).toEqual({
      kind: "execute",
      op: "outbox.insert",
      sql: "INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
      params: ["payment_intent","pi_1","payment_intent.created","{}",T],
    })
  })

  it("insertIdempotencyKey", () => {
    expect(shape(S.insertIdempotencyKey({scope: 'cus_1', key: 'k1', method: 'POST', path: '/v1/payment_intents', hash: FP, now: T, expiresAt: T}))).toEqual({
      kind: "execute",
      op: "idempotency.insert",
      sql: "INSERT INTO idempotency_keys (scope, idem_key, request_method, request_path, request_hash, locked_at, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      params: ["cus_1","k1","POST","/v1/payment_intents",FP,T,T,T],
    })
  })

  it("idempotencyKey", () => {
    expect(shape(S.idempotencyKey('cus_1', 'k1'))).toEqual({
      kind: "query",
      op: "idempotency.get",
      sql: "SELECT request_method, request_path, request_hash, response_code, response_body, locked_at, expires_at FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
      params: ["cus_1","k1"],
    })
  })

  it("takeOverIdempotencyKey", () => {
    expect(shape(S.takeOverIdempotencyKey('cus_1', 'k1', T, T))).toEqual({
      kind: "execute",
      op: "idempotency.take_over",
      sql: "UPDATE idempotency_keys SET locked_at = ? WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND (locked_at IS NULL OR locked_at <= ?)",
      params: [T,"cus_1","k1",T],
    })
  })

  it("bindIdempotencyKey", () => {
    expect(shape(S.bindIdempotencyKey('cus_1', 'k1', T, '{"bound":{}}', 'pi_1'))).toEqual({
      kind: "execute",
      op: "idempotency.bind",
      sql: "UPDATE idempotency_keys SET response_body = ?, payment_intent_id = COALESCE((SELECT id FROM payment_intents WHERE public_id = ?), payment_intent_id) WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND locked_at = ?",
      params: ['{"bound":{}}',"pi_1","cus_1","k1",T],
    })
  })

  it("saveIdempotencyResponse", () => {
    expect(shape(S.saveIdempotencyResponse('cus_1', 'k1', 200, '{}', 'pi_1', T))).toEqual({
      kind: "execute",
      op: "idempotency.save",
      sql: "UPDATE idempotency_keys SET response_code = ?, response_body = ?, payment_intent_id = COALESCE((SELECT id FROM payment_intents WHERE public_id = ?), payment_intent_id), locked_at = NULL WHERE scope = ? AND idem_key = ? AND response_code IS NULL AND locked_at = ?",
      params: [200,"{}","pi_1","cus_1","k1",T],
    })
  })

  it("deleteIdempotencyKey", () => {
    expect(shape(S.deleteIdempotencyKey('cus_1', 'k1'))).toEqual({
      kind: "execute",
      op: "idempotency.delete",
      sql: "DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ?",
      params: ["cus_1","k1"],
    })
  })

  it("deleteExpiredIdempotencyKey", () => {
    expect(shape(S.deleteExpiredIdempotencyKey('cus_1', 'k1', T))).toEqual({
      kind: "execute",
      op: "idempotency.delete_expired",
      sql: "DELETE FROM idempotency_keys WHERE scope = ? AND idem_key = ? AND expires_at <= ?",
      params: ["cus_1","k1",T],
    })
  })

  it('pins every statement of the interface (a new one needs its test here)', () => {
    const statements = Object.keys(S).filter((k) => typeof (S as unknown as Record<string, unknown>)[k] === 'function').sort()
    expect(statements).toEqual([
      'attemptsByIntent', 'bindIdempotencyKey', 'customerByPublicId', 'deleteExpiredIdempotencyKey', 'deleteIdempotencyKey', 'ensureWallet', 'idempotencyKey', 'insertAttempt',
      'insertCardMethod', 'insertCustomer', 'insertIdempotencyKey', 'insertIntent', 'insertLedgerEntries', 'insertOutboxEvent', 'insertRefund',
      'insertWalletTransaction', 'intentByPublicId', 'intentByPublicIdForUpdate', 'intentsByCustomer', 'ledgerBalances', 'ledgerUnbalancedTxns',
      'paymentMethodById', 'paymentMethodByPublicId', 'paymentMethodsByCustomer', 'ping', 'refundByPublicId', 'refundedTotal', 'saveIdempotencyResponse',
      'takeOverIdempotencyKey', 'updateAttempt', 'updateIntent', 'updateRefund', 'updateWalletBalance', 'walletByCustomer', 'walletByCustomerForUpdate',
      'walletTransactions',
    ])
    expect(() => S.insertLedgerEntries([])).toThrow(TypeError)
  })
})
