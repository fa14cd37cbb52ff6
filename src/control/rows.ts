/**
 * What every control-store table shares: JSON columns read back as values, and the audit log's
 * one insert (routing changes, approvals, replicate's pause and direction switches).
 */
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'

export type Query = <T>(sql: string, params?: readonly unknown[]) => Promise<T[]>

/** A JSON column as the driver hands it over (text, bytes, or already parsed), as a value; null for SQL NULL. */
export function jsonColumn<T>(v: unknown): T | null {
  if (v === null || v === undefined) return null
  return (typeof v === 'string' ? JSON.parse(v) : Buffer.isBuffer(v) ? JSON.parse(v.toString('utf8')) : v) as T
}

/** One audit_log entry: who did what, from where, why, with a detail that holds no secret. */
export async function insertAudit(query: Query, database: string, actor: string, host: string, action: string, detail: unknown, reason: string | null): Promise<void> {
  const table = `${mysqlDialect.quoteIdentifier(database)}.${mysqlDialect.quoteIdentifier('audit_log')}`
  await query(`INSERT INTO ${table} (at, actor, origin_host, action, detail, reason) VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?)`, [actor, host, action, JSON.stringify(detail), reason])
}
