/**
 * payctl provision: the converted schema and the control store on the target, planned first.
 *
 * Why a rerun is safe and bad input never half-applies:
 * - The plan is a pure function of what introspection shows now (the source, the target database,
 *   the control store), recomputed on every run; nothing about earlier runs is remembered, so
 *   there is no state of ours that can disagree with the servers.
 * - Only what is absent is created. A table that exists and differs from the conversion is a
 *   conflict: it is never dropped or altered, and one conflict stops the run before its first
 *   statement, so a bad target is refused whole rather than half provisioned.
 * - MySQL-family DDL is not transactional (every statement commits on its own), so a run that
 *   fails midway (server gone, privilege missing, interrupted) leaves the tables it created. They
 *   are exactly as converted, so the next run sees them as 'same' and skips them; a table that
 *   was created but whose separate index or foreign-key steps did not run is 'complete': only the
 *   missing index or key is added, which is the one change provision makes to an existing table,
 *   and only when everything else about that table already matches the conversion.
 * - The control store is planned the same way (only missing tables are created, each with IF NOT
 *   EXISTS), so a second run after a success executes nothing and says so.
 */
import {CheckFailedError, EnvironmentError, InterruptedError, PartialError, PayctlError, UsageError} from '../cli/errors.js'
import type {ControlStoreSide} from '../config/index.js'
import type {PayctlConfig} from '../config/index.js'
import {CONTROL_SCHEMA_VERSION, CONTROL_TABLES, controlStoreDdl, createControlTable, insertControlVersion, versionFromComment} from '../control/control-schema.js'
import type {ConnectionOptions, Engine} from '../engines/engine.js'
import {renderSteps} from '../engines/mysql/mysql-ddl.js'
import {checkConstraintsQuery} from '../engines/mysql/mysql-introspector.js'
import type {MysqlFlavor, SchemaModel, ServerInfo, TableModel} from '../engines/model.js'
import {MYSQL_FLAVORS} from '../engines/model.js'
import {openEngine, withEngine} from '../engines/open.js'
import {convertSchema, defaultTargetSpec} from './schema/convert.js'
import type {ConversionNote, ConversionResult, SchemaStep, TargetSpec} from './schema/steps.js'
import {diffTable} from './table-diff.js'

/**
 * create: absent, will be created; complete: present and as converted except for indexes or
 * foreign keys that provision adds in their own steps (an earlier run stopped midway); same:
 * present and as converted; conflict: present and different (never touched); extra: on the
 * target but not in the converted schema (left as it is).
 */
export type TableAction = 'create' | 'complete' | 'same' | 'conflict' | 'extra'

export interface PlannedTable {
  /** The table name; control store tables as database.table. */
  name: string
  /** Which schema it belongs to: the migrated tables, or payctl's control store. */
  store: 'target' | 'control'
  action: TableAction
  /** For a conflict or completion, one line per difference; for the others a short reason or nothing. */
  diff: string[]
}

export interface PlannedStatement {
  sql: string
  purpose: string
  /** The server it runs on: the target, or the source when the control store lives there. */
  side: ControlStoreSide
}

export interface ProvisionPlan {
  target: TargetSpec
  database: string
  control: {side: ControlStoreSide; database: string}
  tables: PlannedTable[]
  statements: PlannedStatement[]
  notes: ConversionNote[]
  conflicts: number
}

export interface ProvisionInput {
  source: SchemaModel
  /** The target database as introspected (it exists: provision connects to it); it may have no tables. */
  targetModel: SchemaModel
  target: TargetSpec
  controlDatabase: string
  /** Default target. */
  controlSide?: ControlStoreSide
  /** The control store database as introspected, or null when it is not there. */
  controlExisting: SchemaModel | null
  /** tables.include / tables.exclude of the config; default every table. */
  tables?: PayctlConfig['tables']
}

export type StepRenderer = (steps: SchemaStep[], target: TargetSpec) => string[]

export function planProvision(input: ProvisionInput): ProvisionPlan {
  return planFromConversion(convertSchema(input.source, input.target, input.tables === undefined ? {} : {tables: input.tables}), input)
}

const key = (name: string): string => name.toLowerCase()

/** The plan for an already converted schema; `render` is the target's DDL renderer (tests pass their own). */
export function planFromConversion(conversion: ConversionResult, input: Omit<ProvisionInput, 'source'>, render: StepRenderer = renderSteps): ProvisionPlan {
  const {target} = input
  const controlSide = input.controlSide ?? 'target'
  const found = new Map(input.targetModel.tables.map((t) => [key(t.name), t]))
  const converted = new Set(conversion.tables.map((t) => key(t.name)))
  // create-database is never planned: the target database exists, since provision introspected it through a connection to it.
  const stepTable = (s: SchemaStep): string | null => (s.kind === 'create-database' ? null : key(s.kind === 'create-table' ? s.table.name : s.table))
  const stepsOf = new Map<string, SchemaStep[]>()
  for (const s of conversion.steps) {
    const t = stepTable(s)
    if (t !== null) stepsOf.set(t, [...(stepsOf.get(t) ?? []), s])
  }

  // Where introspection reads no CHECK constraints, their absence on the target is no difference.
  const checksReadable = target.version === null ? target.flavor !== 'tidb' : checkConstraintsQuery(target.flavor, target.version) !== null
  const tables: PlannedTable[] = []
  // Per table, the steps it needs: all of them for a new table, the missing index/FK steps to complete one.
  const wanted = new Map<string, Set<SchemaStep>>()
  for (const expected of conversion.tables) {
    const steps = stepsOf.get(key(expected.name)) ?? []
    const existing = found.get(key(expected.name))
    if (existing === undefined) {
      tables.push({name: expected.name, store: 'target', action: 'create', diff: []})
      wanted.set(key(expected.name), new Set(steps))
      continue
    }
    const diff = diffTable(expected, existing, {checks: checksReadable})
    if (diff.length === 0) {
      tables.push({name: expected.name, store: 'target', action: 'same', diff: []})
      continue
    }
    const completion = new Set<SchemaStep>()
    const completable = diff.every((d) => {
      const m = d.missing
      if (m === undefined) return false
      const step = steps.find((s) =>
        m.kind === 'index' ? s.kind === 'create-index' && key(s.index.name) === key(m.name) : s.kind === 'add-foreign-key' && key(s.foreignKey.name) === key(m.name),
      )
      if (step !== undefined) completion.add(step)
      return step !== undefined
    })
    if (completable) {
      tables.push({name: expected.name, store: 'target', action: 'complete', diff: diff.map((d) => `${d.text}; will be added`)})
      wanted.set(key(expected.name), completion)
    } else {
      tables.push({name: expected.name, store: 'target', action: 'conflict', diff: diff.map((d) => d.text)})
    }
  }

  const notes = [...conversion.notes]
  const statements: PlannedStatement[] = []
  const control = planControlStore(input.controlDatabase, input.controlExisting)
  tables.push(...control.tables)
  for (const s of control.statements) statements.push({sql: s.sql, purpose: s.purpose, side: controlSide})

  // A foreign key needs its referenced table: being created, already there, or completed.
  const available = (table: string): boolean => found.has(key(table)) || wanted.has(key(table))
  const ordered: SchemaStep[] = []
  for (const s of conversion.steps) {
    const t = stepTable(s)
    if (t === null || !(wanted.get(t)?.has(s) ?? false)) continue
    if (s.kind === 'add-foreign-key' && !available(s.foreignKey.referencedTable)) {
      notes.push({
        object: `${s.table}.${s.foreignKey.name}`,
        severity: 'needs-change',
        rule: 'provision.fk-parent-missing',
        mapping: `${describeStep(s)} -> not created`,
        reason: `The referenced table ${s.foreignKey.referencedTable} is neither in the converted schema nor on the target; add it (tables.include) and rerun provision to create the key.`,
      })
      continue
    }
    ordered.push(s)
  }
  for (const s of ordered) {
    const purpose = describeStep(s)
    for (const sql of render([s], target)) statements.push({sql, purpose, side: 'target'})
  }
  // A table whose only missing parts could not be added (their parent is absent) is as complete as it can be.
  for (const t of tables) {
    if (t.action === 'complete' && !ordered.some((s) => stepTable(s) === key(t.name))) Object.assign(t, {action: 'same', diff: []})
  }

  const controlNames = controlSide === 'target' && key(input.controlDatabase) === key(target.database) ? new Set(CONTROL_TABLES.map((t) => key(t.name))) : new Set<string>()
  for (const t of input.targetModel.tables) {
    if (!converted.has(key(t.name)) && !controlNames.has(key(t.name))) {
      tables.push({name: t.name, store: 'target', action: 'extra', diff: ['not in the converted schema; left as it is']})
    }
  }
  return {
    target,
    database: target.database,
    control: {side: controlSide, database: input.controlDatabase},
    tables,
    statements,
    notes,
    conflicts: tables.filter((t) => t.action === 'conflict').length,
  }
}

function describeStep(s: SchemaStep): string {
  switch (s.kind) {
    case 'create-database':
      return `database ${s.database}`
    case 'create-table':
      return `table ${s.table.name}`
    case 'create-index':
      return `index ${s.table}.${s.index.name}`
    case 'add-foreign-key':
      return `foreign key ${s.table}.${s.foreignKey.name}`
  }
}

/**
 * The control store is payctl's own: its tables are checked by name and column names only, and its
 * version from schema_version's comment (see control-schema.ts). A newer version than this payctl
 * knows, or a same-named table that is not ours, is a conflict.
 */
function planControlStore(database: string, existing: SchemaModel | null): {tables: PlannedTable[]; statements: Array<{sql: string; purpose: string}>} {
  const qualified = (name: string): string => `${database}.${name}`
  if (existing === null || existing.tables.length === 0) {
    return {tables: CONTROL_TABLES.map((t) => ({name: qualified(t.name), store: 'control', action: 'create', diff: []})), statements: controlStoreDdl(database)}
  }
  const found = new Map(existing.tables.map((t) => [key(t.name), t]))
  const tables: PlannedTable[] = []
  const statements: Array<{sql: string; purpose: string}> = []
  for (const table of CONTROL_TABLES) {
    const present = found.get(key(table.name))
    if (present === undefined) {
      tables.push({name: qualified(table.name), store: 'control', action: 'create', diff: []})
      statements.push(createControlTable(database, table))
      if (table.name === 'schema_version') statements.push(insertControlVersion(database))
      continue
    }
    const diff = controlTableDiff(table.name, table.columns.map(([name]) => name), present)
    tables.push({name: qualified(table.name), store: 'control', action: diff.length === 0 ? 'same' : 'conflict', diff})
  }
  return {tables, statements}
}

function controlTableDiff(name: string, expectedColumns: readonly string[], present: TableModel): string[] {
  const diff: string[] = []
  if (name === 'schema_version') {
    const version = versionFromComment(present.comment)
    if (version === null) diff.push('not a payctl control store table (its comment states no control schema version)')
    else if (version > CONTROL_SCHEMA_VERSION) diff.push(`control schema version ${version} found; this payctl knows version ${CONTROL_SCHEMA_VERSION} (upgrade payctl)`)
  }
  const columns = new Set(present.columns.map((c) => key(c.name)))
  for (const c of expectedColumns) if (!columns.has(key(c))) diff.push(`column ${c}: missing on target`)
  return diff
}

// ---------------------------------------------------------------------------------------------
// Applying

export function conflictError(plan: ProvisionPlan): CheckFailedError {
  const conflicting = plan.tables.filter((t) => t.action === 'conflict')
  const lines = conflicting.flatMap((t) => [`  ${t.name}:`, ...t.diff.map((d) => `    - ${d}`)])
  const controlConflict = conflicting.some((t) => t.store === 'control')
  return new CheckFailedError(
    'PAYCTL_PROVISION_CONFLICT',
    `${conflicting.length} table(s) on the target differ from the converted schema; nothing was changed:\n${lines.join('\n')}`,
    {
      actions: [
        'Drop or rename each conflicting table yourself (payctl never drops or alters an existing table), then rerun payctl provision.',
        'Or leave a table out of the migration with tables.exclude in the config.',
        ...(controlConflict ? [`For ${plan.control.database}: point controlStore.database at another database, or drop that database if nothing else uses it.`] : []),
        'Run payctl provision --dry-run to see the whole plan.',
      ],
      data: {conflicts: conflicting.map((t) => ({table: t.name, store: t.store, diff: t.diff}))},
    },
  )
}

export interface ProvisionEngines {
  target: Engine
  /** The engine of the control store's side (the target engine itself when it lives there). */
  control: Engine
}

export interface StatementProgress {
  /** 1-based. */
  index: number
  total: number
  statement: PlannedStatement
}

/**
 * Runs the plan's statements in order. Refuses a plan with conflicts before executing anything.
 * A failure midway leaves what was already created, which the next run's plan skips (see the top).
 */
export async function applyProvision(plan: ProvisionPlan, engines: ProvisionEngines, onProgress?: (p: StatementProgress) => void, signal?: AbortSignal): Promise<{executed: number}> {
  if (plan.conflicts > 0) throw conflictError(plan)
  const total = plan.statements.length
  let executed = 0
  for (const [i, statement] of plan.statements.entries()) {
    if (signal?.aborted) throw new InterruptedError(`Interrupted after ${executed} of ${total} statements; rerun payctl provision to create the rest.`)
    onProgress?.({index: i + 1, total, statement})
    const engine = statement.side === 'target' ? engines.target : engines.control
    try {
      await engine.execute(statement.sql)
    } catch (err) {
      throw statementError(err, statement, i + 1, total, executed)
    }
    executed++
  }
  return {executed}
}

function statementError(err: unknown, s: PlannedStatement, index: number, total: number, executed: number): PayctlError {
  const progress = `${executed} of ${total} statements were applied; rerun payctl provision to create the rest (it skips what exists).`
  // Unreachable server or missing privilege (exit 3): the engine's error says what to do; this adds where it stopped.
  if (err instanceof EnvironmentError) {
    return new EnvironmentError(err.code, `${err.message} (statement ${index} of ${total}: ${s.purpose}). ${progress}`, {
      actions: err.actions,
      cause: err,
      data: {...err.data, statement: index, purpose: s.purpose, executed},
    })
  }
  if (err instanceof PayctlError) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new PartialError('PAYCTL_PROVISION_STATEMENT_FAILED', `Statement ${index} of ${total} (${s.purpose}) failed on the ${s.side}: ${detail}. ${progress}`, {
    actions: ['Run payctl provision --dry-run to see the statement, fix what the server says, and rerun payctl provision.'],
    cause: err,
    data: {statement: index, purpose: s.purpose, sql: s.sql, executed, detail},
  })
}

// ---------------------------------------------------------------------------------------------
// The whole phase: read, plan, apply

/**
 * What the conversion targets: the flavor asked for, else the live target's; the live version only
 * when the flavor is the live one (a MariaDB version says nothing about TiDB's features).
 */
export function targetSpecFor(server: ServerInfo, database: string, flavor?: MysqlFlavor): {spec: TargetSpec; warning: string | null} {
  const live = (MYSQL_FLAVORS as readonly string[]).includes(server.flavor) ? (server.flavor as MysqlFlavor) : null
  const chosen = flavor ?? live
  if (chosen === null) {
    throw new UsageError('PAYCTL_TARGET_UNSUPPORTED', `The target is ${server.flavor}; payctl provisions MySQL-family targets (${MYSQL_FLAVORS.join(', ')}).`, {
      actions: ['Point target in the config at a TiDB, Aurora MySQL, MySQL or MariaDB server.'],
    })
  }
  const sameFlavor = chosen === live
  const spec = defaultTargetSpec(chosen, database, sameFlavor ? server.version : null)
  // The live server's own utf8mb4 default wins over the flavor's usual one (MariaDB 11 has uca1400 collations, say).
  if (sameFlavor && server.charset === 'utf8mb4' && server.collation !== null) spec.collation = server.collation
  return {
    spec,
    warning: sameFlavor ? null : `planning for ${chosen} while the target server is ${server.flavor} ${server.version.raw}; the statements may not run on it`,
  }
}

export type ProvisionEvent =
  | {kind: 'phase'; message: string}
  | {kind: 'statement'; progress: StatementProgress}
  | {kind: 'warning'; message: string}

export interface ProvisionOptions {
  source: ConnectionOptions
  target: ConnectionOptions
  control: {side: ControlStoreSide; database: string; connection: ConnectionOptions}
  tables: PayctlConfig['tables']
  flavor?: MysqlFlavor
  dryRun: boolean
  signal?: AbortSignal
  onEvent?: (e: ProvisionEvent) => void
}

export interface ProvisionResult {
  dryRun: boolean
  plan: ProvisionPlan
  /** Tables per action. */
  summary: Record<TableAction, number>
  /** Statements run (0 on a dry run or when there is nothing to do). */
  executed: number
  /** Tables left alone because the target already has them as converted. */
  skipped: number
  durationMs: number
}

/**
 * Reads the source, the target and the control store, plans, and (unless dryRun) applies. A dry
 * run returns the plan even when it has conflicts; applying refuses them (exit 4).
 */
export async function provision(o: ProvisionOptions): Promise<ProvisionResult> {
  const started = Date.now()
  const emit = o.onEvent ?? (() => undefined)
  for (const [what, c] of [['target', o.target], ['control store', o.control.connection]] as const) {
    if (c.engine !== 'mysql') {
      throw new UsageError('PAYCTL_PROVISION_UNSUPPORTED', `The ${what} is on ${c.label} (${c.engine}); payctl provisions it on MySQL-family servers only.`, {
        actions: what === 'target' ? ['Point target in the config at a TiDB, Aurora MySQL, MySQL or MariaDB server.'] : ['Set controlStore.side to the MySQL-family side (the target, by default).'],
      })
    }
  }
  emit({kind: 'phase', message: `reading the source schema (${o.source.label})`})
  const source = await withEngine(o.source, o.signal, (e) => e.introspect(o.signal === undefined ? {} : {signal: o.signal}))
  return withEngine(o.target, o.signal, async (target) => {
    emit({kind: 'phase', message: 'reading the target schema'})
    const server = await target.serverInfo()
    const {spec, warning} = targetSpecFor(server, o.target.database, o.flavor)
    if (warning !== null) emit({kind: 'warning', message: warning})
    const targetModel = await target.introspect(o.signal === undefined ? {} : {signal: o.signal})
    const control = o.control.side === 'target' ? target : await openEngine(o.control.connection, o.signal)
    try {
      emit({kind: 'phase', message: `reading the control store ${o.control.database}`})
      const controlModel = await control.introspect({database: o.control.database, ...(o.signal === undefined ? {} : {signal: o.signal})})
      const plan = planProvision({source, targetModel, target: spec, controlDatabase: o.control.database, controlSide: o.control.side, controlExisting: controlModel, tables: o.tables})
      let executed = 0
      if (!o.dryRun) {
        if (plan.conflicts > 0) emit({kind: 'phase', message: `${plan.conflicts} conflicting table(s): nothing will be changed`})
        else emit({kind: 'phase', message: plan.statements.length === 0 ? 'nothing to do' : `applying ${plan.statements.length} statements`})
        executed = (await applyProvision(plan, {target, control}, (progress) => emit({kind: 'statement', progress}), o.signal)).executed
      }
      return {dryRun: o.dryRun, plan, summary: summarize(plan), executed, skipped: plan.tables.filter((t) => t.action === 'same').length, durationMs: Date.now() - started}
    } finally {
      if (control !== target) await control.close()
    }
  })
}

export function summarize(plan: ProvisionPlan): Record<TableAction, number> {
  const out: Record<TableAction, number> = {create: 0, complete: 0, same: 0, conflict: 0, extra: 0}
  for (const t of plan.tables) out[t.action]++
  return out
}
