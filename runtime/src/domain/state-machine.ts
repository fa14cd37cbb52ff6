/**
 * The PaymentIntent state machine (Stripe's statuses, see payment-anchors 2.1). There is no
 * `failed` status: a failed attempt sends the intent back to requires_payment_method with the
 * attempt's error, and only succeeded and canceled are terminal. `processing` is held while the
 * processor is called (outside any database transaction), so a second confirm or a cancel in that
 * window is refused instead of racing the processor's answer.
 */
import {unexpectedState} from './errors.js'

export const INTENT_STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'requires_capture',
  'succeeded',
  'canceled',
] as const
export type IntentStatus = (typeof INTENT_STATUSES)[number]

export const TRANSITIONS: Readonly<Record<IntentStatus, readonly IntentStatus[]>> = {
  // attach a method (create or confirm with payment_method), or cancel
  requires_payment_method: ['requires_confirmation', 'canceled'],
  // confirm starts an attempt
  requires_confirmation: ['processing', 'canceled'],
  // the processor answered: approved (automatic or manual capture), 3DS needed, or failed
  processing: ['succeeded', 'requires_capture', 'requires_action', 'requires_payment_method'],
  // 3DS completed (the attempt resumes) or failed
  requires_action: ['processing', 'requires_payment_method', 'canceled'],
  // capture (full or partial) or void
  requires_capture: ['succeeded', 'canceled'],
  succeeded: [],
  canceled: [],
}

export function isIntentStatus(s: string): s is IntentStatus {
  return (INTENT_STATUSES as readonly string[]).includes(s)
}

export function canTransition(from: IntentStatus, to: IntentStatus): boolean {
  return TRANSITIONS[from].includes(to)
}

/** Throws the API's 409 payment_intent_unexpected_state unless from -> to is allowed. */
export function assertTransition(intentId: string, from: string, to: IntentStatus, action: string): void {
  if (!isIntentStatus(from) || !canTransition(from, to)) throw unexpectedState(intentId, from, action)
}
