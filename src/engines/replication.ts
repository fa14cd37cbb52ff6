/**
 * The replication contract: what payctl replicate asks of an engine to read a table in key order,
 * to follow its changes, and to write rows on the target. Dialect SQL stays in the engine folders;
 * the copier and the applier (src/migrators/replicate/) speak only these types.
 *
 * Values travel as the drivers hand them over (strings for DECIMAL, BIGINT and date-times, Buffers
 * for binary, numbers for small integers and floats, null), in the order of ReplicaTable.columns.
 */
import type {ColumnModel, TableModel} from './model.js'

/** A table as replication sees it on one side. */
export interface ReplicaTable {
  schema: string
  name: string
  /** The columns copied, in order: every column except generated ones (the target computes those). */
  columns: string[]
  /** The key that orders the copy and identifies a row for apply: the primary key, else a unique key on NOT NULL columns. */
  keyColumns: string[]
  /** Positions of keyColumns in columns. */
  keyIndexes: number[]
  /** keyColumns are this table's primary key (absent: not known to be). */
  keyIsPrimary?: boolean
  /** Columns whose values must be written as JSON text (a driver may hand them over parsed). */
  jsonColumns: string[]
}

/** Keyset read of one chunk: rows with key > after (or >= from, or from the start) and key < before (or to the end), in key order. `before` and `from` may be key prefixes. */
export interface ChunkRequest {
  table: ReplicaTable
  /** Inclusive lower bound, a key prefix (a segment's start before its first chunk); ignored when `after` is set. */
  from?: unknown[] | null
  after: unknown[] | null
  before: unknown[] | null
  limit: number
  signal?: AbortSignal
}

export interface ChunkRows {
  rows: unknown[][]
  /** Bytes of the values as the driver handed them over. */
  bytes: number
}

/** Where a change stream is, and where it resumes after. Comparable within one source server. */
export type CapturePosition =
  | {
      kind: 'binlog'
      file: string
      pos: number
      /** The GTID position after this point (MariaDB domain-server-seq list, MySQL executed set), when the server has GTIDs. */
      gtid: string | null
    }
  | {
      kind: 'lsn'
      /** Commit LSN of the last transaction covered, as 20 hex digits (binary(10)). */
      commitLsn: string
      /** Change LSN (__$seqval) of the last change covered within that commit, 20 hex digits; all of the commit when null. */
      changeLsn: string | null
    }

export interface RowChange {
  op: 'insert' | 'update' | 'delete'
  schema: string
  table: string
  /** The row before (update, delete), by column name. */
  before: Record<string, unknown> | null
  /** The row after (insert, update), by column name. */
  after: Record<string, unknown> | null
}

/** One committed source transaction (or the part of it on captured tables). */
export interface CapturedTransaction {
  kind: 'transaction'
  /** Resume after this: the position at the end of the transaction. */
  position: CapturePosition
  /** When the source committed it (ms since epoch; the binlog keeps whole seconds). */
  commitTimeMs: number
  changes: RowChange[]
}

/** A schema change on a captured table: replication must stop. */
export interface CapturedDdl {
  kind: 'ddl'
  position: CapturePosition
  commitTimeMs: number
  schema: string
  statement: string
}

export type CapturedEvent = CapturedTransaction | CapturedDdl

/** An ordered stream of committed changes from a position on. Iterate once; close() ends it. */
export interface ChangeStream extends AsyncIterable<CapturedEvent> {
  close(): Promise<void>
}

export interface CaptureRetention {
  /** How long the server keeps change history, in seconds (binlog expiry, CDC cleanup retention); null when unknown, 0 forever. */
  retentionSeconds: number | null
  /** The oldest position still readable, when the server says; null when unknown. */
  oldest: CapturePosition | null
}

/** Change capture on a source (forward) or on the target (reverse replication). */
export interface ChangeCapture {
  /**
   * Refuses before anything is copied when the server or a table cannot be captured: an
   * EnvironmentError (exit 3) whose message names the exact setting to change.
   */
  checkPrerequisites(tables: readonly TableModel[]): Promise<void>
  /** The server's position now: every change committed before this call is at or before it. */
  currentPosition(): Promise<CapturePosition>
  retention(): Promise<CaptureRetention>
  /** Changes to these tables committed after `from`, in commit order. */
  open(from: CapturePosition, tables: readonly TableModel[], signal?: AbortSignal): ChangeStream
}

/** A target connection holding one transaction at a time; foreign-key checks are off on it (rows arrive in key order, not parent-first). */
export interface TargetWriter {
  begin(): Promise<void>
  commit(): Promise<void>
  rollback(): Promise<void>
  /**
   * Insert, or overwrite by key: rows are full rows in table.columns order. A row that holds one of
   * the new row's unique values under another key is removed (REPLACE semantics): applying full
   * images in source order, or replaying older ones, then converges instead of merging two rows.
   */
  upsertRows(table: ReplicaTable, rows: readonly unknown[][]): Promise<void>
  /**
   * The copy's rows: same effect as upsertRows, through the fastest bulk path the server allows
   * (MySQL family: LOAD DATA LOCAL INFILE, falling back to multi-row upserts where it is refused).
   */
  bulkLoadRows?(table: ReplicaTable, rows: readonly unknown[][]): Promise<void>
  /** Deletes by key: each key in table.keyColumns order. */
  deleteKeys(table: ReplicaTable, keys: readonly unknown[][]): Promise<void>
  /** Any other statement on the same connection (the control store's checkpoint rows, written in the same transaction). */
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>
  close(): Promise<void>
}

/** A key range (after, through]: after exclusive, through inclusive; null for the table's start / end. Both may be key prefixes. */
export interface KeyRange {
  after: unknown[] | null
  through: unknown[] | null
}

/** A range's count and server-side hash. */
export interface RangeHash {
  count: number
  hash: string
  /**
   * The hash must not be compared: the range's text did not fit the server's hash buffer
   * (hashBytesLimit), or the server warned of rows left out. `rowsWhole`: how many rows fitted,
   * when the server said.
   */
  cut?: {rowsWhole: number | null}
}

/** What payctl verify reads on each side. */
export interface VerifySupport {
  /**
   * Reads what hashDialect and hashBytesLimit depend on (the server's flavor, its packet limit);
   * call once before comparing dialects. `hashMaxBytes`: the most range text one server-side hash
   * may hold in the server's memory.
   */
  prepare?(options?: {hashMaxBytes?: number}): Promise<void>
  /** The key `offset` rows after `after` in key order (offset >= 1), null when the table (or the filter, or `through`) ends first. */
  keyAt(table: ReplicaTable, after: unknown[] | null, offset: number, where: string | null, through?: unknown[] | null): Promise<unknown[] | null>
  /** A range's rows in key order, values in table.columns order. */
  readRange(table: ReplicaTable, range: KeyRange, where: string | null): Promise<unknown[][]>
  /**
   * The rows with these keys (each in keyColumns order), in key order; keys that do not exist
   * are simply absent. The write flip compares the rows changed since the last check with it.
   */
  readKeys?(table: ReplicaTable, keys: readonly unknown[][]): Promise<unknown[][]>
  /** Rows in a range (the whole table with a null range). */
  countRows(table: ReplicaTable, range: KeyRange | null, where: string | null): Promise<number>
  /**
   * Which server-side hash this side computes; two sides' pushdown hashes are comparable only when
   * the tags are equal and the column types match. Absent when the engine cannot push the hash down.
   */
  readonly hashDialect?: string
  /** After prepare: the most row text (bytes) one hashRange holds; a range with more comes back `cut`. */
  readonly hashBytesLimit?: number
  /**
   * Count and hash of a range computed by the server. `jsonAsStored`: JSON as its stored bytes
   * instead of normalised (cheaper; equal bytes are equal JSON, so a match needs no second pass).
   */
  hashRange?(table: ReplicaTable, columns: readonly ColumnModel[], range: KeyRange, where: string | null, jsonAsStored?: boolean): Promise<RangeHash>
  /** The statements that make these target rows equal the source's (upserts of full rows, deletes by key), for --repair and its log. */
  repairStatements?(table: ReplicaTable, upserts: readonly unknown[][], deletes: readonly unknown[][]): string[]
}

/** What an engine offers replicate; absent on an engine that cannot take part. */
export interface ReplicationSupport {
  /** Keyset read of one chunk, in key order. */
  readChunk(request: ChunkRequest): Promise<ChunkRows>
  /** The first and last key of a table (null when empty). */
  keyBounds(table: ReplicaTable): Promise<{min: unknown[]; max: unknown[]} | null>
  /** Exact row count (verify and tests use it; replicate reads estimates from introspection). */
  countRows(table: ReplicaTable): Promise<number>
  capture: ChangeCapture
  openWriter(): Promise<TargetWriter>
  /** Empties a table on this side (payctl replicate --restart on the target). */
  truncate?(table: ReplicaTable): Promise<void>
  /** Reads and hashes for payctl verify. */
  verify?: VerifySupport
}

/** The columns and key replication uses for a table; null when it has no usable key (replicate refuses those). */
export function replicaTable(table: TableModel): ReplicaTable | null {
  const columns = table.columns.filter((c) => c.generated === null).map((c) => c.name)
  let keyColumns: string[] | null = null
  if (table.primaryKey !== null) keyColumns = table.primaryKey.columns.map((c) => c.name)
  else {
    const notNull = new Set(table.columns.filter((c) => !c.nullable).map((c) => c.name))
    const unique = table.uniqueKeys.find((k) => k.columns.length > 0 && k.columns.every((c) => notNull.has(c.name) && c.prefixLength === null))
    keyColumns = unique?.columns.map((c) => c.name) ?? null
  }
  if (keyColumns === null || keyColumns.some((k) => !columns.includes(k))) return null
  return {
    schema: table.schema,
    name: table.name,
    columns,
    keyColumns,
    keyIndexes: keyColumns.map((k) => columns.indexOf(k)),
    keyIsPrimary: table.primaryKey !== null,
    jsonColumns: table.columns.filter((c) => c.dataType === 'json' && c.generated === null).map((c) => c.name),
  }
}

/** Compares two positions of the same server: negative when a is before b. */
export function comparePositions(a: CapturePosition, b: CapturePosition): number {
  if (a.kind === 'binlog' && b.kind === 'binlog') {
    const fa = binlogFileIndex(a.file)
    const fb = binlogFileIndex(b.file)
    if (fa !== fb) return fa < fb ? -1 : 1
    return a.pos - b.pos
  }
  if (a.kind === 'lsn' && b.kind === 'lsn') {
    const c = a.commitLsn.localeCompare(b.commitLsn)
    if (c !== 0) return c
    // null change LSN = the whole commit: after any change inside it
    if (a.changeLsn === b.changeLsn) return 0
    if (a.changeLsn === null) return 1
    if (b.changeLsn === null) return -1
    return a.changeLsn.localeCompare(b.changeLsn)
  }
  throw new Error(`cannot compare a ${a.kind} position with a ${b.kind} position`)
}

/** mariadb-bin.000012 -> 12 (binlog files are numbered in order). */
function binlogFileIndex(file: string): number {
  const m = /\.(\d+)$/.exec(file)
  return m === null ? 0 : Number(m[1])
}

/** A short form for messages and status: "mariadb-bin.000001:16910 (gtid 1-1-15)", "lsn 0x0000002A…". */
export function describePosition(p: CapturePosition): string {
  if (p.kind === 'binlog') return `${p.file}:${p.pos}${p.gtid === null || p.gtid === '' ? '' : ` (gtid ${p.gtid})`}`
  return `lsn 0x${p.commitLsn}${p.changeLsn === null ? '' : ` seq 0x${p.changeLsn}`}`
}

/**
 * A key (or any value list) as one comparable string: NULL, Buffers (as hex) and text kept apart,
 * numbers and numeric strings alike (a binlog row may hand over 5 where a query hands over '5').
 */
export function keyText(values: readonly unknown[]): string {
  return values.map((v) => (v === null || v === undefined ? '\0null' : Buffer.isBuffer(v) ? `\0x${v.toString('hex')}` : valueText(v))).join('\0|')
}

/** An unknown thrown value as an Error (rethrown as it is when it already is one). */
export function asError(err: unknown): Error {
  if (err instanceof Error) return err
  return new Error(typeof err === 'string' ? err : JSON.stringify(err) ?? 'unknown error')
}

/** A driver value as text: strings as they are, numbers and bigints in decimal, anything else as JSON. */
export function valueText(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v) ?? ''
}
