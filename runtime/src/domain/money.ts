/**
 * Money without floats. The API speaks integer minor units (1099 = 10.99 USD, 500 = 500 JPY); the
 * database stores DECIMAL(19,4) strings in major units. Arithmetic happens in bigint "units" of
 * 1/10,000 of a major unit (the column's scale), so a sum of stored amounts is exact even for
 * legacy rows that use all four decimal places. A JS number never holds an amount of money:
 * eslint refuses parseFloat and Number(<amount>) under runtime/.
 */
import {ApiError} from './errors.js'

/** ISO 4217 exponents of the currencies the service accepts. */
export const CURRENCY_EXPONENTS = {USD: 2, EUR: 2, GBP: 2, INR: 2, JPY: 0} as const
export type Currency = keyof typeof CURRENCY_EXPONENTS
export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as Currency[]

const SCALE = 4
const UNITS_PER_MAJOR = 10n ** BigInt(SCALE)
/** Stripe's ceiling is 8 digits of minor units; DECIMAL(19,4) holds far more, this keeps JSON ints safe. */
export const MAX_MINOR = 99_999_999_999

export function isCurrency(code: string): code is Currency {
  return Object.hasOwn(CURRENCY_EXPONENTS, code)
}

export function currencyOf(code: string): Currency {
  const upper = code.toUpperCase()
  if (!isCurrency(upper)) throw new ApiError(400, 'invalid_request_error', 'currency_not_supported', `Currency ${code} is not supported (one of ${CURRENCIES.join(', ')}).`, 'currency')
  return upper
}

function unitsPerMinor(currency: Currency): bigint {
  return 10n ** BigInt(SCALE - CURRENCY_EXPONENTS[currency])
}

/** API amount (integer minor units) to units. Refuses fractions and unsafe integers. */
export function minorToUnits(minor: number | bigint, currency: Currency): bigint {
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) throw new RangeError(`Not an integer amount of minor units: ${minor}`)
  return BigInt(minor) * unitsPerMinor(currency)
}

/**
 * Units to API minor units. Exact amounts convert exactly; a legacy amount with sub-minor digits
 * (the DECIMAL keeps 4 places) rounds half away from zero, as a statement would show it.
 */
export function unitsToMinor(units: bigint, currency: Currency): number {
  const per = unitsPerMinor(currency)
  const negative = units < 0n
  const abs = negative ? -units : units
  let q = abs / per
  if ((abs % per) * 2n >= per) q += 1n
  return Number(negative ? -q : q)
}

export function isWholeMinor(units: bigint, currency: Currency): boolean {
  return units % unitsPerMinor(currency) === 0n
}

const DECIMAL = /^(-)?(\d{1,34})(?:\.(\d{1,4}))?$/

/** A DECIMAL(19,4) string as the driver returns it ("10.9900", "-3.5", "0") to units. */
export function decimalToUnits(text: string): bigint {
  const m = DECIMAL.exec(text.trim())
  if (m === null) throw new TypeError(`Not a DECIMAL(19,4) value: ${JSON.stringify(text)}`)
  const [, sign, whole = '0', frac = ''] = m
  const units = BigInt(whole) * UNITS_PER_MAJOR + BigInt(frac.padEnd(SCALE, '0'))
  return sign === '-' ? -units : units
}

/** Units to the DECIMAL(19,4) string the database stores: always four places. */
export function unitsToDecimal(units: bigint): string {
  const negative = units < 0n
  const abs = negative ? -units : units
  const whole = abs / UNITS_PER_MAJOR
  const frac = (abs % UNITS_PER_MAJOR).toString().padStart(SCALE, '0')
  return `${negative ? '-' : ''}${whole}.${frac}`
}

export function minorToDecimal(minor: number | bigint, currency: Currency): string {
  return unitsToDecimal(minorToUnits(minor, currency))
}

export function decimalToMinor(text: string, currency: Currency): number {
  return unitsToMinor(decimalToUnits(text), currency)
}

/**
 * The simulated processor's fee on a capture: 2.9% of the amount, rounded half up to a whole
 * minor unit, so the ledger's fee entry is an amount a bank statement could show.
 */
export function processingFee(units: bigint, currency: Currency): bigint {
  const per = unitsPerMinor(currency)
  const minor = units / per
  return ((minor * 29n + 500n) / 1000n) * per
}
