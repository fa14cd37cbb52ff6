/**
 * Idempotency keys as Stripe defines them (payment-anchors 2.2): the first request's status and
 * body are saved and replayed for the same key and parameters; other parameters under the same
 * key are refused (422, as the IETF draft says); a key in use by a running request is refused
 * (409); keys live at least 24 hours. The saved request hash never covers card data in clear:
 * card[number] and card[cvc] are replaced by their HMAC under the fingerprint key first, so two
 * requests with the same card still hash equal and the idempotency table holds nothing a card
 * number could be recovered from.
 */
import {createHash, createHmac} from 'node:crypto'

export const KEY_TTL_MS = 24 * 60 * 60 * 1000
/** A request that holds a key longer than this is taken to have crashed; a retry takes the key over. */
export const LOCK_TIMEOUT_MS = 60_000
export const MAX_KEY_LENGTH = 255

/** JSON with object keys sorted at every level, so property order never changes the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** The body with card[number] and card[cvc] replaced by keyed hashes (same input, same output). */
export function withoutCardData(body: unknown, key: Buffer): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return body
  const b = body as Record<string, unknown>
  const card = b.card
  if (card === null || typeof card !== 'object' || Array.isArray(card)) return body
  const c = {...(card as Record<string, unknown>)}
  for (const field of ['number', 'cvc'] as const) {
    if (typeof c[field] === 'string') c[field] = `hmac:${createHmac('sha256', key).update(`${field}:${c[field]}`).digest('hex')}`
  }
  return {...b, card: c}
}

export function requestHash(method: string, path: string, body: unknown, key: Buffer): Buffer {
  return createHash('sha256')
    .update(canonicalJson({method, path, body: withoutCardData(body ?? null, key)}))
    .digest()
}
