/**
 * Splits mysqldump / mariadb-dump output into statements in one pass, and tokenizes a statement.
 *
 * A dump of a real database is mostly INSERT data (hundreds of MB): the splitter is one linear
 * scan with no regular expressions over the text and no copies of INSERT bodies, and it yields
 * statements one at a time. Executable comments (/*!50001 CREATE ... *\/, /*M!100000 ... *\/)
 * are unwrapped so their content reads as SQL, as the server would; DELIMITER lines change the
 * statement terminator as the mysql client does.
 */
import type {Token} from '../ddl-cursor.js'

export interface DumpStatement {
  /** 1-based line of the statement's first character. */
  line: number
  /** Offset of the statement's first character in the dump. */
  start: number
  /** The statement without its delimiter and with comments replaced by a space; null for skipped data statements. */
  text: string | null
  /** INSERT / REPLACE: counted, not read. */
  data: boolean
}

const NL = 10
const SPACE = 32
const QUOTE = 39
const DQUOTE = 34
const BACKTICK = 96
const BACKSLASH = 92
const SLASH = 47
const STAR = 42
const DASH = 45
const HASH = 35
const BANG = 33

function isSpace(c: number): boolean {
  return c === SPACE || c === NL || c === 9 || c === 13 || c === 12 || c === 11
}

/** Starts with INSERT or REPLACE (case-insensitive) followed by a non-word character. */
function isDataStatement(s: string, i: number): boolean {
  for (const word of ['insert', 'replace']) {
    if (s.length >= i + word.length && s.slice(i, i + word.length).toLowerCase() === word) {
      const after = s.charCodeAt(i + word.length)
      if (Number.isNaN(after) || !/[A-Za-z0-9_]/.test(String.fromCharCode(after))) return true
    }
  }
  return false
}

/** "-- " comments need a space, tab or newline after the dashes (MySQL's rule). */
function isDashComment(s: string, i: number): boolean {
  if (s.charCodeAt(i) !== DASH || s.charCodeAt(i + 1) !== DASH) return false
  const c = s.charCodeAt(i + 2)
  return Number.isNaN(c) || isSpace(c)
}

/** Length of an executable comment's opener at i ("/*!50001", "/*M!100000"), or 0. */
function executableOpener(s: string, i: number): number {
  if (s.charCodeAt(i) !== SLASH || s.charCodeAt(i + 1) !== STAR) return 0
  let k = i + 2
  if (s[k] === 'M' && s.charCodeAt(k + 1) === BANG) k += 2
  else if (s.charCodeAt(k) === BANG) k += 1
  else return 0
  while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++
  // "/*M!999999\- enable the sandbox mode */" is a client command, not SQL.
  if (s.charCodeAt(k) === BACKSLASH) return 0
  return k - i
}

export function* scanDump(s: string): Generator<DumpStatement> {
  const n = s.length
  let i = 0
  let line = 1
  let delimiter = ';'
  for (;;) {
    // Between statements: whitespace, comments, DELIMITER commands.
    let atLineStart = true
    for (;;) {
      const c = s.charCodeAt(i)
      if (i >= n) return
      if (c === NL) {
        line++
        i++
        atLineStart = true
      } else if (isSpace(c)) i++
      else if (isDashComment(s, i) || c === HASH) {
        while (i < n && s.charCodeAt(i) !== NL) i++
      } else if (c === SLASH && s.charCodeAt(i + 1) === STAR && executableOpener(s, i) === 0) {
        const end = s.indexOf('*/', i + 2)
        const stop = end < 0 ? n : end + 2
        for (let k = i; k < stop; k++) if (s.charCodeAt(k) === NL) line++
        i = stop
      } else if (atLineStart && s.slice(i, i + 10).toUpperCase() === 'DELIMITER ') {
        let eol = s.indexOf('\n', i)
        if (eol < 0) eol = n
        delimiter = s.slice(i + 10, eol).trim() || ';'
        i = eol
      } else break
    }

    const startLine = line
    const start = i
    const data = isDataStatement(s, i)
    const pieces: string[] = []
    let segment = i
    let inExecutable = false
    const d0 = delimiter.charCodeAt(0)
    const cut = (from: number, to: number): void => {
      if (!data) pieces.push(s.slice(segment, from), ' ')
      segment = to
    }
    let end = n
    while (i < n) {
      const c = s.charCodeAt(i)
      if (c === NL) {
        line++
        i++
      } else if (c === QUOTE || c === DQUOTE || c === BACKTICK) {
        // Strings: backslash escapes and doubled quotes; identifiers: doubled backticks only.
        i++
        while (i < n) {
          const q = s.charCodeAt(i)
          if (q === NL) line++
          if (q === BACKSLASH && c !== BACKTICK) i += 2
          else if (q === c) {
            if (s.charCodeAt(i + 1) === c) i += 2
            else {
              i++
              break
            }
          } else i++
        }
      } else if (c === d0 && (delimiter.length === 1 || s.startsWith(delimiter, i))) {
        end = i
        i += delimiter.length
        break
      } else if (data) {
        i++
      } else if (inExecutable && c === STAR && s.charCodeAt(i + 1) === SLASH) {
        cut(i, i + 2)
        inExecutable = false
        i += 2
      } else if (c === SLASH && s.charCodeAt(i + 1) === STAR) {
        const opener = executableOpener(s, i)
        if (opener > 0 && !inExecutable) {
          cut(i, i + opener)
          inExecutable = true
          i += opener
        } else {
          const close = s.indexOf('*/', i + 2)
          const stop = close < 0 ? n : close + 2
          for (let k = i; k < stop; k++) if (s.charCodeAt(k) === NL) line++
          cut(i, stop)
          i = stop
        }
      } else if (isDashComment(s, i) || c === HASH) {
        let eol = s.indexOf('\n', i)
        if (eol < 0) eol = n
        cut(i, eol)
        i = eol
      } else i++
    }
    const text = data ? null : (pieces.join('') + s.slice(segment, end)).trim()
    if (data || text !== '') yield {line: startLine, start, text, data}
    if (i >= n) return
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens of one statement

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/

/** Tokenizes one statement's text (comments were already removed by scanDump). Never throws. */
export function tokenizeMysql(text: string, firstLine: number): Token[] {
  const tokens: Token[] = []
  const n = text.length
  let i = 0
  let line = firstLine
  while (i < n) {
    const c = text[i] as string
    if (c === '\n') {
      line++
      i++
      continue
    }
    if (/\s/.test(c)) {
      i++
      continue
    }
    const start = i
    const startLine = line
    if (c === "'" || c === '"' || c === '`') {
      let value = ''
      let k = i + 1
      let closed = false
      while (k < n) {
        const q = text[k] as string
        if (q === '\n') line++
        if (q === '\\' && c !== '`' && k + 1 < n) {
          const e = text[k + 1] as string
          value += ({n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', Z: '\x1a'} as Record<string, string>)[e] ?? e
          k += 2
        } else if (q === c) {
          if (text[k + 1] === c) {
            value += c
            k += 2
          } else {
            k++
            closed = true
            break
          }
        } else {
          value += q
          k++
        }
      }
      tokens.push({kind: c === '`' ? 'ident' : 'string', value, start, end: k, line: startLine, ...(closed ? {} : {unterminated: true})})
      i = k
      continue
    }
    if (/\d/.test(c)) {
      const m = /^\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|^0x[0-9a-fA-F]+/.exec(text.slice(i, i + 400))
      const k = i + (m?.[0].length ?? 1)
      if (!WORD.test(text[k] ?? ' ')) {
        tokens.push({kind: 'number', value: text.slice(i, k), start, end: k, line: startLine})
        i = k
        continue
      }
    }
    if (WORD.test(c)) {
      let k = i + 1
      while (k < n && WORD.test(text[k] as string)) k++
      tokens.push({kind: 'word', value: text.slice(i, k), start, end: k, line: startLine})
      i = k
      continue
    }
    if (c === '.' && /\d/.test(text[i + 1] ?? '')) {
      let k = i + 1
      while (k < n && /\d/.test(text[k] as string)) k++
      tokens.push({kind: 'number', value: text.slice(i, k), start, end: k, line: startLine})
      i = k
      continue
    }
    tokens.push({kind: 'punct', value: c, start, end: i + 1, line: startLine})
    i++
  }
  return tokens
}
