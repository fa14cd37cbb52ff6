// The type- and collation-mapping tables: every row reachable, each family mapped as documented
// per flavor, and the README copy equal to the generated Markdown.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {type ColumnModel, type EngineName, MYSQL_FLAVORS, type MysqlFlavor} from '../../../../src/engines/model.js'
import {defaultTargetSpec} from '../../../../src/migrators/schema/convert.js'
import {
  COLLATION_MAPPINGS,
  mapCollation,
  mapColumnType,
  renderTypeMappingMarkdown,
  TYPE_MAPPINGS,
  withoutDisplayWidth,
} from '../../../../src/migrators/schema/type-mapping.js'
import {GOLDEN_DIR} from './golden.js'

/** A column as the introspectors model it, from a type such as "nvarchar(max)" or "decimal(38,4)". */
function column(type: string, extra: Partial<ColumnModel> = {}): ColumnModel {
  const m = /^(\w+)(?:\((max|\d+)(?:,(\d+))?\))?/.exec(type)
  const dataType = m?.[1] ?? type
  const arg = m?.[2] === 'max' ? -1 : m?.[2] === undefined ? null : Number(m[2])
  const fsp = ['time', 'datetime2', 'datetimeoffset'].includes(dataType)
  return {
    name: 'c', ordinal: 1, dataType, columnType: type, length: arg, precision: fsp ? null : arg, scale: fsp ? arg : m?.[3] === undefined ? null : Number(m[3]),
    unsigned: /unsigned/.test(type), charset: null, collation: null, nullable: true, default: null, identity: null, generated: null,
    enumValues: null, sparse: false, serverMaintained: false, comment: null, ...extra,
  }
}

const map = (source: EngineName, type: string, flavor: MysqlFlavor, extra: Partial<ColumnModel> = {}) =>
  mapColumnType(column(type, extra), source, defaultTargetSpec(flavor, 'db'))

/** One sample column per row of the table: the test fails when a row is added without one, or a sample misses its row. */
const SAMPLES: Record<string, [EngineName, string, Partial<ColumnModel>?]> = {
  'mssql.tinyint': ['sqlserver', 'tinyint'],
  'mssql.integer': ['sqlserver', 'int'],
  'mssql.bit': ['sqlserver', 'bit'],
  'mssql.decimal': ['sqlserver', 'decimal(38,4)'],
  'mssql.decimal-wide': ['sqlserver', 'decimal(70,4)'],
  'mssql.money': ['sqlserver', 'money'],
  'mssql.smallmoney': ['sqlserver', 'smallmoney'],
  'mssql.float': ['sqlserver', 'float', {precision: 53}],
  'mssql.real': ['sqlserver', 'real'],
  'mssql.char': ['sqlserver', 'nvarchar(100)'],
  'mssql.char-long': ['sqlserver', 'char(300)'],
  'mssql.varchar-long': ['sqlserver', 'varchar(20000)'],
  'mssql.lob-text': ['sqlserver', 'nvarchar(max)'],
  'mssql.text': ['sqlserver', 'ntext', {length: -1}],
  'mssql.binary': ['sqlserver', 'varbinary(16)'],
  'mssql.lob-binary': ['sqlserver', 'varbinary(max)'],
  'mssql.image': ['sqlserver', 'image'],
  'mssql.date': ['sqlserver', 'date'],
  'mssql.time': ['sqlserver', 'time(3)'],
  'mssql.time-7': ['sqlserver', 'time(7)'],
  'mssql.datetime2': ['sqlserver', 'datetime2(3)'],
  'mssql.datetime2-7': ['sqlserver', 'datetime2(7)'],
  'mssql.datetime': ['sqlserver', 'datetime'],
  'mssql.smalldatetime': ['sqlserver', 'smalldatetime'],
  'mssql.datetimeoffset': ['sqlserver', 'datetimeoffset(7)'],
  'mssql.uniqueidentifier': ['sqlserver', 'uniqueidentifier'],
  'mssql.rowversion': ['sqlserver', 'rowversion'],
  'mssql.xml': ['sqlserver', 'xml'],
  'mssql.spatial': ['sqlserver', 'geography'],
  'mssql.hierarchyid': ['sqlserver', 'hierarchyid'],
  'mssql.sql_variant': ['sqlserver', 'sql_variant'],
  'mssql.json': ['sqlserver', 'json'],
  'mssql.unknown': ['sqlserver', 'my_clr_type'],
  'mysql.integer': ['mysql', 'int(11)'],
  'mysql.decimal': ['mysql', 'decimal(19,4)'],
  'mysql.float': ['mysql', 'double'],
  'mysql.float-md': ['mysql', 'float(10,2)'],
  'mysql.bit': ['mysql', 'bit(8)'],
  'mysql.string': ['mysql', 'varchar(255)'],
  'mysql.binary': ['mysql', 'blob'],
  'mysql.temporal': ['mysql', 'datetime(6)'],
  'mysql.enum': ['mysql', "enum('a','b')"],
  'mysql.json': ['mysql', 'json'],
  'mysql.spatial': ['mysql', 'point'],
  'mysql.mariadb-types': ['mysql', 'inet6'],
  'mysql.unknown': ['mysql', 'vector(3)'],
}

describe('TYPE_MAPPINGS', () => {
  it('has unique ids and a sample for every row', () => {
    const ids = TYPE_MAPPINGS.map((r) => r.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(Object.keys(SAMPLES).sort()).toEqual([...ids].sort())
  })

  it.each(Object.entries(SAMPLES))('row %s is reachable on every flavor', (id, [source, type, extra]) => {
    for (const flavor of MYSQL_FLAVORS) expect(map(source, type, flavor, extra).rule).toBe(id)
  })

  it('every row states its caveat', () => {
    for (const r of TYPE_MAPPINGS) expect(r.caveat.length, r.id).toBeGreaterThan(10)
  })
})

describe('SQL Server types', () => {
  it.each([
    ['nvarchar(100)', 'varchar(100)', 'none'],
    ['nchar(10)', 'char(10)', 'none'],
    ['varchar(50)', 'varchar(50)', 'none'],
    ['nvarchar(max)', 'longtext', 'none'],
    ['varchar(max)', 'longtext', 'none'],
    ['varbinary(max)', 'longblob', 'none'],
    ['varbinary(32)', 'varbinary(32)', 'none'],
    ['binary(16)', 'binary(16)', 'none'],
    ['binary(300)', 'varbinary(300)', 'none'],
    ['datetime2(7)', 'datetime(6)', 'info'],
    ['datetime2(3)', 'datetime(3)', 'none'],
    ['datetime2(0)', 'datetime', 'none'],
    ['datetime', 'datetime(3)', 'info'],
    ['smalldatetime', 'datetime', 'none'],
    ['date', 'date', 'none'],
    ['time(7)', 'time(6)', 'info'],
    ['datetimeoffset(7)', 'datetime(6)', 'needs-change'],
    ['datetimeoffset(3)', 'datetime(3)', 'needs-change'],
    ['money', 'decimal(19,4)', 'none'],
    ['smallmoney', 'decimal(10,4)', 'none'],
    ['decimal(38,10)', 'decimal(38,10)', 'none'],
    ['numeric(9,0)', 'decimal(9,0)', 'none'],
    ['uniqueidentifier', 'char(36)', 'info'],
    ['bit', 'tinyint(1)', 'none'],
    ['tinyint', 'tinyint unsigned', 'none'],
    ['smallint', 'smallint', 'none'],
    ['bigint', 'bigint', 'none'],
    ['real', 'float', 'info'],
    ['text', 'longtext', 'info'],
    ['image', 'longblob', 'info'],
    ['rowversion', 'binary(8)', 'needs-change'],
    ['xml', 'longtext', 'needs-change'],
    ['hierarchyid', 'varbinary(892)', 'needs-change'],
    ['sql_variant', 'varchar(8000)', 'blocker'],
    ['json', 'json', 'none'],
  ])('%s -> %s (%s) on MySQL', (type, target, severity) => {
    const m = map('sqlserver', type, 'mysql', type === 'text' || type === 'image' ? {length: -1} : {})
    expect([m.targetType, m.severity]).toEqual([target, severity])
  })

  it('float(53) is double; float(24) is float', () => {
    expect(map('sqlserver', 'float', 'mysql', {precision: 53}).targetType).toBe('double')
    expect(map('sqlserver', 'float', 'mysql', {precision: 24}).targetType).toBe('float')
  })

  it('geography is geometry, but a blocker kept as bytes on TiDB', () => {
    for (const flavor of ['mysql', 'aurora-mysql', 'mariadb'] as const) {
      expect(map('sqlserver', 'geography', flavor)).toMatchObject({targetType: 'geometry', severity: 'needs-change'})
    }
    expect(map('sqlserver', 'geometry', 'tidb')).toMatchObject({targetType: 'longblob', severity: 'blocker'})
  })

  it('uniqueidentifier imposes ascii', () => {
    expect(map('sqlserver', 'uniqueidentifier', 'tidb').charset).toBe('ascii')
  })
})

describe('MySQL-family types', () => {
  it('keeps types as they are, display widths dropped on MySQL 8 and Aurora only', () => {
    expect(map('mysql', 'bigint(20) unsigned', 'mariadb').targetType).toBe('bigint(20) unsigned')
    expect(map('mysql', 'bigint(20) unsigned', 'tidb').targetType).toBe('bigint(20) unsigned')
    expect(map('mysql', 'bigint(20) unsigned', 'mysql').targetType).toBe('bigint unsigned')
    expect(map('mysql', 'int(10) unsigned', 'aurora-mysql').targetType).toBe('int unsigned')
    expect(withoutDisplayWidth('tinyint(1)')).toBe('tinyint(1)')
    expect(withoutDisplayWidth('int(5) unsigned zerofill')).toBe('int(5) unsigned zerofill')
  })

  it('json: none on MariaDB, info elsewhere', () => {
    expect(map('mysql', 'json', 'mariadb')).toMatchObject({targetType: 'json', severity: 'none'})
    expect(map('mysql', 'json', 'tidb')).toMatchObject({targetType: 'json', severity: 'info'})
  })

  it('spatial: same, except a blocker on TiDB', () => {
    expect(map('mysql', 'point', 'mysql')).toMatchObject({targetType: 'point', severity: 'none'})
    expect(map('mysql', 'point', 'tidb')).toMatchObject({targetType: 'longblob', severity: 'blocker'})
  })

  it('MariaDB-only types become text elsewhere', () => {
    expect(map('mysql', 'uuid', 'mariadb')).toMatchObject({targetType: 'uuid', severity: 'none'})
    expect(map('mysql', 'uuid', 'mysql')).toMatchObject({targetType: 'char(36)', severity: 'needs-change'})
  })

  it.each(['enum(\'a\',\'b\')', 'set(\'x\')', 'year', 'bit(1)', 'timestamp(3)', 'mediumtext', 'varbinary(32)'])('%s is kept on every flavor', (type) => {
    for (const flavor of MYSQL_FLAVORS) expect(map('mysql', type, flavor)).toMatchObject({targetType: type, severity: 'none'})
  })
})

describe('COLLATION_MAPPINGS', () => {
  const target = (flavor: MysqlFlavor) => defaultTargetSpec(flavor, 'db')
  const SAMPLES_BY_RULE: Record<string, [EngineName, string, MysqlFlavor]> = {
    'mssql.collation-ci-as': ['sqlserver', 'SQL_Latin1_General_CP1_CI_AS', 'mysql'],
    'mssql.collation-ci-ai': ['sqlserver', 'Latin1_General_100_CI_AI', 'mysql'],
    'mssql.collation-cs': ['sqlserver', 'Latin1_General_100_CS_AS_SC_UTF8', 'mysql'],
    'mssql.collation-bin': ['sqlserver', 'Latin1_General_BIN2', 'mysql'],
    'mssql.collation-other': ['sqlserver', 'Japanese_XJIS_140', 'mysql'],
    'mysql.collation-same': ['mysql', 'utf8mb4_unicode_ci', 'mysql'],
    'mysql.collation-tidb-bin': ['mysql', 'ascii_general_ci', 'tidb'],
    'mysql.collation-0900': ['mysql', 'utf8mb4_0900_ai_ci', 'mariadb'],
    'mysql.collation-mariadb-only': ['mysql', 'utf8mb4_uca1400_ai_ci', 'mysql'],
  }

  it('every row is reachable', () => {
    expect(Object.keys(SAMPLES_BY_RULE).sort()).toEqual(COLLATION_MAPPINGS.map((r) => r.id).sort())
    for (const [id, [source, collation, flavor]] of Object.entries(SAMPLES_BY_RULE)) expect(mapCollation(collation, source, target(flavor)).rule).toBe(id)
  })

  it.each([
    ['SQL_Latin1_General_CP1_CI_AS', 'mysql', 'utf8mb4_0900_as_ci', 'info'],
    ['SQL_Latin1_General_CP1_CI_AS', 'aurora-mysql', 'utf8mb4_0900_as_ci', 'info'],
    ['SQL_Latin1_General_CP1_CI_AS', 'tidb', 'utf8mb4_general_ci', 'needs-change'],
    ['SQL_Latin1_General_CP1_CI_AS', 'mariadb', 'utf8mb4_unicode_ci', 'needs-change'],
    ['Latin1_General_CI_AI', 'mysql', 'utf8mb4_0900_ai_ci', 'info'],
    ['Latin1_General_CS_AS', 'mysql', 'utf8mb4_0900_as_cs', 'info'],
    ['Latin1_General_CS_AS', 'tidb', 'utf8mb4_bin', 'info'],
    ['Latin1_General_BIN', 'mariadb', 'utf8mb4_bin', 'none'],
  ] as const)('SQL Server %s -> %s: %s', (collation, flavor, expected, severity) => {
    expect(mapCollation(collation, 'sqlserver', target(flavor))).toMatchObject({collation: expected, charset: 'utf8mb4', severity})
  })

  it.each([
    ['ascii_bin', 'tidb', 'ascii_bin', 'none'],
    ['ascii_general_ci', 'tidb', 'ascii_bin', 'needs-change'],
    ['latin1_swedish_ci', 'tidb', 'latin1_bin', 'needs-change'],
    ['utf8mb4_unicode_520_ci', 'tidb', 'utf8mb4_general_ci', 'needs-change'],
    ['utf8mb4_unicode_ci', 'tidb', 'utf8mb4_unicode_ci', 'none'],
    ['utf8mb4_0900_ai_ci', 'mariadb', 'utf8mb4_unicode_ci', 'info'],
    ['utf8mb4_0900_as_cs', 'mariadb', 'utf8mb4_bin', 'info'],
    ['utf8mb4_uca1400_ai_ci', 'tidb', 'utf8mb4_unicode_ci', 'info'],
    ['utf8mb4_uca1400_ai_ci', 'mariadb', 'utf8mb4_uca1400_ai_ci', 'none'],
    ['ascii_general_ci', 'mysql', 'ascii_general_ci', 'none'],
  ] as const)('MySQL family %s -> %s: %s', (collation, flavor, expected, severity) => {
    expect(mapCollation(collation, 'mysql', target(flavor))).toMatchObject({collation: expected, severity})
  })
})

describe('renderTypeMappingMarkdown', () => {
  const markdown = renderTypeMappingMarkdown()

  it('has one row per mapping, with per-flavor differences', () => {
    for (const r of [...TYPE_MAPPINGS, ...COLLATION_MAPPINGS]) expect(markdown).toContain(`| \`${r.id}\` |`)
    expect(markdown).toContain('geometry (tidb: longblob)')
    expect(markdown).toContain('needs-change (tidb: blocker)')
    expect(markdown.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(TYPE_MAPPINGS.length + COLLATION_MAPPINGS.length)
  })

  it('is what the README shows between its markers (when it has them)', () => {
    const readme = join(GOLDEN_DIR, '../../../README.md')
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : ''
    const start = text.indexOf('<!-- type-mappings:start -->')
    const end = text.indexOf('<!-- type-mappings:end -->')
    if (start < 0 || end < 0) return
    const between = text.slice(start + '<!-- type-mappings:start -->'.length, end).trim()
    // Regenerate with: npx tsx scripts/print-type-mappings.ts
    expect(between).toBe(markdown.trim())
  })
})
