/**
 * Shared by the engines' sample reads (payctl assess's measured sample copy): which key orders a
 * table, and the size of a row as a driver hands it over. Client-side bytes are close to what a
 * full load moves over the wire and are the same measure on every engine (catalog sizes are
 * on-disk pages, which differ by storage engine and fill factor).
 */
import type {TableModel} from './model.js'

/** The primary key, else a unique key over NOT NULL columns, else none (the sample is then unordered). */
export function sampleKeyColumns(table: TableModel): string[] {
  if (table.primaryKey !== null) return table.primaryKey.columns.map((c) => c.name)
  const notNull = new Set(table.columns.filter((c) => !c.nullable).map((c) => c.name))
  const unique = table.uniqueKeys.find((k) => k.columns.length > 0 && k.columns.every((c) => notNull.has(c.name)))
  return unique?.columns.map((c) => c.name) ?? []
}

export function valueBytes(v: unknown): number {
  if (v === null || v === undefined) return 1
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8')
  if (typeof v === 'number' || typeof v === 'bigint') return 8
  if (typeof v === 'boolean') return 1
  if (v instanceof Date) return 8
  if (ArrayBuffer.isView(v)) return v.byteLength
  // JSON columns arrive parsed (mysql2): count their text
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8')
}

export function rowBytes(row: Record<string, unknown>): number {
  let n = 0
  for (const v of Object.values(row)) n += valueBytes(v)
  return n
}

/** Seconds since `start` (a performance.now() reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000
}
