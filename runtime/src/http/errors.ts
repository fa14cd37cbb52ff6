/**
 * Every error response goes through here: Stripe's envelope, the error counter, and no internals.
 * Fastify's own errors (validation, bad JSON, body too large) are mapped to fixed messages: a JSON
 * parser's message quotes the body, and the body may hold a card number.
 */
import type {FastifyError, FastifyInstance, FastifyReply, FastifyRequest} from 'fastify'
import {ApiError, WritesUnavailableError} from '../domain/errors.js'
import type {RuntimeMetrics} from './metrics.js'

export function routeOf(req: FastifyRequest): string {
  return req.routeOptions.url ?? 'unmatched'
}

export function sendError(req: FastifyRequest, reply: FastifyReply, metrics: RuntimeMetrics, error: ApiError): FastifyReply {
  metrics.errors.inc({route: routeOf(req), code: error.code})
  if (error instanceof WritesUnavailableError) reply.header('Retry-After', String(error.retryAfterSeconds))
  return reply.code(error.status).type('application/json').send(error.toBody())
}

function fromFastify(err: FastifyError): ApiError | null {
  if (err.validation !== undefined) {
    const first = err.validation[0]
    const param = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') || (first?.params as {missingProperty?: string} | undefined)?.missingProperty
    return new ApiError(400, 'invalid_request_error', 'parameter_invalid', `Invalid request (${err.validationContext ?? 'body'}): ${err.message}`, param || undefined)
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError(400, 'invalid_request_error', 'invalid_json', 'The request body is not valid JSON.')
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'invalid_request_error', 'body_too_large', 'The request body is too large.')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'invalid_request_error', 'unsupported_media_type', 'Send the request body as application/json.')
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return new ApiError(err.statusCode, 'invalid_request_error', 'invalid_request', 'The request could not be processed.')
      }
      return null
  }
}

export function installErrorHandling(app: FastifyInstance, metrics: RuntimeMetrics): void {
  app.setErrorHandler((error: FastifyError, req, reply) => {
    const api = error instanceof ApiError ? error : fromFastify(error)
    if (api !== null) return sendError(req, reply, metrics, api)
    // a bug or an outage: the details go to the log (redacted), the client gets a generic 500
    req.log.error({err: error, route: routeOf(req)}, 'request failed')
    return sendError(req, reply, metrics, new ApiError(500, 'api_error', 'internal_error', 'An internal error occurred; the request may be retried with the same Idempotency-Key.'))
  })
  app.setNotFoundHandler((req, reply) => sendError(req, reply, metrics, new ApiError(404, 'invalid_request_error', 'route_not_found', `Unrecognized request URL (${req.method}: ${req.url.split('?')[0] ?? ''}).`)))
}
