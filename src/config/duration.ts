/**
 * Durations in payctl.yaml: a number of seconds (as Argo Rollouts takes a bare number), or a
 * number with one unit, ms, s, m or h ("500ms", "30s", "2m"). Held as milliseconds once parsed.
 */

/** What the schema accepts as a duration string; numbers are checked by its `minimum`. */
export const DURATION_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?(ms|s|m|h)$'

const UNIT_MS = {ms: 1, s: 1_000, m: 60_000, h: 3_600_000} as const
const DURATION = new RegExp(DURATION_PATTERN)

/** Milliseconds (rounded to whole ones), or null when the value is not a duration. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1_000) : null
  if (typeof value !== 'string') return null
  const m = DURATION.exec(value)
  if (!m) return null
  const unit = m[3] as keyof typeof UNIT_MS
  return Math.round(Number(`${m[1] ?? '0'}${m[2] ?? ''}`) * UNIT_MS[unit])
}

/** The shortest way to write `ms` back as payctl.yaml would: "500ms", "30s", "2m", "1.5s". */
export function formatDurationInput(ms: number): string {
  if (ms === 0) return '0s'
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1_000 === 0) return `${ms / 1_000}s`
  return ms < 1_000 ? `${ms}ms` : `${ms / 1_000}s`
}
