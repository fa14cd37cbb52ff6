/**
 * What the integration files promise each other: the sandbox target's database holds no tables
 * and there is no control store when a file ends (provision's test checks it starts from nothing).
 */
import type {Connection} from 'mysql2/promise'
import type {RowDataPacket} from 'mysql2/promise'

/** Empties the provisioned target tables and forgets replication's state (a fresh copy can start). */
export async function emptyReplicated(conn: Connection, database: string, controlDatabase = 'payctl_control'): Promise<void> {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database])
  await conn.query('SET foreign_key_checks = 0')
  for (const r of rows) await conn.query(`TRUNCATE TABLE \`${database}\`.\`${String(r.t)}\``)
  await conn.query('SET foreign_key_checks = 1')
  // absent before the first provision: nothing to forget then
  for (const t of ['replication_tables', 'copy_checkpoints', 'capture_positions', 'replication_state']) await conn.query(`DELETE FROM \`${controlDatabase}\`.\`${t}\``).catch(() => undefined)
}

export async function dropProvisioned(conn: Connection, database: string, controlDatabase = 'payctl_control'): Promise<void> {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database])
  await conn.query('SET foreign_key_checks = 0')
  for (const r of rows) await conn.query(`DROP TABLE IF EXISTS \`${database}\`.\`${String(r.t)}\``)
  await conn.query('SET foreign_key_checks = 1')
  await conn.query(`DROP DATABASE IF EXISTS \`${controlDatabase}\``)
}
