/**
 * One source column -> one target column: type (through the mapping table), character set and
 * collation, default, generated expression, AUTO_INCREMENT / AUTO_RANDOM. Every decision that is
 * not a plain copy leaves a note; a default or expression that cannot be translated is dropped
 * with a note, never passed through for the target to reject or, worse, to accept with another
 * meaning.
 */
import type {ColumnModel, EngineName, ServerVersion, TableModel} from '../../engines/model.js'
import {shortenIdentifier} from './convert-names.js'
import {exprTypeOfSqlServerType, type ExprType, parseTsql, translateTsql} from './convert-expressions.js'
import type {ConversionNote, TargetSpec} from './steps.js'
import {mapCollation, mapColumnType} from './type-mapping.js'

export type AddNote = (note: ConversionNote) => void

export const TIDB_AUTO_RANDOM_SHARD_BITS = 5

const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])
export const LOB_TYPES = new Set(['tinytext', 'text', 'mediumtext', 'longtext', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'json', 'geometry'])
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'])
const INTEGER_PRECISION: Record<string, number> = {tinyint: 3, smallint: 5, mediumint: 7, int: 10, integer: 10, bigint: 19}
const LOB_LENGTH: Record<string, number> = {
  tinytext: 255, text: 65535, mediumtext: 16777215, longtext: 4294967295,
  tinyblob: 255, blob: 65535, mediumblob: 16777215, longblob: 4294967295,
}

export function atLeast(v: ServerVersion | null, major: number, minor = 0, patch = 0): boolean {
  if (v === null) return true
  if (v.major !== major) return v.major > major
  if (v.minor !== minor) return v.minor > minor
  return v.patch >= patch
}

/** The parts of a rendered MySQL type that the model keeps apart, as information_schema reports them. */
export function describeType(type: string): Pick<ColumnModel, 'dataType' | 'length' | 'precision' | 'scale' | 'unsigned'> {
  const m = /^(\w+)(?:\(([^)]*)\))?/.exec(type)
  const dataType = (m?.[1] ?? type).toLowerCase()
  const args = (m?.[2] ?? '').split(',').map((a) => Number(a.trim()))
  const unsigned = /\bunsigned\b/i.test(type)
  const first = m?.[2] === undefined ? null : (args[0] ?? null)
  const base = {dataType, length: null, precision: null, scale: null, unsigned}
  if (['char', 'varchar', 'binary', 'varbinary'].includes(dataType)) return {...base, length: first}
  if (dataType in LOB_LENGTH) return {...base, length: LOB_LENGTH[dataType] ?? null}
  if (dataType === 'decimal') return {...base, precision: first ?? 10, scale: args[1] ?? 0}
  if (INTEGER_TYPES.has(dataType)) {
    const p = INTEGER_PRECISION[dataType] ?? 10
    return {...base, precision: dataType === 'bigint' && unsigned ? 20 : p, scale: 0}
  }
  if (dataType === 'float') return {...base, precision: 12}
  if (dataType === 'double') return {...base, precision: 22}
  if (dataType === 'bit') return {...base, precision: first ?? 1}
  if (['datetime', 'timestamp', 'time'].includes(dataType)) return {...base, scale: first ?? 0}
  return base
}

export interface ColumnContext {
  source: EngineName
  target: TargetSpec
  sourceTable: TableModel
  /** The target table's name, for note objects. */
  tableName: string
  /** The database's collation on the source (SQL Server columns without one take it). */
  sourceDefaultCollation: string | null
  /** The target table's default collation: a column that has it is still stated explicitly. */
  tableCollation: string
  note: AddNote
}

const CURRENT_TIME_FUNCTIONS = new Set(['GETDATE', 'SYSDATETIME', 'SYSUTCDATETIME', 'GETUTCDATE', 'SYSDATETIMEOFFSET', 'CURRENT_TIMESTAMP'])
const UUID_FUNCTIONS = new Set(['NEWID', 'NEWSEQUENTIALID'])

function currentTimestamp(scale: number | null): string {
  return scale !== null && scale > 0 ? `CURRENT_TIMESTAMP(${scale})` : 'CURRENT_TIMESTAMP'
}

/** SQL Server default definition -> the model's default form (see normalizeDefault in mysql-introspector.ts). */
function translateSqlServerDefault(raw: string, col: ColumnModel, ctx: ColumnContext): string | null {
  const object = `${ctx.tableName}.${col.name}`
  const {flavor, version} = ctx.target
  const drop = (rule: string, reason: string): null => {
    ctx.note({object, severity: 'needs-change', rule, mapping: `DEFAULT ${raw} -> (none)`, reason})
    return null
  }
  let node
  try {
    node = parseTsql(raw)
  } catch {
    return drop('default.untranslated', 'This default expression has no MySQL translation; inserts that omit the column now get NULL or fail. Set the value in the application or add a default by hand.')
  }
  if (node.kind === 'null') return null
  if (node.kind === 'literal') {
    if (node.type === 'other' && !['binary', 'varbinary'].includes(col.dataType)) return drop('default.untranslated', 'A binary literal default on a non-binary column.')
    // A number default on a string column is the string of its digits on SQL Server too.
    return node.type !== 'string' && STRING_TYPES.has(col.dataType) ? `'${node.sql}'` : node.sql
  }
  const fn = node.kind === 'call' && node.args.length === 0 ? node.name : node.kind === 'column' ? node.name.toUpperCase() : null
  if (fn !== null && CURRENT_TIME_FUNCTIONS.has(fn)) {
    if (col.dataType !== 'datetime' && col.dataType !== 'timestamp') {
      return drop('default.untranslated', `${fn}() on a ${col.columnType} column: MySQL allows CURRENT_TIMESTAMP only on datetime and timestamp.`)
    }
    ctx.note({
      object, severity: 'info', rule: 'default.current-timestamp', mapping: `DEFAULT ${raw} -> ${currentTimestamp(col.scale)}`,
      reason: 'CURRENT_TIMESTAMP follows the session time_zone. SYSUTCDATETIME()/GETUTCDATE() were UTC and GETDATE()/SYSDATETIME() the server\'s local time: run the target sessions in the matching time_zone.',
    })
    return currentTimestamp(col.scale)
  }
  if (fn !== null && UUID_FUNCTIONS.has(fn)) {
    if (flavor === 'tidb') return drop('default.uuid-tidb', 'TiDB before v8.0 has no expression default UUID(); the application must generate the id (a UUID v4, or v7 for index locality).')
    const supported = flavor === 'mariadb' ? atLeast(version, 10, 2, 0) : atLeast(version, 8, 0, 13)
    if (!supported) return drop('default.uuid-unsupported', 'Expression defaults need MySQL 8.0.13+ or MariaDB 10.2+; the application must generate the id.')
    ctx.note({
      object, severity: 'info', rule: 'default.uuid', mapping: `DEFAULT ${raw} -> (uuid())`,
      reason: 'UUID() makes a lower-case version-1 UUID; NEWSEQUENTIALID()\'s ever-increasing order is not kept.',
    })
    return 'uuid()'
  }
  return drop('default.untranslated', `The default ${raw} has no MySQL translation; inserts that omit the column now get NULL or fail. Set the value in the application or add a default by hand.`)
}

const LITERAL_DEFAULT = /^('.*'|-?\d+(\.\d+)?(e[+-]?\d+)?|b'[01]*'|0x[0-9a-f]*|CURRENT_TIMESTAMP(\(\d\))?)$/is

function convertDefault(source: ColumnModel, col: ColumnModel, ctx: ColumnContext): string | null {
  if (source.default === null || col.generated !== null) return null
  const value = ctx.source === 'sqlserver' ? translateSqlServerDefault(source.default, col, ctx) : source.default
  if (value === null) return null
  const object = `${ctx.tableName}.${col.name}`
  if (LOB_TYPES.has(col.dataType)) {
    const allowed = ctx.target.flavor === 'mariadb' ? atLeast(ctx.target.version, 10, 2, 1) : ctx.target.flavor !== 'tidb' && atLeast(ctx.target.version, 8, 0, 13)
    if (!allowed) {
      ctx.note({object, severity: 'needs-change', rule: 'default.lob', mapping: `DEFAULT ${value} -> (none)`,
        reason: `${ctx.target.flavor} does not allow a default on a ${col.columnType} column here; the application must write the value.`})
      return null
    }
  }
  if (ctx.target.flavor === 'tidb' && !LITERAL_DEFAULT.test(value)) {
    ctx.note({object, severity: 'needs-change', rule: 'default.expression-tidb', mapping: `DEFAULT ${value} -> (none)`,
      reason: 'TiDB accepts only a few expression defaults; the application must write the value.'})
    return null
  }
  return value
}

function convertGenerated(source: ColumnModel, col: ColumnModel, ctx: ColumnContext): ColumnModel['generated'] {
  const g = source.generated
  if (g === null) return null
  if (ctx.source !== 'sqlserver') return {...g}
  const types = new Map(ctx.sourceTable.columns.map((c) => [c.name.toLowerCase(), exprTypeOfSqlServerType(c.dataType)] as const))
  const t = translateTsql(g.expression, (name): ExprType | null => types.get(name.toLowerCase()) ?? null)
  const object = `${ctx.tableName}.${col.name}`
  if (!t.ok) {
    ctx.note({object, severity: 'blocker', rule: 'computed.untranslated', mapping: `AS ${g.expression} -> ordinary column`,
      reason: `The computed column's expression cannot be translated (${t.reason}); it becomes an ordinary nullable column that keeps the copied values but computes nothing for new rows. Rewrite the expression for MySQL by hand.`})
    return null
  }
  ctx.note({object, severity: 'info', rule: g.stored ? 'computed.stored' : 'computed.virtual', mapping: `AS ${g.expression}${g.stored ? ' PERSISTED' : ''} -> AS (${t.sql}) ${g.stored ? 'STORED' : 'VIRTUAL'}`,
    reason: 'Computed column translated to a generated column; the copier does not write it.'})
  return {expression: t.sql, stored: g.stored}
}

function convertIdentity(source: ColumnModel, col: ColumnModel, ctx: ColumnContext): Pick<ColumnModel, 'identity' | 'autoRandomShardBits'> {
  const id = source.identity
  if (id === null) return {identity: null}
  const object = `${ctx.tableName}.${col.name}`
  if (!INTEGER_TYPES.has(col.dataType)) {
    ctx.note({object, severity: 'blocker', rule: 'identity.non-integer', mapping: `IDENTITY on ${source.columnType} -> (none)`,
      reason: 'AUTO_INCREMENT needs an integer column; new rows get no value. Change the column to bigint or generate ids in the application.'})
    return {identity: null}
  }
  const pk = ctx.sourceTable.primaryKey?.columns ?? []
  const soleKey = pk.length === 1 && pk[0]?.name === source.name
  if (ctx.target.flavor === 'tidb' && col.dataType === 'bigint' && soleKey) {
    ctx.note({object, severity: 'needs-change', rule: 'identity.auto-random', mapping: `${ctx.source === 'sqlserver' ? 'IDENTITY' : 'AUTO_INCREMENT'} -> AUTO_RANDOM(${TIDB_AUTO_RANDOM_SHARD_BITS})`,
      reason: 'Spreads new rows over TiKV regions instead of appending to one hot region. Copied ids keep their values (the copy session needs @@allow_auto_random_explicit_insert = 1); new ids are random, not increasing: nothing may order by id or assume it grows.'})
    return {identity: null, autoRandomShardBits: TIDB_AUTO_RANDOM_SHARD_BITS}
  }
  if (id.increment !== '1') {
    ctx.note({object, severity: 'needs-change', rule: 'identity.increment', mapping: `IDENTITY(${id.seed},${id.increment}) -> AUTO_INCREMENT`,
      reason: 'The step of AUTO_INCREMENT is the server-wide auto_increment_increment, not a per-column setting: new ids will step by it.'})
  }
  if (ctx.target.flavor === 'tidb') {
    ctx.note({object, severity: 'info', rule: 'identity.tidb-cache', mapping: 'IDENTITY -> AUTO_INCREMENT',
      reason: 'TiDB hands out AUTO_INCREMENT values in batches of 30000 per server: unique, but not increasing across servers (AUTO_ID_CACHE=1 makes them increasing at a cost).'})
  }
  return {identity: {...id}}
}

function convertCharset(source: ColumnModel, targetType: string, imposed: string | undefined, ctx: ColumnContext): Pick<ColumnModel, 'charset' | 'collation'> {
  const dataType = describeType(targetType).dataType
  if (!STRING_TYPES.has(dataType)) return {charset: null, collation: null}
  if (imposed !== undefined) {
    const collation = imposed === 'ascii' ? (ctx.target.flavor === 'tidb' ? 'ascii_bin' : 'ascii_general_ci') : `${imposed}_bin`
    return {charset: imposed, collation}
  }
  const sourceCollation = source.collation ?? ctx.sourceDefaultCollation
  if (sourceCollation === null) return {charset: 'utf8mb4', collation: ctx.tableCollation}
  const m = mapCollation(sourceCollation, ctx.source, ctx.target)
  return {charset: m.charset, collation: m.collation}
}

/** The target column; notes go to ctx.note. */
export function convertColumn(source: ColumnModel, ctx: ColumnContext): ColumnModel {
  const name = shortenIdentifier(source.name)
  const object = `${ctx.tableName}.${name}`
  if (name !== source.name) {
    ctx.note({object, severity: 'blocker', rule: 'name.too-long', mapping: `${source.name} -> ${name}`,
      reason: `Column names are limited to 64 characters; the application must use the new name.`})
  }
  const mapping = mapColumnType(source, ctx.source, ctx.target)
  if (mapping.severity !== 'none') {
    ctx.note({object, severity: mapping.severity, rule: mapping.rule, mapping: `${source.columnType} -> ${mapping.targetType}`, reason: mapping.caveat ?? ''})
  }
  // Same type on a MySQL-family source: keep the source's own figures, so a same-flavor round trip compares equal.
  const same = ctx.source === 'mysql' && mapping.targetType === source.columnType
  const parts = same
    ? {dataType: source.dataType, length: source.length, precision: source.precision, scale: source.scale, unsigned: source.unsigned}
    : describeType(mapping.targetType)
  const col: ColumnModel = {
    ...source,
    name,
    ...parts,
    columnType: mapping.targetType,
    ...convertCharset(source, mapping.targetType, mapping.charset, ctx),
    default: null,
    identity: null,
    generated: null,
    enumValues: source.enumValues === null ? null : [...source.enumValues],
    sparse: false,
    serverMaintained: false,
  }
  col.generated = convertGenerated(source, col, ctx)
  if (source.generated !== null && col.generated === null) col.nullable = true
  Object.assign(col, convertIdentity(source, col, ctx))
  col.default = convertDefault(source, col, ctx)
  if (source.sparse) {
    ctx.note({object, severity: 'info', rule: 'column.sparse', mapping: 'SPARSE -> ordinary nullable column',
      reason: 'MySQL has no sparse columns; NULLs take their usual (small) space.'})
  }
  if (source.serverMaintained) {
    if (ctx.source === 'mysql') {
      // ON UPDATE CURRENT_TIMESTAMP: the same on every flavor.
      col.serverMaintained = true
    } else if (source.dataType === 'datetime2') {
      ctx.note({object, severity: 'needs-change', rule: 'temporal.period-column', mapping: 'GENERATED ALWAYS AS ROW START/END -> ordinary column',
        reason: 'System-time period columns become ordinary columns: nothing sets them after the cutover; the application must write them (or drop them).'})
    }
  }
  return col
}
