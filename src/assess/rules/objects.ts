/**
 * Schema objects other than tables: triggers, routines, events, views, sequences and CLR
 * assemblies. payctl migrates tables; these are either rewritten by hand, moved into the
 * application (TiDB has no triggers, procedures, functions or events), or created at cutover,
 * because a trigger or event live on the target during replication would act on replicated rows.
 */
import type {Finding} from '../report.js'
import {atLeast, FLAVOR_NAMES, type RuleContext, targetLabel} from './context.js'

export function objectRule(ctx: RuleContext): Finding[] {
  const {model, target} = ctx
  const tidb = target.flavor === 'tidb'
  const fromSqlServer = model.server.engine === 'sqlserver'
  const findings: Finding[] = []
  const flavor = FLAVOR_NAMES[target.flavor]

  for (const tr of model.triggers) {
    const object = `${tr.schema}.${tr.name}`
    findings.push(
      tidb
        ? {
            rule: 'object.trigger.unsupported',
            severity: 'needs-change',
            objectType: 'trigger',
            object,
            title: `Trigger on ${tr.table} (${tr.timing} ${tr.events.join('/')}): TiDB has no triggers`,
            mapping: 'trigger -> application code',
            reason: 'TiDB does not support triggers. Move what it does into the application (or an outbox consumer) before the write flip; until then it keeps running on the source.',
            phases: ['provision', 'shift-traffic'],
          }
        : {
            rule: fromSqlServer ? 'object.trigger.rewrite' : 'object.trigger.create-at-cutover',
            severity: 'needs-change',
            objectType: 'trigger',
            object,
            title: `Trigger on ${tr.table} (${tr.timing} ${tr.events.join('/')})`,
            mapping: fromSqlServer ? 'T-SQL trigger -> MySQL trigger (manual rewrite)' : 'trigger -> same trigger, created at cutover',
            reason: `${fromSqlServer ? `Rewrite it for ${flavor} (T-SQL's inserted/deleted tables become NEW/OLD per row). ` : ''}payctl does not copy triggers. Create it on the target only at the write flip: during replication it would fire again on rows the source's trigger already changed.`,
            phases: ['provision', 'shift-traffic'],
          },
    )
  }

  for (const r of model.routines) {
    const object = `${r.schema}.${r.name}`
    const kind = r.kind
    findings.push(
      tidb
        ? {
            rule: `object.${kind}.unsupported`,
            severity: 'needs-change',
            objectType: kind,
            object,
            title: `Stored ${kind}: TiDB has none`,
            mapping: `${kind} -> application code`,
            reason: `TiDB does not support stored procedures or functions. Move the logic into the application before the write flip.`,
            phases: ['provision', 'shift-traffic'],
          }
        : {
            rule: fromSqlServer ? `object.${kind}.rewrite` : `object.${kind}.copy`,
            severity: fromSqlServer ? 'needs-change' : 'info',
            objectType: kind,
            object,
            title: fromSqlServer ? `T-SQL ${kind} needs rewriting` : `Stored ${kind} is not copied by payctl`,
            mapping: fromSqlServer ? `T-SQL ${kind} -> ${flavor} ${kind} (manual rewrite)` : `${kind} -> same ${kind} (mysqldump --routines --no-data)`,
            reason: fromSqlServer
              ? `${flavor} does not run T-SQL. Rewrite it (or move it into the application) and test it before the write flip.`
              : 'payctl migrates tables only. Create routines on the target with mysqldump --routines --no-create-info --no-data before the write flip.',
            phases: ['provision', 'shift-traffic'],
          },
    )
  }

  for (const e of model.events) {
    findings.push({
      rule: tidb ? 'object.event.unsupported' : 'object.event.create-at-cutover',
      severity: tidb ? 'needs-change' : 'info',
      objectType: 'event',
      object: `${e.schema}.${e.name}`,
      title: tidb ? 'Scheduled event: TiDB has no event scheduler' : `Scheduled event (${e.status})`,
      mapping: tidb ? 'event -> external scheduler (cron, a job runner)' : 'event -> same event, enabled at cutover',
      reason: tidb
        ? 'TiDB does not support events. Run the job from a scheduler outside the database, pointed at whichever side holds the writes.'
        : 'Create it on the target disabled, and enable it at the write flip: running on both sides would apply its changes twice.',
      phases: ['provision', 'shift-traffic'],
    })
  }

  for (const v of model.views) {
    findings.push({
      rule: fromSqlServer ? 'object.view.rewrite' : 'object.view.copy',
      severity: fromSqlServer ? 'needs-change' : 'info',
      objectType: 'view',
      object: `${v.schema}.${v.name}`,
      title: fromSqlServer ? 'T-SQL view needs rewriting' : 'View is not copied by payctl',
      mapping: fromSqlServer ? `T-SQL view -> ${flavor} view (manual rewrite)` : 'view -> same view',
      reason: fromSqlServer
        ? 'View bodies use T-SQL (TOP, ISNULL, [brackets], CONVERT styles, WITH (NOLOCK)). Rewrite and create it after provision; payctl does not convert view definitions.'
        : 'payctl migrates tables only; create the view on the target after provision (mysqldump --no-data includes it).',
      phases: ['provision'],
    })
  }

  const mariadbSequences = target.flavor === 'mariadb' && (target.version === null || atLeast(target.version, 10, 3))
  for (const s of model.sequences) {
    findings.push({
      rule: mariadbSequences ? 'object.sequence.mariadb' : 'object.sequence.unsupported',
      severity: mariadbSequences ? 'info' : 'needs-change',
      objectType: 'sequence',
      object: `${s.schema}.${s.name}`,
      title: mariadbSequences ? 'Sequence becomes a MariaDB sequence' : `Sequence: ${targetLabel(target)} has no sequences`,
      mapping: mariadbSequences
        ? `SEQUENCE ${s.dataType} START ${s.start} INCREMENT ${s.increment} -> CREATE SEQUENCE (restart after the last value)`
        : 'SEQUENCE -> AUTO_INCREMENT column or an application id generator',
      reason: mariadbSequences
        ? 'Create it on MariaDB (10.3+) and, at the write flip, ALTER SEQUENCE ... RESTART WITH the source\'s current value + increment; payctl does not copy sequence positions.'
        : 'Replace NEXT VALUE FOR with AUTO_INCREMENT or an id generator in the application, starting above the source\'s current value.',
      phases: ['provision', 'shift-traffic'],
    })
  }

  // CLR assemblies and CLR-backed objects are in the script but not in the model: the reader
  // reports them as not assessed, and they need a finding of their own because nothing in the
  // MySQL family can host .NET code.
  for (const n of ctx.notAssessed ?? []) {
    if (!/\bCREATE\s+ASSEMBLY\b|\bEXTERNAL\s+NAME\b/i.test(n.text)) continue
    findings.push({
      rule: 'object.clr',
      severity: 'needs-change',
      objectType: 'function',
      object: n.text.slice(0, 120),
      title: 'CLR assembly or CLR-backed object',
      mapping: 'CLR (.NET) code -> application code',
      reason: 'No MySQL-compatible target runs .NET code in the database. Move it into the application.',
      phases: ['provision', 'shift-traffic'],
      line: n.line,
    })
  }
  return findings
}
