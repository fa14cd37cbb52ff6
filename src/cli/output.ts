/**
 * Human output helpers: tables (cli-table3) and number/byte/duration formatting. Colour only
 * when stdout is a terminal and NO_COLOR is unset. Commands print tables on stdout; everything
 * here returns strings and never writes.
 */
import Table from 'cli-table3'

export interface Column<R> {
  header: string
  get: (row: R) => string | number | boolean | null | undefined
  align?: 'left' | 'right'
}

/** Decided once at start-up: listr2's forceTTY rewrites process.stdout.isTTY later. */
const colourOnStdout = process.stdout.isTTY === true && process.env.NO_COLOR === undefined && process.env.CI === undefined

export function table<R>(rows: readonly R[], columns: ReadonlyArray<Column<R>>, options: {colour?: boolean} = {}): string {
  const colour = options.colour ?? colourOnStdout
  const t = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: colour ? {head: ['cyan'], border: ['grey']} : {head: [], border: []},
  })
  for (const row of rows) t.push(columns.map((c) => cell(c.get(row))))
  return t.toString()
}

/** Two-column key/value table for one object. */
export function keyValueTable(entries: ReadonlyArray<[string, string | number | boolean | null | undefined]>, options: {colour?: boolean} = {}): string {
  const colour = options.colour ?? colourOnStdout
  const t = new Table({style: colour ? {head: ['cyan'], border: ['grey']} : {head: [], border: []}})
  for (const [k, v] of entries) t.push({[k]: cell(v)})
  return t.toString()
}

function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'number' ? formatNumber(v) : String(v)
}

export function formatNumber(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', {maximumFractionDigits: 2})
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  const rest = Math.round(s - m * 60)
  if (m < 60) return `${m}m${String(rest).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  return `${h}h${String(m - h * 60).padStart(2, '0')}m`
}
