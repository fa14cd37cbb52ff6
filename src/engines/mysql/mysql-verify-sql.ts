/**
 * The SQL payctl verify runs on MySQL-family servers: the key `n` rows further (chunk boundaries),
 * a key range's rows in key order (row diff, client-side hashing), and the chunk hash computed by
 * the server (pushdown).
 *
 * Pushdown hash of a range: each row becomes one text (rowTextSql), hashed with MD5; the chunk's
 * hash is the count plus the SUM of the first 64 bits of the row hashes (order-independent, an
 * exact DECIMAL sum, never XOR-folded, so equal changes on two rows cannot cancel; a difference
 * goes unseen with probability about 2^-64 per chunk). Values enter as the server's bytes (a
 * case-only change or a trailing space changes the hash whatever the collation says), date-times
 * in the session's UTC time zone, JSON normalised (MariaDB JSON_NORMALIZE: sorted keys, no
 * whitespace; MySQL/TiDB/Aurora: the JSON type's own normalised text). Two servers' hashes are comparable only when both
 * run the same expressions over the same column types; payctl verify checks that before choosing
 * pushdown.
 */
import type {ColumnModel} from '../model.js'
import type {ReplicaTable} from '../replication.js'
import {mysqlDialect} from './mysql-dialect.js'
import {keyPredicate} from './mysql-replication-sql.js'

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

/** How JSON enters the row text: normalised the MariaDB or the MySQL way, or as stored ('raw': equal bytes are equal JSON, a quick first pass). */
export type JsonDialect = 'mariadb' | 'mysql' | 'raw'

const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])

/**
 * A column as it enters the row text (see the header); NULLs are told apart by the ISNULL suffix.
 * Text goes in as its bytes (CAST AS BINARY): no collation takes part, so columns of different
 * collations mix without "Illegal mix of collations", and case or trailing spaces always count.
 */
export function valueTextSql(column: Pick<ColumnModel, 'name' | 'dataType'>, json: JsonDialect): string {
  const c = q(column.name)
  const type = column.dataType.toLowerCase()
  if (type === 'json') return json === 'mariadb' ? `CAST(JSON_NORMALIZE(${c}) AS BINARY)` : json === 'mysql' ? `CAST(CAST(${c} AS CHAR) AS BINARY)` : `CAST(${c} AS BINARY)`
  if (TEXT.has(type)) return `CAST(${c} AS BINARY)`
  return c
}

/**
 * The row as one string: the values separated by CHAR(31) (the ASCII unit separator), then one
 * ISNULL flag per column, so NULL and '' differ. Two different rows give the same text only when a
 * value itself contains CHAR(31) in just the place that shifts a boundary; payments data has none,
 * and the client-side comparison (row diff) does not rely on it.
 */
export function rowTextSql(columns: ReadonlyArray<Pick<ColumnModel, 'name' | 'dataType'> & {nullable?: boolean}>, json: JsonDialect): string {
  // a NOT NULL column needs no flag (both sides have the same column definitions, or pushdown is not used)
  const flags = columns.filter((col) => col.nullable !== false).map((col) => `ISNULL(${q(col.name)})`)
  return `CONCAT_WS(CHAR(31), ${columns.map((col) => valueTextSql(col, json)).join(', ')}${flags.length === 0 ? '' : `, CONCAT(${flags.join(', ')})`})`
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

export function hashRangeSql(table: ReplicaTable, columns: ReadonlyArray<Pick<ColumnModel, 'name' | 'dataType'> & {nullable?: boolean}>, b: RangeBounds, json: JsonDialect): string {
  if (columns.length === 0) return `SELECT COUNT(*) AS n, 0 AS s1 FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)}`
  return (
    `SELECT COUNT(*) AS n, COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(${rowTextSql(columns, json)}), 1, 16), 16, 10) AS UNSIGNED)), 0) AS s1` +
    ` FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)}`
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

/** The rows with the given keys (`count` of them), in key order: `(k1, k2) IN ((?, ?), ...)`, or `k IN (?, ...)` for one column. */
export function readKeysSql(table: ReplicaTable, count: number): string {
  const cols = table.keyColumns.map(q)
  const one = cols.length === 1 ? '?' : `(${cols.map(() => '?').join(', ')})`
  const left = cols.length === 1 ? (cols[0] ?? '') : `(${cols.join(', ')})`
  return `SELECT ${table.columns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)} WHERE ${left} IN (${Array.from({length: Math.max(1, count)}, () => one).join(', ')}) ORDER BY ${cols.join(', ')}`
}
