/**
 * `payctl load`'s flag values that oclif's integer flags cannot express: durations (a bare number
 * is seconds, as k6 and Argo Rollouts take it, or a number with one unit: ms, s, m or h: "500ms",
 * "30s", "2m") and fractional numbers (a rate of 0.5/s, a p99 limit of 12.5 ms).
 */
import {UsageError} from '../cli/errors.js'

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/
const UNIT_MS = {ms: 1, s: 1_000, m: 60_000, h: 3_600_000} as const

/**
 * Milliseconds (whole ones) of a positive duration. Zero is refused: a run of no time makes no
 * request, and a timeout of none fails every request; neither is what anyone asking meant.
 */
export function parseLoadDuration(flag: string, value: string): number {
  const m = DURATION.exec(value.trim())
  const ms = m === null ? Number.NaN : Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS])
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new UsageError('PAYCTL_USAGE', `${flag} must be a duration above zero (got ${JSON.stringify(value)}).`, {
      actions: [`Give seconds (${flag} 30) or a number with ms, s, m or h (${flag} 500ms, 30s, 2m, 1h).`],
    })
  }
  return ms
}

/** A positive number given as text (`--rate 0.5`, `--p99-ms 250`); `allowZero` admits 0. */
export function parseNumberFlag(flag: string, value: string, o: {allowZero?: boolean} = {}): number {
  const n = /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN
  if (!Number.isFinite(n) || (n === 0 && o.allowZero !== true)) {
    throw new UsageError('PAYCTL_USAGE', `${flag} must be a number ${o.allowZero === true ? 'of zero or more' : 'above zero'} (got ${JSON.stringify(value)}).`, {
      actions: [`For example ${flag} ${o.allowZero === true ? '0' : '50'}.`],
    })
  }
  return n
}
