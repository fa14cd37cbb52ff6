/**
 * `payctl assess --from-ddl FILE --source-engine sqlserver`: reads a T-SQL script (as SQL Server
 * Management Studio's "Generate Scripts" writes it) into the same SchemaModel a live
 * introspection produces. Columns go through the live introspector's own mapColumn, fed with the
 * values sys.columns would hold (max_length in bytes, precision, scale), so a table read from a
 * script and the same table read from a server look the same.
 *
 * Never throws on a script: each statement is parsed on its own, and what fails to parse or is
 * not read (partition functions, full-text, assemblies, security...) becomes a NotAssessed entry
 * with its 1-based line. A script has no sizes: rowEstimate, dataBytes and indexBytes are 0.
 */
import type {DdlReader, DdlReadResult, NotAssessed} from '../ddl-reader.js'
import {
  emptyFeatures,
  parseVersion,
  type ColumnModel,
  type IndexModel,
  type RoutineModel,
  type SchemaModel,
  type SequenceModel,
  type TableModel,
  type TriggerModel,
  type ViewModel,
} from '../model.js'
import {identifierCaseFromCollation, indexKindOf, keysFromIndexes, mapColumn, type ColumnRow} from './sqlserver-introspector.js'
import {ParseError, parseStatement, splitStatements, type ColumnDef, type Constraint, type QName, type Statement, type TypeSpec} from './tsql-parser.js'
import {splitBatches, tokenize, type Token} from './tsql-tokenizer.js'

/** sys.columns values of a system type: max_length (bytes), precision, scale. */
interface TypeFacts {
  typeName: string
  maxLength: number
  precision: number
  scale: number
}

const FIXED_TYPES: Record<string, [number, number, number]> = {
  bit: [1, 1, 0],
  tinyint: [1, 3, 0],
  smallint: [2, 5, 0],
  int: [4, 10, 0],
  bigint: [8, 19, 0],
  money: [8, 19, 4],
  smallmoney: [4, 10, 4],
  real: [4, 24, 0],
  date: [3, 10, 0],
  datetime: [8, 23, 3],
  smalldatetime: [4, 16, 0],
  uniqueidentifier: [16, 0, 0],
  timestamp: [8, 0, 0],
  rowversion: [8, 0, 0],
  sql_variant: [8016, 0, 0],
  xml: [-1, 0, 0],
  geography: [-1, 0, 0],
  geometry: [-1, 0, 0],
  hierarchyid: [892, 0, 0],
  text: [16, 0, 0],
  ntext: [16, 0, 0],
  image: [16, 0, 0],
  sysname: [256, 0, 0],
}
const SIZED_BYTES = new Set(['char', 'varchar', 'binary', 'varbinary'])
const SIZED_UNICODE = new Set(['nchar', 'nvarchar'])
const FRACTIONAL = new Set(['datetime2', 'time', 'datetimeoffset'])
const STRING_TYPES = new Set(['char', 'varchar', 'text', 'nchar', 'nvarchar', 'ntext', 'sysname'])
const SYSTEM_DATABASES = new Set(['master', 'msdb', 'tempdb', 'model'])
const TYPE_MINIMUM: Record<string, string> = {tinyint: '0', smallint: '-32768', int: '-2147483648', bigint: '-9223372036854775808'}
const EVENT_ORDER = ['INSERT', 'UPDATE', 'DELETE']
const SECURITY_REASON = 'security statements are not part of the schema model'
const SECURITY_PROCEDURES = new Set(['sp_addrolemember', 'sp_droprolemember', 'sp_addrole', 'sp_adduser', 'sp_grantdbaccess', 'sp_addlogin', 'sp_changedbowner'])

function intArg(arg: string | undefined, fallback: number): number {
  if (arg === undefined) return fallback
  if (arg === 'max') return -1
  const n = Number(arg)
  if (!Number.isInteger(n)) throw new Error(`type argument "${arg}" is not a number`)
  return n
}

/** What sys.columns holds for a system type as declared; null when it is not a system type. */
export function systemTypeFacts(spec: TypeSpec): TypeFacts | null {
  if (spec.schema !== null && spec.schema.toLowerCase() !== 'sys') return null
  const name = spec.name.toLowerCase()
  const [a, b] = spec.args
  if (SIZED_BYTES.has(name)) return {typeName: name, maxLength: intArg(a, 1), precision: 0, scale: 0}
  if (SIZED_UNICODE.has(name)) {
    const chars = intArg(a, 1)
    return {typeName: name, maxLength: chars === -1 ? -1 : chars * 2, precision: 0, scale: 0}
  }
  if (name === 'decimal' || name === 'numeric' || name === 'dec') {
    return {typeName: name === 'dec' ? 'decimal' : name, maxLength: 0, precision: intArg(a, 18), scale: intArg(b, 0)}
  }
  // float(1..24) is stored as real, float(25..53) as float(53).
  if (name === 'float') return intArg(a, 53) <= 24 ? {typeName: 'real', maxLength: 4, precision: 24, scale: 0} : {typeName: 'float', maxLength: 8, precision: 53, scale: 0}
  if (FRACTIONAL.has(name)) return {typeName: name, maxLength: 0, precision: 0, scale: intArg(a, 7)}
  if (name === 'integer') return {typeName: 'int', maxLength: 4, precision: 10, scale: 0}
  const fixed = FIXED_TYPES[name]
  return fixed === undefined ? null : {typeName: name, maxLength: fixed[0], precision: fixed[1], scale: fixed[2]}
}

function key(schema: string, name: string): string {
  // Identifiers compare case-insensitively under the default (CI) collations SSMS scripts come from.
  return `${schema}.${name}`.toLowerCase()
}

interface TableState {
  model: TableModel
  defs: ColumnDef[]
  /** FK name (lower case) -> disabled/trusted, turned into `enabled` at the end. */
  fkState: Map<string, {disabled: boolean; trusted: boolean}>
  history: QName | null | undefined
}

interface AliasType {
  base: TypeSpec
  nullable: boolean
}

class ScriptReader {
  readonly notAssessed: NotAssessed[] = []
  readonly tables = new Map<string, TableState>()
  readonly aliases = new Map<string, AliasType>()
  readonly views: ViewModel[] = []
  readonly routines: RoutineModel[] = []
  readonly triggers: TriggerModel[] = []
  readonly sequences: SequenceModel[] = []
  database: string | null = null
  createdDatabase: string | null = null
  collation: string | null = null
  cdcEnabled = false
  changeTracking: {enable: boolean; retention: string | null; autoCleanup: boolean | null} | null = null
  recovery: string | null = null
  private readonly lines: string[]

  constructor(readonly script: string) {
    this.lines = script.split('\n')
  }

  note(line: number, reason: string, start?: number): void {
    let text = (this.lines[line - 1] ?? '').trim()
    if (start !== undefined) {
      const eol = this.script.indexOf('\n', start)
      text = this.script.slice(start, eol < 0 ? undefined : eol).trim()
    }
    this.notAssessed.push({line, text: text.slice(0, 200), reason})
  }

  table(q: QName): TableState | undefined {
    return this.tables.get(key(q.schema ?? 'dbo', q.name))
  }

  apply(stmt: Statement, line: number, start: number): void {
    switch (stmt.type) {
      case 'use':
        if (!SYSTEM_DATABASES.has(stmt.database.toLowerCase())) this.database = stmt.database
        return
      case 'createDatabase':
        this.createdDatabase = stmt.name
        this.collation = stmt.collation ?? this.collation
        return
      case 'alterDatabase':
        this.recovery = stmt.recovery ?? this.recovery
        this.changeTracking = stmt.changeTracking ?? this.changeTracking
        this.collation = stmt.collation ?? this.collation
        return
      case 'ignored':
      case 'data':
      case 'createSchema':
        return
      case 'security':
        return this.note(line, SECURITY_REASON, start)
      case 'unsupported':
        return this.note(line, stmt.reason, start)
      case 'createType':
        this.aliases.set(key(stmt.name.schema ?? 'dbo', stmt.name.name), {base: stmt.base, nullable: stmt.nullable})
        return
      case 'createTable':
        return this.createTable(stmt, line)
      case 'alterTable':
        return this.alterTable(stmt, line, start)
      case 'createIndex': {
        const t = this.table(stmt.table)
        if (t === undefined) return this.note(line, `index on ${display(stmt.table)}, which is not a table created in this script`, start)
        t.model.indexes.push(indexOf(stmt.index))
        if (stmt.partitioned) t.model.features.partitioned = true
        return
      }
      case 'module':
        return this.module(stmt)
      case 'createSequence':
        this.sequences.push({
          schema: stmt.name.schema ?? 'dbo',
          name: stmt.name.name,
          dataType: stmt.dataType,
          // Without START WITH a sequence starts at its minimum, which defaults to the type's.
          start: stmt.start ?? stmt.minValue ?? TYPE_MINIMUM[stmt.dataType] ?? '1',
          increment: stmt.increment,
        })
        return
      case 'exec':
        return this.exec(stmt, line, start)
    }
  }

  private column(def: ColumnDef, ordinal: number, table: string): ColumnModel {
    let facts: TypeFacts | null = null
    let alias: AliasType | undefined
    let userDefined = false
    if (def.type !== null) {
      facts = systemTypeFacts(def.type)
      if (facts === null) {
        userDefined = true
        alias = this.aliases.get(key(def.type.schema ?? 'dbo', def.type.name))
        if (alias !== undefined) facts = systemTypeFacts(alias.base)
        if (facts === null) {
          this.note(def.line, `type ${display(def.type)} of column ${table}.${def.name} is not defined in this script; its base type is unknown`)
        }
      }
    } else {
      this.note(def.line, `the type of computed column ${table}.${def.name} is not in the script (read as "unknown")`)
    }
    const typeName = def.type === null ? 'unknown' : userDefined ? def.type.name : (facts?.typeName ?? def.type.name)
    const baseName = facts?.typeName ?? typeName
    const row: ColumnRow = {
      schema_name: '',
      table_name: table,
      column_id: ordinal,
      column_name: def.name,
      type_name: typeName,
      is_user_defined: userDefined,
      base_type_name: userDefined && facts !== null ? facts.typeName : null,
      max_length: facts?.maxLength ?? 0,
      precision: facts?.precision ?? 0,
      scale: facts?.scale ?? 0,
      is_nullable: def.nullable ?? (def.generatedAlways ? false : (alias?.nullable ?? true)),
      is_identity: def.identity !== null,
      seed_value: def.identity?.seed ?? null,
      increment_value: def.identity?.increment ?? null,
      is_computed: def.computed !== null,
      computed_definition: def.computed?.expression ?? null,
      is_persisted: def.computed?.persisted ?? null,
      is_sparse: def.sparse,
      generated_always_type: def.generatedAlways ? 1 : 0,
      collation_name: def.collation ?? (STRING_TYPES.has(baseName.toLowerCase()) ? this.collation : null),
      code_page: null,
      default_constraint_name: def.default?.name ?? null,
      default_definition: def.default?.expression ?? null,
      comment: null,
    }
    return mapColumn(row)
  }

  private createTable(stmt: Statement & {type: 'createTable'}, line: number): void {
    const schema = stmt.table.schema ?? 'dbo'
    const name = stmt.table.name
    for (const p of stmt.problems) this.note(p.line, p.reason)
    const state: TableState = {
      model: {
        schema,
        name,
        columns: [],
        primaryKey: null,
        uniqueKeys: [],
        indexes: [],
        foreignKeys: [],
        checks: [],
        rowEstimate: 0,
        dataBytes: 0,
        indexBytes: 0,
        collation: null,
        comment: null,
        features: {...emptyFeatures(), memoryOptimized: stmt.memoryOptimized, partitioned: stmt.partitioned},
      },
      defs: [],
      fkState: new Map(),
      history: stmt.systemVersioning === null ? undefined : stmt.systemVersioning.history,
    }
    if (this.tables.has(key(schema, name))) this.note(line, `table ${schema}.${name} is created twice; the later definition is read`)
    this.tables.set(key(schema, name), state)
    for (const def of stmt.columns) this.addColumn(state, def)
    for (const c of stmt.constraints) this.addConstraint(state, c, true)
  }

  private addColumn(state: TableState, def: ColumnDef): void {
    state.defs.push(def)
    state.model.columns.push(this.column(def, state.model.columns.length + 1, state.model.name))
    for (const c of def.constraints) this.addConstraint(state, c, true)
  }

  private addConstraint(state: TableState, c: Constraint, trusted: boolean): void {
    const t = state.model
    switch (c.kind) {
      case 'primary':
      case 'unique':
        t.indexes.push({
          // An unnamed key gets a system name (PK__Table__hash) the script cannot know; this stands in for it.
          name: c.name ?? `${c.kind === 'primary' ? 'PK' : 'UQ'}__${t.name}`,
          columns: c.columns.map((k) => ({name: k.name, descending: k.descending, prefixLength: null})),
          unique: true,
          primary: c.kind === 'primary',
          kind: indexKindOf(c.indexKind),
          included: [],
          filter: null,
        })
        if (c.kind === 'primary') {
          // Primary key columns are NOT NULL whatever the column definition said.
          for (const k of c.columns) {
            const col = t.columns.find((x) => x.name.toLowerCase() === k.name.toLowerCase())
            if (col) col.nullable = false
          }
        }
        return
      case 'index':
        t.indexes.push(indexOf(c))
        return
      case 'foreign': {
        const name = c.name ?? `FK__${t.name}__${c.columns.join('_')}`
        t.foreignKeys.push({
          name,
          columns: c.columns,
          referencedSchema: c.references.schema ?? 'dbo',
          referencedTable: c.references.name,
          referencedColumns: c.referencedColumns,
          onUpdate: c.onUpdate,
          onDelete: c.onDelete,
          enabled: trusted,
        })
        state.fkState.set(name.toLowerCase(), {disabled: false, trusted})
        return
      }
      case 'check':
        t.checks.push({name: c.name ?? `CK__${t.name}`, expression: c.expression})
        return
      case 'default': {
        const col = t.columns.find((x) => x.name.toLowerCase() === c.column.toLowerCase())
        if (col === undefined) return this.note(c.line, `DEFAULT for column ${c.column}, which ${t.schema}.${t.name} does not have`)
        col.default = c.expression
        return
      }
    }
  }

  private alterTable(stmt: Statement & {type: 'alterTable'}, line: number, start: number): void {
    for (const p of stmt.problems) this.note(p.line, p.reason)
    const state = this.table(stmt.table)
    if (state === undefined) return this.note(line, `ALTER TABLE of ${display(stmt.table)}, which is not a table created in this script`, start)
    for (const a of stmt.actions) {
      switch (a.kind) {
        case 'addConstraint':
          this.addConstraint(state, a.constraint, a.trusted)
          break
        case 'addColumn':
          this.addColumn(state, a.column)
          break
        case 'checkConstraint':
          for (const [name, fk] of state.fkState) {
            if (a.names !== 'all' && !a.names.some((n) => n.toLowerCase() === name)) continue
            fk.disabled = !a.enable
            // CHECK CONSTRAINT re-enables without validating: only WITH CHECK CHECK makes the key trusted again.
            if (a.trusted) fk.trusted = true
          }
          break
        case 'changeTracking':
          state.model.features.changeTracking = a.enable
          break
        case 'trigger':
          for (const tr of this.triggers) {
            if (tr.table.toLowerCase() !== state.model.name.toLowerCase() || tr.schema.toLowerCase() !== state.model.schema.toLowerCase()) continue
            if (a.names === 'all' || a.names.some((n) => n.toLowerCase() === tr.name.toLowerCase())) tr.enabled = a.enable
          }
          break
        case 'systemVersioning':
          state.history = a.history
          break
        case 'ignored':
          break
      }
    }
  }

  private module(stmt: Statement & {type: 'module'}): void {
    const schema = stmt.name.schema ?? 'dbo'
    if (stmt.kind === 'view') this.views.push({schema, name: stmt.name.name, definition: stmt.definition})
    else if (stmt.kind === 'trigger' && stmt.trigger !== null) {
      const events = [...new Set(stmt.trigger.events)].sort((a, b) => EVENT_ORDER.indexOf(a) - EVENT_ORDER.indexOf(b))
      this.triggers.push({schema: stmt.trigger.table.schema ?? schema, name: stmt.name.name, table: stmt.trigger.table.name, timing: stmt.trigger.timing, events, enabled: true})
    } else if (stmt.kind === 'procedure' || stmt.kind === 'function') {
      this.routines.push({schema, name: stmt.name.name, kind: stmt.kind, definition: stmt.definition})
    }
  }

  private exec(stmt: Statement & {type: 'exec'}, line: number, start: number): void {
    const proc = stmt.procedure.name.toLowerCase()
    const arg = (name: string, position: number): string | null => stmt.args.get(name) ?? stmt.positional[position] ?? null
    if (proc === 'sp_cdc_enable_db') {
      this.cdcEnabled = true
      return
    }
    if (proc === 'sp_cdc_enable_table') {
      const schema = arg('source_schema', 0) ?? 'dbo'
      const name = arg('source_name', 1)
      const state = name === null ? undefined : this.table({schema, name})
      if (name === null || state === undefined) return this.note(line, `CDC enabled for ${schema}.${name ?? '?'}, which is not a table created in this script`, start)
      state.model.features.cdcCaptureInstances.push(stmt.args.get('capture_instance') ?? `${schema}_${name}`)
      return
    }
    if (proc === 'sp_addextendedproperty') {
      if (arg('name', 0) !== 'MS_Description') return
      const value = arg('value', 1)
      const level1 = arg('level1type', 4)?.toUpperCase()
      const tableName = arg('level1name', 5)
      if (level1 !== 'TABLE' || tableName === null) return
      const state = this.table({schema: arg('level0name', 3) ?? 'dbo', name: tableName})
      if (state === undefined) return this.note(line, `description of ${tableName}, which is not a table created in this script`, start)
      const level2 = arg('level2type', 6)?.toUpperCase()
      const columnName = arg('level2name', 7)
      if (level2 === undefined) state.model.comment = value
      else if (level2 === 'COLUMN') {
        const col = state.model.columns.find((c) => c.name.toLowerCase() === columnName?.toLowerCase())
        if (col) col.comment = value
      }
      return
    }
    if (SECURITY_PROCEDURES.has(proc)) return this.note(line, SECURITY_REASON, start)
    if (proc === 'sp_executesql') return this.note(line, 'dynamic SQL (sp_executesql) is not read', start)
    this.note(line, `EXEC ${display(stmt.procedure)} is not read`, start)
  }

  finish(): void {
    for (const state of this.tables.values()) {
      const t = state.model
      // sys.indexes numbers the clustered index 1 and every other index after it.
      t.indexes = [...t.indexes.filter((i) => i.kind === 'clustered'), ...t.indexes.filter((i) => i.kind !== 'clustered')]
      Object.assign(t, keysFromIndexes(t.indexes))
    }
    for (const state of this.tables.values()) {
      const t = state.model
      for (const fk of t.foreignKeys) {
        const s = state.fkState.get(fk.name.toLowerCase())
        if (s) fk.enabled = !s.disabled && s.trusted
        if (fk.referencedColumns.length === 0) {
          // REFERENCES t without columns means t's primary key.
          fk.referencedColumns = this.table({schema: fk.referencedSchema, name: fk.referencedTable})?.model.primaryKey?.columns.map((c) => c.name) ?? []
        }
      }
      if (state.history !== undefined) {
        // Without HISTORY_TABLE the server names it MSSQL_TemporalHistoryFor_<object_id>, which a script cannot know.
        const history = state.history ?? {schema: t.schema, name: `MSSQL_TemporalHistoryFor_${t.name}`}
        t.features.temporal = {historySchema: history.schema ?? 'dbo', historyTable: history.name}
        const h = this.table(history)
        if (h) h.model.features.temporalHistory = true
      }
    }
  }
}

function indexOf(c: Constraint & {kind: 'index'}): IndexModel {
  return {
    name: c.name,
    columns: c.columns.map((k) => ({name: k.name, descending: k.descending, prefixLength: null})),
    unique: c.unique,
    primary: false,
    kind: indexKindOf(c.indexKind),
    included: c.included,
    filter: c.filter,
  }
}

function display(q: {schema: string | null; name: string}): string {
  return q.schema === null ? `[${q.name}]` : `[${q.schema}].[${q.name}]`
}

/** "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6" or "Server version: 16.0.1000" in a comment. */
function versionFromComments(comments: readonly {text: string}[]): string | null {
  for (const c of comments) {
    for (const line of c.text.split('\n')) {
      if (!/sql server|server version/i.test(line) || !/\d+\.\d+\.\d+/.test(line)) continue
      return line.replace(/^[\s\-/*]+|[\s*/]+$/g, '').trim()
    }
  }
  return null
}

function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  return `cannot parse: ${message}`
}

export const readTsqlScript: DdlReader = (script, options): DdlReadResult => {
  const {tokens, comments} = tokenize(script)
  const reader = new ScriptReader(script)
  let statements = 0
  for (const batch of splitBatches(script, tokens)) {
    for (const raw of splitStatements(batch)) {
      statements++
      const start = (raw.tokens[0] as Token).start
      try {
        reader.apply(parseStatement(raw, script), raw.line, start)
      } catch (err) {
        // A parse error names the line where parsing stopped; the statement's first line is the fallback.
        const line = err instanceof ParseError ? Math.max(raw.line, err.line) : raw.line
        reader.note(line, reasonOf(err), line === raw.line ? start : undefined)
      }
    }
  }
  reader.finish()
  const versionRaw = versionFromComments(comments)
  const version = versionRaw === null ? {raw: 'unknown', major: 0, minor: 0, patch: 0} : parseVersion(versionRaw)
  const model: SchemaModel = {
    server: {
      engine: 'sqlserver',
      flavor: 'sqlserver',
      version: versionRaw === null ? version : {...version, raw: versionRaw},
      edition: null,
      database: reader.database ?? options.database ?? reader.createdDatabase ?? '',
      host: '',
      port: 0,
      charset: null,
      collation: reader.collation,
      lowerCaseTableNames: identifierCaseFromCollation(reader.collation),
      changeCapture: {
        kind: 'sqlserver',
        cdcEnabled: reader.cdcEnabled,
        changeTrackingEnabled: reader.changeTracking?.enable ?? false,
        changeTrackingRetention: reader.changeTracking?.enable ? reader.changeTracking.retention : null,
        changeTrackingAutoCleanup: reader.changeTracking?.enable ? reader.changeTracking.autoCleanup : null,
        recoveryModel: reader.recovery ?? 'unknown',
        agentRunning: null,
        cdcRetentionMinutes: null,
      },
    },
    tables: [...reader.tables.values()].map((s) => s.model),
    views: reader.views,
    routines: reader.routines,
    triggers: reader.triggers,
    events: [],
    sequences: reader.sequences,
    introspectedAt: new Date().toISOString(),
  }
  return {model, notAssessed: reader.notAssessed.sort((a, b) => a.line - b.line), statements}
}
