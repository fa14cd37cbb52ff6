/**
 * The SQL payctl verify runs on MySQL-family servers: the key `n` rows further (chunk boundaries),
 * a key range's rows in key order (row diff, client-side hashing), and the chunk hash computed by
 * the server (pushdown).
 *
 * Pushdown hash of a range: each row becomes an unambiguous text (per column `N` for NULL, else
 * `V<byte length>:<value text>`), hashed with MD5; the chunk's hash is the count plus two SUMs of
 * 60-bit slices of the row hashes (order-independent, exact DECIMAL sums, never XOR-folded, so
 * equal changes on two rows cannot cancel). Value texts per type: strings converted to utf8mb4
 * (bytes, so a case-only change or a trailing space changes the hash whatever the collation says),
 * binary and BIT as HEX, JSON normalised (MariaDB JSON_NORMALIZE: sorted keys, no whitespace;
 * MySQL/TiDB/Aurora: the JSON type's own normalised text), everything else CAST AS CHAR in the
 * session's UTC time zone. Two servers' hashes are comparable only when both run the same
 * expressions over the same column types; payctl verify checks that before choosing pushdown.
 */
import type {ColumnModel} from '../model.js'
import type {ReplicaTable} from '../replication.js'
import {mysqlDialect} from './mysql-dialect.js'
import {keyPredicate} from './mysql-replication-sql.js'

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

export type JsonDialect = 'mariadb' | 'mysql'

const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit'])
const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])

/** The text a column's value is hashed as (see the header); null-safe handling is added by rowTextSql. */
export function valueTextSql(column: Pick<ColumnModel, 'name' | 'dataType'>, json: JsonDialect): string {
  const c = q(column.name)
  const type = column.dataType.toLowerCase()
  if (BINARY.has(type)) return `HEX(${c})`
  if (TEXT.has(type)) return `CONVERT(${c} USING utf8mb4)`
  if (type === 'json') return json === 'mariadb' ? `JSON_NORMALIZE(${c})` : `CAST(${c} AS CHAR CHARACTER SET utf8mb4)`
  return `CAST(${c} AS CHAR CHARACTER SET utf8mb4)`
}

export function rowTextSql(columns: ReadonlyArray<Pick<ColumnModel, 'name' | 'dataType'>>, json: JsonDialect): string {
  const parts = columns.map((col) => {
    const v = valueTextSql(col, json)
    return `IF(${q(col.name)} IS NULL, 'N', CONCAT('V', LENGTH(${v}), ':', ${v}))`
  })
  return `CONCAT(${parts.join(', ')})`
}

export interface RangeBounds {
  /** Length of the exclusive lower bound key (0: from the start). */
  after: number
  /** Length of the inclusive upper bound key (0: to the end). */
  through: number
  /** An extra filter (--where), the same text on both sides. */
  where: string | null
}

function rangeWhere(table: ReplicaTable, b: RangeBounds): string {
  const where: string[] = []
  if (b.after > 0) where.push(`(${keyPredicate(table.keyColumns.slice(0, b.after), '>')})`)
  if (b.through > 0) where.push(`(${keyPredicate(table.keyColumns.slice(0, b.through), '<=')})`)
  if (b.where !== null) where.push(`(${b.where})`)
  return where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`
}

export function hashRangeSql(table: ReplicaTable, columns: ReadonlyArray<Pick<ColumnModel, 'name' | 'dataType'>>, b: RangeBounds, json: JsonDialect): string {
  return (
    `SELECT COUNT(*) AS n, COALESCE(SUM(CAST(CONV(SUBSTRING(h, 1, 15), 16, 10) AS UNSIGNED)), 0) AS s1, COALESCE(SUM(CAST(CONV(SUBSTRING(h, 16, 15), 16, 10) AS UNSIGNED)), 0) AS s2` +
    ` FROM (SELECT MD5(${rowTextSql(columns, json)}) AS h FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)}) AS payctl_rows`
  )
}

export function readRangeSql(table: ReplicaTable, b: RangeBounds): string {
  return `SELECT ${table.columns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)} ORDER BY ${table.keyColumns.map(q).join(', ')}`
}

export function keyAtSql(table: ReplicaTable, afterLength: number, where: string | null): string {
  return `SELECT ${table.keyColumns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, {after: afterLength, through: 0, where})} ORDER BY ${table.keyColumns.map(q).join(', ')} LIMIT 1 OFFSET ?`
}

export function countRangeSql(table: ReplicaTable, b: RangeBounds): string {
  return `SELECT COUNT(*) AS n FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)}`
}
