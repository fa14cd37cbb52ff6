// Money conversions are exact: bigint units of 1/10,000, never a float.
import {describe, expect, it} from 'vitest'
import {currencyOf, decimalToMinor, decimalToUnits, minorToDecimal, minorToUnits, processingFee, unitsToDecimal, unitsToMinor} from '../../../runtime/src/domain/money.js'

describe('money', () => {
  it('converts API minor units to DECIMAL(19,4) strings per currency exponent', () => {
    expect(minorToDecimal(1099, 'USD')).toBe('10.9900')
    expect(minorToDecimal(1, 'EUR')).toBe('0.0100')
    expect(minorToDecimal(500, 'JPY')).toBe('500.0000')
    expect(minorToDecimal(99_999_999_999, 'INR')).toBe('999999999.9900')
  })

  it('reads DECIMAL strings back exactly, including values a float would get wrong', () => {
    expect(decimalToMinor('10.9900', 'USD')).toBe(1099)
    expect(decimalToMinor('0.29', 'GBP')).toBe(29) // 0.29 * 100 = 28.999999999999996 as floats
    expect(decimalToUnits('-3.5')).toBe(-35_000n)
    expect(decimalToUnits('0')).toBe(0n)
    expect(unitsToDecimal(decimalToUnits('0.1') + decimalToUnits('0.2'))).toBe('0.3000')
    expect(decimalToUnits('123456789012345678901234.5678')).toBe(1234567890123456789012345678n)
  })

  it('rounds legacy sub-minor amounts half away from zero for display only', () => {
    expect(unitsToMinor(decimalToUnits('10.9950'), 'USD')).toBe(1100)
    expect(unitsToMinor(decimalToUnits('10.9949'), 'USD')).toBe(1099)
    expect(unitsToMinor(decimalToUnits('-10.9950'), 'USD')).toBe(-1100)
    expect(unitsToMinor(decimalToUnits('12.5000'), 'JPY')).toBe(13)
  })

  it('refuses fractional or unsafe minor amounts and malformed decimals', () => {
    expect(() => minorToUnits(10.5, 'USD')).toThrow(RangeError)
    expect(() => minorToUnits(2 ** 53, 'USD')).toThrow(RangeError)
    expect(() => decimalToUnits('1e3')).toThrow(TypeError)
    expect(() => decimalToUnits('1.23456')).toThrow(TypeError)
  })

  it('accepts only the supported currencies, in either case', () => {
    expect(currencyOf('usd')).toBe('USD')
    expect(() => currencyOf('BHD')).toThrow(/not supported/)
  })

  it('computes the 2.9% fee in whole minor units', () => {
    expect(unitsToDecimal(processingFee(minorToUnits(1099, 'USD'), 'USD'))).toBe('0.3200') // 31.871 -> 32
    expect(unitsToDecimal(processingFee(minorToUnits(500, 'JPY'), 'JPY'))).toBe('15.0000') // 14.5 -> 15
  })
})
