// The MySQL-family DDL renderer: exact statements per flavor for hand-built steps, and refusals.
// (Whole schemas are compared with golden files in test/unit/migrators/schema/convert.test.ts.)
import {describe, expect, it} from 'vitest'
import {renderSteps, stringLiteral} from '../../../../src/engines/mysql/mysql-ddl.js'
import {type ColumnModel, emptyFeatures, type MysqlFlavor, type TableModel} from '../../../../src/engines/model.js'
import {defaultTargetSpec} from '../../../../src/migrators/schema/convert.js'
import type {SchemaStep} from '../../../../src/migrators/schema/steps.js'

function column(name: string, columnType: string, extra: Partial<ColumnModel> = {}): ColumnModel {
  const dataType = /^\w+/.exec(columnType)?.[0] ?? columnType
  return {
    name, ordinal: 1, dataType, columnType, length: null, precision: null, scale: null, unsigned: false, charset: null, collation: null,
    nullable: false, default: null, identity: null, generated: null, enumValues: null, sparse: false, serverMaintained: false, comment: null, ...extra,
  }
}

function table(columns: ColumnModel[], extra: Partial<TableModel> = {}): TableModel {
  return {
    schema: 'payments', name: 'customers', columns, primaryKey: null, uniqueKeys: [], indexes: [], foreignKeys: [], checks: [],
    rowEstimate: 0, dataBytes: 0, indexBytes: 0, collation: 'utf8mb4_unicode_ci', comment: null, features: emptyFeatures(), ...extra,
  }
}

const pk = {name: 'PRIMARY', columns: [{name: 'id', descending: false, prefixLength: null}], unique: true, primary: true, kind: 'btree', included: [], filter: null}
const target = (flavor: MysqlFlavor) => defaultTargetSpec(flavor, 'payments')
const render = (steps: SchemaStep[], flavor: MysqlFlavor = 'mysql') => renderSteps(steps, target(flavor))

const customers = table(
  [
    column('id', 'bigint unsigned', {unsigned: true, identity: {seed: '1000', increment: '1'}}),
    column('email', 'varchar(254)', {nullable: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci', comment: "owner's \\ address"}),
    column('code', 'char(3)', {charset: 'ascii', collation: 'ascii_bin', default: "'USD'"}),
    column('kind', 'enum', {enumValues: ['card', "it's"], default: "'card'", charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'}),
    column('total', 'decimal(19,4)', {default: '0.0000'}),
    column('doubled', 'decimal(20,4)', {nullable: true, generated: {expression: '`total` * 2', stored: true}}),
    column('notes', 'longtext', {nullable: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci', default: "''"}),
    column('token', 'char(36)', {nullable: true, charset: 'ascii', collation: 'ascii_general_ci', default: 'uuid()'}),
    column('updated_at', 'datetime(6)', {scale: 6, default: 'CURRENT_TIMESTAMP(6)', serverMaintained: true}),
  ],
  {
    primaryKey: {name: 'PRIMARY', columns: pk.columns},
    uniqueKeys: [{name: 'uq_code', columns: [{name: 'code', descending: false, prefixLength: null}]}],
    indexes: [pk, {...pk, name: 'uq_code', primary: false, columns: [{name: 'code', descending: false, prefixLength: null}]}],
    checks: [{name: 'ck_total', expression: '`total` >= 0'}],
    comment: 'people who pay',
  },
)

describe('renderSteps', () => {
  it('renders a database and a table exactly (MySQL)', () => {
    expect(render([{kind: 'create-database', database: 'payments', charset: 'utf8mb4', collation: 'utf8mb4_0900_ai_ci'}, {kind: 'create-table', table: customers}])).toEqual([
      'CREATE DATABASE IF NOT EXISTS `payments` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci',
      'CREATE TABLE `payments`.`customers` (\n' +
        '  `id` bigint unsigned NOT NULL AUTO_INCREMENT,\n' +
        "  `email` varchar(254) NULL COMMENT 'owner''s \\\\ address',\n" +
        "  `code` char(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT 'USD',\n" +
        "  `kind` enum('card','it''s') NOT NULL DEFAULT 'card',\n" +
        '  `total` decimal(19,4) NOT NULL DEFAULT 0.0000,\n' +
        '  `doubled` decimal(20,4) GENERATED ALWAYS AS (`total` * 2) STORED,\n' +
        "  `notes` longtext NULL DEFAULT (''),\n" +
        '  `token` char(36) CHARACTER SET ascii COLLATE ascii_general_ci NULL DEFAULT (uuid()),\n' +
        '  `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),\n' +
        '  PRIMARY KEY (`id`),\n' +
        '  UNIQUE KEY `uq_code` (`code`),\n' +
        '  CONSTRAINT `ck_total` CHECK (`total` >= 0)\n' +
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci AUTO_INCREMENT=1000 COMMENT='people who pay'",
    ])
  })

  it('MariaDB: literal text defaults unparenthesised, generated columns without NOT NULL', () => {
    const t = table([column('id', 'int'), column('notes', 'text', {nullable: true, charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci', default: "'x'"}), column('g', 'int', {generated: {expression: '`id` + 1', stored: false}})])
    expect(render([{kind: 'create-table', table: t}], 'mariadb')).toEqual([
      'CREATE TABLE `payments`.`customers` (\n  `id` int NOT NULL,\n  `notes` text NULL DEFAULT \'x\',\n  `g` int GENERATED ALWAYS AS (`id` + 1) VIRTUAL\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    ])
  })

  it('TiDB: AUTO_RANDOM and a clustered primary key', () => {
    const t = table([column('id', 'bigint', {autoRandomShardBits: 5})], {primaryKey: {name: 'PRIMARY', columns: pk.columns}, indexes: [pk], collation: 'utf8mb4_bin'})
    expect(render([{kind: 'create-table', table: t}], 'tidb')).toEqual([
      'CREATE TABLE `payments`.`customers` (\n  `id` bigint NOT NULL AUTO_RANDOM(5),\n  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
    ])
    expect(() => render([{kind: 'create-table', table: t}], 'mysql')).toThrow(/AUTO_RANDOM exists only on TiDB/)
  })

  it('renders indexes with prefixes and DESC, and foreign keys with their actions', () => {
    expect(
      render([
        {kind: 'create-index', table: 'customers', index: {name: 'ix_notes', columns: [{name: 'notes', descending: false, prefixLength: 255}, {name: 'id', descending: true, prefixLength: null}], unique: false, primary: false, kind: 'btree', included: [], filter: null}},
        {kind: 'create-index', table: 'customers', index: {name: 'ft', columns: [{name: 'notes', descending: false, prefixLength: null}], unique: false, primary: false, kind: 'fulltext', included: [], filter: null}},
        {kind: 'add-foreign-key', table: 'orders', foreignKey: {name: 'fk_orders_customer', columns: ['customer_id', 'k'], referencedSchema: 'legacy', referencedTable: 'customers', referencedColumns: ['id', 'k'], onUpdate: 'NO ACTION', onDelete: 'CASCADE', enabled: true}},
        {kind: 'add-foreign-key', table: 'orders', foreignKey: {name: 'fk2', columns: ['c'], referencedSchema: 'payments', referencedTable: 'customers', referencedColumns: ['id'], onUpdate: 'SET NULL', onDelete: 'RESTRICT', enabled: true}},
      ]),
    ).toEqual([
      'CREATE INDEX `ix_notes` ON `payments`.`customers` (`notes`(255), `id` DESC)',
      'CREATE FULLTEXT INDEX `ft` ON `payments`.`customers` (`notes`)',
      'ALTER TABLE `payments`.`orders` ADD CONSTRAINT `fk_orders_customer` FOREIGN KEY (`customer_id`, `k`) REFERENCES `payments`.`customers` (`id`, `k`) ON DELETE CASCADE',
      'ALTER TABLE `payments`.`orders` ADD CONSTRAINT `fk2` FOREIGN KEY (`c`) REFERENCES `payments`.`customers` (`id`) ON UPDATE SET NULL',
    ])
  })

  it('quotes identifiers with backticks doubled', () => {
    expect(render([{kind: 'create-database', database: 'we`ird', charset: 'utf8mb4', collation: 'utf8mb4_bin'}])).toEqual(['CREATE DATABASE IF NOT EXISTS `we``ird` DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'])
    expect(stringLiteral("a'b\\c")).toBe("'a''b\\\\c'")
  })
})

describe('renderSteps refuses what it cannot render', () => {
  it('an unknown step kind', () => {
    expect(() => render([{kind: 'drop-everything'} as unknown as SchemaStep])).toThrow('Cannot render schema step of kind "drop-everything"')
  })
  it('an unknown column type, naming the column', () => {
    expect(() => render([{kind: 'create-table', table: table([column('x', 'sql_variant')])}])).toThrow('customers.x: unknown MySQL column type "sql_variant"')
  })
  it('an unknown index kind', () => {
    const index = {name: 'cs', columns: [{name: 'id', descending: false, prefixLength: null}], unique: false, primary: false, kind: 'columnstore', included: [], filter: null}
    expect(() => render([{kind: 'create-index', table: 't', index}])).toThrow('unknown index kind "columnstore"')
  })
  it('a create-table that carries foreign keys', () => {
    const fk = {name: 'f', columns: ['id'], referencedSchema: 'p', referencedTable: 'x', referencedColumns: ['id'], onUpdate: 'NO ACTION', onDelete: 'NO ACTION', enabled: true}
    expect(() => render([{kind: 'create-table', table: table([column('id', 'int')], {foreignKeys: [fk]})}])).toThrow(/add-foreign-key/)
  })
  it('ON DELETE SET DEFAULT', () => {
    const fk = {name: 'f', columns: ['id'], referencedSchema: 'p', referencedTable: 'x', referencedColumns: ['id'], onUpdate: 'NO ACTION', onDelete: 'SET DEFAULT', enabled: true}
    expect(() => render([{kind: 'add-foreign-key', table: 't', foreignKey: fk}])).toThrow('ON DELETE SET DEFAULT is not supported')
  })
  it('ON UPDATE on a column that is not a datetime', () => {
    expect(() => render([{kind: 'create-table', table: table([column('v', 'binary(8)', {serverMaintained: true})])}])).toThrow(/server-maintained binary\(8\)/)
  })
  it('an enum without members', () => {
    expect(() => render([{kind: 'create-table', table: table([column('e', 'enum')])}])).toThrow(/without members/)
  })
})
