/**
 * Values between payctl and the mssql driver for replication: how a value is bound (toParam,
 * positionalParams), the one client-side decoding left after the SELECT list's conversions
 * (decodeValue), and the server error numbers inside a wrapped driver error. Pure, no driver.
 */
import {BugError} from '../../cli/errors.js'
import type {ColumnModel} from '../model.js'
import type {ParamKind} from './sqlserver-replication-queries.js'

/** A bound value: text as nvarchar(max), binary as varbinary(max), float, int, or (query()) inferred. */
export type SqlParam =
  | {kind: ParamKind; value: string | number | Buffer | null}
  | {kind: 'int'; value: number}
  | {kind: 'bigint'; value: string | bigint}
  | {kind: 'bit'; value: boolean}
export type SqlParams = Readonly<Record<string, SqlParam>>

/** Runs one batch with bound parameters and returns the rows of its (last) result set. */
export interface SqlRunner {
  query<Row>(sql: string, params?: SqlParams, signal?: AbortSignal): Promise<Row[]>
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** A Date (should a caller pass one) as the UTC text the date styles parse. */
function dateText(d: Date): string {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
}

/** A value as handed over by either engine's driver, bound for a column of the given kind. */
export function toParam(kind: ParamKind, value: unknown): SqlParam {
  if (value === null || value === undefined) return {kind, value: null}
  switch (kind) {
    case 'binary':
      if (Buffer.isBuffer(value)) return {kind, value}
      if (value instanceof Uint8Array) return {kind, value: Buffer.from(value)}
      if (typeof value === 'string') return {kind, value: Buffer.from(value, 'utf8')}
      throw new BugError(`A ${typeof value} cannot be written to a binary column.`)
    case 'float':
      if (typeof value === 'number') return {kind, value}
      if (typeof value === 'string' || typeof value === 'bigint') return {kind, value: Number(value)}
      throw new BugError(`A ${typeof value} cannot be written to a float column.`)
    case 'text':
      if (typeof value === 'string') return {kind, value}
      if (typeof value === 'number' || typeof value === 'bigint') return {kind, value: value.toString()}
      if (typeof value === 'boolean') return {kind, value: value ? '1' : '0'}
      if (value instanceof Date) return {kind, value: dateText(value)}
      if (Buffer.isBuffer(value)) return {kind, value: value.toString('utf8')}
      // JSON columns may arrive parsed (mysql2)
      return {kind, value: JSON.stringify(value)}
  }
}

/** Positional params of TargetWriter.query as @p0, @p1 ..., typed from their JavaScript values. */
export function positionalParams(params: readonly unknown[]): Record<string, SqlParam> {
  const out: Record<string, SqlParam> = {}
  params.forEach((v, i) => {
    const name = `p${i}`
    if (typeof v === 'number') out[name] = Number.isSafeInteger(v) ? {kind: 'bigint', value: String(v)} : {kind: 'float', value: v}
    else if (typeof v === 'bigint') out[name] = {kind: 'bigint', value: v}
    else if (typeof v === 'boolean') out[name] = {kind: 'bit', value: v}
    else if (Buffer.isBuffer(v) || v instanceof Uint8Array) out[name] = toParam('binary', v)
    else out[name] = toParam('text', v)
  })
  return out
}

/** The shortest decimal that reads back as the same 32-bit float: what MySQL prints for a FLOAT, where tedious widens a real to a double. */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v
  const f = Math.fround(v)
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits))
    if (Math.fround(candidate) === f) return candidate
  }
  return f
}

/** The one conversion left to the client after the SELECT list's (see sqlserver-replication-queries.ts): real. */
export function decodeValue(column: Pick<ColumnModel, 'dataType'>, value: unknown): unknown {
  if (column.dataType === 'real' && typeof value === 'number') return shortestFloat32(value)
  return value
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface Facts {
  numbers: Set<number>
  codes: Set<string>
}

export function facts(err: unknown, out: Facts = {numbers: new Set(), codes: new Set()}, depth = 0): Facts {
  if (depth > 6 || typeof err !== 'object' || err === null) return out
  const e = err as {code?: unknown; number?: unknown; originalError?: unknown; cause?: unknown; precedingErrors?: unknown}
  if (typeof e.number === 'number') out.numbers.add(e.number)
  if (typeof e.code === 'string') out.codes.add(e.code)
  facts(e.originalError, out, depth + 1)
  facts(e.cause, out, depth + 1)
  if (Array.isArray(e.precedingErrors)) for (const p of e.precedingErrors) facts(p, out, depth + 1)
  return out
}

/** Server error numbers anywhere in a (wrapped) driver error. */
export function driverErrorNumbers(err: unknown): Set<number> {
  return facts(err).numbers
}
