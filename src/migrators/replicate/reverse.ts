/**
 * Reverse replication's tables: the forward table pairs turned around. The target's change stream
 * names tables and columns as the target does; rows are written into the source's tables, under
 * the source's column names. No full load: after the write flip both sides hold the same rows up
 * to the flip, so every table is live from the target position the cutover read.
 */
import {replicaTable} from '../../engines/replication.js'
import type {ApplierTable} from './applier.js'
import type {TablePair} from './replicate.js'

export function reverseTables(pairs: readonly TablePair[]): ApplierTable[] {
  return pairs.map((p) => {
    // JSON on either side is written as JSON text: a MySQL JSON column hands values over parsed,
    // whatever the source column (SQL Server nvarchar, say) is called
    const targetJson = new Set((replicaTable(p.targetModel)?.jsonColumns ?? []).map((c) => c.toLowerCase()))
    const sourceJson = new Set(p.source.jsonColumns)
    const jsonColumns = p.source.columns.filter((c, i) => sourceJson.has(c) || targetJson.has((p.target.columns[i] ?? '').toLowerCase()))
    return {source: p.target.name, target: {...p.source, jsonColumns}, imageColumns: p.target.columns, state: 'replicating'}
  })
}

/** The forward stream's tables: source images (named as the source names them) into the target's tables. */
export function forwardTable(p: Pick<TablePair, 'source' | 'target'>, state: ApplierTable['state']): ApplierTable {
  return {source: p.source.name, target: p.target, imageColumns: p.source.columns, state}
}
