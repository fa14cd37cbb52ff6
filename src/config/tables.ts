/**
 * `tables.include` / `tables.exclude`: which tables a phase works on. A pattern is a glob (`*` any
 * run of characters, `?` one character); with a dot it is matched against `schema.table`, without
 * one against the table name alone. Matching ignores case: SQL Server names usually do, and a
 * config that differs from the catalog only in case almost certainly means the same table.
 */
import type {PayctlConfig} from './schema.js'

export type TableMatcher = (schema: string, name: string) => boolean

function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${body}$`, 'i')
}

export function tableMatcher(tables: PayctlConfig['tables']): TableMatcher {
  const compile = (patterns: readonly string[]) => patterns.map((p) => ({qualified: p.includes('.'), re: globToRegExp(p)}))
  const include = compile(tables.include)
  const exclude = compile(tables.exclude)
  const hit = (list: ReturnType<typeof compile>, schema: string, name: string): boolean =>
    list.some((p) => p.re.test(p.qualified ? `${schema}.${name}` : name))
  return (schema, name) => hit(include, schema, name) && !hit(exclude, schema, name)
}
