/**
 * Translates the small, safe subset of T-SQL expressions that defaults, computed columns and
 * CHECK constraints use into MySQL: column references, literals, arithmetic, comparisons,
 * AND/OR/NOT, IS NULL, BETWEEN, IN, LIKE without character classes, ISNULL, LEN, COALESCE,
 * UPPER/LOWER/LTRIM/RTRIM/ABS/ROUND, CAST/CONVERT to basic types. Anything else is refused with
 * the reason, never guessed: a wrong generated column or check silently corrupts or rejects rows.
 *
 * Types are tracked because T-SQL overloads operators MySQL does not: `+` concatenates strings,
 * and int / int divides without remainder.
 */
import {mysqlDialect} from '../../engines/mysql/mysql-dialect.js'
import {quoteLiteral} from '../../engines/mysql/mysql-introspector.js'

export type ExprType = 'int' | 'decimal' | 'string' | 'bool' | 'other'

export type Translation = {ok: true; sql: string; type: ExprType; node: Node} | {ok: false; reason: string}

type Token =
  | {kind: 'ident'; text: string; quoted: boolean}
  | {kind: 'string'; text: string}
  | {kind: 'number'; text: string}
  | {kind: 'hex'; text: string}
  | {kind: 'op'; text: string}

export type Node =
  | {kind: 'column'; name: string}
  | {kind: 'literal'; sql: string; type: ExprType}
  | {kind: 'null'}
  | {kind: 'call'; name: string; args: Node[]}
  | {kind: 'cast'; expr: Node; type: string}
  | {kind: 'unary'; op: string; expr: Node}
  | {kind: 'binary'; op: string; left: Node; right: Node}
  | {kind: 'isnull'; expr: Node; not: boolean}
  | {kind: 'between'; expr: Node; low: Node; high: Node; not: boolean}
  | {kind: 'in'; expr: Node; list: Node[]; not: boolean}

class Refused extends Error {}

function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const ch = src[i] as string
    if (/\s/.test(ch)) {
      i++
    } else if (ch === '[') {
      const end = src.indexOf(']', i)
      if (end < 0) throw new Refused('unterminated [identifier]')
      out.push({kind: 'ident', text: src.slice(i + 1, end), quoted: true})
      i = end + 1
    } else if (ch === "'" || ((ch === 'N' || ch === 'n') && src[i + 1] === "'")) {
      let j = ch === "'" ? i + 1 : i + 2
      let text = ''
      for (;;) {
        if (j >= src.length) throw new Refused('unterminated string literal')
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            text += "'"
            j += 2
            continue
          }
          break
        }
        text += src[j]
        j++
      }
      out.push({kind: 'string', text})
      i = j + 1
    } else if (/^0x[0-9a-f]*/i.test(src.slice(i, i + 3))) {
      const m = /^0x[0-9a-f]*/i.exec(src.slice(i)) as RegExpExecArray
      out.push({kind: 'hex', text: m[0]})
      i += m[0].length
    } else if (/[0-9.]/.test(ch) && /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.test(src.slice(i))) {
      const m = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(src.slice(i)) as RegExpExecArray
      out.push({kind: 'number', text: m[0]})
      i += m[0].length
    } else if (/[A-Za-z_@#]/.test(ch)) {
      const m = /^[A-Za-z_@#][\w@#$]*/.exec(src.slice(i)) as RegExpExecArray
      out.push({kind: 'ident', text: m[0], quoted: false})
      i += m[0].length
    } else {
      const two = src.slice(i, i + 2)
      if (['<>', '!=', '<=', '>='].includes(two)) {
        out.push({kind: 'op', text: two})
        i += 2
      } else if ('+-*/%(),=<>'.includes(ch)) {
        out.push({kind: 'op', text: ch})
        i++
      } else {
        throw new Refused(`unexpected character ${JSON.stringify(ch)}`)
      }
    }
  }
  return out
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'BETWEEN', 'IN', 'LIKE', 'AS'])

class Parser {
  private pos = 0
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or()
    if (this.pos < this.tokens.length) throw new Refused(`unexpected ${JSON.stringify(this.peekText())}`)
    return node
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos]
  }
  private peekText(): string {
    return this.peek()?.text ?? 'end of expression'
  }
  private isKeyword(word: string, offset = 0): boolean {
    const t = this.tokens[this.pos + offset]
    return t?.kind === 'ident' && !t.quoted && t.text.toUpperCase() === word
  }
  private isOp(op: string): boolean {
    const t = this.peek()
    return t?.kind === 'op' && t.text === op
  }
  private expectOp(op: string): void {
    if (!this.isOp(op)) throw new Refused(`expected "${op}" at ${JSON.stringify(this.peekText())}`)
    this.pos++
  }

  private or(): Node {
    let left = this.and()
    while (this.isKeyword('OR')) {
      this.pos++
      left = {kind: 'binary', op: 'OR', left, right: this.and()}
    }
    return left
  }
  private and(): Node {
    let left = this.not()
    while (this.isKeyword('AND')) {
      this.pos++
      left = {kind: 'binary', op: 'AND', left, right: this.not()}
    }
    return left
  }
  private not(): Node {
    if (this.isKeyword('NOT')) {
      this.pos++
      return {kind: 'unary', op: 'NOT', expr: this.not()}
    }
    return this.comparison()
  }
  private comparison(): Node {
    const left = this.additive()
    const t = this.peek()
    if (t?.kind === 'op' && ['=', '<>', '!=', '<', '>', '<=', '>='].includes(t.text)) {
      this.pos++
      return {kind: 'binary', op: t.text === '!=' ? '<>' : t.text, left, right: this.additive()}
    }
    if (this.isKeyword('IS')) {
      this.pos++
      const not = this.isKeyword('NOT')
      if (not) this.pos++
      if (!this.isKeyword('NULL')) throw new Refused('expected NULL after IS')
      this.pos++
      return {kind: 'isnull', expr: left, not}
    }
    const not = this.isKeyword('NOT') && (this.isKeyword('BETWEEN', 1) || this.isKeyword('IN', 1) || this.isKeyword('LIKE', 1))
    if (not) this.pos++
    if (this.isKeyword('BETWEEN')) {
      this.pos++
      const low = this.additive()
      if (!this.isKeyword('AND')) throw new Refused('expected AND in BETWEEN')
      this.pos++
      return {kind: 'between', expr: left, low, high: this.additive(), not}
    }
    if (this.isKeyword('IN')) {
      this.pos++
      this.expectOp('(')
      const list = [this.additive()]
      while (this.isOp(',')) {
        this.pos++
        list.push(this.additive())
      }
      this.expectOp(')')
      return {kind: 'in', expr: left, list, not}
    }
    if (this.isKeyword('LIKE')) {
      this.pos++
      const pattern = this.additive()
      // T-SQL LIKE has [a-z] character classes; MySQL would match the brackets literally.
      if (pattern.kind === 'literal' && pattern.sql.includes('[')) throw new Refused('LIKE pattern with a [character class]')
      const like: Node = {kind: 'binary', op: 'LIKE', left, right: pattern}
      return not ? {kind: 'unary', op: 'NOT', expr: like} : like
    }
    return left
  }
  private additive(): Node {
    let left = this.multiplicative()
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.peek() as Token).text
      this.pos++
      left = {kind: 'binary', op, left, right: this.multiplicative()}
    }
    return left
  }
  private multiplicative(): Node {
    let left = this.unary()
    while (this.isOp('*') || this.isOp('/') || this.isOp('%')) {
      const op = (this.peek() as Token).text
      this.pos++
      left = {kind: 'binary', op, left, right: this.unary()}
    }
    return left
  }
  private unary(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const op = (this.peek() as Token).text
      this.pos++
      const expr = this.unary()
      if (op === '+') return expr
      // Fold "-(1)" (SQL Server's spelling of a negative default) into the literal -1.
      if (expr.kind === 'literal' && /^\d/.test(expr.sql)) return {kind: 'literal', sql: `-${expr.sql}`, type: expr.type}
      return {kind: 'unary', op: '-', expr}
    }
    return this.primary()
  }
  private primary(): Node {
    const t = this.peek()
    if (t === undefined) throw new Refused('unexpected end of expression')
    this.pos++
    switch (t.kind) {
      case 'number':
        return {kind: 'literal', sql: t.text, type: /[.e]/i.test(t.text) ? 'decimal' : 'int'}
      case 'string':
        return {kind: 'literal', sql: quoteLiteral(t.text), type: 'string'}
      case 'hex':
        return {kind: 'literal', sql: t.text, type: 'other'}
      case 'op':
        if (t.text === '(') {
          const inner = this.or()
          this.expectOp(')')
          return inner
        }
        throw new Refused(`unexpected "${t.text}"`)
      case 'ident':
        break
    }
    if (!t.quoted && t.text.toUpperCase() === 'NULL') return {kind: 'null'}
    if (!t.quoted && KEYWORDS.has(t.text.toUpperCase())) throw new Refused(`unexpected ${t.text}`)
    if (this.isOp('(')) return this.call(t.text)
    if (t.text.startsWith('@')) throw new Refused(`variable ${t.text}`)
    return {kind: 'column', name: t.text}
  }
  private call(rawName: string): Node {
    const name = rawName.toUpperCase()
    this.expectOp('(')
    if (name === 'CAST') {
      const expr = this.or()
      if (!this.isKeyword('AS')) throw new Refused('expected AS in CAST')
      this.pos++
      const type = this.typeName()
      this.expectOp(')')
      return {kind: 'cast', expr, type}
    }
    if (name === 'CONVERT') {
      const type = this.typeName()
      this.expectOp(',')
      const expr = this.or()
      if (this.isOp(',')) throw new Refused('CONVERT with a style argument')
      this.expectOp(')')
      return {kind: 'cast', expr, type}
    }
    const args: Node[] = []
    if (!this.isOp(')')) {
      args.push(this.or())
      while (this.isOp(',')) {
        this.pos++
        args.push(this.or())
      }
    }
    this.expectOp(')')
    return {kind: 'call', name, args}
  }
  /** A T-SQL type in CAST/CONVERT: name plus optional (n) / (p,s) / (max). */
  private typeName(): string {
    const t = this.peek()
    if (t?.kind !== 'ident') throw new Refused('expected a type name')
    this.pos++
    let type = t.text.toLowerCase()
    if (this.isOp('(')) {
      this.pos++
      const args: string[] = []
      for (;;) {
        const a = this.peek()
        if (a === undefined || (a.kind !== 'number' && a.kind !== 'ident')) throw new Refused('bad type arguments')
        args.push(a.text.toLowerCase())
        this.pos++
        if (this.isOp(',')) {
          this.pos++
          continue
        }
        break
      }
      this.expectOp(')')
      type += `(${args.join(',')})`
    }
    return type
  }
}

/** Parses a T-SQL expression; throws Refused with the reason. */
export function parseTsql(src: string): Node {
  return new Parser(tokenize(src)).parse()
}

// ---------------------------------------------------------------------------------------------
// Printing as MySQL

const PRECEDENCE: Record<string, number> = {OR: 1, AND: 2, NOT: 3, '=': 4, '<>': 4, '<': 4, '>': 4, '<=': 4, '>=': 4, LIKE: 4, '+': 5, '-': 5, '*': 6, '/': 6, DIV: 6, '%': 6}

interface Printed {
  sql: string
  type: ExprType
  /** Binding strength of the outermost operator (higher binds tighter; 9 = atom). */
  prec: number
}

const INT_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint', 'bit'])
const DECIMAL_TYPES = new Set(['decimal', 'numeric', 'money', 'smallmoney', 'float', 'real'])
const STRING_TYPES = new Set(['char', 'varchar', 'nchar', 'nvarchar', 'text', 'ntext'])

export function exprTypeOfSqlServerType(dataType: string): ExprType {
  if (INT_TYPES.has(dataType)) return 'int'
  if (DECIMAL_TYPES.has(dataType)) return 'decimal'
  if (STRING_TYPES.has(dataType)) return 'string'
  return 'other'
}

function castTarget(type: string): {sql: string; type: ExprType} {
  const m = /^(\w+)(?:\(([^)]*)\))?$/.exec(type)
  const name = m?.[1] ?? ''
  const args = m?.[2]
  if (INT_TYPES.has(name) && name !== 'bit') return {sql: 'SIGNED', type: 'int'}
  if ((name === 'decimal' || name === 'numeric') && args !== undefined) return {sql: `DECIMAL(${args})`, type: 'decimal'}
  if (name === 'money') return {sql: 'DECIMAL(19,4)', type: 'decimal'}
  if (STRING_TYPES.has(name)) return {sql: args === undefined || args === 'max' ? 'CHAR' : `CHAR(${args})`, type: 'string'}
  if (name === 'date') return {sql: 'DATE', type: 'other'}
  if (name === 'datetime2' || name === 'datetime') return {sql: `DATETIME(${Math.min(Number(args ?? (name === 'datetime' ? 3 : 7)), 6)})`, type: 'other'}
  throw new Refused(`CAST/CONVERT to ${type}`)
}

const SAME_FUNCTIONS = new Set(['UPPER', 'LOWER', 'LTRIM', 'RTRIM', 'ABS', 'ROUND', 'COALESCE'])

function paren(p: Printed, min: number): string {
  return p.prec < min ? `(${p.sql})` : p.sql
}

function print(node: Node, columnType: (name: string) => ExprType | null): Printed {
  const atom = (sql: string, type: ExprType): Printed => ({sql, type, prec: 9})
  const rec = (n: Node): Printed => print(n, columnType)
  switch (node.kind) {
    case 'column': {
      const type = columnType(node.name)
      if (type === null) throw new Refused(`unknown column ${node.name}`)
      return atom(mysqlDialect.quoteIdentifier(node.name), type)
    }
    case 'literal':
      return atom(node.sql, node.type)
    case 'null':
      return atom('NULL', 'other')
    case 'cast': {
      const target = castTarget(node.type)
      return atom(`CAST(${rec(node.expr).sql} AS ${target.sql})`, target.type)
    }
    case 'call': {
      const known = (node.name === 'ISNULL' && node.args.length === 2) || (node.name === 'LEN' && node.args.length === 1) || SAME_FUNCTIONS.has(node.name)
      if (!known) throw new Refused(`function ${node.name}()`)
      const args = node.args.map(rec)
      const list = args.map((a) => a.sql).join(', ')
      if (node.name === 'ISNULL' && args.length === 2) return atom(`IFNULL(${list})`, args[0]?.type ?? 'other')
      // LEN ignores trailing spaces; CHAR_LENGTH counts them.
      if (node.name === 'LEN' && args.length === 1) return atom(`CHAR_LENGTH(RTRIM(${list}))`, 'int')
      return atom(`${node.name}(${list})`, args[0]?.type ?? 'other')
    }
    case 'unary': {
      if (node.op === 'NOT') return {sql: `NOT ${paren(rec(node.expr), 4)}`, type: 'bool', prec: 3}
      const e = rec(node.expr)
      return {sql: `-${paren(e, 7)}`, type: e.type, prec: 7}
    }
    case 'isnull':
      return {sql: `${paren(rec(node.expr), 5)} IS ${node.not ? 'NOT ' : ''}NULL`, type: 'bool', prec: 4}
    case 'between':
      return {
        sql: `${paren(rec(node.expr), 5)} ${node.not ? 'NOT ' : ''}BETWEEN ${paren(rec(node.low), 5)} AND ${paren(rec(node.high), 5)}`,
        type: 'bool',
        prec: 4,
      }
    case 'in':
      return {sql: `${paren(rec(node.expr), 5)} ${node.not ? 'NOT ' : ''}IN (${node.list.map((n) => rec(n).sql).join(', ')})`, type: 'bool', prec: 4}
    case 'binary':
      return printBinary(node, rec)
  }
}

function printBinary(node: Extract<Node, {kind: 'binary'}>, rec: (n: Node) => Printed): Printed {
  const l = rec(node.left)
  const r = rec(node.right)
  let op = node.op
  if (op === '+' && (l.type === 'string' || r.type === 'string')) {
    // T-SQL string concatenation; NULL in, NULL out on both engines (CONCAT_NULL_YIELDS_NULL is ON by default).
    const parts = [l, r].flatMap((p) => (p.sql.startsWith('CONCAT(') && p.type === 'string' && p.prec === 9 ? [p.sql.slice(7, -1)] : [p.sql]))
    return {sql: `CONCAT(${parts.join(', ')})`, type: 'string', prec: 9}
  }
  const numeric = (t: ExprType): boolean => t === 'int' || t === 'decimal'
  const prec = PRECEDENCE[op] ?? 4
  let type: ExprType = 'bool'
  if (['+', '-', '*', '/', '%'].includes(op)) {
    if (!numeric(l.type) || !numeric(r.type)) throw new Refused(`"${op}" on operands whose types are not both numeric`)
    type = l.type === 'int' && r.type === 'int' ? 'int' : 'decimal'
    // int / int truncates in T-SQL; MySQL's "/" would return a decimal.
    if (op === '/' && type === 'int') op = 'DIV'
  }
  // Left-associative: the right operand needs parentheses at equal precedence.
  return {sql: `${paren(l, prec)} ${op} ${paren(r, prec + 1)}`, type, prec}
}

/**
 * Translates a T-SQL expression for a generated column or a CHECK. `columnType` answers the
 * expression type of a column of the same table (null: no such column).
 */
export function translateTsql(src: string, columnType: (name: string) => ExprType | null): Translation {
  try {
    const node = parseTsql(src)
    const printed = print(node, columnType)
    return {ok: true, sql: printed.sql, type: printed.type, node}
  } catch (err) {
    if (err instanceof Refused) return {ok: false, reason: err.message}
    throw err
  }
}
