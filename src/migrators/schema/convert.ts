/**
 * Schema conversion: a source SchemaModel -> the target's tables as TableModels in the target's
 * own types, plus the engine-neutral steps that create them (rendered per flavor by
 * engines/mysql/mysql-ddl.ts) and a note for every decision that is not a plain copy. Pure.
 *
 * Steps, in dependency order:
 *   create-database;
 *   create-table per table, parents before children: columns, PRIMARY KEY, UNIQUE keys, CHECKs,
 *     and the one secondary index MySQL insists on at creation (the key an AUTO_INCREMENT column
 *     must lead). Unique keys belong to the table because they are the row identity replicate and
 *     verify may rely on;
 *   create-index per secondary index: separate so that a bulk load can run before them;
 *   add-foreign-key last, when every referenced table exists (and after a load, when wanted).
 * Table names follow convert-names.ts (dbo.t -> t, other.t -> other_t).
 */
import {tableMatcher} from '../../config/tables.js'
import type {ColumnModel, ForeignKeyModel, IndexModel, KeyColumn, MysqlFlavor, SchemaModel, ServerVersion, TableModel} from '../../engines/model.js'
import {emptyFeatures} from '../../engines/model.js'
import {type AddNote, atLeast, convertColumn, LOB_TYPES} from './convert-columns.js'
import {exprTypeOfSqlServerType, type ExprType, translateTsql} from './convert-expressions.js'
import {homeSchema, NameScope, planTableNames, shortenIdentifier, tableKey} from './convert-names.js'
import type {ConversionNote, ConversionResult, SchemaStep, TableNameMapping, TargetSpec} from './steps.js'
import {mapCollation} from './type-mapping.js'

export {planTableNames} from './convert-names.js'

const DEFAULT_COLLATION: Record<MysqlFlavor, string> = {
  tidb: 'utf8mb4_bin',
  'aurora-mysql': 'utf8mb4_0900_ai_ci',
  mysql: 'utf8mb4_0900_ai_ci',
  mariadb: 'utf8mb4_unicode_ci',
}

/** A target with the flavor's usual utf8mb4 default collation, for assess without a live target. */
export function defaultTargetSpec(flavor: MysqlFlavor, database: string, version: ServerVersion | null = null): TargetSpec {
  return {flavor, version, database, charset: 'utf8mb4', collation: DEFAULT_COLLATION[flavor]}
}

/** InnoDB's limit on one index's key (DYNAMIC row format, 16 KB pages). */
const MAX_KEY_BYTES = 3072
/** Characters of a text/blob key part: 255 utf8mb4 characters stay well under the key limit. */
const LOB_PREFIX = 255
const MAX_ROW_BYTES = 65535

function bytesPerChar(charset: string | null): number {
  if (charset === null || charset === 'binary') return 1
  if (charset === 'ascii' || charset === 'latin1') return 1
  return charset === 'utf8mb3' || charset === 'utf8' ? 3 : 4
}

function keyPartBytes(c: ColumnModel, prefix: number | null): number {
  if (['char', 'varchar', 'binary', 'varbinary', 'tinytext', 'text', 'mediumtext', 'longtext', 'tinyblob', 'blob', 'mediumblob', 'longblob'].includes(c.dataType)) {
    return (prefix ?? c.length ?? 0) * bytesPerChar(c.charset)
  }
  return 8
}

function descSupported(target: TargetSpec): boolean {
  switch (target.flavor) {
    case 'tidb':
      return false
    case 'mariadb':
      return atLeast(target.version, 10, 8)
    case 'mysql':
    case 'aurora-mysql':
      return atLeast(target.version, 8)
  }
}

interface TableWork {
  source: TableModel
  name: string
  table: TableModel
  /** Source column name -> target column (names can only change when over 64 characters). */
  columns: Map<string, ColumnModel>
  /** Indexes created after the table. */
  later: IndexModel[]
}

interface Context {
  model: SchemaModel
  target: TargetSpec
  note: AddNote
  names: Map<string, string>
  /** Foreign-key and CHECK names are unique per database on MySQL. */
  constraintNames: NameScope
}

/** Key columns on the target, text/blob parts given a prefix; null when a part cannot be indexed at all. */
function convertKeyColumns(w: TableWork, index: IndexModel, ctx: Context, object: string, unique: boolean): KeyColumn[] | null {
  const desc = descSupported(ctx.target)
  const out: KeyColumn[] = []
  let bytes = 0
  for (const k of index.columns) {
    const col = w.columns.get(k.name)
    if (col === undefined) {
      ctx.note({object, severity: 'needs-change', rule: 'index.expression', mapping: `${index.name} -> (none)`, reason: `Key part ${k.name} is not a column of the table; recreate the index by hand.`})
      return null
    }
    if (col.dataType === 'json' || (col.dataType === 'geometry' && index.kind !== 'spatial')) {
      ctx.note({object, severity: 'needs-change', rule: 'index.unindexable', mapping: `${index.name} -> (none)`, reason: `${col.name} is ${col.columnType}, which a b-tree index cannot hold.`})
      return null
    }
    let prefix = k.prefixLength
    if (prefix === null && LOB_TYPES.has(col.dataType) && index.kind !== 'fulltext' && index.kind !== 'spatial') {
      prefix = LOB_PREFIX
      ctx.note({object, severity: unique ? 'needs-change' : 'info', rule: 'index.prefix', mapping: `${col.name} -> ${col.name}(${LOB_PREFIX})`,
        reason: `${col.columnType} can only be indexed by a prefix${unique ? '; a unique prefix rejects values that differ only after it' : ''}.`})
    }
    if (k.descending && !desc) {
      ctx.note({object, severity: 'info', rule: 'index.desc-ignored', mapping: `${col.name} DESC -> ${col.name}`,
        reason: `${ctx.target.flavor}${ctx.target.version === null ? '' : ` ${ctx.target.version.raw}`} does not store descending keys; the index is scanned backwards instead.`})
    }
    bytes += keyPartBytes(col, prefix)
    out.push({name: col.name, descending: k.descending && desc, prefixLength: prefix})
  }
  if (bytes > MAX_KEY_BYTES && !unique && index.kind !== 'fulltext' && index.kind !== 'spatial') {
    // A plain index only finds rows: a prefix of the widest string parts keeps it usable (and
    // creatable: strict mode refuses the full-length key), SQL Server's 1700-byte keys being
    // up to 4 times wider in utf8mb4.
    const before = bytes
    const parts = out
      .map((k, i) => ({k, i, col: w.columns.get(index.columns[i]?.name ?? '') as ColumnModel}))
      .filter(({col}) => ['char', 'varchar', 'binary', 'varbinary'].includes(col.dataType))
      .sort((a, b) => keyPartBytes(b.col, b.k.prefixLength) - keyPartBytes(a.col, a.k.prefixLength))
    for (const {k, i, col} of parts) {
      if (bytes <= MAX_KEY_BYTES) break
      const width = bytesPerChar(col.charset)
      const partBytes = keyPartBytes(col, k.prefixLength)
      const prefix = Math.max(1, Math.floor((partBytes - (bytes - MAX_KEY_BYTES)) / width))
      bytes -= partBytes - prefix * width
      out[i] = {...k, prefixLength: prefix}
    }
    ctx.note({object, severity: 'info', rule: 'index.prefix-too-long', mapping: `${index.name}: ${before} bytes -> ${columnsLabel(out)}`,
      reason: `An InnoDB key holds at most ${MAX_KEY_BYTES} bytes (4 per utf8mb4 character); the widest string columns are indexed by a prefix, which still finds the rows.`})
  }
  if (bytes > MAX_KEY_BYTES) {
    ctx.note({object, severity: 'needs-change', rule: 'index.too-long', mapping: `${index.name}: ${bytes} bytes`,
      reason: `An InnoDB key holds at most ${MAX_KEY_BYTES} bytes; shorten the columns or index a prefix.`})
  }
  return out
}

function columnsLabel(columns: KeyColumn[]): string {
  return `(${columns.map((k) => (k.prefixLength === null ? k.name : `${k.name}(${k.prefixLength})`)).join(', ')})`
}

function convertIndexes(w: TableWork, ctx: Context): void {
  const isSqlServer = ctx.model.server.engine === 'sqlserver'
  const scope = new NameScope(['PRIMARY'])
  const indexes: IndexModel[] = []
  for (const index of w.source.indexes) {
    const object = `${w.name}.${index.name}`
    const kind = index.kind
    if (isSqlServer && ['xml', 'spatial', 'columnstore'].includes(kind)) {
      ctx.note({object, severity: kind === 'columnstore' ? 'info' : 'needs-change', rule: `index.${kind}`, mapping: `${kind} index -> (none)`,
        reason: kind === 'columnstore' ? 'An analytic index; on TiDB a TiFlash replica serves the same purpose.' : `The MySQL family has no ${kind} indexes of this kind; queries that relied on it must change.`})
      continue
    }
    if ((kind === 'fulltext' || kind === 'spatial') && ctx.target.flavor === 'tidb') {
      ctx.note({object, severity: 'needs-change', rule: `index.${kind}-tidb`, mapping: `${kind} index -> (none)`, reason: `TiDB (self-managed) has no ${kind} indexes.`})
      continue
    }
    if (index.filter !== null) {
      ctx.note({object, severity: 'needs-change', rule: 'index.filtered', mapping: `WHERE ${index.filter} -> (none)`,
        reason: `MySQL has no filtered indexes; the index is not created${index.unique ? ', and the uniqueness it enforced for the filtered rows is lost' : ''}. Index all rows or enforce it in the application.`})
      continue
    }
    if (index.included.length > 0) {
      ctx.note({object, severity: 'info', rule: 'index.include', mapping: `INCLUDE (${index.included.join(', ')}) -> (none)`,
        reason: 'MySQL has no included columns; the index keeps its key columns, so queries that were covered by it read the rows too.'})
    }
    const unique = index.primary || index.unique
    const columns = convertKeyColumns(w, index, ctx, object, unique)
    if (columns === null) continue
    if (index.primary && isSqlServer && kind === 'nonclustered') {
      ctx.note({object, severity: 'info', rule: 'index.pk-nonclustered', mapping: 'NONCLUSTERED PRIMARY KEY -> clustered', reason: 'InnoDB and TiDB store rows in primary-key order; the source clustered another index.'})
    }
    const name = index.primary ? 'PRIMARY' : scope.claim(index.name)
    if (!index.primary && name !== index.name) {
      ctx.note({object, severity: 'info', rule: 'name.index-renamed', mapping: `${index.name} -> ${name}`, reason: 'Index names are at most 64 characters and unique per table.'})
    }
    const converted: IndexModel = {name, columns, unique, primary: index.primary, kind: kind === 'fulltext' || kind === 'spatial' ? kind : 'btree', included: [], filter: null}
    indexes.push(converted)
    if (index.primary) w.table.primaryKey = {name, columns}
    else if (index.unique) w.table.uniqueKeys.push({name, columns})
    else w.later.push(converted)
  }
  w.table.indexes = indexes
  if (isSqlServer) {
    const nullable = w.table.uniqueKeys.filter((k) => k.columns.some((c) => w.table.columns.find((x) => x.name === c.name)?.nullable === true))
    for (const k of nullable) {
      ctx.note({object: `${w.name}.${k.name}`, severity: 'info', rule: 'unique.nullable', mapping: 'UNIQUE with NULLs',
        reason: 'SQL Server lets a unique key hold one NULL; MySQL lets it hold any number.'})
    }
  }
  ensureAutoIncrementKey(w, ctx, scope)
}

/** MySQL refuses an AUTO_INCREMENT column that does not lead some key; SQL Server needs none for IDENTITY. */
function ensureAutoIncrementKey(w: TableWork, ctx: Context, scope: NameScope): void {
  const auto = w.table.columns.find((c) => c.identity !== null)
  if (auto === undefined) return
  const leads = w.table.indexes.some((i) => i.columns[0]?.name === auto.name)
  if (leads) {
    // The leading index must exist at CREATE TABLE time: move it out of the later indexes.
    const later = w.later.findIndex((i) => i.columns[0]?.name === auto.name)
    if (later >= 0 && !w.table.indexes.some((i) => (i.primary || i.unique) && i.columns[0]?.name === auto.name)) w.later.splice(later, 1)
    return
  }
  const index: IndexModel = {name: scope.claim(`ix_${auto.name}`), columns: [{name: auto.name, descending: false, prefixLength: null}], unique: false, primary: false, kind: 'btree', included: [], filter: null}
  w.table.indexes.push(index)
  ctx.note({object: `${w.name}.${index.name}`, severity: 'info', rule: 'identity.key-added', mapping: `(none) -> KEY ${index.name} (${auto.name})`,
    reason: 'MySQL requires an AUTO_INCREMENT column to lead an index; the source had none on it.'})
}

function convertChecks(w: TableWork, ctx: Context): void {
  const {flavor, version} = ctx.target
  const types = new Map(w.source.columns.map((c) => [c.name.toLowerCase(), exprTypeOfSqlServerType(c.dataType)] as const))
  for (const check of w.source.checks) {
    const object = `${w.name}.${check.name}`
    let expression = check.expression
    if (ctx.model.server.engine === 'sqlserver') {
      const t = translateTsql(check.expression, (n): ExprType | null => types.get(n.toLowerCase()) ?? null)
      if (!t.ok) {
        ctx.note({object, severity: 'needs-change', rule: 'check.untranslated', mapping: `CHECK ${check.expression} -> (none)`,
          reason: `The condition cannot be translated (${t.reason}); the target will not enforce it. Rewrite it by hand or enforce it in the application.`})
        continue
      }
      expression = t.sql
    }
    const name = ctx.constraintNames.claim(check.name, `${w.name}_${check.name}`)
    if (name !== check.name) ctx.note({object, severity: 'info', rule: 'name.constraint-renamed', mapping: `${check.name} -> ${name}`, reason: 'CHECK names are at most 64 characters and unique per database.'})
    w.table.checks.push({name, expression})
  }
  if (w.table.checks.length === 0) return
  const ignored =
    flavor === 'tidb' ? 'TiDB parses CHECK constraints and ignores them unless tidb_enable_check_constraint = ON (v7.2+).'
    : flavor === 'mariadb' ? (atLeast(version, 10, 2, 1) ? null : 'MariaDB before 10.2.1 ignores CHECK constraints.')
    : atLeast(version, 8, 0, 16) ? null : 'MySQL before 8.0.16 parses CHECK constraints and ignores them.'
  if (ignored !== null) {
    ctx.note({object: w.name, severity: 'needs-change', rule: 'check.not-enforced', mapping: `${w.table.checks.length} CHECK -> not enforced`, reason: `${ignored} The application must keep these rules.`})
  }
}

function convertForeignKeys(w: TableWork, works: Map<string, TableWork>, ctx: Context): void {
  const {flavor, version} = ctx.target
  for (const fk of w.source.foreignKeys) {
    const object = `${w.name}.${fk.name}`
    const parent = works.get(tableKey(fk.referencedSchema, fk.referencedTable))
    if (parent === undefined) {
      ctx.note({object, severity: 'needs-change', rule: 'fk.referenced-table-missing', mapping: `-> ${fk.referencedSchema}.${fk.referencedTable} (not converted)`,
        reason: 'The referenced table is not among the converted tables (tables.include/exclude); the key is not created.'})
      continue
    }
    if (flavor === 'tidb' && version !== null && !atLeast(version, 6, 6)) {
      ctx.note({object, severity: 'needs-change', rule: 'fk.tidb-unsupported', mapping: 'FOREIGN KEY -> (none)', reason: `TiDB ${version.raw} parses foreign keys but does not enforce them (v6.6+); the application must keep the references valid.`})
      continue
    }
    const columns = fk.columns.map((c) => w.columns.get(c))
    const refColumns = fk.referencedColumns.map((c) => parent.columns.get(c))
    if (columns.some((c) => c === undefined) || refColumns.some((c) => c === undefined)) {
      ctx.note({object, severity: 'needs-change', rule: 'fk.columns-missing', mapping: 'FOREIGN KEY -> (none)', reason: 'A column of the key is not in the converted tables.'})
      continue
    }
    if (flavor === 'tidb' && columns.some((c) => c !== undefined && LOB_TYPES.has(c.dataType))) {
      ctx.note({object, severity: 'needs-change', rule: 'fk.tidb-lob', mapping: 'FOREIGN KEY -> (none)', reason: 'TiDB allows no foreign key on BLOB/TEXT columns.'})
      continue
    }
    if (flavor === 'tidb') {
      ctx.note({object, severity: 'info', rule: 'fk.tidb', mapping: 'FOREIGN KEY -> FOREIGN KEY',
        reason: version === null ? 'TiDB enforces foreign keys only from v6.6 (GA in v8.5); check the target version.' : atLeast(version, 8, 5) ? 'Enforced; each write checks the parent row (a cost on hot tables).' : 'Enforced, but experimental before v8.5.'})
    }
    const action = (a: string, which: string): string => {
      if (a !== 'SET DEFAULT') return a
      ctx.note({object, severity: 'needs-change', rule: 'fk.set-default', mapping: `ON ${which} SET DEFAULT -> NO ACTION`,
        reason: 'InnoDB rejects SET DEFAULT; the key refuses the parent change instead. Move the action to the application.'})
      return 'NO ACTION'
    }
    if (!fk.enabled) {
      ctx.note({object, severity: 'info', rule: 'fk.not-trusted', mapping: 'NOCHECK -> enforced', reason: 'The key was disabled or not trusted on the source: existing rows may violate it, and the target enforces it for new writes.'})
    }
    const name = ctx.constraintNames.claim(fk.name, `${w.name}_${fk.name}`)
    if (name !== fk.name) ctx.note({object, severity: 'info', rule: 'name.constraint-renamed', mapping: `${fk.name} -> ${name}`, reason: 'Foreign-key names are at most 64 characters and unique per database.'})
    const converted: ForeignKeyModel = {
      name,
      columns: columns.map((c) => (c as ColumnModel).name),
      referencedSchema: ctx.target.database,
      referencedTable: parent.name,
      referencedColumns: refColumns.map((c) => (c as ColumnModel).name),
      onUpdate: action(fk.onUpdate, 'UPDATE'),
      onDelete: action(fk.onDelete, 'DELETE'),
      enabled: true,
    }
    w.table.foreignKeys.push(converted)
  }
}

function tableNotes(w: TableWork, ctx: Context): void {
  const t = w.source
  const f = t.features
  const object = w.name
  if (f.memoryOptimized) ctx.note({object, severity: 'info', rule: 'table.memory-optimized', mapping: 'MEMORY_OPTIMIZED -> InnoDB', reason: 'An ordinary disk-based table; natively compiled procedures that used it are not converted.'})
  if (f.temporal !== null) {
    ctx.note({object, severity: 'needs-change', rule: 'table.temporal', mapping: `SYSTEM_VERSIONING -> ordinary table (history: ${f.temporal.historySchema}.${f.temporal.historyTable})`,
      reason: 'The MySQL family has no system-versioned tables: the history table is copied as an ordinary table, and after the cutover nothing records history; FOR SYSTEM_TIME queries must change.'})
  }
  if (f.temporalHistory) ctx.note({object, severity: 'info', rule: 'table.temporal-history', mapping: 'history table -> ordinary table', reason: 'Copied as it is; nothing writes it after the cutover.'})
  if (f.partitioned) ctx.note({object, severity: 'info', rule: 'table.partitioned', mapping: 'partitioned -> not partitioned', reason: 'Partitioning is not converted; add it on the target by hand if needed.'})
  for (const trigger of ctx.model.triggers.filter((tr) => tr.table === t.name && tr.schema === t.schema)) {
    ctx.note({object, severity: 'needs-change', rule: 'table.trigger', mapping: `TRIGGER ${trigger.name} -> (none)`, reason: 'Triggers are not converted; their logic must move to the application (TiDB has no triggers at all).'})
  }
  const pk = w.table.primaryKey
  if (pk === null) {
    const byName = new Map(w.table.columns.map((c) => [c.name, c]))
    const key = w.table.uniqueKeys.find((k) => k.columns.every((c) => byName.get(c.name)?.nullable === false && c.prefixLength === null))
    if (key === undefined) {
      ctx.note({object, severity: 'blocker', rule: 'table.no-primary-key', mapping: 'no primary key', reason: 'Without a primary key or a unique NOT NULL key, replicate cannot apply updates and deletes to exactly one row and verify cannot chunk the table. The table is still created; add a key on the source first.'})
    } else {
      ctx.note({object, severity: 'info', rule: 'table.unique-key-identity', mapping: `no primary key -> rows identified by ${key.name}`, reason: 'replicate and verify use this unique NOT NULL key.'})
    }
  }
}

/** Reduces row width when SQL Server's row-overflow storage allowed what InnoDB's 65535-byte row limit does not. */
function fitRowSize(w: TableWork, ctx: Context): void {
  const width = (c: ColumnModel): number =>
    c.dataType === 'varchar' || c.dataType === 'varbinary' ? (c.length ?? 0) * bytesPerChar(c.charset) + 2
    : c.dataType === 'char' || c.dataType === 'binary' ? (c.length ?? 0) * bytesPerChar(c.charset)
    : LOB_TYPES.has(c.dataType) ? 12 : 8
  let total = w.table.columns.reduce((s, c) => s + width(c), 0)
  const candidates = w.table.columns.filter((c) => c.dataType === 'varchar' || c.dataType === 'varbinary').sort((a, b) => width(b) - width(a))
  for (const c of candidates) {
    if (total <= MAX_ROW_BYTES) return
    const before = c.columnType
    const text = c.dataType === 'varchar'
    total -= width(c) - 12
    c.columnType = text ? 'text' : 'blob'
    c.dataType = c.columnType
    c.length = 65535
    ctx.note({object: `${w.name}.${c.name}`, severity: 'needs-change', rule: 'row-size.to-lob', mapping: `${before} -> ${c.columnType}`,
      reason: `The table's columns exceed InnoDB's ${MAX_ROW_BYTES}-byte row limit; the widest ${text ? 'varchar' : 'varbinary'} columns move off-row (${c.columnType}: no full-length index, a default needs MySQL 8.0.13+).`})
  }
}

/** Parents before children (tables in source order otherwise; a cycle keeps source order). */
function dependencyOrder(works: TableWork[]): TableWork[] {
  const byName = new Map(works.map((w) => [w.name, w]))
  const done = new Set<string>()
  const visiting = new Set<string>()
  const out: TableWork[] = []
  const visit = (w: TableWork): void => {
    if (done.has(w.name) || visiting.has(w.name)) return
    visiting.add(w.name)
    for (const fk of w.table.foreignKeys) {
      const parent = byName.get(fk.referencedTable)
      if (parent !== undefined && parent !== w) visit(parent)
    }
    visiting.delete(w.name)
    done.add(w.name)
    out.push(w)
  }
  for (const w of works) visit(w)
  return out
}

export interface ConvertOptions {
  tables?: {include: string[]; exclude: string[]}
}

export function convertSchema(source: SchemaModel, target: TargetSpec, options: ConvertOptions = {}): ConversionResult {
  const engine = source.server.engine
  const notes: ConversionNote[] = []
  const note: AddNote = (n) => notes.push(n)
  const filter = options.tables
  const match = filter === undefined ? null : tableMatcher({include: filter.include.length === 0 ? ['*'] : filter.include, exclude: filter.exclude})
  const sourceTables = source.tables.filter((t) => match === null || match(t.schema, t.name))
  const names = planTableNames(sourceTables, homeSchema(engine, source.server.database))
  const ctx: Context = {model: source, target, note, names, constraintNames: new NameScope()}
  const sourceDefaultCollation = engine === 'sqlserver' ? source.server.collation : null
  const collationNote = (object: string, from: string): void => {
    const m = mapCollation(from, engine, target)
    if (m.severity !== 'none') note({object, severity: m.severity, rule: m.rule, mapping: `${from} -> ${m.collation}`, reason: m.caveat})
  }
  if (source.server.collation !== null) collationNote(target.database, source.server.collation)

  const works = new Map<string, TableWork>()
  for (const t of sourceTables) {
    const name = names.get(tableKey(t.schema, t.name)) ?? t.name
    if (shortenIdentifier(t.name) !== t.name) {
      note({object: name, severity: 'blocker', rule: 'name.too-long', mapping: `${t.schema}.${t.name} -> ${name}`, reason: 'Table names are limited to 64 characters; the application must use the new name.'})
    }
    // SQL Server tables have no collation of their own: the database's is reported once, below.
    const tableSourceCollation = t.collation ?? source.server.collation
    const tableCollation = tableSourceCollation === null ? target.collation : mapCollation(tableSourceCollation, engine, target).collation
    if (t.collation !== null && t.collation !== source.server.collation) collationNote(name, t.collation)
    const columns = new Map<string, ColumnModel>()
    for (const c of t.columns) {
      const converted = convertColumn(c, {source: engine, target, sourceTable: t, tableName: name, sourceDefaultCollation, tableCollation, note})
      columns.set(c.name, converted)
      // A column's collation is a finding only where it differs from its table's.
      if (c.collation !== null && c.collation !== tableSourceCollation && converted.collation !== null) collationNote(`${name}.${converted.name}`, c.collation)
    }
    const table: TableModel = {
      schema: target.database,
      name,
      columns: [...columns.values()],
      primaryKey: null,
      uniqueKeys: [],
      indexes: [],
      foreignKeys: [],
      checks: [],
      rowEstimate: t.rowEstimate,
      dataBytes: t.dataBytes,
      indexBytes: t.indexBytes,
      collation: tableCollation,
      comment: t.comment,
      features: {...emptyFeatures(), storageEngine: 'InnoDB'},
    }
    works.set(tableKey(t.schema, t.name), {source: t, name, table, columns, later: []})
  }
  for (const w of works.values()) {
    if (engine === 'sqlserver') fitRowSize(w, ctx)
    convertIndexes(w, ctx)
    convertChecks(w, ctx)
  }
  for (const w of works.values()) {
    convertForeignKeys(w, works, ctx)
    tableNotes(w, ctx)
  }

  const ordered = dependencyOrder([...works.values()])
  const steps: SchemaStep[] = [{kind: 'create-database', database: target.database, charset: target.charset, collation: target.collation}]
  for (const w of ordered) {
    const later = new Set(w.later)
    steps.push({kind: 'create-table', table: {...w.table, indexes: w.table.indexes.filter((i) => !later.has(i)), foreignKeys: []}})
  }
  for (const w of ordered) for (const index of w.later) steps.push({kind: 'create-index', table: w.name, index})
  for (const w of ordered) for (const foreignKey of w.table.foreignKeys) steps.push({kind: 'add-foreign-key', table: w.name, foreignKey})
  const tableNames: TableNameMapping[] = ordered.map((w) => ({sourceSchema: w.source.schema, sourceTable: w.source.name, targetTable: w.name}))
  return {target, steps, tables: ordered.map((w) => w.table), notes, tableNames}
}
