/**
 * Foreign keys and CHECK constraints per target flavor and version. TiDB parses foreign keys but
 * enforces them only from v6.6.0 (experimental, tidb_enable_foreign_key) and GA from v8.5.0;
 * InnoDB has no ON DELETE/UPDATE SET DEFAULT. Where the target version is unknown the finding
 * states the version rule instead of guessing.
 */
import type {Finding} from '../report.js'
import {atLeast, type RuleContext, targetLabel} from './context.js'

type FkVerdict = Pick<Finding, 'rule' | 'severity' | 'title' | 'reason'> | null

function tidbForeignKeys(ctx: RuleContext): FkVerdict {
  const v = ctx.target.version
  if (v === null) {
    return {
      rule: 'fk.tidb-version-unknown',
      severity: 'needs-change',
      title: 'Foreign key on TiDB of unknown version',
      reason:
        'TiDB before v6.6.0 parses foreign keys but does not enforce them; v6.6 to v8.4 enforce them as an experimental feature (tidb_enable_foreign_key = ON); v8.5 makes them GA. Pass a reachable target (or check its version) and keep integrity checks in the application until the target is v8.5+.',
    }
  }
  if (!atLeast(v, 6, 6)) {
    return {
      rule: 'fk.tidb-not-enforced',
      severity: 'needs-change',
      title: `Foreign key not enforced on ${targetLabel(ctx.target)}`,
      reason: 'TiDB before v6.6.0 accepts the constraint but never checks it. The application must guarantee the reference, or upgrade the target to v8.5+.',
    }
  }
  if (!atLeast(v, 8, 5)) {
    return {
      rule: 'fk.tidb-experimental',
      severity: 'needs-change',
      title: `Foreign keys are experimental on ${targetLabel(ctx.target)}`,
      reason: 'Enforced only with tidb_enable_foreign_key = ON, as an experimental feature until v8.5.0 (GA). Decide whether to rely on it; cascades add write latency.',
    }
  }
  return null
}

function checksEnforced(ctx: RuleContext): boolean | null {
  const {flavor, version: v} = ctx.target
  if (v === null) return null
  switch (flavor) {
    case 'mysql':
    case 'aurora-mysql':
      return atLeast(v, 8, 0, 16)
    case 'mariadb':
      return atLeast(v, 10, 2, 1)
    case 'tidb':
      // enforced from v7.2 only with tidb_enable_check_constraint = ON (off by default)
      return false
  }
}

export function foreignKeyRule(ctx: RuleContext): Finding[] {
  const findings: Finding[] = []
  const tidb = ctx.target.flavor === 'tidb'
  const verdict = tidb ? tidbForeignKeys(ctx) : null
  const checks = checksEnforced(ctx)
  for (const t of ctx.model.tables) {
    for (const fk of t.foreignKeys) {
      const object = `${t.schema}.${t.name}.${fk.name}`
      const mapping = `(${fk.columns.join(', ')}) -> ${fk.referencedTable} (${fk.referencedColumns.join(', ')})`
      const base = {objectType: 'foreign-key' as const, object}
      if (verdict !== null) findings.push({...base, ...verdict, mapping, phases: ['provision', 'shift-traffic']})
      if (tidb && t.features.partitioned) {
        findings.push({
          ...base,
          rule: 'fk.tidb-partitioned',
          severity: 'needs-change',
          title: 'Foreign key on a partitioned table',
          mapping: `${mapping} -> dropped`,
          reason: 'TiDB does not allow foreign keys on partitioned tables. Drop the constraint (enforce it in the application) or do not partition the table on the target.',
          phases: ['provision'],
        })
      }
      for (const [action, value] of [['ON DELETE', fk.onDelete], ['ON UPDATE', fk.onUpdate]] as const) {
        if (value.toUpperCase() !== 'SET DEFAULT') continue
        findings.push({
          ...base,
          rule: 'fk.set-default',
          severity: 'needs-change',
          title: `${action} SET DEFAULT is not supported`,
          mapping: `${action} SET DEFAULT -> ${action} RESTRICT (+ application logic)`,
          reason: 'InnoDB and TiDB reject SET DEFAULT referential actions. Use RESTRICT or SET NULL and set the default in the application.',
          phases: ['provision'],
        })
      }
      if (!fk.enabled) {
        findings.push({
          ...base,
          rule: 'fk.disabled',
          severity: 'info',
          title: 'Foreign key is disabled or not trusted on the source',
          mapping,
          reason: 'Existing rows may violate it: the target will hold the same rows, and adding the constraint there with checks on fails on them. Look for orphan rows on the source before relying on it.',
          phases: ['provision', 'verify'],
        })
      }
    }
    if (checks === true) continue
    for (const ck of t.checks) {
      findings.push({
        rule: 'check.not-enforced',
        severity: 'info',
        objectType: 'check',
        object: `${t.schema}.${t.name}.${ck.name}`,
        title: checks === null ? 'CHECK constraint may not be enforced' : `CHECK constraint not enforced on ${targetLabel(ctx.target)}`,
        mapping: `CHECK (${ck.expression})`,
        reason:
          'MySQL before 8.0.16 and Aurora MySQL 2 parse CHECK constraints and ignore them; TiDB enforces them only with tidb_enable_check_constraint = ON (v7.2+). Keep the rule in the application as well.',
        phases: ['provision'],
      })
    }
  }
  return findings
}
