/**
 * Primary keys. Replicate copies in key order and applies changes by key, and verify checksums
 * key ranges: a table without a usable key can be neither copied resumably nor verified, so it is
 * a blocker unless a UNIQUE index over NOT NULL columns can stand in for the key.
 */
import type {TableModel} from '../../engines/model.js'
import type {Finding} from '../report.js'
import {type RuleContext, tableName} from './context.js'

/** The first unique index whose columns are all NOT NULL, the key payctl falls back to. */
export function fallbackUniqueKey(t: TableModel): {name: string; columns: string[]} | null {
  const notNull = new Set(t.columns.filter((c) => !c.nullable).map((c) => c.name))
  const candidates = [
    ...t.uniqueKeys.map((k) => ({name: k.name, columns: k.columns.map((c) => c.name), filter: null as string | null})),
    ...t.indexes.filter((i) => i.unique && !i.primary).map((i) => ({name: i.name, columns: i.columns.map((c) => c.name), filter: i.filter})),
  ]
  // A filtered unique index does not cover every row, so it identifies nothing for the others.
  const usable = candidates.find((k) => k.filter === null && k.columns.length > 0 && k.columns.every((c) => notNull.has(c)))
  return usable === undefined ? null : {name: usable.name, columns: usable.columns}
}

export function keyRule(ctx: RuleContext): Finding[] {
  const findings: Finding[] = []
  const sqlServer = ctx.model.server.engine === 'sqlserver'
  for (const t of ctx.model.tables) {
    const object = tableName(t)
    if (t.primaryKey === null) {
      const fallback = fallbackUniqueKey(t)
      if (fallback === null) {
        findings.push({
          rule: 'table.no-primary-key',
          severity: 'blocker',
          objectType: 'table',
          object,
          title: sqlServer && !t.indexes.some((i) => i.kind === 'clustered') ? 'Heap table without a primary key' : 'Table without a primary key',
          mapping: null,
          reason: t.features.temporalHistory
            ? 'A temporal history table cannot have a primary key on SQL Server, so it cannot be copied in key ranges or verified. Exclude it (tables.exclude) and copy it once at cutover, or keep history in the application on the target.'
            : 'Without a primary key or a UNIQUE index on NOT NULL columns, rows cannot be copied in resumable key ranges, changes cannot be applied to exactly one row, and verify cannot compare chunks. Add a primary key on the source (a surrogate BIGINT identity column if nothing else identifies a row).',
          phases: ['replicate', 'verify'],
        })
      } else {
        findings.push({
          rule: 'table.unique-key-as-primary',
          severity: 'needs-change',
          objectType: 'table',
          object,
          title: `No primary key; payctl will use unique key ${fallback.name}`,
          mapping: `PRIMARY KEY -> UNIQUE ${fallback.name} (${fallback.columns.join(', ')})`,
          reason: `payctl will use unique key ${fallback.name} (${fallback.columns.join(', ')}) to copy, apply changes and verify. It works while those columns stay NOT NULL and unique; a primary key is still better (TiDB and InnoDB cluster rows by it).`,
          phases: ['replicate', 'verify'],
        })
      }
      continue
    }
    // A SQL Server heap with a nonclustered primary key: InnoDB and TiDB cluster by the key instead.
    if (sqlServer && t.indexes.length > 0 && !t.indexes.some((i) => i.kind === 'clustered')) {
      findings.push({
        rule: 'table.heap',
        severity: 'info',
        objectType: 'table',
        object,
        title: 'Heap (no clustered index)',
        mapping: `heap + NONCLUSTERED PRIMARY KEY -> clustered PRIMARY KEY (${t.primaryKey.columns.map((c) => c.name).join(', ')})`,
        reason: 'InnoDB and TiDB store rows in primary-key order. Inserts in random key order (GUIDs) cost more on the target than on the heap.',
        phases: ['provision'],
      })
    }
  }
  return findings
}
