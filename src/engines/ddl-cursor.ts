/**
 * The token and the token cursor the offline DDL readers (T-SQL, MySQL dumps) parse statements
 * with. Parse failures are ParseError with the 1-based line where the parser stopped, so a
 * reader can report the statement (or the one column) as not assessed with a useful line number.
 */

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'variable' | 'punct'

export interface Token {
  kind: TokenKind
  /** word: as written; ident: unescaped name; string: unescaped value; punct: the operator. */
  value: string
  /** Offsets into the text: text.slice(start, end) is the raw token. */
  start: number
  end: number
  /** 1-based line of the token's first character. */
  line: number
  /** N'...' strings (T-SQL). */
  unicode?: boolean
  /** A string or quoted identifier that reached the end of the input unclosed. */
  unterminated?: boolean
}

/** Case-insensitive keyword test on a token. */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  if (t?.kind !== 'word') return false
  const v = t.value.toUpperCase()
  return words.includes(v)
}

export class ParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message)
    this.name = 'ParseError'
  }
}

export interface QName {
  schema: string | null
  name: string
}

export interface TypeSpec {
  schema: string | null
  name: string
  /** "max", numbers, or raw words (xml(CONTENT x)). */
  args: string[]
}

export interface KeyPart {
  name: string
  descending: boolean
}

export interface Problem {
  line: number
  reason: string
}

export class Cursor {
  i = 0

  constructor(
    readonly tokens: readonly Token[],
    readonly script: string,
  ) {}

  /** A cursor of the same class over other tokens (so subclasses keep their methods in sub-lists). */
  protected make(tokens: readonly Token[]): this {
    const Ctor = this.constructor as new (tokens: readonly Token[], script: string) => this
    return new Ctor(tokens, this.script)
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset]
  }

  atEnd(): boolean {
    return this.i >= this.tokens.length
  }

  /** The line to blame: the current token's, or the last token's at the end. */
  line(): number {
    return (this.peek() ?? this.tokens[this.tokens.length - 1])?.line ?? 1
  }

  error(message: string): ParseError {
    return new ParseError(message, this.line())
  }

  next(): Token {
    const t = this.tokens[this.i]
    if (t === undefined) throw this.error('unexpected end of statement')
    this.i++
    return t
  }

  is(...words: string[]): boolean {
    return isWord(this.peek(), ...words)
  }

  accept(...words: string[]): boolean {
    if (!this.is(...words)) return false
    this.i++
    return true
  }

  /** Accepts a sequence of words only when all of them follow. */
  acceptSeq(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!isWord(this.peek(k), words[k] as string)) return false
    this.i += words.length
    return true
  }

  expect(...words: string[]): string {
    const t = this.peek()
    if (!isWord(t, ...words)) throw this.error(`expected ${words.join(' or ')} but found ${describe(t)}`)
    this.i++
    return (t as Token).value.toUpperCase()
  }

  isPunct(p: string, offset = 0): boolean {
    const t = this.peek(offset)
    return t?.kind === 'punct' && t.value === p
  }

  acceptPunct(p: string): boolean {
    if (!this.isPunct(p)) return false
    this.i++
    return true
  }

  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw this.error(`expected "${p}" but found ${describe(this.peek())}`)
  }

  /** An identifier: a bare word or a [bracketed] / "quoted" one. */
  ident(): string {
    const t = this.peek()
    if (t === undefined || (t.kind !== 'word' && t.kind !== 'ident')) throw this.error(`expected a name but found ${describe(t)}`)
    if (t.unterminated) throw this.error('unterminated identifier')
    this.i++
    return t.value
  }

  isIdent(offset = 0): boolean {
    const t = this.peek(offset)
    return t !== undefined && (t.kind === 'word' || t.kind === 'ident')
  }

  /** server.database.schema.name: keeps the last two parts. */
  qname(): QName {
    const parts = [this.ident()]
    while (this.isPunct('.') && parts.length < 4) {
      this.i++
      // db..table leaves the schema empty.
      if (this.isPunct('.')) {
        parts.push('')
        continue
      }
      parts.push(this.ident())
    }
    const name = parts[parts.length - 1] as string
    const schema = parts.length >= 2 ? (parts[parts.length - 2] as string) : null
    return {schema: schema === '' ? null : schema, name}
  }

  /** Index of the ")" matching the "(" at the cursor; throws on an unbalanced list. */
  matching(): number {
    if (!this.isPunct('(')) throw this.error(`expected "(" but found ${describe(this.peek())}`)
    let depth = 0
    for (let k = this.i; k < this.tokens.length; k++) {
      const t = this.tokens[k] as Token
      if (t.kind !== 'punct') continue
      if (t.value === '(') depth++
      else if (t.value === ')') {
        depth--
        if (depth === 0) return k
      }
    }
    throw this.error('unbalanced parenthesis: no closing ")"')
  }

  /** Consumes a parenthesised group and returns its text including the parentheses. */
  group(): string {
    const from = this.i
    const to = this.matching()
    this.i = to + 1
    return this.text(from, to)
  }

  /** Consumes "( ... )" and returns a cursor over the tokens inside. */
  inner(): this {
    const from = this.i
    const to = this.matching()
    this.i = to + 1
    return this.make(this.tokens.slice(from + 1, to))
  }

  /** The script text from token `from` to token `to` (inclusive). */
  text(from: number, to: number): string {
    const a = this.tokens[from]
    const b = this.tokens[to]
    if (a === undefined || b === undefined || to < from) return ''
    return this.script.slice(a.start, b.end)
  }

  /** Splits the remaining tokens at top-level commas into sub-cursors. */
  commaList(): this[] {
    const out: this[] = []
    let depth = 0
    let from = this.i
    for (let k = this.i; k <= this.tokens.length; k++) {
      const t = this.tokens[k]
      if (t === undefined || (depth === 0 && t.kind === 'punct' && t.value === ',')) {
        if (k > from) out.push(this.make(this.tokens.slice(from, k)))
        from = k + 1
        continue
      }
      if (t.kind === 'punct' && t.value === '(') depth++
      else if (t.kind === 'punct' && t.value === ')') depth--
    }
    this.i = this.tokens.length
    return out
  }

  /** Consumes tokens up to (not including) one of the words at depth 0, returning their text. */
  until(stopWords: readonly string[]): string {
    const from = this.i
    let depth = 0
    while (!this.atEnd()) {
      const t = this.peek() as Token
      if (depth === 0 && isWord(t, ...stopWords)) break
      if (t.kind === 'punct' && t.value === '(') depth++
      else if (t.kind === 'punct' && t.value === ')') {
        if (depth === 0) break
        depth--
      }
      this.i++
    }
    if (depth !== 0) throw this.error('unbalanced parenthesis')
    return this.text(from, this.i - 1)
  }


  /** ( [a] ASC, [b] DESC ) */
  keyParts(): KeyPart[] {
    return this.inner()
      .commaList()
      .map((c) => {
        const name = c.ident()
        const descending = c.accept('DESC')
        if (!descending) c.accept('ASC')
        c.end('key column')
        return {name, descending}
      })
  }

  /** ( [a], [b] ) */
  nameList(): string[] {
    return this.inner()
      .commaList()
      .map((c) => {
        const name = c.ident()
        c.end('column list')
        return name
      })
  }

  /** Asserts nothing is left. */
  end(what: string): void {
    if (!this.atEnd()) throw this.error(`unexpected ${describe(this.peek())} in ${what}`)
  }

}

export function describe(t: Token | undefined): string {
  if (t === undefined) return 'the end of the statement'
  if (t.kind === 'string') return 'a string'
  return `"${t.kind === 'ident' ? `[${t.value}]` : t.value}"`
}
