/**
 * The SQL payctl verify runs on MySQL-family servers: the key `n` rows further (chunk boundaries),
 * a key range's rows in key order (row diff, client-side hashing), and the chunk hash computed by
 * the server (pushdown).
 *
 * Pushdown hash of a range: each row becomes one text (rowTextSql); the rows' texts, in key order
 * and separated by CHAR(30), are concatenated by GROUP_CONCAT and the whole is hashed with SHA-256.
 * The chunk's hash is the row count plus that digest: one strong hash per range, never an XOR or
 * a sum of per-row checksums, so no two changes can cancel. Hashing the text once per range instead
 * of once per row (the earlier design: a sum of 64-bit slices of per-row MD5) halves the servers'
 * CPU per row; SHA-256 is hardware-accelerated where MD5 is not.
 *
 * Order: MariaDB and MySQL feed GROUP_CONCAT in scan order, and the scan is forced onto the
 * primary key (key order) when the key is the primary key; TiDB reads regions in parallel, so
 * there the order is spelled out (GROUP_CONCAT ... ORDER BY the key). Were the orders ever to
 * differ, equal ranges would look different and be narrowed down to rows, which compare equal:
 * slower, never a false report.
 *
 * Size: GROUP_CONCAT holds the range's text in the server's memory, up to the session's
 * group_concat_max_len (payctl sets the smaller of verify.hashMaxBytes and max_allowed_packet); a
 * longer text is cut with warning 1260 ("Row N was cut by GROUP_CONCAT()"), and a row longer than
 * max_allowed_packet becomes NULL (warning 1301) and is left out. payctl reads the warnings after
 * every hash: a hash with any warning is not compared, its range is compared in parts (down to
 * rows), so a cut or incomplete text never passes for equal.
 *
 * Values enter as the server's bytes (a case-only change or a trailing space changes the hash
 * whatever the collation says), date-times in the session's UTC time zone, JSON normalised
 * (MariaDB JSON_NORMALIZE: sorted keys, no whitespace; MySQL/TiDB/Aurora: the JSON type's own
 * normalised text). Two servers' hashes are comparable only when both run the same expressions
 * over the same column types; payctl verify checks that before choosing pushdown.
 */
import type {ColumnModel} from '../model.js'
import type {ReplicaTable} from '../replication.js'
import {mysqlDialect} from './mysql-dialect.js'
import {keyPredicate} from './mysql-replication-sql.js'

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)

/** How JSON enters the row text: normalised the MariaDB or the MySQL way, or as stored ('raw': equal bytes are equal JSON, a quick first pass). */
export type JsonDialect = 'mariadb' | 'mysql' | 'raw'

const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])
/** Bytes that may hold the separators CHAR(30)/CHAR(31) (a hash or a UUID often does): they enter as hex. */
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob', 'bit'])

/**
 * A column as it enters the row text (see the header); NULLs are told apart by the ISNULL suffix.
 * Text goes in as its bytes (CAST AS BINARY): no collation takes part, so columns of different
 * collations mix without "Illegal mix of collations", and case or trailing spaces always count.
 * Binary values go in as hex, so their bytes never look like a separator.
 */
export function valueTextSql(column: Pick<ColumnModel, 'name' | 'dataType'>, json: JsonDialect): string {
  const c = q(column.name)
  const type = column.dataType.toLowerCase()
  if (type === 'json') return json === 'mariadb' ? `CAST(JSON_NORMALIZE(${c}) AS BINARY)` : json === 'mysql' ? `CAST(CAST(${c} AS CHAR) AS BINARY)` : `CAST(${c} AS BINARY)`
  if (TEXT.has(type)) return `CAST(${c} AS BINARY)`
  if (BINARY.has(type)) return `HEX(${c})`
  return c
}

/**
 * The row as one string: the values separated by CHAR(31) (the ASCII unit separator), then one
 * ISNULL flag per column, so NULL and '' differ. Two different ranges give the same text only when
 * a text value itself contains the control character CHAR(31) or CHAR(30) (the row separator) in
 * just the place that shifts a boundary (binary values are hex); payments text has none, and the
 * client-side comparison (row diff) does not rely on it.
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

/** How a server's scan reaches GROUP_CONCAT in key order (see the header), and how it is run. */
export interface HashOrder {
  /** FORCE INDEX (PRIMARY): the key is the primary key, read in its order (MariaDB, MySQL). */
  forcePrimary: boolean
  /** GROUP_CONCAT(... ORDER BY the key): the server does not read in key order by itself (TiDB), or the key is not the primary key. */
  orderBy: boolean
  /** SQL_NO_CACHE: the server has a query cache, whose answers come without the warnings that tell a cut hash. */
  noCache?: boolean
}

/** Row count `n` and the SHA-256 `h` of the range's row texts in key order (NULL for no rows). */
export function hashRangeSql(table: ReplicaTable, columns: ReadonlyArray<Pick<ColumnModel, 'name' | 'dataType'> & {nullable?: boolean}>, b: RangeBounds, json: JsonDialect, order: HashOrder = {forcePrimary: false, orderBy: false}): string {
  const from = `${mysqlDialect.qualify(table.schema, table.name)}${order.forcePrimary ? ' FORCE INDEX (PRIMARY)' : ''}${rangeWhere(table, b)}`
  const select = order.noCache === true ? 'SELECT SQL_NO_CACHE' : 'SELECT'
  if (columns.length === 0) return `${select} COUNT(*) AS n, NULL AS h FROM ${from}`
  const orderBy = order.orderBy ? ` ORDER BY ${table.keyColumns.map(q).join(', ')}` : ''
  return `${select} COUNT(*) AS n, SHA2(GROUP_CONCAT(${rowTextSql(columns, json)}${orderBy} SEPARATOR 0x1e), 256) AS h FROM ${from}`
}

/** GROUP_CONCAT's "Row N was cut" warning. */
export const GROUP_CONCAT_CUT = 1260

/** The rows a cut GROUP_CONCAT held whole, from its warning ("Row 54686 was cut by GROUP_CONCAT()"): N - 1; null when the message does not say. */
export function rowsBeforeCut(message: string): number | null {
  const m = /\brow (\d+) was cut/i.exec(message)
  return m === null ? null : Math.max(0, Number(m[1]) - 1)
}

export function readRangeSql(table: ReplicaTable, b: RangeBounds): string {
  return `SELECT ${table.columns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, b)} ORDER BY ${table.keyColumns.map(q).join(', ')}`
}

export function keyAtSql(table: ReplicaTable, afterLength: number, where: string | null, throughLength = 0): string {
  return `SELECT ${table.keyColumns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)}${rangeWhere(table, {after: afterLength, through: throughLength, where})} ORDER BY ${table.keyColumns.map(q).join(', ')} LIMIT 1 OFFSET ?`
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
