/**
 * Table and index features that change meaning or disappear on the target: computed, sparse
 * and temporal columns/tables, memory-optimized and partitioned tables, filtered and INCLUDE
 * indexes, descending key parts, and index kinds the flavor lacks.
 */
import type {Finding} from '../report.js'
import {atLeast, columnName, type RuleContext, tableName, targetLabel} from './context.js'

/** Whether DESC key parts are stored descending (older servers parse DESC and build ascending). */
function descendingSupported(ctx: RuleContext): boolean | null {
  const {flavor, version: v} = ctx.target
  if (flavor === 'tidb') return false
  if (v === null) return null
  return flavor === 'mariadb' ? atLeast(v, 10, 8) : atLeast(v, 8)
}

export function tableFeatureRule(ctx: RuleContext): Finding[] {
  const findings: Finding[] = []
  const fromSqlServer = ctx.model.server.engine === 'sqlserver'
  const tidb = ctx.target.flavor === 'tidb'
  const desc = descendingSupported(ctx)
  for (const t of ctx.model.tables) {
    const table = tableName(t)
    for (const c of t.columns) {
      const object = columnName(t, c)
      if (c.generated !== null) {
        findings.push({
          rule: 'column.computed',
          severity: fromSqlServer ? 'needs-change' : 'info',
          objectType: 'column',
          object,
          title: `${c.generated.stored ? 'Persisted' : 'Non-persisted'} computed column`,
          mapping: `AS (${c.generated.expression})${c.generated.stored ? ' PERSISTED' : ''} -> GENERATED ALWAYS AS (...) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}`,
          reason: fromSqlServer
            ? 'The expression is T-SQL; check that the converted expression gives the same values (functions, implicit conversions, NULL handling). Replication writes the other columns and lets the target compute this one.'
            : 'Generated columns are recreated, not copied; replication skips them on write.',
          phases: ['provision', 'replicate'],
        })
      }
      if (c.sparse) {
        findings.push({
          rule: 'column.sparse',
          severity: 'info',
          objectType: 'column',
          object,
          title: 'SPARSE column',
          mapping: `${c.columnType} SPARSE NULL -> ${c.columnType} NULL`,
          reason: 'The target has no sparse columns: NULLs take their normal space, so a wide sparse table grows on the target.',
          phases: ['provision'],
        })
      }
    }
    const f = t.features
    if (f.temporal !== null) {
      findings.push({
        rule: 'table.temporal',
        severity: 'needs-change',
        objectType: 'table',
        object: table,
        title: `System-versioned temporal table (history in ${f.temporal.historySchema}.${f.temporal.historyTable})`,
        mapping: 'SYSTEM_VERSIONING = ON -> plain table + plain history table',
        reason:
          ctx.target.flavor === 'mariadb'
            ? 'System versioning is lost in the copy: the history table is copied as a plain table. MariaDB has WITH SYSTEM VERSIONING, but its history cannot be loaded from the source\'s; queries FOR SYSTEM_TIME must be rewritten or the history kept by triggers/application.'
            : 'System versioning is lost: the history table is copied as a plain table and nothing maintains it on the target. Keep history in the application (or an outbox consumer) and rewrite FOR SYSTEM_TIME queries.',
        phases: ['provision', 'shift-traffic'],
      })
    }
    if (f.temporalHistory) {
      findings.push({
        rule: 'table.temporal-history',
        severity: 'info',
        objectType: 'table',
        object: table,
        title: 'Temporal history table',
        mapping: 'history table -> plain table',
        reason: 'Copied as an ordinary table; new history rows arrive only while the source keeps versioning them.',
        phases: ['provision', 'replicate'],
      })
    }
    if (f.memoryOptimized) {
      findings.push({
        rule: 'table.memory-optimized',
        severity: 'info',
        objectType: 'table',
        object: table,
        title: 'Memory-optimized table',
        mapping: 'MEMORY_OPTIMIZED = ON -> InnoDB',
        reason: 'Becomes an ordinary disk-based table; hash indexes become B-tree indexes. CDC on SQL Server does not capture memory-optimized tables, so replication of this table needs another capture path.',
        phases: ['provision', 'replicate'],
      })
    }
    if (f.partitioned) {
      findings.push({
        rule: 'table.partitioned',
        severity: 'info',
        objectType: 'table',
        object: table,
        title: 'Partitioned table',
        mapping: 'partition scheme -> not partitioned',
        reason: `The partition function is not converted; the table is created unpartitioned on ${targetLabel(ctx.target)}. Partition it by hand if needed (every unique key must then include the partition column${tidb ? ', and TiDB then allows no foreign keys on it' : ''}).`,
        phases: ['provision'],
      })
    }
    for (const ix of t.indexes) {
      const object = `${table}.${ix.name}`
      const cols = ix.columns.map((c) => c.name).join(', ')
      if (ix.filter !== null) {
        findings.push({
          rule: 'index.filtered',
          severity: 'needs-change',
          objectType: 'index',
          object,
          title: `Filtered index WHERE ${ix.filter}`,
          mapping: `${ix.unique ? 'UNIQUE ' : ''}(${cols}) WHERE ${ix.filter} -> ${ix.unique ? 'UNIQUE on a generated column that is NULL outside the filter' : `(${cols}) on every row`}`,
          reason: ix.unique
            ? 'The MySQL family has no filtered indexes. A filtered UNIQUE index over the whole table would reject rows the source accepts; emulate it with a generated column that is NULL where the filter is false, and index that.'
            : 'The MySQL family has no filtered indexes; the index covers every row, which is larger but gives the same answers.',
          phases: ['provision', 'replicate'],
        })
      }
      if (ix.included.length > 0) {
        findings.push({
          rule: 'index.include',
          severity: 'info',
          objectType: 'index',
          object,
          title: `INCLUDE (${ix.included.join(', ')})`,
          mapping: `(${cols}) INCLUDE (${ix.included.join(', ')}) -> (${cols})`,
          reason: 'The MySQL family has no included columns. The index keeps its key; queries it covered may now read the row (add the columns to the key if a query needs covering).',
          phases: ['provision'],
        })
      }
      if (desc !== true && ix.columns.some((c) => c.descending)) {
        findings.push({
          rule: 'index.descending',
          severity: 'info',
          objectType: 'index',
          object,
          title: desc === null ? 'Descending key part (may be ignored on the target)' : `Descending key part ignored on ${targetLabel(ctx.target)}`,
          mapping: `(${ix.columns.map((c) => `${c.name}${c.descending ? ' DESC' : ''}`).join(', ')}) -> ascending`,
          reason: 'TiDB, MySQL before 8.0 and MariaDB before 10.8 parse DESC and build an ascending index. Results are the same; a mixed-order ORDER BY may sort instead of using the index.',
          phases: ['provision'],
        })
      }
      const kind = ix.kind.toLowerCase()
      const unsupported = kind.includes('columnstore') || kind === 'xml' || kind === 'spatial' ? kind : tidb && kind === 'fulltext' ? kind : null
      if (unsupported !== null && !(kind === 'spatial' && !tidb)) {
        findings.push({
          rule: `index.${kind.replaceAll(' ', '-')}`,
          severity: 'needs-change',
          objectType: 'index',
          object,
          title: `${ix.kind} index has no counterpart on ${targetLabel(ctx.target)}`,
          mapping: `${ix.kind} index -> not created`,
          reason: kind.includes('columnstore')
            ? 'Columnstore indexes serve analytics; use TiFlash (TiDB) or a replica/warehouse for those queries.'
            : `${targetLabel(ctx.target)} cannot build a ${ix.kind} index; queries relying on it need another plan.`,
          phases: ['provision'],
        })
      }
    }
  }
  return findings
}
