import {describe, expect, it} from 'vitest'
import {ExitCode, PayctlError} from '../../../src/cli/errors.js'
import {parseLoadDuration, parseNumberFlag} from '../../../src/load/flag-values.js'

function usageMessage(f: () => unknown): string {
  try {
    f()
  } catch (error) {
    expect(error).toBeInstanceOf(PayctlError)
    expect((error as PayctlError).exitCode).toBe(ExitCode.usage)
    return (error as PayctlError).message
  }
  throw new Error('expected a usage error')
}

describe('parseLoadDuration', () => {
  it.each([
    ['30', 30_000],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1.5s', 1_500],
    ['0.25', 250],
    [' 3s ', 3_000],
  ])('%j is %i ms', (text, ms) => {
    expect(parseLoadDuration('--duration', text)).toBe(ms)
  })

  it.each(['0', '0s', '0ms', '', 's', '-5s', '5 s', '5d', '1e3', 'PT5S', '0.0001ms'])('%j is refused with the flag named', (text) => {
    expect(usageMessage(() => parseLoadDuration('--request-timeout', text))).toBe(`--request-timeout must be a duration above zero (got ${JSON.stringify(text)}).`)
  })
})

describe('parseNumberFlag', () => {
  it('reads whole and fractional numbers', () => {
    expect(parseNumberFlag('--rate', '50')).toBe(50)
    expect(parseNumberFlag('--rate', '0.5')).toBe(0.5)
    expect(parseNumberFlag('--p99-ms', '0', {allowZero: true})).toBe(0)
  })

  it.each(['0', '-1', 'abc', '', '1e2', 'Infinity', '5/s'])('refuses %j as a rate', (text) => {
    expect(usageMessage(() => parseNumberFlag('--rate', text))).toContain('--rate must be a number above zero')
  })
})
