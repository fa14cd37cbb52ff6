/**
 * The sandbox's deterministic payments data set. The same (scale, seed) gives byte-identical rows
 * on every machine: one seeded PRNG (sfc32), a fixed clock that ends at DATASET_END (the real clock
 * is never read), integer arithmetic for money (1 unit = 0.0001 of a currency's major unit).
 *
 * Per `scale` 1 (about 913,000 rows; scale may be fractional, 0.01 gives about 1% of each):
 *   customers            20,000            payment_intents      100,000 (~78% succeeded)
 *   payment_methods     ~33,000            payment_attempts    ~110,000 (1-3 per confirmed intent, the last
 *   wallets             ~10,000                                          decides; none before confirmation)
 *   wallet_transactions ~35,000            refunds               ~7,400 (about 8% of succeeded intents, full or
 *   idempotency_keys    ~53,000                                          1-2 partial)
 *   outbox_events      ~276,000 (one per state change)    ledger_entries ~269,000 (2-3 per txn, summing to zero)
 *
 * Rows are pushed to a sink as they are made (streaming: memory holds a few typed arrays per
 * customer and wallet, and the refunds not yet due, never the rows), in time order per intent;
 * refunds are scheduled on a heap and emitted when the intents' clock passes their time, so
 * wallet balances and ledger transactions follow the order things happened.
 *
 * Invariants the tests check: ledger entries of one txn_id sum to zero; non-failed refunds of an
 * intent never exceed its amount_received; a wallet's balance is the sum of its transactions and
 * each balance_after is the running sum; no text value is a Luhn-valid 13-19 digit run (no PAN).
 * A few deliberately awkward values are always present (first rows): NULL next to '', trailing
 * spaces, non-ASCII and 4-byte UTF-8, apostrophes, DECIMALs using all four places, DATETIME(6) at
 * .000000 and .999999, binary values with leading and trailing 0x00 bytes.
 */
import {luhnValid} from '../cli/redact.js'
import type {LegacyTable} from './legacy-schema.js'
import {Prng, PublicIds} from './prng.js'
import {
  asciiName,
  BNPL_PROVIDERS,
  BNPL_PROVIDERS_IN,
  CARD_DECLINES,
  CHANNELS,
  CONNECTORS,
  type Currency,
  CURRENCIES,
  CURRENCY_WEIGHTS,
  type Decline,
  DESCRIPTIONS,
  EMAIL_DOMAINS,
  FIRST_ASCII,
  FIRST_NAMES,
  LAST_ASCII,
  LAST_NAMES,
  OTHER_DECLINES,
  PROVIDER_CONNECTOR,
  SEGMENTS,
  UPI_DECLINES,
  WALLET_PROVIDERS,
  WALLET_PROVIDERS_IN,
} from './reference-data.js'

/** Bump when the rows for a given (scale, seed) change, so a loaded sandbox is known to differ. */
export const GENERATOR_VERSION = 1

const SECOND = 1_000_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** The data set's "now", in microseconds since the epoch: 2026-01-01T00:00:00Z. */
export const DATASET_END = Date.UTC(2026, 0, 1) * 1000
const START = DATASET_END - 365 * DAY
const CUSTOMERS_FROM = START - 180 * DAY
const CUSTOMERS_TO = DATASET_END - 30 * DAY

export const INTENTS_PER_SCALE = 100_000
export const CUSTOMERS_PER_SCALE = 20_000
export const MIN_SCALE = 0.001
export const MAX_SCALE = 100

export type Cell = string | number | Buffer | null
export type Row = Cell[]

export interface ColumnSpec {
  readonly name: string
  /** Loaded from hex through UNHEX(). */
  readonly binary?: boolean
}

const cols = (...names: string[]): ColumnSpec[] => names.map((n) => (n.startsWith('#') ? {name: n.slice(1), binary: true} : {name: n}))

/** The columns each generated row carries, in order (`#` = binary). Others take their defaults. */
export const TABLE_COLUMNS: Record<LegacyTable, readonly ColumnSpec[]> = {
  customers: cols('id', 'public_id', 'email', 'name', 'phone', 'country', 'preferred_currency', 'metadata', 'created_at', 'updated_at'),
  payment_methods: cols(
    'id', 'public_id', 'customer_id', 'type', 'vault_token', 'card_brand', 'card_bin', 'card_last4', 'exp_month', 'exp_year',
    '#fingerprint', 'wallet_provider', 'upi_vpa', 'bnpl_provider', 'billing_name', 'status', 'created_at', 'updated_at',
  ),
  wallets: cols('id', 'public_id', 'customer_id', 'currency', 'balance', 'status', 'version', 'created_at', 'updated_at'),
  payment_intents: cols(
    'id', 'public_id', 'customer_id', 'payment_method_id', 'amount', 'currency', 'status', 'capture_method', 'amount_capturable',
    'amount_received', 'attempt_count', 'description', 'statement_descriptor', 'cancellation_reason', 'last_error_code', 'metadata',
    'version', 'created_at', 'updated_at', 'succeeded_at', 'canceled_at',
  ),
  payment_attempts: cols(
    'payment_intent_id', 'attempt_no', 'payment_method_id', 'connector', 'status', 'amount', 'currency', 'authentication_type',
    'processor_response_code', 'decline_code', 'decline_reason', 'connector_transaction_id', 'network_transaction_id', 'latency_ms',
    'created_at', 'updated_at',
  ),
  refunds: cols(
    'id', 'public_id', 'payment_intent_id', 'attempt_no', 'amount', 'currency', 'reason', 'status', 'failure_reason', 'connector_refund_id',
    'created_at', 'updated_at',
  ),
  wallet_transactions: cols(
    'id', 'wallet_id', 'kind', 'amount', 'balance_after', 'currency', 'payment_intent_id', 'refund_id', 'reference', 'created_at',
  ),
  ledger_entries: cols(
    'txn_id', 'entry_no', 'txn_type', 'account', 'amount', 'currency', 'payment_intent_id', 'refund_id', 'wallet_transaction_id', 'created_at',
  ),
  idempotency_keys: cols(
    'scope', 'idem_key', 'request_method', 'request_path', '#request_hash', 'response_code', 'response_body', 'payment_intent_id', 'locked_at',
    'created_at', 'expires_at',
  ),
  outbox_events: cols('id', 'aggregate_type', 'aggregate_id', 'event_type', 'payload', 'created_at', 'published_at'),
}

export interface RowSink {
  row(table: LegacyTable, row: Row): void
  /** Awaited every few hundred intents: where a file sink applies backpressure. */
  pace?(): Promise<void>
}

export interface GenerateOptions {
  scale: number
  seed: number
  sink: RowSink
  /** Called every 5,000 intents and at the end. */
  onProgress?: (intentsDone: number, intentsTotal: number) => void
  signal?: AbortSignal
}

export function datasetSize(scale: number): {customers: number; intents: number} {
  return {customers: Math.max(1, Math.round(CUSTOMERS_PER_SCALE * scale)), intents: Math.max(1, Math.round(INTENTS_PER_SCALE * scale))}
}

// ---------------------------------------------------------------------------------------------
// formatting

/** 1 unit = 0.0001; prints a DECIMAL(19,4) literal. */
export function money(units: number): string {
  const abs = units < 0 ? -units : units
  const whole = Math.floor(abs / 10_000)
  const frac = abs - whole * 10_000
  return `${units < 0 ? '-' : ''}${whole}.${String(frac).padStart(4, '0')}`
}

/** Microseconds since the epoch as a DATETIME(6) literal (UTC). */
export function datetime(us: number): string {
  const iso = new Date(Math.floor(us / 1000)).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(us % SECOND).padStart(6, '0')}`
}

/** Payment method kinds as generated (the stored-balance wallet is a `wallet` method of ours). */
const enum Kind {
  Card = 0,
  ExternalWallet = 1,
  Upi = 2,
  Bnpl = 3,
  StoredBalance = 4,
}

const ROUTED_PER_ATTEMPT = 255

// ---------------------------------------------------------------------------------------------

interface RefundJob {
  time: number
  seq: number
  intentId: number
  intentPublicId: string
  attemptNo: number
  connector: string
  currency: number
  units: number
  walletId: number
  reason: string | null
}

/** A binary min-heap of refunds by (time, seq). */
class RefundQueue {
  readonly #items: RefundJob[] = []

  get size(): number {
    return this.#items.length
  }

  peek(): RefundJob | undefined {
    return this.#items[0]
  }

  static #before(a: RefundJob, b: RefundJob): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq)
  }

  push(job: RefundJob): void {
    const items = this.#items
    items.push(job)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent] as RefundJob
      if (!RefundQueue.#before(job, p)) break
      items[i] = p
      i = parent
    }
    items[i] = job
  }

  pop(): RefundJob | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= items.length) break
      const r = l + 1
      const left = items[l] as RefundJob
      const right = items[r]
      const child = right !== undefined && RefundQueue.#before(right, left) ? r : l
      const c = items[child] as RefundJob
      if (!RefundQueue.#before(c, last)) break
      items[i] = c
      i = child
    }
    items[i] = last
    return top
  }
}

interface IntentEvent {
  type: string
  time: number
  status: string
}

/** Salts that keep each table's public ids apart. */
const SALT = {customer: 1, paymentMethod: 2, wallet: 3, intent: 4, refund: 5, token: 6, charge: 7, refundRef: 8, topUp: 9, order: 10} as const

class Generator {
  readonly rng: Prng
  readonly ids: PublicIds
  readonly counts = Object.fromEntries(Object.keys(TABLE_COLUMNS).map((t) => [t, 0])) as Record<LegacyTable, number>
  readonly nCustomers: number
  readonly nIntents: number
  readonly customerStep: number
  readonly apiKeys: string[]

  // per customer (index = id)
  readonly custCurrency: Uint8Array
  readonly custPmStart: Uint32Array
  readonly custPmCount: Uint8Array
  readonly custWallet: Uint32Array
  // per payment method
  pmKind: Uint8Array
  pmConnector: Uint8Array
  // per wallet
  walletCustomer: Uint32Array
  walletBalance: Float64Array
  walletVersion: Uint32Array
  walletCreated: Float64Array
  walletUpdated: Float64Array
  walletClosed: Uint8Array

  pmSeq = 0
  walletSeq = 0
  walletTxnSeq = 0
  ledgerSeq = 0
  refundSeq = 0
  outboxSeq = 0
  refundJobSeq = 0
  readonly refunds = new RefundQueue()

  constructor(
    readonly scale: number,
    readonly seed: number,
    readonly sink: RowSink,
  ) {
    this.rng = new Prng(seed)
    this.ids = new PublicIds(seed)
    const size = datasetSize(scale)
    this.nCustomers = size.customers
    this.nIntents = size.intents
    this.customerStep = (CUSTOMERS_TO - CUSTOMERS_FROM) / this.nCustomers
    const n = this.nCustomers + 1
    this.custCurrency = new Uint8Array(n)
    this.custPmStart = new Uint32Array(n)
    this.custPmCount = new Uint8Array(n)
    this.custWallet = new Uint32Array(n)
    const pmCap = Math.ceil(n * 1.6) + 16
    this.pmKind = new Uint8Array(pmCap)
    this.pmConnector = new Uint8Array(pmCap)
    const wCap = n
    this.walletCustomer = new Uint32Array(wCap)
    this.walletBalance = new Float64Array(wCap)
    this.walletVersion = new Uint32Array(wCap)
    this.walletCreated = new Float64Array(wCap)
    this.walletUpdated = new Float64Array(wCap)
    this.walletClosed = new Uint8Array(wCap)
    this.apiKeys = ['live', 'live', 'mobile'].map((kind) => `ak_${kind}_${this.rng.base62(16)}`)
  }

  emit(table: LegacyTable, row: Row): void {
    this.counts[table]++
    this.sink.row(table, row)
  }

  /** Rounds units to the currency's minor unit (never below one minor unit). */
  round(units: number, currency: Currency): number {
    const q = 10 ** (4 - currency.digits)
    return Math.max(q, Math.round(units / q) * q)
  }

  // -- customers, payment methods, wallets -----------------------------------------------------

  customers(): void {
    const rng = this.rng
    for (let id = 1; id <= this.nCustomers; id++) {
      let created = Math.floor(CUSTOMERS_FROM + (id - 1) * this.customerStep + rng.next() * this.customerStep * 0.9)
      if (id === 1) created -= created % SECOND
      if (id === 2) created = created - (created % SECOND) + 999_999
      const cur = rng.weighted(CURRENCY_WEIGHTS)
      this.custCurrency[id] = cur
      const currency = CURRENCIES[cur] as Currency
      const fi = rng.int(0, FIRST_NAMES.length - 1)
      const li = rng.int(0, LAST_NAMES.length - 1)
      let name: string | null = `${FIRST_NAMES[fi]} ${LAST_NAMES[li]}`
      const nameStyle = rng.next()
      if (nameStyle < 0.015) name = null
      else if (nameStyle < 0.025) name = ''
      else if (nameStyle < 0.045) name = `${name} ` // trailing space, as typed into a form
      let email: string | null = `${FIRST_ASCII[fi]}.${LAST_ASCII[li]}${id}@${rng.pick(EMAIL_DOMAINS)}`
      const emailStyle = rng.next()
      if (emailStyle < 0.03) email = null
      else if (emailStyle < 0.05) email = email.charAt(0).toUpperCase() + email.slice(1).replace('@example', '@Example')
      const phoneStyle = rng.next()
      let phone: string | null = null
      if (phoneStyle < 0.05) phone = ''
      else if (phoneStyle < 0.6) phone = currency.code === 'INR' ? `+91 9${rng.digits(4)} ${rng.digits(5)}` : `+1 ${rng.int(201, 989)}-555-${rng.digits(4)}`
      const country = rng.pick(currency.countries)
      const metaStyle = rng.next()
      let metadata: string | null = null
      if (metaStyle < 0.05) metadata = '{}'
      else if (metaStyle < 0.3) metadata = JSON.stringify({segment: rng.pick(SEGMENTS)})
      else if (metaStyle < 0.38) metadata = JSON.stringify({kyc: {level: rng.int(1, 3), verified: rng.chance(0.8)}, note: 'préférence : e-mail'})
      if (id === 1) {
        name = 'Zoë Ångström '
        phone = ''
        metadata = '{}'
      } else if (id === 2) {
        name = null
        email = null
        phone = null
      } else if (id === 3) {
        name = '李小龙 🐉'
      } else if (id === 4) {
        name = ''
        metadata = null
      } else if (id === 5) {
        name = "Siobhán O'Brien-Núñez"
      }
      const updated = rng.chance(0.2) ? created + rng.int(1, 90) * DAY + rng.int(0, DAY - 1) : created
      this.emit('customers', [
        id, this.ids.make('cus', SALT.customer, id, 14), email, name, phone, country, currency.code, metadata, datetime(created),
        datetime(Math.min(updated, DATASET_END - SECOND)),
      ])
      this.paymentMethods(id, created, cur, name)
    }
  }

  paymentMethods(customerId: number, customerCreated: number, cur: number, name: string | null): void {
    const rng = this.rng
    const currency = CURRENCIES[cur] as Currency
    const india = currency.code === 'INR'
    let count: number = rng.weighted([[0, 10], [1, 70], [2, 15], [3, 5]] as const)
    if (customerId === 1) count = Math.max(count, 1)
    const hasWallet = customerId === 1 || rng.chance(0.5)
    this.custPmStart[customerId] = this.pmSeq + 1
    this.custPmCount[customerId] = count
    this.ensurePmCapacity(this.pmSeq + count + 2)
    for (let k = 0; k < count; k++) {
      let kind = india ? rng.weighted([[Kind.Card, 45], [Kind.Upi, 35], [Kind.ExternalWallet, 12], [Kind.Bnpl, 8]] as const) : rng.weighted([[Kind.Card, 80], [Kind.ExternalWallet, 15], [Kind.Bnpl, 5]] as const)
      if (customerId === 1 && k === 0) kind = Kind.Card
      this.paymentMethod(customerId, customerCreated, kind, currency, name)
    }
    if (hasWallet) {
      // the wallet is created with its payment method
      const created = this.paymentMethod(customerId, customerCreated, Kind.StoredBalance, currency, name)
      const walletId = ++this.walletSeq
      this.custWallet[customerId] = walletId
      this.walletCustomer[walletId] = customerId
      this.walletCreated[walletId] = created
      this.walletUpdated[walletId] = created
      this.walletClosed[walletId] = customerId !== 1 && rng.chance(0.02) ? 1 : 0
      if (this.walletClosed[walletId] === 0 && rng.chance(0.6)) {
        const units = this.round((rng.int(1, 10) * currency.topUpStep) * 10_000, currency)
        this.topUp(walletId, created + rng.int(1, 20) * MINUTE, units)
      }
    }
  }

  ensurePmCapacity(needed: number): void {
    if (needed < this.pmKind.length) return
    const grow = (a: Uint8Array) => {
      const b = new Uint8Array(Math.max(needed + 1, a.length * 2))
      b.set(a)
      return b
    }
    this.pmKind = grow(this.pmKind)
    this.pmConnector = grow(this.pmConnector)
  }

  /** Emits one payment method; returns its creation time. */
  paymentMethod(customerId: number, customerCreated: number, kind: Kind, currency: Currency, name: string | null): number {
    const rng = this.rng
    const id = ++this.pmSeq
    const india = currency.code === 'INR'
    const created = customerCreated + rng.int(1, 30 * 60) * SECOND + rng.int(0, SECOND - 1)
    this.pmKind[id] = kind
    let type: string
    let vaultToken: string | null = null
    let brand: string | null = null
    let bin: string | null = null
    let last4: string | null = null
    let expMonth: number | null = null
    let expYear: number | null = null
    let fingerprint: Buffer | null = null
    let walletProvider: string | null = null
    let vpa: string | null = null
    let bnpl: string | null = null
    let status = 'active'
    let connector = ROUTED_PER_ATTEMPT
    switch (kind) {
      case Kind.Card: {
        type = 'card'
        brand = india ? rng.weighted([['rupay', 30], ['visa', 40], ['mastercard', 30]] as const) : rng.weighted([['visa', 55], ['mastercard', 35], ['amex', 10]] as const)
        const eightDigit = brand !== 'amex' && (id === 1 || rng.chance(0.3))
        const prefix = brand === 'visa' ? '4' : brand === 'mastercard' ? `5${rng.int(1, 5)}` : brand === 'amex' ? rng.pick(['34', '37']) : rng.pick(['60', '65', '81', '82'])
        bin = prefix + rng.digits((eightDigit ? 8 : 6) - prefix.length)
        last4 = rng.digits(4)
        expMonth = rng.int(1, 12)
        expYear = rng.chance(0.05) ? 2025 : rng.int(2026, 2031)
        if (expYear < 2026) status = 'expired'
        vaultToken = this.ids.make('tok', SALT.token, id, 24)
        fingerprint = rng.bytes(32)
        if (id === 1) {
          fingerprint[0] = 0
          fingerprint[31] = 0
        } else if (rng.chance(0.01)) fingerprint[31] = 0
        break
      }
      case Kind.ExternalWallet:
        type = 'wallet'
        walletProvider = india ? rng.pick(WALLET_PROVIDERS_IN) : rng.pick(WALLET_PROVIDERS)
        connector = CONNECTORS.indexOf(PROVIDER_CONNECTOR[walletProvider] ?? 'stripe')
        break
      case Kind.Upi:
        type = 'upi'
        vpa = `${asciiName((name ?? '').split(' ')[0] ?? '')}${rng.int(1, 99)}@${rng.pick(['okhdfcbank', 'okicici', 'oksbi', 'ybl', 'paytm'])}`
        connector = CONNECTORS.indexOf(rng.pick(['razorpay', 'juspay']))
        break
      case Kind.Bnpl:
        type = 'bnpl'
        bnpl = india ? rng.pick(BNPL_PROVIDERS_IN) : rng.pick(BNPL_PROVIDERS)
        connector = CONNECTORS.indexOf(PROVIDER_CONNECTOR[bnpl] ?? 'klarna')
        break
      case Kind.StoredBalance:
        type = 'wallet'
        walletProvider = 'payctl_balance'
        connector = CONNECTORS.indexOf('payctl_wallet')
        break
    }
    this.pmConnector[id] = connector
    const billingName = kind === Kind.Card && rng.chance(0.7) ? name : null
    this.emit('payment_methods', [
      id, this.ids.make('pm', SALT.paymentMethod, id, 24), customerId, type, vaultToken, brand, bin, last4, expMonth, expYear, fingerprint,
      walletProvider, vpa, bnpl, billingName, status, datetime(created), datetime(created),
    ])
    return created
  }

  // -- money movements -------------------------------------------------------------------------

  ledger(type: string, time: number, currency: string, entries: ReadonlyArray<readonly [string, number]>, refs: {intent?: number; refund?: number; walletTxn?: number}): void {
    let sum = 0
    for (const [, units] of entries) sum += units
    if (sum !== 0) throw new Error(`ledger transaction of type ${type} does not balance (${sum})`)
    const txn = ++this.ledgerSeq
    let no = 0
    for (const [account, units] of entries) {
      if (units === 0) continue
      this.emit('ledger_entries', [txn, ++no, type, account, money(units), currency, refs.intent ?? null, refs.refund ?? null, refs.walletTxn ?? null, datetime(time)])
    }
  }

  walletTxn(walletId: number, kind: 'top_up' | 'payment' | 'refund', delta: number, time: number, refs: {intent?: number; refund?: number; reference?: string}): number {
    const balance = (this.walletBalance[walletId] ?? 0) + delta
    if (balance < 0) throw new Error(`wallet ${walletId} would go negative`)
    this.walletBalance[walletId] = balance
    this.walletVersion[walletId] = (this.walletVersion[walletId] ?? 0) + 1
    this.walletUpdated[walletId] = time
    const customer = this.walletCustomer[walletId] ?? 0
    const currency = (CURRENCIES[this.custCurrency[customer] ?? 0] as Currency).code
    const id = ++this.walletTxnSeq
    this.emit('wallet_transactions', [id, walletId, kind, money(delta), money(balance), currency, refs.intent ?? null, refs.refund ?? null, refs.reference ?? null, datetime(time)])
    const walletPublicId = this.ids.make('wal', SALT.wallet, walletId, 16)
    this.outbox('wallet', walletPublicId, delta > 0 ? 'wallet.credited' : 'wallet.debited', time, {
      object: 'wallet_transaction', wallet: walletPublicId, kind, amount: money(delta), balance: money(balance), currency,
    })
    return id
  }

  topUp(walletId: number, time: number, units: number): void {
    const customer = this.walletCustomer[walletId] ?? 0
    const currency = CURRENCIES[this.custCurrency[customer] ?? 0] as Currency
    const connector = currency.cardConnectors[0] ?? 'stripe'
    const txn = this.walletTxn(walletId, 'top_up', units, time, {reference: this.ids.make('tu', SALT.topUp, this.walletTxnSeq + 1, 20)})
    this.ledger('wallet_top_up', time, currency.code, [[`assets:receivable:${connector}`, units], ['liabilities:customer_wallets', -units]], {walletTxn: txn})
  }

  outbox(aggregateType: string, aggregateId: string, eventType: string, time: number, payload: Record<string, unknown>): void {
    const id = ++this.outboxSeq
    // the relay delivers within a second or two; the last few minutes are still waiting
    const published = time > DATASET_END - 10 * MINUTE ? null : datetime(time + this.rng.int(20_000, 2 * SECOND))
    this.emit('outbox_events', [id, aggregateType, aggregateId, eventType, JSON.stringify({type: eventType, ...payload}), datetime(time), published])
  }

  // -- payment intents ---------------------------------------------------------------------------

  pickCustomer(time: number): number {
    const available = Math.min(this.nCustomers, Math.floor((time - HOUR - CUSTOMERS_FROM) / this.customerStep))
    if (available < 1) return 1
    // older customers have had longer to come back: skew towards low ids
    return 1 + Math.min(available - 1, Math.floor(available * Math.pow(this.rng.next(), 0.8)))
  }

  drawAmount(currency: Currency, intentId: number): number {
    const rng = this.rng
    const major = Math.min(currency.median * 400, Math.max(currency.median / 80, currency.median * Math.exp(0.9 * rng.normal())))
    let units = this.round(major * 10_000, currency)
    // metered usage is billed to the ten-thousandth; keep a few such amounts (and always intent 2)
    if (intentId === 2 || (currency.digits > 0 && rng.chance(0.005))) units += rng.int(1, 99)
    return units
  }

  intent(id: number, created: number): void {
    const rng = this.rng
    const customerId = this.pickCustomer(created)
    const cur = this.custCurrency[customerId] ?? 0
    const currency = CURRENCIES[cur] as Currency
    const publicId = this.ids.make('pi', SALT.intent, id, 24)
    const customerPublicId = this.ids.make('cus', SALT.customer, customerId, 14)
    const walletId = this.custWallet[customerId] ?? 0
    const walletUsable = walletId > 0 && this.walletClosed[walletId] === 0
    const general = this.custPmCount[customerId] ?? 0
    const pmStart = this.custPmStart[customerId] ?? 0
    const walletPm = walletId > 0 ? pmStart + general : 0

    let pmId = 0
    if (walletUsable && rng.chance(0.3)) pmId = walletPm
    else if (general > 0) pmId = pmStart + rng.int(0, general - 1)
    else if (walletUsable) pmId = walletPm
    const kind: Kind | null = pmId === 0 ? null : (this.pmKind[pmId] ?? 0)
    const amount = this.drawAmount(currency, id)
    const recent = created > DATASET_END - 3 * DAY
    const manual = kind === Kind.Card && rng.chance(0.12)

    // what happens to this intent
    type Outcome = 'succeeded' | 'failed' | 'canceled' | 'requires_action' | 'processing' | 'requires_confirmation' | 'requires_capture' | 'no_method'
    let outcome: Outcome
    if (kind === null) outcome = 'no_method'
    else if (kind === Kind.StoredBalance) outcome = rng.chance(0.95) ? 'succeeded' : 'canceled'
    else {
      outcome = rng.weighted([['succeeded', 80], ['failed', 7], ['canceled', 4], ['requires_action', 3], ['processing', 2], ['requires_confirmation', 2], ['requires_capture', 2]] as const)
      if (outcome === 'processing' && kind === Kind.Card) outcome = 'succeeded'
      if (outcome === 'requires_capture' && !manual) outcome = 'succeeded'
    }
    let cancellationReason: string | null = null
    let expiredAuthorization = false
    if (!recent) {
      // nothing stays half-done for long: old intents end up succeeded or canceled
      if (outcome === 'processing') outcome = 'succeeded'
      else if (outcome === 'requires_action' || outcome === 'requires_confirmation') {
        outcome = 'canceled'
        cancellationReason = 'abandoned'
      } else if (outcome === 'requires_capture') {
        outcome = 'canceled'
        cancellationReason = 'automatic'
        expiredAuthorization = true
      }
    }
    if (outcome === 'no_method' && !recent && rng.chance(0.6)) {
      outcome = 'canceled'
      cancellationReason = 'abandoned'
    }
    if (outcome === 'canceled' && cancellationReason === null) cancellationReason = rng.weighted([['requested_by_customer', 70], ['duplicate', 20], ['fraudulent', 10]] as const)

    const events: IntentEvent[] = [{type: 'payment_intent.created', time: created, status: pmId === 0 ? 'requires_payment_method' : 'requires_confirmation'}]
    let failures = 0
    let final: 'captured' | 'authorized' | 'voided' | 'requires_action' | 'pending' | null = null
    switch (outcome) {
      case 'succeeded':
        failures = kind === Kind.StoredBalance ? 0 : rng.weighted([[0, 82], [1, 14], [2, 4]] as const)
        final = 'captured'
        break
      case 'failed':
        failures = rng.int(1, 3)
        break
      case 'canceled':
        if (expiredAuthorization) {
          failures = rng.weighted([[0, 80], [1, 20]] as const)
          final = 'voided'
        } else if (kind !== null && kind !== Kind.StoredBalance && cancellationReason !== 'abandoned') failures = rng.weighted([[0, 60], [1, 40]] as const)
        else if (cancellationReason === 'abandoned' && kind !== null && kind !== Kind.StoredBalance && rng.chance(0.5)) final = 'requires_action'
        break
      case 'requires_action':
        failures = rng.weighted([[0, 80], [1, 20]] as const)
        final = 'requires_action'
        break
      case 'processing':
        final = 'pending'
        break
      case 'requires_capture':
        failures = rng.weighted([[0, 85], [1, 15]] as const)
        final = 'authorized'
        break
      case 'requires_confirmation':
      case 'no_method':
        break
    }
    failures = Math.min(failures, final === null ? 3 : 2)

    // attempts, in order; the last one decides
    let t = created + rng.int(2, 180) * SECOND + rng.int(0, SECOND - 1)
    let attemptNo = 0
    let lastDecline: Decline | null = null
    let capturedAttempt = 0
    let capturedConnector = ''
    let succeededAt = 0
    let received = 0
    let capturable = 0
    const attemptCount = failures + (final === null ? 0 : 1)
    if (kind === Kind.StoredBalance && final === 'captured' && walletId > 0) {
      const shortfall = amount - (this.walletBalance[walletId] ?? 0)
      if (shortfall > 0) {
        const step = currency.topUpStep * 10_000
        this.topUp(walletId, t - rng.int(5, 60) * SECOND, (Math.ceil(shortfall / step) + rng.int(0, 3)) * step)
      }
    }
    for (let k = 0; k < attemptCount; k++) {
      attemptNo++
      const isFinal = k === failures
      const connector = this.connectorFor(pmId, currency)
      const latencyMs = kind === Kind.StoredBalance ? rng.int(5, 40) : rng.int(120, 2500)
      const attemptCreated = t
      let updated = t + latencyMs * 1000
      const threeDs = kind === Kind.Card && (final === 'requires_action' ? isFinal : rng.chance(0.2))
      let status: string
      let responseCode: string | null = null
      let decline: Decline | null = null
      let declineReason: string | null = null
      let networkTxnId: string | null = null
      const connectorTxnId = `${connector.slice(0, 3)}_${rng.base62(20)}`
      if (!isFinal) {
        status = 'failed'
        decline = rng.pick(kind === Kind.Card ? CARD_DECLINES : kind === Kind.Upi ? UPI_DECLINES : OTHER_DECLINES)
        responseCode = decline.code
        declineReason = rng.chance(0.03) ? `${decline.reason} ` : decline.reason
        lastDecline = decline
        events.push({type: 'payment_intent.payment_failed', time: updated, status: 'requires_payment_method'})
      } else {
        status = final ?? 'failed'
        if (final === 'captured' || final === 'authorized' || final === 'voided') {
          responseCode = kind === Kind.Upi ? '00' : kind === Kind.Card ? '00' : 'SUCCESS'
          if (kind === Kind.Card) networkTxnId = this.networkTxnId()
        }
        if (final === 'requires_action') {
          events.push({type: 'payment_intent.requires_action', time: updated, status: 'requires_action'})
          if (outcome === 'canceled') events.push({type: 'payment_intent.canceled', time: updated + DAY, status: 'canceled'})
        } else if (final === 'pending') {
          events.push({type: 'payment_intent.processing', time: updated, status: 'processing'})
        } else if (final === 'authorized' || final === 'voided' || (final === 'captured' && manual)) {
          events.push({type: 'payment_intent.amount_capturable_updated', time: updated, status: 'requires_capture'})
          if (final === 'authorized') capturable = amount
          else if (final === 'voided') {
            updated = Math.min(updated + 7 * DAY, DATASET_END - SECOND)
            events.push({type: 'payment_intent.canceled', time: updated, status: 'canceled'})
          } else {
            updated += rng.int(0, Math.max(0, Math.min(48 * HOUR, DATASET_END - updated - SECOND)))
            received = rng.chance(0.15) ? Math.min(amount, this.round(amount * (0.5 + rng.next() * 0.49), currency)) : amount
          }
        } else if (final === 'captured') {
          received = amount
        }
        if (final === 'captured') {
          capturedAttempt = attemptNo
          capturedConnector = connector
          succeededAt = updated
          events.push({type: 'payment_intent.succeeded', time: updated, status: 'succeeded'})
        }
      }
      this.emit('payment_attempts', [
        id, attemptNo, pmId, connector, status, money(amount), currency.code, threeDs ? 'three_ds' : 'no_three_ds', responseCode,
        decline?.declineCode ?? null, declineReason, connectorTxnId, networkTxnId, latencyMs, datetime(attemptCreated), datetime(updated),
      ])
      t = updated + rng.int(5, 120) * SECOND
    }

    if (outcome === 'canceled' && !events.some((e) => e.type === 'payment_intent.canceled')) {
      const cancelAt = cancellationReason === 'abandoned' ? Math.max(t, created + DAY) : t + rng.int(10, 600) * SECOND
      events.push({type: 'payment_intent.canceled', time: cancelAt, status: 'canceled'})
    }
    const status = outcome === 'failed' || outcome === 'no_method' ? 'requires_payment_method' : outcome
    const last = events[events.length - 1] as IntentEvent
    const canceledAt = outcome === 'canceled' ? last.time : null
    const lastErrorCode = (outcome === 'failed' || (outcome === 'canceled' && lastDecline !== null && final === null)) && lastDecline !== null ? lastDecline.declineCode : null

    let description: string | null = rng.pick(DESCRIPTIONS).replace('{n}', String(rng.int(1000, 999_999)))
    const descStyle = rng.next()
    if (descStyle < 0.2) description = null
    else if (descStyle < 0.23) description = ''
    else if (descStyle < 0.25) description = `${description} `
    if (id === 1) description = 'Café crème ×2 '
    else if (id === 3) description = ''
    else if (id === 4) description = null
    const statementDescriptor = rng.chance(0.6) ? 'PAYCTL* SHOP' : null
    const metaStyle = rng.next()
    let metadata: string | null = null
    if (metaStyle < 0.05) metadata = '{}'
    else if (metaStyle < 0.55) metadata = JSON.stringify({order_id: this.ids.make('ord', SALT.order, id, 12), channel: rng.pick(CHANNELS)})
    else if (metaStyle < 0.65) metadata = JSON.stringify({order_id: this.ids.make('ord', SALT.order, id, 12), channel: 'pos', store: {city: rng.pick(['München', 'São Paulo', 'Bengaluru', '東京', 'Zürich']), lane: rng.int(1, 12)}, tags: ['promo', 'été']})

    this.emit('payment_intents', [
      id, publicId, customerId, pmId === 0 ? null : pmId, money(amount), currency.code, status, manual ? 'manual' : 'automatic', money(capturable),
      money(received), attemptCount, description, statementDescriptor, cancellationReason, lastErrorCode, metadata, events.length,
      datetime(created), datetime(last.time), succeededAt === 0 ? null : datetime(succeededAt), canceledAt === null ? null : datetime(canceledAt),
    ])
    for (const e of events) {
      this.outbox('payment_intent', publicId, e.type, e.time, {
        object: 'payment_intent', id: publicId, status: e.status, amount: money(amount), currency: currency.code, customer: customerPublicId,
      })
    }

    // money moves when the payment succeeds
    if (succeededAt !== 0) {
      if (kind === Kind.StoredBalance) {
        const wtx = this.walletTxn(walletId, 'payment', -received, succeededAt, {intent: id})
        this.ledger('wallet_payment', succeededAt, currency.code, [['liabilities:customer_wallets', received], ['revenue:sales', -received]], {intent: id, walletTxn: wtx})
      } else {
        const fee = this.fee(kind ?? Kind.Card, received, currency)
        this.ledger('capture', succeededAt, currency.code, [[`assets:receivable:${capturedConnector}`, received - fee], ['expenses:processing_fees', fee], ['revenue:sales', -received]], {intent: id})
      }
      this.planRefunds(id, publicId, capturedAttempt, capturedConnector, cur, received, succeededAt, kind === Kind.StoredBalance ? walletId : 0)
    }

    this.idempotencyKeys(id, publicId, created, amount, currency, status, pmId, attemptCount, final, lastDecline)
  }

  connectorFor(pmId: number, currency: Currency): string {
    const c = this.pmConnector[pmId] ?? ROUTED_PER_ATTEMPT
    if (c === ROUTED_PER_ATTEMPT) return this.rng.pick(currency.cardConnectors)
    return CONNECTORS[c] ?? 'stripe'
  }

  fee(kind: Kind, units: number, currency: Currency): number {
    switch (kind) {
      case Kind.Card:
        return Math.min(units, Math.round(units * currency.cardFee.rate) + Math.round(currency.cardFee.fixed * 10_000))
      case Kind.Bnpl:
        return Math.round(units * 0.045)
      case Kind.ExternalWallet:
        return Math.round(units * 0.018)
      case Kind.Upi:
      case Kind.StoredBalance:
        return 0
    }
  }

  /** 15 digits like a card network's transaction id; never Luhn-valid, so it cannot pass for a card number. */
  networkTxnId(): string {
    let digits = this.rng.digits(15)
    if (luhnValid(digits)) digits = digits.slice(0, 14) + String((Number(digits.slice(14)) + 1) % 10)
    return digits
  }

  planRefunds(intentId: number, publicId: string, attemptNo: number, connector: string, cur: number, received: number, succeededAt: number, walletId: number): void {
    const rng = this.rng
    const room = DATASET_END - succeededAt - 10 * MINUTE
    if (room <= 0 || !rng.chance(0.08)) return
    const currency = CURRENCIES[cur] as Currency
    const reason = rng.weighted([['requested_by_customer', 70], ['duplicate', 15], ['fraudulent', 5], [null, 10]] as const)
    const first = succeededAt + MINUTE + Math.floor(rng.next() * Math.min(30 * DAY, room))
    const job = (time: number, units: number): RefundJob => ({time, seq: ++this.refundJobSeq, intentId, intentPublicId: publicId, attemptNo, connector, currency: cur, units, walletId, reason})
    const q = 10 ** (4 - currency.digits)
    if (rng.chance(0.7) || received < 4 * q) {
      this.refunds.push(job(first, received))
      return
    }
    // partial: never more than what was received, even if every partial refund succeeds
    const part1 = Math.min(received - q, this.round(received * (0.1 + rng.next() * 0.5), currency))
    this.refunds.push(job(first, part1))
    const left = received - part1
    if (left >= 2 * q && rng.chance(0.4)) {
      const part2 = Math.min(left, this.round(left * (0.1 + rng.next() * 0.8), currency))
      const second = first + Math.floor(rng.next() * Math.max(0, Math.min(7 * DAY, DATASET_END - first - 5 * MINUTE)))
      this.refunds.push(job(Math.max(first, second), part2))
    }
  }

  flushRefunds(upTo: number): void {
    for (let job = this.refunds.peek(); job !== undefined && job.time <= upTo; job = this.refunds.peek()) {
      this.refunds.pop()
      this.refund(job)
    }
  }

  refund(job: RefundJob): void {
    const rng = this.rng
    const currency = CURRENCIES[job.currency] as Currency
    const id = ++this.refundSeq
    const publicId = this.ids.make('re', SALT.refund, id, 24)
    const pendingWindow = job.time > DATASET_END - 2 * DAY
    const status = pendingWindow && rng.chance(0.4) ? 'pending' : rng.chance(0.04) ? 'failed' : 'succeeded'
    const settled = status === 'pending' ? job.time : Math.min(DATASET_END - SECOND, job.time + rng.int(1, 30) * SECOND + rng.int(0, SECOND - 1))
    const failureReason = status === 'failed' ? rng.pick(['expired_or_canceled_card', 'lost_or_stolen_card', 'declined']) : null
    this.emit('refunds', [
      id, publicId, job.intentId, job.attemptNo, money(job.units), currency.code, job.reason, status, failureReason,
      status === 'pending' ? null : this.ids.make(job.connector.slice(0, 3), SALT.refundRef, id, 20), datetime(job.time), datetime(settled),
    ])
    const payload = {object: 'refund', id: publicId, payment_intent: job.intentPublicId, amount: money(job.units), currency: currency.code}
    this.outbox('refund', publicId, 'refund.created', job.time, {...payload, status: 'pending'})
    if (status === 'pending') return
    this.outbox('refund', publicId, `refund.${status}`, settled, {...payload, status})
    if (status !== 'succeeded') return
    if (job.walletId > 0) {
      const wtx = this.walletTxn(job.walletId, 'refund', job.units, settled, {intent: job.intentId, refund: id})
      this.ledger('wallet_refund', settled, currency.code, [['revenue:refunds', job.units], ['liabilities:customer_wallets', -job.units]], {intent: job.intentId, refund: id, walletTxn: wtx})
    } else {
      this.ledger('refund', settled, currency.code, [['revenue:refunds', job.units], [`assets:receivable:${job.connector}`, -job.units]], {intent: job.intentId, refund: id})
    }
  }

  idempotencyKeys(intentId: number, publicId: string, created: number, amount: number, currency: Currency, status: string, pmId: number, attempts: number, final: string | null, lastDecline: Decline | null): void {
    const rng = this.rng
    const scope = rng.pick(this.apiKeys)
    if (rng.chance(0.4)) {
      const inFlight = created > DATASET_END - 2 * MINUTE
      const body = JSON.stringify({id: publicId, object: 'payment_intent', amount: money(amount), currency: currency.code, status: pmId === 0 ? 'requires_payment_method' : 'requires_confirmation'})
      this.emit('idempotency_keys', [
        scope, this.idemKey(intentId === 1), 'POST', '/v1/payment_intents', this.requestHash(intentId), inFlight ? null : 200, inFlight ? null : body,
        intentId, inFlight ? datetime(created) : null, datetime(created), datetime(created + DAY),
      ])
    }
    if (attempts > 0 && rng.chance(0.15)) {
      const declined = final === null && lastDecline !== null
      const body = declined
        ? JSON.stringify({error: {type: 'card_error', code: 'card_declined', decline_code: lastDecline.declineCode, payment_intent: publicId}})
        : JSON.stringify({id: publicId, object: 'payment_intent', status})
      const at = created + rng.int(2, 180) * SECOND
      this.emit('idempotency_keys', [
        scope, this.idemKey(false), 'POST', `/v1/payment_intents/${publicId}/confirm`, this.requestHash(intentId), declined ? 402 : 200, body,
        intentId, null, datetime(at), datetime(at + DAY),
      ])
    }
  }

  /** Client-chosen keys: mostly UUIDs, some free-form (one non-ASCII). */
  idemKey(special: boolean): string {
    const rng = this.rng
    if (special) return 'commande-été-0001'
    const style = rng.next()
    if (style < 0.05) return `order-${rng.base62(10)}-retry`
    const h = rng.hex(32)
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`
  }

  requestHash(intentId: number): Buffer {
    const hash = this.rng.bytes(32)
    if (intentId === 1) {
      hash[0] = 0
      hash[31] = 0
    }
    return hash
  }

  wallets(): void {
    for (let w = 1; w <= this.walletSeq; w++) {
      const customer = this.walletCustomer[w] ?? 0
      const currency = CURRENCIES[this.custCurrency[customer] ?? 0] as Currency
      const balance = this.walletBalance[w] ?? 0
      this.emit('wallets', [
        w, this.ids.make('wal', SALT.wallet, w, 16), customer, currency.code, money(balance), this.walletClosed[w] === 1 ? 'closed' : 'active',
        this.walletVersion[w] ?? 0, datetime(this.walletCreated[w] ?? 0), datetime(this.walletUpdated[w] ?? 0),
      ])
    }
  }
}

/** Streams the whole data set into `sink`; returns the row count per table. */
export async function generateDataset(options: GenerateOptions): Promise<Record<LegacyTable, number>> {
  const {scale, seed, sink} = options
  if (!Number.isFinite(scale) || scale < MIN_SCALE || scale > MAX_SCALE) throw new RangeError(`scale must be between ${MIN_SCALE} and ${MAX_SCALE}`)
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError('seed must be a non-negative integer')
  const g = new Generator(scale, seed, sink)
  g.customers()
  const step = (DATASET_END - START) / g.nIntents
  for (let id = 1; id <= g.nIntents; id++) {
    const created = Math.floor(START + (id - 1) * step + g.rng.next() * step * 0.9)
    g.flushRefunds(created)
    g.intent(id, created)
    if (id % 500 === 0) {
      options.signal?.throwIfAborted()
      await sink.pace?.()
    }
    if (id % 5000 === 0) options.onProgress?.(id, g.nIntents)
  }
  g.flushRefunds(Number.POSITIVE_INFINITY)
  g.wallets()
  options.onProgress?.(g.nIntents, g.nIntents)
  await sink.pace?.()
  return g.counts
}
