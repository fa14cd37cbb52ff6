/**
 * Target names. A SQL Server database has schemas; a MySQL-family database is one namespace, so
 * every source table needs one name there, and no two may collide.
 *
 * The rule: a table in the home schema (SQL Server `dbo`; on a MySQL-family source, the source
 * database) keeps its name; a table in another schema is `<schema>_<table>` ("ledger.entries" ->
 * "ledger_entries"). Case is kept as in the source. Names are compared case-insensitively, because
 * TiDB, and MySQL with lower_case_table_names = 1 or 2, do: when a prefixed name is already taken
 * (dbo.ledger_entries exists), the next candidates are `<schema>__<table>` and then numbered
 * suffixes. Home-schema tables are named first, so adding a table to another schema never renames
 * a dbo table. A name over 64 characters (the MySQL limit) is shortened to 55 characters plus "_"
 * plus 8 hex digits of its SHA-1, which is stable across runs - and reported as a blocker, since
 * the application's queries name the table.
 */
import {createHash} from 'node:crypto'
import type {EngineName} from '../../engines/model.js'

export const MAX_IDENTIFIER_LENGTH = 64

/** The name as written when it fits, else a stable shortened form. */
export function shortenIdentifier(name: string): string {
  if (name.length <= MAX_IDENTIFIER_LENGTH) return name
  const hash = createHash('sha1').update(name).digest('hex').slice(0, 8)
  return `${name.slice(0, MAX_IDENTIFIER_LENGTH - 9)}_${hash}`
}

/** Hands out names unique within one namespace (a database's tables, a table's indexes), case-insensitively. */
export class NameScope {
  private readonly taken = new Set<string>()

  constructor(reserved: readonly string[] = []) {
    for (const r of reserved) this.taken.add(r.toLowerCase())
  }

  has(name: string): boolean {
    return this.taken.has(name.toLowerCase())
  }

  /** The first free candidate, else the last candidate with _2, _3, ...; the result is taken. */
  claim(...candidates: string[]): string {
    for (const c of candidates) {
      const name = shortenIdentifier(c)
      if (!this.has(name)) return this.take(name)
    }
    const base = candidates[candidates.length - 1] ?? 'unnamed'
    for (let i = 2; ; i++) {
      const suffix = `_${i}`
      const name = shortenIdentifier(base).slice(0, MAX_IDENTIFIER_LENGTH - suffix.length) + suffix
      if (!this.has(name)) return this.take(name)
    }
  }

  private take(name: string): string {
    this.taken.add(name.toLowerCase())
    return name
  }
}

export interface SourceTableRef {
  schema: string
  name: string
}

/** The schema whose tables keep their bare names. */
export function homeSchema(source: EngineName, sourceDatabase: string): string {
  return source === 'sqlserver' ? 'dbo' : sourceDatabase
}

export function tableKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`
}

/**
 * Target names for the given tables (see the rule at the top). Returns a map from
 * tableKey(schema, name) to the target name.
 */
export function planTableNames(tables: readonly SourceTableRef[], home: string): Map<string, string> {
  const scope = new NameScope()
  const names = new Map<string, string>()
  const homeTables = tables.filter((t) => t.schema.toLowerCase() === home.toLowerCase())
  const others = tables
    .filter((t) => t.schema.toLowerCase() !== home.toLowerCase())
    .sort((a, b) => (a.schema === b.schema ? cmp(a.name, b.name) : cmp(a.schema, b.schema)))
  for (const t of homeTables) names.set(tableKey(t.schema, t.name), scope.claim(t.name))
  for (const t of others) names.set(tableKey(t.schema, t.name), scope.claim(`${t.schema}_${t.name}`, `${t.schema}__${t.name}`))
  return names
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
