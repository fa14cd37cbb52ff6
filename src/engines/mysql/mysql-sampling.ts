/**
 * What payctl assess measures on a MySQL-family server: writes per table (performance_schema),
 * a timed keyset read of a table in key order, and a timed write of the same volume into a
 * TEMPORARY table on the target. Bounded by rows and by time, so assess stays a few seconds.
 */
import {randomBytes} from 'node:crypto'
import type {SampleOptions, SampleResult, TableWriteCount} from '../engine.js'
import type {TableModel} from '../model.js'
import {rowBytes, sampleKeyColumns, secondsSince} from '../sampling.js'
import {mysqlDialect} from './mysql-dialect.js'
import * as Q from './mysql-queries.js'

export type Query = <T>(sql: string, params?: readonly unknown[]) => Promise<T[]>

const PAGE_ROWS = 2_000
/** Per INSERT statement: well under the smallest default max_allowed_packet (4 MiB on MySQL 5.7/MariaDB 10.1). */
const WRITE_BATCH_BYTES = 512 * 1024
const WRITE_BATCH_ROWS = 500

export async function readTableWriteCounts(query: Query, database: string): Promise<TableWriteCount[] | null> {
  const on = await query<{Value?: string; value?: string}>(Q.PERFORMANCE_SCHEMA_ENABLED)
  const value = on[0]?.Value ?? on[0]?.value ?? 'OFF'
  if (!/^(ON|1)$/i.test(value)) return null
  try {
    const rows = await query<{table_schema: string; table_name: string; writes: string | number}>(Q.TABLE_WRITE_COUNTS, [database])
    return rows.map((r) => ({schema: r.table_schema, table: r.table_name, writes: Number(r.writes)}))
  } catch {
    // no SELECT on performance_schema, or a flavor without this table: the counts are unknown
    return null
  }
}

export async function sampleTableRows(query: Query, table: TableModel, limit: number, options: SampleOptions = {}): Promise<SampleResult> {
  const keys = sampleKeyColumns(table)
  const quotedKeys = keys.map((k) => mysqlDialect.quoteIdentifier(k))
  const qualified = mysqlDialect.qualify(table.schema, table.name)
  const maxSeconds = options.maxSeconds ?? Number.POSITIVE_INFINITY
  const start = performance.now()
  let rows = 0
  let bytes = 0
  let cursor: unknown[] | null = null
  while (rows < limit && secondsSince(start) < maxSeconds) {
    options.signal?.throwIfAborted()
    const page = Math.min(PAGE_ROWS, limit - rows)
    const sql = Q.sampleRowsSql(qualified, quotedKeys, cursor !== null)
    const batch: Array<Record<string, unknown>> = await query<Record<string, unknown>>(sql, [...(cursor ?? []), page])
    for (const r of batch) bytes += rowBytes(r)
    rows += batch.length
    const last: Record<string, unknown> | undefined = batch.at(-1)
    // without a key there is no cursor to continue from: one page is the sample
    if (batch.length < page || last === undefined || keys.length === 0) break
    cursor = keys.map((k): unknown => last[k])
  }
  return {rows, bytes, seconds: secondsSince(start)}
}

/** `query` must run on one connection: the temporary table exists only there. */
export async function writeSizingProbe(query: Query, bytes: number, rows: number, options: SampleOptions = {}): Promise<SampleResult> {
  const maxSeconds = options.maxSeconds ?? Number.POSITIVE_INFINITY
  const rowCount = Math.max(1, Math.floor(rows))
  const perRow = Math.max(1, Math.round(bytes / rowCount))
  // Random bytes: a compressing target (TiKV, InnoDB page compression) must not make the probe cheaper than real rows.
  const payload = randomBytes(perRow)
  const batchRows = Math.max(1, Math.min(WRITE_BATCH_ROWS, Math.floor(WRITE_BATCH_BYTES / perRow)))
  await query(Q.DROP_SIZING_PROBE)
  await query(Q.CREATE_SIZING_PROBE)
  try {
    const start = performance.now()
    let written = 0
    while (written < rowCount && secondsSince(start) < maxSeconds) {
      options.signal?.throwIfAborted()
      const n = Math.min(batchRows, rowCount - written)
      const params: unknown[] = []
      for (let i = 0; i < n; i++) params.push(written + i + 1, payload)
      await query(Q.insertSizingProbeSql(n), params)
      written += n
    }
    return {rows: written, bytes: written * perRow, seconds: secondsSince(start)}
  } finally {
    await query(Q.DROP_SIZING_PROBE)
  }
}
