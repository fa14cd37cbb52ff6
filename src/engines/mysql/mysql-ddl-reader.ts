/**
 * `payctl assess --from-ddl FILE --source-engine mysql`: reads mysqldump / mariadb-dump output
 * (or SHOW CREATE TABLE text) into the SchemaModel. Each CREATE TABLE is turned into the rows
 * information_schema would hold for it (COLUMNS, STATISTICS, KEY_COLUMN_USAGE, CHECK_CONSTRAINTS)
 * and mapped by the live introspector's own mapTables, so defaults, JSON detection (MariaDB's
 * LONGTEXT + json_valid), enum values and key order come out exactly as a live read gives them.
 *
 * INSERT data is counted and skipped without being parsed; what is not understood becomes a
 * NotAssessed entry with its line, never an exception.
 */
import {Cursor, ParseError, type Token} from '../ddl-cursor.js'
import type {DdlReader, DdlReadResult, NotAssessed} from '../ddl-reader.js'
import {parseVersion, type EventModel, type RoutineModel, type SchemaModel, type SequenceModel, type TableModel, type TriggerModel, type ViewModel} from '../model.js'
import {
  detectFlavor,
  mapTables,
  type CatalogRows,
  type CheckRow,
  type ColumnRow,
  type ForeignKeyRow,
  type IndexColumnRow,
  type TableRow,
} from './mysql-introspector.js'
import {scanDump, tokenizeMysql} from './mysql-dump-scanner.js'

/** The collation a charset gets when none is named (MariaDB's defaults; MySQL 8 differs for utf8mb4). */
const DEFAULT_COLLATIONS: Record<string, string> = {
  ascii: 'ascii_general_ci',
  latin1: 'latin1_swedish_ci',
  utf8: 'utf8mb3_general_ci',
  utf8mb3: 'utf8mb3_general_ci',
  utf8mb4: 'utf8mb4_general_ci',
  binary: 'binary',
  ucs2: 'ucs2_general_ci',
  utf16: 'utf16_general_ci',
  utf32: 'utf32_general_ci',
  cp1252: 'latin1_swedish_ci',
}
const CHARACTER_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'])
const LOB_LENGTHS: Record<string, number> = {
  tinytext: 255,
  text: 65535,
  mediumtext: 16777215,
  longtext: 4294967295,
  tinyblob: 255,
  blob: 65535,
  mediumblob: 16777215,
  longblob: 4294967295,
}
const INTEGER_PRECISION: Record<string, [number, number]> = {
  tinyint: [3, 3],
  smallint: [5, 5],
  mediumint: [7, 8],
  int: [10, 10],
  bigint: [19, 20],
}
const TYPE_SYNONYMS: Record<string, string> = {integer: 'int', dec: 'decimal', numeric: 'decimal', fixed: 'decimal', bool: 'tinyint', boolean: 'tinyint', real: 'double'}

interface TableParts {
  line: number
  text: string
  table: TableRow
  columns: ColumnRow[]
  indexes: IndexColumnRow[]
  foreignKeys: ForeignKeyRow[]
  checks: CheckRow[]
}

function collationOf(charset: string, mysql8: boolean): string {
  const cs = charset.toLowerCase()
  if (cs === 'utf8mb4' && mysql8) return 'utf8mb4_0900_ai_ci'
  return DEFAULT_COLLATIONS[cs] ?? `${cs}_general_ci`
}

function identOrString(c: Cursor): string {
  const t = c.peek()
  if (t?.kind === 'string') {
    c.next()
    return t.value
  }
  return c.ident()
}

/** name or schema.name: returns the last part. */
function tableName(c: Cursor): {schema: string | null; name: string} {
  const q = c.qname()
  return {schema: q.schema, name: q.name}
}

/** The text of tokens [from, to) with whitespace as written. */
function textOf(c: Cursor, from: number): string {
  return c.text(from, c.i - 1)
}

class DumpReader {
  readonly notAssessed: NotAssessed[] = []
  readonly tables = new Map<string, TableParts>()
  readonly views = new Map<string, ViewModel>()
  readonly routines: RoutineModel[] = []
  readonly triggers: TriggerModel[] = []
  readonly events: EventModel[] = []
  readonly sequences: SequenceModel[] = []
  database: string | null = null

  /** MySQL 8 changed utf8mb4's default collation; the dump header says which server wrote it. */
  constructor(readonly mysql8: boolean) {}

  note(line: number, text: string, reason: string): void {
    const first = text.split('\n', 1)[0] ?? ''
    this.notAssessed.push({line, text: first.trim().slice(0, 200), reason})
  }

  statement(tokens: Token[], text: string, line: number): void {
    const c = new Cursor(tokens, text)
    const head = c.peek()?.kind === 'word' ? (c.peek() as Token).value.toUpperCase() : ''
    switch (head) {
      case 'SET':
      case 'LOCK':
      case 'UNLOCK':
      case 'COMMIT':
      case 'START':
      case 'BEGIN':
        return
      case 'USE':
        c.next()
        this.database = c.ident()
        return
      case 'DROP':
        return this.drop(c)
      case 'CREATE':
        c.next()
        return this.create(c, text, line)
      case 'ALTER':
        c.next()
        // mysqldump wraps data loads in ALTER TABLE ... DISABLE/ENABLE KEYS, and routines in ALTER DATABASE ... CHARACTER SET.
        if (c.accept('DATABASE', 'SCHEMA')) return
        if (c.accept('TABLE')) {
          tableName(c)
          if (c.accept('DISABLE', 'ENABLE') && c.accept('KEYS')) return
        }
        return this.note(line, text, `ALTER ${tokens[1]?.value.toUpperCase() ?? ''} is not read`)
      case 'SELECT':
        // mariadb-dump sets a sequence's next value with SELECT SETVAL(...).
        if (c.peek(1)?.value.toUpperCase() === 'SETVAL') return
        return this.note(line, text, 'SELECT statement is not read')
      default:
        return this.note(line, text, `${head || (tokens[0]?.value ?? '')} statement is not read`)
    }
  }

  private drop(c: Cursor): void {
    c.next()
    c.accept('TEMPORARY')
    const kind = c.accept('TABLE', 'VIEW') ? (c.tokens[c.i - 1] as Token).value.toUpperCase() : null
    if (kind === null) return
    if (c.accept('IF')) c.expect('EXISTS')
    // mysqldump creates a stand-in table for each view, then drops it before the real CREATE VIEW.
    for (const item of c.commaList()) {
      const name = tableName(item).name
      if (kind === 'TABLE') this.tables.delete(name)
      else this.views.delete(name)
    }
  }

  private create(c: Cursor, text: string, line: number): void {
    if (c.acceptSeq('OR', 'REPLACE')) {
      // CREATE OR REPLACE ... as mariadb-dump writes views and routines
    }
    // Skip ALGORITHM=, DEFINER=user@host, SQL SECURITY ..., TEMPORARY, UNIQUE/FULLTEXT/SPATIAL before the object word.
    const objects = ['TABLE', 'VIEW', 'TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'DATABASE', 'SCHEMA', 'SEQUENCE', 'INDEX', 'USER', 'ROLE', 'SERVER', 'TABLESPACE', 'AGGREGATE']
    let unique: string | null = null
    while (!c.atEnd() && !c.is(...objects)) {
      if (c.is('UNIQUE', 'FULLTEXT', 'SPATIAL')) unique = c.next().value.toUpperCase()
      else c.next()
    }
    const what = c.atEnd() ? '' : c.next().value.toUpperCase()
    switch (what) {
      case 'TABLE':
        return this.createTable(c, text, line)
      case 'VIEW': {
        const name = tableName(c).name
        if (c.isPunct('(')) c.group()
        c.expect('AS')
        const from = c.i
        c.i = c.tokens.length
        this.views.set(name, {schema: this.database ?? '', name, definition: textOf(c, from)})
        return
      }
      case 'TRIGGER': {
        const name = tableName(c).name
        const timing = c.expect('BEFORE', 'AFTER')
        const event = c.expect('INSERT', 'UPDATE', 'DELETE')
        c.expect('ON')
        this.triggers.push({schema: this.database ?? '', name, table: tableName(c).name, timing, events: [event], enabled: true})
        return
      }
      case 'PROCEDURE':
      case 'FUNCTION':
        this.routines.push({schema: this.database ?? '', name: tableName(c).name, kind: what === 'PROCEDURE' ? 'procedure' : 'function', definition: text})
        return
      case 'EVENT': {
        const name = tableName(c).name
        let status = 'ENABLED'
        while (!c.atEnd() && !c.is('DO')) {
          if (c.acceptSeq('DISABLE', 'ON', 'SLAVE') || c.acceptSeq('DISABLE', 'ON', 'REPLICA')) status = 'SLAVESIDE_DISABLED'
          else if (c.accept('DISABLE')) status = 'DISABLED'
          else if (c.accept('ENABLE')) status = 'ENABLED'
          else c.next()
        }
        this.events.push({schema: this.database ?? '', name, status})
        return
      }
      case 'DATABASE':
      case 'SCHEMA':
        if (c.accept('IF')) c.acceptSeq('NOT', 'EXISTS')
        this.database ??= c.ident()
        return
      case 'SEQUENCE': {
        if (c.accept('IF')) c.acceptSeq('NOT', 'EXISTS')
        const name = tableName(c).name
        let start = '1'
        let increment = '1'
        while (!c.atEnd()) {
          if (c.acceptSeq('START', 'WITH') || c.accept('START')) start = signed(c)
          else if (c.acceptSeq('INCREMENT', 'BY') || c.accept('INCREMENT')) increment = signed(c)
          else c.next()
        }
        this.sequences.push({schema: this.database ?? '', name, dataType: 'bigint', start, increment})
        return
      }
      case 'INDEX': {
        const name = c.ident()
        c.expect('ON')
        const parts = this.tables.get(tableName(c).name)
        if (parts === undefined) return this.note(line, text, 'CREATE INDEX on a table not created in this dump')
        addIndexRows(parts, name, unique === 'UNIQUE', keyParts(c), unique === 'FULLTEXT' || unique === 'SPATIAL' ? unique : 'BTREE')
        return
      }
      default:
        return this.note(line, text, `CREATE ${what} is not read`)
    }
  }

  private createTable(c: Cursor, text: string, line: number): void {
    if (c.accept('IF')) c.acceptSeq('NOT', 'EXISTS')
    const name = tableName(c).name
    if (c.accept('LIKE') || c.is('AS', 'SELECT')) return this.note(line, text, 'CREATE TABLE ... LIKE / AS SELECT is not read')
    const body = c.inner()
    const options = tableOptions(c)
    const charset = options.charset ?? (options.collation?.split('_')[0] ?? null)
    const collation = options.collation ?? (charset === null ? null : collationOf(charset, this.mysql8))
    const parts: TableParts = {
      line,
      text,
      table: {
        table_name: name,
        engine: options.engine,
        table_rows: 0,
        data_length: 0,
        index_length: 0,
        auto_increment: options.autoIncrement,
        table_collation: collation,
        table_comment: options.comment ?? '',
        create_options: options.partitioned ? 'partitioned' : '',
      },
      columns: [],
      indexes: [],
      foreignKeys: [],
      checks: [],
    }
    for (const element of body.commaList()) {
      try {
        this.element(element, parts, {charset, collation})
      } catch (err) {
        if (!(err instanceof ParseError)) throw err
        this.note(err.line, text.split('\n')[err.line - line] ?? '', `cannot parse table element: ${err.message}`)
      }
    }
    this.tables.set(name, parts)
  }

  private element(c: Cursor, parts: TableParts, defaults: {charset: string | null; collation: string | null}): void {
    const name = c.is('CONSTRAINT') ? (c.next(), c.isIdent() && !c.is('PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK') ? c.ident() : null) : null
    if (c.acceptSeq('PRIMARY', 'KEY')) {
      skipIndexType(c)
      addIndexRows(parts, 'PRIMARY', true, keyParts(c), indexType(c, 'BTREE'))
    } else if (c.accept('UNIQUE')) {
      c.accept('KEY', 'INDEX')
      const keyName = c.isIdent() && !c.is('USING') ? c.ident() : name
      skipIndexType(c)
      const cols = keyParts(c)
      addIndexRows(parts, keyName ?? uniqueIndexName(parts, cols[0]?.name ?? 'key'), true, cols, indexType(c, 'BTREE'))
    } else if (c.is('KEY', 'INDEX', 'FULLTEXT', 'SPATIAL')) {
      const kind = c.next().value.toUpperCase()
      if (kind === 'FULLTEXT' || kind === 'SPATIAL') c.accept('KEY', 'INDEX')
      const keyName = c.isIdent() && !c.is('USING') ? c.ident() : null
      skipIndexType(c)
      const cols = keyParts(c)
      addIndexRows(parts, keyName ?? uniqueIndexName(parts, cols[0]?.name ?? 'key'), false, cols, indexType(c, kind === 'FULLTEXT' || kind === 'SPATIAL' ? kind : 'BTREE'))
    } else if (c.accept('FOREIGN')) {
      c.expect('KEY')
      const fkName = c.isIdent() ? c.ident() : name
      const cols = c.nameList()
      this.foreignKey(c, parts, fkName ?? `${parts.table.table_name}_ibfk_${parts.foreignKeys.length + 1}`, cols)
    } else if (c.accept('CHECK')) {
      parts.checks.push({table_name: parts.table.table_name, constraint_name: name ?? `CONSTRAINT_${parts.checks.length + 1}`, check_clause: c.group().slice(1, -1).trim()})
    } else if (c.acceptSeq('PERIOD', 'FOR')) {
      c.i = c.tokens.length
    } else {
      this.column(c, parts, defaults)
    }
    c.end('the table definition')
  }

  private foreignKey(c: Cursor, parts: TableParts, name: string, columns: string[]): void {
    c.expect('REFERENCES')
    const ref = tableName(c)
    const refColumns = c.nameList()
    let onDelete = 'RESTRICT'
    let onUpdate = 'RESTRICT'
    while (c.accept('ON')) {
      const which = c.expect('DELETE', 'UPDATE')
      let action: string
      if (c.accept('CASCADE', 'RESTRICT')) action = (c.tokens[c.i - 1] as Token).value.toUpperCase()
      else if (c.acceptSeq('SET', 'NULL')) action = 'SET NULL'
      else if (c.acceptSeq('SET', 'DEFAULT')) action = 'SET DEFAULT'
      else if (c.acceptSeq('NO', 'ACTION')) action = 'NO ACTION'
      else throw c.error('expected a referential action')
      if (which === 'DELETE') onDelete = action
      else onUpdate = action
    }
    columns.forEach((col, k) => {
      parts.foreignKeys.push({
        table_name: parts.table.table_name,
        constraint_name: name,
        column_name: col,
        ordinal_position: k + 1,
        referenced_table_schema: ref.schema ?? this.database,
        referenced_table_name: ref.name,
        referenced_column_name: refColumns[k] ?? null,
        update_rule: onUpdate,
        delete_rule: onDelete,
      })
    })
  }

  private column(c: Cursor, parts: TableParts, defaults: {charset: string | null; collation: string | null}): void {
    const name = c.ident()
    const typeFrom = c.i
    let dataType = c.ident().toLowerCase()
    if (dataType === 'double') c.accept('PRECISION')
    if (dataType === 'national' || dataType === 'long') dataType = c.ident().toLowerCase()
    dataType = TYPE_SYNONYMS[dataType] ?? dataType
    let args: string[] = []
    let argsText = ''
    if (c.isPunct('(')) {
      const group = c.group()
      args = group.slice(1, -1).split(',').map((a) => a.trim())
      argsText = dataType === 'enum' || dataType === 'set' ? group : group.replace(/\s+/g, '')
    }
    const flags: string[] = []
    while (c.is('UNSIGNED', 'SIGNED', 'ZEROFILL')) {
      const f = c.next().value.toLowerCase()
      if (f !== 'signed') flags.push(f)
    }
    const written = (c.tokens[typeFrom] as Token).value.toLowerCase()
    const baseName = written === 'bool' || written === 'boolean' ? 'tinyint' : dataType
    const columnType = [`${baseName}${written === 'bool' || written === 'boolean' ? '(1)' : argsText}`, ...flags].join(' ')
    let charset: string | null = null
    let collation: string | null = null
    let nullable = true
    let defaultValue: string | null = null
    let defaultExpression = false
    const extra: string[] = []
    let generation: string | null = null
    let comment = ''
    while (!c.atEnd()) {
      if (c.accept('CHARACTER')) {
        c.expect('SET')
        charset = identOrString(c)
      } else if (c.accept('CHARSET')) charset = identOrString(c)
      else if (c.accept('COLLATE')) collation = identOrString(c)
      else if (c.acceptSeq('NOT', 'NULL')) nullable = false
      else if (c.accept('NULL')) nullable = true
      else if (c.accept('DEFAULT')) ({value: defaultValue, expression: defaultExpression} = defaultOf(c))
      else if (c.acceptSeq('ON', 'UPDATE')) extra.push(`on update ${defaultOf(c).value ?? ''}`)
      else if (c.accept('AUTO_INCREMENT')) extra.push('auto_increment')
      else if (c.accept('COMMENT')) comment = c.next().value
      else if (c.accept('GENERATED') || c.is('AS')) {
        c.accept('ALWAYS')
        c.expect('AS')
        generation = c.group().slice(1, -1).trim()
        const kind = c.accept('STORED', 'PERSISTENT', 'VIRTUAL') ? (c.tokens[c.i - 1] as Token).value.toUpperCase() : 'VIRTUAL'
        extra.push(kind === 'VIRTUAL' ? 'VIRTUAL GENERATED' : 'STORED GENERATED')
      } else if (c.acceptSeq('PRIMARY', 'KEY') || c.acceptSeq('KEY')) {
        addIndexRows(parts, 'PRIMARY', true, [{name, descending: false, prefixLength: null}], 'BTREE')
      } else if (c.accept('UNIQUE')) {
        c.accept('KEY')
        addIndexRows(parts, uniqueIndexName(parts, name), true, [{name, descending: false, prefixLength: null}], 'BTREE')
      } else if (c.accept('CHECK')) {
        // A column CHECK is named after its column in information_schema (MariaDB).
        parts.checks.push({table_name: parts.table.table_name, constraint_name: name, check_clause: c.group().slice(1, -1).trim()})
      } else if (c.is('REFERENCES')) this.foreignKey(c, parts, `${parts.table.table_name}_ibfk_${parts.foreignKeys.length + 1}`, [name])
      else if (c.accept('INVISIBLE', 'VISIBLE')) continue
      else if (c.accept('COLUMN_FORMAT', 'STORAGE', 'SRID')) c.next()
      else if (c.acceptSeq('WITHOUT', 'SYSTEM', 'VERSIONING') || c.acceptSeq('WITH', 'SYSTEM', 'VERSIONING')) continue
      else throw c.error(`unexpected ${c.peek()?.value ?? ''} in the definition of column ${name}`)
    }
    if (defaultExpression && defaultValue !== null) extra.push('DEFAULT_GENERATED')
    const character = CHARACTER_TYPES.has(dataType)
    if (character) {
      charset ??= collation?.split('_')[0] ?? defaults.charset
      collation ??= charset === defaults.charset ? defaults.collation : charset === null ? null : collationOf(charset, this.mysql8)
    }
    const [p, s] = args
    const intPrecision = INTEGER_PRECISION[dataType]
    const isBinaryString = dataType === 'binary' || dataType === 'varbinary'
    parts.columns.push({
      table_name: parts.table.table_name,
      column_name: name,
      ordinal_position: parts.columns.length + 1,
      data_type: dataType,
      column_type: columnType,
      character_maximum_length: dataType === 'char' || isBinaryString || dataType === 'varchar' ? Number(p ?? 1) : (LOB_LENGTHS[dataType] ?? null),
      numeric_precision:
        intPrecision !== undefined ? intPrecision[flags.includes('unsigned') ? 1 : 0] : dataType === 'decimal' ? Number(p ?? 10) : dataType === 'float' ? 12 : dataType === 'double' ? 22 : dataType === 'bit' ? Number(p ?? 1) : null,
      numeric_scale: intPrecision !== undefined ? 0 : dataType === 'decimal' ? Number(s ?? 0) : null,
      datetime_precision: ['datetime', 'timestamp', 'time'].includes(dataType) ? Number(p ?? 0) : null,
      character_set_name: character ? charset : null,
      collation_name: character ? collation : null,
      is_nullable: nullable && !parts.indexes.some((i) => i.index_name === 'PRIMARY' && i.column_name === name) ? 'YES' : 'NO',
      column_default: defaultValue,
      extra: extra.join(' '),
      generation_expression: generation,
      column_comment: comment,
    })
  }

  finish(): void {
    // Primary key columns are NOT NULL even when the key is declared after the column.
    for (const parts of this.tables.values()) {
      for (const i of parts.indexes) {
        if (i.index_name !== 'PRIMARY') continue
        const col = parts.columns.find((x) => x.column_name === i.column_name)
        if (col) col.is_nullable = 'NO'
      }
    }
  }
}

function signed(c: Cursor): string {
  c.acceptPunct('=')
  const sign = c.acceptPunct('-') ? '-' : ''
  return sign + c.next().value
}

/** A DEFAULT value: the bare value of a literal (as MySQL's COLUMN_DEFAULT holds it), or an expression's text. */
function defaultOf(c: Cursor): {value: string | null; expression: boolean} {
  const from = c.i
  if (c.isPunct('(')) return {value: c.group().slice(1, -1).trim(), expression: true}
  if (c.accept('NULL')) return {value: null, expression: false}
  if (c.accept('TRUE')) return {value: '1', expression: false}
  if (c.accept('FALSE')) return {value: '0', expression: false}
  const t = c.next()
  if (t.kind === 'string') return {value: t.value, expression: false}
  if (t.kind === 'punct' && (t.value === '-' || t.value === '+')) {
    const n = c.next()
    return {value: (t.value === '-' ? '-' : '') + n.value, expression: false}
  }
  if (t.kind === 'number') return {value: t.value, expression: false}
  // b'0101', x'ff', _utf8mb4'text'
  if (t.kind === 'word' && c.peek()?.kind === 'string' && c.peek()?.start === t.end) {
    const literal = c.next()
    if (/^[bx]$/i.test(t.value)) return {value: textOf(c, from).toLowerCase().replace(/^x'/, "x'"), expression: false}
    return {value: literal.value, expression: false}
  }
  if (t.kind === 'word' && c.isPunct('(')) c.group()
  return {value: textOf(c, from), expression: true}
}

function keyParts(c: Cursor): {name: string; descending: boolean; prefixLength: number | null}[] {
  return c
    .inner()
    .commaList()
    .map((part) => {
      if (part.isPunct('(')) {
        const expression = part.group()
        return {name: expression, descending: part.accept('DESC') || (part.accept('ASC'), false), prefixLength: null}
      }
      const name = part.ident()
      let prefixLength: number | null = null
      if (part.isPunct('(')) prefixLength = Number(part.group().slice(1, -1))
      const descending = part.accept('DESC')
      if (!descending) part.accept('ASC')
      part.end('key part')
      return {name, descending, prefixLength}
    })
}

function skipIndexType(c: Cursor): void {
  if (c.accept('USING')) c.next()
}

/** Trailing index options: USING BTREE|HASH, COMMENT, KEY_BLOCK_SIZE, WITH PARSER, (IN)VISIBLE. */
function indexType(c: Cursor, fallback: string): string {
  let type = fallback
  while (!c.atEnd()) {
    if (c.accept('USING')) type = c.next().value.toUpperCase()
    else if (c.accept('COMMENT', 'KEY_BLOCK_SIZE')) {
      c.acceptPunct('=')
      c.next()
    } else if (c.acceptSeq('WITH', 'PARSER')) c.next()
    else if (c.accept('VISIBLE', 'INVISIBLE', 'IGNORED', 'NOT')) continue
    else break
  }
  return type
}

function uniqueIndexName(parts: TableParts, base: string): string {
  // MySQL names an unnamed key after its first column, adding _2, _3 on a clash.
  const taken = new Set(parts.indexes.map((i) => i.index_name))
  if (!taken.has(base)) return base
  let k = 2
  while (taken.has(`${base}_${k}`)) k++
  return `${base}_${k}`
}

function addIndexRows(parts: TableParts, name: string, unique: boolean, columns: {name: string; descending: boolean; prefixLength: number | null}[], type: string): void {
  columns.forEach((col, k) => {
    parts.indexes.push({
      table_name: parts.table.table_name,
      index_name: name,
      non_unique: unique ? 0 : 1,
      seq_in_index: k + 1,
      column_name: col.name,
      collation: type === 'FULLTEXT' || type === 'SPATIAL' ? null : col.descending ? 'D' : 'A',
      sub_part: col.prefixLength,
      index_type: type,
    })
  })
}

interface TableOptions {
  engine: string | null
  charset: string | null
  collation: string | null
  autoIncrement: string | null
  comment: string | null
  partitioned: boolean
}

function tableOptions(c: Cursor): TableOptions {
  const o: TableOptions = {engine: null, charset: null, collation: null, autoIncrement: null, comment: null, partitioned: false}
  while (!c.atEnd()) {
    if (c.accept('PARTITION')) {
      o.partitioned = true
      c.i = c.tokens.length
      break
    }
    c.accept('DEFAULT')
    const key = c.isIdent() ? c.next().value.toUpperCase() : (c.next(), '')
    if (key === 'CHARACTER') c.expect('SET')
    c.acceptPunct('=')
    if (c.atEnd()) break
    const value = c.next().value
    if (key === 'ENGINE') o.engine = value
    else if (key === 'CHARSET' || key === 'CHARACTER') o.charset = value.toLowerCase()
    else if (key === 'COLLATE') o.collation = value.toLowerCase()
    else if (key === 'AUTO_INCREMENT') o.autoIncrement = value
    else if (key === 'COMMENT') o.comment = value
  }
  return o
}

/** What the dump's header says: "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB", "-- Server version	10.11.6-MariaDB-0+deb12u1". */
function header(script: string): {product: string | null; version: string | null; database: string | null} {
  const head = script.slice(0, 4096)
  return {
    product: /^-- (MariaDB|MySQL) dump/im.exec(head)?.[1] ?? null,
    version: /^-- Server version\s+(\S+)/im.exec(head)?.[1] ?? null,
    database: /^-- Host: .*?Database: (\S+)/im.exec(head)?.[1] ?? null,
  }
}

function byName(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

export const readMysqlDump: DdlReader = (script, options): DdlReadResult => {
  const h = header(script)
  const flavor = detectFlavor(h.version ?? '', h.product, null)
  const reader = new DumpReader(flavor !== 'mariadb' && parseVersion(h.version ?? '').major >= 8)
  let statements = 0
  for (const st of scanDump(script)) {
    statements++
    if (st.text === null) continue
    try {
      reader.statement(tokenizeMysql(st.text, st.line), st.text, st.line)
    } catch (err) {
      const line = err instanceof ParseError ? Math.max(err.line, st.line) : st.line
      const text = line === st.line ? st.text : (script.split('\n', line)[line - 1] ?? '')
      reader.note(line, text, `cannot parse: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  reader.finish()
  const database = reader.database ?? h.database ?? options.database ?? ''
  // In the order the live catalog queries return them (ORDER BY name under a case-insensitive collation).
  const tables: TableModel[] = []
  for (const parts of [...reader.tables.values()].sort((a, b) => byName(a.table.table_name, b.table.table_name))) {
    const rows: CatalogRows = {
      tables: [parts.table],
      columns: parts.columns,
      indexColumns: parts.indexes,
      foreignKeys: parts.foreignKeys.sort((a, b) => byName(a.constraint_name, b.constraint_name)),
      checks: parts.checks.sort((a, b) => byName(a.constraint_name, b.constraint_name)),
      views: [],
      routines: [],
      triggers: [],
      events: [],
    }
    try {
      // 'value' style: the rows hold bare literal values with expressions marked DEFAULT_GENERATED, as MySQL's catalog does.
      tables.push(...mapTables(rows, database, {style: 'value', autoIncrementIncrement: '1'}))
    } catch (err) {
      // e.g. an enum(...) whose members do not parse: the table is reported, the rest of the dump still read.
      reader.note(parts.line, parts.text, `cannot read table ${parts.table.table_name}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  const at = (list: {schema: string}[]): void => {
    for (const o of list) o.schema = database
  }
  const views = [...reader.views.values()].sort((a, b) => byName(a.name, b.name))
  reader.routines.sort((a, b) => byName(a.kind, b.kind) || byName(a.name, b.name))
  reader.triggers.sort((a, b) => byName(a.table, b.table) || byName(a.name, b.name))
  reader.events.sort((a, b) => byName(a.name, b.name))
  at(views)
  at(reader.routines)
  at(reader.triggers)
  at(reader.events)
  at(reader.sequences)
  const model: SchemaModel = {
    server: {
      engine: 'mysql',
      flavor,
      version: h.version === null ? {raw: 'unknown', major: 0, minor: 0, patch: 0} : parseVersion(h.version),
      edition: null,
      database,
      host: '',
      port: 0,
      charset: null,
      collation: null,
      lowerCaseTableNames: null,
      // A dump says nothing about the binlog: every setting is unknown (logBin has no "unknown").
      changeCapture: {
        kind: 'binlog',
        logBin: false,
        binlogFormat: null,
        binlogRowImage: null,
        gtidMode: null,
        gtidStrictMode: null,
        enforceGtidConsistency: null,
        serverId: null,
        retentionSeconds: null,
      },
    },
    tables,
    views,
    routines: reader.routines,
    triggers: reader.triggers,
    events: reader.events,
    sequences: reader.sequences,
    introspectedAt: new Date().toISOString(),
  }
  return {model, notAssessed: reader.notAssessed.sort((a, b) => a.line - b.line), statements}
}
