/**
 * payctl verify's safety rules, without servers (fake engines behind a mocked openEngine, a fake
 * VerifySupport over in-memory rows): no repair under a filter, keys masked in reports, and a range
 * too large for the servers' hash buffer compared in parts, never on a cut hash.
 */
import {createHash} from 'node:crypto'
import {describe, expect, it, vi} from 'vitest'
import type {ColumnModel, TableModel} from '../../../src/engines/model.js'
import type {KeyRange, RangeHash, ReplicaTable, VerifySupport} from '../../../src/engines/replication.js'
import {typeFamily} from '../../../src/validators/canonical.js'

type Row = [number, string]
const stores: Record<'source' | 'target', Row[]> = {source: [], target: []}
/** --where texts the fake servers understand. */
const wheres: Record<string, (r: Row) => boolean> = {"status = 'refunded'": (r) => r[1] === 'refunded'}
/** When set, the fake servers hash ranges themselves (pushdown) with a hash buffer of `limit` bytes, like GROUP_CONCAT. */
let hashing: {limit: number; calls: number; cut: number; inFlight?: {now: number; most: number}} | null = null

const col = (name: string, dataType: string, extra: Partial<ColumnModel> = {}): ColumnModel =>
  ({name, dataType, columnType: dataType, nullable: false, charset: null, collation: null, precision: null, scale: null, generated: null, ...extra}) as ColumnModel
const model = {
  schema: 'pay',
  name: 'payments',
  columns: [col('id', 'bigint'), col('status', 'varchar')],
  primaryKey: {columns: [{name: 'id'}]},
  uniqueKeys: [],
  rowEstimate: 10,
} as unknown as TableModel

function fakeEngine(side: 'source' | 'target'): unknown {
  const rows = (range: KeyRange | null, where: string | null): Row[] => {
    const f = where === null ? () => true : wheres[where]
    if (f === undefined) throw new Error(`fake: unknown where ${where}`)
    return stores[side]
      .filter((r) => f(r))
      .filter((r) => range === null || ((range.after === null || r[0] > Number(range.after[0])) && (range.through === null || r[0] <= Number(range.through[0]))))
      .sort((a, b) => a[0] - b[0])
  }
  const verify: VerifySupport = {
    keyAt: (_t, after, offset, where, through) => Promise.resolve((rows({after, through: through ?? null}, where)[offset - 1] ?? null)?.slice(0, 1) ?? null),
    readRange: (_t, range, where) => Promise.resolve(rows(range, where).map((r) => [...r])),
    countRows: (_t, range, where) => Promise.resolve(rows(range, where).length),
    repairStatements: (_t, upserts, deletes) => [JSON.stringify({upserts, deletes})],
    get hashDialect() {
      return hashing === null ? undefined : 'fake'
    },
    get hashBytesLimit() {
      return hashing?.limit
    },
    get hashRange() {
      if (hashing === null) return undefined
      const h = hashing
      return (_t: ReplicaTable, _c: unknown, range: KeyRange, where: string | null) => {
        const texts = rows(range, where).map((r) => `${r[0]}\u001f${r[1]}`)
        // the server's buffer: the rows that fit whole, then a cut
        let bytes = 0
        let whole = 0
        for (const text of texts) {
          bytes += text.length + (whole === 0 ? 0 : 1)
          if (bytes > h.limit) break
          whole++
        }
        h.calls++
        const flight = side === 'source' ? h.inFlight : undefined
        const digest = createHash('sha256').update(texts.slice(0, whole + 1).join('\u001e')).digest('hex')
        if (whole < texts.length) {
          h.cut++
          return Promise.resolve({count: texts.length, hash: digest, cut: {rowsWhole: whole}})
        }
        if (flight === undefined) return Promise.resolve({count: texts.length, hash: digest})
        // answered on a later turn of the event loop, like a server: hashes asked meanwhile overlap
        flight.now++
        flight.most = Math.max(flight.most, flight.now)
        return new Promise<RangeHash>((resolve) =>
          setImmediate(() => {
            flight.now--
            resolve({count: texts.length, hash: digest})
          }),
        )
      }
    },
  }
  const writer = {
    begin: () => Promise.resolve(),
    commit: () => Promise.resolve(),
    rollback: () => Promise.resolve(),
    close: () => Promise.resolve(),
    query: (sql: string) => {
      const {upserts, deletes} = JSON.parse(sql) as {upserts: Row[]; deletes: Array<[number]>}
      stores.target = stores.target.filter((r) => !deletes.some((d) => Number(d[0]) === r[0]))
      for (const u of upserts) stores.target = [...stores.target.filter((r) => r[0] !== Number(u[0])), [Number(u[0]), u[1]]]
      return Promise.resolve([])
    },
  }
  return {
    name: 'mysql',
    introspect: (o?: {database?: string}) => Promise.resolve({tables: o?.database === undefined ? [model] : []}),
    close: () => Promise.resolve(),
    replication: {
      keyBounds: () => {
        const ids = stores[side].map((r) => r[0]).sort((a, b) => a - b)
        return Promise.resolve(ids.length === 0 ? null : {min: [ids[0]], max: [ids.at(-1)]})
      },
      capture: {currentPosition: () => Promise.reject(new Error('offline'))},
      openWriter: () => Promise.resolve(writer),
      verify,
    },
  }
}

vi.mock('../../../src/engines/open.js', () => ({
  openEngine: (o: {label: 'source' | 'target'}) => Promise.resolve(fakeEngine(o.label)),
}))

const {diffRows, verify} = await import('../../../src/validators/verify.js')

const options = (extra: Record<string, unknown>) =>
  ({
    source: {label: 'source', database: 'pay'},
    target: {label: 'target', database: 'pay'},
    controlDatabase: 'payctl',
    tables: () => true,
    countOnly: false,
    samplePct: null,
    where: null,
    repair: false,
    dryRun: false,
    repairLog: null,
    chunkMs: 500,
    hashMaxBytes: 16 * 1024 * 1024,
    maxRowDiffs: 1000,
    concurrency: 1,
    recheckRetries: 0,
    recheckWaitMs: 0,
    ...extra,
  }) as never

describe('verify --repair with --where', () => {
  it('is refused before anything is read: a row the filter drops on one side only would look missing and be deleted', async () => {
    // the one real difference: row 1's status
    stores.source = [[1, 'captured'], [2, 'refunded']]
    stores.target = [[1, 'refunded'], [2, 'refunded']]
    await expect(verify(options({where: "status = 'refunded'", repair: true}))).rejects.toMatchObject({code: 'PAYCTL_USAGE', exitCode: 2})
    expect(stores.target.some((r) => r[0] === 1)).toBe(true)
  })
})

describe('row keys in the report', () => {
  it('are masked like values: a table keyed by card number never prints it (summary, --json, JUnit)', () => {
    const columns = [col('card_number', 'varchar'), col('fingerprint', 'varchar')]
    const replica: ReplicaTable = {schema: 'pay', name: 'card_vault', columns: ['card_number', 'fingerprint'], keyColumns: ['card_number'], keyIndexes: [0], jsonColumns: []}
    const ctx = {pair: {source: replica} as never, sourceColumns: columns, families: columns.map((c) => typeFamily(c, 'mysql'))}
    const diffs = diffRows(ctx, [['4242424242424242', 'a']], [])
    expect(diffs).toHaveLength(1)
    expect(JSON.stringify(diffs[0]?.key)).not.toContain('4242424242424242')
  })
})

describe('a range larger than the hash buffer', () => {
  const table = (n: number, big: number | null = null): Row[] => Array.from({length: n}, (_, i): Row => [i + 1, i + 1 === big ? 'x'.repeat(5_000) : `status-${(i * 7919) % 1000}`])

  it('is hashed in parts that each fit: equal sides are equal, every row counted, and the chunks learn the cap', async () => {
    stores.source = table(20_000)
    stores.target = table(20_000)
    hashing = {limit: 2_048, calls: 0, cut: 0}
    try {
      const result = await verify(options({}))
      const t = result.tables[0]
      expect(t?.method).toBe('pushdown')
      expect(result.status).toBe('equal')
      expect(t?.sourceRows).toBe(20_000)
      expect(t?.splits).toBeGreaterThan(0)
      // after the first cuts the chunks stay near the cap: most hashes are whole (without table
      // statistics the cap probes upwards every 8 chunks, so about one chunk in nine is cut)
      expect(hashing.cut / hashing.calls).toBeLessThan(0.15)
    } finally {
      hashing = null
    }
  })

  it('finds a difference past the point where a cut hash would have stopped looking', async () => {
    stores.source = table(5_000)
    stores.target = table(5_000).map((r): Row => (r[0] === 4_990 ? [r[0], 'refunded'] : r))
    hashing = {limit: 2_048, calls: 0, cut: 0}
    try {
      const result = await verify(options({}))
      expect(result.status).toBe('different')
      expect(result.tables[0]?.diffs.map((d) => [d.key, d.kind, d.columns.map((c) => c.column)])).toEqual([[{id: '4990'}, 'different', ['status']]])
    } finally {
      hashing = null
    }
  })

  it('compares a row larger than the buffer row by row, and the chunks of the rest of the table keep their size', async () => {
    // row 12,000 differs; in the second run it is also 5 KB, more than the whole buffer
    const hashes = async (big: number | null): Promise<number> => {
      stores.source = table(20_000, big)
      stores.target = table(20_000, big).map((r): Row => (r[0] === 12_000 ? [r[0], `${r[1]}!`] : r))
      hashing = {limit: 2_048, calls: 0, cut: 0}
      try {
        const result = await verify(options({}))
        expect(result.tables[0]?.diffs.map((d) => [d.key, d.kind])).toEqual([[{id: '12000'}, 'different']])
        return hashing.calls
      } finally {
        hashing = null
      }
    }
    const plain = await hashes(null)
    // had the large row set the chunk size for the rest of the table (the few rows before it), it
    // would take thousands of hashes; it costs a few small chunks instead
    expect(await hashes(12_000)).toBeLessThan(plain * 1.2)
  })
})

describe('--parallel', () => {
  it('is a number of chunks in flight across tables: the only table runs that many at once', async () => {
    stores.source = Array.from({length: 20_000}, (_, i): Row => [i + 1, 'captured'])
    stores.target = stores.source.map((r): Row => [...r])
    hashing = {limit: 2_048, calls: 0, cut: 0, inFlight: {now: 0, most: 0}}
    try {
      const result = await verify(options({concurrency: 3}))
      expect(result.status).toBe('equal')
      expect(result.tables[0]?.sourceRows).toBe(20_000)
      expect(hashing.inFlight?.most).toBe(3)
      expect(hashing.inFlight?.now).toBe(0)
    } finally {
      hashing = null
    }
  })
})
