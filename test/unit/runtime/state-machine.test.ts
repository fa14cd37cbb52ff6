// Every allowed and every refused PaymentIntent transition.
import {describe, expect, it} from 'vitest'
import {assertTransition, canTransition, INTENT_STATUSES, type IntentStatus} from '../../../runtime/src/domain/state-machine.js'

const ALLOWED: Array<[IntentStatus, IntentStatus]> = [
  ['requires_payment_method', 'requires_confirmation'],
  ['requires_payment_method', 'canceled'],
  ['requires_confirmation', 'processing'],
  ['requires_confirmation', 'canceled'],
  ['processing', 'succeeded'],
  ['processing', 'requires_capture'],
  ['processing', 'requires_action'],
  ['processing', 'requires_payment_method'],
  ['requires_action', 'processing'],
  ['requires_action', 'requires_payment_method'],
  ['requires_action', 'canceled'],
  ['requires_capture', 'succeeded'],
  ['requires_capture', 'canceled'],
]

describe('payment intent state machine', () => {
  const all = INTENT_STATUSES.flatMap((from) => INTENT_STATUSES.map((to) => [from, to] as [IntentStatus, IntentStatus]))
  it.each(all)('%s -> %s', (from, to) => {
    const allowed = ALLOWED.some(([f, t]) => f === from && t === to)
    expect(canTransition(from, to)).toBe(allowed)
    if (allowed) expect(() => assertTransition('pi_x', from, to, 'test')).not.toThrow()
    else expect(() => assertTransition('pi_x', from, to, 'test')).toThrow(expect.objectContaining({status: 409, code: 'payment_intent_unexpected_state'}))
  })

  it('keeps succeeded and canceled terminal and refuses unknown statuses', () => {
    for (const to of INTENT_STATUSES) {
      expect(canTransition('succeeded', to)).toBe(false)
      expect(canTransition('canceled', to)).toBe(false)
    }
    expect(() => assertTransition('pi_x', 'failed', 'canceled', 'cancel')).toThrow(/status of failed/)
  })
})
