import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ReplicationStore} from '../../../../src/control/replication-store.js'
import {binlogConnectionOptions} from '../../../../src/engines/mysql/mysql-engine.js'
import type {CapturedEvent, ChangeStream, ReplicaTable, RowChange, TargetWriter} from '../../../../src/engines/replication.js'
import {Applier} from '../../../../src/migrators/replicate/applier.js'

const table: ReplicaTable = {schema: 'app', name: 'customers', columns: ['id', 'email', 'name'], keyColumns: ['id'], keyIndexes: [0], jsonColumns: []}

function streamOf(events: CapturedEvent[], opts: {failAfter?: boolean; hold?: boolean} = {}): ChangeStream {
  let closed = false
  let wake: (() => void) | null = null
  return {
    async *[Symbol.asyncIterator]() {
      for (const e of events) yield e
      if (opts.failAfter === true) throw new Error('binlog connection lost')
      while (opts.hold === true && !closed) await new Promise<void>((r) => (wake = r))
    },
    close() {
      closed = true
      wake?.()
      return Promise.resolve()
    },
  }
}

/** A target table with PRIMARY KEY (id) and UNIQUE (email), written with the contract's REPLACE semantics. */
class ReplaceWriter implements TargetWriter {
  rows = new Map<string, unknown[]>()
  begin(): Promise<void> {
    return Promise.resolve()
  }
  commit(): Promise<void> {
    return Promise.resolve()
  }
  rollback(): Promise<void> {
    return Promise.resolve()
  }
  query<T>(): Promise<T[]> {
    return Promise.resolve([])
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
  deleteKeys(_t: ReplicaTable, keys: readonly unknown[][]): Promise<void> {
    for (const k of keys) this.rows.delete(String(k[0]))
    return Promise.resolve()
  }
  upsertRows(_t: ReplicaTable, rows: readonly unknown[][]): Promise<void> {
    for (const row of rows) {
      // REPLACE: every row that conflicts on the key or on the unique email goes, then the row is inserted
      for (const [k, r] of [...this.rows]) if (k === String(row[0]) || r[1] === row[1]) this.rows.delete(k)
      this.rows.set(String(row[0]), [...row])
    }
    return Promise.resolve()
  }
}

const pos = (n: number): CapturedEvent['position'] => ({kind: 'binlog', file: 'bin.000001', pos: n, gtid: null})
const tx = (n: number, ...changes: RowChange[]): CapturedEvent => ({kind: 'transaction', position: pos(n), commitTimeMs: n, changes})
const img = (r: unknown[]): Record<string, unknown> => ({id: r[0], email: r[1], name: r[2]})
const upd = (before: unknown[], after: unknown[]): RowChange => ({op: 'update', schema: 'app', table: 'customers', before: img(before), after: img(after)})
const ins = (after: unknown[]): RowChange => ({op: 'insert', schema: 'app', table: 'customers', before: null, after: img(after)})

let dir: string | null = null
afterEach(async () => {
  if (dir !== null) await rm(dir, {recursive: true, force: true})
  dir = null
})

async function applyAll(writer: TargetWriter, events: CapturedEvent[], state: 'replicating' | 'copying' = 'replicating'): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'payctl-applier-'))
  const applier = new Applier({stream: streamOf(events, {hold: true}), writer, store: new ReplicationStore('ctl'), tables: [{source: 'customers', target: table, state}], start: pos(4), spillDir: dir})
  const running = applier.run()
  while (applier.stats.transactions < events.length) await new Promise((r) => setTimeout(r, 5))
  if (state === 'copying') await applier.release('customers')
  applier.stop()
  await running
}

describe('Applier', () => {
  it('refuses a hold or release once its loop has ended, instead of leaving the copy waiting forever', async () => {
    dir = await mkdtemp(join(tmpdir(), 'payctl-applier-'))
    const applier = new Applier({stream: streamOf([], {failAfter: true}), writer: new ReplaceWriter(), store: new ReplicationStore('ctl'), tables: [{source: 'customers', target: table, state: 'copying'}], start: pos(4), spillDir: dir})
    await expect(applier.run()).rejects.toThrow(/binlog connection lost/)
    await expect(applier.release('customers')).rejects.toThrow(/binlog connection lost/)
    await expect(applier.hold('customers')).rejects.toThrow(/binlog connection lost/)
  })

  it('keeps a new row that takes a unique value another row of the same batch gives up', async () => {
    const writer = new ReplaceWriter()
    writer.rows.set('1', [1, 'a@x', 'X'])
    await applyAll(writer, [tx(10, upd([1, 'a@x', 'X'], [1, 'b@x', 'X']), ins([2, 'a@x', 'Y']), upd([1, 'b@x', 'X'], [1, 'b@x', 'X2']))])
    expect(Object.fromEntries(writer.rows)).toEqual({'1': [1, 'b@x', 'X2'], '2': [2, 'a@x', 'Y']})
  })

  it('converges when held-back changes replay an older image over a newer copy (a unique value that moved)', async () => {
    const writer = new ReplaceWriter()
    // the copy read both rows late: X already gave u up and Y holds it
    writer.rows.set('1', [1, 'v@x', 'X'])
    writer.rows.set('2', [2, 'u@x', 'Y'])
    // held back since before: X took u, X released it, Y took it
    await applyAll(writer, [tx(10, upd([1, 'o@x', 'X'], [1, 'u@x', 'X'])), tx(11, upd([1, 'u@x', 'X'], [1, 'v@x', 'X'])), tx(12, upd([2, 'w@x', 'Y'], [2, 'u@x', 'Y']))], 'copying')
    expect(Object.fromEntries(writer.rows)).toEqual({'1': [1, 'v@x', 'X'], '2': [2, 'u@x', 'Y']})
  })
})

describe('binlog connection', () => {
  it('formats TIMESTAMP values in UTC whatever the host time zone', async () => {
    const saved = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      const cfg = binlogConnectionOptions({host: 'h', port: 3306, user: 'u', password: null, database: 'd', poolSize: 1, connectTimeoutMs: 1000, queryTimeoutMs: 0, tls: {mode: 'disable'}, engine: 'mysql', label: 'source'}, undefined)
      expect(cfg.timezone).toBe('Z')
      // zongji's own TIMESTAMP formatter (not in its package exports), as its row decoder calls it
      const modulePath = new URL('../../../../node_modules/@vlasky/zongji/lib/datetime_decode.js', import.meta.url).href
      const dt = (await import(modulePath)) as {getTimeStamp: (dateStrings: boolean, seconds: number, fraction: undefined, tz: string) => string}
      // 2024-01-15 12:00:00 UTC
      expect(dt.getTimeStamp(true, 1_705_320_000, undefined, cfg.timezone ?? 'local')).toBe('2024-01-15 12:00:00')
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })
})
