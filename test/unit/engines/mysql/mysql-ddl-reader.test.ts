// The mysqldump reader: a real mariadb-dump of the sandbox schema and a MySQL 8 dump with views, triggers, routines and events in DELIMITER blocks; exact columns, keys and not-assessed lines; a 20 MB dump of INSERTs is counted, not parsed.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import type {TableModel} from '../../../../src/engines/model.js'
import {readMysqlDump} from '../../../../src/engines/mysql/mysql-ddl-reader.js'
import {scanDump} from '../../../../src/engines/mysql/mysql-dump-scanner.js'
import {LEGACY_TABLES} from '../../../../src/sandbox/index.js'

const fixture = (name: string): string => readFileSync(path.resolve(import.meta.dirname, '../../../fixtures/ddl', name), 'utf8')

function table(tables: TableModel[], name: string): TableModel {
  const t = tables.find((x) => x.name === name)
  if (t === undefined) throw new Error(`${name} not read`)
  return t
}

describe('readMysqlDump on mariadb-dump --no-data output of the sandbox', () => {
  const read = readMysqlDump(fixture('mariadb-dump-payments.sql'), {})
  const {model} = read

  it('reads the server header and every legacy table, with nothing left unassessed', () => {
    expect(read.notAssessed).toEqual([])
    expect(model.server).toMatchObject({engine: 'mysql', flavor: 'mariadb', database: 'payments', version: {raw: '10.11.19-MariaDB-0+deb12u1-log', major: 10, minor: 11, patch: 19}})
    expect(model.tables.map((t) => t.name).sort()).toEqual([...LEGACY_TABLES].sort())
  })

  it('maps MariaDB columns as the live introspector does: JSON from json_valid, normalised defaults, enum members', () => {
    const intents = table(model.tables, 'payment_intents')
    const col = (name: string) => intents.columns.find((c) => c.name === name)
    expect(col('metadata')).toMatchObject({dataType: 'json', columnType: 'json', charset: null, collation: null, nullable: true, default: null})
    expect(col('id')).toMatchObject({dataType: 'bigint', columnType: 'bigint(20) unsigned', unsigned: true, precision: 20, identity: {increment: '1'}})
    expect(col('status')).toMatchObject({dataType: 'enum', default: "'requires_payment_method'", enumValues: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled']})
    expect(col('amount_capturable')).toMatchObject({columnType: 'decimal(19,4)', precision: 19, scale: 4, default: '0.0000'})
    expect(col('public_id')).toMatchObject({charset: 'ascii', collation: 'ascii_bin', length: 32})
    expect(col('description')).toMatchObject({charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci'})
    expect(col('updated_at')).toMatchObject({columnType: 'datetime(6)', scale: 6, default: 'CURRENT_TIMESTAMP(6)', serverMaintained: true})
    expect(intents.checks.map((c) => c.name)).toEqual(['ck_payment_intents_amount', 'ck_payment_intents_capturable', 'ck_payment_intents_received'])
    expect(intents.features.storageEngine).toBe('InnoDB')
    expect(intents.collation).toBe('utf8mb4_unicode_ci')
  })

  it('reads composite keys and multi-column foreign keys', () => {
    const refunds = table(model.tables, 'refunds')
    expect(refunds.foreignKeys.find((f) => f.name === 'fk_refunds_attempt')).toEqual({
      name: 'fk_refunds_attempt',
      columns: ['payment_intent_id', 'attempt_no'],
      referencedSchema: 'payments',
      referencedTable: 'payment_attempts',
      referencedColumns: ['payment_intent_id', 'attempt_no'],
      onUpdate: 'RESTRICT',
      onDelete: 'RESTRICT',
      enabled: true,
    })
    expect(table(model.tables, 'ledger_entries').primaryKey?.columns.map((c) => c.name)).toEqual(['txn_id', 'entry_no'])
  })
})

describe('readMysqlDump on a MySQL 8 dump with data, views and DELIMITER blocks', () => {
  const read = readMysqlDump(fixture('mysql8-dump-extras.sql'), {})
  const {model} = read
  const orders = table(model.tables, 'orders')
  const col = (name: string) => orders.columns.find((c) => c.name === name)

  it('reads MySQL-style defaults (quoted numbers, expression defaults, ON UPDATE) the way the live catalog reports them', () => {
    expect(orders.columns.map((c) => [c.name, c.columnType, c.nullable, c.default])).toEqual([
      ['id', 'bigint unsigned', false, null],
      ['code', 'varchar(40)', false, null],
      ['status', "enum('new','it''s paid','void')", false, "'new'"],
      ['qty', 'int', false, '1'],
      ['price', 'decimal(10,2)', false, '0.00'],
      ['note', 'text', true, null],
      ['doc', 'json', true, null],
      ['uuid', 'binary(16)', false, 'uuid_to_bin(uuid())'],
      ['total', 'decimal(12,2)', true, null],
      ['created_at', 'datetime(6)', false, 'CURRENT_TIMESTAMP(6)'],
      ['updated_at', 'timestamp', false, 'CURRENT_TIMESTAMP'],
    ])
    expect(col('id')?.identity).toEqual({seed: '42', increment: '1'})
    expect(col('status')?.enumValues).toEqual(['new', "it's paid", 'void'])
    expect(col('note')).toMatchObject({comment: 'free; text -- not a comment', length: 65535, collation: 'utf8mb4_0900_ai_ci'})
    expect(col('doc')).toMatchObject({dataType: 'json', length: null})
    expect(col('total')?.generated).toEqual({expression: '(`qty` * `price`)', stored: true})
    expect(col('updated_at')?.serverMaintained).toBe(true)
    expect(orders.comment).toBe('customer orders')
  })

  it('reads prefix, descending and fulltext keys, checks and foreign keys', () => {
    expect(orders.indexes.map((i) => [i.name, i.kind, i.unique, i.columns.map((c) => `${c.name}${c.prefixLength === null ? '' : `(${c.prefixLength})`}${c.descending ? ' DESC' : ''}`)])).toEqual([
      ['PRIMARY', 'btree', true, ['id']],
      ['ft_note', 'fulltext', false, ['note']],
      ['ix_note', 'btree', false, ['note(10)']],
      ['ix_status_created', 'btree', false, ['status', 'created_at DESC']],
      ['uq_code', 'btree', true, ['code']],
    ])
    expect(orders.checks).toEqual([{name: 'orders_chk_1', expression: '(`qty` > 0)'}])
    expect(table(model.tables, 'order_lines').foreignKeys[0]).toMatchObject({name: 'fk_lines_order', referencedSchema: 'shop', onDelete: 'CASCADE', onUpdate: 'RESTRICT'})
  })

  it('replaces the stand-in for a view by the view, and reads triggers, procedures and events', () => {
    expect(model.tables.map((t) => t.name)).toEqual(['order_lines', 'orders'])
    expect(model.views).toEqual([{schema: 'shop', name: 'open_orders', definition: "select `orders`.`id` AS `id`,`orders`.`code` AS `code` from `orders` where (`orders`.`status` = 'new')"}])
    expect(model.triggers).toEqual([{schema: 'shop', name: 'trg_orders_bi', table: 'orders', timing: 'BEFORE', events: ['INSERT'], enabled: true}])
    expect(model.routines.map((r) => [r.name, r.kind])).toEqual([['close_order', 'procedure']])
    expect(model.routines[0]?.definition).toContain("UPDATE orders SET status = 'void' WHERE id = p_id;")
    expect(model.events).toEqual([{schema: 'shop', name: 'purge_void', status: 'DISABLED'}])
    expect(model.server).toMatchObject({flavor: 'mysql', database: 'shop', version: {major: 8, minor: 0, patch: 36}})
  })

  it('reports what it does not read with exact lines, and counts statements', () => {
    expect(read.notAssessed).toEqual([
      {line: 81, text: "CREATE TABLESPACE `ts1` ADD DATAFILE 'ts1.ibd'", reason: 'CREATE TABLESPACE is not read'},
      {line: 82, text: 'RENAME TABLE `a` TO `b`', reason: 'RENAME statement is not read'},
    ])
    expect(read.statements).toBe(24)
  })
})

describe('a large dump', () => {
  it('counts 20 MB of INSERT statements without parsing them', () => {
    const row = "(1,'it''s; a \\'value\\' -- with ; and */ inside','x'),"
    const insert = `INSERT INTO \`t\` VALUES ${row.repeat(200)}(2,'end','y');\n`
    const count = Math.ceil((20 * 1024 * 1024) / insert.length)
    const dump = ['-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB', 'CREATE TABLE `t` (`id` int NOT NULL, `a` text, `b` char(1), PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;', insert.repeat(count), 'CREATE TABLE `u` (`id` int NOT NULL);', ''].join('\n')
    expect(dump.length).toBeGreaterThan(20 * 1024 * 1024)
    const read = readMysqlDump(dump, {})
    expect(read.statements).toBe(count + 2)
    expect(read.model.tables.map((t) => t.name)).toEqual(['t', 'u'])
    expect(read.notAssessed).toEqual([])
    // The scanner yields INSERTs without their text: nothing of the data is copied.
    let texts = 0
    for (const s of scanDump(dump)) if (s.data && s.text !== null) texts++
    expect(texts).toBe(0)
  })
})
