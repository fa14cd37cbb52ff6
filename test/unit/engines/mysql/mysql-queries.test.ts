// Pins the exact catalog SQL the MySQL engine sends, and the identifier quoting it builds SQL with.
import {describe, expect, it} from 'vitest'
import {MysqlDialect} from '../../../../src/engines/mysql/mysql-dialect.js'
import * as Q from '../../../../src/engines/mysql/mysql-queries.js'

describe('mysql catalog queries', () => {
  it('reads base tables with sizes, estimates and options', () => {
    expect(Q.TABLES).toMatchInlineSnapshot(`
      "SELECT t.TABLE_NAME AS table_name, t.ENGINE AS engine, t.TABLE_ROWS AS table_rows, t.DATA_LENGTH AS data_length, t.INDEX_LENGTH AS index_length, t.AUTO_INCREMENT AS auto_increment, t.TABLE_COLLATION AS table_collation, t.TABLE_COMMENT AS table_comment, t.CREATE_OPTIONS AS create_options
      FROM information_schema.TABLES t
      WHERE t.TABLE_SCHEMA = ? AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
      ORDER BY t.TABLE_NAME"
    `)
  })

  it('reads columns of base tables only', () => {
    expect(Q.COLUMNS).toMatchInlineSnapshot(`
      "SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.ORDINAL_POSITION AS ordinal_position, c.DATA_TYPE AS data_type, c.COLUMN_TYPE AS column_type, c.CHARACTER_MAXIMUM_LENGTH AS character_maximum_length, c.NUMERIC_PRECISION AS numeric_precision, c.NUMERIC_SCALE AS numeric_scale, c.DATETIME_PRECISION AS datetime_precision, c.CHARACTER_SET_NAME AS character_set_name, c.COLLATION_NAME AS collation_name, c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, c.EXTRA AS extra, c.GENERATION_EXPRESSION AS generation_expression, c.COLUMN_COMMENT AS column_comment
      FROM information_schema.COLUMNS c
      JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = ? AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
      ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
    `)
  })

  it('reads index key parts, with expressions where the server has them', () => {
    expect(Q.INDEX_COLUMNS).toMatchInlineSnapshot(`
      "SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.NON_UNIQUE AS non_unique, s.SEQ_IN_INDEX AS seq_in_index, s.COLUMN_NAME AS column_name, s.COLLATION AS collation, s.SUB_PART AS sub_part, s.INDEX_TYPE AS index_type
      FROM information_schema.STATISTICS s
      WHERE s.TABLE_SCHEMA = ?
      ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX"
    `)
    expect(Q.INDEX_COLUMNS_WITH_EXPRESSIONS).toMatchInlineSnapshot(`
      "SELECT s.TABLE_NAME AS table_name, s.INDEX_NAME AS index_name, s.NON_UNIQUE AS non_unique, s.SEQ_IN_INDEX AS seq_in_index, s.COLUMN_NAME AS column_name, s.COLLATION AS collation, s.SUB_PART AS sub_part, s.INDEX_TYPE AS index_type, s.EXPRESSION AS expression
      FROM information_schema.STATISTICS s
      WHERE s.TABLE_SCHEMA = ?
      ORDER BY s.TABLE_NAME, s.INDEX_NAME, s.SEQ_IN_INDEX"
    `)
  })

  it('reads foreign keys column by column', () => {
    expect(Q.FOREIGN_KEYS).toMatchInlineSnapshot(`
      "SELECT rc.TABLE_NAME AS table_name, rc.CONSTRAINT_NAME AS constraint_name, k.COLUMN_NAME AS column_name, k.ORDINAL_POSITION AS ordinal_position, k.REFERENCED_TABLE_SCHEMA AS referenced_table_schema, k.REFERENCED_TABLE_NAME AS referenced_table_name, k.REFERENCED_COLUMN_NAME AS referenced_column_name, rc.UPDATE_RULE AS update_rule, rc.DELETE_RULE AS delete_rule
      FROM information_schema.REFERENTIAL_CONSTRAINTS rc
      JOIN information_schema.KEY_COLUMN_USAGE k ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME
      WHERE rc.CONSTRAINT_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL
      ORDER BY rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    `)
  })

  it('reads check constraints per flavor', () => {
    expect(Q.CHECKS_MARIADB).toMatchInlineSnapshot(`
      "SELECT cc.TABLE_NAME AS table_name, cc.CONSTRAINT_NAME AS constraint_name, cc.CHECK_CLAUSE AS check_clause
      FROM information_schema.CHECK_CONSTRAINTS cc
      WHERE cc.CONSTRAINT_SCHEMA = ?
      ORDER BY cc.TABLE_NAME, cc.CONSTRAINT_NAME"
    `)
    expect(Q.CHECKS_MYSQL).toMatchInlineSnapshot(`
      "SELECT tc.TABLE_NAME AS table_name, cc.CONSTRAINT_NAME AS constraint_name, cc.CHECK_CLAUSE AS check_clause
      FROM information_schema.CHECK_CONSTRAINTS cc
      JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
      WHERE cc.CONSTRAINT_SCHEMA = ?
      ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME"
    `)
  })

  it('reads views, routines, triggers and events', () => {
    expect(Q.VIEWS).toMatchInlineSnapshot(`
      "SELECT v.TABLE_NAME AS table_name, v.VIEW_DEFINITION AS view_definition
      FROM information_schema.VIEWS v
      WHERE v.TABLE_SCHEMA = ?
      ORDER BY v.TABLE_NAME"
    `)
    expect(Q.ROUTINES).toMatchInlineSnapshot(`
      "SELECT r.ROUTINE_NAME AS routine_name, r.ROUTINE_TYPE AS routine_type, r.ROUTINE_DEFINITION AS routine_definition
      FROM information_schema.ROUTINES r
      WHERE r.ROUTINE_SCHEMA = ? AND r.ROUTINE_TYPE IN ('PROCEDURE', 'FUNCTION')
      ORDER BY r.ROUTINE_TYPE, r.ROUTINE_NAME"
    `)
    expect(Q.TRIGGERS).toMatchInlineSnapshot(`
      "SELECT tr.TRIGGER_NAME AS trigger_name, tr.EVENT_OBJECT_TABLE AS event_object_table, tr.ACTION_TIMING AS action_timing, tr.EVENT_MANIPULATION AS event_manipulation
      FROM information_schema.TRIGGERS tr
      WHERE tr.TRIGGER_SCHEMA = ?
      ORDER BY tr.EVENT_OBJECT_TABLE, tr.TRIGGER_NAME"
    `)
    expect(Q.EVENTS).toMatchInlineSnapshot(`
      "SELECT e.EVENT_NAME AS event_name, e.STATUS AS status
      FROM information_schema.EVENTS e
      WHERE e.EVENT_SCHEMA = ?
      ORDER BY e.EVENT_NAME"
    `)
  })

  it('reads server variables in one statement and probes TiDB and Aurora versions', () => {
    expect(Q.SERVER_VARIABLES).toMatchInlineSnapshot(`"SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'version_comment', 'character_set_server', 'collation_server', 'lower_case_table_names', 'log_bin', 'binlog_format', 'binlog_row_image', 'gtid_mode', 'enforce_gtid_consistency', 'gtid_strict_mode', 'server_id', 'binlog_expire_logs_seconds', 'expire_logs_days', 'auto_increment_increment', 'aurora_version')"`)
    expect(Q.TIDB_VERSION).toBe('SELECT TIDB_VERSION() AS v')
    expect(Q.AURORA_VERSION).toBe('SELECT AURORA_VERSION() AS v')
    expect(Q.PING).toBe('SELECT 1 AS ok')
  })

  it('takes the schema as its only parameter', () => {
    for (const sql of [Q.TABLES, Q.COLUMNS, Q.INDEX_COLUMNS, Q.INDEX_COLUMNS_WITH_EXPRESSIONS, Q.FOREIGN_KEYS, Q.CHECKS_MARIADB, Q.CHECKS_MYSQL, Q.VIEWS, Q.ROUTINES, Q.TRIGGERS, Q.EVENTS]) {
      expect(sql.split('?').length - 1, sql).toBe(1)
    }
    expect(Q.SERVER_VARIABLES).not.toContain('?')
  })
})

describe('mysql dialect', () => {
  const d = new MysqlDialect()

  it('quotes identifiers with backticks, doubling a backtick inside', () => {
    expect(d.quoteIdentifier('payments')).toBe('`payments`')
    expect(d.quoteIdentifier('we`ird')).toBe('`we``ird`')
    expect(d.quoteIdentifier('has space')).toBe('`has space`')
  })

  it('qualifies schema.table', () => {
    expect(d.qualify('pay`s', 'ledger_entries')).toBe('`pay``s`.`ledger_entries`')
  })

  it('refuses a NUL in a name', () => {
    expect(() => d.quoteIdentifier('a\0b')).toThrow(/NUL/)
  })
})
