import {inspect} from 'node:util'
import {describe, expect, test} from 'vitest'
import {luhnValid, MASK, redact, registerSecret, Secret} from '../../../src/cli/redact.js'

describe('redact', () => {
  test('masks every registered secret wherever it appears', () => {
    registerSecret('Zq9-unit-secret-value')
    expect(redact('Access denied (using password: Zq9-unit-secret-value) twice Zq9-unit-secret-value')).toBe(
      `Access denied (using password: ${MASK}) twice ${MASK}`,
    )
  })

  test('masks key=value credentials and URL passwords it was never told about', () => {
    expect(redact('dsn password=abc123 host=x')).toBe(`dsn password=${MASK} host=x`)
    expect(redact('{"token": "tok_live_1"}')).toBe(`{"token": "${MASK}"}`)
    expect(redact('mysql://app:pa55word@db:3306/payments')).toBe(`mysql://app:${MASK}@db:3306/payments`)
  })

  test('masks Luhn-valid card numbers but keeps other digit runs', () => {
    expect(redact('card 4242424242424242 ok')).toBe(`card ${MASK}4242 ok`)
    // 16 digits that fail the Luhn check stay (ids, amounts in minor units)
    expect(redact('id 4242424242424241')).toBe('id 4242424242424241')
    expect(redact('rows 1234567')).toBe('rows 1234567')
  })

  test('luhnValid', () => {
    expect(luhnValid('4111111111111111')).toBe(true)
    expect(luhnValid('5555555555554444')).toBe(true)
    expect(luhnValid('4111111111111112')).toBe(false)
  })
})

describe('Secret', () => {
  test('never shows its value by String, JSON or inspect, and registers it for redaction', () => {
    const s = new Secret('Hx7-very-private', 'env:PAYCTL_X')
    expect(String(s)).toBe(MASK)
    expect(JSON.stringify({password: s})).toBe('{"password":"env:PAYCTL_X"}')
    expect(inspect({password: s})).not.toContain('Hx7-very-private')
    expect(s.reveal()).toBe('Hx7-very-private')
    expect(redact('echo Hx7-very-private')).toBe(`echo ${MASK}`)
  })
})

describe('redact and numbers', () => {
  test('leaves the fraction digits of a decimal number alone, and still masks a card number', () => {
    expect(redact('{"lagSeconds":0.4242424242424242}')).toBe('{"lagSeconds":0.4242424242424242}')
    expect(redact('card 4242424242424242.')).not.toContain('4242424242424242')
  })
})
