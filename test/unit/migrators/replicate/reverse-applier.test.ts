/**
 * The applier's handover and reverse-replication options: drainTo stops exactly at a position,
 * after-commit checkpoints (the reverse stream's, whose control store is not on the writer's
 * server) are saved only after the writer commits, and reverse tables map the target's column
 * names back onto the source's.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ReplicationStore} from '../../../../src/control/replication-store.js'
import type {TableModel} from '../../../../src/engines/model.js'
import type {CapturedEvent, CapturePosition, ChangeStream, ReplicaTable, RowChange, TargetWriter} from '../../../../src/engines/replication.js'
import {Applier, type ApplierOptions} from '../../../../src/migrators/replicate/applier.js'
import {reverseTables} from '../../../../src/migrators/replicate/reverse.js'

const table: ReplicaTable = {schema: 'app', name: 'customers', columns: ['id', 'email'], keyColumns: ['id'], keyIndexes: [0], jsonColumns: []}

/** Yields the events, then stays open until closed (a live stream with nothing more to say). */
function streamOf(events: CapturedEvent[]): ChangeStream {
  let closed = false
  let wake: (() => void) | null = null
  return {
    async *[Symbol.asyncIterator]() {
      for (const e of events) yield e
      while (!closed) await new Promise<void>((r) => (wake = r))
    },
    close() {
      closed = true
      wake?.()
      return Promise.resolve()
    },
  }
}

/** Records every call in order; rows by key. */
class RecordingWriter implements TargetWriter {
  log: string[] = []
  rows = new Map<string, unknown[]>()
  begin(): Promise<void> {
    this.log.push('begin')
    return Promise.resolve()
  }
  commit(): Promise<void> {
    this.log.push('commit')
    return Promise.resolve()
  }
  rollback(): Promise<void> {
    this.log.push('rollback')
    return Promise.resolve()
  }
  query<T>(sql: string): Promise<T[]> {
    this.log.push(`query ${sql.slice(0, 30)}`)
    return Promise.resolve([])
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
  deleteKeys(_t: ReplicaTable, keys: readonly unknown[][]): Promise<void> {
    for (const k of keys) this.rows.delete(String(k[0]))
    this.log.push(`delete ${keys.length}`)
    return Promise.resolve()
  }
  upsertRows(t: ReplicaTable, rows: readonly unknown[][]): Promise<void> {
    for (const row of rows) this.rows.set(String(row[t.keyIndexes[0] ?? 0]), [...row])
    this.log.push(`upsert ${rows.length}`)
    return Promise.resolve()
  }
}

const pos = (n: number): CapturePosition => ({kind: 'binlog', file: 'bin.000001', pos: n, gtid: null})
const tx = (n: number, ...changes: RowChange[]): CapturedEvent => ({kind: 'transaction', position: pos(n), commitTimeMs: n, changes})
const ins = (id: number, email: string): RowChange => ({op: 'insert', schema: 'app', table: 'customers', before: null, after: {id, email}})
const posOf = (p: CapturePosition): number => (p.kind === 'binlog' ? p.pos : -1)

let dir: string | null = null
afterEach(async () => {
  if (dir !== null) await rm(dir, {recursive: true, force: true})
  dir = null
})

async function applier(events: CapturedEvent[], writer: TargetWriter, extra: Partial<ApplierOptions> = {}): Promise<Applier> {
  dir = await mkdtemp(join(tmpdir(), 'payctl-applier-'))
  return new Applier({stream: streamOf(events), writer, store: new ReplicationStore('ctl'), tables: [{source: 'customers', target: table, state: 'replicating'}], start: pos(4), spillDir: dir, ...extra})
}

describe('Applier.drainTo', () => {
  it('applies every transaction up to the position and none after it', async () => {
    const writer = new RecordingWriter()
    const a = await applier([tx(10, ins(1, 'a@x')), tx(20, ins(2, 'b@x')), tx(30, ins(3, 'c@x'))], writer, {batchChanges: 1})
    const running = a.run()
    await a.drainTo(pos(20))
    a.stop()
    await running
    expect([...writer.rows.keys()]).toEqual(['1', '2'])
    expect(a.stats.position).toEqual(pos(20))
  })

  it('is drained when the next transaction is past the position, even though none ends exactly at it', async () => {
    const writer = new RecordingWriter()
    const a = await applier([tx(10, ins(1, 'a@x')), tx(25, ins(2, 'b@x'))], writer)
    const running = a.run()
    await a.drainTo(pos(20))
    a.stop()
    await running
    expect([...writer.rows.keys()]).toEqual(['1'])
    expect(a.stats.position).toEqual(pos(10))
  })

  it('resolves at once when the position is already applied, and rejects once the loop has ended', async () => {
    const a = await applier([tx(10, ins(1, 'a@x'))], new RecordingWriter())
    const running = a.run()
    await a.drainTo(pos(10))
    await a.drainTo(pos(5))
    a.stop()
    await running
    await expect(a.drainTo(pos(99))).rejects.toThrow(/stopped/)
  })
})

describe('after-commit checkpoints (reverse replication)', () => {
  it('saves each position only after the writer committed the rows it covers, never through the writer', async () => {
    const writer = new RecordingWriter()
    const a = await applier([tx(10, ins(1, 'a@x')), tx(20, ins(2, 'b@x'))], writer, {
      batchChanges: 1,
      checkpoint: {
        afterCommit: (p) => {
          writer.log.push(`checkpoint ${posOf(p)}`)
          return Promise.resolve()
        },
      },
    })
    const running = a.run()
    await a.drainTo(pos(20))
    a.stop()
    await running
    expect(writer.log).toEqual(['begin', 'upsert 1', 'commit', 'checkpoint 10', 'begin', 'upsert 1', 'commit', 'checkpoint 20'])
  })

  it('opens no transaction for transactions without captured changes, and still saves where the stream got to', async () => {
    const writer = new RecordingWriter()
    const saved: number[] = []
    const a = await applier([tx(10), tx(20), tx(30)], writer, {checkpoint: {afterCommit: (p) => Promise.resolve(void saved.push(posOf(p)))}})
    const running = a.run()
    await a.drainTo(pos(30))
    a.stop()
    await running
    expect(writer.log).toEqual([])
    expect(saved.at(-1)).toBe(30)
    expect(saved).toEqual([...saved].sort((x, y) => x - y))
  })

  it('refuses tables that are not live: nothing may be held back without a checkpoint in the same transaction', async () => {
    dir = await mkdtemp(join(tmpdir(), 'payctl-applier-'))
    const o = {stream: streamOf([]), writer: new RecordingWriter(), store: new ReplicationStore('ctl'), start: pos(4), spillDir: dir, checkpoint: {afterCommit: () => Promise.resolve()}}
    expect(() => new Applier({...o, tables: [{source: 'customers', target: table, state: 'copying'}]})).toThrow(/replicating/)
    const a = new Applier({...o, tables: [{source: 'customers', target: table, state: 'replicating'}]})
    await expect(a.hold('customers')).rejects.toThrow(/after-commit/)
  })
})

describe('reverseTables', () => {
  const col = (name: string, dataType: string) => ({name, dataType, nullable: false, generated: null}) as unknown as TableModel['columns'][number]
  const model = (name: string, columns: TableModel['columns']): TableModel => ({schema: 'x', name, columns, primaryKey: {name: 'PRIMARY', columns: [{name: columns[0]?.name ?? ''}]}, uniqueKeys: []}) as unknown as TableModel

  it('reads images under the target\'s names and writes the source\'s columns, JSON from either side as text', async () => {
    const source: ReplicaTable = {schema: 'legacy', name: 'Customers', columns: ['Id', 'Email', 'Meta'], keyColumns: ['Id'], keyIndexes: [0], jsonColumns: []}
    const target: ReplicaTable = {schema: 'payments', name: 'customers', columns: ['id', 'email', 'meta'], keyColumns: ['id'], keyIndexes: [0], jsonColumns: []}
    const targetModel = model('customers', [col('id', 'bigint'), col('email', 'varchar'), col('meta', 'json')])
    const [t] = reverseTables([{model: model('Customers', []), targetModel, source, target}])
    expect(t).toEqual({source: 'customers', target: {...source, jsonColumns: ['Meta']}, imageColumns: ['id', 'email', 'meta'], state: 'replicating'})

    const writer = new RecordingWriter()
    dir = await mkdtemp(join(tmpdir(), 'payctl-applier-'))
    if (t === undefined) throw new Error('no table')
    const change: RowChange = {op: 'insert', schema: 'payments', table: 'customers', before: null, after: {id: 7, email: 'r@x', meta: {a: 1}}}
    const a = new Applier({stream: streamOf([tx(10, change)]), writer, store: new ReplicationStore('ctl'), tables: [t], start: pos(4), spillDir: dir, checkpoint: {afterCommit: () => Promise.resolve()}})
    const running = a.run()
    await a.drainTo(pos(10))
    a.stop()
    await running
    expect(writer.rows.get('7')).toEqual([7, 'r@x', {a: 1}])
  })
})
