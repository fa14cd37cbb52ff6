/** /v1/refunds, /v1/customers/:id/wallet and /v1/ledger/balance: the routes that move or count money. */
import type {FastifyInstance} from 'fastify'
import type {Services} from '../../services/context.js'
import {ledgerBalance} from '../../services/ledger.js'
import {createRefund, type CreateRefundBody, getRefund} from '../../services/refunds.js'
import {getWallet, payFromWallet, topUpWallet} from '../../services/wallets.js'
import {idempotencyOf} from '../idempotency.js'
import * as S from '../schemas.js'

export function moneyRoutes(app: FastifyInstance, s: Services): void {
  app.post<{Body: CreateRefundBody}>(
    '/v1/refunds',
    {
      schema: {
        summary: 'Refund a succeeded intent, in full (no amount) or in part; never more than was received',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['payment_intent'],
          properties: {payment_intent: S.id('pi'), amount: S.amount, reason: {type: 'string', enum: ['duplicate', 'fraudulent', 'requested_by_customer']}},
        },
        response: {200: S.refundObject, ...S.errors},
      },
    },
    async (req) => createRefund(s, req.body, idempotencyOf(req)),
  )

  app.get<{Params: {id: string}}>('/v1/refunds/:id', {schema: {summary: 'Retrieve a refund', params: S.idParams('re'), response: {200: S.refundObject, ...S.errors}}}, async (req) =>
    getRefund(s, req.params.id),
  )

  app.get<{Params: {id: string}}>(
    '/v1/customers/:id/wallet',
    {schema: {summary: "A customer's wallet: balance and recent transactions", params: S.idParams('cus'), response: {200: S.walletObject, ...S.errors}}},
    async (req) => getWallet(s, req.params.id),
  )

  app.post<{Params: {id: string}; Body: {amount: number; currency: string; payment_method: string}}>(
    '/v1/customers/:id/wallet/top_up',
    {
      schema: {
        summary: 'Charge a saved card and credit the wallet (created on the first top-up, in its currency)',
        params: S.idParams('cus'),
        body: {type: 'object', additionalProperties: false, required: ['amount', 'currency', 'payment_method'], properties: {amount: S.amount, currency: S.currency, payment_method: S.id('pm')}},
        response: {200: S.walletObject, ...S.paymentErrors},
      },
    },
    async (req) => topUpWallet(s, req.params.id, req.body, idempotencyOf(req)),
  )

  app.post<{Params: {id: string}; Body: {amount: number; currency: string; description?: string}}>(
    '/v1/customers/:id/wallet/pay',
    {
      schema: {
        summary: 'Pay from the wallet; refused with insufficient_funds (402) rather than going negative',
        params: S.idParams('cus'),
        body: {type: 'object', additionalProperties: false, required: ['amount', 'currency'], properties: {amount: S.amount, currency: S.currency, description: {type: 'string', maxLength: 255}}},
        response: {200: S.walletObject, ...S.paymentErrors},
      },
    },
    async (req) => payFromWallet(s, req.params.id, req.body, idempotencyOf(req)),
  )

  app.get(
    '/v1/ledger/balance',
    {
      schema: {
        summary: 'Per-account ledger balances and whether the books balance',
        response: {
          200: {
            type: 'object',
            properties: {
              object: {const: 'ledger_balance'},
              accounts: {type: 'array', items: {type: 'object', properties: {account: {type: 'string'}, currency: {type: 'string'}, balance: {type: 'string', description: 'DECIMAL(19,4) in major units'}}}},
              totals: {type: 'array', items: {type: 'object', properties: {currency: {type: 'string'}, total: {type: 'string'}}}},
              unbalanced_txns: {type: 'array', items: {type: 'object', properties: {txn_id: {type: 'string'}, total: {type: 'string'}}}},
              balanced: {type: 'boolean'},
            },
          },
          ...S.errors,
        },
      },
    },
    async () => ledgerBalance(s),
  )
}
