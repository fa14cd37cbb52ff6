import {describe, expect, it} from 'vitest'
import {binlogProblems, ddlTouches} from '../../../../src/engines/mysql/mysql-capture.js'
import {batchesByBytes} from '../../../../src/engines/mysql/mysql-replication.js'
import {binaryColumnsOf, deleteKeysSql, keyPredicate, loadDataSql, tsvField, tsvRows, keyPredicateParams, readChunkSql, upsertSql} from '../../../../src/engines/mysql/mysql-replication-sql.js'
import type {BinlogSettings} from '../../../../src/engines/model.js'
import type {ReplicaTable} from '../../../../src/engines/replication.js'
import {comparePositions, replicaTable} from '../../../../src/engines/replication.js'

const ledger: ReplicaTable = {schema: 'payments', name: 'ledger_entries', columns: ['txn_id', 'entry_no', 'amount', 'meta'], keyColumns: ['txn_id', 'entry_no'], keyIndexes: [0, 1], jsonColumns: ['meta']}

describe('keyset SQL', () => {
  it('expands composite key comparisons into ranges every flavor optimizes', () => {
    expect(keyPredicate(['a'], '>')).toBe('`a` > ?')
    expect(keyPredicate(['a', 'b', 'c'], '>')).toBe('(`a` > ?) OR (`a` = ? AND `b` > ?) OR (`a` = ? AND `b` = ? AND `c` > ?)')
    expect(keyPredicate(['a', 'b'], '>=')).toBe('(`a` > ?) OR (`a` = ? AND `b` >= ?)')
    expect(keyPredicateParams([1, 2, 3])).toEqual([1, 1, 2, 1, 2, 3])
  })

  it('reads a chunk after a cursor and below a segment bound, in key order', () => {
    expect(readChunkSql(ledger, {after: 2, from: 0, before: 1})).toBe(
      'SELECT `txn_id`, `entry_no`, `amount`, `meta` FROM `payments`.`ledger_entries` WHERE ((`txn_id` > ?) OR (`txn_id` = ? AND `entry_no` > ?)) AND (`txn_id` < ?) ORDER BY `txn_id`, `entry_no` LIMIT ?',
    )
    expect(readChunkSql(ledger, {after: 0, from: 1, before: 0})).toBe('SELECT `txn_id`, `entry_no`, `amount`, `meta` FROM `payments`.`ledger_entries` WHERE (`txn_id` >= ?) ORDER BY `txn_id`, `entry_no` LIMIT ?')
    expect(readChunkSql(ledger, {after: 0, from: 0, before: 0})).toBe('SELECT `txn_id`, `entry_no`, `amount`, `meta` FROM `payments`.`ledger_entries` ORDER BY `txn_id`, `entry_no` LIMIT ?')
  })

  it('upserts full rows with REPLACE (a row holding a unique value goes too), escaped values, JSON handed over parsed written back as text', () => {
    expect(upsertSql(ledger, [['1', 2, '-10.5000', {a: "it's"}], ['2', 1, null, '{"b": 1}']])).toBe(
      "REPLACE INTO `payments`.`ledger_entries` (`txn_id`, `entry_no`, `amount`, `meta`) VALUES ('1',2,'-10.5000','{\\\"a\\\":\\\"it\\'s\\\"}'),('2',1,NULL,'{\\\"b\\\": 1}')",
    )
    expect(upsertSql({...ledger, columns: ['txn_id', 'entry_no']}, [[1, 1]])).toBe('REPLACE INTO `payments`.`ledger_entries` (`txn_id`, `entry_no`) VALUES (1,1)')
  })

  it('deletes by key, binary keys as hex literals', () => {
    expect(deleteKeysSql({...ledger, keyColumns: ['id'], keyIndexes: [0]}, [[1], ['2']])).toBe("DELETE FROM `payments`.`ledger_entries` WHERE `id` IN (1,'2')")
    expect(deleteKeysSql(ledger, [[1, 2], [Buffer.from([0xab]), 3]])).toBe("DELETE FROM `payments`.`ledger_entries` WHERE (`txn_id` = 1 AND `entry_no` = 2) OR (`txn_id` = X'ab' AND `entry_no` = 3)")
  })

  it('loads the copy with LOAD DATA LOCAL: binary through UNHEX, text escaped, NULL as \\N', () => {
    const rows = [['1', 2, Buffer.from([0, 0xff]), 'a\tb\nc\\d'], ['2', 1, null, {k: 'v'}]]
    const bin = binaryColumnsOf(rows)
    expect([...bin]).toEqual([2])
    expect(loadDataSql(ledger, bin)).toBe(
      "LOAD DATA LOCAL INFILE 'payctl-chunk.tsv' REPLACE INTO TABLE `payments`.`ledger_entries` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (`txn_id`, `entry_no`, @payctl_v2, `meta`) SET `amount` = UNHEX(@payctl_v2)",
    )
    expect(tsvRows(ledger, rows)).toBe('1\t2\t00ff\ta\\tb\\nc\\\\d\n2\t1\t\\N\t{"k":"v"}\n')
    expect(tsvField('')).toBe('')
    expect(tsvField('\0\r')).toBe('\\0\\r')
    expect(tsvField(true)).toBe('1')
  })

  it('splits statements by size', () => {
    const rows = Array.from({length: 10}, (_, i) => [i, 'x'.repeat(100)])
    const batches = [...batchesByBytes(rows, 500)]
    expect(batches.length).toBeGreaterThan(3)
    expect(batches.flat()).toEqual(rows)
  })
})

describe('binlog capture prerequisites', () => {
  const ok: BinlogSettings = {kind: 'binlog', logBin: true, binlogFormat: 'ROW', binlogRowImage: 'FULL', gtidMode: 'ON', gtidStrictMode: true, enforceGtidConsistency: null, serverId: 1, retentionSeconds: 0}
  it('names the exact setting to change', () => {
    expect(binlogProblems('mariadb', ok)).toEqual([])
    expect(binlogProblems('mariadb', {...ok, binlogFormat: 'MIXED'})).toEqual([expect.stringContaining('set binlog_format = ROW')])
    expect(binlogProblems('mysql', {...ok, binlogRowImage: 'MINIMAL'})).toEqual([expect.stringContaining('set binlog_row_image = FULL')])
    expect(binlogProblems('aurora-mysql', {...ok, binlogRowImage: 'NOBLOB'})[0]).toContain('DB cluster parameter group')
    expect(binlogProblems('mariadb', {...ok, logBin: false}).length).toBeGreaterThan(0)
    expect(binlogProblems('tidb', ok)[0]).toContain('TiCDC')
  })

  it('stops on DDL that names a captured table or the database, not on other tables', () => {
    expect(ddlTouches('ALTER TABLE `payment_intents` ADD COLUMN x INT', 'payments', ['payment_intents'])).toBe(true)
    expect(ddlTouches('/* gh */ rename table refunds to refunds_old', 'payments', ['refunds'])).toBe(true)
    expect(ddlTouches('DROP DATABASE payments', 'payments', ['refunds'])).toBe(true)
    expect(ddlTouches('CREATE TABLE scratch (id INT)', 'payments', ['refunds'])).toBe(false)
    expect(ddlTouches('ALTER TABLE refunds_archive ADD x INT', 'payments', ['refunds'])).toBe(false)
    expect(ddlTouches('INSERT INTO refunds VALUES (1)', 'payments', ['refunds'])).toBe(false)
  })
})

describe('positions', () => {
  it('orders binlog positions by file number then offset, and LSNs by commit then change', () => {
    const b = (file: string, pos: number) => ({kind: 'binlog' as const, file, pos, gtid: null})
    expect(comparePositions(b('bin.000002', 4), b('bin.000010', 4))).toBeLessThan(0)
    expect(comparePositions(b('bin.000002', 900), b('bin.000002', 100))).toBeGreaterThan(0)
    const l = (commitLsn: string, changeLsn: string | null) => ({kind: 'lsn' as const, commitLsn, changeLsn})
    expect(comparePositions(l('0000002A000000100003', '0000002A000000100002'), l('0000002A000000100003', null))).toBeLessThan(0)
    expect(comparePositions(l('0000002A000000100004', null), l('0000002A000000100003', null))).toBeGreaterThan(0)
    expect(() => comparePositions(b('x.1', 1), l('0', null))).toThrow()
  })

  it('takes the primary key, else a NOT NULL unique key, and leaves generated columns to the target', () => {
    const col = (name: string, extra: Record<string, unknown> = {}) => ({name, nullable: false, generated: null, dataType: 'int', ...extra})
    const t = {schema: 's', name: 't', columns: [col('a'), col('b'), col('g', {generated: {expression: 'a+b', stored: true}}), col('j', {dataType: 'json'})], primaryKey: null, uniqueKeys: [{name: 'u', columns: [{name: 'b', descending: false, prefixLength: null}]}]}
    expect(replicaTable(t as never)).toEqual({schema: 's', name: 't', columns: ['a', 'b', 'j'], keyColumns: ['b'], keyIndexes: [1], keyIsPrimary: false, jsonColumns: ['j']})
    expect(replicaTable({...t, primaryKey: {name: 'PRIMARY', columns: [{name: 'a', descending: false, prefixLength: null}]}} as never)).toMatchObject({keyColumns: ['a'], keyIsPrimary: true})
    expect(replicaTable({...t, uniqueKeys: []} as never)).toBeNull()
  })
})
