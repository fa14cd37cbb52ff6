/**
 * The service's pino logger: JSON lines on stdout (or the stream a test hands in). Card data and
 * secrets never reach a line: known paths (card number and CVC, authorization headers, cookies,
 * passwords) are censored, and every string in every line goes through src/cli/redact.ts's
 * redact(), which masks registered secrets and any Luhn-valid 13-19 digit run.
 */
import pino, {type DestinationStream, type Logger} from 'pino'
import {redact} from '../../../src/cli/redact.js'

export const REDACT_PATHS = [
  'card.number',
  'card.cvc',
  '*.card.number',
  '*.card.cvc',
  'body.card.number',
  'body.card.cvc',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'password',
  '*.password',
  'fingerprintKey',
  '*.fingerprintKey',
]

function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value)
  if (depth > 6 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1))
  if (value instanceof Error) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1)
  return out
}

export function createLogger(options: {level?: string; instance?: string; destination?: DestinationStream} = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      // ISO time, not epoch milliseconds: a 13-digit epoch passes the Luhn check one time in ten
      // and would trip every PAN scanner run over the logs
      timestamp: pino.stdTimeFunctions.isoTime,
      base: options.instance === undefined ? {pid: process.pid} : {pid: process.pid, instance: options.instance},
      redact: {paths: REDACT_PATHS, censor: '[REDACTED]'},
      formatters: {log: (obj) => redactDeep(obj) as Record<string, unknown>},
      serializers: {err: (err: Error) => ({type: err.name, message: redact(err.message), stack: err.stack === undefined ? undefined : redact(err.stack)})},
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a: unknown) => (typeof a === 'string' ? redact(a) : a)) as Parameters<typeof method>)
        },
      },
    },
    options.destination ?? pino.destination(1),
  )
}
