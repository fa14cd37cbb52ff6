/**
 * Tokenizer for T-SQL scripts (SSMS "Generate Scripts" output and hand-written variants), and the
 * GO batch splitter built on it. It never throws: an unterminated string, identifier or comment
 * becomes a token running to the end of the input (flagged `unterminated`), so the parser can
 * report the statement as not assessed instead of the whole script failing.
 *
 * GO is recognised on tokens, not lines, so that a GO inside a string literal or a (nested) block
 * comment never splits a batch, while a bracketed [GO] is an identifier.
 */

import {isWord, type Token} from '../ddl-cursor.js'

export {isWord, type Token, type TokenKind} from '../ddl-cursor.js'

export interface Comment {
  start: number
  end: number
  line: number
  text: string
}

export interface Tokenized {
  tokens: Token[]
  comments: Comment[]
}

const TWO_CHAR_OPS = new Set(['<=', '>=', '<>', '!=', '!<', '!>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '::'])

function isWordStart(c: string): boolean {
  return /[A-Za-z_#\u0080-\uffff]/.test(c)
}

function isWordPart(c: string): boolean {
  return /[A-Za-z0-9_#$@\u0080-\uffff]/.test(c)
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

export function tokenize(script: string): Tokenized {
  const tokens: Token[] = []
  const comments: Comment[] = []
  const n = script.length
  let i = 0
  let line = 1

  // Advances over script[from, to), counting newlines, and returns `to`.
  const advance = (from: number, to: number): number => {
    for (let k = from; k < to; k++) if (script.charCodeAt(k) === 10) line++
    return to
  }

  while (i < n) {
    const c = script[i] as string
    const next = script[i + 1]
    if (c === '\n') {
      line++
      i++
      continue
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff') {
      i++
      continue
    }
    const startLine = line
    if (c === '-' && next === '-') {
      let end = script.indexOf('\n', i)
      if (end < 0) end = n
      comments.push({start: i, end, line: startLine, text: script.slice(i, end)})
      i = end
      continue
    }
    if (c === '/' && next === '*') {
      // T-SQL block comments nest.
      let depth = 0
      let k = i
      while (k < n) {
        if (script[k] === '/' && script[k + 1] === '*') {
          depth++
          k += 2
        } else if (script[k] === '*' && script[k + 1] === '/') {
          depth--
          k += 2
          if (depth === 0) break
        } else k++
      }
      comments.push({start: i, end: k, line: startLine, text: script.slice(i, k)})
      i = advance(i, k)
      continue
    }
    if (c === "'" || ((c === 'N' || c === 'n') && next === "'")) {
      const unicode = c !== "'"
      let k = unicode ? i + 2 : i + 1
      let value = ''
      let closed = false
      while (k < n) {
        const q = script.indexOf("'", k)
        if (q < 0) {
          value += script.slice(k)
          k = n
          break
        }
        value += script.slice(k, q)
        if (script[q + 1] === "'") {
          value += "'"
          k = q + 2
          continue
        }
        k = q + 1
        closed = true
        break
      }
      tokens.push({kind: 'string', value, start: i, end: k, line: startLine, unicode, ...(closed ? {} : {unterminated: true})})
      i = advance(i, k)
      continue
    }
    if (c === '[' || c === '"') {
      const close = c === '[' ? ']' : '"'
      let k = i + 1
      let value = ''
      let closed = false
      while (k < n) {
        const q = script.indexOf(close, k)
        if (q < 0) {
          value += script.slice(k)
          k = n
          break
        }
        value += script.slice(k, q)
        if (script[q + 1] === close) {
          value += close
          k = q + 2
          continue
        }
        k = q + 1
        closed = true
        break
      }
      tokens.push({kind: 'ident', value, start: i, end: k, line: startLine, ...(closed ? {} : {unterminated: true})})
      i = advance(i, k)
      continue
    }
    if (isDigit(c) || (c === '.' && isDigit(next))) {
      let k = i
      if (c === '0' && (next === 'x' || next === 'X')) {
        k += 2
        while (k < n && /[0-9a-fA-F]/.test(script[k] as string)) k++
      } else {
        while (k < n && (isDigit(script[k]) || script[k] === '.')) k++
        if ((script[k] === 'e' || script[k] === 'E') && (isDigit(script[k + 1]) || ((script[k + 1] === '+' || script[k + 1] === '-') && isDigit(script[k + 2])))) {
          k += 2
          while (k < n && isDigit(script[k])) k++
        }
      }
      tokens.push({kind: 'number', value: script.slice(i, k), start: i, end: k, line: startLine})
      i = k
      continue
    }
    if (c === '@') {
      let k = i + 1
      while (k < n && isWordPart(script[k] as string)) k++
      tokens.push({kind: 'variable', value: script.slice(i, k), start: i, end: k, line: startLine})
      i = k
      continue
    }
    if (isWordStart(c)) {
      let k = i + 1
      while (k < n && isWordPart(script[k] as string)) k++
      tokens.push({kind: 'word', value: script.slice(i, k), start: i, end: k, line: startLine})
      i = k
      continue
    }
    const two = script.slice(i, i + 2)
    const op = TWO_CHAR_OPS.has(two) ? two : c
    tokens.push({kind: 'punct', value: op, start: i, end: i + op.length, line: startLine})
    i += op.length
  }
  return {tokens, comments}
}


export interface Batch {
  tokens: Token[]
  /** Offsets of the batch's text in the script (first to last token). */
  start: number
  end: number
}

/**
 * Splits at GO: the word GO that is the first token on its line, followed on that line by
 * nothing or by a repeat count (GO 5). Comments are not tokens, so `GO -- done` still splits, as
 * it does in sqlcmd.
 */
export function splitBatches(script: string, tokens: Token[]): Batch[] {
  // A newline between the previous token's end and GO: GO starts its line even after a multi-line string or comment.
  const newlineBefore = (prev: Token | undefined, t: Token): boolean => prev === undefined || script.slice(prev.end, t.start).includes('\n')
  const batches: Batch[] = []
  let current: Token[] = []
  const flush = (): void => {
    const first = current[0]
    const last = current[current.length - 1]
    if (first !== undefined && last !== undefined) batches.push({tokens: current, start: first.start, end: last.end})
    current = []
  }
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token
    const prev = tokens[k - 1]
    if (isWord(t, 'GO') && newlineBefore(prev, t)) {
      const after = tokens[k + 1]
      if (after === undefined || after.line > t.line) {
        flush()
        continue
      }
      const afterCount = tokens[k + 2]
      if (after.kind === 'number' && /^\d+$/.test(after.value) && (afterCount === undefined || afterCount.line > t.line)) {
        flush()
        k++
        continue
      }
    }
    current.push(t)
  }
  flush()
  return batches
}
