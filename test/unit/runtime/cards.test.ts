// Card checks, BIN/brand, keyed fingerprints, the processor's outcome per test card, and that
// idempotency hashing never covers card data in clear.
import {describe, expect, it} from 'vitest'
import {binOf, brandOf, checkCard, fingerprintOf, luhnValid} from '../../../runtime/src/domain/cards.js'
import {canonicalJson, requestHash, withoutCardData} from '../../../runtime/src/domain/idempotency.js'
import {newLedgerTxnId} from '../../../runtime/src/domain/ids.js'
import {SimulatedProcessor, TEST_CARDS} from '../../../runtime/src/domain/processor.js'

const KEY = Buffer.from('unit-test-fingerprint-key-000000')
const NOW = new Date('2026-06-15T00:00:00Z')
const card = (number: string, over: Partial<{exp_month: number; exp_year: number; cvc: string}> = {}) => ({number, exp_month: 12, exp_year: 2030, cvc: '123', ...over})

describe('cards', () => {
  it('checks Luhn and derives brand and BIN', () => {
    expect(luhnValid('4242424242424242')).toBe(true)
    expect(luhnValid('4242424242424241')).toBe(false)
    expect(brandOf('4242424242424242')).toBe('visa')
    expect(brandOf('5555555555554444')).toBe('mastercard')
    expect(brandOf('2223003122003222')).toBe('mastercard')
    expect(brandOf('378282246310005')).toBe('amex')
    expect(brandOf('6011111111111117')).toBe('discover')
    expect(brandOf('3566002020360505')).toBe('jcb')
    expect(brandOf('9999999999999995')).toBe('unknown')
    expect(binOf('4242424242424242')).toBe('42424242')
    expect(binOf('378282246310005')).toBe('378282')
  })

  it('keeps only BIN, last 4, expiry and a keyed fingerprint', () => {
    const facts = checkCard(card('4242 4242 4242 4242'), KEY, NOW)
    expect(facts).toMatchObject({brand: 'visa', bin: '42424242', last4: '4242', expMonth: 12, expYear: 2030})
    expect(JSON.stringify(facts)).not.toContain('4242424242424242')
    expect(facts.fingerprint).toHaveLength(32)
  })

  it('refuses bad numbers, expiries and CVCs without echoing the number', () => {
    const err = (c: ReturnType<typeof card>) => {
      try {
        checkCard(c, KEY, NOW)
      } catch (e) {
        return e as {code: string; message: string}
      }
      throw new Error('accepted')
    }
    expect(err(card('4242424242424241')).code).toBe('incorrect_number')
    expect(err(card('4242424242424241')).message).not.toContain('4242')
    expect(err(card('4242424242424242', {exp_year: 2025})).code).toBe('invalid_expiry_year')
    expect(err(card('4242424242424242', {exp_year: 2026, exp_month: 5})).code).toBe('invalid_expiry_month')
    expect(() => checkCard(card('4242424242424242', {exp_year: 2026, exp_month: 6}), KEY, NOW)).not.toThrow()
    expect(err(card('4242424242424242', {cvc: '12'})).code).toBe('invalid_cvc')
  })

  it('fingerprints are stable under one key and differ across keys', () => {
    expect(fingerprintOf(KEY, '4242424242424242').equals(fingerprintOf(KEY, '4242424242424242'))).toBe(true)
    expect(fingerprintOf(KEY, '4242424242424242').equals(fingerprintOf(Buffer.from('another-key-0000000000000000'), '4242424242424242'))).toBe(false)
    expect(fingerprintOf(KEY, '4242424242424242').equals(fingerprintOf(KEY, '5555555555554444'))).toBe(false)
  })

  it('ledger txn ids never look like a card number', () => {
    for (let i = 0; i < 2000; i++) expect(luhnValid(newLedgerTxnId())).toBe(false)
  })
})

describe('simulated processor', () => {
  const p = new SimulatedProcessor(KEY)
  const ref = (pan: string) => ({bin: binOf(pan), last4: pan.slice(-4), fingerprint: fingerprintOf(KEY, pan)})

  it.each([
    ['4242424242424242', 'approved', undefined],
    ['5555555555554444', 'approved', undefined],
    ['4000000000000002', 'failed', 'generic_decline'],
    ['4000000000009995', 'failed', 'insufficient_funds'],
    ['4000000000000069', 'failed', 'expired_card'],
    ['4000002500003155', 'action_required', undefined],
    ['4000000000000119', 'failed', 'processing_error'],
    ['4000000000006975', 'failed', 'processor_timeout'],
    ['378282246310005', 'approved', undefined],
  ])('%s -> %s %s', async (pan, outcome, code) => {
    const r = await p.authorize(ref(pan), 1000n, 'USD')
    expect(r.outcome).toBe(outcome)
    if (r.outcome === 'failed') expect(r.declineCode ?? r.code).toBe(code)
  })

  it('covers every listed test card and completes 3DS either way', async () => {
    expect(Object.keys(TEST_CARDS)).toHaveLength(8)
    expect((await p.completeAuthentication(ref('4000002500003155'), 'sim_x', true)).outcome).toBe('approved')
    const failed = await p.completeAuthentication(ref('4000002500003155'), 'sim_x', false)
    expect(failed.outcome === 'failed' && failed.code).toBe('payment_intent_authentication_failure')
  })

  it('recognises a card only under the key it was fingerprinted with', async () => {
    const other = new SimulatedProcessor(Buffer.from('a-different-key-0000000000000000'))
    expect((await other.authorize(ref('4000000000000002'), 1000n, 'USD')).outcome).toBe('approved')
  })
})

describe('idempotency hashing', () => {
  const body = {customer: 'cus_1', type: 'card', card: {number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123'}}

  it('replaces card number and CVC by keyed hashes before hashing', () => {
    const cleaned = canonicalJson(withoutCardData(body, KEY))
    expect(cleaned).not.toContain('4242424242424242')
    expect(cleaned).not.toContain('"123"')
    expect(cleaned).toContain('"exp_month":12')
  })

  it('is stable under key order and changes with any parameter', () => {
    const h = requestHash('POST', '/v1/payment_methods', body, KEY)
    const reordered = {card: {cvc: '123', exp_year: 2030, exp_month: 12, number: '4242424242424242'}, type: 'card', customer: 'cus_1'}
    expect(requestHash('POST', '/v1/payment_methods', reordered, KEY).equals(h)).toBe(true)
    expect(requestHash('POST', '/v1/payment_methods', {...body, card: {...body.card, cvc: '124'}}, KEY).equals(h)).toBe(false)
    expect(requestHash('POST', '/v1/payment_intents', body, KEY).equals(h)).toBe(false)
    expect(h).toHaveLength(32)
  })
})
