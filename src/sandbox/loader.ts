/**
 * Loads the generated data set into the legacy server. The generator streams rows into one TSV
 * file per table under `<dir>/load/` (bounded memory: writes wait for the disk), then each file is
 * read by the server itself with `LOAD DATA INFILE` (the folder is the server's secure_file_priv),
 * which on a small machine is several times faster than batched INSERTs over a connection.
 *
 * Each table is one LOAD DATA statement, so one InnoDB transaction: a crash leaves every table
 * either loaded or empty, and the caller reloads from scratch unless the state says "loaded".
 */
import {once} from 'node:events'
import {createWriteStream, type WriteStream} from 'node:fs'
import {mkdir, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {finished} from 'node:stream/promises'

import type {Connection, ResultSetHeader} from 'mysql2/promise'

import {BugError} from '../cli/errors.js'
import {type ColumnSpec, generateDataset, type Row, type RowSink, TABLE_COLUMNS} from './data-generator.js'
import {LEGACY_TABLES, type LegacyTable} from './legacy-schema.js'
import {encodeRow} from './tsv.js'

const FLUSH_AT = 256 * 1024

interface TableFile {
  stream: WriteStream
  buffer: string
  /** Set while the stream is above its high-water mark. */
  drain: Promise<void> | null
}

/** Writes rows to `<loadDir>/<table>.tsv`; `pace()` waits while the disk is behind. */
export class TsvFileSink implements RowSink {
  readonly #files = new Map<LegacyTable, TableFile>()
  #error: Error | null = null

  constructor(readonly loadDir: string) {
    for (const table of LEGACY_TABLES) {
      const stream = createWriteStream(tsvPath(loadDir, table), {mode: 0o644})
      stream.on('error', (err) => {
        this.#error ??= err
      })
      this.#files.set(table, {stream, buffer: '', drain: null})
    }
  }

  row(table: LegacyTable, row: Row): void {
    const file = this.#files.get(table)
    if (file === undefined) throw new Error(`no load file for ${table}`)
    file.buffer += encodeRow(row, TABLE_COLUMNS[table])
    if (file.buffer.length >= FLUSH_AT) this.#flush(file)
  }

  #flush(file: TableFile): void {
    if (file.buffer === '') return
    if (!file.stream.write(file.buffer) && file.drain === null) {
      file.drain = once(file.stream, 'drain').then(
        () => {
          file.drain = null
        },
        (err: Error) => {
          this.#error ??= err
          file.drain = null
        },
      )
    }
    file.buffer = ''
  }

  async pace(): Promise<void> {
    const drains: Array<Promise<void>> = []
    for (const f of this.#files.values()) if (f.drain !== null) drains.push(f.drain)
    await Promise.all(drains)
    if (this.#error !== null) throw this.#error
  }

  async close(): Promise<void> {
    for (const file of this.#files.values()) {
      this.#flush(file)
      file.stream.end()
    }
    await Promise.all([...this.#files.values()].map((f) => finished(f.stream)))
    if (this.#error !== null) throw this.#error
  }

  /** Closes the files without waiting for pending data (after a failure). */
  destroy(): void {
    for (const file of this.#files.values()) file.stream.destroy()
  }
}

export function tsvPath(loadDir: string, table: LegacyTable): string {
  return join(loadDir, `${table}.tsv`)
}

function sqlString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** The LOAD DATA statement for one table's TSV file (binary columns arrive as hex). */
export function loadDataSql(table: LegacyTable, file: string, columns: readonly ColumnSpec[] = TABLE_COLUMNS[table]): string {
  const targets = columns.map((c) => (c.binary === true ? `@hex_${c.name}` : `\`${c.name}\``))
  const sets = columns.filter((c) => c.binary === true).map((c) => `\`${c.name}\` = UNHEX(@hex_${c.name})`)
  return [
    `LOAD DATA INFILE ${sqlString(file)}`,
    `INTO TABLE \`${table}\``,
    'CHARACTER SET utf8mb4',
    "FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\'",
    "LINES TERMINATED BY '\\n'",
    `(${targets.join(', ')})`,
    ...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []),
  ].join('\n')
}

export interface LoadOptions {
  loadDir: string
  scale: number
  seed: number
  signal?: AbortSignal
  onGenerated?: (intentsDone: number, intentsTotal: number) => void
  onTableLoaded?: (table: LegacyTable, rows: number) => void
}

/** Generates the TSV files; returns the rows per table. */
export async function writeLoadFiles(options: LoadOptions): Promise<Record<LegacyTable, number>> {
  await mkdir(options.loadDir, {recursive: true, mode: 0o700})
  const sink = new TsvFileSink(options.loadDir)
  try {
    const counts = await generateDataset({
      scale: options.scale,
      seed: options.seed,
      sink,
      ...(options.onGenerated === undefined ? {} : {onProgress: options.onGenerated}),
      ...(options.signal === undefined ? {} : {signal: options.signal}),
    })
    await sink.close()
    return counts
  } catch (err) {
    sink.destroy()
    throw err
  }
}

/**
 * Loads every table's file on `conn` (a session on the legacy server, database selected). The
 * session skips the binlog: the initial data set predates change capture, as a real legacy
 * database's history predates its binlog retention, and CDC starts from a position taken after it.
 */
export async function loadFiles(conn: Connection, options: LoadOptions, counts: Record<LegacyTable, number>): Promise<void> {
  await conn.query('SET SESSION sql_log_bin = 0, foreign_key_checks = 0, unique_checks = 0')
  for (const table of LEGACY_TABLES) {
    options.signal?.throwIfAborted()
    const file = tsvPath(options.loadDir, table)
    const [result] = await conn.query<ResultSetHeader>(loadDataSql(table, file))
    const expected = counts[table]
    if (result.affectedRows !== expected || result.warningStatus > 0) {
      const [warnings] = await conn.query('SHOW WARNINGS LIMIT 5')
      throw new BugError(`Loading ${table} read ${result.affectedRows} of ${expected} rows with ${result.warningStatus} warnings: ${JSON.stringify(warnings)}`, {
        data: {table, expected, loaded: result.affectedRows, warnings: result.warningStatus},
      })
    }
    await rm(file, {force: true})
    options.onTableLoaded?.(table, expected)
  }
  await conn.query(`ANALYZE TABLE ${LEGACY_TABLES.map((t) => `\`${t}\``).join(', ')}`)
  await conn.query('SET SESSION foreign_key_checks = 1, unique_checks = 1')
}

/** Removes leftover TSV files (the folder itself stays: it is the servers' secure_file_priv). */
export async function clearLoadDir(loadDir: string): Promise<void> {
  const entries = await readdir(loadDir).catch(() => [] as string[])
  await Promise.all(entries.filter((e) => e.endsWith('.tsv')).map((e) => rm(join(loadDir, e), {force: true})))
}
