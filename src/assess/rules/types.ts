/**
 * Every column's type on the target flavor, through the one type-mapping table
 * (migrators/schema/type-mapping.ts), so assess and provision can never disagree about a type.
 * One finding per column: a DBA needs the object names, the report groups them.
 */
import {mapColumnType} from '../../migrators/schema/type-mapping.js'
import type {Finding} from '../report.js'
import {columnName, type RuleContext} from './context.js'

export function typeRule(ctx: RuleContext): Finding[] {
  const findings: Finding[] = []
  for (const t of ctx.model.tables) {
    for (const c of t.columns) {
      // A script does not state a computed column's type (the expression decides it); the
      // column.computed finding covers it, and a live catalog gives the real type.
      if (c.generated !== null && c.dataType === 'unknown') continue
      const m = mapColumnType(c, ctx.model.server.engine, ctx.target)
      if (m.severity === 'none') continue
      findings.push({
        rule: `type.${m.rule}`,
        severity: m.severity,
        objectType: 'column',
        object: columnName(t, c),
        title: `${c.columnType} becomes ${m.targetType}`,
        mapping: `${c.columnType} -> ${m.targetType}`,
        reason: m.caveat ?? `The type changes from ${c.columnType} to ${m.targetType}.`,
        phases: m.severity === 'info' ? ['provision'] : ['provision', 'replicate', 'verify'],
      })
    }
  }
  return findings
}
