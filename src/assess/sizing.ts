/**
 * Sizing for a live assessment: rows and bytes per table from the catalog, the largest and the
 * hottest tables, and an estimated full-load time from a short measured sample copy. The sample
 * reads the largest tables in key order from the source (bounded by rows and seconds) and writes
 * the same volume into a TEMPORARY table on the target; the slower half sets the rate, as it
 * would in a copy that pipelines reads into writes.
 */
import type {Engine, SampleResult, TableWriteCount} from '../engines/engine.js'
import type {SchemaModel, TableModel} from '../engines/model.js'
import type {Sizing} from './report.js'

export const SAMPLE_TABLES = 3
export const SAMPLE_ROWS_PER_TABLE = 20_000
export const SAMPLE_SECONDS_PER_TABLE = 2
/** The whole sample copy stays near this: assess is a look, not a load. */
export const SAMPLE_BUDGET_SECONDS = 6
const READ_SHARE = 0.55

export interface SampleMeasurement {
  tables: string[]
  read: SampleResult
  /** null when the target was not reachable or cannot take the probe. */
  write: SampleResult | null
  targetEndpoint: string | null
}

export interface HottestInput {
  counts: TableWriteCount[] | null
  /** Where the counts come from, shown next to each hot table. */
  source: string
  /** Said in the notes when counts is null. */
  unknownReason: string
}

const name = (t: Pick<TableModel, 'schema' | 'name'>): string => `${t.schema}.${t.name}`

export function largestTables(model: SchemaModel, n: number): TableModel[] {
  return [...model.tables].sort((a, b) => b.dataBytes + b.indexBytes - (a.dataBytes + a.indexBytes) || b.rowEstimate - a.rowEstimate || name(a).localeCompare(name(b))).slice(0, n)
}

/** Reads the largest tables, then writes the same volume to the target, within SAMPLE_BUDGET_SECONDS. */
export async function measureSampleCopy(o: {source: Engine; target: Engine | null; model: SchemaModel; signal?: AbortSignal; notes: string[]}): Promise<SampleMeasurement | null> {
  if (o.source.sampleRows === undefined) {
    o.notes.push(`The ${o.source.name} engine cannot read a sample: no measured rate.`)
    return null
  }
  const candidates = largestTables(o.model, SAMPLE_TABLES).filter((t) => t.rowEstimate > 0 || t.dataBytes > 0)
  if (candidates.length === 0) {
    o.notes.push('Every table is empty: nothing to sample.')
    return null
  }
  const start = performance.now()
  const elapsed = (): number => (performance.now() - start) / 1000
  const read: SampleResult = {rows: 0, bytes: 0, seconds: 0}
  const tables: string[] = []
  for (const t of candidates) {
    const left = SAMPLE_BUDGET_SECONDS * READ_SHARE - elapsed()
    if (left <= 0.05) break
    const r = await o.source.sampleRows(t, SAMPLE_ROWS_PER_TABLE, {maxSeconds: Math.min(SAMPLE_SECONDS_PER_TABLE, left), ...(o.signal ? {signal: o.signal} : {})})
    read.rows += r.rows
    read.bytes += r.bytes
    read.seconds += r.seconds
    tables.push(name(t))
  }
  if (read.rows === 0) {
    o.notes.push('The sampled tables returned no rows: no measured rate.')
    return null
  }
  let write: SampleResult | null = null
  if (o.target?.measureWrite === undefined) {
    o.notes.push(o.target === null ? 'The target was not reachable: only the read half was measured.' : `The ${o.target.name} target cannot take a write probe: only the read half was measured.`)
  } else {
    try {
      write = await o.target.measureWrite(read.bytes, read.rows, {maxSeconds: Math.max(0.5, SAMPLE_BUDGET_SECONDS - elapsed()), ...(o.signal ? {signal: o.signal} : {})})
    } catch (err) {
      o.signal?.throwIfAborted()
      o.notes.push(`The write probe on the target failed (${err instanceof Error ? err.message : String(err)}): only the read half was measured.`)
    }
  }
  return {tables, read, write, targetEndpoint: o.target === null ? null : `${o.target.options.host}:${o.target.options.port}`}
}

/** Pure: the Sizing section from the catalog, a measurement and write counts. */
export function computeSizing(model: SchemaModel, sample: SampleMeasurement | null, hottest: HottestInput, notes: string[] = []): Sizing {
  let measured: Sizing['measured'] = null
  if (sample !== null && sample.read.rows > 0) {
    // A write probe cut short by the budget wrote less than was read: scale its time to the full volume.
    const writeSeconds = sample.write === null || sample.write.bytes === 0 ? null : sample.write.seconds * (sample.read.bytes / sample.write.bytes)
    const seconds = Math.max(sample.read.seconds, writeSeconds ?? 0, 1e-6)
    measured = {
      sampleRows: sample.read.rows,
      sampleBytes: sample.read.bytes,
      seconds: round(seconds),
      rowsPerSecond: Math.round(sample.read.rows / seconds),
      bytesPerSecond: Math.round(sample.read.bytes / seconds),
      tables: sample.tables,
      readSeconds: round(sample.read.seconds),
      writeSeconds: writeSeconds === null ? null : round(writeSeconds),
      description:
        `Read ${sample.read.rows} rows (${sample.read.bytes} bytes as the driver received them) from ${sample.tables.join(', ')} in key order in ${round(sample.read.seconds)} s` +
        (sample.write === null
          ? '; the write half was not measured, so the rate is the read rate alone'
          : `, and wrote ${sample.write.rows} rows (${sample.write.bytes} bytes) into a temporary table on the target${sample.targetEndpoint === null ? '' : ` (${sample.targetEndpoint})`} in ${round(sample.write.seconds)} s`) +
        '. The rate is the slower half, for one copy stream; the estimate divides each table\'s catalog data size by it (catalog sizes include page overhead, so it errs long).',
    }
  }
  const tables = model.tables.map((t) => ({
    table: name(t),
    rows: t.rowEstimate,
    dataBytes: t.dataBytes,
    indexBytes: t.indexBytes,
    estimatedLoadSeconds: measured === null ? null : round(t.dataBytes > 0 ? t.dataBytes / measured.bytesPerSecond : t.rowEstimate / Math.max(measured.rowsPerSecond, 1)),
  }))
  const hot = (hottest.counts ?? [])
    .filter((c) => c.writes > 0)
    .sort((a, b) => b.writes - a.writes || `${a.schema}.${a.table}`.localeCompare(`${b.schema}.${b.table}`))
    .slice(0, 5)
    .map((c) => ({table: `${c.schema}.${c.table}`, writes: c.writes, source: hottest.source}))
  if (hottest.counts === null) notes.push(`Hottest tables unknown: ${hottest.unknownReason}.`)
  return {
    tables,
    totalRows: tables.reduce((n, t) => n + t.rows, 0),
    totalBytes: tables.reduce((n, t) => n + t.dataBytes + t.indexBytes, 0),
    measured,
    estimatedFullLoadSeconds: measured === null ? null : round(tables.reduce((n, t) => n + (t.estimatedLoadSeconds ?? 0), 0)),
    largest: largestTables(model, 5).map(name),
    hottest: hot,
    notes,
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
