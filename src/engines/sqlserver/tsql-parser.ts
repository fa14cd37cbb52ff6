/**
 * T-SQL DDL statements -> AST-ish objects (tsql-cursor.ts has the shapes' building blocks). A
 * small recursive-descent parser for what SSMS "Generate Scripts" writes: it reads CREATE TABLE,
 * ALTER TABLE, CREATE INDEX, CREATE TYPE/SEQUENCE/SCHEMA, the CDC and extended-property EXEC
 * calls and ALTER DATABASE options in full, and of views, procedures, functions and triggers only
 * the CREATE header (their body is kept as text, never parsed). Everything else is classified so
 * the reader can say why it was not assessed.
 */
import {TsqlCursor as Cursor, ParseError, type KeyPart, type Problem, type QName, type TypeSpec} from './tsql-cursor.js'
import {isWord, type Batch, type Token} from './tsql-tokenizer.js'

export {ParseError} from './tsql-cursor.js'
export type {KeyPart, Problem, QName, TypeSpec} from './tsql-cursor.js'

export type Constraint =
  | {kind: 'primary' | 'unique'; name: string | null; indexKind: string; columns: KeyPart[]; line: number}
  | {kind: 'foreign'; name: string | null; columns: string[]; references: QName; referencedColumns: string[]; onDelete: string; onUpdate: string; line: number}
  | {kind: 'check'; name: string | null; expression: string; line: number}
  | {kind: 'default'; name: string | null; expression: string; column: string; line: number}
  | {kind: 'index'; name: string; unique: boolean; indexKind: string; columns: KeyPart[]; included: string[]; filter: string | null; line: number}

export interface ColumnDef {
  name: string
  line: number
  type: TypeSpec | null
  computed: {expression: string; persisted: boolean} | null
  /** null: not stated (SQL Server then applies ANSI_NULL_DFLT_ON, or the alias type's nullability). */
  nullable: boolean | null
  identity: {seed: string; increment: string} | null
  collation: string | null
  sparse: boolean
  /** GENERATED ALWAYS AS ROW START / END (and the ledger/transaction variants). */
  generatedAlways: boolean
  default: {name: string | null; expression: string} | null
  constraints: Constraint[]
}

export interface CreateTable {
  type: 'createTable'
  table: QName
  columns: ColumnDef[]
  constraints: Constraint[]
  memoryOptimized: boolean
  /** SYSTEM_VERSIONING = ON: the history table when named, null when SQL Server names it. */
  systemVersioning: {history: QName | null} | null
  partitioned: boolean
  problems: Problem[]
}

export type AlterAction =
  | {kind: 'addConstraint'; constraint: Constraint; trusted: boolean}
  | {kind: 'addColumn'; column: ColumnDef}
  | {kind: 'checkConstraint'; names: string[] | 'all'; enable: boolean; trusted: boolean}
  | {kind: 'changeTracking'; enable: boolean}
  | {kind: 'trigger'; names: string[] | 'all'; enable: boolean}
  | {kind: 'systemVersioning'; history: QName | null}
  | {kind: 'ignored'}

export type ModuleKind = 'view' | 'procedure' | 'function' | 'trigger'

export type Statement =
  | {type: 'use'; database: string}
  | {type: 'ignored'}
  | {type: 'createSchema'; name: string}
  | {type: 'createDatabase'; name: string; collation: string | null}
  | {type: 'createType'; name: QName; base: TypeSpec; nullable: boolean}
  | CreateTable
  | {type: 'alterTable'; table: QName; actions: AlterAction[]; problems: Problem[]}
  | {type: 'createIndex'; table: QName; index: Constraint & {kind: 'index'}; partitioned: boolean}
  | {type: 'module'; kind: ModuleKind; name: QName; definition: string; trigger: {table: QName; timing: string; events: string[]} | null}
  | {type: 'createSequence'; name: QName; dataType: string; start: string | null; minValue: string | null; increment: string}
  | {type: 'exec'; procedure: QName; args: Map<string, string | null>; positional: (string | null)[]}
  | {type: 'alterDatabase'; recovery: string | null; changeTracking: {enable: boolean; retention: string | null; autoCleanup: boolean | null} | null; collation: string | null}
  | {type: 'security'}
  | {type: 'data'}
  | {type: 'unsupported'; reason: string}

export interface RawStatement {
  tokens: Token[]
  line: number
}

// ---------------------------------------------------------------------------------------------
// Statement boundaries inside a batch

const STATEMENT_STARTS = ['CREATE', 'ALTER', 'EXEC', 'EXECUTE', 'USE', 'GRANT', 'DENY', 'REVOKE', 'DROP', 'PRINT', 'DECLARE', 'INSERT', 'UPDATE', 'DELETE', 'SELECT', 'SET', 'IF', 'WHILE', 'MERGE', 'TRUNCATE', 'RAISERROR', 'THROW', 'COMMIT', 'ROLLBACK']
/** After these a start keyword is part of the statement: GRANT INSERT, ON DELETE SET NULL, GRANT SELECT, UPDATE. */
const CONTINUES_AFTER = new Set(['GRANT', 'DENY', 'REVOKE', 'ON', 'WITH', 'FOR', 'AFTER', 'OF', 'DELETE', 'UPDATE', 'INSERT', 'TO', 'AS', 'NOT', 'ENABLE', 'DISABLE', 'CHECK', 'NOCHECK', 'OR'])
/** Statements in which SET and DROP are clauses (ALTER TABLE ... SET (...), ALTER DATABASE ... SET, UPDATE ... SET). */
const OWNS_SET = new Set(['ALTER', 'UPDATE'])
const MODULE_WORDS = ['VIEW', 'PROC', 'PROCEDURE', 'FUNCTION', 'TRIGGER']

function isModuleHeader(tokens: readonly Token[], k: number): boolean {
  if (!isWord(tokens[k], 'CREATE', 'ALTER')) return false
  const next = isWord(tokens[k + 1], 'OR') && isWord(tokens[k + 2], 'ALTER') ? k + 3 : k + 1
  return isWord(tokens[next], ...MODULE_WORDS)
}

/**
 * T-SQL needs no semicolons: a statement ends at ";" or where the next one starts. A CREATE
 * VIEW/PROCEDURE/FUNCTION/TRIGGER must be alone in its batch, so it takes the rest of it.
 */
export function splitStatements(batch: Batch): RawStatement[] {
  const out: RawStatement[] = []
  const tokens = batch.tokens
  let current: Token[] = []
  let depth = 0
  // BEGIN blocks opened by an unwrapped existence check, and CASEs open at depth 0 (their END is not a block's).
  let blocks = 0
  let cases = 0
  const flush = (): void => {
    const first = current[0]
    if (first !== undefined) out.push({tokens: current, line: first.line})
    current = []
  }
  for (let k = 0; k < tokens.length; k++) {
    let t = tokens[k] as Token
    if (current.length === 0 && depth === 0) {
      // SSMS "Check for object existence": IF [NOT] EXISTS (SELECT ... FROM sys.objects ...) [BEGIN] <statement> [END].
      const body = existenceCheckEnd(tokens, k)
      if (body !== null) {
        k = body
        if (isWord(tokens[k], 'BEGIN')) {
          blocks++
          k++
        }
        if (k >= tokens.length) break
        t = tokens[k] as Token
      }
    }
    if (current.length === 0 && isModuleHeader(tokens, k)) {
      out.push({tokens: tokens.slice(k), line: t.line})
      return out
    }
    if (depth === 0 && t.kind === 'word') {
      if (isWord(t, 'CASE')) cases++
      else if (isWord(t, 'END')) {
        if (cases > 0) cases--
        else if (blocks > 0) {
          blocks--
          flush()
          continue
        }
      }
    }
    if (t.kind === 'punct') {
      if (t.value === ';' && depth === 0) {
        flush()
        continue
      }
      if (t.value === '(') depth++
      else if (t.value === ')') depth = Math.max(0, depth - 1)
    } else if (depth === 0 && current.length > 0 && isWord(t, ...STATEMENT_STARTS)) {
      const prev = current[current.length - 1] as Token
      const head = (current[0] as Token).value.toUpperCase()
      const continues =
        (prev.kind === 'word' && CONTINUES_AFTER.has(prev.value.toUpperCase())) ||
        (prev.kind === 'punct' && (prev.value === ',' || prev.value === '=')) ||
        (isWord(t, 'SET', 'DROP') && OWNS_SET.has(head)) ||
        (isWord(t, 'IF') && head === 'DROP')
      if (!continues) {
        flush()
        if (isModuleHeader(tokens, k)) {
          out.push({tokens: tokens.slice(k), line: t.line})
          return out
        }
      }
    }
    current.push(t)
  }
  flush()
  return out
}

/** The index after `IF [NOT] EXISTS (...)` starting at k, or null when tokens[k] does not start one. */
function existenceCheckEnd(tokens: readonly Token[], k: number): number | null {
  if (!isWord(tokens[k], 'IF')) return null
  let i = k + 1
  if (isWord(tokens[i], 'NOT')) i++
  if (!isWord(tokens[i], 'EXISTS')) return null
  i++
  const open = tokens[i]
  if (open?.kind !== 'punct' || open.value !== '(') return null
  let depth = 0
  for (; i < tokens.length; i++) {
    const t = tokens[i] as Token
    if (t.kind !== 'punct') continue
    if (t.value === '(') depth++
    else if (t.value === ')' && --depth === 0) return i + 1
  }
  return null
}

// ---------------------------------------------------------------------------------------------
// Columns and constraints

const CONSTRAINT_STARTS = ['CONSTRAINT', 'PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK']

function parseTypeSpec(c: Cursor): TypeSpec {
  const q = c.qname()
  const args: string[] = []
  // Two-word system types: double precision, char varying, national character varying.
  if (q.schema === null && /^(double)$/i.test(q.name) && c.accept('PRECISION')) return {schema: null, name: 'float', args: ['53']}
  if (c.isPunct('(')) {
    for (const a of c.inner().commaList()) {
      args.push(a.until([]).replace(/\s+/g, ' ').toLowerCase())
    }
  }
  return {schema: q.schema, name: q.name, args}
}

function referentialAction(c: Cursor): string {
  if (c.acceptSeq('NO', 'ACTION')) return 'NO ACTION'
  if (c.accept('CASCADE')) return 'CASCADE'
  if (c.acceptSeq('SET', 'NULL')) return 'SET NULL'
  if (c.acceptSeq('SET', 'DEFAULT')) return 'SET DEFAULT'
  throw c.error('expected NO ACTION, CASCADE, SET NULL or SET DEFAULT')
}

function indexKind(c: Cursor, fallback: string): string {
  let kind = fallback
  if (c.accept('CLUSTERED')) kind = 'clustered'
  else if (c.accept('NONCLUSTERED')) kind = 'nonclustered'
  if (c.accept('HASH')) kind = 'hash'
  else if (c.accept('COLUMNSTORE')) kind = 'columnstore'
  return kind
}

/** A constraint after its optional CONSTRAINT name; `column` is set for a column constraint. */
function parseConstraint(c: Cursor, column: string | null): Constraint {
  const line = c.line()
  const name = c.accept('CONSTRAINT') ? c.ident() : null
  if (c.accept('PRIMARY', 'UNIQUE')) {
    const primary = (c.tokens[c.i - 1] as Token).value.toUpperCase() === 'PRIMARY'
    if (primary) c.expect('KEY')
    const kind = indexKind(c, primary ? 'clustered' : 'nonclustered')
    const columns = c.isPunct('(') ? c.keyParts() : column !== null ? [{name: column, descending: false}] : null
    if (columns === null) throw c.error('expected the key columns')
    c.storageClauses()
    return {kind: primary ? 'primary' : 'unique', name, indexKind: kind, columns, line}
  }
  if (c.is('FOREIGN', 'REFERENCES')) {
    let columns = column === null ? [] : [column]
    if (c.accept('FOREIGN')) {
      c.expect('KEY')
      if (c.isPunct('(')) columns = c.nameList()
    }
    c.expect('REFERENCES')
    const references = c.qname()
    const referencedColumns = c.isPunct('(') ? c.nameList() : []
    let onDelete = 'NO ACTION'
    let onUpdate = 'NO ACTION'
    for (;;) {
      if (c.acceptSeq('ON', 'DELETE')) onDelete = referentialAction(c)
      else if (c.acceptSeq('ON', 'UPDATE')) onUpdate = referentialAction(c)
      else if (!c.acceptSeq('NOT', 'FOR', 'REPLICATION')) break
    }
    return {kind: 'foreign', name, columns, references, referencedColumns, onDelete, onUpdate, line}
  }
  if (c.accept('CHECK')) {
    c.acceptSeq('NOT', 'FOR', 'REPLICATION')
    const group = c.group()
    // The catalog's definition is what is inside CHECK ( ... ).
    return {kind: 'check', name, expression: group.slice(1, -1).trim(), line}
  }
  if (c.accept('DEFAULT')) {
    const expression = c.defaultExpression()
    let target = column
    if (c.accept('FOR')) target = c.ident()
    c.acceptSeq('WITH', 'VALUES')
    if (target === null) throw c.error('DEFAULT constraint without FOR column')
    return {kind: 'default', name, expression, column: target, line}
  }
  throw c.error(`expected a constraint but found ${c.peek()?.value ?? 'the end'}`)
}

function parseInlineIndex(c: Cursor, column: string | null): Constraint & {kind: 'index'} {
  const line = c.line()
  c.expect('INDEX')
  const name = c.ident()
  const unique = c.accept('UNIQUE')
  const kind = indexKind(c, 'nonclustered')
  const columns = c.isPunct('(') ? c.keyParts() : column !== null ? [{name: column, descending: false}] : []
  const included = c.accept('INCLUDE') ? c.nameList() : []
  const filter = c.accept('WHERE') ? c.until(['WITH', 'ON']) : null
  c.storageClauses()
  return {kind: 'index', name, unique, indexKind: kind, columns, included, filter, line}
}

export function parseColumn(c: Cursor): ColumnDef {
  const line = c.line()
  const col: ColumnDef = {
    name: c.ident(),
    line,
    type: null,
    computed: null,
    nullable: null,
    identity: null,
    collation: null,
    sparse: false,
    generatedAlways: false,
    default: null,
    constraints: [],
  }
  if (c.accept('AS')) {
    const expression = c.until(['PERSISTED', 'CONSTRAINT', 'PRIMARY', 'UNIQUE', 'NOT', 'NULL', 'CHECK', 'FOREIGN', 'REFERENCES'])
    if (expression === '') throw c.error('computed column without an expression')
    col.computed = {expression, persisted: false}
  } else {
    col.type = parseTypeSpec(c)
  }
  while (!c.atEnd()) {
    if (c.accept('PERSISTED') && col.computed) col.computed.persisted = true
    else if (c.acceptSeq('NOT', 'NULL')) col.nullable = false
    else if (c.accept('NULL')) col.nullable = true
    else if (c.accept('IDENTITY')) {
      col.identity = {seed: '1', increment: '1'}
      if (c.isPunct('(')) {
        const [seed, increment] = c.inner().commaList().map((a) => a.until([]).replace(/\s+/g, ''))
        if (seed === undefined || increment === undefined) throw c.error('IDENTITY needs (seed, increment)')
        col.identity = {seed, increment}
      }
    } else if (c.acceptSeq('NOT', 'FOR', 'REPLICATION')) continue
    else if (c.accept('COLLATE')) col.collation = c.ident()
    else if (c.accept('SPARSE')) col.sparse = true
    else if (c.accept('ROWGUIDCOL', 'FILESTREAM', 'HIDDEN')) continue
    else if (c.accept('GENERATED')) {
      c.expect('ALWAYS')
      c.expect('AS')
      c.expect('ROW', 'TRANSACTION_ID', 'SEQUENCE_NUMBER')
      c.expect('START', 'END')
      c.accept('HIDDEN')
      col.generatedAlways = true
    } else if (c.is('MASKED', 'ENCRYPTED')) {
      c.next()
      c.expect('WITH')
      c.group()
    } else if (c.is('INDEX')) col.constraints.push(parseInlineIndex(c, col.name))
    else if (c.is('DEFAULT') || (c.is('CONSTRAINT') && isWord(c.peek(2), 'DEFAULT'))) {
      const d = parseConstraint(c, col.name)
      if (d.kind === 'default') col.default = {name: d.name, expression: d.expression}
    } else if (c.is(...CONSTRAINT_STARTS, 'REFERENCES')) col.constraints.push(parseConstraint(c, col.name))
    else throw c.error(`unexpected ${c.peek()?.value ?? ''} in the definition of column ${col.name}`)
  }
  return col
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE / ALTER TABLE / CREATE INDEX

interface TableOptions {
  memoryOptimized: boolean
  systemVersioning: {history: QName | null} | null
}

/** WITH ( MEMORY_OPTIMIZED = ON, SYSTEM_VERSIONING = ON ( HISTORY_TABLE = [dbo].[X] ), ... ) */
function parseTableOptions(inner: Cursor, into: TableOptions): void {
  for (const opt of inner.commaList()) {
    const key = opt.ident().toUpperCase()
    opt.expectPunct('=')
    if (key === 'MEMORY_OPTIMIZED') into.memoryOptimized = opt.accept('ON')
    else if (key === 'SYSTEM_VERSIONING' && opt.accept('ON')) {
      let history: QName | null = null
      if (opt.isPunct('(')) {
        for (const sub of opt.inner().commaList()) {
          if (sub.accept('HISTORY_TABLE')) {
            sub.expectPunct('=')
            history = sub.qname()
          }
        }
      }
      into.systemVersioning = {history}
    }
  }
}

function parseCreateTable(c: Cursor): CreateTable {
  const table = c.qname()
  const stmt: CreateTable = {type: 'createTable', table, columns: [], constraints: [], memoryOptimized: false, systemVersioning: null, partitioned: false, problems: []}
  if (c.acceptSeq('AS', 'FILETABLE')) throw c.error('FileTables are not read')
  const body = c.inner()
  for (const element of body.commaList()) {
    const line = element.line()
    try {
      if (element.is(...CONSTRAINT_STARTS)) stmt.constraints.push(parseConstraint(element, null))
      else if (element.is('INDEX')) stmt.constraints.push(parseInlineIndex(element, null))
      else if (element.acceptSeq('PERIOD', 'FOR', 'SYSTEM_TIME')) element.group()
      else stmt.columns.push(parseColumn(element))
      element.end('the table definition')
    } catch (err) {
      if (!(err instanceof ParseError)) throw err
      stmt.problems.push({line: err.line || line, reason: `cannot parse table element: ${err.message}`})
    }
  }
  const options: TableOptions = {memoryOptimized: false, systemVersioning: null}
  for (;;) {
    if (c.is('WITH') && c.isPunct('(', 1)) {
      c.next()
      parseTableOptions(c.inner(), options)
    } else if (c.accept('ON', 'TEXTIMAGE_ON', 'FILESTREAM_ON')) {
      if (c.peek()?.kind === 'string') c.next()
      else c.ident()
      if (c.isPunct('(')) {
        c.group()
        stmt.partitioned = true
      }
    } else break
  }
  c.end('CREATE TABLE')
  return {...stmt, ...options}
}

function parseAlterTable(c: Cursor): Statement {
  const table = c.qname()
  const actions: AlterAction[] = []
  const problems: Problem[] = []
  let trusted = true
  let withCheck = false
  if (c.accept('WITH')) {
    withCheck = c.expect('CHECK', 'NOCHECK') === 'CHECK'
    trusted = withCheck
  }
  if (c.accept('ADD')) {
    for (const element of c.commaList()) {
      try {
        if (element.is(...CONSTRAINT_STARTS, 'DEFAULT')) actions.push({kind: 'addConstraint', constraint: parseConstraint(element, null), trusted})
        else if (element.acceptSeq('PERIOD', 'FOR', 'SYSTEM_TIME')) element.group()
        else actions.push({kind: 'addColumn', column: parseColumn(element)})
        element.end('ALTER TABLE ADD')
      } catch (err) {
        if (!(err instanceof ParseError)) throw err
        problems.push({line: err.line, reason: `cannot parse ALTER TABLE ADD: ${err.message}`})
      }
    }
  } else if (c.is('CHECK', 'NOCHECK')) {
    const enable = c.next().value.toUpperCase() === 'CHECK'
    c.expect('CONSTRAINT')
    const names = c.accept('ALL') ? 'all' : c.commaList().map((n) => n.ident())
    actions.push({kind: 'checkConstraint', names, enable, trusted: enable && withCheck})
  } else if (c.is('ENABLE', 'DISABLE')) {
    const enable = c.next().value.toUpperCase() === 'ENABLE'
    if (c.accept('CHANGE_TRACKING')) {
      if (c.accept('WITH')) c.group()
      actions.push({kind: 'changeTracking', enable})
    } else if (c.accept('TRIGGER')) {
      const names = c.accept('ALL') ? 'all' : c.commaList().map((n) => n.qname().name)
      actions.push({kind: 'trigger', names, enable})
    } else throw c.error(`ALTER TABLE ${enable ? 'ENABLE' : 'DISABLE'} ${c.peek()?.value ?? ''} is not read`)
  } else if (c.accept('SET')) {
    const options: TableOptions = {memoryOptimized: false, systemVersioning: null}
    parseTableOptions(c.inner(), options)
    actions.push(options.systemVersioning ? {kind: 'systemVersioning', history: options.systemVersioning.history} : {kind: 'ignored'})
  } else {
    return {type: 'unsupported', reason: `ALTER TABLE ${c.peek()?.value.toUpperCase() ?? ''} is not read`}
  }
  c.end('ALTER TABLE')
  return {type: 'alterTable', table, actions, problems}
}

function parseCreateIndex(c: Cursor): Statement {
  const line = c.line()
  const unique = c.accept('UNIQUE')
  let kind = indexKind(c, 'nonclustered')
  if (c.accept('PRIMARY')) {
    c.expect('XML')
    kind = 'xml'
  } else if (c.accept('XML')) kind = 'xml'
  else if (c.accept('SPATIAL')) kind = 'spatial'
  c.expect('INDEX')
  const name = c.ident()
  c.expect('ON')
  const table = c.qname()
  const columns = c.isPunct('(') ? c.keyParts() : []
  const included = c.accept('INCLUDE') ? c.nameList() : []
  const filter = c.accept('WHERE') ? c.until(['WITH', 'ON', 'USING']) : null
  while (c.accept('USING', 'FOR')) {
    if (c.is('XML')) c.acceptSeq('XML', 'INDEX')
    if (c.isIdent() && !c.is('WITH', 'ON')) c.qname()
    if (c.isPunct('(')) c.group()
  }
  const partitioned = c.storageClauses()
  c.end('CREATE INDEX')
  return {type: 'createIndex', table, index: {kind: 'index', name, unique, indexKind: kind, columns, included, filter, line}, partitioned}
}

// ---------------------------------------------------------------------------------------------
// Modules, sequences, types, EXEC, ALTER DATABASE

function parseModule(c: Cursor, definition: string): Statement {
  const word = c.expect(...MODULE_WORDS)
  const kind: ModuleKind = word === 'PROC' || word === 'PROCEDURE' ? 'procedure' : (word.toLowerCase() as ModuleKind)
  const name = c.qname()
  if (kind !== 'trigger') return {type: 'module', kind, name, definition, trigger: null}
  c.expect('ON')
  if (c.is('DATABASE') || c.is('ALL')) return {type: 'unsupported', reason: 'database- and server-level (DDL) triggers are not read'}
  const table = c.qname()
  while (c.accept('WITH')) c.until(['FOR', 'AFTER', 'INSTEAD'])
  let timing = 'AFTER'
  if (c.acceptSeq('INSTEAD', 'OF')) timing = 'INSTEAD OF'
  else c.expect('FOR', 'AFTER')
  const events: string[] = []
  do events.push(c.expect('INSERT', 'UPDATE', 'DELETE'))
  while (c.acceptPunct(','))
  return {type: 'module', kind, name, definition, trigger: {table, timing, events}}
}

function signedNumber(c: Cursor): string {
  const sign = c.acceptPunct('-') ? '-' : (c.acceptPunct('+'), '')
  const t = c.next()
  if (t.kind !== 'number') throw new ParseError(`expected a number but found ${t.value}`, t.line)
  return sign + t.value
}

function parseSequence(c: Cursor): Statement {
  const name = c.qname()
  let dataType = 'bigint'
  let start: string | null = null
  let minValue: string | null = null
  let increment = '1'
  while (!c.atEnd()) {
    if (c.accept('AS')) dataType = parseTypeSpec(c).name.toLowerCase()
    else if (c.acceptSeq('START', 'WITH')) start = signedNumber(c)
    else if (c.acceptSeq('INCREMENT', 'BY')) increment = signedNumber(c)
    else if (c.accept('MINVALUE')) minValue = signedNumber(c)
    else if (c.accept('MAXVALUE')) signedNumber(c)
    else if (c.accept('CACHE')) {
      if (c.peek()?.kind === 'number') c.next()
    } else if (c.acceptSeq('NO', 'MINVALUE') || c.acceptSeq('NO', 'MAXVALUE') || c.acceptSeq('NO', 'CACHE') || c.acceptSeq('NO', 'CYCLE') || c.accept('CYCLE')) continue
    else throw c.error(`unexpected ${c.peek()?.value ?? ''} in CREATE SEQUENCE`)
  }
  return {type: 'createSequence', name, dataType, start, minValue, increment}
}

function parseCreateType(c: Cursor): Statement {
  const name = c.qname()
  if (c.accept('AS')) return {type: 'unsupported', reason: 'table types (CREATE TYPE ... AS TABLE) are not read'}
  if (c.is('EXTERNAL')) return {type: 'unsupported', reason: 'CLR types (CREATE TYPE ... EXTERNAL NAME) are not read'}
  c.expect('FROM')
  const base = parseTypeSpec(c)
  let nullable = true
  if (c.acceptSeq('NOT', 'NULL')) nullable = false
  else c.accept('NULL')
  c.end('CREATE TYPE')
  return {type: 'createType', name, base, nullable}
}

function parseExec(c: Cursor): Statement {
  if (c.peek()?.kind === 'variable' && c.isPunct('=', 1)) c.i += 2
  const procedure = c.qname()
  const args = new Map<string, string | null>()
  const positional: (string | null)[] = []
  for (const arg of c.commaList()) {
    let key: string | null = null
    if (arg.peek()?.kind === 'variable' && arg.isPunct('=', 1)) {
      key = (arg.next().value.slice(1) || '').toLowerCase()
      arg.next()
    }
    const t = arg.peek()
    const value = t?.kind === 'string' ? t.value : isWord(t, 'NULL') ? null : arg.until([])
    if (key === null) positional.push(value)
    else args.set(key, value)
  }
  return {type: 'exec', procedure, args, positional}
}

function parseAlterDatabase(c: Cursor): Statement {
  if (!c.accept('CURRENT')) c.ident()
  let recovery: string | null = null
  let changeTracking: {enable: boolean; retention: string | null; autoCleanup: boolean | null} | null = null
  let collation: string | null = null
  if (c.accept('COLLATE')) collation = c.ident()
  else if (c.accept('SET')) {
    for (const opt of c.commaList()) {
      if (opt.accept('RECOVERY')) recovery = opt.expect('FULL', 'SIMPLE', 'BULK_LOGGED')
      else if (opt.accept('CHANGE_TRACKING')) {
        opt.expectPunct('=')
        const enable = opt.expect('ON', 'OFF') === 'ON'
        changeTracking = {enable, retention: null, autoCleanup: null}
        if (opt.isPunct('(')) {
          for (const sub of opt.inner().commaList()) {
            const key = sub.ident().toUpperCase()
            sub.expectPunct('=')
            if (key === 'CHANGE_RETENTION') changeTracking.retention = sub.until([]).replace(/\s+/g, ' ').toUpperCase()
            else if (key === 'AUTO_CLEANUP') changeTracking.autoCleanup = sub.expect('ON', 'OFF') === 'ON'
          }
        }
      }
    }
  }
  return {type: 'alterDatabase', recovery, changeTracking, collation}
}

// ---------------------------------------------------------------------------------------------
// Dispatch

const SECURITY_CREATES = ['USER', 'ROLE', 'LOGIN', 'APPLICATION', 'CERTIFICATE', 'ASYMMETRIC', 'SYMMETRIC', 'CREDENTIAL', 'MASTER', 'SERVER']
const DATA_WORDS = ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE']

/** Parses one statement; throws ParseError when it is malformed. */
export function parseStatement(raw: RawStatement, script: string): Statement {
  const c = new Cursor(raw.tokens, script)
  const first = raw.tokens[0]
  const head = first?.kind === 'word' ? first.value.toUpperCase() : ''
  if (head === 'SET' || head === 'PRINT' || head === 'COMMIT' || head === 'ROLLBACK') return {type: 'ignored'}
  if (head === 'GRANT' || head === 'DENY' || head === 'REVOKE') return {type: 'security'}
  if (DATA_WORDS.includes(head)) return {type: 'data'}
  if (head === 'USE') {
    c.next()
    return {type: 'use', database: c.ident()}
  }
  if (head === 'EXEC' || head === 'EXECUTE') {
    c.next()
    return parseExec(c)
  }
  if (head === 'CREATE' || head === 'ALTER') {
    if (isModuleHeader(raw.tokens, 0)) {
      c.next()
      if (c.accept('OR')) c.expect('ALTER')
      return parseModule(c, script.slice(first?.start ?? 0, raw.tokens[raw.tokens.length - 1]?.end ?? 0).trim())
    }
    c.next()
    if (head === 'ALTER') {
      if (c.accept('TABLE')) return parseAlterTable(c)
      if (c.accept('DATABASE')) return parseAlterDatabase(c)
      if (c.is('ROLE', 'USER', 'LOGIN', 'AUTHORIZATION', 'SERVER')) return {type: 'security'}
      return {type: 'unsupported', reason: `ALTER ${c.peek()?.value.toUpperCase() ?? ''} is not read`}
    }
    if (c.accept('TABLE')) return parseCreateTable(c)
    const isIndex =
      c.is('UNIQUE', 'CLUSTERED', 'NONCLUSTERED', 'INDEX', 'COLUMNSTORE', 'SPATIAL') ||
      (c.is('PRIMARY') && isWord(c.peek(1), 'XML')) ||
      (c.is('XML') && isWord(c.peek(1), 'INDEX'))
    if (isIndex) return parseCreateIndex(c)
    if (c.accept('SCHEMA')) return {type: 'createSchema', name: c.ident()}
    if (c.accept('TYPE')) return parseCreateType(c)
    if (c.accept('SEQUENCE')) return parseSequence(c)
    if (c.accept('DATABASE')) {
      const name = c.ident()
      let collation: string | null = null
      while (!c.atEnd()) {
        if (c.accept('COLLATE')) collation = c.ident()
        else c.next()
      }
      return {type: 'createDatabase', name, collation}
    }
    const words = raw.tokens.slice(1, 4).filter((t) => t.kind === 'word').map((t) => t.value.toUpperCase())
    if (SECURITY_CREATES.some((w) => words.join(' ').startsWith(w))) return {type: 'security'}
    const what = words.slice(0, words[0] === 'PARTITION' || words[0] === 'FULLTEXT' || words[0] === 'XML' ? (words[0] === 'XML' ? 3 : 2) : 1).join(' ')
    return {type: 'unsupported', reason: `CREATE ${what} is not read`}
  }
  if (head === 'DROP') return {type: 'unsupported', reason: 'DROP statements are not applied to the model'}
  if (head === 'IF' || head === 'WHILE') return {type: 'unsupported', reason: 'conditional (IF/WHILE) blocks are not read'}
  return {type: 'unsupported', reason: `${head || (first?.value ?? '')} statement is not read`}
}
