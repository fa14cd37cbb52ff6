/**
 * JSON Schemas shared by the routes. Fastify validates requests with them and /openapi.json is
 * generated from the very same objects, so the document cannot drift from what is enforced.
 * Response schemas document the shapes; responses are serialized with JSON.stringify (see app.ts),
 * so a field missing here is never silently dropped from a response.
 */
import {MAX_MINOR} from '../domain/money.js'

export const id = (prefix: string) => ({type: 'string', pattern: `^${prefix}_[A-Za-z0-9]{1,60}$`, maxLength: 64}) as const
export const idParams = (prefix: string) => ({type: 'object', required: ['id'], properties: {id: id(prefix)}, additionalProperties: false}) as const

export const amount = {type: 'integer', minimum: 1, maximum: MAX_MINOR, description: 'Integer amount in minor units (1099 = 10.99 USD; JPY has none).'} as const
export const currency = {type: 'string', pattern: '^(?:usd|eur|gbp|inr|jpy|USD|EUR|GBP|INR|JPY)$', description: 'ISO 4217 code: usd, eur, gbp, inr or jpy.'} as const
export const metadata = {type: 'object', maxProperties: 50, additionalProperties: {type: 'string', maxLength: 500}} as const
export const nullableString = {type: ['string', 'null']} as const
export const nullableInt = {type: ['integer', 'null']} as const

export const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: {
        type: {type: 'string', enum: ['invalid_request_error', 'card_error', 'idempotency_error', 'api_error']},
        code: {type: 'string'},
        message: {type: 'string'},
        param: {type: 'string'},
        decline_code: {type: 'string'},
        payment_intent: {type: 'object', additionalProperties: true},
      },
    },
  },
} as const

export const customerObject = {
  type: 'object',
  properties: {id: id('cus'), object: {const: 'customer'}, email: nullableString, name: nullableString, metadata: {type: 'object', additionalProperties: true}, created: {type: 'integer'}},
} as const

export const paymentMethodObject = {
  type: 'object',
  properties: {
    id: id('pm'),
    object: {const: 'payment_method'},
    type: {type: 'string'},
    customer: id('cus'),
    status: {type: 'string'},
    card: {
      type: ['object', 'null'],
      properties: {brand: nullableString, bin: nullableString, last4: nullableString, exp_month: nullableInt, exp_year: nullableInt, fingerprint: nullableString},
    },
    created: {type: 'integer'},
  },
} as const

export const attemptObject = {
  type: 'object',
  properties: {
    attempt: {type: 'integer'},
    status: {type: 'string', enum: ['started', 'requires_action', 'pending', 'authorized', 'captured', 'failed', 'voided']},
    payment_method: {type: 'string'},
    connector: {type: 'string'},
    amount: {type: 'integer'},
    authentication_type: {type: 'string'},
    processor_response_code: nullableString,
    decline_code: nullableString,
    decline_reason: nullableString,
    created: {type: 'integer'},
  },
} as const

export const intentObject = {
  type: 'object',
  properties: {
    id: id('pi'),
    object: {const: 'payment_intent'},
    amount: {type: 'integer'},
    amount_capturable: {type: 'integer'},
    amount_received: {type: 'integer'},
    currency: {type: 'string'},
    customer: {type: 'string'},
    payment_method: nullableString,
    status: {type: 'string', enum: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled']},
    capture_method: {type: 'string', enum: ['automatic', 'manual']},
    description: nullableString,
    metadata: {type: 'object', additionalProperties: true},
    cancellation_reason: nullableString,
    canceled_at: nullableInt,
    last_payment_error: {type: ['object', 'null'], properties: {code: {type: 'string'}, decline_code: nullableString, message: nullableString, payment_method: {type: 'string'}}},
    next_action: {type: ['object', 'null'], additionalProperties: true},
    attempt_count: {type: 'integer'},
    attempts: {type: 'array', items: attemptObject},
    created: {type: 'integer'},
  },
} as const

export const refundObject = {
  type: 'object',
  properties: {
    id: id('re'),
    object: {const: 'refund'},
    payment_intent: id('pi'),
    amount: {type: 'integer'},
    currency: {type: 'string'},
    reason: nullableString,
    status: {type: 'string', enum: ['pending', 'succeeded', 'failed', 'canceled']},
    failure_reason: nullableString,
    created: {type: 'integer'},
  },
} as const

export const walletObject = {
  type: 'object',
  properties: {
    id: id('wal'),
    object: {const: 'wallet'},
    customer: id('cus'),
    currency: {type: 'string'},
    balance: {type: 'integer'},
    status: {type: 'string'},
    transactions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {id: {type: 'string'}, object: {const: 'wallet_transaction'}, kind: {type: 'string'}, amount: {type: 'integer'}, balance_after: {type: 'integer'}, currency: {type: 'string'}, created: {type: 'integer'}},
      },
    },
  },
} as const

export const listOf = (item: object) => ({type: 'object', properties: {object: {const: 'list'}, data: {type: 'array', items: item}, has_more: {type: 'boolean'}}}) as const

/** Responses every /v1 route can give besides its success. */
export const errors = {400: errorResponse, 404: errorResponse, 409: errorResponse, 422: errorResponse, 500: errorResponse} as const
export const paymentErrors = {...errors, 402: errorResponse} as const

export const limitQuery = {type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|100)$', description: 'Page size, 1 to 100 (default 10).'} as const

declare module 'fastify' {
  interface FastifySchema {
    /** One line for /openapi.json (Fastify itself ignores it). */
    summary?: string
  }
}
