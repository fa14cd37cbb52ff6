import {describe, expect, test} from 'vitest'
import {BugError, CheckFailedError, EnvironmentError, ExitCode, InterruptedError, PartialError, PayctlError, UsageError} from '../../../src/cli/errors.js'
import {formatError} from '../../../src/cli/base-command.js'
import {registerSecret} from '../../../src/cli/redact.js'

describe('PayctlError', () => {
  test('each class carries the documented exit code', () => {
    expect(new UsageError('X', 'm').exitCode).toBe(2)
    expect(new EnvironmentError('X', 'm').exitCode).toBe(3)
    expect(new CheckFailedError('X', 'm').exitCode).toBe(4)
    expect(new PartialError('X', 'm').exitCode).toBe(5)
    expect(new InterruptedError().exitCode).toBe(130)
    expect(new BugError('m').exitCode).toBe(ExitCode.bug)
  })

  test('from() keeps a PayctlError and turns anything else into a bug', () => {
    const usage = new UsageError('PAYCTL_X', 'bad')
    expect(PayctlError.from(usage)).toBe(usage)
    const wrapped = PayctlError.from(new TypeError('boom'))
    expect(wrapped.code).toBe('PAYCTL_UNEXPECTED')
    expect(wrapped.exitCode).toBe(1)
    expect(wrapped.message).toBe('boom')
  })

  test('toJSON is redacted and has code, exit code and actions', () => {
    registerSecret('Pw-in-error-77')
    const e = new EnvironmentError('PAYCTL_AUTH_FAILED', 'login failed with Pw-in-error-77', {
      actions: ['try Pw-in-error-77 again'],
      data: {detail: 'Pw-in-error-77'},
    })
    const json = JSON.stringify(e.toJSON())
    expect(json).not.toContain('Pw-in-error-77')
    expect(e.toJSON()).toMatchObject({code: 'PAYCTL_AUTH_FAILED', exitCode: 3, name: 'EnvironmentError'})
  })

  test('formatError prints the code, the message and each next step', () => {
    const text = formatError(new UsageError('PAYCTL_X', 'It broke.', {actions: ['Do this.', 'Then that.']}), false)
    expect(text).toBe('error PAYCTL_X: It broke.\n  next: Do this.\n  next: Then that.\n')
  })
})
