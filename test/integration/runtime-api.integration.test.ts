// The payment service (runtime/) against the sandbox's legacy MariaDB with its generated data:
// every flow through the HTTP API, then the ledger, the tables and the logs are checked.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return -- API answers are untyped JSON; the assertions check their shape */
import {Writable} from 'node:stream'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {luhnValid} from '../../src/cli/redact.js'
import {LEGACY_TABLES} from '../../src/sandbox/legacy-schema.js'
import {buildApp} from '../../runtime/src/app.js'
import {MysqlDb} from '../../runtime/src/data/db.js'
import {SingleSideRouter} from '../../runtime/src/data/router.js'
import {type CardRef, SimulatedProcessor} from '../../runtime/src/domain/processor.js'
import {createLogger} from '../../runtime/src/http/logger.js'
import './sandbox-context.js'

const KEY = Buffer.from('integration-test-fingerprint-key-0123456789')
const CARDS = {
  visa: '4242424242424242',
  mastercard: '5555555555554444',
  generic: '4000000000000002',
  insufficient: '4000000000009995',
  expired: '4000000000000069',
  threeDs: '4000002500003155',
  processingError: '4000000000000119',
  timeout: '4000000000006975',
}
const CVCS = ['314', '2718']

/** A processor whose next authorize can be held until the test releases it (no sleeps). */
class GatedProcessor extends SimulatedProcessor {
  gate: {entered: () => void; release: Promise<void>} | null = null
  override async authorize(card: CardRef, amount: bigint, currency: string) {
    const g = this.gate
    if (g !== null) {
      this.gate = null
      g.entered()
      await g.release
    }
    return super.authorize(card, amount, currency)
  }
}

const logLines: string[] = []
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString('utf8'))
    done()
  },
})

let app: ReturnType<typeof buildApp>
let router: SingleSideRouter
let raw: mysql.Pool
const processor = new GatedProcessor(KEY)

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{status: number; body: Json; headers: Record<string, unknown>}> {
  const r = await app.inject({method: 'POST', url, payload: body as object, headers})
  return {status: r.statusCode, body: r.json<Json>(), headers: r.headers}
}
async function get(url: string): Promise<{status: number; body: Json}> {
  const r = await app.inject({method: 'GET', url})
  return {status: r.statusCode, body: r.headers['content-type']?.toString().includes('json') === true ? r.json<Json>() : {text: r.body}}
}

async function customer(): Promise<string> {
  const r = await post('/v1/customers', {email: 'ada@example.com', name: 'Ada', metadata: {tier: 'gold'}})
  expect(r.status).toBe(200)
  return r.body.id as string
}
async function card(cus: string, number: string, cvc = CVCS[0]): Promise<string> {
  const r = await post('/v1/payment_methods', {customer: cus, type: 'card', card: {number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc}})
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.id as string
}
async function pay(cus: string, pm: string, amount: number, extra: Record<string, unknown> = {}) {
  return post('/v1/payment_intents', {amount, currency: 'usd', customer: cus, payment_method: pm, confirm: true, ...extra})
}

beforeAll(async () => {
  const src = inject('sandbox').source
  const connection = {
    engine: 'mysql' as const, host: src.host, port: src.port, user: src.user, password: null, database: src.database,
    tls: {mode: 'disable' as const}, connectTimeoutMs: 5000, queryTimeoutMs: 30_000, poolSize: 10, label: 'source',
  }
  const {Secret} = await import('../../src/cli/redact.js')
  router = new SingleSideRouter(MysqlDb.create('source', {...connection, password: new Secret(src.password, 'test')}))
  app = buildApp({router, logger: createLogger({destination: sink, level: 'debug'}), fingerprintKey: KEY, processor})
  await app.ready()
  raw = mysql.createPool({host: src.host, port: src.port, user: src.user, password: src.password, database: src.database, connectionLimit: 2, supportBigNumbers: true, bigNumberStrings: true})
})

afterAll(async () => {
  await app.close()
  await router.close()
  await raw.end()
})

describe('runtime API on the legacy database', () => {
  it('creates a customer and saves a card keeping only token, BIN, last 4 and fingerprint', async () => {
    const cus = await customer()
    expect(cus).toMatch(/^cus_[0-9A-Za-z]{24}$/)
    expect((await get(`/v1/customers/${cus}`)).body).toMatchObject({id: cus, email: 'ada@example.com', metadata: {tier: 'gold'}})
    const pm = await card(cus, CARDS.visa)
    const got = await get(`/v1/payment_methods/${pm}`)
    expect(got.body).toMatchObject({id: pm, customer: cus, card: {brand: 'visa', bin: '42424242', last4: '4242', exp_month: 12}})
    expect((await get(`/v1/customers/${cus}/payment_methods`)).body.data).toHaveLength(1)
    const bad = await post('/v1/payment_methods', {customer: cus, type: 'card', card: {number: '4242424242424241', exp_month: 1, exp_year: 2099, cvc: '123'}})
    expect(bad.status).toBe(400)
    expect(bad.body.error).toMatchObject({type: 'card_error', code: 'incorrect_number'})
    expect(JSON.stringify(bad.body)).not.toContain('4242424242424241')
    expect((await get('/v1/customers/cus_nope')).status).toBe(404)
  })

  it('pays with automatic capture', async () => {
    const cus = await customer()
    const r = await pay(cus, await card(cus, CARDS.mastercard), 1099)
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({status: 'succeeded', amount: 1099, amount_received: 1099, currency: 'usd'})
    expect(r.body.attempts).toHaveLength(1)
    expect(r.body.attempts[0]).toMatchObject({status: 'captured'})
  })

  it('goes through requires_payment_method -> requires_confirmation -> succeeded step by step', async () => {
    const cus = await customer()
    const created = await post('/v1/payment_intents', {amount: 500, currency: 'jpy', customer: cus})
    expect(created.body.status).toBe('requires_payment_method')
    const pm = await card(cus, CARDS.visa)
    const confirmed = await post(`/v1/payment_intents/${created.body.id}/confirm`, {payment_method: pm})
    expect(confirmed.body).toMatchObject({status: 'succeeded', amount: 500, currency: 'jpy'})
    const again = await post(`/v1/payment_intents/${created.body.id}/confirm`, {})
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('payment_intent_unexpected_state')
  })

  it('captures manually in full and in part, and cancels', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    const full = await pay(cus, pm, 2000, {capture_method: 'manual'})
    expect(full.body).toMatchObject({status: 'requires_capture', amount_capturable: 2000})
    const cap = await post(`/v1/payment_intents/${full.body.id}/capture`, {})
    expect(cap.body).toMatchObject({status: 'succeeded', amount_received: 2000, amount_capturable: 0})

    const part = await pay(cus, pm, 3000, {capture_method: 'manual'})
    const tooMuch = await post(`/v1/payment_intents/${part.body.id}/capture`, {amount_to_capture: 3001})
    expect(tooMuch.status).toBe(400)
    const partial = await post(`/v1/payment_intents/${part.body.id}/capture`, {amount_to_capture: 1250})
    expect(partial.body).toMatchObject({status: 'succeeded', amount: 3000, amount_received: 1250, amount_capturable: 0})

    const voided = await pay(cus, pm, 700, {capture_method: 'manual'})
    const canceled = await post(`/v1/payment_intents/${voided.body.id}/cancel`, {cancellation_reason: 'requested_by_customer'})
    expect(canceled.body).toMatchObject({status: 'canceled', cancellation_reason: 'requested_by_customer'})
    expect(canceled.body.attempts[0].status).toBe('voided')
    const unconfirmed = await post('/v1/payment_intents', {amount: 100, currency: 'eur', customer: cus})
    expect((await post(`/v1/payment_intents/${unconfirmed.body.id}/cancel`, {})).body.status).toBe('canceled')
    expect((await post(`/v1/payment_intents/${unconfirmed.body.id}/cancel`, {})).status).toBe(409)
  })

  it.each([
    ['generic', CARDS.generic, 'card_declined', 'generic_decline'],
    ['insufficient', CARDS.insufficient, 'card_declined', 'insufficient_funds'],
    ['expired', CARDS.expired, 'expired_card', 'expired_card'],
    ['processing error', CARDS.processingError, 'processing_error', undefined],
    ['timeout', CARDS.timeout, 'processor_timeout', undefined],
  ])('a %s decline returns to requires_payment_method, then a good card succeeds', async (_name, number, code, declineCode) => {
    const cus = await customer()
    const r = await pay(cus, await card(cus, number), 1500)
    expect(r.status).toBe(402)
    expect(r.body.error).toMatchObject({type: 'card_error', code})
    if (declineCode !== undefined) expect(r.body.error.decline_code).toBe(declineCode)
    const pi = r.body.error.payment_intent as Json
    expect(pi).toMatchObject({status: 'requires_payment_method', payment_method: null})
    expect(pi.last_payment_error.code).toBe(declineCode ?? code)
    const retry = await post(`/v1/payment_intents/${pi.id}/confirm`, {payment_method: await card(cus, CARDS.visa)})
    expect(retry.body).toMatchObject({status: 'succeeded', attempt_count: 2})
    expect(retry.body.attempts.map((a: Json) => a.status)).toEqual(['failed', 'captured'])
  })

  it('requires 3DS, then succeeds or fails on authenticate', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.threeDs)
    const a = await pay(cus, pm, 4000)
    expect(a.body).toMatchObject({status: 'requires_action', next_action: {type: 'authenticate'}})
    expect((await post(`/v1/payment_intents/${a.body.id}/authenticate`, {result: 'success'})).body).toMatchObject({status: 'succeeded', amount_received: 4000})
    const b = await pay(cus, pm, 4100)
    const failed = await post(`/v1/payment_intents/${b.body.id}/authenticate`, {result: 'failure'})
    expect(failed.status).toBe(402)
    expect(failed.body.error.payment_intent).toMatchObject({status: 'requires_payment_method', last_payment_error: {code: 'payment_intent_authentication_failure'}})
  })

  it('refunds in part, twice, refuses an over-refund, and never over-refunds under concurrency', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    const pi = (await pay(cus, pm, 10_000)).body.id as string
    const r1 = await post('/v1/refunds', {payment_intent: pi, amount: 3000, reason: 'requested_by_customer'})
    expect(r1.body).toMatchObject({status: 'succeeded', amount: 3000, payment_intent: pi})
    expect((await get(`/v1/refunds/${r1.body.id}`)).body.amount).toBe(3000)
    expect((await post('/v1/refunds', {payment_intent: pi, amount: 2000})).status).toBe(200)
    const over = await post('/v1/refunds', {payment_intent: pi, amount: 5001})
    expect(over.status).toBe(422)
    expect(over.body.error.code).toBe('amount_too_large')
    expect((await post('/v1/refunds', {payment_intent: pi})).body.amount).toBe(5000)

    const race = (await pay(cus, pm, 10_000)).body.id as string
    const results = await Promise.all(Array.from({length: 5}, () => post('/v1/refunds', {payment_intent: race, amount: 3000})))
    expect(results.filter((r) => r.status === 200)).toHaveLength(3)
    expect(results.filter((r) => r.status === 422).every((r) => r.body.error.code === 'amount_too_large')).toBe(true)
    const [[sum]] = await raw.query<mysql.RowDataPacket[]>("SELECT SUM(r.amount) AS s FROM refunds r JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE pi.public_id = ?", [race])
    expect(String((sum as Json).s)).toBe('90.0000')
  })

  it('tops up a wallet, pays from it and refuses to go negative', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    const up = await post(`/v1/customers/${cus}/wallet/top_up`, {amount: 5000, currency: 'usd', payment_method: pm})
    expect(up.body).toMatchObject({balance: 5000, currency: 'usd'})
    const paid = await post(`/v1/customers/${cus}/wallet/pay`, {amount: 1999, currency: 'usd', description: 'coffee'})
    expect(paid.body.balance).toBe(3001)
    const short = await post(`/v1/customers/${cus}/wallet/pay`, {amount: 3002, currency: 'usd'})
    expect(short.status).toBe(402)
    expect(short.body.error.code).toBe('insufficient_funds')
    const wallet = await get(`/v1/customers/${cus}/wallet`)
    expect(wallet.body.balance).toBe(3001)
    expect(wallet.body.transactions.map((t: Json) => t.amount)).toEqual([-1999, 5000])
    const declined = await post(`/v1/customers/${cus}/wallet/top_up`, {amount: 100, currency: 'usd', payment_method: await card(cus, CARDS.generic)})
    expect(declined.status).toBe(402)
  })

  it('lists intents with keyset pagination', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    for (const amount of [101, 102, 103]) await pay(cus, pm, amount)
    const page1 = await get(`/v1/payment_intents?customer=${cus}&limit=2`)
    expect(page1.body.data.map((i: Json) => i.amount)).toEqual([103, 102])
    expect(page1.body.has_more).toBe(true)
    const page2 = await get(`/v1/payment_intents?customer=${cus}&limit=2&starting_after=${page1.body.data[1].id}`)
    expect(page2.body.data.map((i: Json) => i.amount)).toEqual([101])
    expect(page2.body.has_more).toBe(false)
  })

  it('replays an idempotent request, refuses another body (422) and a key in flight (409)', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    const body = {amount: 2500, currency: 'usd', customer: cus, payment_method: pm, confirm: true}
    const key = {'idempotency-key': `it-${cus}`}
    const first = await post('/v1/payment_intents', body, key)
    const second = await post('/v1/payment_intents', body, key)
    expect(second.status).toBe(first.status)
    expect(second.body).toEqual(first.body)
    expect(second.headers['idempotent-replayed']).toBe('true')
    expect(first.headers['idempotent-replayed']).toBeUndefined()
    const [[count]] = await raw.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM payment_intents pi JOIN customers c ON c.id = pi.customer_id WHERE c.public_id = ?', [cus])
    expect(Number((count as Json).n)).toBe(1)
    const other = await post('/v1/payment_intents', {...body, amount: 2501}, key)
    expect(other.status).toBe(422)
    expect(other.body.error.code).toBe('idempotency_key_mismatch')

    // hold the first request inside the processor, send the same key again, then let it finish
    let entered!: () => void
    const inside = new Promise<void>((resolve) => (entered = resolve))
    let release!: () => void
    processor.gate = {entered, release: new Promise<void>((resolve) => (release = resolve))}
    const heldKey = {'idempotency-key': `held-${cus}`}
    const slow = post('/v1/payment_intents', body, heldKey)
    await inside
    const busy = await post('/v1/payment_intents', body, heldKey)
    expect(busy.status).toBe(409)
    expect(busy.body.error.code).toBe('idempotency_key_in_use')
    release()
    expect((await slow).status).toBe(200)
    expect((await post('/v1/payment_intents', body, heldKey)).headers['idempotent-replayed']).toBe('true')

    // card data never reaches the idempotency store, not even for a saved card request
    const saved = await post('/v1/payment_methods', {customer: cus, type: 'card', card: {number: CARDS.mastercard, exp_month: 1, exp_year: 2099, cvc: CVCS[1]}}, {'idempotency-key': `pm-${cus}`})
    const replay = await post('/v1/payment_methods', {customer: cus, type: 'card', card: {number: CARDS.mastercard, exp_month: 1, exp_year: 2099, cvc: CVCS[1]}}, {'idempotency-key': `pm-${cus}`})
    expect(replay.body).toEqual(saved.body)
  })

  it('keeps the ledger balanced (API and an independent SQL check)', async () => {
    const balance = await get('/v1/ledger/balance')
    expect(balance.body.balanced).toBe(true)
    expect(balance.body.accounts.length).toBeGreaterThan(0)
    const [rows] = await raw.query<mysql.RowDataPacket[]>('SELECT txn_id, SUM(amount) AS total FROM ledger_entries GROUP BY txn_id HAVING SUM(amount) <> 0')
    expect(rows).toEqual([])
  })

  it('never stores or logs a card number or a CVC', async () => {
    const pans = Object.values(CARDS)
    const found: string[] = []
    for (const table of LEGACY_TABLES) {
      const [rows] = await raw.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${table}\``)
      const text = JSON.stringify(rows, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))
      for (const run of text.match(/(?<![\d.])\d{13,19}(?![\d.])/g) ?? []) if (luhnValid(run)) found.push(`${table}: ${run}`)
      for (const pan of pans) if (text.includes(pan)) found.push(`${table}: ${pan}`)
    }
    expect(found).toEqual([])
    const logs = logLines.join('')
    expect(logLines.length).toBeGreaterThan(10)
    for (const pan of pans) expect(logs).not.toContain(pan)
    for (const run of logs.match(/(?<![\d.])\d{13,19}(?![\d.])/g) ?? []) expect(luhnValid(run), run).toBe(false)
    for (const cvc of CVCS) expect(logs).not.toMatch(new RegExp(`"cvc":"?${cvc}`))
  })

  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    expect((await get('/healthz')).status).toBe(200)
    expect((await get('/readyz')).status).toBe(200)
    const metrics = (await get('/metrics')).body.text as string
    expect(metrics).toContain('http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/payment_intents"}')
    expect(metrics).toMatch(/http_requests_total\{method="POST",route="\/v1\/refunds",status="422"\} \d+/)
    expect(metrics).toMatch(/db_query_duration_seconds_count\{side="source",op="payment_intent.lock"\} \d+/)
    expect(metrics).toContain('db_pool_connections{side="source",state="total"}')
    expect(metrics).toMatch(/http_request_errors_total\{route="\/v1\/refunds",code="amount_too_large"\} \d+/)
    const doc = (await get('/openapi.json')).body
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths as object).sort()).toEqual([
      '/v1/customers', '/v1/customers/{id}', '/v1/customers/{id}/payment_methods', '/v1/customers/{id}/wallet', '/v1/customers/{id}/wallet/pay', '/v1/customers/{id}/wallet/top_up',
      '/v1/ledger/balance', '/v1/payment_intents', '/v1/payment_intents/{id}', '/v1/payment_intents/{id}/authenticate', '/v1/payment_intents/{id}/cancel',
      '/v1/payment_intents/{id}/capture', '/v1/payment_intents/{id}/confirm', '/v1/payment_methods', '/v1/payment_methods/{id}', '/v1/refunds', '/v1/refunds/{id}',
    ])
    app.lifecycle.shuttingDown = true
    expect((await get('/readyz')).status).toBe(503)
    app.lifecycle.shuttingDown = false
  })
})

/**
 * A crash between the work's commit and the saving of its response: the router's pool refuses the
 * out-of-transaction `idempotency.save` (as if the process died there), the clock then jumps past
 * the key's lock timeout, and the retry with the same key must give the same object, made once.
 */
describe('idempotency across a crash', () => {
  let crashApp: ReturnType<typeof buildApp>
  let offsetMs = 0
  let crashSaves = false
  const crashing = {authorize: 0, refund: 0, chargeThenCrash: 0}
  const references: Array<string | undefined> = []

  class CrashingProcessor extends SimulatedProcessor {
    override async authorize(c: CardRef, amount: bigint, currency: string, reference?: string) {
      references.push(reference)
      if (crashing.authorize > 0) {
        crashing.authorize--
        throw new Error('simulated crash during the processor call')
      }
      const result = await super.authorize(c, amount, currency, reference)
      if (crashing.chargeThenCrash > 0) {
        crashing.chargeThenCrash--
        throw new Error('simulated crash after the charge')
      }
      return result
    }
    override async refund() {
      if (crashing.refund > 0) {
        crashing.refund--
        throw new Error('simulated crash during the refund call')
      }
      return super.refund()
    }
  }

  async function crashPost(url: string, body: unknown, key: string): Promise<{status: number; body: Json}> {
    const r = await crashApp.inject({method: 'POST', url, payload: body as object, headers: {'idempotency-key': key}})
    return {status: r.statusCode, body: r.json<Json>()}
  }
  /** The first run, whose response is never saved, then a retry after the lock timeout. */
  async function crashThenRetry(url: string, body: unknown, key: string, crash: Partial<typeof crashing> = {}) {
    crashSaves = true
    Object.assign(crashing, crash)
    const first = await crashPost(url, body, key)
    crashSaves = false
    offsetMs += 61_000
    const retry = await crashPost(url, body, key)
    return {first, retry}
  }
  async function count(sql: string, args: unknown[]): Promise<number> {
    const [[row]] = await raw.query<mysql.RowDataPacket[]>(sql, args)
    return Number((row as Json).n)
  }

  beforeAll(async () => {
    const inner = router.writer()
    const crashy = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'execute') {
          return async (stmt: {op: string}) => {
            if (crashSaves && stmt.op === 'idempotency.save') throw new Error('simulated crash before the response was saved')
            return target.execute(stmt as never)
          }
        }
        const v = Reflect.get(target, prop, receiver) as unknown
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      },
    })
    const crashRouter = new SingleSideRouter(crashy)
    crashApp = buildApp({router: crashRouter, logger: createLogger({destination: sink, level: 'debug'}), fingerprintKey: KEY, processor: new CrashingProcessor(KEY), clock: () => new Date(Date.now() + offsetMs)})
    await crashApp.ready()
  })
  afterAll(async () => {
    await crashApp.close()
  })

  it('a retried customer create gives the same customer, created once', async () => {
    const email = `crash-${Date.now()}@example.com`
    const {first, retry} = await crashThenRetry('/v1/customers', {email}, `c-${email}`)
    expect(first.status).toBe(200)
    expect(retry.body.id).toBe(first.body.id)
    expect(await count('SELECT COUNT(*) AS n FROM customers WHERE email = ?', [email])).toBe(1)
  })

  it('a retried card save, intent, refund and wallet top-up/pay each happen once', async () => {
    const cus = (await crashPost('/v1/customers', {name: 'crash'}, `cc-${Date.now()}`)).body.id as string
    const pmBody = {customer: cus, type: 'card', card: {number: CARDS.visa, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc: "123"}}
    const pm = await crashThenRetry('/v1/payment_methods', pmBody, `pm-${cus}`)
    expect(pm.retry.body.id).toBe(pm.first.body.id)
    const pmId = pm.first.body.id as string
    expect(await count('SELECT COUNT(*) AS n FROM payment_methods pm JOIN customers c ON c.id = pm.customer_id WHERE c.public_id = ?', [cus])).toBe(1)

    const pi = await crashThenRetry('/v1/payment_intents', {amount: 4000, currency: 'usd', customer: cus, payment_method: pmId, confirm: true}, `pi-${cus}`)
    expect(pi.first.body).toMatchObject({status: 'succeeded'})
    const piId = pi.first.body.id as string
    expect(pi.retry.body).toMatchObject({id: piId, status: 'succeeded', attempt_count: 1})
    expect(await count('SELECT COUNT(*) AS n FROM payment_intents pi JOIN customers c ON c.id = pi.customer_id WHERE c.public_id = ?', [cus])).toBe(1)

    const re = await crashThenRetry('/v1/refunds', {payment_intent: piId, amount: 1000}, `re-${cus}`)
    expect(re.first.status).toBe(200)
    expect(re.retry.body.id).toBe(re.first.body.id)
    expect(await count('SELECT COUNT(*) AS n FROM refunds r JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE pi.public_id = ?', [piId])).toBe(1)

    const up = await crashThenRetry(`/v1/customers/${cus}/wallet/top_up`, {amount: 5000, currency: 'usd', payment_method: pmId}, `up-${cus}`)
    expect(up.first.status).toBe(200)
    expect(up.retry.body.balance).toBe(5000)
    const paid = await crashThenRetry(`/v1/customers/${cus}/wallet/pay`, {amount: 1500, currency: 'usd'}, `pay-${cus}`)
    expect(paid.first.status).toBe(200)
    expect(paid.retry.body.balance).toBe(3500)
    expect(paid.retry.body.transactions).toHaveLength(2)
  })

  it('a crash inside a multi-step flow resumes the same object on retry', async () => {
    const cus = (await crashPost('/v1/customers', {name: 'crash-multi'}, `cm-${Date.now()}`)).body.id as string
    const pm = (await crashPost('/v1/payment_methods', {customer: cus, type: 'card', card: {number: CARDS.visa, exp_month: 12, exp_year: new Date().getUTCFullYear() + 3, cvc: "123"}}, `cmpm-${cus}`)).body.id as string

    // dies during the processor call of a create-and-confirm: the retry returns that intent, never a second one
    const pi = await crashThenRetry('/v1/payment_intents', {amount: 2000, currency: 'usd', customer: cus, payment_method: pm, confirm: true}, `cmpi-${cus}`, {authorize: 1})
    expect(pi.first.status).toBe(500)
    expect(await count('SELECT COUNT(*) AS n FROM payment_intents pi JOIN customers c ON c.id = pi.customer_id WHERE c.public_id = ?', [cus])).toBe(1)
    expect(pi.retry.body.object).toBe('payment_intent')
    expect(await count('SELECT COUNT(*) AS n FROM payment_attempts a JOIN payment_intents pi ON pi.id = a.payment_intent_id JOIN customers c ON c.id = pi.customer_id WHERE c.public_id = ?', [cus])).toBe(1)

    // dies during the refund call: the retry settles that refund (once in the ledger), never a second one
    const paid = (await crashPost('/v1/payment_intents', {amount: 3000, currency: 'usd', customer: cus, payment_method: pm, confirm: true}, `cmpaid-${cus}`)).body.id as string
    const re = await crashThenRetry('/v1/refunds', {payment_intent: paid, amount: 1200}, `cmre-${cus}`, {refund: 1})
    expect(re.first.status).toBe(500)
    expect(re.retry.body).toMatchObject({object: 'refund', status: 'succeeded', amount: 1200})
    expect(await count('SELECT COUNT(*) AS n FROM refunds r JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE pi.public_id = ?', [paid])).toBe(1)
    expect(await count("SELECT COUNT(DISTINCT l.txn_id) AS n FROM ledger_entries l JOIN refunds r ON r.id = l.refund_id JOIN payment_intents pi ON pi.id = r.payment_intent_id WHERE pi.public_id = ?", [paid])).toBe(1)

    // dies after the card was charged, before the wallet was credited: the retry charges with the same
    // processor reference (a processor deduplicates on it) and credits the wallet once
    references.length = 0
    const up = await crashThenRetry(`/v1/customers/${cus}/wallet/top_up`, {amount: 700, currency: 'usd', payment_method: pm}, `cmup-${cus}`, {chargeThenCrash: 1})
    expect(up.first.status).toBe(500)
    expect(up.retry.body).toMatchObject({balance: 700})
    expect(up.retry.body.transactions).toHaveLength(1)
    expect(references).toHaveLength(2)
    expect(references[0]).toBeDefined()
    expect(references[1]).toBe(references[0])
  })
})

describe('state and wallet checks', () => {
  it('refuses to authenticate an intent that is not waiting for 3DS (409, not a 500)', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    const created = await post('/v1/payment_intents', {amount: 900, currency: 'usd', customer: cus, payment_method: pm})
    expect(created.body.status).toBe('requires_confirmation')
    const r = await post(`/v1/payment_intents/${created.body.id}/authenticate`, {result: 'success'})
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('payment_intent_unexpected_state')
    expect((await get(`/v1/payment_intents/${created.body.id}`)).body).toMatchObject({status: 'requires_confirmation', attempt_count: 0})
  })

  it('refuses to top up a frozen wallet before charging the card', async () => {
    const cus = await customer()
    const pm = await card(cus, CARDS.visa)
    expect((await post(`/v1/customers/${cus}/wallet/top_up`, {amount: 1000, currency: 'usd', payment_method: pm})).status).toBe(200)
    await raw.query("UPDATE wallets w JOIN customers c ON c.id = w.customer_id SET w.status = 'frozen' WHERE c.public_id = ?", [cus])
    const r = await post(`/v1/customers/${cus}/wallet/top_up`, {amount: 500, currency: 'usd', payment_method: pm})
    expect(r.status).toBe(409)
    expect(r.body.error.code).toBe('wallet_unavailable')
    expect((await get(`/v1/customers/${cus}/wallet`)).body.balance).toBe(1000)
  })
})
