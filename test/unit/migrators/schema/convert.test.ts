// Schema conversion end to end (model -> steps -> DDL) against golden files, per flavor, plus the
// structural rules one by one. No servers.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderSteps} from '../../../../src/engines/mysql/mysql-ddl.js'
import {MYSQL_FLAVORS, parseVersion, type SchemaModel, type TableModel} from '../../../../src/engines/model.js'
import {convertSchema, defaultTargetSpec} from '../../../../src/migrators/schema/convert.js'
import {readTsqlScript} from '../../../../src/engines/sqlserver/sqlserver-ddl-reader.js'
import {translateTsql} from '../../../../src/migrators/schema/convert-expressions.js'
import {planTableNames, shortenIdentifier} from '../../../../src/migrators/schema/convert-names.js'
import type {ConversionResult} from '../../../../src/migrators/schema/steps.js'
import {LONG_TABLE_NAME, NASTY_SQLSERVER} from '../../../fixtures/models/nasty-sqlserver.js'
import {expectGolden, GOLDEN_DIR} from './golden.js'

// Produced by `node bin/dev.js inspect --side source --json --config .payctl/sandbox/payctl.yaml`
// against the sandbox's legacy MariaDB, with host, port, introspectedAt and sizes set to fixed values.
const SANDBOX: SchemaModel = JSON.parse(readFileSync(join(GOLDEN_DIR, '../models/sandbox-legacy.json'), 'utf8')) as SchemaModel

function ddl(result: ConversionResult): string {
  return renderSteps(result.steps, result.target).join(';\n\n') + ';\n'
}

function notesText(result: ConversionResult): string {
  return result.notes.map((n) => `${n.severity} ${n.rule} ${n.object}: ${n.mapping}`).join('\n') + '\n'
}

function ruleSet(result: ConversionResult): Set<string> {
  return new Set(result.notes.map((n) => `${n.rule} ${n.severity}`))
}

describe('golden DDL', () => {
  for (const flavor of MYSQL_FLAVORS) {
    it(`sandbox payments schema -> ${flavor}`, () => {
      expectGolden(`sandbox-legacy.${flavor}.sql`, ddl(convertSchema(SANDBOX, defaultTargetSpec(flavor, 'payments'))))
    })
    it(`nasty SQL Server schema -> ${flavor}`, () => {
      const result = convertSchema(NASTY_SQLSERVER, defaultTargetSpec(flavor, 'paylegacy'))
      expectGolden(`nasty-sqlserver.${flavor}.sql`, ddl(result))
      expectGolden(`nasty-sqlserver.${flavor}.notes.txt`, notesText(result))
    })
  }
})

describe('notes for the nasty SQL Server schema', () => {
  const common = [
    'mssql.datetimeoffset needs-change', 'mssql.datetime2-7 info', 'mssql.datetime info', 'mssql.rowversion needs-change', 'mssql.xml needs-change',
    'mssql.hierarchyid needs-change', 'mssql.sql_variant blocker', 'mssql.uniqueidentifier info', 'mssql.real info', 'mssql.time-7 info',
    'mssql.char-long info', 'mssql.text info', 'mssql.image info', 'computed.stored info', 'computed.virtual info', 'computed.untranslated blocker',
    'column.sparse info', 'default.untranslated needs-change', 'temporal.period-column needs-change', 'table.temporal needs-change',
    'table.temporal-history info', 'table.memory-optimized info', 'table.no-primary-key blocker', 'table.trigger needs-change',
    'index.include info', 'index.filtered needs-change', 'index.xml needs-change', 'index.spatial needs-change', 'index.pk-nonclustered info',
    'check.untranslated needs-change', 'fk.set-default needs-change', 'fk.not-trusted info', 'name.too-long blocker', 'row-size.to-lob needs-change',
    'identity.key-added info', 'default.current-timestamp info',
  ]

  it('has every expected rule on every flavor', () => {
    for (const flavor of MYSQL_FLAVORS) {
      const rules = ruleSet(convertSchema(NASTY_SQLSERVER, defaultTargetSpec(flavor, 'paylegacy')))
      for (const r of common) expect(rules, `${flavor}: ${r}`).toContain(r)
    }
  })

  it('MySQL: uuid() defaults, DESC kept, accent-sensitive collation, spatial kept', () => {
    const result = convertSchema(NASTY_SQLSERVER, defaultTargetSpec('mysql', 'paylegacy'))
    const rules = ruleSet(result)
    expect(rules).toContain('default.uuid info')
    expect(rules).toContain('mssql.spatial needs-change')
    expect(rules).toContain('mssql.collation-ci-as info')
    expect(rules).not.toContain('index.desc-ignored info')
    expect(rules).not.toContain('check.not-enforced needs-change')
    const pk = result.tables.find((t) => t.name === 'ledger__Entries')?.primaryKey
    expect(pk?.columns.map((c) => c.descending)).toEqual([false, true])
  })

  it('TiDB: AUTO_RANDOM, no spatial, no uuid() default, checks not enforced, FKs noted, DESC dropped', () => {
    const result = convertSchema(NASTY_SQLSERVER, defaultTargetSpec('tidb', 'paylegacy'))
    const rules = ruleSet(result)
    for (const r of ['identity.auto-random needs-change', 'mssql.spatial blocker', 'default.uuid-tidb needs-change', 'check.not-enforced needs-change',
      'fk.tidb info', 'index.desc-ignored info', 'mssql.collation-ci-as needs-change', 'identity.tidb-cache info', 'default.lob needs-change']) {
      expect(rules).toContain(r)
    }
    const id = result.tables.find((t) => t.name === 'Payments')?.columns.find((c) => c.name === 'PaymentId')
    expect(id?.autoRandomShardBits).toBe(5)
    expect(id?.identity).toBeNull()
  })

  it('every note names an object of the converted schema', () => {
    const result = convertSchema(NASTY_SQLSERVER, defaultTargetSpec('mysql', 'paylegacy'))
    const tables = new Set([...result.tables.map((t) => t.name), 'paylegacy'])
    for (const n of result.notes) expect(tables, n.object).toContain(n.object.split('.')[0])
  })
})

describe('mysql -> mysql round trip', () => {
  it('the sandbox schema converted to MariaDB keeps every column as the source has it', () => {
    const result = convertSchema(SANDBOX, defaultTargetSpec('mariadb', 'payments'))
    expect(result.notes).toEqual([])
    const byName = new Map(result.tables.map((t) => [t.name, t]))
    for (const source of SANDBOX.tables) {
      const target = byName.get(source.name) as TableModel
      expect(target.columns.map((c) => [c.name, c.columnType, c.charset, c.collation, c.nullable, c.default, c.identity !== null, c.serverMaintained])).toEqual(
        source.columns.map((c) => [c.name, c.columnType, c.charset, c.collation, c.nullable, c.default, c.identity !== null, c.serverMaintained]),
      )
      expect(target.indexes.map((i) => i.name).sort()).toEqual(source.indexes.map((i) => i.name).sort())
      expect(target.foreignKeys.map((f) => f.name).sort()).toEqual(source.foreignKeys.map((f) => f.name).sort())
      expect(target.checks).toEqual(source.checks)
    }
  })

  it('orders tables parents first and keeps one name mapping per table', () => {
    const result = convertSchema(SANDBOX, defaultTargetSpec('mariadb', 'payments'))
    const order = result.tables.map((t) => t.name)
    for (const t of result.tables) for (const fk of t.foreignKeys) expect(order.indexOf(fk.referencedTable)).toBeLessThan(order.indexOf(t.name))
    expect(result.tableNames.map((m) => m.targetTable)).toEqual(order)
    const kinds = result.steps.map((s) => s.kind)
    expect(kinds.lastIndexOf('create-table')).toBeLessThan(kinds.indexOf('create-index'))
    expect(kinds.lastIndexOf('create-index')).toBeLessThan(kinds.indexOf('add-foreign-key'))
  })

  it('drops integer display widths on MySQL 8 only', () => {
    const mysql = convertSchema(SANDBOX, defaultTargetSpec('mysql', 'payments')).tables.find((t) => t.name === 'customers')
    expect(mysql?.columns[0]?.columnType).toBe('bigint unsigned')
    const tidb = convertSchema(SANDBOX, defaultTargetSpec('tidb', 'payments')).tables.find((t) => t.name === 'customers')
    expect(tidb?.columns[0]?.columnType).toBe('bigint(20) unsigned')
  })
})

describe('table selection and names', () => {
  it('include/exclude globs select tables; a key to an excluded table is noted, not created', () => {
    const result = convertSchema(SANDBOX, defaultTargetSpec('mysql', 'payments'), {tables: {include: ['payment_*'], exclude: ['payment_attempts']}})
    expect(result.tables.map((t) => t.name).sort()).toEqual(['payment_intents', 'payment_methods'])
    expect(result.notes.filter((n) => n.rule === 'fk.referenced-table-missing').map((n) => n.object).sort()).toEqual([
      'payment_intents.fk_payment_intents_customer',
      'payment_methods.fk_payment_methods_customer',
    ])
  })

  it('dbo keeps bare names, other schemas are prefixed, collisions are resolved case-insensitively', () => {
    const names = planTableNames(
      [{schema: 'ledger', name: 'Entries'}, {schema: 'dbo', name: 'LEDGER_entries'}, {schema: 'dbo', name: 'Payments'}, {schema: 'sales', name: 'Payments'}],
      'dbo',
    )
    expect([...names.values()]).toEqual(['LEDGER_entries', 'Payments', 'ledger__Entries', 'sales_Payments'])
  })

  it('shortens names over 64 characters stably', () => {
    const short = shortenIdentifier(LONG_TABLE_NAME)
    expect(short).toHaveLength(64)
    expect(short).toBe(shortenIdentifier(LONG_TABLE_NAME))
    expect(shortenIdentifier('short')).toBe('short')
  })
})

describe('versions', () => {
  const withVersion = (flavor: 'tidb' | 'mysql', raw: string) => ({...defaultTargetSpec(flavor, 'paylegacy'), version: parseVersion(raw)})

  it('TiDB before v6.6 gets no foreign keys, each with a note', () => {
    const result = convertSchema(NASTY_SQLSERVER, withVersion('tidb', '6.5.3'))
    expect(result.steps.filter((s) => s.kind === 'add-foreign-key')).toEqual([])
    expect(result.notes.filter((n) => n.rule === 'fk.tidb-unsupported')).toHaveLength(3)
  })

  it('TiDB v8.5 gets foreign keys as enforced', () => {
    const result = convertSchema(NASTY_SQLSERVER, withVersion('tidb', '8.5.1'))
    expect(result.steps.filter((s) => s.kind === 'add-foreign-key')).toHaveLength(3)
  })

  it('MySQL 5.7 keeps no DESC, no uuid() default, and says CHECKs are ignored', () => {
    const rules = ruleSet(convertSchema(NASTY_SQLSERVER, withVersion('mysql', '5.7.44')))
    expect(rules).toContain('index.desc-ignored info')
    expect(rules).toContain('default.uuid-unsupported needs-change')
    expect(rules).toContain('check.not-enforced needs-change')
  })
})

describe('T-SQL expressions', () => {
  const types = (name: string) => ({a: 'int', b: 'int', d: 'decimal', s: 'string', t: 'other'} as const)[name.toLowerCase() as 'a'] ?? null

  it.each([
    ['([a]+(1))', '`a` + 1'],
    ['([a]/[b])', '`a` DIV `b`'],
    ['([d]/[a])', '`d` / `a`'],
    ["([s]+N'x')", "CONCAT(`s`, 'x')"],
    ['(isnull([a],(0))*(2))', 'IFNULL(`a`, 0) * 2'],
    ['(len([s]))', 'CHAR_LENGTH(RTRIM(`s`))'],
    ['(CONVERT([decimal](10,2),[a]))', 'CAST(`a` AS DECIMAL(10,2))'],
    ['(CAST([a] AS varchar(10)))', 'CAST(`a` AS CHAR(10))'],
    ['([a]>=(0) AND ([b] IS NULL OR [b]<>(1)))', '`a` >= 0 AND (`b` IS NULL OR `b` <> 1)'],
    ['([a] between (1) and (12))', '`a` BETWEEN 1 AND 12'],
    ["([s] in ('x','y'))", "`s` IN ('x', 'y')"],
    ['([a]-([b]-(1)))', '`a` - (`b` - 1)'],
    ['(-(1))', '-1'],
  ])('%s -> %s', (src, sql) => {
    const t = translateTsql(src, types)
    expect(t.ok && t.sql).toBe(sql)
  })

  it.each([
    ['(datediff(day,[t],getdate()))', 'function DATEDIFF()'],
    ['([t]+(1))', 'not both numeric'],
    ["([s] like '[0-9]%')", 'character class'],
    ['([nope]+(1))', 'unknown column'],
    ['(CONVERT([varchar](10),[t],(120)))', 'style'],
  ])('refuses %s', (src, reason) => {
    const t = translateTsql(src, types)
    expect(t.ok).toBe(false)
    if (!t.ok) expect(t.reason).toContain(reason)
  })
})

describe('index key length', () => {
  const script = [
    'CREATE TABLE [dbo].[Links]([Id] [int] NOT NULL, [Kind] [int] NOT NULL, [Url] [nvarchar](1000) NOT NULL, [Ref] [varchar](768) NOT NULL,',
    ' CONSTRAINT [PK_Links] PRIMARY KEY CLUSTERED ([Id] ASC))',
    'GO',
    'CREATE NONCLUSTERED INDEX [IX_Links_Kind_Url] ON [dbo].[Links] ([Kind] ASC, [Url] ASC)',
    'GO',
    'CREATE UNIQUE NONCLUSTERED INDEX [UX_Links_Url] ON [dbo].[Links] ([Url] ASC)',
    'GO',
    'CREATE NONCLUSTERED INDEX [IX_Links_Ref] ON [dbo].[Links] ([Ref] ASC)',
    'GO',
  ].join('\n')
  const source = readTsqlScript(script, {database: 'PayDB'}).model

  it('gives a plain index over 3072 utf8mb4 bytes a prefix, so CREATE INDEX does not fail; a unique one is noted', () => {
    for (const flavor of MYSQL_FLAVORS) {
      const result = convertSchema(source, defaultTargetSpec(flavor, 'paylegacy'))
      const sql = renderSteps(result.steps, result.target)
      expect(sql).toContain('CREATE INDEX `IX_Links_Kind_Url` ON `paylegacy`.`Links` (`Kind`, `Url`(766))')
      expect(sql).toContain('CREATE INDEX `IX_Links_Ref` ON `paylegacy`.`Links` (`Ref`)')
      expect(result.notes.filter((n) => n.rule.startsWith('index.')).map((n) => `${n.severity} ${n.rule} ${n.object}`)).toEqual([
        'info index.prefix-too-long Links.IX_Links_Kind_Url',
        'needs-change index.too-long Links.UX_Links_Url',
      ])
    }
  })
})
