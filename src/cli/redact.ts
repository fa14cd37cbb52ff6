/**
 * Secret redaction. Every secret payctl resolves (a password read from `env:`, `file:` or
 * `aws-secretsmanager:`) is registered here, and every line payctl prints, logs or stores goes
 * through `redact()`, so a secret echoed back by a driver's error message is still masked.
 * A `Secret` never reveals its value by accident: String(), JSON and util.inspect all mask it.
 */
import {inspect} from 'node:util'

export const MASK = '********'
const known = new Set<string>()

/** Patterns that are secret whatever their source: card-like digit runs and key=value credentials. */
const PATTERNS: Array<[RegExp, string | ((m: string, ...g: string[]) => string)]> = [
  // quoted SQL values, spaces and all: PASSWORD = N'...', SECRET = '...', @rmtpassword = '...' (T-SQL scripts)
  [/\b(\w*(?:password|passwd|pwd|secret))(\s*=\s*N?')((?:[^']|'')*)'/gi, (_m, k: string, sep: string) => `${k}${sep}${MASK}'`],
  // password=..., pwd: ..., token=..., secret=... in connection strings, URLs and log lines
  // (MySQL's "using password: YES" says only whether one was sent, and a secret reference
  // such as env:NAME names where the secret is: both stay)
  [/\b(password|passwd|pwd|secret|token|api[_-]?key)(["']?\s*[:=]\s*(?:N(?='))?["']?)(?!(?:YES|NO)\b|(?:env|file|aws-secretsmanager):)([^\s"',;&()]+)/gi, (_m, k: string, sep: string) => `${k}${sep}${MASK}`],
  // user:password@ in URLs
  [/(\/\/[^/\s:@]+:)([^@\s/]+)@/g, (_m, pre: string) => `${pre}${MASK}@`],
]

export function registerSecret(value: string): void {
  // very short values would mask ordinary words; a secret under 4 characters is refused by config anyway
  if (value.length >= 4) known.add(value)
}

export function redact(text: string): string {
  let out = text
  for (const s of known) if (out.includes(s)) out = out.split(s).join(MASK)
  for (const [re, rep] of PATTERNS) out = out.replace(re, rep as (m: string, ...g: string[]) => string)
  return out.replace(/(?<!\d|\d\.)\d{13,19}(?!\d)/g, (digits) => (luhnValid(digits) ? `${MASK}${digits.slice(-4)}` : digits))
}

/** Luhn check, used to mask card-like digit runs (PCI DSS: a PAN never reaches a log). */
export function luhnValid(digits: string): boolean {
  let sum = 0
  let double = false
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48
    if (double) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
    double = !double
  }
  return sum % 10 === 0
}

export class Secret {
  readonly #value: string

  constructor(
    value: string,
    /** Where it came from, e.g. "env:PAYCTL_SOURCE_PASSWORD": safe to print. */
    readonly reference: string,
  ) {
    this.#value = value
    registerSecret(value)
  }

  reveal(): string {
    return this.#value
  }

  toString(): string {
    return MASK
  }

  toJSON(): string {
    return this.reference
  }

  [inspect.custom](): string {
    return `Secret(${this.reference})`
  }
}
