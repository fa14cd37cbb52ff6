/**
 * /openapi.json, generated from the schemas the routes are registered with (collected by an
 * onRoute hook), so the document lists exactly the routes that exist and the rules Fastify enforces.
 */
import type {FastifyInstance, RouteOptions} from 'fastify'

interface Collected {
  method: string
  url: string
  schema: Record<string, unknown>
}

function parameters(schema: Record<string, unknown>): unknown[] {
  const out: unknown[] = []
  for (const [where, key] of [['path', 'params'], ['query', 'querystring']] as const) {
    const s = schema[key] as {properties?: Record<string, unknown>; required?: string[]} | undefined
    for (const [name, sub] of Object.entries(s?.properties ?? {})) out.push({name, in: where, required: where === 'path' || (s?.required ?? []).includes(name), schema: sub})
  }
  return out
}

export function collectRoutes(app: FastifyInstance): Collected[] {
  const routes: Collected[] = []
  app.addHook('onRoute', (r: RouteOptions) => {
    if (!r.url.startsWith('/v1/')) return
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({method: method.toLowerCase(), url: r.url, schema: (r.schema ?? {}) as Record<string, unknown>})
  })
  return routes
}

export function openApiDocument(routes: readonly Collected[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}')
    const responses: Record<string, unknown> = {}
    for (const [code, schema] of Object.entries((r.schema.response ?? {}) as Record<string, unknown>)) {
      responses[code] = {description: code === '200' ? 'OK' : 'Error', content: {'application/json': {schema}}}
    }
    paths[path] ??= {}
    paths[path][r.method] = {
      summary: r.schema.summary,
      parameters: [
        ...parameters(r.schema),
        ...(r.method === 'post' ? [{name: 'Idempotency-Key', in: 'header', required: false, schema: {type: 'string', maxLength: 255}}] : []),
      ],
      ...(r.schema.body === undefined ? {} : {requestBody: {required: true, content: {'application/json': {schema: r.schema.body}}}}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'payctl runtime payments API',
      version: '1.0.0',
      description:
        'Stripe-like payments API. Amounts are integers in minor units. POST requests accept an Idempotency-Key (<= 255 characters, kept 24 h): the same key and body replay the saved response (header Idempotent-Replayed: true), another body gives 422 idempotency_key_mismatch, a key still in use gives 409 idempotency_key_in_use.',
    },
    paths,
  }
}
