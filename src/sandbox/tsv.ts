/**
 * Rows as `LOAD DATA INFILE` reads them with its default format: tab-separated, one row per
 * line, backslash escapes, `\N` for NULL. Binary cells are written as hex and loaded through
 * UNHEX() so no raw byte (0x00, 0x09, 0x0A) can ever be misread.
 */
import type {ColumnSpec, Row} from './data-generator.js'

const ESCAPES: Record<string, string> = {'\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0'}
const NEEDS_ESCAPE = /[\\\t\n\r\0]/
const ESCAPE_ALL = /[\\\t\n\r\0]/g

export function escapeText(text: string): string {
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPE_ALL, (c) => ESCAPES[c] ?? c) : text
}

/** One TSV line (with its newline) for a row whose cells follow `columns`. */
export function encodeRow(row: Row, columns: readonly ColumnSpec[]): string {
  let line = ''
  for (let i = 0; i < row.length; i++) {
    const cell = row[i]
    if (i > 0) line += '\t'
    if (cell === null || cell === undefined) line += '\\N'
    else if (typeof cell === 'number') line += String(cell)
    else if (typeof cell === 'string') line += escapeText(cell)
    else if (columns[i]?.binary === true) line += cell.toString('hex')
    else throw new Error(`binary value in non-binary column ${columns[i]?.name ?? i}`)
  }
  return `${line}\n`
}
