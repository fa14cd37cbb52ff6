/**
 * The T-SQL flavour of the DDL token cursor: DEFAULT expressions (NEXT VALUE FOR) and the
 * storage clauses (WITH (...), ON filegroup, TEXTIMAGE_ON) that SSMS appends to tables and keys.
 */
import {Cursor, ParseError} from '../ddl-cursor.js'

export {ParseError, describe, type KeyPart, type Problem, type QName, type TypeSpec} from '../ddl-cursor.js'

export class TsqlCursor extends Cursor {
  /** An expression in a DEFAULT: a parenthesised group, a call, NEXT VALUE FOR x, or a (signed) literal. */
  defaultExpression(): string {
    const from = this.i
    if (this.isPunct('(')) return this.group()
    if (this.acceptSeq('NEXT', 'VALUE', 'FOR')) {
      this.qname()
      return this.text(from, this.i - 1)
    }
    if (this.isPunct('-') || this.isPunct('+')) this.i++
    const t = this.next()
    if (t.kind === 'punct') throw new ParseError(`expected a default value but found "${t.value}"`, t.line)
    if (t.kind === 'word' && this.isPunct('(')) this.group()
    return this.text(from, this.i - 1)
  }

  /** Skips WITH ( ... ) and ON filegroup [(column)] / TEXTIMAGE_ON / FILESTREAM_ON; true when ON names a partition scheme. */
  storageClauses(): boolean {
    let partitioned = false
    for (;;) {
      if (this.is('WITH') && this.isPunct('(', 1)) {
        this.i++
        this.group()
      } else if (this.accept('ON', 'TEXTIMAGE_ON', 'FILESTREAM_ON')) {
        if (this.peek()?.kind === 'string') this.i++
        else this.ident()
        if (this.isPunct('(')) {
          this.group()
          partitioned = true
        }
      } else return partitioned
    }
  }
}
