/**
 * T-SQL identifier quoting. Everything payctl sends to SQL Server that names an object goes
 * through here, so a table called `a]b` or `order` can never break out of its brackets.
 */
import {BugError} from '../../cli/errors.js'
import type {Dialect} from '../engine.js'

/** sysname is nvarchar(128): a longer name cannot exist in the catalog, so it is a bug upstream. */
const MAX_IDENTIFIER_LENGTH = 128

export function quoteIdentifier(name: string): string {
  if (name.length === 0 || name.length > MAX_IDENTIFIER_LENGTH || name.includes('\u0000')) {
    throw new BugError(`Not a valid SQL Server identifier: ${JSON.stringify(name)}.`)
  }
  return `[${name.replaceAll(']', ']]')}]`
}

export function qualify(schema: string, table: string): string {
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`
}

export class SqlServerDialect implements Dialect {
  readonly engine = 'sqlserver' as const

  quoteIdentifier(name: string): string {
    return quoteIdentifier(name)
  }

  qualify(schema: string, table: string): string {
    return qualify(schema, table)
  }
}
