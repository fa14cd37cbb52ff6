/**
 * Customers and their saved cards. Saving a card keeps only the vault token, BIN, last 4, brand,
 * expiry and keyed fingerprint (PCI DSS 3.3.1 / 3.5.1): the number goes to the vault and the CVC
 * is checked for shape and dropped here, before anything is written or logged.
 */
import {checkCard, type CardInput, normalizePan} from '../domain/cards.js'
import {notFound} from '../domain/errors.js'
import {newId} from '../domain/ids.js'
import {customerObject, paymentMethodObject} from './serialize.js'
import type {IdempotencyHold, Services} from './context.js'
import {outbox, saveResponse} from './context.js'

export async function createCustomer(s: Services, body: {email?: string; name?: string; metadata?: Record<string, string>}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const now = s.clock()
  const publicId = newId('cus')
  return s.store.tx(async (q) => {
    await q.insertCustomer({publicId, email: body.email ?? null, name: body.name ?? null, metadata: body.metadata === undefined ? null : JSON.stringify(body.metadata), now})
    await outbox(q, 'customer', publicId, 'customer.created', {object: 'customer', id: publicId}, now)
    const row = await q.customer(publicId)
    if (row === null) throw new Error(`customer ${publicId} vanished after insert`)
    const created = customerObject(row)
    await saveResponse(q, idem, 200, created, null)
    return created
  })
}

export async function getCustomer(s: Services, id: string): Promise<Record<string, unknown>> {
  const row = await s.store.reader(id).customer(id)
  if (row === null) throw notFound('customer', id)
  return customerObject(row)
}

export async function createPaymentMethod(s: Services, body: {customer: string; type: 'card'; card: CardInput}, idem?: IdempotencyHold): Promise<Record<string, unknown>> {
  const now = s.clock()
  const facts = checkCard(body.card, s.fingerprintKey, now)
  const publicId = newId('pm')
  return s.store.tx(async (q) => {
    const customer = await q.customer(body.customer)
    if (customer === null) throw notFound('customer', body.customer, 'customer')
    // Tokenize only once the card is valid and the customer exists, so a refused request leaves no card behind.
    const vaultToken = s.vault.tokenize(normalizePan(body.card.number))
    await q.insertCardMethod({publicId, customerId: customer.id, vaultToken, brand: facts.brand, bin: facts.bin, last4: facts.last4, expMonth: facts.expMonth, expYear: facts.expYear, fingerprint: facts.fingerprint, now})
    await outbox(q, 'payment_method', publicId, 'payment_method.attached', {object: 'payment_method', id: publicId, customer: body.customer, brand: facts.brand, last4: facts.last4}, now)
    const row = await q.paymentMethod(publicId)
    if (row === null) throw new Error(`payment method ${publicId} vanished after insert`)
    const created = paymentMethodObject(row)
    await saveResponse(q, idem, 200, created, null)
    return created
  })
}

export async function getPaymentMethod(s: Services, id: string): Promise<Record<string, unknown>> {
  const row = await s.store.reader(id).paymentMethod(id)
  if (row === null) throw notFound('payment_method', id)
  return paymentMethodObject(row)
}

export async function listPaymentMethods(s: Services, customerId: string, limit: number): Promise<Record<string, unknown>> {
  const q = s.store.reader(customerId)
  const customer = await q.customer(customerId)
  if (customer === null) throw notFound('customer', customerId)
  const rows = await q.paymentMethods(customer.id, limit + 1)
  return {object: 'list', data: rows.slice(0, limit).map(paymentMethodObject), has_more: rows.length > limit}
}
