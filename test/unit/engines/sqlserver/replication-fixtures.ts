/**
 * Column and table models for the SQL Server replication tests, shaped as the introspector maps
 * sys.columns rows (mapColumn): base type names, lengths in characters, scale of temporal types.
 */
import type {ColumnModel, TableModel} from '../../../../src/engines/model.js'
import {emptyFeatures} from '../../../../src/engines/model.js'

export function col(name: string, dataType: string, columnType: string = dataType, extra: Partial<ColumnModel> = {}): ColumnModel {
  return {
    name,
    ordinal: 1,
    dataType,
    columnType,
    length: null,
    precision: null,
    scale: null,
    unsigned: false,
    charset: null,
    collation: null,
    nullable: true,
    default: null,
    identity: null,
    generated: null,
    enumValues: null,
    sparse: false,
    serverMaintained: false,
    comment: null,
    ...extra,
  }
}

/** dbo.payments: identity bigint key, money, datetime2(7), datetimeoffset, uniqueidentifier, bit, real, rowversion, a computed column. */
export const paymentColumns: ColumnModel[] = [
  col('payment_id', 'bigint', 'bigint', {nullable: false, identity: {seed: '1', increment: '1'}, precision: 19, scale: 0}),
  col('amount', 'decimal', 'decimal(19,4)', {precision: 19, scale: 4, nullable: false}),
  col('fee', 'money', 'money', {precision: 19, scale: 4}),
  col('created_at', 'datetime2', 'datetime2(7)', {scale: 7}),
  col('authorized_at', 'datetimeoffset', 'datetimeoffset(3)', {scale: 3}),
  col('public_id', 'uniqueidentifier'),
  col('is_test', 'bit'),
  col('rate', 'real', 'real', {precision: 24}),
  col('receipt', 'varbinary', 'varbinary(max)', {length: -1}),
  col('row_ver', 'rowversion', 'rowversion', {serverMaintained: true}),
  col('amount_cents', 'bigint', 'bigint', {generated: {expression: '(CONVERT([bigint],[amount]*(100)))', stored: true}}),
]

export function table(schema: string, name: string, columns: ColumnModel[], key: string[], cdcCaptureInstances: string[] = []): TableModel {
  return {
    schema,
    name,
    columns,
    primaryKey: {name: `PK_${name}`, columns: key.map((k) => ({name: k, descending: false, prefixLength: null}))},
    uniqueKeys: [],
    indexes: [],
    foreignKeys: [],
    checks: [],
    rowEstimate: 0,
    dataBytes: 0,
    indexBytes: 0,
    collation: null,
    comment: null,
    features: {...emptyFeatures(), cdcCaptureInstances},
  }
}

export const payments = table('dbo', 'payments', paymentColumns, ['payment_id'], ['dbo_payments'])

/** dbo.ledger_entries: composite key (int, bigint), decimal amount. */
export const ledger = table(
  'dbo',
  'ledger_entries',
  [
    col('account_id', 'int', 'int', {nullable: false, precision: 10, scale: 0}),
    col('entry_no', 'bigint', 'bigint', {nullable: false, precision: 19, scale: 0}),
    col('amount', 'decimal', 'decimal(19,4)', {precision: 19, scale: 4}),
    col('memo', 'nchar', 'nchar(10)', {length: 10}),
  ],
  ['account_id', 'entry_no'],
  ['dbo_ledger_entries'],
)

/** An LSN as tedious returns a binary(10): a 10-byte Buffer. */
export function lsn(hex: string): Buffer {
  return Buffer.from(hex.padStart(20, '0'), 'hex')
}
