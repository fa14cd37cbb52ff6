/**
 * The full-load copier: tables in parallel, large tables in parallel key-range segments, each
 * segment read in key order by keyset pagination in chunks sized to a target time, each chunk
 * written to the target in one transaction together with its checkpoint.
 *
 * Why the copy and the change stream end in target = source (the AWS DMS "cached changes" design,
 * done per table and made crash-safe):
 *
 * 1. Change capture starts first, from a position P0 read before any row is read. Every source
 *    change after P0 reaches the applier, in commit order.
 * 2. Before the copy of table T reads its first row, the applier records the stream position R_T
 *    it has reached (persisted in replication_tables.stream_start) and from then on holds back
 *    every change to T instead of applying it. A change to T the applier saw before R_T was
 *    committed before the copy's first read, so the copy reads its effect: dropping it is right.
 * 3. The copy reads each row of T once, at some moment t_r, and writes that image (upsert). No
 *    change to T is applied to the target while T is being copied, so no copy write can land after
 *    (and undo) a newer change: the resurrected-row race of "INSERT IGNORE + apply as it comes"
 *    (a delete applied before the copy writes its older read) cannot happen.
 * 4. When every chunk of T is written, the applier applies T's held-back changes in commit order,
 *    then follows T live. For a row r, the held-back changes include every change committed after
 *    t_r (all of them are after R_T); applying full after-images and deletes by key, in order, on
 *    top of the image read at t_r (or of an older one: replaying a change committed before t_r is
 *    overwritten by the later ones that follow it) leaves r as the source's last change made it.
 *    A row created after t_r arrives as an insert; a row deleted after t_r as a delete. Images
 *    are written with REPLACE semantics (TargetWriter.upsertRows): a row that holds one of the
 *    image's unique values under another key is removed too, and comes back with its own later
 *    change, so a unique value that moved between rows can neither block the replay nor merge
 *    two rows into one.
 * 5. Crash and resume: chunk rows and their checkpoint commit in one target transaction, so after
 *    kill -9 a segment resumes exactly after its last durable chunk. The held-back changes were
 *    in memory (or a spill file), so the stream resumes from min(applied position, R_T of every
 *    table not yet live): T's changes since R_T are held back again, and the changes to live tables
 *    between that point and the applied position are replayed, which is harmless (point 4: an
 *    in-order replay of full images converges). A resume from an older position is never wrong,
 *    only slower.
 *
 * Costs, as with DMS: no source locks; a table's changes wait until its copy ends (its lag is its
 * copy time), and they are buffered on disk past a memory bound, so memory does not grow with the
 * table or with its write rate.
 */
import type {ChunkRows, ReplicaTable, ReplicationSupport, TargetWriter} from '../../engines/replication.js'
import type {ReplicationStore, SegmentRow} from '../../control/replication-store.js'

export interface ChunkSizing {
  /** Target time per chunk (read + write + commit), ms. */
  targetMs: number
  /** Upper bound of a chunk's size in bytes (memory: a chunk is held whole, once per worker). */
  maxBytes?: number
  minRows: number
  maxRows: number
  initialRows: number
}

export const DEFAULT_CHUNK_SIZING: ChunkSizing = {targetMs: 500, minRows: 200, maxRows: 50_000, initialRows: 2_000, maxBytes: 2 * 1024 * 1024}

/**
 * The next chunk size: proportional to how far the last chunk was from the target time, at most
 * doubling or halving, and no more rows than fit in maxBytes at the last chunk's bytes per row.
 */
export function nextChunkRows(current: number, elapsedMs: number, sizing: ChunkSizing, bytesPerRow = 0): number {
  const ratio = elapsedMs <= 0 ? 2 : sizing.targetMs / elapsedMs
  const scaled = current * Math.min(2, Math.max(0.5, ratio))
  const byBytes = sizing.maxBytes !== undefined && bytesPerRow > 0 ? sizing.maxBytes / bytesPerRow : Number.POSITIVE_INFINITY
  return Math.round(Math.min(sizing.maxRows, byBytes, Math.max(sizing.minRows, scaled)))
}

/**
 * Splits a table into key-range segments on the first key column when it is an integer and the
 * table is large: boundaries are prefixes [v] with segment i = [v_i, v_{i+1}). Other tables are one
 * segment (keyset pagination still bounds each read).
 */
export function planSegments(bounds: {min: unknown[]; max: unknown[]} | null, rowsEstimate: number, rowsPerSegment: number, maxSegments: number): Array<{from: unknown[] | null; until: unknown[] | null}> {
  const one = [{from: null, until: null}]
  if (bounds === null) return one
  const lo = toBigInt(bounds.min[0])
  const hi = toBigInt(bounds.max[0])
  if (lo === null || hi === null || hi <= lo) return one
  const count = Math.min(maxSegments, Math.max(1, Math.ceil(rowsEstimate / rowsPerSegment)))
  if (count <= 1) return one
  const span = hi - lo + 1n
  const step = span / BigInt(count)
  if (step < 1n) return one
  const cuts: string[] = []
  for (let i = 1; i < count; i++) cuts.push(String(lo + step * BigInt(i)))
  const out: Array<{from: unknown[] | null; until: unknown[] | null}> = []
  for (let i = 0; i < count; i++) out.push({from: i === 0 ? null : [cuts[i - 1]], until: i === count - 1 ? null : [cuts[i]]})
  return out
}

function toBigInt(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (typeof v === 'bigint') return v
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v)
  return null
}

export interface SegmentTask {
  source: ReplicaTable
  target: ReplicaTable
  segment: SegmentRow
}

export interface ChunkDone {
  table: string
  segment: number
  rows: number
  bytes: number
  ms: number
  done: boolean
}

/**
 * Copies one segment from its checkpoint to its end. Each chunk: keyset read on the source, then
 * one target transaction with the rows and the advanced checkpoint. Returns when the segment is
 * done; throws on failure (the checkpoint is the last committed chunk).
 */
export async function copySegment(
  task: SegmentTask,
  deps: {
    source: ReplicationSupport
    writer: TargetWriter
    store: ReplicationStore
    sizing: ChunkSizing
    signal?: AbortSignal
    waitForThrottle: () => Promise<void>
    onChunk: (c: ChunkDone) => void
    /** Why to stop before the next chunk (another worker or the applier failed), null to go on. */
    stopReason?: () => Error | null
  },
): Promise<void> {
  const {source, target, segment} = task
  const reader = deps.source
  let cursor = segment.cursor
  const from = segment.from
  let rows = deps.sizing.initialRows
  const w = deps.writer
  const query = <T>(sql: string, p?: readonly unknown[]): Promise<T[]> => w.query<T>(sql, p)
  for (;;) {
    deps.signal?.throwIfAborted()
    await deps.waitForThrottle()
    const stop = deps.stopReason?.() ?? null
    if (stop !== null) throw stop
    const started = performance.now()
    const chunk: ChunkRows = await reader.readChunk({table: source, after: cursor, from, before: segment.until, limit: rows, ...(deps.signal === undefined ? {} : {signal: deps.signal})})
    const last = chunk.rows.at(-1)
    const done = chunk.rows.length < rows
    await w.begin()
    try {
      if (chunk.rows.length > 0) await (w.bulkLoadRows ?? w.upsertRows).call(w, target, chunk.rows)
      if (last !== undefined) {
        cursor = source.keyIndexes.map((i) => last[i])
        await deps.store.advanceSegment(query, source.name, segment.segment, cursor, chunk.rows.length, chunk.bytes, done)
        await deps.store.addCopied(query, source.name, chunk.rows.length, chunk.bytes)
      } else await deps.store.finishSegment(query, source.name, segment.segment)
      await w.commit()
    } catch (err) {
      await w.rollback().catch(() => undefined)
      throw err
    }
    const ms = performance.now() - started
    deps.onChunk({table: source.name, segment: segment.segment, rows: chunk.rows.length, bytes: chunk.bytes, ms, done})
    if (done) return
    rows = nextChunkRows(rows, ms, deps.sizing, chunk.rows.length > 0 ? chunk.bytes / chunk.rows.length : 0)
  }
}
