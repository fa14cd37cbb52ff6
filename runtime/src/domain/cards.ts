/**
 * Card checks and the data PCI DSS lets us keep outside the vault: brand from the BIN, the BIN
 * itself (8 digits for PANs of 16+ digits, else 6; PCI DSS 3.4.1 allows BIN + last 4), last 4,
 * expiry and a keyed fingerprint. The fingerprint is HMAC-SHA256 under a secret key (PCI DSS
 * 3.5.1.1: a bare hash of a PAN can be brute-forced from BIN + last 4), so equal cards have equal
 * fingerprints and nothing about the number can be recovered without the key.
 */
import {createHmac} from 'node:crypto'
import {luhnValid} from '../../../src/cli/redact.js'
import {ApiError} from './errors.js'

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'unknown'

export interface CardInput {
  number: string
  exp_month: number
  exp_year: number
  cvc: string
}

/** What is stored about a card: everything but the number and the CVC. */
export interface CardFacts {
  brand: CardBrand
  bin: string
  last4: string
  expMonth: number
  expYear: number
  fingerprint: Buffer
}

export { luhnValid }

export function brandOf(pan: string): CardBrand {
  const p2 = Number.parseInt(pan.slice(0, 2), 10)
  const p3 = Number.parseInt(pan.slice(0, 3), 10)
  const p4 = Number.parseInt(pan.slice(0, 4), 10)
  const p6 = Number.parseInt(pan.slice(0, 6), 10)
  if (pan.startsWith('4')) return 'visa'
  if ((p2 >= 51 && p2 <= 55) || (p6 >= 222100 && p6 <= 272099)) return 'mastercard'
  if (p2 === 34 || p2 === 37) return 'amex'
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649)) return 'discover'
  if (p4 >= 3528 && p4 <= 3589) return 'jcb'
  if (p2 === 36 || p2 === 38 || (p3 >= 300 && p3 <= 305)) return 'diners'
  if (p2 === 62) return 'unionpay'
  return 'unknown'
}

export function binOf(pan: string): string {
  return pan.slice(0, pan.length >= 16 ? 8 : 6)
}

export function fingerprintOf(key: Buffer, pan: string): Buffer {
  return createHmac('sha256', key).update(`pan:${pan}`).digest()
}

/** Card number without the spaces and dashes people type; the schema already limited the characters. */
export function normalizePan(number: string): string {
  return number.replace(/[\s-]/g, '')
}

/**
 * Validates a card and returns what may be stored. Error messages never echo the number.
 * `now` decides expiry: a card is valid through the last day of its expiry month.
 */
export function checkCard(card: CardInput, key: Buffer, now: Date): CardFacts {
  const pan = normalizePan(card.number)
  if (!/^\d{13,19}$/.test(pan) || !luhnValid(pan)) {
    throw new ApiError(400, 'card_error', 'incorrect_number', 'Your card number is incorrect.', 'card[number]')
  }
  if (!Number.isInteger(card.exp_month) || card.exp_month < 1 || card.exp_month > 12) {
    throw new ApiError(400, 'card_error', 'invalid_expiry_month', "Your card's expiration month is invalid.", 'card[exp_month]')
  }
  const year = now.getUTCFullYear()
  const month = now.getUTCMonth() + 1
  if (card.exp_year < year || card.exp_year > year + 50) {
    throw new ApiError(400, 'card_error', 'invalid_expiry_year', "Your card's expiration year is invalid.", 'card[exp_year]')
  }
  if (card.exp_year === year && card.exp_month < month) {
    throw new ApiError(400, 'card_error', 'invalid_expiry_month', "Your card's expiration month is in the past.", 'card[exp_month]')
  }
  if (!/^\d{3,4}$/.test(card.cvc)) throw new ApiError(400, 'card_error', 'invalid_cvc', "Your card's security code is invalid.", 'card[cvc]')
  return {brand: brandOf(pan), bin: binOf(pan), last4: pan.slice(-4), expMonth: card.exp_month, expYear: card.exp_year, fingerprint: fingerprintOf(key, pan)}
}
