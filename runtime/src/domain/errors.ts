/**
 * The API's error: Stripe's envelope {error: {type, code, message, param?}}. Messages are written
 * for the client and never carry card data or internals; anything that is not an ApiError is a
 * bug and reaches the client as a generic 500 (the details go to the log only).
 */
export type ErrorType = 'invalid_request_error' | 'card_error' | 'idempotency_error' | 'api_error'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param?: string,
    /** Extra fields of the error object (decline_code, payment_intent). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }

  toBody(): {error: Record<string, unknown>} {
    return {error: {type: this.type, code: this.code, message: this.message, ...(this.param === undefined ? {} : {param: this.param}), ...this.extra}}
  }
}

export const notFound = (what: string, id: string, param?: string): ApiError =>
  new ApiError(404, 'invalid_request_error', 'resource_missing', `No such ${what}: '${id}'`, param)

export const unexpectedState = (id: string, status: string, action: string): ApiError =>
  new ApiError(409, 'invalid_request_error', 'payment_intent_unexpected_state', `You cannot ${action} this PaymentIntent because it has a status of ${status}.`, undefined, {
    payment_intent: id,
  })

/** Why an instance does not take a write right now (see data/routing-state.ts). */
export type WritesUnavailableReason = 'paused' | 'fenced' | 'moved'

const UNAVAILABLE_MESSAGES: Record<WritesUnavailableReason, string> = {
  paused: 'Writes are paused while the payment database is switched over; retry the request in a second (with the same Idempotency-Key).',
  fenced: 'This instance cannot confirm where writes go right now; retry the request in a second (with the same Idempotency-Key).',
  moved: 'Writes moved to another database while this request ran; retry the request (with the same Idempotency-Key).',
}

/**
 * A 503 with Retry-After: the write was not admitted, or was stopped before its next statement,
 * because of the cutover (a pause, a self-fenced instance, writes that moved side). The request can
 * be retried as it is; what it already committed is covered by its Idempotency-Key.
 */
export class WritesUnavailableError extends ApiError {
  readonly retryAfterSeconds = 1

  constructor(readonly reason: WritesUnavailableReason) {
    super(503, 'api_error', `writes_${reason}`, UNAVAILABLE_MESSAGES[reason])
    this.name = 'WritesUnavailableError'
  }
}
