/** Human rendering of a provision plan: the table/action/detail summary and the plan as an SQL script. */
import type {PlannedTable, ProvisionPlan} from '../migrators/provision.js'
import {table} from './output.js'

const ACTION_TEXT: Record<PlannedTable['action'], string> = {
  create: 'create',
  complete: 'complete',
  same: 'same (skip)',
  conflict: 'CONFLICT',
  extra: 'extra (left alone)',
}

const DONE_TEXT: Partial<Record<PlannedTable['action'], string>> = {create: 'created', complete: 'completed'}

/** table / action / detail; with `applied`, the actions read as done ("created"). */
export function renderPlanTable(plan: ProvisionPlan, options: {colour?: boolean; applied?: boolean} = {}): string {
  return table(
    plan.tables,
    [
      {header: 'table', get: (t) => t.name},
      {header: 'action', get: (t) => (options.applied === true ? DONE_TEXT[t.action] : undefined) ?? ACTION_TEXT[t.action]},
      {header: 'detail', get: (t) => t.diff.join('\n')},
    ],
    options.colour === undefined ? {} : {colour: options.colour},
  )
}

/**
 * The plan as a script a DBA can read, keep with the change ticket, or run by hand: the summary
 * and notes as `--` comments, then each statement after a comment saying what it is for.
 */
export function renderPlanSql(plan: ProvisionPlan): string {
  const comment = (text: string): string =>
    text
      .split('\n')
      .map((l) => `-- ${l}`.trimEnd())
      .join('\n')
  const {target} = plan
  const lines = [
    comment(
      `payctl provision plan: ${target.flavor}${target.version === null ? '' : ` ${target.version.raw}`}, database ${plan.database}; ` +
        `control store ${plan.control.database} on the ${plan.control.side}`,
    ),
    comment(renderPlanTable(plan, {colour: false})),
  ]
  for (const n of plan.notes.filter((x) => x.severity !== 'info')) lines.push(comment(`note (${n.severity}) ${n.object}: ${n.mapping}. ${n.reason}`))
  if (plan.conflicts > 0) lines.push(comment(`${plan.conflicts} conflicting table(s): provision refuses to run until they are resolved.`))
  lines.push(comment(plan.statements.length === 0 ? 'Nothing to do.' : `${plan.statements.length} statements; none was executed (dry run).`))
  let side: string | null = null
  for (const s of plan.statements) {
    if (s.side !== side) {
      side = s.side
      lines.push('', comment(side === 'target' ? `---- on the target server, database ${plan.database} ----` : '---- on the source server (the control store lives there) ----'))
    }
    lines.push('', comment(s.purpose), `${s.sql.trimEnd().replace(/;$/, '')};`)
  }
  return lines.join('\n')
}
