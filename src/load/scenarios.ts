/**
 * Load scenarios for the bundled payment service (runtime/): data (how often each flow runs) plus
 * the flows themselves. An iteration is one user flow driven by its own seeded PRNG; the run's
 * pools (customers with saved cards, succeeded payments that can still be refunded) are shared by
 * its iterations and created fresh by `prepare()`.
 *
 * Cards are the runtime's simulated processor's test cards (runtime/src/domain/processor.ts):
 * 4242…/5555… are approved; 4000…0002 (generic decline) and 4000…9995 (insufficient funds) answer
 * 402 card_error. Declines are asked for on purpose, as a small explicit share, expected as 402 and
 * counted (`declined_on_purpose`); every other non-2xx answer is a failed request. Every POST
 * carries an Idempotency-Key (the generator adds a unique one).
 *
 * Checkouts also read, as a shopper's pages do: a returning customer's saved cards, and the payment
 * on the result page, which must show what the last write made of it (a stale read after a shift of
 * reads to the target fails the check).
 *
 * The API has no customer update route, so no flow updates customers; everything else that
 * writes is covered: customers, payment methods, intents created / confirmed / captured (in full
 * and in part) / canceled (before confirmation and as a void of an authorization), refunds (full
 * and partial, several per payment), wallet top-ups and wallet payments.
 */
import {UsageError} from '../cli/errors.js'
import type {Prng} from '../sandbox/prng.js'
import type {IterationContext, RequestSpec, Scenario} from './generator.js'

/** The processor's test cards that are approved, and two that decline (402 card_error). */
export const TEST_CARDS = {
  approve: ['4242424242424242', '5555555555554444'],
  decline: ['4000000000000002', '4000000000009995'],
} as const

/** Currencies and the amounts (minor units) drawn for them. Wallets hold USD only. */
export const CURRENCY_AMOUNTS: Readonly<Record<string, readonly [number, number]>> = {
  usd: [50, 50_000],
  eur: [50, 50_000],
  gbp: [50, 30_000],
  jpy: [100, 50_000],
}
export const CURRENCY_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['usd', 70],
  ['eur', 15],
  ['gbp', 10],
  ['jpy', 5],
]
const WALLET_CURRENCY = 'usd'

export type CheckoutOutcome = 'automatic' | 'manual_full' | 'manual_partial' | 'cancel_before_confirm' | 'void_authorization' | 'decline'

export interface CheckoutMix {
  /** Share of checkouts by a new customer (else one from the run's pool). */
  newCustomer: number
  /** Share of returning customers who save another card first. */
  newCard: number
  /** Share of automatic-capture checkouts that create and confirm in one request (confirm=true). */
  confirmOnCreate: number
  /** Relative weights of the outcomes; `decline` uses a declining card on purpose. */
  outcomes: Readonly<Record<CheckoutOutcome, number>>
}

export const CHECKOUT_MIX: CheckoutMix = {
  newCustomer: 0.3,
  newCard: 0.2,
  confirmOnCreate: 0.3,
  outcomes: {automatic: 60, manual_full: 12, manual_partial: 8, cancel_before_confirm: 5, void_authorization: 10, decline: 5},
}

export type WriteOp = 'new_customer' | 'add_card' | 'checkout' | 'refund' | 'wallet' | 'decline'

export interface WritesMix {
  newCustomer: number
  newCard: number
  confirmOnCreate: number
  /** Relative weights of the operations. */
  ops: Readonly<Record<WriteOp, number>>
  /** Outcomes of the `checkout` operation (declines have their own operation here). */
  checkoutOutcomes: Readonly<Record<CheckoutOutcome, number>>
  /** Share of refunds that refund everything left (else a part). */
  fullRefund: number
  /** Share of wallet top-ups followed by a wallet payment. */
  walletPay: number
}

export const WRITES_MIX: WritesMix = {
  newCustomer: 0.3,
  newCard: 0.2,
  confirmOnCreate: 0.3,
  ops: {new_customer: 10, add_card: 5, checkout: 45, refund: 22, wallet: 15, decline: 3},
  checkoutOutcomes: {automatic: 50, manual_full: 15, manual_partial: 10, cancel_before_confirm: 10, void_authorization: 15, decline: 0},
  fullRefund: 0.4,
  walletPay: 0.8,
}

/** A scenario's own mistake about the API (an answer without the field it needs): fails the iteration. */
export class ScenarioError extends Error {
  override name = 'ScenarioError'
}

type Json = Record<string, unknown>

function object(body: unknown, what: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScenarioError(`${what}: the answer is not a JSON object`)
  return body as Json
}

function text(body: unknown, key: string, what: string): string {
  const v = object(body, what)[key]
  if (typeof v !== 'string') throw new ScenarioError(`${what}: no string ${key} in the answer`)
  return v
}

function integer(body: unknown, key: string, what: string): number {
  const v = object(body, what)[key]
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ScenarioError(`${what}: no integer ${key} in the answer`)
  return v
}

/** A check that the answer's `status` field is one of the given ones. */
function statusIs(...wanted: string[]): (body: unknown) => string | null {
  return (body) => {
    const status = typeof body === 'object' && body !== null ? (body as Json).status : undefined
    return typeof status === 'string' && wanted.includes(status) ? null : `status ${JSON.stringify(status)}, expected ${wanted.join(' or ')}`
  }
}

/** A 402 card error whose intent went back to requires_payment_method. */
function isDecline(body: unknown): string | null {
  const error = typeof body === 'object' && body !== null ? (body as Json).error : undefined
  if (typeof error !== 'object' || error === null) return 'no error object in the 402'
  const e = error as Json
  if (e.type !== 'card_error') return `error type ${JSON.stringify(e.type)}, expected card_error`
  const intent = e.payment_intent
  const status = typeof intent === 'object' && intent !== null ? (intent as Json).status : undefined
  return status === 'requires_payment_method' ? null : `declined intent in status ${JSON.stringify(status)}, expected requires_payment_method`
}

// ---------------------------------------------------------------------------------------------
// run state

interface PoolCustomer {
  id: string
  methods: string[]
}

interface Refundable {
  id: string
  currency: string
  /** Minor units still refundable. */
  remaining: number
}

const MAX_CUSTOMERS = 256
const MAX_REFUNDABLE = 2048

/** Pools shared by a run's iterations (one event loop, so plain arrays are safe). */
class RunState {
  readonly customers: PoolCustomer[] = []
  readonly refundable: Refundable[] = []

  addCustomer(c: PoolCustomer, rng: Prng): void {
    if (this.customers.length < MAX_CUSTOMERS) this.customers.push(c)
    else this.customers[rng.int(0, MAX_CUSTOMERS - 1)] = c
  }

  addRefundable(r: Refundable, rng: Prng): void {
    if (r.remaining <= 0) return
    if (this.refundable.length < MAX_REFUNDABLE) this.refundable.push(r)
    else this.refundable[rng.int(0, MAX_REFUNDABLE - 1)] = r
  }

  /** Takes one out, so no two iterations refund the same payment at once (their amounts would race). */
  takeRefundable(rng: Prng): Refundable | null {
    const n = this.refundable.length
    if (n === 0) return null
    const i = rng.int(0, n - 1)
    const taken = this.refundable[i] as Refundable
    this.refundable[i] = this.refundable[n - 1] as Refundable
    this.refundable.pop()
    return taken
  }
}

// ---------------------------------------------------------------------------------------------
// requests

const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Radia', 'Donald', 'Frances', 'Tony']

function amountFor(rng: Prng, currency: string): number {
  const [lo, hi] = CURRENCY_AMOUNTS[currency] ?? [50, 50_000]
  return rng.int(lo, hi)
}

function post(ctx: IterationContext, name: string, path: string, body: unknown, extra: Partial<RequestSpec> = {}) {
  return ctx.request({name, method: 'POST', path, body, ...extra})
}

function get(ctx: IterationContext, name: string, path: string, extra: Partial<RequestSpec> = {}) {
  return ctx.request({name, method: 'GET', path, ...extra})
}

/** The checkout page of a returning customer lists their saved cards. */
async function savedCards(ctx: IterationContext, customer: string): Promise<void> {
  await get(ctx, 'GET /v1/customers/:id/payment_methods', `/v1/customers/${customer}/payment_methods?limit=10`, {
    check: (body) => (Array.isArray((body as Json | null)?.data) ? null : 'expected a list of payment methods'),
  })
}

/** The result page reads the payment back: it must show what the last write made of it. */
async function showResult(ctx: IterationContext, intent: string, expected: string): Promise<void> {
  await get(ctx, 'GET /v1/payment_intents/:id', `/v1/payment_intents/${intent}`, {check: statusIs(expected)})
}

async function createCustomer(ctx: IterationContext): Promise<string> {
  const name = ctx.rng.pick(FIRST_NAMES)
  const r = await post(ctx, 'POST /v1/customers', '/v1/customers', {
    email: `load-${ctx.rng.base62(10).toLowerCase()}@example.test`,
    name,
    metadata: {source: 'payctl-load'},
  })
  return text(r.body, 'id', 'create customer')
}

async function attachCard(ctx: IterationContext, customer: string, pan: string): Promise<string> {
  const card = {number: pan, exp_month: ctx.rng.int(1, 12), exp_year: new Date().getUTCFullYear() + ctx.rng.int(1, 5), cvc: ctx.rng.digits(3)}
  const r = await post(ctx, 'POST /v1/payment_methods', '/v1/payment_methods', {customer, type: 'card', card})
  return text(r.body, 'id', 'save card')
}

/** A paying customer with an approved card: new (joins the pool), or from the pool (maybe with a new card). */
async function payer(ctx: IterationContext, state: RunState, mix: {newCustomer: number; newCard: number}): Promise<{customer: string; method: string}> {
  if (state.customers.length === 0 || ctx.rng.chance(mix.newCustomer)) {
    const customer = await createCustomer(ctx)
    const method = await attachCard(ctx, customer, ctx.rng.pick(TEST_CARDS.approve))
    state.addCustomer({id: customer, methods: [method]}, ctx.rng)
    return {customer, method}
  }
  const c = ctx.rng.pick(state.customers)
  await savedCards(ctx, c.id)
  if (c.methods.length === 0 || ctx.rng.chance(mix.newCard)) {
    const method = await attachCard(ctx, c.id, ctx.rng.pick(TEST_CARDS.approve))
    c.methods.push(method)
    return {customer: c.id, method}
  }
  return {customer: c.id, method: ctx.rng.pick(c.methods)}
}

interface IntentRequest {
  customer: string
  method: string
  amount: number
  currency: string
  capture: 'automatic' | 'manual'
}

async function createIntent(ctx: IterationContext, p: IntentRequest): Promise<string> {
  const r = await post(
    ctx,
    'POST /v1/payment_intents',
    '/v1/payment_intents',
    {amount: p.amount, currency: p.currency, customer: p.customer, payment_method: p.method, capture_method: p.capture, description: 'payctl load'},
    {check: statusIs('requires_confirmation')},
  )
  return text(r.body, 'id', 'create intent')
}

async function confirm(ctx: IterationContext, intent: string, expected: string, method?: string): Promise<Json> {
  const r = await post(ctx, 'POST /v1/payment_intents/:id/confirm', `/v1/payment_intents/${intent}/confirm`, method === undefined ? {} : {payment_method: method}, {check: statusIs(expected)})
  return object(r.body, 'confirm')
}

async function capture(ctx: IterationContext, intent: string, amountToCapture?: number): Promise<number> {
  const r = await post(ctx, 'POST /v1/payment_intents/:id/capture', `/v1/payment_intents/${intent}/capture`, amountToCapture === undefined ? {} : {amount_to_capture: amountToCapture}, {
    check: statusIs('succeeded'),
  })
  return integer(r.body, 'amount_received', 'capture')
}

async function cancel(ctx: IterationContext, intent: string, reason: 'requested_by_customer' | 'abandoned' | 'duplicate'): Promise<void> {
  await post(ctx, 'POST /v1/payment_intents/:id/cancel', `/v1/payment_intents/${intent}/cancel`, {cancellation_reason: reason}, {check: statusIs('canceled')})
}

// ---------------------------------------------------------------------------------------------
// flows

/** One checkout ending in `outcome`; a succeeded payment joins the refundable pool. */
async function checkout(ctx: IterationContext, state: RunState, mix: {newCustomer: number; newCard: number; confirmOnCreate: number}, outcome: CheckoutOutcome): Promise<void> {
  ctx.count(`checkout:${outcome}`)
  if (outcome === 'decline') return declinedCheckout(ctx, state, mix)
  const {customer, method} = await payer(ctx, state, mix)
  const currency = ctx.rng.weighted(CURRENCY_WEIGHTS)
  const amount = amountFor(ctx.rng, currency)
  switch (outcome) {
    case 'automatic': {
      let received: number
      if (ctx.rng.chance(mix.confirmOnCreate)) {
        const r = await post(
          ctx,
          'POST /v1/payment_intents (confirm)',
          '/v1/payment_intents',
          {amount, currency, customer, payment_method: method, confirm: true, description: 'payctl load'},
          {check: statusIs('succeeded')},
        )
        received = integer(r.body, 'amount_received', 'create and confirm')
        const id = text(r.body, 'id', 'create and confirm')
        await showResult(ctx, id, 'succeeded')
        state.addRefundable({id, currency, remaining: received}, ctx.rng)
        return
      }
      const intent = await createIntent(ctx, {customer, method, amount, currency, capture: 'automatic'})
      received = integer(await confirm(ctx, intent, 'succeeded'), 'amount_received', 'confirm')
      await showResult(ctx, intent, 'succeeded')
      state.addRefundable({id: intent, currency, remaining: received}, ctx.rng)
      return
    }
    case 'manual_full':
    case 'manual_partial': {
      const intent = await createIntent(ctx, {customer, method, amount, currency, capture: 'manual'})
      await confirm(ctx, intent, 'requires_capture')
      const partial = outcome === 'manual_partial' && amount >= 2
      const received = await capture(ctx, intent, partial ? ctx.rng.int(1, amount - 1) : undefined)
      await showResult(ctx, intent, 'succeeded')
      state.addRefundable({id: intent, currency, remaining: received}, ctx.rng)
      return
    }
    case 'cancel_before_confirm': {
      const intent = await createIntent(ctx, {customer, method, amount, currency, capture: 'automatic'})
      await cancel(ctx, intent, ctx.rng.pick(['requested_by_customer', 'abandoned', 'duplicate'] as const))
      await showResult(ctx, intent, 'canceled')
      return
    }
    case 'void_authorization': {
      const intent = await createIntent(ctx, {customer, method, amount, currency, capture: 'manual'})
      await confirm(ctx, intent, 'requires_capture')
      await cancel(ctx, intent, 'requested_by_customer')
      await showResult(ctx, intent, 'canceled')
      return
    }
  }
}

/**
 * A card declined on purpose (402 expected and counted), then, as a shopper would, half the time
 * a retry with a good card (succeeds) and otherwise an abandoned intent (canceled).
 */
async function declinedCheckout(ctx: IterationContext, state: RunState, mix: {newCustomer: number; newCard: number}): Promise<void> {
  const {customer} = await payer(ctx, state, mix)
  const declining = await attachCard(ctx, customer, ctx.rng.pick(TEST_CARDS.decline))
  const currency = ctx.rng.weighted(CURRENCY_WEIGHTS)
  const amount = amountFor(ctx.rng, currency)
  const intent = await createIntent(ctx, {customer, method: declining, amount, currency, capture: 'automatic'})
  await ctx.request({
    name: 'POST /v1/payment_intents/:id/confirm (decline)',
    method: 'POST',
    path: `/v1/payment_intents/${intent}/confirm`,
    body: {},
    expect: [402],
    check: isDecline,
  })
  ctx.count('declined_on_purpose')
  if (ctx.rng.chance(0.5)) {
    const good = await attachCard(ctx, customer, ctx.rng.pick(TEST_CARDS.approve))
    const received = integer(await confirm(ctx, intent, 'succeeded', good), 'amount_received', 'retry after decline')
    state.addRefundable({id: intent, currency, remaining: received}, ctx.rng)
  } else {
    await cancel(ctx, intent, 'abandoned')
  }
}

/** Refunds a succeeded payment of the run, in full or in part (none yet: pays one first). */
async function refund(ctx: IterationContext, state: RunState, mix: WritesMix): Promise<void> {
  let r = state.takeRefundable(ctx.rng)
  if (r === null) {
    const {customer, method} = await payer(ctx, state, mix)
    const currency = ctx.rng.weighted(CURRENCY_WEIGHTS)
    const amount = amountFor(ctx.rng, currency)
    const intent = await createIntent(ctx, {customer, method, amount, currency, capture: 'automatic'})
    r = {id: intent, currency, remaining: integer(await confirm(ctx, intent, 'succeeded'), 'amount_received', 'confirm')}
  }
  const full = r.remaining < 2 || ctx.rng.chance(mix.fullRefund)
  const amount = full ? r.remaining : ctx.rng.int(1, r.remaining - 1)
  const answer = await post(ctx, 'POST /v1/refunds', '/v1/refunds', {payment_intent: r.id, ...(full ? {} : {amount}), reason: 'requested_by_customer'}, {check: statusIs('succeeded')})
  const refunded = integer(answer.body, 'amount', 'refund')
  ctx.count(full ? 'refund:full' : 'refund:partial')
  state.addRefundable({...r, remaining: r.remaining - refunded}, ctx.rng)
}

/**
 * Tops up a customer's wallet (USD) with a saved card, then mostly pays from it no more than this
 * top-up: concurrent flows on one wallet each spend only what they put in, so none is refused.
 */
async function wallet(ctx: IterationContext, state: RunState, mix: WritesMix): Promise<void> {
  const {customer, method} = await payer(ctx, state, mix)
  const topUp = amountFor(ctx.rng, WALLET_CURRENCY)
  await post(ctx, 'POST /v1/customers/:id/wallet/top_up', `/v1/customers/${customer}/wallet/top_up`, {amount: topUp, currency: WALLET_CURRENCY, payment_method: method})
  ctx.count('wallet:top_up')
  if (!ctx.rng.chance(mix.walletPay)) return
  await post(ctx, 'POST /v1/customers/:id/wallet/pay', `/v1/customers/${customer}/wallet/pay`, {amount: ctx.rng.int(1, topUp), currency: WALLET_CURRENCY, description: 'payctl load'})
  ctx.count('wallet:pay')
}

async function newCustomer(ctx: IterationContext, state: RunState): Promise<void> {
  const customer = await createCustomer(ctx)
  const methods = [await attachCard(ctx, customer, ctx.rng.pick(TEST_CARDS.approve))]
  if (ctx.rng.chance(0.3)) methods.push(await attachCard(ctx, customer, ctx.rng.pick(TEST_CARDS.approve)))
  state.addCustomer({id: customer, methods}, ctx.rng)
}

async function addCard(ctx: IterationContext, state: RunState): Promise<void> {
  if (state.customers.length === 0) return newCustomer(ctx, state)
  const c = ctx.rng.pick(state.customers)
  c.methods.push(await attachCard(ctx, c.id, ctx.rng.pick(TEST_CARDS.approve)))
}

function entries<K extends string>(weights: Readonly<Record<K, number>>): Array<readonly [K, number]> {
  return (Object.entries(weights) as Array<[K, number]>).filter(([, w]) => w > 0)
}

// ---------------------------------------------------------------------------------------------
// scenarios

export function checkoutScenario(overrides: Partial<CheckoutMix> = {}): Scenario {
  const mix: CheckoutMix = {...CHECKOUT_MIX, ...overrides}
  const outcomes = entries(mix.outcomes)
  return {
    name: 'checkout',
    description: 'One checkout per iteration: a new or returning customer saves a card, creates and confirms a payment (manual captures in full or in part, cancels, a few declines on purpose).',
    prepare() {
      const state = new RunState()
      return (ctx) => checkout(ctx, state, mix, ctx.rng.weighted(outcomes))
    },
  }
}

export function writesScenario(overrides: Partial<WritesMix> = {}): Scenario {
  const mix: WritesMix = {...WRITES_MIX, ...overrides}
  const ops = entries(mix.ops)
  const checkoutOutcomes = entries(mix.checkoutOutcomes)
  return {
    name: 'writes',
    description: 'A write mix over every table: customers and cards, intents created / confirmed / captured / canceled, full and partial refunds, wallet top-ups and payments, a few declines on purpose.',
    prepare() {
      const state = new RunState()
      return async (ctx) => {
        const op = ctx.rng.weighted(ops)
        ctx.count(`op:${op}`)
        switch (op) {
          case 'new_customer':
            return newCustomer(ctx, state)
          case 'add_card':
            return addCard(ctx, state)
          case 'checkout':
            return checkout(ctx, state, mix, ctx.rng.weighted(checkoutOutcomes))
          case 'refund':
            return refund(ctx, state, mix)
          case 'wallet':
            return wallet(ctx, state, mix)
          case 'decline':
            return checkout(ctx, state, mix, 'decline')
        }
      }
    },
  }
}

export const SCENARIO_NAMES = ['checkout', 'writes'] as const
export type ScenarioName = (typeof SCENARIO_NAMES)[number]

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name)
}

/** A scenario with its default mix, by name. */
export function scenarioByName(name: string): Scenario {
  if (!isScenarioName(name)) throw new UsageError('PAYCTL_UNKNOWN_SCENARIO', `No load scenario named ${JSON.stringify(name)} (one of ${SCENARIO_NAMES.join(', ')}).`)
  switch (name) {
    case 'checkout':
      return checkoutScenario()
    case 'writes':
      return writesScenario()
  }
}
