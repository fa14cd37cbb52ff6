/**
 * The simulated card processor, deterministic by Stripe's test card numbers. It never sees a PAN:
 * it is given what the database holds about a card (BIN, last 4, keyed fingerprint) and
 * recognises the test cards by their fingerprints under the same key, so every instance gives the
 * same answer for a card saved through any other. Any other valid card is approved.
 */
import {setTimeout as delay} from 'node:timers/promises'
import {fingerprintOf} from './cards.js'
import {base62} from './ids.js'

export const CONNECTOR = 'simulator'

/** Fixed and small: the timeout card must be realistic (slow, then failed) without slowing tests. */
export const SIMULATED_TIMEOUT_MS = 20

export interface CardRef {
  bin: string
  last4: string
  fingerprint: Buffer
}

export type Behaviour =
  | {kind: 'approve'}
  | {kind: 'decline'; code: string; declineCode: string; message: string; responseCode: string}
  | {kind: 'action'}
  | {kind: 'error'; code: 'processing_error'}
  | {kind: 'timeout'}

export const TEST_CARDS: Readonly<Record<string, Behaviour>> = {
  '4242424242424242': {kind: 'approve'},
  '5555555555554444': {kind: 'approve'},
  '4000000000000002': {kind: 'decline', code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.', responseCode: '05'},
  '4000000000009995': {kind: 'decline', code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.', responseCode: '51'},
  '4000000000000069': {kind: 'decline', code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.', responseCode: '54'},
  '4000002500003155': {kind: 'action'},
  '4000000000000119': {kind: 'error', code: 'processing_error'},
  '4000000000006975': {kind: 'timeout'},
}

export type AuthorizeResult =
  | {outcome: 'approved'; connectorTxnId: string; networkTxnId: string; responseCode: string; latencyMs: number}
  | {outcome: 'action_required'; connectorTxnId: string; latencyMs: number}
  | {outcome: 'failed'; code: string; declineCode: string | null; message: string; responseCode: string | null; connectorTxnId: string | null; latencyMs: number}

export interface Processor {
  /**
   * Authorizes (and for automatic capture, in effect captures) an amount on a card. `reference` is
   * the processor's idempotency key: a second call with the same reference returns the first
   * call's result and charges nothing more.
   */
  authorize(card: CardRef, amount: bigint, currency: string, reference?: string): Promise<AuthorizeResult>
  /** Completes an authorization that needed 3DS, after the customer's authentication. */
  completeAuthentication(card: CardRef, connectorTxnId: string, success: boolean): Promise<AuthorizeResult>
  /** Refunds part or all of a captured amount; the simulator always succeeds. */
  refund(connectorTxnId: string | null, amount: bigint, currency: string): Promise<{connectorRefundId: string}>
}

/** How many references the simulator remembers (a real processor keeps them for at least a day). */
const REMEMBERED_REFERENCES = 100_000

export class SimulatedProcessor implements Processor {
  readonly #byFingerprint = new Map<string, Behaviour>()
  readonly #byReference = new Map<string, Promise<AuthorizeResult>>()

  constructor(fingerprintKey: Buffer) {
    for (const [pan, behaviour] of Object.entries(TEST_CARDS)) this.#byFingerprint.set(fingerprintOf(fingerprintKey, pan).toString('hex'), behaviour)
  }

  behaviourOf(card: CardRef): Behaviour {
    return this.#byFingerprint.get(card.fingerprint.toString('hex')) ?? {kind: 'approve'}
  }

  authorize(card: CardRef, amount: bigint, currency: string, reference?: string): Promise<AuthorizeResult> {
    if (reference === undefined) return this.#authorize(card, amount, currency)
    const seen = this.#byReference.get(reference)
    if (seen !== undefined) return seen
    const result = this.#authorize(card, amount, currency)
    this.#byReference.set(reference, result)
    if (this.#byReference.size > REMEMBERED_REFERENCES) {
      const oldest = this.#byReference.keys().next()
      if (oldest.done !== true) this.#byReference.delete(oldest.value)
    }
    return result
  }

  async #authorize(card: CardRef, _amount: bigint, _currency: string): Promise<AuthorizeResult> {
    const b = this.behaviourOf(card)
    const txn = `sim_${base62(20)}`
    switch (b.kind) {
      case 'approve':
        return approved(txn)
      case 'action':
        return {outcome: 'action_required', connectorTxnId: txn, latencyMs: 1}
      case 'decline':
        return {outcome: 'failed', code: b.code, declineCode: b.declineCode, message: b.message, responseCode: b.responseCode, connectorTxnId: txn, latencyMs: 1}
      case 'error':
        return {outcome: 'failed', code: 'processing_error', declineCode: null, message: 'An error occurred while processing your card. Try again in a little bit.', responseCode: '96', connectorTxnId: txn, latencyMs: 1}
      case 'timeout':
        await delay(SIMULATED_TIMEOUT_MS)
        return {outcome: 'failed', code: 'processor_timeout', declineCode: null, message: 'The card processor did not answer in time.', responseCode: null, connectorTxnId: null, latencyMs: SIMULATED_TIMEOUT_MS}
    }
  }

  completeAuthentication(_card: CardRef, connectorTxnId: string, success: boolean): Promise<AuthorizeResult> {
    return Promise.resolve(
      success
        ? approved(connectorTxnId)
        : {
            outcome: 'failed',
            code: 'payment_intent_authentication_failure',
            declineCode: null,
            message: 'We are unable to authenticate your payment method.',
            responseCode: null,
            connectorTxnId,
            latencyMs: 1,
          },
    )
  }

  refund(): Promise<{connectorRefundId: string}> {
    return Promise.resolve({connectorRefundId: `sim_re_${base62(20)}`})
  }
}

function approved(txn: string): AuthorizeResult {
  return {outcome: 'approved', connectorTxnId: txn, networkTxnId: base62(15), responseCode: '00', latencyMs: 1}
}
