/**
 * The SQL payctl replicate runs on MySQL-family servers: keyset chunk reads, key bounds, batched
 * upserts and deletes, and the binlog position. Pure functions of names and counts, pinned by unit
 * tests; values always travel as `?` placeholders or through mysql2's escaping, never spliced raw.
 *
 * Keyset predicates are written out as `a > ? OR (a = ? AND b > ?)` rather than the row
 * constructor `(a, b) > (?, ?)`: every flavor (MariaDB included) turns the expanded form into a
 * range on the primary key, while row-constructor ranges are not optimized everywhere.
 */
import mysql from 'mysql2'
import type {ReplicaTable} from '../replication.js'
import {mysqlDialect} from './mysql-dialect.js'

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)
const esc = (v: unknown): string => mysql.escape(v as Parameters<typeof mysql.escape>[0])

/**
 * `k > cursor`, `k >= start`, `k < bound` or `k <= bound` over a composite key (or a prefix of it:
 * pass only the prefix's columns), as an expanded OR of ANDs; the inclusive forms are inclusive on
 * the last column only.
 */
export function keyPredicate(keyColumns: readonly string[], op: '>' | '<' | '>=' | '<='): string {
  const parts: string[] = []
  for (let i = 0; i < keyColumns.length; i++) {
    const eq = keyColumns.slice(0, i).map((k) => `${q(k)} = ?`)
    const last = i === keyColumns.length - 1
    const o = op === '>=' && !last ? '>' : op === '<=' && !last ? '<' : op
    parts.push([...eq, `${q(keyColumns[i] ?? '')} ${o} ?`].join(' AND '))
  }
  return parts.length === 1 ? (parts[0] ?? '') : parts.map((p) => `(${p})`).join(' OR ')
}

/** The parameters keyPredicate needs for one key value: each prefix of the key, in order. */
export function keyPredicateParams(key: readonly unknown[]): unknown[] {
  const out: unknown[] = []
  for (let i = 0; i < key.length; i++) out.push(...key.slice(0, i + 1))
  return out
}

/** Bounds are given by their length (0: none): `after` a full key, `from` and `before` key prefixes. */
export function readChunkSql(table: ReplicaTable, bounds: {after: number; from: number; before: number}): string {
  const where: string[] = []
  if (bounds.after > 0) where.push(`(${keyPredicate(table.keyColumns.slice(0, bounds.after), '>')})`)
  else if (bounds.from > 0) where.push(`(${keyPredicate(table.keyColumns.slice(0, bounds.from), '>=')})`)
  if (bounds.before > 0) where.push(`(${keyPredicate(table.keyColumns.slice(0, bounds.before), '<')})`)
  return (
    `SELECT ${table.columns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${table.keyColumns.map(q).join(', ')} LIMIT ?`
  )
}

export function keyBoundSql(table: ReplicaTable, direction: 'ASC' | 'DESC'): string {
  return `SELECT ${table.keyColumns.map(q).join(', ')} FROM ${mysqlDialect.qualify(table.schema, table.name)} ORDER BY ${table.keyColumns.map((k) => `${q(k)} ${direction}`).join(', ')} LIMIT 1`
}

export function countRowsSql(table: ReplicaTable): string {
  return `SELECT COUNT(*) AS n FROM ${mysqlDialect.qualify(table.schema, table.name)}`
}

/** A value as it is written: JSON handed over parsed (MySQL 8 JSON columns) goes back as its text. */
function prepare(value: unknown, json: boolean): unknown {
  if (json && value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value)
  return value
}

/**
 * `REPLACE INTO ... VALUES (...), (...)` with the values escaped in (one round trip, no 65,535-
 * placeholder limit): a row is inserted, or replaces the row with its key, and also any row that
 * holds one of its unique values. That last part is what makes applying full images in source
 * order converge: INSERT ... ON DUPLICATE KEY UPDATE would instead overwrite the other row that
 * holds the unique value (silently merging two rows into one), and a replay of an older image
 * would fail on it. The row pushed out comes back with its own later change. Foreign-key checks
 * are off on the writer's connection, so the delete half cascades nowhere.
 */
export function upsertSql(table: ReplicaTable, rows: readonly unknown[][]): string {
  const json = new Set(table.jsonColumns.map((c) => table.columns.indexOf(c)))
  const tuples = rows.map((row) => `(${row.map((v, i) => esc(prepare(v, json.has(i)))).join(',')})`)
  return `REPLACE INTO ${mysqlDialect.qualify(table.schema, table.name)} (${table.columns.map(q).join(', ')}) VALUES ${tuples.join(',')}`
}

export function deleteKeysSql(table: ReplicaTable, keys: readonly unknown[][]): string {
  const target = mysqlDialect.qualify(table.schema, table.name)
  if (table.keyColumns.length === 1) {
    return `DELETE FROM ${target} WHERE ${q(table.keyColumns[0] ?? '')} IN (${keys.map((k) => esc(k[0])).join(',')})`
  }
  const cols = table.keyColumns.map(q)
  const terms = keys.map((k) => `(${cols.map((c, i) => `${c} = ${esc(k[i])}`).join(' AND ')})`)
  return `DELETE FROM ${target} WHERE ${terms.join(' OR ')}`
}

/** Session settings of every replication connection: UTC (TIMESTAMP values travel unshifted) and, on writers, no FK checks. */
export const SESSION_UTC = "SET time_zone = '+00:00'"
export const SESSION_NO_FK_CHECKS = 'SET foreign_key_checks = 0'

/** MySQL 8.4 renamed SHOW MASTER STATUS; MariaDB and older MySQL keep the old name. */
export const SHOW_MASTER_STATUS = 'SHOW MASTER STATUS'
export const SHOW_BINARY_LOG_STATUS = 'SHOW BINARY LOG STATUS'
export const SHOW_BINARY_LOGS = 'SHOW BINARY LOGS'
export const MARIADB_GTID_POS = 'SELECT @@GLOBAL.gtid_binlog_pos AS gtid'
export const MYSQL_GTID_EXECUTED = 'SELECT @@GLOBAL.gtid_executed AS gtid'

export function truncateSql(table: ReplicaTable): string {
  return `TRUNCATE TABLE ${mysqlDialect.qualify(table.schema, table.name)}`
}

/**
 * LOAD DATA LOCAL INFILE of tab-separated rows (REPLACE: a row already there is overwritten, as
 * upsertSql does). Binary values travel as hex into a user variable and are unhexed, so no byte
 * of a BLOB passes through a character set conversion.
 */
export function loadDataSql(table: ReplicaTable, binaryColumns: ReadonlySet<number>): string {
  const targets = table.columns.map((c, i) => (binaryColumns.has(i) ? `@payctl_v${i}` : q(c)))
  const sets = table.columns.flatMap((c, i) => (binaryColumns.has(i) ? [`${q(c)} = UNHEX(@payctl_v${i})`] : []))
  return (
    `LOAD DATA LOCAL INFILE 'payctl-chunk.tsv' REPLACE INTO TABLE ${mysqlDialect.qualify(table.schema, table.name)} CHARACTER SET utf8mb4` +
    ` FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length > 0 ? ` SET ${sets.join(', ')}` : '')
  )
}

const TSV_ESCAPES: Record<string, string> = {'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0'}

/** One value as a LOAD DATA field: \\N for NULL, hex for binary, JSON handed over parsed as its text, text escaped (backslash, tab, newline, CR, NUL). */
export function tsvField(value: unknown): string {
  if (value === null || value === undefined) return '\\N'
  if (Buffer.isBuffer(value)) return value.toString('hex')
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (typeof value === 'boolean') return value ? '1' : '0'
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '')
  return /[\\\t\n\r\0]/.test(text) ? text.replace(/[\\\t\n\r\0]/g, (c) => TSV_ESCAPES[c] ?? c) : text
}

/** Which columns of these rows hold binary values (the driver hands binary columns over as Buffers). */
export function binaryColumnsOf(rows: readonly unknown[][]): Set<number> {
  const out = new Set<number>()
  for (const row of rows) for (let i = 0; i < row.length; i++) if (Buffer.isBuffer(row[i])) out.add(i)
  return out
}

export function tsvRows(table: ReplicaTable, rows: readonly unknown[][]): string {
  let out = ''
  for (const row of rows) out += row.map((v) => tsvField(v)).join('\t') + '\n'
  return out
}
