/**
 * MySQL-family identifier quoting, shared by TiDB, Aurora MySQL, MySQL and MariaDB: backticks,
 * with a backtick inside a name doubled. Works whatever the server's sql_mode (ANSI_QUOTES only
 * changes what double quotes mean, never backticks).
 */
import type {Dialect} from '../engine.js'

export class MysqlDialect implements Dialect {
  readonly engine = 'mysql' as const

  quoteIdentifier(name: string): string {
    // A NUL cannot appear in a MySQL identifier; quoting it would produce SQL the server rejects
    // with a confusing message far from the cause.
    if (name.includes('\0')) throw new TypeError(`Identifier contains a NUL character: ${JSON.stringify(name)}`)
    return '`' + name.replaceAll('`', '``') + '`'
  }

  qualify(schema: string, table: string): string {
    return `${this.quoteIdentifier(schema)}.${this.quoteIdentifier(table)}`
  }
}

export const mysqlDialect = new MysqlDialect()
