// The MySQL-family introspector against catalog rows as MariaDB 10.11 and MySQL 8.0 return them (no server).
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../../../src/cli/errors.js'
import {
  type CheckRow,
  type ColumnRow,
  checkConstraintsQuery,
  detectFlavor,
  type ForeignKeyRow,
  type IndexColumnRow,
  indexColumnsQuery,
  introspectSchema,
  jsonValidColumn,
  normalizeDefault,
  parseEnumValues,
  type QueryFn,
  readServerFacts,
  serverVersionOf,
  type TableRow,
  type VariableRow,
} from '../../../../src/engines/mysql/mysql-introspector.js'
import * as Q from '../../../../src/engines/mysql/mysql-queries.js'
import type {ColumnModel, SchemaModel, TableModel} from '../../../../src/engines/model.js'
import {parseVersion} from '../../../../src/engines/model.js'

const endpoint = {host: 'db.internal', port: 3306, database: 'payments'}

function vars(v: Record<string, string>): VariableRow[] {
  return Object.entries(v).map(([Variable_name, Value]) => ({Variable_name, Value}))
}

/** A query function that answers from fixtures keyed by exact SQL, and fails on any other statement. */
function fakeQuery(answers: Map<string, unknown[] | Error>, seen: string[] = []): QueryFn {
  return <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    seen.push(sql)
    const a = answers.get(sql)
    if (a === undefined) return Promise.reject(new Error(`unexpected SQL: ${sql.slice(0, 80)} (${JSON.stringify(params)})`))
    if (a instanceof Error) return Promise.reject(a)
    return Promise.resolve(a as T[])
  }
}

function column(table: string, name: string, ordinal: number, over: Partial<ColumnRow>): ColumnRow {
  return {
    table_name: table,
    column_name: name,
    ordinal_position: ordinal,
    data_type: 'int',
    column_type: 'int',
    character_maximum_length: null,
    numeric_precision: null,
    numeric_scale: null,
    datetime_precision: null,
    character_set_name: null,
    collation_name: null,
    is_nullable: 'NO',
    column_default: null,
    extra: '',
    generation_expression: null,
    column_comment: '',
    ...over,
  }
}

function table(name: string, over: Partial<TableRow> = {}): TableRow {
  return {
    table_name: name,
    engine: 'InnoDB',
    table_rows: '0',
    data_length: '16384',
    index_length: '0',
    auto_increment: null,
    table_collation: 'utf8mb4_general_ci',
    table_comment: '',
    create_options: '',
    ...over,
  }
}

function ix(tableName: string, index: string, seq: number, col: string | null, over: Partial<IndexColumnRow> = {}): IndexColumnRow {
  return {table_name: tableName, index_name: index, non_unique: 1, seq_in_index: seq, column_name: col, collation: 'A', sub_part: null, index_type: 'BTREE', ...over}
}

function fk(tableName: string, name: string, ordinal: number, col: string, refTable: string, refCol: string): ForeignKeyRow {
  return {
    table_name: tableName,
    constraint_name: name,
    column_name: col,
    ordinal_position: ordinal,
    referenced_table_schema: 'payments',
    referenced_table_name: refTable,
    referenced_column_name: refCol,
    update_rule: 'RESTRICT',
    delete_rule: 'CASCADE',
  }
}

// The same table, `payment_intents`, as each server's catalog describes it:
//   id BIGINT UNSIGNED AUTO_INCREMENT, tenant_id INT UNSIGNED, customer_id BIGINT UNSIGNED,
//   amount DECIMAL(19,4) NOT NULL DEFAULT 0.0000, status ENUM('pending','it''s done','fa\\il') DEFAULT 'pending',
//   note VARCHAR(200) NULL DEFAULT 'it''s', metadata JSON, fingerprint VARBINARY(32),
//   created_at DATETIME(6) DEFAULT CURRENT_TIMESTAMP(6), updated_at TIMESTAMP(3) DEFAULT ... ON UPDATE ...,
//   amount_x2 DECIMAL(20,4) AS (amount * 2) STORED, amount_plus DECIMAL(20,4) AS (amount + 1) VIRTUAL,
//   memo TEXT NULL, due DATE DEFAULT '2020-01-01'
//   PRIMARY KEY (tenant_id, id), KEY ix_created (created_at DESC, id), KEY ix_note (note(10)),
//   FOREIGN KEY fk_customer (tenant_id, customer_id) REFERENCES customers ON DELETE CASCADE, CHECK (amount >= 0)

const mariadbColumns: ColumnRow[] = [
  column('payment_intents', 'id', 1, {data_type: 'bigint', column_type: 'bigint(20) unsigned', numeric_precision: '20', numeric_scale: '0', extra: 'auto_increment'}),
  column('payment_intents', 'tenant_id', 2, {data_type: 'int', column_type: 'int(10) unsigned', numeric_precision: '10', numeric_scale: '0'}),
  column('payment_intents', 'customer_id', 3, {data_type: 'bigint', column_type: 'bigint(20) unsigned', numeric_precision: '20', numeric_scale: '0', is_nullable: 'YES', column_default: 'NULL'}),
  column('payment_intents', 'amount', 4, {data_type: 'decimal', column_type: 'decimal(19,4)', numeric_precision: '19', numeric_scale: '4', column_default: '0.0000'}),
  column('payment_intents', 'status', 5, {
    data_type: 'enum',
    column_type: "enum('pending','it''s done','fa\\\\il')",
    character_maximum_length: '9',
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_general_ci',
    column_default: "'pending'",
  }),
  column('payment_intents', 'note', 6, {
    data_type: 'varchar',
    column_type: 'varchar(200)',
    character_maximum_length: '200',
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_bin',
    is_nullable: 'YES',
    column_default: "'it''s'",
    column_comment: 'free text',
  }),
  column('payment_intents', 'metadata', 7, {
    data_type: 'longtext',
    column_type: 'longtext',
    character_maximum_length: '4294967295',
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_bin',
    is_nullable: 'YES',
    column_default: 'NULL',
  }),
  column('payment_intents', 'fingerprint', 8, {data_type: 'varbinary', column_type: 'varbinary(32)', character_maximum_length: '32'}),
  column('payment_intents', 'created_at', 9, {data_type: 'datetime', column_type: 'datetime(6)', datetime_precision: '6', column_default: 'current_timestamp(6)'}),
  column('payment_intents', 'updated_at', 10, {
    data_type: 'timestamp',
    column_type: 'timestamp(3)',
    datetime_precision: '3',
    column_default: 'current_timestamp(3)',
    extra: 'on update current_timestamp(3)',
  }),
  column('payment_intents', 'amount_x2', 11, {
    data_type: 'decimal',
    column_type: 'decimal(20,4)',
    numeric_precision: '20',
    numeric_scale: '4',
    is_nullable: 'YES',
    extra: 'STORED GENERATED',
    generation_expression: '`amount` * 2',
  }),
  column('payment_intents', 'amount_plus', 12, {
    data_type: 'decimal',
    column_type: 'decimal(20,4)',
    numeric_precision: '20',
    numeric_scale: '4',
    is_nullable: 'YES',
    extra: 'VIRTUAL GENERATED',
    generation_expression: '`amount` + 1',
  }),
  column('payment_intents', 'memo', 13, {
    data_type: 'text',
    column_type: 'text',
    character_maximum_length: '65535',
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_general_ci',
    is_nullable: 'YES',
    column_default: 'NULL',
  }),
  column('payment_intents', 'due', 14, {data_type: 'date', column_type: 'date', is_nullable: 'YES', column_default: "'2020-01-01'"}),
]

const mysqlColumns: ColumnRow[] = [
  column('payment_intents', 'id', 1, {data_type: 'bigint', column_type: 'bigint unsigned', numeric_precision: 20, numeric_scale: 0, extra: 'auto_increment'}),
  column('payment_intents', 'tenant_id', 2, {data_type: 'int', column_type: 'int unsigned', numeric_precision: 10, numeric_scale: 0}),
  column('payment_intents', 'customer_id', 3, {data_type: 'bigint', column_type: 'bigint unsigned', numeric_precision: 20, numeric_scale: 0, is_nullable: 'YES'}),
  column('payment_intents', 'amount', 4, {data_type: 'decimal', column_type: 'decimal(19,4)', numeric_precision: 19, numeric_scale: 4, column_default: '0.0000'}),
  column('payment_intents', 'status', 5, {
    data_type: 'enum',
    column_type: "enum('pending','it''s done','fa\\\\il')",
    character_maximum_length: 9,
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_0900_ai_ci',
    column_default: 'pending',
  }),
  column('payment_intents', 'note', 6, {
    data_type: 'varchar',
    column_type: 'varchar(200)',
    character_maximum_length: 200,
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_bin',
    is_nullable: 'YES',
    column_default: "it's",
    column_comment: 'free text',
  }),
  column('payment_intents', 'metadata', 7, {data_type: 'json', column_type: 'json', is_nullable: 'YES'}),
  column('payment_intents', 'fingerprint', 8, {data_type: 'varbinary', column_type: 'varbinary(32)', character_maximum_length: 32}),
  column('payment_intents', 'created_at', 9, {data_type: 'datetime', column_type: 'datetime(6)', datetime_precision: 6, column_default: 'CURRENT_TIMESTAMP(6)', extra: 'DEFAULT_GENERATED'}),
  column('payment_intents', 'updated_at', 10, {
    data_type: 'timestamp',
    column_type: 'timestamp(3)',
    datetime_precision: 3,
    column_default: 'CURRENT_TIMESTAMP(3)',
    extra: 'DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)',
  }),
  column('payment_intents', 'amount_x2', 11, {
    data_type: 'decimal',
    column_type: 'decimal(20,4)',
    numeric_precision: 20,
    numeric_scale: 4,
    is_nullable: 'YES',
    extra: 'STORED GENERATED',
    generation_expression: '(`amount` * 2)',
  }),
  column('payment_intents', 'amount_plus', 12, {
    data_type: 'decimal',
    column_type: 'decimal(20,4)',
    numeric_precision: 20,
    numeric_scale: 4,
    is_nullable: 'YES',
    extra: 'VIRTUAL GENERATED',
    generation_expression: '(`amount` + 1)',
  }),
  column('payment_intents', 'memo', 13, {
    data_type: 'text',
    column_type: 'text',
    character_maximum_length: 65535,
    character_set_name: 'utf8mb4',
    collation_name: 'utf8mb4_0900_ai_ci',
    is_nullable: 'YES',
  }),
  column('payment_intents', 'due', 14, {data_type: 'date', column_type: 'date', is_nullable: 'YES', column_default: '2020-01-01'}),
]

const indexRows: IndexColumnRow[] = [
  // deliberately out of SEQ_IN_INDEX order: the mapper must sort
  ix('payment_intents', 'PRIMARY', 2, 'id', {non_unique: 0}),
  ix('payment_intents', 'PRIMARY', 1, 'tenant_id', {non_unique: 0}),
  ix('payment_intents', 'ix_created', 1, 'created_at', {collation: 'D'}),
  ix('payment_intents', 'ix_created', 2, 'id'),
  ix('payment_intents', 'ix_note', 1, 'note', {sub_part: 10}),
  ix('payment_intents', 'fk_customer', 1, 'tenant_id'),
  ix('payment_intents', 'fk_customer', 2, 'customer_id'),
  ix('customers', 'PRIMARY', 1, 'id', {non_unique: '0'}),
  ix('customers', 'uq_email', 1, 'email', {non_unique: '0'}),
]

const fkRows: ForeignKeyRow[] = [
  fk('payment_intents', 'fk_customer', 2, 'customer_id', 'customers', 'id'),
  fk('payment_intents', 'fk_customer', 1, 'tenant_id', 'customers', 'tenant_id'),
]

const customersColumns = (flavor: 'mariadb' | 'mysql'): ColumnRow[] => [
  column('customers', 'tenant_id', 1, {data_type: 'int', column_type: flavor === 'mariadb' ? 'int(10) unsigned' : 'int unsigned'}),
  column('customers', 'id', 2, {data_type: 'bigint', column_type: flavor === 'mariadb' ? 'bigint(20) unsigned' : 'bigint unsigned'}),
  column('customers', 'email', 3, {data_type: 'varchar', column_type: 'varchar(320)', character_maximum_length: 320}),
  column('customers', 'profile', 4, {data_type: 'longtext', column_type: 'longtext', character_maximum_length: 4294967295, is_nullable: 'YES'}),
]

const tables: TableRow[] = [
  table('customers', {table_rows: '1200', data_length: '196608', index_length: '49152'}),
  table('payment_intents', {auto_increment: '5001', table_rows: 5000, data_length: 1589248, index_length: 704512, table_comment: 'one per checkout', create_options: 'partitioned'}),
]

const mariadbVars = vars({
  version: '10.11.6-MariaDB-0+deb12u1-log',
  version_comment: 'Debian 12',
  character_set_server: 'utf8mb4',
  collation_server: 'utf8mb4_general_ci',
  lower_case_table_names: '0',
  log_bin: 'ON',
  binlog_format: 'ROW',
  binlog_row_image: 'FULL',
  gtid_strict_mode: 'ON',
  server_id: '11',
  binlog_expire_logs_seconds: '0',
  expire_logs_days: '7.000000',
  auto_increment_increment: '1',
})

const mysqlVars = vars({
  version: '8.0.36',
  version_comment: 'MySQL Community Server - GPL',
  character_set_server: 'utf8mb4',
  collation_server: 'utf8mb4_0900_ai_ci',
  lower_case_table_names: '0',
  log_bin: 'ON',
  binlog_format: 'ROW',
  binlog_row_image: 'FULL',
  gtid_mode: 'ON',
  enforce_gtid_consistency: 'ON',
  server_id: '1',
  binlog_expire_logs_seconds: '2592000',
  expire_logs_days: '0',
  auto_increment_increment: '2',
})

const notAFunction = Object.assign(new Error('FUNCTION aurora_version does not exist'), {code: 'ER_SP_DOES_NOT_EXIST', errno: 1305})

function catalog(flavor: 'mariadb' | 'mysql'): Map<string, unknown[] | Error> {
  const mariadb = flavor === 'mariadb'
  const checks: CheckRow[] = mariadb
    ? [
        // MariaDB names a JSON column's implicit check after the column, per table
        {table_name: 'customers', constraint_name: 'profile', check_clause: 'json_valid(`profile`)'},
        {table_name: 'payment_intents', constraint_name: 'metadata', check_clause: 'json_valid(`metadata`)'},
        {table_name: 'payment_intents', constraint_name: 'ck_amount', check_clause: '`amount` >= 0'},
      ]
    : [{table_name: 'payment_intents', constraint_name: 'ck_amount', check_clause: '(`amount` >= 0)'}]
  return new Map<string, unknown[] | Error>([
    [Q.SERVER_VARIABLES, mariadb ? mariadbVars : mysqlVars],
    [Q.AURORA_VERSION, notAFunction],
    [Q.TABLES, tables],
    [Q.COLUMNS, [...customersColumns(flavor), ...(mariadb ? mariadbColumns : mysqlColumns)]],
    [mariadb ? Q.INDEX_COLUMNS : Q.INDEX_COLUMNS_WITH_EXPRESSIONS, indexRows],
    [Q.FOREIGN_KEYS, fkRows],
    [mariadb ? Q.CHECKS_MARIADB : Q.CHECKS_MYSQL, checks],
    [Q.VIEWS, [{table_name: 'v_open_intents', view_definition: 'select `payments`.`payment_intents`.`id` AS `id` from `payments`.`payment_intents`'}]],
    [
      Q.ROUTINES,
      [
        {routine_name: 'fn_fee', routine_type: 'FUNCTION', routine_definition: 'RETURN amount * 0.029'},
        {routine_name: 'sp_settle', routine_type: 'PROCEDURE', routine_definition: null},
      ],
    ],
    [Q.TRIGGERS, [{trigger_name: 'trg_intents_bi', event_object_table: 'payment_intents', action_timing: 'BEFORE', event_manipulation: 'INSERT'}]],
    [Q.EVENTS, [{event_name: 'ev_expire_keys', status: 'ENABLED'}]],
  ])
}

async function introspect(flavor: 'mariadb' | 'mysql', tablesWanted?: string[]): Promise<{model: SchemaModel; seen: string[]}> {
  const seen: string[] = []
  const query = fakeQuery(catalog(flavor), seen)
  const facts = await readServerFacts(query, endpoint)
  const model = await introspectSchema(query, facts, tablesWanted === undefined ? {} : {tables: tablesWanted})
  return {model, seen}
}

function tableOf(model: SchemaModel, name: string): TableModel {
  const t = model.tables.find((x) => x.name === name)
  if (t === undefined) throw new Error(`no table ${name}`)
  return t
}

function col(t: TableModel, name: string): ColumnModel {
  const c = t.columns.find((x) => x.name === name)
  if (c === undefined) throw new Error(`no column ${name}`)
  return c
}

describe.each(['mariadb', 'mysql'] as const)('introspecting %s catalog rows', (flavor) => {
  it('maps money, keys and temporal types exactly', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    expect(col(t, 'amount')).toEqual({
      name: 'amount',
      ordinal: 4,
      dataType: 'decimal',
      columnType: 'decimal(19,4)',
      length: null,
      precision: 19,
      scale: 4,
      unsigned: false,
      charset: null,
      collation: null,
      nullable: false,
      default: '0.0000',
      identity: null,
      generated: null,
      enumValues: null,
      sparse: false,
      serverMaintained: false,
      comment: null,
    })
    expect(col(t, 'id')).toMatchObject({dataType: 'bigint', unsigned: true, precision: 20, identity: {seed: '5001', increment: flavor === 'mysql' ? '2' : '1'}})
    expect(col(t, 'tenant_id')).toMatchObject({unsigned: true, identity: null})
    expect(col(t, 'created_at')).toMatchObject({dataType: 'datetime', columnType: 'datetime(6)', scale: 6, precision: null, default: 'CURRENT_TIMESTAMP(6)', serverMaintained: false})
    expect(col(t, 'updated_at')).toMatchObject({default: 'CURRENT_TIMESTAMP(3)', serverMaintained: true, scale: 3})
    expect(col(t, 'fingerprint')).toMatchObject({dataType: 'varbinary', columnType: 'varbinary(32)', length: 32, charset: null, default: null})
    expect(col(t, 'memo')).toMatchObject({dataType: 'text', length: 65535, nullable: true, default: null})
  })

  it('normalises defaults to one form whatever the server', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    expect(Object.fromEntries(t.columns.map((c) => [c.name, c.default]))).toEqual({
      id: null,
      tenant_id: null,
      customer_id: null,
      amount: '0.0000',
      status: "'pending'",
      note: "'it''s'",
      metadata: null,
      fingerprint: null,
      created_at: 'CURRENT_TIMESTAMP(6)',
      updated_at: 'CURRENT_TIMESTAMP(3)',
      amount_x2: null,
      amount_plus: null,
      memo: null,
      due: "'2020-01-01'",
    })
  })

  it('reports JSON columns as json, and drops the json_valid check that makes them so on MariaDB', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    expect(col(t, 'metadata')).toMatchObject({dataType: 'json', columnType: 'json', length: null, charset: null, collation: null, nullable: true})
    expect(t.checks).toEqual([{name: 'ck_amount', expression: flavor === 'mariadb' ? '`amount` >= 0' : '(`amount` >= 0)'}])
    // A LONGTEXT with a json_valid check on MariaDB, a plain LONGTEXT on MySQL.
    expect(col(tableOf(model, 'customers'), 'profile').dataType).toBe(flavor === 'mariadb' ? 'json' : 'longtext')
  })

  it('parses enum members with quotes and backslashes', async () => {
    const {model} = await introspect(flavor)
    expect(col(tableOf(model, 'payment_intents'), 'status')).toMatchObject({dataType: 'enum', enumValues: ['pending', "it's done", 'fa\\il'], length: null})
  })

  it('reads STORED and VIRTUAL generated columns', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    const paren = flavor === 'mysql'
    expect(col(t, 'amount_x2').generated).toEqual({expression: paren ? '(`amount` * 2)' : '`amount` * 2', stored: true})
    expect(col(t, 'amount_plus').generated).toEqual({expression: paren ? '(`amount` + 1)' : '`amount` + 1', stored: false})
  })

  it('groups keys and indexes in key-part order, with direction and prefix', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    expect(t.primaryKey).toEqual({
      name: 'PRIMARY',
      columns: [
        {name: 'tenant_id', descending: false, prefixLength: null},
        {name: 'id', descending: false, prefixLength: null},
      ],
    })
    expect(t.indexes.map((i) => i.name)).toEqual(['PRIMARY', 'fk_customer', 'ix_created', 'ix_note'])
    expect(t.indexes.find((i) => i.name === 'ix_created')).toEqual({
      name: 'ix_created',
      columns: [
        {name: 'created_at', descending: true, prefixLength: null},
        {name: 'id', descending: false, prefixLength: null},
      ],
      unique: false,
      primary: false,
      kind: 'btree',
      included: [],
      filter: null,
    })
    expect(t.indexes.find((i) => i.name === 'ix_note')?.columns).toEqual([{name: 'note', descending: false, prefixLength: 10}])
    expect(t.uniqueKeys).toEqual([])
    expect(tableOf(model, 'customers').uniqueKeys).toEqual([{name: 'uq_email', columns: [{name: 'email', descending: false, prefixLength: null}]}])
  })

  it('reads a composite foreign key in column order with its rules', async () => {
    const {model} = await introspect(flavor)
    expect(tableOf(model, 'payment_intents').foreignKeys).toEqual([
      {
        name: 'fk_customer',
        columns: ['tenant_id', 'customer_id'],
        referencedSchema: 'payments',
        referencedTable: 'customers',
        referencedColumns: ['tenant_id', 'id'],
        onUpdate: 'RESTRICT',
        onDelete: 'CASCADE',
        enabled: true,
      },
    ])
  })

  it('reads sizes, estimates, options and the other objects', async () => {
    const {model} = await introspect(flavor)
    const t = tableOf(model, 'payment_intents')
    expect(t).toMatchObject({schema: 'payments', rowEstimate: 5000, dataBytes: 1589248, indexBytes: 704512, comment: 'one per checkout', collation: 'utf8mb4_general_ci'})
    expect(t.features).toMatchObject({partitioned: true, storageEngine: 'InnoDB'})
    expect(tableOf(model, 'customers')).toMatchObject({rowEstimate: 1200, dataBytes: 196608, comment: null, features: {partitioned: false}})
    expect(model.views).toEqual([{schema: 'payments', name: 'v_open_intents', definition: expect.stringContaining('from `payments`.`payment_intents`') as unknown}])
    expect(model.routines).toEqual([
      {schema: 'payments', name: 'fn_fee', kind: 'function', definition: 'RETURN amount * 0.029'},
      {schema: 'payments', name: 'sp_settle', kind: 'procedure', definition: null},
    ])
    expect(model.triggers).toEqual([{schema: 'payments', name: 'trg_intents_bi', table: 'payment_intents', timing: 'BEFORE', events: ['INSERT'], enabled: true}])
    expect(model.events).toEqual([{schema: 'payments', name: 'ev_expire_keys', status: 'ENABLED'}])
    expect(() => new Date(model.introspectedAt).toISOString()).not.toThrow()
    // JSON-safe: what `--json` prints is the model itself
    expect(JSON.parse(JSON.stringify(model))).toEqual(model)
  })

  it('keeps only the requested tables, and refuses an unknown one', async () => {
    const {model} = await introspect(flavor, ['payments.customers'])
    expect(model.tables.map((t) => t.name)).toEqual(['customers'])
    await expect(introspect(flavor, ['customers', 'nope'])).rejects.toSatisfy(
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && e.message.includes('nope') && !e.message.includes('customers'),
    )
  })
})

describe('MariaDB and MySQL describe the same table the same way', () => {
  it('differs only where the servers really differ (display widths, collations, generated-expression parentheses)', async () => {
    const [a, b] = await Promise.all([introspect('mariadb'), introspect('mysql')])
    const strip = (m: SchemaModel): unknown =>
      tableOf(m, 'payment_intents').columns.map(({columnType: _t, collation: _c, generated: _g, identity: _i, ...rest}) => rest)
    expect(strip(a.model)).toEqual(strip(b.model))
  })
})

describe('normalizeDefault', () => {
  it('MariaDB >= 10.2.7: the catalog already holds an expression', () => {
    expect(normalizeDefault('NULL', 'varchar', '', 'expression')).toBeNull()
    expect(normalizeDefault("'NULL'", 'varchar', '', 'expression')).toBe("'NULL'")
    expect(normalizeDefault("'pending'", 'enum', '', 'expression')).toBe("'pending'")
    expect(normalizeDefault('current_timestamp()', 'datetime', '', 'expression')).toBe('CURRENT_TIMESTAMP')
    expect(normalizeDefault('current_timestamp(6)', 'datetime', '', 'expression')).toBe('CURRENT_TIMESTAMP(6)')
    expect(normalizeDefault('uuid()', 'char', '', 'expression')).toBe('uuid()')
    expect(normalizeDefault("b'1'", 'bit', '', 'expression')).toBe("b'1'")
    expect(normalizeDefault('-1.50', 'decimal', '', 'expression')).toBe('-1.50')
  })

  it('MySQL / TiDB / Aurora: bare values are quoted by type, DEFAULT_GENERATED marks expressions', () => {
    expect(normalizeDefault(null, 'varchar', '', 'value')).toBeNull()
    expect(normalizeDefault('NULL', 'varchar', '', 'value')).toBe("'NULL'")
    expect(normalizeDefault("it's \\ x", 'varchar', '', 'value')).toBe("'it''s \\\\ x'")
    expect(normalizeDefault('', 'varchar', '', 'value')).toBe("''")
    expect(normalizeDefault('0.0000', 'decimal', '', 'value')).toBe('0.0000')
    expect(normalizeDefault('2020', 'year', '', 'value')).toBe('2020')
    expect(normalizeDefault('CURRENT_TIMESTAMP', 'timestamp', 'DEFAULT_GENERATED', 'value')).toBe('CURRENT_TIMESTAMP')
    // MySQL 5.7 has no DEFAULT_GENERATED
    expect(normalizeDefault('CURRENT_TIMESTAMP', 'timestamp', 'on update CURRENT_TIMESTAMP', 'value')).toBe('CURRENT_TIMESTAMP')
    expect(normalizeDefault('uuid()', 'char', 'DEFAULT_GENERATED', 'value')).toBe('uuid()')
    expect(normalizeDefault('0x6162', 'varbinary', '', 'value')).toBe('0x6162')
    expect(normalizeDefault("b'1'", 'bit', '', 'value')).toBe("b'1'")
    expect(normalizeDefault('2020-01-01 00:00:00.000000', 'datetime', '', 'value')).toBe("'2020-01-01 00:00:00.000000'")
  })

  it('a generated column has no default', () => {
    expect(normalizeDefault('NULL', 'decimal', 'STORED GENERATED', 'expression')).toBeNull()
  })
})

describe('parseEnumValues', () => {
  it('unquotes members', () => {
    expect(parseEnumValues("enum('a','b c')")).toEqual(['a', 'b c'])
    expect(parseEnumValues("set('x','it''s','a,b','back\\\\slash','\\'q')")).toEqual(['x', "it's", 'a,b', 'back\\slash', "'q"])
    expect(parseEnumValues("enum('')")).toEqual([''])
    expect(parseEnumValues('varchar(10)')).toBeNull()
  })

  it('refuses a malformed list instead of guessing', () => {
    expect(() => parseEnumValues("enum('open)")).toThrow(/Unterminated/)
    expect(() => parseEnumValues('enum(open)')).toThrow(/Cannot parse/)
  })
})

describe('jsonValidColumn', () => {
  it('recognises MariaDB JSON checks only', () => {
    expect(jsonValidColumn('json_valid(`payload`)')).toBe('payload')
    expect(jsonValidColumn('json_valid(`we``ird`)')).toBe('we`ird')
    expect(jsonValidColumn('json_valid(`a`) and `b` > 0')).toBeNull()
    expect(jsonValidColumn('`amount` >= 0')).toBeNull()
  })
})

describe('flavor and version detection', () => {
  it('TiDB from its version string, with its own release as the version', async () => {
    const query = fakeQuery(
      new Map<string, unknown[] | Error>([
        [Q.SERVER_VARIABLES, vars({version: '8.0.11-TiDB-v7.5.1', version_comment: 'TiDB Server (Apache License 2.0) Community Edition, MySQL 8.0 compatible', log_bin: 'OFF'})],
        [Q.TIDB_VERSION, [{v: 'Release Version: v7.5.1\nEdition: Community\nGit Commit Hash: 7d16cc79e81bbf573124df3fd9351c26963f3e70'}]],
      ]),
    )
    const {info, flavor} = await readServerFacts(query, endpoint)
    expect(flavor).toBe('tidb')
    expect(info.flavor).toBe('tidb')
    expect(info.version).toEqual({raw: '8.0.11-TiDB-v7.5.1', major: 7, minor: 5, patch: 1})
    expect(info.changeCapture).toMatchObject({kind: 'binlog', logBin: false, gtidMode: null, gtidStrictMode: null})
  })

  it('TiDB whose server-version hides it: version_comment and tidb_version() still tell', async () => {
    const query = fakeQuery(
      new Map<string, unknown[] | Error>([
        [Q.SERVER_VARIABLES, vars({version: '5.7.25', version_comment: 'TiDB Server (Apache License 2.0) Community Edition, MySQL 5.7 compatible'})],
        [Q.TIDB_VERSION, [{v: 'Release Version: v6.5.3\nEdition: Community'}]],
      ]),
    )
    const {info} = await readServerFacts(query, endpoint)
    expect(info.flavor).toBe('tidb')
    expect(info.version).toMatchObject({major: 6, minor: 5, patch: 3})
  })

  it('Aurora MySQL from the aurora_version variable', async () => {
    const seen: string[] = []
    const query = fakeQuery(new Map([[Q.SERVER_VARIABLES, vars({version: '8.0.28', version_comment: 'Source distribution', aurora_version: '3.04.0'})]]), seen)
    const {info} = await readServerFacts(query, endpoint)
    expect(info).toMatchObject({flavor: 'aurora-mysql', edition: 'Aurora MySQL 3.04.0', version: {major: 8, minor: 0, patch: 28}})
    expect(seen).toEqual([Q.SERVER_VARIABLES])
  })

  it('Aurora MySQL from AURORA_VERSION() when the variable is missing', async () => {
    const query = fakeQuery(
      new Map<string, unknown[] | Error>([
        [Q.SERVER_VARIABLES, vars({version: '5.6.10', version_comment: 'Source distribution'})],
        [Q.AURORA_VERSION, [{v: '1.23.4'}]],
      ]),
    )
    expect((await readServerFacts(query, endpoint)).info).toMatchObject({flavor: 'aurora-mysql', edition: 'Aurora MySQL 1.23.4'})
  })

  it('MySQL when AURORA_VERSION() does not exist, but a different failure is not taken for "not Aurora"', async () => {
    const mysql = fakeQuery(new Map<string, unknown[] | Error>([[Q.SERVER_VARIABLES, mysqlVars], [Q.AURORA_VERSION, notAFunction]]))
    const {info} = await readServerFacts(mysql, endpoint)
    expect(info).toMatchObject({flavor: 'mysql', edition: 'MySQL Community Server - GPL', host: 'db.internal', port: 3306, database: 'payments', charset: 'utf8mb4', lowerCaseTableNames: 0})
    expect(info.changeCapture).toEqual({
      kind: 'binlog',
      logBin: true,
      binlogFormat: 'ROW',
      binlogRowImage: 'FULL',
      gtidMode: 'ON',
      gtidStrictMode: null,
      enforceGtidConsistency: 'ON',
      serverId: 1,
      retentionSeconds: 2592000,
    })
    const lost = Object.assign(new Error('Connection lost: The server closed the connection.'), {code: 'PROTOCOL_CONNECTION_LOST'})
    const flaky = fakeQuery(new Map<string, unknown[] | Error>([[Q.SERVER_VARIABLES, mysqlVars], [Q.AURORA_VERSION, lost]]))
    await expect(readServerFacts(flaky, endpoint)).rejects.toBe(lost)
  })

  it('MariaDB, whose GTIDs are always on', async () => {
    const query = fakeQuery(new Map<string, unknown[] | Error>([[Q.SERVER_VARIABLES, mariadbVars]]))
    const {info} = await readServerFacts(query, endpoint)
    expect(info).toMatchObject({flavor: 'mariadb', edition: 'Debian 12', version: {major: 10, minor: 11, patch: 6}})
    expect(info.changeCapture).toEqual({
      kind: 'binlog',
      logBin: true,
      binlogFormat: 'ROW',
      binlogRowImage: 'FULL',
      gtidMode: 'ON',
      gtidStrictMode: true,
      enforceGtidConsistency: null,
      serverId: 11,
      retentionSeconds: 604800,
    })
  })

  it('detectFlavor and serverVersionOf on bare strings', () => {
    expect(detectFlavor('8.0.11-TiDB-v7.5.1', null, null)).toBe('tidb')
    expect(detectFlavor('10.11.6-MariaDB', 'mariadb.org binary distribution', null)).toBe('mariadb')
    expect(detectFlavor('5.5.5-10.11.6-MariaDB', null, null)).toBe('mariadb')
    expect(detectFlavor('8.0.28', 'Source distribution', '3.04.0')).toBe('aurora-mysql')
    expect(detectFlavor('8.0.36', 'MySQL Community Server - GPL', null)).toBe('mysql')
    expect(serverVersionOf('mysql', '8.0.36-0ubuntu0.22.04.1', null)).toEqual({raw: '8.0.36-0ubuntu0.22.04.1', major: 8, minor: 0, patch: 36})
  })
})

describe('what each server version can be asked', () => {
  it('reads CHECK constraints only where information_schema has them', () => {
    expect(checkConstraintsQuery('mysql', parseVersion('8.0.15'))).toBeNull()
    expect(checkConstraintsQuery('mysql', parseVersion('8.0.16'))).toBe(Q.CHECKS_MYSQL)
    expect(checkConstraintsQuery('aurora-mysql', parseVersion('5.7.12'))).toBeNull()
    expect(checkConstraintsQuery('aurora-mysql', parseVersion('8.0.28'))).toBe(Q.CHECKS_MYSQL)
    expect(checkConstraintsQuery('mariadb', parseVersion('10.2.21-MariaDB'))).toBeNull()
    expect(checkConstraintsQuery('mariadb', parseVersion('10.2.22-MariaDB'))).toBe(Q.CHECKS_MARIADB)
    expect(checkConstraintsQuery('mariadb', parseVersion('10.3.9-MariaDB'))).toBeNull()
    expect(checkConstraintsQuery('mariadb', parseVersion('10.11.6-MariaDB'))).toBe(Q.CHECKS_MARIADB)
    expect(checkConstraintsQuery('mariadb', parseVersion('11.4.2-MariaDB'))).toBe(Q.CHECKS_MARIADB)
    expect(checkConstraintsQuery('tidb', parseVersion('7.5.1'))).toBeNull()
  })

  it('reads functional key parts only on MySQL 8.0.13+', () => {
    expect(indexColumnsQuery('mysql', parseVersion('8.0.12'))).toBe(Q.INDEX_COLUMNS)
    expect(indexColumnsQuery('mysql', parseVersion('8.0.13'))).toBe(Q.INDEX_COLUMNS_WITH_EXPRESSIONS)
    expect(indexColumnsQuery('mariadb', parseVersion('10.11.6'))).toBe(Q.INDEX_COLUMNS)
  })

  it('a MySQL 5.7 server is never sent the CHECK_CONSTRAINTS query', async () => {
    const answers = catalog('mysql')
    answers.set(Q.SERVER_VARIABLES, vars({version: '5.7.44-log', version_comment: 'MySQL Community Server (GPL)', log_bin: 'ON'}))
    answers.set(Q.INDEX_COLUMNS, indexRows)
    answers.delete(Q.CHECKS_MYSQL)
    const seen: string[] = []
    const query = fakeQuery(answers, seen)
    const model = await introspectSchema(query, await readServerFacts(query, endpoint))
    expect(seen.some((s) => s.includes('CHECK_CONSTRAINTS'))).toBe(false)
    expect(tableOf(model, 'payment_intents').checks).toEqual([])
  })

  it('a functional key part is named by its expression', async () => {
    const answers = catalog('mysql')
    answers.set(Q.INDEX_COLUMNS_WITH_EXPRESSIONS, [
      ...indexRows,
      ix('customers', 'ix_email_lower', 1, null, {expression: 'lower(`email`)'}),
    ])
    const query = fakeQuery(answers)
    const model = await introspectSchema(query, await readServerFacts(query, endpoint))
    expect(tableOf(model, 'customers').indexes.find((i) => i.name === 'ix_email_lower')?.columns).toEqual([{name: '(lower(`email`))', descending: false, prefixLength: null}])
  })
})
