/** T-SQL identifier quoting: brackets, with a closing bracket doubled. */
import {describe, expect, it} from 'vitest'
import {qualify, quoteIdentifier, SqlServerDialect} from '../../../../src/engines/sqlserver/sqlserver-dialect.js'

describe('SQL Server dialect', () => {
  it('brackets names and doubles a closing bracket', () => {
    expect(quoteIdentifier('payments')).toBe('[payments]')
    expect(quoteIdentifier('order')).toBe('[order]')
    expect(quoteIdentifier('a]b')).toBe('[a]]b]')
    expect(quoteIdentifier('x]; DROP TABLE t; --')).toBe('[x]]; DROP TABLE t; --]')
    expect(quoteIdentifier('[already]')).toBe('[[already]]]')
    expect(quoteIdentifier('with space')).toBe('[with space]')
  })

  it('qualifies schema.table', () => {
    expect(qualify('pay', 'ledger entries')).toBe('[pay].[ledger entries]')
    expect(new SqlServerDialect().qualify('dbo', 'a]b')).toBe('[dbo].[a]]b]')
    expect(new SqlServerDialect().engine).toBe('sqlserver')
  })

  it('refuses names that cannot exist in the catalog', () => {
    expect(() => quoteIdentifier('')).toThrow(/Not a valid SQL Server identifier/)
    expect(() => quoteIdentifier('a\u0000b')).toThrow(/Not a valid SQL Server identifier/)
    expect(() => quoteIdentifier('x'.repeat(129))).toThrow(/Not a valid SQL Server identifier/)
  })
})
