/**
 * IDENTITY / AUTO_INCREMENT on the target. TiDB hands out AUTO_INCREMENT values in batches of
 * 30,000 per server (unique, not monotonic), and a sequential BIGINT key concentrates every
 * insert on one TiKV Region; AUTO_RANDOM spreads them. Copied rows keep their explicit ids either way.
 */
import type {ColumnModel, TableModel} from '../../engines/model.js'
import type {Finding} from '../report.js'
import {columnName, type RuleContext} from './context.js'

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'])

function isSinglePk(t: TableModel, c: ColumnModel): boolean {
  return t.primaryKey?.columns.length === 1 && t.primaryKey.columns[0]?.name === c.name
}

export function identityRule(ctx: RuleContext): Finding[] {
  const findings: Finding[] = []
  const fromSqlServer = ctx.model.server.engine === 'sqlserver'
  const tidb = ctx.target.flavor === 'tidb'
  for (const t of ctx.model.tables) {
    for (const c of t.columns) {
      if (c.identity === null) continue
      const object = columnName(t, c)
      const base = {objectType: 'column' as const, object}
      if (!INTEGER_TYPES.has(c.dataType)) {
        findings.push({
          ...base,
          rule: 'identity.non-integer',
          severity: 'needs-change',
          title: `IDENTITY on ${c.columnType}`,
          mapping: `${c.columnType} IDENTITY -> BIGINT AUTO_INCREMENT`,
          reason: 'AUTO_INCREMENT needs an integer column. Convert the column to BIGINT (values are whole numbers already) or generate ids in the application.',
          phases: ['provision', 'replicate'],
        })
        continue
      }
      if (fromSqlServer && c.identity.increment !== '1') {
        findings.push({
          ...base,
          rule: 'identity.increment',
          severity: 'needs-change',
          title: `IDENTITY(${c.identity.seed}, ${c.identity.increment}) steps by ${c.identity.increment}`,
          mapping: `IDENTITY(${c.identity.seed}, ${c.identity.increment}) -> AUTO_INCREMENT (step 1)`,
          reason: 'The MySQL family sets the step server-wide (auto_increment_increment), not per column. New ids will step by 1 unless the application or the server setting provides the step.',
          phases: ['provision', 'shift-traffic'],
        })
      }
      if (tidb && c.dataType === 'bigint' && isSinglePk(t, c)) {
        findings.push({
          ...base,
          rule: 'identity.tidb-auto-random',
          severity: 'needs-change',
          title: 'Sequential BIGINT primary key: an insert hot spot on TiDB',
          mapping: `${fromSqlServer ? 'IDENTITY' : 'AUTO_INCREMENT'} -> BIGINT AUTO_RANDOM(5)`,
          reason:
            'Sequential ids send every new row to the same TiKV Region. For tables with hot sequential inserts, use AUTO_RANDOM (ALTER TABLE ... MODIFY COLUMN id BIGINT AUTO_RANDOM(5) after the load). Explicit ids keep working, so copied rows keep theirs, but new ids are no longer ordered: the application must not sort or page by id as a time order.',
          phases: ['provision', 'shift-traffic'],
        })
      } else if (tidb) {
        findings.push({
          ...base,
          rule: 'identity.tidb-auto-increment',
          severity: 'info',
          title: 'AUTO_INCREMENT on TiDB is unique but not monotonic',
          mapping: `${fromSqlServer ? `IDENTITY(${c.identity.seed}, ${c.identity.increment})` : 'AUTO_INCREMENT'} -> AUTO_INCREMENT`,
          reason:
            'Each TiDB server caches 30,000 values, so ids from different servers interleave and gaps are normal. Use AUTO_ID_CACHE 1 (v6.5+) if the application needs ids in insert order, at a throughput cost.',
          phases: ['provision', 'shift-traffic'],
        })
      } else if (fromSqlServer) {
        findings.push({
          ...base,
          rule: 'identity.auto-increment',
          severity: 'info',
          title: `IDENTITY(${c.identity.seed}, ${c.identity.increment}) becomes AUTO_INCREMENT`,
          mapping: `IDENTITY(${c.identity.seed}, ${c.identity.increment}) -> AUTO_INCREMENT`,
          reason:
            'Copied rows keep their ids (explicit values are inserted). After the load the next value continues after the highest id; a gap-free or seed-specific sequence is not kept (SET IDENTITY_INSERT has no equivalent: explicit ids are always accepted).',
          phases: ['provision'],
        })
      }
    }
  }
  return findings
}
