import {describe, expect, it} from 'vitest'
import {countRangeSql, GROUP_CONCAT_CUT, hashRangeSql, keyAtSql, readRangeSql, rowsBeforeCut, rowTextSql, valueTextSql} from '../../../../src/engines/mysql/mysql-verify-sql.js'
import type {ReplicaTable} from '../../../../src/engines/replication.js'

const t: ReplicaTable = {schema: 'payments', name: 'ledger_entries', columns: ['txn_id', 'entry_no', 'memo', 'meta'], keyColumns: ['txn_id', 'entry_no'], keyIndexes: [0, 1], jsonColumns: ['meta']}
const cols = [
  {name: 'txn_id', dataType: 'bigint', nullable: false},
  {name: 'entry_no', dataType: 'tinyint', nullable: false},
  {name: 'memo', dataType: 'varchar', nullable: true},
  {name: 'meta', dataType: 'json', nullable: true},
]

describe('verify SQL', () => {
  it('hashes text as bytes (no collation), JSON normalised per flavor or as stored, NULL flags for nullable columns only', () => {
    expect(valueTextSql({name: 'memo', dataType: 'varchar'}, 'mariadb')).toBe('CAST(`memo` AS BINARY)')
    expect(valueTextSql({name: 'meta', dataType: 'json'}, 'mariadb')).toBe('CAST(JSON_NORMALIZE(`meta`) AS BINARY)')
    expect(valueTextSql({name: 'meta', dataType: 'json'}, 'mysql')).toBe('CAST(CAST(`meta` AS CHAR) AS BINARY)')
    expect(valueTextSql({name: 'meta', dataType: 'json'}, 'raw')).toBe('CAST(`meta` AS BINARY)')
    expect(valueTextSql({name: 'amount', dataType: 'decimal'}, 'mysql')).toBe('`amount`')
    // raw bytes could hold the separators: binary values enter as hex
    expect(valueTextSql({name: 'request_hash', dataType: 'binary'}, 'mysql')).toBe('HEX(`request_hash`)')
    expect(valueTextSql({name: 'fingerprint', dataType: 'varbinary'}, 'mariadb')).toBe('HEX(`fingerprint`)')
    expect(rowTextSql(cols, 'mariadb')).toBe('CONCAT_WS(CHAR(31), `txn_id`, `entry_no`, CAST(`memo` AS BINARY), CAST(JSON_NORMALIZE(`meta`) AS BINARY), CONCAT(ISNULL(`memo`), ISNULL(`meta`)))')
  })

  it('hashes a key range as SHA-256 of its row texts in key order (one digest per range, never XOR or per-row sums)', () => {
    expect(hashRangeSql(t, cols, {after: 2, through: 1, where: null}, 'raw')).toBe(
      'SELECT COUNT(*) AS n, SHA2(GROUP_CONCAT(CONCAT_WS(CHAR(31), `txn_id`, `entry_no`, CAST(`memo` AS BINARY), CAST(`meta` AS BINARY), CONCAT(ISNULL(`memo`), ISNULL(`meta`))) SEPARATOR 0x1e), 256) AS h FROM `payments`.`ledger_entries` WHERE ((`txn_id` > ?) OR (`txn_id` = ? AND `entry_no` > ?)) AND (`txn_id` <= ?)',
    )
    expect(hashRangeSql(t, cols, {after: 0, through: 0, where: 'txn_id > 5'}, 'mysql')).toContain('FROM `payments`.`ledger_entries` WHERE (txn_id > 5)')
  })

  it('reads in key order: the primary key forced on MariaDB/MySQL, ORDER BY spelled out on TiDB', () => {
    expect(hashRangeSql(t, cols, {after: 1, through: 0, where: null}, 'mariadb', {forcePrimary: true, orderBy: false})).toMatch(/ FROM `payments`\.`ledger_entries` FORCE INDEX \(PRIMARY\) WHERE \(`txn_id` > \?\)$/)
    const tidb = hashRangeSql(t, cols, {after: 0, through: 0, where: null}, 'mysql', {forcePrimary: false, orderBy: true})
    expect(tidb).toContain(' ORDER BY `txn_id`, `entry_no` SEPARATOR 0x1e)')
    expect(tidb).not.toContain('FORCE INDEX')
    expect(hashRangeSql(t, [], {after: 0, through: 0, where: null}, 'mysql')).toBe('SELECT COUNT(*) AS n, NULL AS h FROM `payments`.`ledger_entries`')
    // a server with a query cache answers a repeated hash without its warnings: never from the cache
    expect(hashRangeSql(t, cols, {after: 0, through: 0, where: null}, 'mariadb', {forcePrimary: true, orderBy: false, noCache: true})).toMatch(/^SELECT SQL_NO_CACHE COUNT\(\*\) AS n, SHA2\(/)
  })

  it('reads how many rows a cut GROUP_CONCAT held whole from its warning', () => {
    expect(GROUP_CONCAT_CUT).toBe(1260)
    expect(rowsBeforeCut('Row 54686 was cut by GROUP_CONCAT()')).toBe(54685)
    expect(rowsBeforeCut('Row 1 was cut by GROUP_CONCAT()')).toBe(0)
    expect(rowsBeforeCut('Some rows were cut by GROUPCONCAT(test.t.a)')).toBeNull()
  })

  it('reads ranges in key order, finds chunk boundaries and counts', () => {
    expect(readRangeSql(t, {after: 0, through: 2, where: null})).toBe(
      'SELECT `txn_id`, `entry_no`, `memo`, `meta` FROM `payments`.`ledger_entries` WHERE ((`txn_id` < ?) OR (`txn_id` = ? AND `entry_no` <= ?)) ORDER BY `txn_id`, `entry_no`',
    )
    expect(keyAtSql(t, 2, null)).toBe('SELECT `txn_id`, `entry_no` FROM `payments`.`ledger_entries` WHERE ((`txn_id` > ?) OR (`txn_id` = ? AND `entry_no` > ?)) ORDER BY `txn_id`, `entry_no` LIMIT 1 OFFSET ?')
    expect(keyAtSql(t, 1, null, 1)).toBe('SELECT `txn_id`, `entry_no` FROM `payments`.`ledger_entries` WHERE (`txn_id` > ?) AND (`txn_id` <= ?) ORDER BY `txn_id`, `entry_no` LIMIT 1 OFFSET ?')
    expect(countRangeSql(t, {after: 1, through: 0, where: null})).toBe('SELECT COUNT(*) AS n FROM `payments`.`ledger_entries` WHERE (`txn_id` > ?)')
  })
})
