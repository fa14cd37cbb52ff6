/**
 * Compares a table as schema conversion expects it on the target with the table introspection
 * finds there, and says each difference in one line a DBA can act on
 * ("column amount: decimal(19,4) expected, decimal(12,2) found"). Pure.
 *
 * Both sides pass through one normaliser first. It ignores what introspection cannot read back
 * exactly as it was written, or what does not change which rows the table accepts and how they
 * read, and nothing else:
 * - column order: every later phase names its columns;
 * - the AUTO_INCREMENT seed and increment: the catalog shows the table's next value and the
 *   server's increment, not the seed; only whether a column is AUTO_INCREMENT is compared;
 * - integer display widths (int(11) vs int: MySQL 8.0.19+ drops them, MariaDB keeps them; they
 *   never limited values) and the spellings integer/int, numeric/decimal, bool/tinyint,
 *   double precision/double, datetime(0)/datetime;
 * - a column's charset and collation when the expected column does not state one (it then takes
 *   the table's default), and utf8 vs utf8mb3 (the same charset under two names);
 * - defaults: numbers by value ("0" = "0.0000"), quotes around a numeric default, and the
 *   CURRENT_TIMESTAMP family (now(), current_timestamp()) by one spelling;
 * - generated-column and CHECK expressions without case, whitespace, backquotes, parentheses and
 *   charset introducers (_utf8mb4'x'): servers rewrite all of them; CHECKs are matched by
 *   expression, since servers name unnamed ones differently;
 * - index and foreign-key names when an equivalent index or key exists under another name, index
 *   kind (btree/hash; FULLTEXT and SPATIAL are still told apart) and DESC key parts (MariaDB
 *   before 10.8 parses DESC and ignores it);
 * - a non-unique index the server added for a foreign key (InnoDB creates one when no index
 *   starts with the key's columns);
 * - NO ACTION vs RESTRICT in foreign keys (InnoDB treats them the same, and servers report the
 *   default differently) and the referenced schema (the converted model may still name the
 *   source's schema; the referenced table and columns are compared);
 * - TiDB's AUTO_RANDOM shard bits (ColumnModel.autoRandomShardBits): the MySQL-family
 *   introspector does not read them back yet, so comparing them would make every rerun on TiDB
 *   a conflict; compare them here once it does;
 * - comments, the table's default collation and storage engine, row and size estimates.
 */
import type {ColumnModel, ForeignKeyModel, KeyColumn, TableModel} from '../engines/model.js'

const lower = (s: string): string => s.toLowerCase()

/** A column type in one spelling; ENUM and SET members keep their case (they are values). */
export function normalizeColumnType(columnType: string): string {
  const t = columnType.trim().replace(/\s+/g, ' ')
  const member = /^(enum|set)\s*\(([\s\S]*)\)$/i.exec(t)
  if (member !== null) return `${lower(member[1] ?? '')}(${member[2] ?? ''})`
  let s = lower(t)
  s = s.replace(/^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/, '$1')
  s = s.replace(/^integer\b/, 'int').replace(/^numeric\b/, 'decimal').replace(/^(bool|boolean)\b/, 'tinyint')
  s = s.replace(/^double precision\b/, 'double').replace(/^real\b/, 'double')
  s = s.replace(/^decimal(?!\()/, 'decimal(10,0)').replace(/^decimal\((\d+)\)/, 'decimal($1,0)').replace(/^decimal\((\d+)\s*,\s*(\d+)\)/, 'decimal($1,$2)')
  s = s.replace(/^(datetime|timestamp|time)\(0\)/, '$1')
  return s
}

function normalizeCharset(charset: string | null): string | null {
  if (charset === null) return null
  const c = lower(charset)
  return c === 'utf8mb3' ? 'utf8' : c
}

function normalizeCollation(collation: string | null): string | null {
  return collation === null ? null : lower(collation).replace(/^utf8mb3_/, 'utf8_')
}

const NUMERIC = /^(tinyint|smallint|mediumint|int|bigint|decimal|float|double|bit|year)\b/

function canonicalNumber(s: string): string | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(s.trim())
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return null
  if (m[4] !== undefined) return String(Number(s))
  const int = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0'
  const frac = (m[3] ?? '').replace(/0+$/, '')
  const body = frac === '' ? int : `${int}.${frac}`
  return body === '0' ? '0' : `${m[1] === '-' ? '-' : ''}${body}`
}

function stripOuterParens(s: string): string {
  let t = s.trim()
  while (t.startsWith('(') && t.endsWith(')') && balanced(t.slice(1, -1))) t = t.slice(1, -1).trim()
  return t
}

function balanced(s: string): boolean {
  let depth = 0
  for (const ch of s) {
    if (ch === '(') depth++
    else if (ch === ')' && --depth < 0) return false
  }
  return depth === 0
}

export function normalizeDefault(value: string | null, columnType: string): string | null {
  if (value === null) return null
  const v = stripOuterParens(value)
  if (/^null$/i.test(v)) return null
  const ts = /^(?:current_timestamp|now|localtimestamp|localtime)(?:\((\d*)\))?$/i.exec(v)
  if (ts !== null) return Number(ts[1] || '0') > 0 ? `CURRENT_TIMESTAMP(${ts[1]})` : 'CURRENT_TIMESTAMP'
  if (NUMERIC.test(normalizeColumnType(columnType))) {
    const unquoted = /^'(.*)'$/s.exec(v)?.[1] ?? v
    return canonicalNumber(unquoted) ?? v
  }
  return v
}

/** Expression text as servers rewrite it: no case, whitespace, backquotes, parentheses or charset introducers. */
export function normalizeExpression(expression: string): string {
  return lower(expression)
    .replace(/_[a-z0-9]+'/g, "'")
    .replace(/[`\s()]/g, '')
}

function columnsText(columns: readonly KeyColumn[]): string {
  return `(${columns.map((c) => (c.prefixLength === null ? c.name : `${c.name}(${c.prefixLength})`)).join(', ')})`
}

function keySignature(columns: readonly KeyColumn[]): string {
  return columns.map((c) => `${lower(c.name)}:${c.prefixLength ?? ''}`).join(',')
}

function kindClass(kind: string): string {
  const k = lower(kind)
  return k === 'fulltext' || k === 'spatial' ? k : 'btree'
}

interface NormalIndex {
  name: string
  unique: boolean
  kind: string
  columns: KeyColumn[]
  signature: string
}

/** Secondary indexes, unique keys included (a unique key the model lists only in uniqueKeys counts too). */
function secondaryIndexes(t: TableModel): NormalIndex[] {
  const out = new Map<string, NormalIndex>()
  const add = (name: string, unique: boolean, kind: string, columns: KeyColumn[]) => {
    if (!out.has(lower(name))) out.set(lower(name), {name, unique, kind: kindClass(kind), columns, signature: `${unique ? 'u' : 'n'}|${kindClass(kind)}|${keySignature(columns)}`})
  }
  for (const i of t.indexes) if (!i.primary) add(i.name, i.unique, i.kind, i.columns)
  for (const k of t.uniqueKeys) add(k.name, true, 'btree', k.columns)
  return [...out.values()]
}

function describeColumn(c: ColumnModel): Record<string, string> {
  const defaultText = normalizeDefault(c.default, c.columnType)
  return {
    type: normalizeColumnType(c.columnType),
    nullability: c.nullable ? 'NULL' : 'NOT NULL',
    default: defaultText === null ? 'no default' : `default ${defaultText}`,
    autoIncrement: c.identity === null ? 'not AUTO_INCREMENT' : 'AUTO_INCREMENT',
    generated: c.generated === null ? 'not generated' : `generated ${c.generated.stored ? 'STORED' : 'VIRTUAL'} AS (${normalizeExpression(c.generated.expression)})`,
    onUpdate: c.serverMaintained ? 'ON UPDATE CURRENT_TIMESTAMP' : 'no ON UPDATE',
  }
}

function diffColumns(expected: TableModel, found: TableModel): TableDifference[] {
  const diff: TableDifference[] = []
  const foundBy = new Map(found.columns.map((c) => [lower(c.name), c]))
  const expectedNames = new Set(expected.columns.map((c) => lower(c.name)))
  for (const e of expected.columns) {
    const f = foundBy.get(lower(e.name))
    if (f === undefined) {
      diff.push({text: `column ${e.name}: missing on target`})
      continue
    }
    const de = describeColumn(e)
    const df = describeColumn(f)
    for (const key of Object.keys(de)) {
      if (de[key] !== df[key]) diff.push({text: `column ${e.name}: ${de[key]} expected, ${df[key]} found`})
    }
    const ec = normalizeCharset(e.charset)
    if (ec !== null && ec !== normalizeCharset(f.charset)) diff.push({text: `column ${e.name}: charset ${ec} expected, ${f.charset ?? 'none'} found`})
    const el = normalizeCollation(e.collation)
    if (el !== null && el !== normalizeCollation(f.collation)) diff.push({text: `column ${e.name}: collation ${el} expected, ${f.collation ?? 'none'} found`})
  }
  for (const f of found.columns) if (!expectedNames.has(lower(f.name))) diff.push({text: `column ${f.name}: not expected (extra on target)`})
  return diff
}

function diffPrimaryKey(expected: TableModel, found: TableModel): TableDifference[] {
  const e = expected.primaryKey
  const f = found.primaryKey
  if (e === null && f === null) return []
  if (e === null) return [{text: `primary key: none expected, ${columnsText(f?.columns ?? [])} found`}]
  if (f === null) return [{text: `primary key: ${columnsText(e.columns)} expected, none found`}]
  return keySignature(e.columns) === keySignature(f.columns) ? [] : [{text: `primary key: ${columnsText(e.columns)} expected, ${columnsText(f.columns)} found`}]
}

function describeIndex(i: NormalIndex): string {
  return `${i.unique ? 'unique ' : ''}${i.kind === 'btree' ? '' : `${i.kind} `}${columnsText(i.columns)}`
}

function diffIndexes(expected: TableModel, found: TableModel): TableDifference[] {
  const fnd = secondaryIndexes(found)
  const {diff, used} = matchNamed(secondaryIndexes(expected), fnd, (i) => i.name, (i) => i.signature, {
    changed: (e, f) => `index ${e.name}: ${describeIndex(e)} expected, ${describeIndex(f)} found`,
    kind: 'index',
    label: 'index',
  })
  const fkColumns = expected.foreignKeys.map((k) => k.columns.map(lower).join(','))
  for (const f of fnd) {
    if (used.has(f)) continue
    const cols = f.columns.map((c) => lower(c.name)).join(',')
    if (!f.unique && f.kind === 'btree' && fkColumns.some((k) => k === cols)) continue
    diff.push({text: `index ${f.name}: ${describeIndex(f)} not expected (extra on target)`})
  }
  return diff
}

function normalRule(rule: string): string {
  const r = rule.trim().toUpperCase().replace(/\s+/g, ' ')
  return r === 'NO ACTION' ? 'RESTRICT' : r
}

function fkSignature(k: ForeignKeyModel): string {
  return [k.columns.map(lower).join(','), lower(k.referencedTable), k.referencedColumns.map(lower).join(','), normalRule(k.onUpdate), normalRule(k.onDelete)].join('|')
}

function describeFk(k: ForeignKeyModel): string {
  const rules = [normalRule(k.onDelete) === 'RESTRICT' ? '' : ` ON DELETE ${normalRule(k.onDelete)}`, normalRule(k.onUpdate) === 'RESTRICT' ? '' : ` ON UPDATE ${normalRule(k.onUpdate)}`].join('')
  return `(${k.columns.join(', ')}) REFERENCES ${k.referencedTable} (${k.referencedColumns.join(', ')})${rules}`
}

function diffForeignKeys(expected: TableModel, found: TableModel): TableDifference[] {
  const {diff, used} = matchNamed(expected.foreignKeys, found.foreignKeys, (k) => k.name, fkSignature, {
    changed: (e, f) => `foreign key ${e.name}: ${describeFk(e)} expected, ${describeFk(f)} found`,
    kind: 'foreign-key',
    label: 'foreign key',
  })
  for (const f of found.foreignKeys) if (!used.has(f)) diff.push({text: `foreign key ${f.name}: ${describeFk(f)} not expected (extra on target)`})
  return diff
}

/**
 * Pairs expected and found objects (indexes, foreign keys): first by name with the same
 * signature, then the same signature under another name (the same object, renamed), then the
 * same name with another signature (changed); what is left of `expected` is missing. Returns the
 * differences and the found objects that were paired, so the caller can report the extras.
 */
function matchNamed<T>(
  expected: readonly T[],
  found: readonly T[],
  name: (x: T) => string,
  signature: (x: T) => string,
  o: {changed: (e: T, f: T) => string; kind: 'index' | 'foreign-key'; label: string},
): {diff: TableDifference[]; used: Set<T>} {
  const diff: TableDifference[] = []
  const used = new Set<T>()
  const foundByName = new Map(found.map((f) => [lower(name(f)), f]))
  const pending: T[] = []
  for (const e of expected) {
    const f = foundByName.get(lower(name(e)))
    if (f !== undefined && signature(f) === signature(e)) used.add(f)
    else pending.push(e)
  }
  for (const e of pending) {
    const twin = found.find((f) => !used.has(f) && signature(f) === signature(e))
    if (twin !== undefined) {
      used.add(twin)
      continue
    }
    const sameName = foundByName.get(lower(name(e)))
    if (sameName !== undefined && !used.has(sameName)) {
      used.add(sameName)
      diff.push({text: o.changed(e, sameName)})
    } else {
      diff.push({text: `${o.label} ${name(e)}: missing on target`, missing: {kind: o.kind, name: name(e)}})
    }
  }
  return {diff, used}
}

function diffChecks(expected: TableModel, found: TableModel): TableDifference[] {
  const diff: TableDifference[] = []
  const remaining = [...found.checks]
  for (const e of expected.checks) {
    const at = remaining.findIndex((f) => normalizeExpression(f.expression) === normalizeExpression(e.expression))
    if (at >= 0) remaining.splice(at, 1)
    else diff.push({text: `check ${e.name}: (${e.expression}) missing on target`})
  }
  for (const f of remaining) diff.push({text: `check ${f.name}: (${f.expression}) not expected (extra on target)`})
  return diff
}

export interface TableDifference {
  /** One line a DBA can act on. */
  text: string
  /**
   * Set when the only problem is that an index or foreign key the conversion adds in its own
   * step is absent: what a provision run that stopped between creating a table and its indexes
   * leaves behind, and what the next run completes.
   */
  missing?: {kind: 'index' | 'foreign-key'; name: string}
}

export interface DiffOptions {
  /**
   * false when the target's introspection cannot read CHECK constraints (TiDB, which also ignores
   * them unless tidb_enable_check_constraint is on; MySQL before 8.0.16; old MariaDB): the found
   * table then always shows none, which says nothing about the table.
   */
  checks?: boolean
}

/** Every difference between the expected and the found table, one line each; empty when they are the same. */
export function diffTable(expected: TableModel, found: TableModel, options: DiffOptions = {}): TableDifference[] {
  return [
    ...diffColumns(expected, found),
    ...diffPrimaryKey(expected, found),
    ...diffIndexes(expected, found),
    ...diffForeignKeys(expected, found),
    ...(options.checks === false ? [] : diffChecks(expected, found)),
  ]
}
