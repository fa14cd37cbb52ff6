import {describe, expect, it} from 'vitest'
import type {ColumnModel, TableModel} from '../../../src/engines/model.js'
import type {ReplicaTable, VerifySupport} from '../../../src/engines/replication.js'
import {typeFamily} from '../../../src/validators/canonical.js'
import {chooseMethod, diffRows} from '../../../src/validators/verify.js'

const col = (name: string, dataType: string, columnType: string, extra: Partial<ColumnModel> = {}): ColumnModel =>
  ({name, dataType, columnType, nullable: true, charset: null, precision: null, scale: null, generated: null, ...extra}) as ColumnModel
const columns = [col('id', 'bigint', 'bigint(20) unsigned', {nullable: false}), col('amount', 'decimal', 'decimal(19,4)', {precision: 19, scale: 4}), col('card_number', 'varchar', 'varchar(19)'), col('meta', 'json', 'json')]
const model = {name: 'payments_x', schema: 'p', columns, rowEstimate: 10} as unknown as TableModel
const replica: ReplicaTable = {schema: 'p', name: 'payments_x', columns: columns.map((c) => c.name), keyColumns: ['id'], keyIndexes: [0], jsonColumns: ['meta']}
const side = (hashDialect?: string): VerifySupport => ({hashDialect, hashRange: hashDialect === undefined ? undefined : () => Promise.resolve({count: 0, hash: ''})}) as unknown as VerifySupport

describe('chooseMethod', () => {
  it('pushes the hash down only when both servers hash alike over identical column definitions', () => {
    const pair = {model, targetModel: model, source: replica}
    expect(chooseMethod(pair, side('mysql-family/mariadb'), side('mysql-family/mariadb')).method).toBe('pushdown')
    const differently = chooseMethod(pair, side('mysql-family/mariadb'), side('mysql-family/mysql'))
    expect(differently.method).toBe('client')
    expect(differently.reason).toContain('hash differently')
    expect(chooseMethod(pair, side(undefined), side('mysql-family/mysql')).method).toBe('client')
    const widened = {...model, columns: columns.map((c) => (c.name === 'amount' ? {...c, columnType: 'decimal(20,4)'} : c))}
    const types = chooseMethod({model, targetModel: widened, source: replica}, side('a'), side('a'))
    expect(types.method).toBe('client')
    expect(types.reason).toContain('amount')
  })
})

describe('diffRows', () => {
  const ctx = {pair: {source: replica} as never, sourceColumns: columns, families: columns.map((c) => typeFamily(c, 'mysql'))}
  it('names missing, extra and different rows by key, with the differing columns, masking card numbers; JSON key order is not a difference', () => {
    const source = [
      ['1', '10.5000', null, '{"a":1,"b":2}'],
      ['2', '3.0000', '4242424242424242', '{}'],
      ['3', '1.0000', null, null],
    ]
    const target = [
      ['1', '10.50', null, '{"b": 2, "a": 1}'],
      ['2', '3.0001', '4242424242424241', '{}'],
      ['4', '9.0000', null, null],
    ]
    const diffs = diffRows(ctx, source, target).map(({sourceRow: _s, targetKey: _t, ...d}) => d)
    expect(diffs).toEqual([
      {table: 'payments_x', key: {id: '2'}, kind: 'different', columns: [
        {column: 'amount', source: '3.0000', target: '3.0001'},
        {column: 'card_number', source: '********', target: '********'},
      ]},
      {table: 'payments_x', key: {id: '3'}, kind: 'missing-in-target', columns: []},
      {table: 'payments_x', key: {id: '4'}, kind: 'missing-in-source', columns: []},
    ])
  })
})
