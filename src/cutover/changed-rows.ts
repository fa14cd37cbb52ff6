/**
 * "Verify the rows changed since the last verify" (DESIGN.md, cutover protocol): the keys of every
 * row the capture side changed between two positions are read from its change log (the binlog, or
 * MS-CDC), then those rows are read on both sides and compared with payctl verify's canonical
 * encoding (validators/canonical.ts, diffRows). A whole-table checksum would take minutes; the rows
 * written in the last seconds take milliseconds, and they are the only ones replication could
 * still have wrong after a verify passed.
 *
 * Online (before the write pause), a differing row is read again once replication has applied
 * past the moment of the read: a row in flight is not a difference. In the pause, writes are held
 * and replication has drained, so a difference is final.
 */
import {type CapturePosition, comparePositions, keyText, type ReplicaTable} from '../engines/replication.js'
import {diffRows} from '../validators/verify.js'
import type {RowDiff} from '../validators/types.js'
import type {ComparedPair, Side} from './env.js'

/** Keys read per statement. */
const KEYS_PER_READ = 500

export interface ChangedKeys {
  /** Source table name (as in TablePair.source.name) -> key text -> key values. */
  byTable: Map<string, Map<string, unknown[]>>
  transactions: number
  /** The position the scan reached (>= the asked end, unless it timed out). */
  reached: CapturePosition
  /** End of the last transaction that changed a row of these tables; null when none did. */
  lastChange: CapturePosition | null
  complete: boolean
}

/**
 * Keys changed by transactions committed after `from` and up to `to`, on the tables of `pairs`,
 * read from `side`'s change capture. Stops at the first transaction at or past `to`, or at the
 * deadline (performance.now() ms; then complete is false).
 */
export async function changedKeys(side: Side, pairs: readonly ComparedPair[], from: CapturePosition, to: CapturePosition, deadline: number, direction: 'forward' | 'reverse'): Promise<ChangedKeys> {
  const byTable = new Map<string, Map<string, unknown[]>>()
  const result: ChangedKeys = {byTable, transactions: 0, reached: from, lastChange: null, complete: comparePositions(from, to) >= 0}
  if (result.complete) return result
  // the capture side's own names: forward reads the source's tables, reverse the target's
  const tableOf = new Map<string, {pair: ComparedPair; table: ReplicaTable}>()
  for (const p of pairs) {
    const t = direction === 'forward' ? p.source : p.target
    tableOf.set(`${t.schema}.${t.name}`.toLowerCase(), {pair: p, table: t})
  }
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), Math.max(1, deadline - performance.now()))
  const stream = side.replication.capture.open(
    from,
    pairs.map((p) => (direction === 'forward' ? p.model : p.targetModel)),
    abort.signal,
  )
  try {
    for await (const event of stream) {
      if (event.kind === 'transaction') {
        result.transactions++
        for (const c of event.changes) {
          const hit = tableOf.get(`${c.schema}.${c.table}`.toLowerCase())
          if (hit === undefined) continue
          result.lastChange = event.position
          const row = c.after ?? c.before
          if (row === null) continue
          const lower = new Map(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]))
          const key = hit.table.keyColumns.map((k) => lower.get(k.toLowerCase()) ?? null)
          let keys = byTable.get(hit.pair.source.name)
          if (keys === undefined) byTable.set(hit.pair.source.name, (keys = new Map<string, unknown[]>()))
          keys.set(keyText(key), key)
          // an update that moved the key: the old key must be gone on the other side too
          if (c.op === 'update' && c.before !== null && c.after !== null) {
            const lb = new Map(Object.entries(c.before).map(([k, v]) => [k.toLowerCase(), v]))
            const old = hit.table.keyColumns.map((k) => lb.get(k.toLowerCase()) ?? null)
            keys.set(keyText(old), old)
          }
        }
      }
      result.reached = event.position
      if (comparePositions(event.position, to) >= 0) {
        result.complete = true
        break
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err
  } finally {
    clearTimeout(timer)
    await stream.close().catch(() => undefined)
  }
  return result
}

export interface RowCheck {
  rowsChecked: number
  diffs: RowDiff[]
}

async function readKeys(side: Side, table: ReplicaTable, keys: readonly unknown[][]): Promise<unknown[][]> {
  const v = side.verify
  if (v.readKeys === undefined) throw new Error(`The ${side.engine.name} engine cannot read rows by key.`)
  const out: unknown[][] = []
  for (let i = 0; i < keys.length; i += KEYS_PER_READ) out.push(...(await v.readKeys(table, keys.slice(i, i + KEYS_PER_READ))))
  return out
}

/**
 * Compares the rows with these keys on both sides. With `recheck`, differing keys are read again
 * (once) after replication applied through the capture side's position taken before the first
 * read; without it every difference found is reported.
 */
export async function compareKeys(
  source: Side,
  target: Side,
  pairs: readonly ComparedPair[],
  changed: ChangedKeys,
  recheck?: {captureSide: Side; waitApplied: (position: CapturePosition) => Promise<boolean>},
): Promise<RowCheck> {
  let rowsChecked = 0
  const diffs: RowDiff[] = []
  for (const pair of pairs) {
    const keys = changed.byTable.get(pair.source.name)
    if (keys === undefined || keys.size === 0) continue
    let todo = [...keys.values()]
    rowsChecked += todo.length
    for (let attempt = 0; ; attempt++) {
      // the capture side's position before the reads: a row in flight is applied once replication passes it
      const position = recheck === undefined ? null : await recheck.captureSide.replication.capture.currentPosition()
      const [s, t] = await Promise.all([readKeys(source, pair.source, todo), readKeys(target, pair.target, todo)])
      const found = diffRows({pair, sourceColumns: pair.sourceColumns, families: pair.families}, s, t)
      if (found.length === 0) break
      if (recheck === undefined || position === null || attempt >= 1 || !(await recheck.waitApplied(position))) {
        for (const d of found) diffs.push({table: d.table, key: d.key, kind: d.kind, columns: d.columns})
        break
      }
      todo = found.map((d) => d.targetKey)
    }
  }
  return {rowsChecked, diffs}
}
