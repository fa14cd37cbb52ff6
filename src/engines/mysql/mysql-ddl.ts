/**
 * Engine-neutral schema steps (migrators/schema/steps.ts) -> MySQL-family DDL for one flavor.
 * Pure: one statement per step, no trailing semicolon, the same text for the same input (golden
 * tests compare it byte for byte). A step kind, index kind or column type this renderer does not
 * know throws an Error that names it; nothing renders as an empty string.
 *
 * Decisions:
 * - CREATE DATABASE IF NOT EXISTS (the database may hold other things, e.g. the control store),
 *   but plain CREATE TABLE: provision diffs the target first and only creates what is absent, so a
 *   table that appeared in between must fail loudly rather than be silently kept as it is.
 * - A create-table renders everything its TableModel holds except foreign keys (those are
 *   add-foreign-key steps, and a create-table carrying one is refused): columns, PRIMARY KEY,
 *   UNIQUE and other KEYs, CHECKs. Secondary indexes come as CREATE INDEX.
 * - ON DELETE/UPDATE NO ACTION and RESTRICT are not written: InnoDB treats both as its default.
 * - TiDB: AUTO_RANDOM(n) where the model says so, and every primary key CLUSTERED (in TiDB's
 *   comment syntax, as SHOW CREATE TABLE prints it), which is how InnoDB stores rows anyway.
 * - MariaDB: json is written as json (MariaDB's alias for longtext with a json_valid check, which
 *   introspection reads back as json); generated columns carry no NULL/NOT NULL, which MariaDB
 *   rejects there.
 * - Expression defaults are parenthesised (MySQL 8.0.13+ syntax, accepted by MariaDB), and so is
 *   a literal default on a text/blob/json column on MySQL, which allows no other form there.
 */
import type {ColumnModel, ForeignKeyModel, IndexModel, KeyColumn, TableModel} from '../model.js'
import type {SchemaStep, TargetSpec} from '../../migrators/schema/steps.js'
import {mysqlDialect} from './mysql-dialect.js'

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

/** A string literal: ' doubled and \ doubled, so it reads back the same whatever the sql_mode. */
export function stringLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
}

const COLUMN_TYPE = new RegExp(
  '^(?:' +
    [
      '(?:tinyint|smallint|mediumint|int|integer|bigint)(?:\\(\\d+\\))?(?: unsigned)?(?: zerofill)?',
      '(?:decimal|numeric)(?:\\(\\d+(?:,\\d+)?\\))?(?: unsigned)?(?: zerofill)?',
      '(?:float|double|real)(?:\\(\\d+,\\d+\\))?(?: unsigned)?(?: zerofill)?',
      'bit(?:\\(\\d+\\))?',
      '(?:char|varchar|binary|varbinary)\\(\\d+\\)',
      '(?:tiny|medium|long)?(?:text|blob)',
      '(?:datetime|timestamp|time)(?:\\(\\d\\))?',
      'date|year(?:\\(4\\))?|json',
      'geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection|geomcollection',
      'uuid|inet4|inet6',
    ].join('|') +
    ')$',
  'i',
)

const TEXT_LIKE = new Set(['tinytext', 'text', 'mediumtext', 'longtext', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'json', 'geometry'])
const CHARACTER_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])
const LITERAL = /^('(?:[^'\\]|''|\\.)*'|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|b'[01]*'|0x[0-9a-f]*)$/is
const CURRENT_TIMESTAMP = /^CURRENT_TIMESTAMP(?:\(\d\))?$/i

function columnTypeSql(table: TableModel, c: ColumnModel): string {
  if (c.dataType === 'enum' || c.dataType === 'set') {
    if (c.enumValues === null) throw new Error(`Cannot render column ${table.name}.${c.name}: ${c.dataType} without members`)
    return `${c.dataType}(${c.enumValues.map(stringLiteral).join(',')})`
  }
  if (!COLUMN_TYPE.test(c.columnType)) throw new Error(`Cannot render column ${table.name}.${c.name}: unknown MySQL column type "${c.columnType}"`)
  return c.columnType
}

function defaultSql(c: ColumnModel, target: TargetSpec): string {
  const d = c.default as string
  if (CURRENT_TIMESTAMP.test(d)) return d
  const lob = TEXT_LIKE.has(c.dataType)
  if (LITERAL.test(d) && !(lob && (target.flavor === 'mysql' || target.flavor === 'aurora-mysql'))) return d
  return `(${d})`
}

function columnSql(table: TableModel, c: ColumnModel, target: TargetSpec): string {
  const parts = [q(c.name), columnTypeSql(table, c)]
  if (CHARACTER_TYPES.has(c.dataType) && c.collation !== null && c.collation !== table.collation) {
    parts.push(`CHARACTER SET ${c.charset ?? c.collation.split('_', 1)[0] ?? ''} COLLATE ${c.collation}`)
  }
  if (c.generated !== null) {
    parts.push(`GENERATED ALWAYS AS (${c.generated.expression}) ${c.generated.stored ? 'STORED' : 'VIRTUAL'}`)
    if (target.flavor !== 'mariadb' && !c.nullable) parts.push('NOT NULL')
  } else {
    parts.push(c.nullable ? 'NULL' : 'NOT NULL')
    if (c.default !== null) parts.push(`DEFAULT ${defaultSql(c, target)}`)
  }
  if (c.serverMaintained) {
    if (c.dataType !== 'datetime' && c.dataType !== 'timestamp') {
      throw new Error(`Cannot render column ${table.name}.${c.name}: a server-maintained ${c.columnType} column (only datetime and timestamp have ON UPDATE)`)
    }
    parts.push(`ON UPDATE CURRENT_TIMESTAMP${c.scale !== null && c.scale > 0 ? `(${c.scale})` : ''}`)
  }
  if (c.autoRandomShardBits !== undefined) {
    if (target.flavor !== 'tidb') throw new Error(`Cannot render column ${table.name}.${c.name}: AUTO_RANDOM exists only on TiDB, not ${target.flavor}`)
    parts.push(`AUTO_RANDOM(${c.autoRandomShardBits})`)
  } else if (c.identity !== null) {
    parts.push('AUTO_INCREMENT')
  }
  if (c.comment !== null) parts.push(`COMMENT ${stringLiteral(c.comment)}`)
  return parts.join(' ')
}

function keyPartsSql(columns: KeyColumn[]): string {
  return `(${columns.map((k) => `${q(k.name)}${k.prefixLength === null ? '' : `(${k.prefixLength})`}${k.descending ? ' DESC' : ''}`).join(', ')})`
}

/** FULLTEXT / SPATIAL / UNIQUE / plain, from an index's flags and kind. */
function indexClass(table: string, index: IndexModel): '' | 'UNIQUE ' | 'FULLTEXT ' | 'SPATIAL ' {
  switch (index.kind) {
    case 'btree':
    case 'hash':
      return index.unique ? 'UNIQUE ' : ''
    case 'fulltext':
      return 'FULLTEXT '
    case 'spatial':
      return 'SPATIAL '
    default:
      throw new Error(`Cannot render index ${table}.${index.name}: unknown index kind "${index.kind}"`)
  }
}

function tableIndexSql(table: TableModel, index: IndexModel, target: TargetSpec): string {
  if (index.primary) return `PRIMARY KEY ${keyPartsSql(index.columns)}${target.flavor === 'tidb' ? ' /*T![clustered_index] CLUSTERED */' : ''}`
  return `${indexClass(table.name, index)}KEY ${q(index.name)} ${keyPartsSql(index.columns)}`
}

function tableOptions(table: TableModel): string {
  const options = ['ENGINE=InnoDB']
  if (table.collation !== null) options.push(`DEFAULT CHARSET=${table.collation.split('_', 1)[0] ?? ''} COLLATE=${table.collation}`)
  const seed = table.columns.find((c) => c.identity !== null)?.identity?.seed
  // A seed above 1 is either the source's declared IDENTITY seed or its next AUTO_INCREMENT value:
  // starting there means an id once handed out (then deleted) is never handed out again.
  if (seed !== undefined && /^\d+$/.test(seed) && BigInt(seed) > 1n) options.push(`AUTO_INCREMENT=${seed}`)
  if (table.comment !== null) options.push(`COMMENT=${stringLiteral(table.comment)}`)
  return options.join(' ')
}

function createTableSql(table: TableModel, target: TargetSpec): string {
  if (table.foreignKeys.length > 0) {
    throw new Error(`Cannot render create-table ${table.name}: it carries foreign keys, which must be add-foreign-key steps`)
  }
  if (table.columns.length === 0) throw new Error(`Cannot render create-table ${table.name}: no columns`)
  const lines = table.columns.map((c) => columnSql(table, c, target))
  const primary = table.indexes.filter((i) => i.primary)
  for (const index of [...primary, ...table.indexes.filter((i) => !i.primary)]) lines.push(tableIndexSql(table, index, target))
  for (const check of table.checks) lines.push(`CONSTRAINT ${q(check.name)} CHECK (${check.expression})`)
  return `CREATE TABLE ${mysqlDialect.qualify(target.database, table.name)} (\n  ${lines.join(',\n  ')}\n) ${tableOptions(table)}`
}

function referentialActions(fk: ForeignKeyModel): string {
  const out: string[] = []
  for (const [which, action] of [['DELETE', fk.onDelete], ['UPDATE', fk.onUpdate]] as const) {
    const a = action.toUpperCase()
    if (a === 'NO ACTION' || a === 'RESTRICT') continue
    if (a !== 'CASCADE' && a !== 'SET NULL') throw new Error(`Cannot render foreign key ${fk.name}: ON ${which} ${action} is not supported by InnoDB`)
    out.push(` ON ${which} ${a}`)
  }
  return out.join('')
}

function stepSql(step: SchemaStep, target: TargetSpec): string {
  switch (step.kind) {
    case 'create-database':
      return `CREATE DATABASE IF NOT EXISTS ${q(step.database)} DEFAULT CHARACTER SET ${step.charset} COLLATE ${step.collation}`
    case 'create-table':
      return createTableSql(step.table, target)
    case 'create-index': {
      if (step.index.primary) throw new Error(`Cannot render create-index ${step.table}.${step.index.name}: a primary key belongs to create-table`)
      return `CREATE ${indexClass(step.table, step.index)}INDEX ${q(step.index.name)} ON ${mysqlDialect.qualify(target.database, step.table)} ${keyPartsSql(step.index.columns)}`
    }
    case 'add-foreign-key': {
      const fk = step.foreignKey
      return (
        `ALTER TABLE ${mysqlDialect.qualify(target.database, step.table)} ADD CONSTRAINT ${q(fk.name)} FOREIGN KEY (${fk.columns.map(q).join(', ')}) ` +
        `REFERENCES ${mysqlDialect.qualify(target.database, fk.referencedTable)} (${fk.referencedColumns.map(q).join(', ')})${referentialActions(fk)}`
      )
    }
    default: {
      const unknown: {kind?: unknown} = step
      throw new Error(`Cannot render schema step of kind "${String(unknown.kind)}" for MySQL`)
    }
  }
}

/** One DDL statement per step, in the steps' order. */
export function renderSteps(steps: SchemaStep[], target: TargetSpec): string[] {
  return steps.map((s) => stepSql(s, target))
}
