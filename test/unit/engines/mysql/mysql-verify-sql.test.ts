import {describe, expect, it} from 'vitest'
import {countRangeSql, hashRangeSql, keyAtSql, readRangeSql, rowTextSql, valueTextSql} from '../../../../src/engines/mysql/mysql-verify-sql.js'
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
    expect(rowTextSql(cols, 'mariadb')).toBe('CONCAT_WS(CHAR(31), `txn_id`, `entry_no`, CAST(`memo` AS BINARY), CAST(JSON_NORMALIZE(`meta`) AS BINARY), CONCAT(ISNULL(`memo`), ISNULL(`meta`)))')
  })

  it('sums 64-bit MD5 slices over a key range (never XOR)', () => {
    expect(hashRangeSql(t, cols, {after: 2, through: 1, where: null}, 'raw')).toBe(
      'SELECT COUNT(*) AS n, COALESCE(SUM(CAST(CONV(SUBSTRING(MD5(CONCAT_WS(CHAR(31), `txn_id`, `entry_no`, CAST(`memo` AS BINARY), CAST(`meta` AS BINARY), CONCAT(ISNULL(`memo`), ISNULL(`meta`)))), 1, 16), 16, 10) AS UNSIGNED)), 0) AS s1 FROM `payments`.`ledger_entries` WHERE ((`txn_id` > ?) OR (`txn_id` = ? AND `entry_no` > ?)) AND (`txn_id` <= ?)',
    )
    expect(hashRangeSql(t, cols, {after: 0, through: 0, where: 'txn_id > 5'}, 'mysql')).toContain('FROM `payments`.`ledger_entries` WHERE (txn_id > 5)')
  })

  it('reads ranges in key order, finds chunk boundaries and counts', () => {
    expect(readRangeSql(t, {after: 0, through: 2, where: null})).toBe(
      'SELECT `txn_id`, `entry_no`, `memo`, `meta` FROM `payments`.`ledger_entries` WHERE ((`txn_id` < ?) OR (`txn_id` = ? AND `entry_no` <= ?)) ORDER BY `txn_id`, `entry_no`',
    )
    expect(keyAtSql(t, 2, null)).toBe('SELECT `txn_id`, `entry_no` FROM `payments`.`ledger_entries` WHERE ((`txn_id` > ?) OR (`txn_id` = ? AND `entry_no` > ?)) ORDER BY `txn_id`, `entry_no` LIMIT 1 OFFSET ?')
    expect(countRangeSql(t, {after: 1, through: 0, where: null})).toBe('SELECT COUNT(*) AS n FROM `payments`.`ledger_entries` WHERE (`txn_id` > ?)')
  })
})
