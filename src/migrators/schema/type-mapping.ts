/**
 * Applies the mapping table (type-mapping-table.ts) to one column: which row decides it and the
 * rendered target type. Pure; convert.ts builds the target column from the result, assess prints
 * the same result as a finding, and renderTypeMappingMarkdown prints the table for the README.
 */
import type {ColumnModel, EngineName, MysqlFlavor} from '../../engines/model.js'
import type {TargetSpec} from './steps.js'
import {COLLATION_MAPPINGS, type CollationMappingRule, TYPE_MAPPINGS} from './type-mapping-table.js'
import type {ColumnTypeMapping, MappingSeverity, TypeMappingRule} from './type-mapping-types.js'

export {COLLATION_MAPPINGS, TYPE_MAPPINGS, type CollationMappingRule} from './type-mapping-table.js'

const RULES = new Map(TYPE_MAPPINGS.map((r) => [r.id, r]))
const COLLATION_RULES = new Map(COLLATION_MAPPINGS.map((r) => [r.id, r]))

export function typeRule(id: string): TypeMappingRule {
  const rule = RULES.get(id)
  // A rule id used in code but missing from the table is a bug in this module, caught by the tests.
  if (rule === undefined) throw new Error(`No type-mapping rule "${id}"`)
  return rule
}

export function collationRule(id: string): CollationMappingRule {
  const rule = COLLATION_RULES.get(id)
  if (rule === undefined) throw new Error(`No collation-mapping rule "${id}"`)
  return rule
}

export function severityFor(rule: {severity: MappingSeverity; severityByFlavor?: Partial<Record<MysqlFlavor, MappingSeverity>>}, flavor: MysqlFlavor): MappingSeverity {
  return rule.severityByFlavor?.[flavor] ?? rule.severity
}

function result(id: string, targetType: string, flavor: MysqlFlavor, charset?: string): ColumnTypeMapping {
  const rule = typeRule(id)
  const mapping: ColumnTypeMapping = {rule: id, targetType, severity: severityFor(rule, flavor), caveat: rule.caveat}
  if (charset !== undefined) mapping.charset = charset
  return mapping
}

/** The widest varchar whose utf8mb4 bytes (4 per character) fit in the 65535-byte row limit with its length prefix. */
export const MAX_UTF8MB4_VARCHAR = 16383
const MAX_DECIMAL_PRECISION = 65
const MAX_DECIMAL_SCALE = 30
const MAX_FSP = 6

function fsp(type: string, digits: number): string {
  return digits === 0 ? type : `${type}(${digits})`
}

function mapSqlServerType(c: ColumnModel, flavor: MysqlFlavor): ColumnTypeMapping {
  const t = c.dataType
  const n = c.length
  const scale = c.scale ?? 0
  switch (t) {
    case 'tinyint':
      return result('mssql.tinyint', 'tinyint unsigned', flavor)
    case 'smallint':
    case 'int':
    case 'bigint':
      return result('mssql.integer', t, flavor)
    case 'bit':
      return result('mssql.bit', 'tinyint(1)', flavor)
    case 'decimal':
    case 'numeric': {
      const p = c.precision ?? 18
      if (p > MAX_DECIMAL_PRECISION) return result('mssql.decimal-wide', `decimal(${MAX_DECIMAL_PRECISION},${Math.min(scale, MAX_DECIMAL_SCALE)})`, flavor)
      return result('mssql.decimal', `decimal(${p},${scale})`, flavor)
    }
    case 'money':
      return result('mssql.money', 'decimal(19,4)', flavor)
    case 'smallmoney':
      return result('mssql.smallmoney', 'decimal(10,4)', flavor)
    case 'float':
      // float(n <= 24) is stored as real, so the catalog only ever says float for float(25..53).
      return (c.precision ?? 53) <= 24 ? result('mssql.real', 'float', flavor) : result('mssql.float', 'double', flavor)
    case 'real':
      return result('mssql.real', 'float', flavor)
    case 'char':
    case 'nchar':
    case 'varchar':
    case 'nvarchar': {
      if (n === -1 || n === null) return result('mssql.lob-text', 'longtext', flavor)
      const fixed = t === 'char' || t === 'nchar'
      if (fixed && n > 255) return result('mssql.char-long', `varchar(${n})`, flavor)
      if (!fixed && n > MAX_UTF8MB4_VARCHAR) return result('mssql.varchar-long', 'mediumtext', flavor)
      return result('mssql.char', `${fixed ? 'char' : 'varchar'}(${n})`, flavor)
    }
    case 'text':
    case 'ntext':
      return result('mssql.text', 'longtext', flavor)
    case 'binary':
    case 'varbinary':
      if (n === -1 || n === null) return result('mssql.lob-binary', 'longblob', flavor)
      return result('mssql.binary', `${t === 'binary' && n <= 255 ? 'binary' : 'varbinary'}(${n})`, flavor)
    case 'image':
      return result('mssql.image', 'longblob', flavor)
    case 'date':
      return result('mssql.date', 'date', flavor)
    case 'time':
      return scale > MAX_FSP ? result('mssql.time-7', 'time(6)', flavor) : result('mssql.time', fsp('time', scale), flavor)
    case 'datetime2':
      return scale > MAX_FSP ? result('mssql.datetime2-7', 'datetime(6)', flavor) : result('mssql.datetime2', fsp('datetime', scale), flavor)
    case 'datetime':
      return result('mssql.datetime', 'datetime(3)', flavor)
    case 'smalldatetime':
      return result('mssql.smalldatetime', 'datetime', flavor)
    case 'datetimeoffset':
      return result('mssql.datetimeoffset', fsp('datetime', Math.min(scale, MAX_FSP)), flavor)
    case 'uniqueidentifier':
      return result('mssql.uniqueidentifier', 'char(36)', flavor, 'ascii')
    case 'rowversion':
    case 'timestamp':
      return result('mssql.rowversion', 'binary(8)', flavor)
    case 'xml':
      return result('mssql.xml', 'longtext', flavor)
    case 'geography':
    case 'geometry':
      return result('mssql.spatial', flavor === 'tidb' ? 'longblob' : 'geometry', flavor)
    case 'hierarchyid':
      return result('mssql.hierarchyid', 'varbinary(892)', flavor)
    case 'sql_variant':
      return result('mssql.sql_variant', 'varchar(8000)', flavor)
    case 'json':
      return result('mssql.json', 'json', flavor)
    default:
      return result('mssql.unknown', 'longblob', flavor)
  }
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'])
const SAME_TYPE_RULES: Record<string, string> = {
  decimal: 'mysql.decimal', numeric: 'mysql.decimal', bit: 'mysql.bit',
  char: 'mysql.string', varchar: 'mysql.string', tinytext: 'mysql.string', text: 'mysql.string', mediumtext: 'mysql.string', longtext: 'mysql.string',
  binary: 'mysql.binary', varbinary: 'mysql.binary', tinyblob: 'mysql.binary', blob: 'mysql.binary', mediumblob: 'mysql.binary', longblob: 'mysql.binary',
  date: 'mysql.temporal', datetime: 'mysql.temporal', timestamp: 'mysql.temporal', time: 'mysql.temporal', year: 'mysql.temporal',
  enum: 'mysql.enum', set: 'mysql.enum',
}
const SPATIAL_TYPES = new Set(['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection', 'geomcollection'])
const MARIADB_TYPES: Record<string, string> = {uuid: 'char(36)', inet4: 'varchar(15)', inet6: 'varchar(39)'}

/**
 * MySQL 8.0.19+ (and so Aurora MySQL 3) neither needs nor reports integer display widths; writing
 * them would only earn a deprecation warning. tinyint(1) keeps its width (drivers read it as a
 * boolean), as does zerofill (the width is its meaning).
 */
export function withoutDisplayWidth(columnType: string): string {
  if (/zerofill/i.test(columnType) || /^tinyint\(1\)/i.test(columnType)) return columnType
  return columnType.replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/i, '$1')
}

function mapMysqlType(c: ColumnModel, flavor: MysqlFlavor): ColumnTypeMapping {
  const t = c.dataType
  const modern = flavor === 'mysql' || flavor === 'aurora-mysql'
  if (INTEGER_TYPES.has(t)) return result('mysql.integer', modern ? withoutDisplayWidth(c.columnType) : c.columnType, flavor)
  if (t === 'float' || t === 'double' || t === 'real') {
    return result(/\(\s*\d+\s*,\s*\d+\s*\)/.test(c.columnType) ? 'mysql.float-md' : 'mysql.float', c.columnType, flavor)
  }
  if (t === 'json') return result('mysql.json', 'json', flavor)
  if (SPATIAL_TYPES.has(t)) return result('mysql.spatial', flavor === 'tidb' ? 'longblob' : c.columnType, flavor)
  const mariadbTarget = MARIADB_TYPES[t]
  if (mariadbTarget !== undefined) {
    return flavor === 'mariadb' ? result('mysql.mariadb-types', c.columnType, flavor) : result('mysql.mariadb-types', mariadbTarget, flavor, 'ascii')
  }
  const same = SAME_TYPE_RULES[t]
  if (same !== undefined) return result(same, c.columnType, flavor)
  return result('mysql.unknown', c.columnType, flavor)
}

/** The target type of one column, with the table row that decided it. */
export function mapColumnType(column: ColumnModel, source: EngineName, target: TargetSpec): ColumnTypeMapping {
  return source === 'sqlserver' ? mapSqlServerType(column, target.flavor) : mapMysqlType(column, target.flavor)
}

// ---------------------------------------------------------------------------------------------
// Collations

export interface CollationMapping {
  rule: string
  charset: string
  collation: string
  severity: MappingSeverity
  caveat: string
}

/** Collations TiDB implements (new collation framework; utf8mb4_0900_ai_ci from v7.4). */
const TIDB_COLLATIONS = new Set([
  'utf8mb4_bin', 'utf8mb4_general_ci', 'utf8mb4_unicode_ci', 'utf8mb4_0900_ai_ci', 'utf8mb4_0900_bin',
  'utf8_bin', 'utf8_general_ci', 'utf8_unicode_ci', 'utf8mb3_bin', 'utf8mb3_general_ci', 'utf8mb3_unicode_ci',
  'ascii_bin', 'latin1_bin', 'binary', 'gbk_bin', 'gbk_chinese_ci',
])
const TIDB_CHARSETS = new Set(['utf8mb4', 'utf8', 'utf8mb3', 'ascii', 'latin1', 'binary', 'gbk'])

export function charsetOfCollation(collation: string): string {
  return collation === 'binary' ? 'binary' : (collation.split('_', 1)[0] ?? collation)
}

function collationResult(id: string, collation: string, flavor: MysqlFlavor): CollationMapping {
  const rule = collationRule(id)
  return {rule: id, charset: charsetOfCollation(collation), collation, severity: severityFor(rule, flavor), caveat: rule.caveat}
}

function mapSqlServerCollation(collation: string, target: TargetSpec): CollationMapping {
  const c = collation.toUpperCase()
  const f = target.flavor
  const modern = f === 'mysql' || f === 'aurora-mysql'
  if (/_BIN2?(_|$)/.test(c)) return collationResult('mssql.collation-bin', 'utf8mb4_bin', f)
  if (c.includes('_CS')) return collationResult('mssql.collation-cs', modern ? 'utf8mb4_0900_as_cs' : 'utf8mb4_bin', f)
  if (c.includes('_CI')) {
    const ci = f === 'tidb' ? 'utf8mb4_general_ci' : f === 'mariadb' ? 'utf8mb4_unicode_ci' : null
    if (c.includes('_AI')) return collationResult('mssql.collation-ci-ai', ci ?? 'utf8mb4_0900_ai_ci', f)
    return collationResult('mssql.collation-ci-as', ci ?? 'utf8mb4_0900_as_ci', f)
  }
  return collationResult('mssql.collation-other', target.collation, f)
}

function caseInsensitive(collation: string): boolean {
  return /_ci$/.test(collation)
}

function mapMysqlCollation(collation: string, target: TargetSpec): CollationMapping {
  const f = target.flavor
  const charset = charsetOfCollation(collation)
  if (/^utf8mb4_0900_/.test(collation) && f === 'mariadb') {
    return collationResult('mysql.collation-0900', collation === 'utf8mb4_0900_ai_ci' ? 'utf8mb4_unicode_ci' : 'utf8mb4_bin', f)
  }
  if (/_uca1400_|_nopad_/.test(collation) && f !== 'mariadb') {
    const ci = caseInsensitive(collation)
    return collationResult('mysql.collation-mariadb-only', ci ? (f === 'tidb' ? 'utf8mb4_unicode_ci' : 'utf8mb4_0900_ai_ci') : 'utf8mb4_bin', f)
  }
  if (f === 'tidb' && !TIDB_COLLATIONS.has(collation)) {
    if (charset === 'utf8mb4' && caseInsensitive(collation)) return collationResult('mysql.collation-tidb-bin', 'utf8mb4_general_ci', f)
    return collationResult('mysql.collation-tidb-bin', TIDB_CHARSETS.has(charset) ? `${charset}_bin` : 'utf8mb4_bin', f)
  }
  return collationResult('mysql.collation-same', collation, f)
}

/** The target collation (and its charset) for a source collation: a column's, a table's or the database's. */
export function mapCollation(collation: string, source: EngineName, target: TargetSpec): CollationMapping {
  return source === 'sqlserver' ? mapSqlServerCollation(collation, target) : mapMysqlCollation(collation, target)
}

// ---------------------------------------------------------------------------------------------
// The README table

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ')
}

function perFlavor(base: string, overrides: Partial<Record<MysqlFlavor, string>> | undefined): string {
  const parts = Object.entries(overrides ?? {}).map(([flavor, value]) => `${flavor}: ${value}`)
  return parts.length === 0 ? base : `${base} (${parts.join('; ')})`
}

/** Markdown for the README: both tables, one row per mapping, per-flavor differences in parentheses. */
export function renderTypeMappingMarkdown(): string {
  const lines = [
    '| rule | source type | target type | severity | caveat |',
    '| --- | --- | --- | --- | --- |',
    ...TYPE_MAPPINGS.map(
      (r) =>
        `| \`${r.id}\` | ${cell(`${r.source === 'sqlserver' ? 'SQL Server' : 'MySQL family'}: ${r.sourceTypes.join(', ')}`)} | ${cell(perFlavor(r.target, r.targetByFlavor))} | ${perFlavor(r.severity, r.severityByFlavor)} | ${cell(r.caveat)} |`,
    ),
    '',
    '| rule | source collation | target collation | severity | caveat |',
    '| --- | --- | --- | --- | --- |',
    ...COLLATION_MAPPINGS.map(
      (r) =>
        `| \`${r.id}\` | ${cell(`${r.source === 'sqlserver' ? 'SQL Server' : 'MySQL family'}: ${r.sourceCollations}`)} | ${cell(perFlavor(r.target, r.targetByFlavor))} | ${perFlavor(r.severity, r.severityByFlavor)} | ${cell(r.caveat)} |`,
    ),
  ]
  return lines.join('\n') + '\n'
}
