/**
 * Catalog rows for a realistic payments database, shaped as SQL Server returns them through
 * tedious (bit -> boolean, bigint -> string, char(2) type codes with their trailing space). The
 * values per type (max_length, precision, scale) follow the sys.columns documentation.
 */
import type {
  AgentStatusRow,
  CdcCaptureInstanceRow,
  CdcRetentionRow,
  CheckConstraintRow,
  ColumnRow,
  ForeignKeyColumnRow,
  IndexColumnRow,
  RoutineRow,
  SequenceRow,
  ServerInfoRow,
  TableRow,
  TableSizeRow,
  TriggerEventRow,
  ViewRow,
} from '../../../../src/engines/sqlserver/sqlserver-introspector.js'

export const serverInfoRow: ServerInfoRow = {
  product_version: '16.0.4115.5',
  edition: 'Developer Edition (64-bit)',
  engine_edition: 3,
  version:
    'Microsoft SQL Server 2022 (RTM-CU12) (KB5033663) - 16.0.4115.5 (X64) \n\tMar  4 2024 08:56:10 \n\tCopyright (C) 2022 Microsoft Corporation\n\tDeveloper Edition (64-bit) on Linux (Ubuntu 22.04.4 LTS) <X64>',
  database_name: 'Payments',
  collation_name: 'SQL_Latin1_General_CP1_CI_AS',
  code_page: 1252,
  recovery_model_desc: 'FULL',
  is_cdc_enabled: true,
  is_change_tracking_enabled: true,
  retention_period: 2,
  retention_period_units_desc: 'DAYS',
  is_auto_cleanup_on: true,
}

export const agentRows: AgentStatusRow[] = [{servicename: 'SQL Server Agent (MSSQLSERVER)', status_desc: 'Running'}]
export const cdcRetentionRows: CdcRetentionRow[] = [{retention: '4320'}]

function table(schema_name: string, table_name: string, extra: Partial<TableRow> = {}): TableRow {
  return {
    schema_name,
    table_name,
    is_memory_optimized: false,
    temporal_type: 0,
    history_schema_name: null,
    history_table_name: null,
    is_tracked_by_cdc: false,
    is_change_tracked: false,
    is_partitioned: false,
    partition_count: 1,
    row_estimate: '0',
    comment: null,
    ...extra,
  }
}

export const tableRows: TableRow[] = [
  table('pay', 'customers', {row_estimate: '1200'}),
  table('pay', 'ledger_entries', {row_estimate: '88000', is_partitioned: true, partition_count: 12}),
  table('pay', 'payments', {row_estimate: '50000', is_tracked_by_cdc: true, comment: 'One row per payment intent.'}),
  table('pay', 'refunds', {row_estimate: '300', is_change_tracked: true}),
  table('pay', 'session_cache', {is_memory_optimized: true, row_estimate: '0'}),
  table('pay', 'wallets', {temporal_type: 2, history_schema_name: 'pay', history_table_name: 'wallets_history', row_estimate: '900'}),
  table('pay', 'wallets_history', {temporal_type: 1, row_estimate: '4000'}),
]

export const tableSizeRows: TableSizeRow[] = [
  {schema_name: 'pay', table_name: 'customers', row_count: '1200', reserved_page_count: '24', used_page_count: '20', data_page_count: '16'},
  {schema_name: 'pay', table_name: 'payments', row_count: '50213', reserved_page_count: '2100', used_page_count: '2050', data_page_count: '1800'},
]

function col(schema_name: string, table_name: string, column_id: number, column_name: string, type_name: string, extra: Partial<ColumnRow> = {}): ColumnRow {
  return {
    schema_name,
    table_name,
    column_id,
    column_name,
    type_name,
    is_user_defined: false,
    base_type_name: type_name,
    max_length: 4,
    precision: 0,
    scale: 0,
    is_nullable: false,
    is_identity: false,
    seed_value: null,
    increment_value: null,
    is_computed: false,
    computed_definition: null,
    is_persisted: null,
    is_sparse: false,
    generated_always_type: 0,
    collation_name: null,
    code_page: null,
    default_constraint_name: null,
    default_definition: null,
    comment: null,
    ...extra,
  }
}

const latin = {collation_name: 'SQL_Latin1_General_CP1_CI_AS', code_page: 1252}
const identity = {is_identity: true, seed_value: '1', increment_value: '1'}

export const columnRows: ColumnRow[] = [
  col('pay', 'customers', 1, 'customer_id', 'bigint', {max_length: 8, precision: 19, ...identity}),
  col('pay', 'customers', 2, 'full_name', 'nvarchar', {max_length: 400, ...latin}),

  col('pay', 'ledger_entries', 1, 'account_id', 'int', {max_length: 4, precision: 10}),
  col('pay', 'ledger_entries', 2, 'entry_no', 'bigint', {max_length: 8, precision: 19}),
  col('pay', 'ledger_entries', 3, 'payment_id', 'bigint', {max_length: 8, precision: 19}),
  col('pay', 'ledger_entries', 4, 'amount', 'decimal', {max_length: 9, precision: 19, scale: 4}),

  col('pay', 'payments', 1, 'payment_id', 'bigint', {max_length: 8, precision: 19, is_identity: true, seed_value: '1000000', increment_value: '1'}),
  col('pay', 'payments', 2, 'customer_id', 'bigint', {max_length: 8, precision: 19}),
  col('pay', 'payments', 3, 'amount', 'Amount', {is_user_defined: true, base_type_name: 'decimal', max_length: 9, precision: 19, scale: 4}),
  col('pay', 'payments', 4, 'fee', 'money', {max_length: 8, precision: 19, scale: 4, default_constraint_name: 'DF_payments_fee', default_definition: '((0))'}),
  col('pay', 'payments', 5, 'fx_fee', 'smallmoney', {max_length: 4, precision: 10, scale: 4, is_nullable: true}),
  col('pay', 'payments', 6, 'created_at', 'datetime2', {
    max_length: 8,
    precision: 27,
    scale: 7,
    default_constraint_name: 'DF_payments_created_at',
    default_definition: '(sysutcdatetime())',
  }),
  col('pay', 'payments', 7, 'authorized_at', 'datetimeoffset', {max_length: 10, precision: 34, scale: 7, is_nullable: true}),
  col('pay', 'payments', 8, 'public_id', 'uniqueidentifier', {
    max_length: 16,
    default_constraint_name: 'DF_payments_public_id',
    default_definition: '(newsequentialid())',
  }),
  col('pay', 'payments', 9, 'notes', 'nvarchar', {max_length: -1, is_nullable: true, ...latin, comment: 'Free text from the operator.'}),
  col('pay', 'payments', 10, 'receipt_pdf', 'varbinary', {max_length: -1, is_nullable: true}),
  col('pay', 'payments', 11, 'row_ver', 'timestamp', {max_length: 8}),
  col('pay', 'payments', 12, 'gateway_response', 'xml', {max_length: -1, is_nullable: true}),
  col('pay', 'payments', 13, 'merchant_location', 'geography', {max_length: -1, is_nullable: true}),
  col('pay', 'payments', 14, 'org_path', 'hierarchyid', {max_length: 892, is_nullable: true}),
  col('pay', 'payments', 15, 'extra', 'sql_variant', {max_length: 8016, is_nullable: true}),
  col('pay', 'payments', 16, 'is_test', 'bit', {max_length: 1, precision: 1, default_constraint_name: 'DF_payments_is_test', default_definition: '((0))'}),
  col('pay', 'payments', 17, 'status', 'tinyint', {max_length: 1, precision: 3}),
  col('pay', 'payments', 18, 'amount_cents', 'bigint', {
    max_length: 8,
    precision: 19,
    is_nullable: true,
    is_computed: true,
    computed_definition: '(CONVERT([bigint],[amount]*(100)))',
    is_persisted: true,
  }),
  col('pay', 'payments', 19, 'amount_display', 'nvarchar', {
    max_length: 8000,
    is_nullable: true,
    is_computed: true,
    computed_definition: "(format([amount],'N2'))",
    is_persisted: false,
    ...latin,
  }),
  col('pay', 'payments', 20, 'promo_code', 'varchar', {max_length: 32, is_nullable: true, is_sparse: true, ...latin}),
  col('pay', 'payments', 21, 'merchant_ref', 'nvarchar', {max_length: 128, is_nullable: true, ...latin}),

  col('pay', 'refunds', 1, 'refund_id', 'int', {max_length: 4, precision: 10, ...identity}),
  col('pay', 'refunds', 2, 'payment_id', 'bigint', {max_length: 8, precision: 19}),

  col('pay', 'session_cache', 1, 'session_id', 'uniqueidentifier', {max_length: 16}),
  col('pay', 'session_cache', 2, 'payload', 'nvarchar', {max_length: 8000, ...{collation_name: 'Latin1_General_100_BIN2', code_page: 1252}}),

  col('pay', 'wallets', 1, 'wallet_id', 'int', {max_length: 4, precision: 10}),
  col('pay', 'wallets', 2, 'balance', 'decimal', {max_length: 9, precision: 19, scale: 4}),
  col('pay', 'wallets', 3, 'valid_from', 'datetime2', {max_length: 8, precision: 27, scale: 7, generated_always_type: 1}),
  col('pay', 'wallets', 4, 'valid_to', 'datetime2', {max_length: 8, precision: 27, scale: 7, generated_always_type: 2}),

  col('pay', 'wallets_history', 1, 'wallet_id', 'int', {max_length: 4, precision: 10}),
  col('pay', 'wallets_history', 2, 'balance', 'decimal', {max_length: 9, precision: 19, scale: 4}),
  col('pay', 'wallets_history', 3, 'valid_from', 'datetime2', {max_length: 8, precision: 27, scale: 7}),
  col('pay', 'wallets_history', 4, 'valid_to', 'datetime2', {max_length: 8, precision: 27, scale: 7}),
]

function ix(
  schema_name: string,
  table_name: string,
  index_id: number,
  index_name: string,
  type_desc: string,
  column_name: string,
  index_column_id: number,
  key_ordinal: number,
  extra: Partial<IndexColumnRow> = {},
): IndexColumnRow {
  return {
    schema_name,
    table_name,
    index_id,
    index_name,
    type_desc,
    is_primary_key: false,
    is_unique: false,
    is_unique_constraint: false,
    has_filter: false,
    filter_definition: null,
    index_column_id,
    key_ordinal,
    is_descending_key: false,
    is_included_column: false,
    column_name,
    ...extra,
  }
}

const pk = {is_primary_key: true, is_unique: true}
const filteredUnique = {is_unique: true, has_filter: true, filter_definition: '([merchant_ref] IS NOT NULL)'}

export const indexRows: IndexColumnRow[] = [
  ix('pay', 'customers', 1, 'PK_customers', 'CLUSTERED', 'customer_id', 1, 1, pk),
  // composite primary key, second column descending; the partitioning column is the key's first column
  ix('pay', 'ledger_entries', 1, 'PK_ledger_entries', 'CLUSTERED', 'account_id', 1, 1, pk),
  ix('pay', 'ledger_entries', 1, 'PK_ledger_entries', 'CLUSTERED', 'entry_no', 2, 2, {...pk, is_descending_key: true}),
  // a non-unique index on a partitioned table: SQL Server adds the partitioning column with key_ordinal 0
  ix('pay', 'ledger_entries', 2, 'IX_ledger_entries_payment', 'NONCLUSTERED', 'payment_id', 1, 1),
  ix('pay', 'ledger_entries', 2, 'IX_ledger_entries_payment', 'NONCLUSTERED', 'account_id', 2, 0),
  ix('pay', 'ledger_entries', 3, 'CCI_ledger_entries', 'NONCLUSTERED COLUMNSTORE', 'account_id', 1, 0),
  ix('pay', 'ledger_entries', 3, 'CCI_ledger_entries', 'NONCLUSTERED COLUMNSTORE', 'amount', 2, 0),
  ix('pay', 'payments', 1, 'PK_payments', 'CLUSTERED', 'payment_id', 1, 1, pk),
  ix('pay', 'payments', 2, 'UQ_payments_public_id', 'NONCLUSTERED', 'public_id', 1, 1, {is_unique: true, is_unique_constraint: true}),
  // ordered as INDEXES_QUERY orders them: key columns, then INCLUDE columns by index_column_id
  ix('pay', 'payments', 3, 'UX_payments_merchant_ref', 'NONCLUSTERED', 'merchant_ref', 1, 1, filteredUnique),
  ix('pay', 'payments', 3, 'UX_payments_merchant_ref', 'NONCLUSTERED', 'status', 2, 0, {...filteredUnique, is_included_column: true}),
  ix('pay', 'payments', 3, 'UX_payments_merchant_ref', 'NONCLUSTERED', 'amount', 3, 0, {...filteredUnique, is_included_column: true}),
  ix('pay', 'payments', 4, 'SIX_payments_location', 'SPATIAL', 'merchant_location', 1, 0),
  ix('pay', 'refunds', 1, 'PK_refunds', 'CLUSTERED', 'refund_id', 1, 1, pk),
  ix('pay', 'session_cache', 2, 'PK_session_cache', 'NONCLUSTERED HASH', 'session_id', 1, 1, pk),
  ix('pay', 'wallets', 1, 'PK_wallets', 'CLUSTERED', 'wallet_id', 1, 1, pk),
  ix('pay', 'wallets_history', 1, 'ix_wallets_history', 'CLUSTERED', 'valid_to', 1, 1),
  ix('pay', 'wallets_history', 1, 'ix_wallets_history', 'CLUSTERED', 'valid_from', 2, 2),
]

export const foreignKeyRows: ForeignKeyColumnRow[] = [
  {
    schema_name: 'pay',
    table_name: 'ledger_entries',
    constraint_name: 'FK_ledger_entries_payments',
    constraint_column_id: 1,
    column_name: 'payment_id',
    referenced_schema_name: 'pay',
    referenced_table_name: 'payments',
    referenced_column_name: 'payment_id',
    update_referential_action_desc: 'NO_ACTION',
    delete_referential_action_desc: 'NO_ACTION',
    is_disabled: true,
    is_not_trusted: true,
  },
  {
    schema_name: 'pay',
    table_name: 'payments',
    constraint_name: 'FK_payments_customers',
    constraint_column_id: 1,
    column_name: 'customer_id',
    referenced_schema_name: 'pay',
    referenced_table_name: 'customers',
    referenced_column_name: 'customer_id',
    update_referential_action_desc: 'NO_ACTION',
    delete_referential_action_desc: 'CASCADE',
    is_disabled: false,
    is_not_trusted: false,
  },
  {
    schema_name: 'pay',
    table_name: 'refunds',
    constraint_name: 'FK_refunds_payments',
    constraint_column_id: 1,
    column_name: 'payment_id',
    referenced_schema_name: 'pay',
    referenced_table_name: 'payments',
    referenced_column_name: 'payment_id',
    update_referential_action_desc: 'CASCADE',
    delete_referential_action_desc: 'SET_NULL',
    is_disabled: false,
    is_not_trusted: false,
  },
]

export const checkRows: CheckConstraintRow[] = [
  {schema_name: 'pay', table_name: 'payments', constraint_name: 'CK_payments_amount', definition: '([amount]>=(0))', is_disabled: false, is_not_trusted: false},
]

export const viewRows: ViewRow[] = [
  {
    schema_name: 'pay',
    view_name: 'v_daily_totals',
    definition: 'CREATE VIEW pay.v_daily_totals AS SELECT CAST(created_at AS date) AS day, SUM(amount) AS total FROM pay.payments GROUP BY CAST(created_at AS date)',
  },
]

export const routineRows: RoutineRow[] = [
  {schema_name: 'pay', routine_name: 'fn_fee', type: 'FN', type_desc: 'SQL_SCALAR_FUNCTION', definition: 'CREATE FUNCTION pay.fn_fee(@amount decimal(19,4)) RETURNS money AS BEGIN RETURN @amount * 0.029 END'},
  {schema_name: 'pay', routine_name: 'usp_capture_payment', type: 'P ', type_desc: 'SQL_STORED_PROCEDURE', definition: 'CREATE PROCEDURE pay.usp_capture_payment @payment_id bigint AS UPDATE pay.payments SET status = 2 WHERE payment_id = @payment_id'},
]

export const triggerRows: TriggerEventRow[] = [
  {schema_name: 'pay', table_name: 'payments', trigger_name: 'trg_payments_audit', is_instead_of_trigger: false, is_disabled: false, event_type_desc: 'INSERT'},
  {schema_name: 'pay', table_name: 'payments', trigger_name: 'trg_payments_audit', is_instead_of_trigger: false, is_disabled: false, event_type_desc: 'UPDATE'},
  {schema_name: 'pay', table_name: 'refunds', trigger_name: 'trg_refunds_block_delete', is_instead_of_trigger: true, is_disabled: true, event_type_desc: 'DELETE'},
]

export const sequenceRows: SequenceRow[] = [
  {schema_name: 'pay', sequence_name: 'invoice_numbers', type_name: 'bigint', start_value: '1000', increment: '1', current_value: '1841'},
]

export const cdcRows: CdcCaptureInstanceRow[] = [
  {schema_name: 'pay', table_name: 'payments', capture_instance: 'pay_payments', supports_net_changes: true},
]
