/**
 * The legacy payments schema: the system payctl migrates, and the schema the bundled runtime
 * serves payments from. Kept as a TypeScript string so `tsc` output is complete (no asset copy).
 *
 * Shape (after Stripe's PaymentIntent and Hyperswitch's intent/attempt split):
 * customers 1-N payment_methods; customers 1-N payment_intents 1-N payment_attempts
 * (composite key); refunds point at the captured attempt (composite foreign key); a double-entry
 * ledger (entries of one txn_id sum to zero); one stored-value wallet per customer at most with
 * its transactions; idempotency keys (composite key, replayed responses); a transactional outbox.
 *
 * Conventions: money is DECIMAL(19,4) in major units (4 places so fees and FX keep precision);
 * times are DATETIME(6) in UTC; public ids are case-sensitive (ascii_bin) so "pi_aB" and "pi_Ab"
 * differ; card data is limited to what PCI DSS allows outside the vault (BIN, last 4, expiry, a
 * keyed fingerprint) - no card number and no CVV ever.
 */

export const LEGACY_DATABASE = 'payments'

/** Tables in foreign-key order (parents first). */
export const LEGACY_TABLES = [
  'customers',
  'payment_methods',
  'wallets',
  'payment_intents',
  'payment_attempts',
  'refunds',
  'wallet_transactions',
  'ledger_entries',
  'idempotency_keys',
  'outbox_events',
] as const
export type LegacyTable = (typeof LEGACY_TABLES)[number]

export const LEGACY_SCHEMA_SQL = `
CREATE TABLE customers (
  id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id          VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  email              VARCHAR(254) NULL,
  name               VARCHAR(200) NULL,
  phone              VARCHAR(32) NULL,
  country            CHAR(2) CHARACTER SET ascii NULL,
  preferred_currency CHAR(3) CHARACTER SET ascii NOT NULL DEFAULT 'USD',
  metadata           JSON NULL,
  created_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at         DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_customers_public_id (public_id),
  KEY ix_customers_email (email),
  KEY ix_customers_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_methods (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id       VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_id     BIGINT UNSIGNED NOT NULL,
  type            ENUM('card','wallet','upi','bnpl') NOT NULL,
  vault_token     VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'the card in the vault; the card number never enters this database',
  card_brand      VARCHAR(16) CHARACTER SET ascii NULL,
  card_bin        CHAR(8) CHARACTER SET ascii NULL COMMENT '6-digit (legacy) or 8-digit BIN',
  card_last4      CHAR(4) CHARACTER SET ascii NULL,
  exp_month       TINYINT UNSIGNED NULL,
  exp_year        SMALLINT UNSIGNED NULL,
  fingerprint     VARBINARY(32) NULL COMMENT 'HMAC-SHA256 of the card under the fingerprint key: finds duplicates, reveals nothing',
  wallet_provider VARCHAR(32) CHARACTER SET ascii NULL,
  upi_vpa         VARCHAR(255) NULL,
  bnpl_provider   VARCHAR(32) CHARACTER SET ascii NULL,
  billing_name    VARCHAR(200) NULL,
  status          ENUM('active','expired','detached') NOT NULL DEFAULT 'active',
  created_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at      DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_payment_methods_public_id (public_id),
  KEY ix_payment_methods_customer (customer_id, status),
  KEY ix_payment_methods_fingerprint (fingerprint),
  CONSTRAINT fk_payment_methods_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT ck_payment_methods_exp_month CHECK (exp_month IS NULL OR exp_month BETWEEN 1 AND 12)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wallets (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_id BIGINT UNSIGNED NOT NULL,
  currency    CHAR(3) CHARACTER SET ascii NOT NULL,
  balance     DECIMAL(19,4) NOT NULL DEFAULT 0 COMMENT 'equals the sum of wallet_transactions.amount',
  status      ENUM('active','frozen','closed') NOT NULL DEFAULT 'active',
  version     INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'optimistic locking: bumped by every balance change',
  created_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_wallets_public_id (public_id),
  UNIQUE KEY uq_wallets_customer (customer_id),
  CONSTRAINT fk_wallets_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT ck_wallets_balance CHECK (balance >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_intents (
  id                   BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id            VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  customer_id          BIGINT UNSIGNED NOT NULL,
  payment_method_id    BIGINT UNSIGNED NULL,
  amount               DECIMAL(19,4) NOT NULL,
  currency             CHAR(3) CHARACTER SET ascii NOT NULL,
  status               ENUM('requires_payment_method','requires_confirmation','requires_action','processing','requires_capture','succeeded','canceled') NOT NULL DEFAULT 'requires_payment_method',
  capture_method       ENUM('automatic','manual') NOT NULL DEFAULT 'automatic',
  amount_capturable    DECIMAL(19,4) NOT NULL DEFAULT 0,
  amount_received      DECIMAL(19,4) NOT NULL DEFAULT 0,
  attempt_count        TINYINT UNSIGNED NOT NULL DEFAULT 0,
  description          VARCHAR(255) NULL,
  statement_descriptor VARCHAR(22) NULL,
  cancellation_reason  ENUM('duplicate','fraudulent','requested_by_customer','abandoned','automatic') NULL,
  last_error_code      VARCHAR(64) CHARACTER SET ascii NULL,
  metadata             JSON NULL,
  version              INT UNSIGNED NOT NULL DEFAULT 1 COMMENT 'optimistic locking: UPDATE ... WHERE id = ? AND version = ?',
  created_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at           DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  succeeded_at         DATETIME(6) NULL,
  canceled_at          DATETIME(6) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_payment_intents_public_id (public_id),
  KEY ix_payment_intents_customer (customer_id, created_at),
  KEY ix_payment_intents_status (status, created_at),
  KEY ix_payment_intents_payment_method (payment_method_id),
  KEY ix_payment_intents_updated_at (updated_at),
  CONSTRAINT fk_payment_intents_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT fk_payment_intents_payment_method FOREIGN KEY (payment_method_id) REFERENCES payment_methods (id),
  CONSTRAINT ck_payment_intents_amount CHECK (amount > 0),
  CONSTRAINT ck_payment_intents_received CHECK (amount_received >= 0 AND amount_received <= amount),
  CONSTRAINT ck_payment_intents_capturable CHECK (amount_capturable >= 0 AND amount_capturable <= amount)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE payment_attempts (
  payment_intent_id        BIGINT UNSIGNED NOT NULL,
  attempt_no               TINYINT UNSIGNED NOT NULL,
  payment_method_id        BIGINT UNSIGNED NOT NULL,
  connector                VARCHAR(32) CHARACTER SET ascii NOT NULL,
  status                   ENUM('started','requires_action','pending','authorized','captured','failed','voided') NOT NULL,
  amount                   DECIMAL(19,4) NOT NULL,
  currency                 CHAR(3) CHARACTER SET ascii NOT NULL,
  authentication_type      ENUM('no_three_ds','three_ds') NOT NULL DEFAULT 'no_three_ds',
  processor_response_code  VARCHAR(16) CHARACTER SET ascii NULL,
  decline_code             VARCHAR(64) CHARACTER SET ascii NULL,
  decline_reason           VARCHAR(255) NULL,
  connector_transaction_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  network_transaction_id   VARCHAR(32) CHARACTER SET ascii NULL,
  latency_ms               INT UNSIGNED NULL,
  created_at               DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at               DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (payment_intent_id, attempt_no),
  KEY ix_payment_attempts_status (status, created_at),
  KEY ix_payment_attempts_payment_method (payment_method_id),
  KEY ix_payment_attempts_connector_txn (connector, connector_transaction_id),
  CONSTRAINT fk_payment_attempts_intent FOREIGN KEY (payment_intent_id) REFERENCES payment_intents (id),
  CONSTRAINT fk_payment_attempts_payment_method FOREIGN KEY (payment_method_id) REFERENCES payment_methods (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE refunds (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id           VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payment_intent_id   BIGINT UNSIGNED NOT NULL,
  attempt_no          TINYINT UNSIGNED NOT NULL COMMENT 'the captured attempt being refunded',
  amount              DECIMAL(19,4) NOT NULL,
  currency            CHAR(3) CHARACTER SET ascii NOT NULL,
  reason              ENUM('duplicate','fraudulent','requested_by_customer') NULL,
  status              ENUM('pending','succeeded','failed','canceled') NOT NULL DEFAULT 'pending',
  failure_reason      VARCHAR(64) CHARACTER SET ascii NULL,
  connector_refund_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
  created_at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at          DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY uq_refunds_public_id (public_id),
  KEY ix_refunds_intent_attempt (payment_intent_id, attempt_no),
  KEY ix_refunds_status (status, created_at),
  CONSTRAINT fk_refunds_attempt FOREIGN KEY (payment_intent_id, attempt_no) REFERENCES payment_attempts (payment_intent_id, attempt_no),
  CONSTRAINT ck_refunds_amount CHECK (amount > 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE wallet_transactions (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  wallet_id         BIGINT UNSIGNED NOT NULL,
  kind              ENUM('top_up','payment','refund') NOT NULL,
  amount            DECIMAL(19,4) NOT NULL COMMENT 'signed: top-ups and refunds > 0, payments < 0',
  balance_after     DECIMAL(19,4) NOT NULL,
  currency          CHAR(3) CHARACTER SET ascii NOT NULL,
  payment_intent_id BIGINT UNSIGNED NULL,
  refund_id         BIGINT UNSIGNED NULL,
  reference         VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'top-up reference at the funding processor',
  created_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  KEY ix_wallet_transactions_wallet (wallet_id, created_at),
  KEY ix_wallet_transactions_intent (payment_intent_id),
  KEY ix_wallet_transactions_refund (refund_id),
  CONSTRAINT fk_wallet_transactions_wallet FOREIGN KEY (wallet_id) REFERENCES wallets (id),
  CONSTRAINT fk_wallet_transactions_intent FOREIGN KEY (payment_intent_id) REFERENCES payment_intents (id),
  CONSTRAINT fk_wallet_transactions_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT ck_wallet_transactions_balance CHECK (balance_after >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE ledger_entries (
  txn_id                BIGINT UNSIGNED NOT NULL,
  entry_no              TINYINT UNSIGNED NOT NULL,
  txn_type              ENUM('capture','refund','wallet_top_up','wallet_payment','wallet_refund') NOT NULL,
  account               VARCHAR(64) CHARACTER SET ascii NOT NULL,
  amount                DECIMAL(19,4) NOT NULL COMMENT 'signed: debit > 0, credit < 0; the entries of one txn_id sum to zero',
  currency              CHAR(3) CHARACTER SET ascii NOT NULL,
  payment_intent_id     BIGINT UNSIGNED NULL,
  refund_id             BIGINT UNSIGNED NULL,
  wallet_transaction_id BIGINT UNSIGNED NULL,
  created_at            DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (txn_id, entry_no),
  KEY ix_ledger_entries_account (account, created_at),
  KEY ix_ledger_entries_intent (payment_intent_id),
  KEY ix_ledger_entries_refund (refund_id),
  KEY ix_ledger_entries_wallet_txn (wallet_transaction_id),
  CONSTRAINT fk_ledger_entries_intent FOREIGN KEY (payment_intent_id) REFERENCES payment_intents (id),
  CONSTRAINT fk_ledger_entries_refund FOREIGN KEY (refund_id) REFERENCES refunds (id),
  CONSTRAINT fk_ledger_entries_wallet_txn FOREIGN KEY (wallet_transaction_id) REFERENCES wallet_transactions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE idempotency_keys (
  scope             VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'the API key the request came with',
  idem_key          VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  request_method    VARCHAR(8) CHARACTER SET ascii NOT NULL,
  request_path      VARCHAR(255) CHARACTER SET ascii NOT NULL,
  request_hash      BINARY(32) NOT NULL COMMENT 'SHA-256 of the canonical request; a reuse with other parameters is refused',
  response_code     SMALLINT UNSIGNED NULL,
  response_body     JSON NULL,
  payment_intent_id BIGINT UNSIGNED NULL,
  locked_at         DATETIME(6) NULL COMMENT 'set while a request holds the key; NULL once its response is saved',
  created_at        DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  expires_at        DATETIME(6) NOT NULL,
  PRIMARY KEY (scope, idem_key),
  KEY ix_idempotency_keys_expires (expires_at),
  KEY ix_idempotency_keys_intent (payment_intent_id),
  CONSTRAINT fk_idempotency_keys_intent FOREIGN KEY (payment_intent_id) REFERENCES payment_intents (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE outbox_events (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  aggregate_type VARCHAR(32) CHARACTER SET ascii NOT NULL,
  aggregate_id   VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  event_type     VARCHAR(64) CHARACTER SET ascii NOT NULL,
  payload        JSON NOT NULL,
  created_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  published_at   DATETIME(6) NULL COMMENT 'NULL until the relay has delivered it',
  PRIMARY KEY (id),
  KEY ix_outbox_events_unpublished (published_at, id),
  KEY ix_outbox_events_aggregate (aggregate_type, aggregate_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
`
