import {describe, expect, it} from 'vitest'

import {ExitCode} from '../../../src/cli/errors.js'
import {parseNameList} from '../../../src/cli/flags.js'

describe('parseNameList', () => {
  it('splits on commas and trims spaces', () => {
    expect(parseNameList('--tables', 'payment_intents, refunds ,payments.wallets')).toEqual(['payment_intents', 'refunds', 'payments.wallets'])
  })

  it('is undefined when the flag is not given', () => {
    expect(parseNameList('--tables', undefined)).toBeUndefined()
  })

  it('a value with no name in it is a usage error, not "no tables" (which would look like an empty database)', () => {
    for (const value of ['', ' ', ' , ,', ',']) {
      expect(() => parseNameList('--tables', value)).toThrow(expect.objectContaining({code: 'PAYCTL_USAGE', exitCode: ExitCode.usage}) as Error)
    }
  })
})
