/** /v1/customers and /v1/payment_methods: customers and their saved cards. */
import type {FastifyInstance} from 'fastify'
import type {CardInput} from '../../domain/cards.js'
import {createCustomer, createPaymentMethod, getCustomer, getPaymentMethod, listPaymentMethods} from '../../services/customers.js'
import type {Services} from '../../services/context.js'
import {idempotencyOf} from '../idempotency.js'
import * as S from '../schemas.js'

export function customerRoutes(app: FastifyInstance, s: Services): void {
  app.post<{Body: {email?: string; name?: string; metadata?: Record<string, string>}}>(
    '/v1/customers',
    {
      schema: {
        summary: 'Create a customer',
        body: {type: 'object', additionalProperties: false, properties: {email: {type: 'string', maxLength: 254}, name: {type: 'string', maxLength: 200}, metadata: S.metadata}},
        response: {200: S.customerObject, ...S.errors},
      },
    },
    async (req) => createCustomer(s, req.body, idempotencyOf(req)),
  )

  app.get<{Params: {id: string}}>('/v1/customers/:id', {schema: {summary: 'Retrieve a customer', params: S.idParams('cus'), response: {200: S.customerObject, ...S.errors}}}, async (req) =>
    getCustomer(s, req.params.id),
  )

  app.get<{Params: {id: string}; Querystring: {limit?: string}}>(
    '/v1/customers/:id/payment_methods',
    {
      schema: {
        summary: "List a customer's saved payment methods",
        params: S.idParams('cus'),
        querystring: {type: 'object', additionalProperties: false, properties: {limit: S.limitQuery}},
        response: {200: S.listOf(S.paymentMethodObject), ...S.errors},
      },
    },
    async (req) => listPaymentMethods(s, req.params.id, Number.parseInt(req.query.limit ?? '10', 10)),
  )

  app.post<{Body: {customer: string; type: 'card'; card: CardInput}}>(
    '/v1/payment_methods',
    {
      schema: {
        summary: 'Save a card (only a vault token, BIN, last 4, brand, expiry and a keyed fingerprint are kept)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['customer', 'type', 'card'],
          properties: {
            customer: S.id('cus'),
            type: {type: 'string', enum: ['card']},
            card: {
              type: 'object',
              additionalProperties: false,
              required: ['number', 'exp_month', 'exp_year', 'cvc'],
              properties: {
                number: {type: 'string', pattern: '^[0-9][0-9 -]{11,24}$', description: 'Card number; never stored or logged.'},
                exp_month: {type: 'integer', minimum: 1, maximum: 12},
                exp_year: {type: 'integer', minimum: 2000, maximum: 2200},
                cvc: {type: 'string', pattern: '^[0-9]{3,4}$', description: 'Checked for shape, then discarded (PCI DSS 3.3.1).'},
              },
            },
          },
        },
        response: {200: S.paymentMethodObject, ...S.errors},
      },
    },
    async (req) => createPaymentMethod(s, req.body, idempotencyOf(req)),
  )

  app.get<{Params: {id: string}}>(
    '/v1/payment_methods/:id',
    {schema: {summary: 'Retrieve a payment method', params: S.idParams('pm'), response: {200: S.paymentMethodObject, ...S.errors}}},
    async (req) => getPaymentMethod(s, req.params.id),
  )
}
