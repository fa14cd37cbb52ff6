/** /v1/payment_intents: create, confirm, authenticate (3DS), capture, cancel, retrieve, list. */
import type {FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import type {Services} from '../../services/context.js'
import {authenticateIntent, cancelIntent, captureIntent, confirmIntent, createIntent, type CreateIntentBody, getIntent, type IntentOutcome, listIntents} from '../../services/intents.js'
import {sendError} from '../errors.js'
import type {RuntimeMetrics} from '../metrics.js'
import {idempotencyOf} from '../idempotency.js'
import * as S from '../schemas.js'

type Params = {Params: {id: string}}

/** A failed attempt answers 402 with the card error and the intent inside it, as Stripe does. */
function answer(req: FastifyRequest, reply: FastifyReply, metrics: RuntimeMetrics, outcome: IntentOutcome): FastifyReply | Record<string, unknown> {
  return outcome.error === null ? outcome.intent : sendError(req, reply, metrics, outcome.error)
}

export function paymentIntentRoutes(app: FastifyInstance, s: Services, metrics: RuntimeMetrics): void {
  app.post<{Body: CreateIntentBody}>(
    '/v1/payment_intents',
    {
      schema: {
        summary: 'Create a PaymentIntent (and confirm it at once with confirm=true)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['amount', 'currency', 'customer'],
          properties: {
            amount: S.amount,
            currency: S.currency,
            customer: S.id('cus'),
            payment_method: S.id('pm'),
            capture_method: {type: 'string', enum: ['automatic', 'manual']},
            confirm: {type: 'boolean'},
            description: {type: 'string', maxLength: 255},
            metadata: S.metadata,
          },
        },
        response: {200: S.intentObject, ...S.paymentErrors},
      },
    },
    async (req, reply) => answer(req, reply, metrics, await createIntent(s, req.body, idempotencyOf(req))),
  )

  app.post<Params & {Body: {payment_method?: string} | undefined}>(
    '/v1/payment_intents/:id/confirm',
    {
      schema: {
        summary: 'Confirm: start an attempt with the attached or given payment method',
        params: S.idParams('pi'),
        body: {type: 'object', additionalProperties: false, properties: {payment_method: S.id('pm')}},
        response: {200: S.intentObject, ...S.paymentErrors},
      },
    },
    async (req, reply) => answer(req, reply, metrics, await confirmIntent(s, req.params.id, req.body ?? {}, idempotencyOf(req))),
  )

  app.post<Params & {Body: {result: 'success' | 'failure'}}>(
    '/v1/payment_intents/:id/authenticate',
    {
      schema: {
        summary: "Simulate the customer's 3DS authentication of an intent in requires_action",
        params: S.idParams('pi'),
        body: {type: 'object', additionalProperties: false, required: ['result'], properties: {result: {type: 'string', enum: ['success', 'failure']}}},
        response: {200: S.intentObject, ...S.paymentErrors},
      },
    },
    async (req, reply) => answer(req, reply, metrics, await authenticateIntent(s, req.params.id, req.body.result === 'success', idempotencyOf(req))),
  )

  app.post<Params & {Body: {amount_to_capture?: number} | undefined}>(
    '/v1/payment_intents/:id/capture',
    {
      schema: {
        summary: 'Capture an authorized intent, in full or in part (a partial capture releases the rest)',
        params: S.idParams('pi'),
        body: {type: 'object', additionalProperties: false, properties: {amount_to_capture: S.amount}},
        response: {200: S.intentObject, ...S.errors},
      },
    },
    async (req) => captureIntent(s, req.params.id, req.body ?? {}, idempotencyOf(req)),
  )

  app.post<Params & {Body: {cancellation_reason?: string} | undefined}>(
    '/v1/payment_intents/:id/cancel',
    {
      schema: {
        summary: 'Cancel an intent (voids an authorization in requires_capture)',
        params: S.idParams('pi'),
        body: {type: 'object', additionalProperties: false, properties: {cancellation_reason: {type: 'string', enum: ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned']}}},
        response: {200: S.intentObject, ...S.errors},
      },
    },
    async (req) => cancelIntent(s, req.params.id, req.body ?? {}, idempotencyOf(req)),
  )

  app.get<Params>('/v1/payment_intents/:id', {schema: {summary: 'Retrieve an intent with its attempts', params: S.idParams('pi'), response: {200: S.intentObject, ...S.errors}}}, async (req) =>
    getIntent(s, req.params.id),
  )

  app.get<{Querystring: {customer: string; limit?: string; starting_after?: string}}>(
    '/v1/payment_intents',
    {
      schema: {
        summary: "List a customer's intents, newest first (keyset pagination with starting_after)",
        querystring: {type: 'object', additionalProperties: false, required: ['customer'], properties: {customer: S.id('cus'), limit: S.limitQuery, starting_after: S.id('pi')}},
        response: {200: S.listOf(S.intentObject), ...S.errors},
      },
    },
    async (req) => listIntents(s, req.query.customer, Number.parseInt(req.query.limit ?? '10', 10), req.query.starting_after),
  )
}
