/**
 * A small in-memory stand-in for the runtime's payments API (runtime/src/http/routes), strict
 * enough to catch a scenario that breaks its rules: state transitions, refunds above what is
 * left, wallet payments above the balance, a card of another customer, a POST without an
 * Idempotency-Key. The integration test runs the scenarios against the real service.
 */
import type {ServerResponse} from 'node:http'
import {json, type SeenRequest} from './http-server.js'

const DECLINING = new Set(['4000000000000002', '4000000000009995'])

interface Intent {
  id: string
  customer: string
  pm: string | null
  amount: number
  currency: string
  capture: 'automatic' | 'manual'
  status: string
  received: number
  capturable: number
  refunded: number
}

type Body = Record<string, unknown>

export class FakePaymentsApi {
  readonly customers = new Set<string>()
  readonly methods = new Map<string, {customer: string; pan: string}>()
  readonly intents = new Map<string, Intent>()
  /** GETs of routes the fake does not know. */
  gets = 0
  readonly wallets = new Map<string, number>()
  readonly keys = new Set<string>()
  postsWithoutKey = 0
  reusedKeys = 0
  #n = 0

  #id(prefix: string): string {
    return `${prefix}_${(++this.#n).toString(36).padStart(8, '0')}`
  }

  #view(i: Intent): Body {
    return {id: i.id, object: 'payment_intent', status: i.status, amount: i.amount, amount_received: i.received, amount_capturable: i.capturable, currency: i.currency, customer: i.customer}
  }

  readonly handler = (req: SeenRequest, res: ServerResponse): void => {
    const err = (status: number, code: string, extra: Body = {}) => json(res, status, {error: {type: status === 402 ? 'card_error' : 'invalid_request_error', code, message: code, ...extra}})
    if (req.method === 'POST') {
      const key = req.headers['idempotency-key']
      if (typeof key !== 'string') this.postsWithoutKey++
      else if (this.keys.has(key)) this.reusedKeys++
      else this.keys.add(key)
    }
    const body = (req.body === '' ? {} : JSON.parse(req.body)) as Body
    const path = req.path
    let m: RegExpExecArray | null
    if (req.method === 'GET') {
      const base = path.split('?')[0] ?? path
      if ((m = /^\/v1\/payment_intents\/([^/]+)$/.exec(base)) !== null) {
        const i = this.intents.get(m[1] ?? '')
        return i === undefined ? err(404, 'resource_missing') : json(res, 200, this.#view(i))
      }
      if ((m = /^\/v1\/customers\/([^/]+)\/payment_methods$/.exec(base)) !== null) {
        const customer = m[1] ?? ''
        if (!this.customers.has(customer)) return err(404, 'resource_missing')
        const data = [...this.methods.entries()].filter(([, pm]) => pm.customer === customer).map(([id]) => ({id, object: 'payment_method', customer}))
        return json(res, 200, {object: 'list', data, has_more: false})
      }
      this.gets++
      return err(404, 'route_not_found')
    }
    if (req.method !== 'POST') return err(404, 'route_not_found')

    if (path === '/v1/customers') {
      const id = this.#id('cus')
      this.customers.add(id)
      return json(res, 200, {id, object: 'customer', email: body.email ?? null, name: body.name ?? null})
    }
    if (path === '/v1/payment_methods') {
      const customer = body.customer as string
      const card = body.card as {number: string}
      if (!this.customers.has(customer)) return err(404, 'resource_missing')
      const id = this.#id('pm')
      this.methods.set(id, {customer, pan: card.number})
      return json(res, 200, {id, object: 'payment_method', customer})
    }
    if (path === '/v1/payment_intents') {
      const customer = body.customer as string
      if (!this.customers.has(customer)) return err(404, 'resource_missing')
      const pm = (body.payment_method as string | undefined) ?? null
      if (pm !== null && this.methods.get(pm)?.customer !== customer) return err(400, 'payment_method_customer_mismatch')
      const i: Intent = {
        id: this.#id('pi'), customer, pm, amount: body.amount as number, currency: body.currency as string, capture: (body.capture_method as 'automatic' | 'manual' | undefined) ?? 'automatic',
        status: pm === null ? 'requires_payment_method' : 'requires_confirmation', received: 0, capturable: 0, refunded: 0,
      }
      this.intents.set(i.id, i)
      if (body.confirm === true) return this.#confirm(i, undefined, res)
      return json(res, 200, this.#view(i))
    }
    if ((m = /^\/v1\/payment_intents\/([^/]+)\/(confirm|capture|cancel)$/.exec(path)) !== null) {
      const i = this.intents.get(m[1] as string)
      if (i === undefined) return err(404, 'resource_missing')
      const unexpected = () => err(409, 'payment_intent_unexpected_state')
      switch (m[2] as 'confirm' | 'capture' | 'cancel') {
        case 'confirm':
          return this.#confirm(i, body.payment_method as string | undefined, res)
        case 'capture': {
          if (i.status !== 'requires_capture') return unexpected()
          const amount = (body.amount_to_capture as number | undefined) ?? i.capturable
          if (amount > i.capturable) return err(400, 'amount_too_large')
          Object.assign(i, {status: 'succeeded', received: amount, capturable: 0})
          return json(res, 200, this.#view(i))
        }
        case 'cancel':
          if (!['requires_payment_method', 'requires_confirmation', 'requires_capture'].includes(i.status)) return unexpected()
          Object.assign(i, {status: 'canceled', capturable: 0})
          return json(res, 200, this.#view(i))
      }
    }
    if (path === '/v1/refunds') {
      const i = this.intents.get(body.payment_intent as string)
      if (i === undefined) return err(404, 'resource_missing')
      if (i.status !== 'succeeded') return err(409, 'payment_intent_unexpected_state')
      const left = i.received - i.refunded
      const amount = (body.amount as number | undefined) ?? left
      if (left <= 0) return err(422, 'charge_already_refunded')
      if (amount > left) return err(422, 'amount_too_large')
      i.refunded += amount
      return json(res, 200, {id: this.#id('re'), object: 'refund', payment_intent: i.id, amount, currency: i.currency, status: 'succeeded'})
    }
    if ((m = /^\/v1\/customers\/([^/]+)\/wallet\/(top_up|pay)$/.exec(path)) !== null) {
      const customer = m[1] as string
      if (!this.customers.has(customer)) return err(404, 'resource_missing')
      if (body.currency !== 'usd') return err(400, 'currency_mismatch')
      const balance = this.wallets.get(customer) ?? 0
      const amount = body.amount as number
      if (m[2] === 'top_up') {
        const pm = this.methods.get(body.payment_method as string)
        if (pm?.customer !== customer) return err(404, 'resource_missing')
        if (DECLINING.has(pm.pan)) return err(402, 'card_declined')
        this.wallets.set(customer, balance + amount)
      } else {
        if (amount > balance) return err(402, 'insufficient_funds')
        this.wallets.set(customer, balance - amount)
      }
      return json(res, 200, {object: 'wallet', customer, currency: 'usd', balance: this.wallets.get(customer)})
    }
    return err(404, 'route_not_found')
  }

  #confirm(i: Intent, pm: string | undefined, res: ServerResponse): void {
    if (pm !== undefined) {
      if (this.methods.get(pm)?.customer !== i.customer) return json(res, 400, {error: {type: 'invalid_request_error', code: 'payment_method_customer_mismatch', message: ''}})
      i.pm = pm
      if (i.status === 'requires_payment_method') i.status = 'requires_confirmation'
    }
    if (i.status !== 'requires_confirmation' || i.pm === null) return json(res, 409, {error: {type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: i.status}})
    const card = this.methods.get(i.pm)
    if (card !== undefined && DECLINING.has(card.pan)) {
      Object.assign(i, {status: 'requires_payment_method', pm: null})
      return json(res, 402, {error: {type: 'card_error', code: 'card_declined', message: 'Your card was declined.', payment_intent: this.#view(i)}})
    }
    if (i.capture === 'manual') Object.assign(i, {status: 'requires_capture', capturable: i.amount})
    else Object.assign(i, {status: 'succeeded', received: i.amount})
    return json(res, 200, this.#view(i))
  }
}
