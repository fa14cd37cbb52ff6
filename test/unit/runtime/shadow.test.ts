import {describe, expect, it} from 'vitest'
import {diffRows, normalizeRow, normalizeValue, ShadowingDb, ShadowReads} from '../../../runtime/src/data/shadow.js'
import {FakeDb, stmt} from './fake-db.js'
import {ManualClock} from './manual-clock.js'

describe('shadow read normalization', () => {
  it('turns values into comparable text: Dates as ISO, bytes as hex, numbers and strings alike', () => {
    expect(normalizeValue(new Date('2024-05-01T10:20:30.456Z'))).toBe('2024-05-01T10:20:30.456Z')
    expect(normalizeValue(Buffer.from([0xde, 0xad, 0x01]))).toBe('dead01')
    expect(normalizeValue(new Uint8Array([1, 2]))).toBe('0102')
    expect(normalizeValue(1099)).toBe(normalizeValue('1099'))
    expect(normalizeValue(12n)).toBe('12')
    expect(normalizeValue(null)).toBeNull()
    expect(normalizeValue(undefined)).toBeNull()
    expect(normalizeValue('')).toBe('')
    expect(normalizeValue({b: 1, a: {d: new Date(0), c: [2, 'x']}})).toBe('{"a":{"c":["2","x"],"d":"1970-01-01T00:00:00.000Z"},"b":"1"}')
  })

  it('ignores the order of columns and of keys inside JSON values', () => {
    expect(normalizeRow({id: '1', name: 'Ada', meta: {tier: 'gold', n: 1}})).toEqual(normalizeRow({meta: {n: 1, tier: 'gold'}, name: 'Ada', id: 1}))
    expect(JSON.stringify(normalizeRow({b: 1, a: 2}))).toBe('{"a":"2","b":"1"}')
  })

  it('names the differing columns, "rows" when the counts differ, and nothing when only the row order differs', () => {
    const a = [
      {id: '1', name: 'Ada', amount: '10.00'},
      {id: '2', name: 'Bob', amount: '5.00'},
    ]
    expect(diffRows(a, [a[1], a[0]])).toBeNull()
    expect(diffRows(a, [{...a[0], name: 'Eve'}, a[1]])).toEqual(['name'])
    expect(diffRows(a, [{...a[0], amount: '10.01', name: 'Eve'}, a[1]])).toEqual(['amount', 'name'])
    expect(diffRows(a, [a[0]])).toEqual(['rows'])
    expect(diffRows([{id: '1', created_at: new Date(1000)}], [{id: 1, created_at: new Date(1000)}])).toBeNull()
    expect(diffRows([{id: '1', note: null}], [{id: '1', note: ''}])).toEqual(['note'])
    expect(diffRows([{id: '1'}], [{id: '1', extra: 'x'}])).toEqual(['extra'])
  })
})

function setup(options: {maxPending?: number} = {}) {
  const clock = new ManualClock()
  const shadow = new ShadowReads({clock, wallClock: () => new Date('2025-01-02T03:04:05.000Z'), ...options})
  const seen: string[] = []
  shadow.setObserver((r) => seen.push(r))
  const source = new FakeDb('source')
  const target = new FakeDb('target')
  return {clock, shadow, seen, source, target}
}

/** Lets the comparison's awaits run (fake databases answer at once). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('ShadowReads', () => {
  const row = {id: '7', public_id: 'cus_1', name: 'Ada Lovelace', email: 'ada@example.com'}

  it('counts a match when the other side answers the same rows', async () => {
    const {shadow, seen, source, target} = setup()
    target.answers.set('customer.get', [{...row}])
    expect(await shadow.compare(stmt('customer.get', 'cus_1'), source, target, [row])).toBe('match')
    expect(seen).toEqual(['match'])
    expect(shadow.stats()).toEqual({matched: 1, mismatched: 0, errors: 0, examples: []})
  })

  it('re-reads a difference on both sides after 250 ms: a difference gone by then is replication lag, not a mismatch', async () => {
    const {clock, shadow, source, target} = setup()
    target.answers.set('customer.get', [])
    const result = shadow.compare(stmt('customer.get', 'cus_1'), source, target, [row])
    await settle()
    expect(target.calls).toEqual(['customer.get'])
    // replicated meanwhile
    target.answers.set('customer.get', [{...row}])
    source.answers.set('customer.get', [{...row}])
    clock.advance(249)
    await settle()
    expect(target.calls).toHaveLength(1)
    clock.advance(1)
    expect(await result).toBe('match')
    expect(source.calls).toEqual(['customer.get'])
    expect(target.calls).toEqual(['customer.get', 'customer.get'])
    expect(shadow.stats()).toMatchObject({matched: 1, mismatched: 0})
  })

  it('counts a mismatch that persists, keeping the statement and column names but never a value', async () => {
    const {clock, shadow, seen, source, target} = setup()
    const differs = {...row, name: 'Ada Byron', email: 'byron@example.com'}
    target.answers.set('customer.get', [differs])
    source.answers.set('customer.get', [row])
    const result = shadow.compare(stmt('customer.get', 'cus_1'), source, target, [row])
    await settle()
    clock.advance(250)
    expect(await result).toBe('mismatch')
    expect(seen).toEqual(['mismatch'])
    const stats = shadow.stats()
    expect(stats).toEqual({
      matched: 0,
      mismatched: 1,
      errors: 0,
      examples: [{at: '2025-01-02T03:04:05.000Z', op: 'customer.get', sides: ['source', 'target'], columns: ['email', 'name']}],
    })
    const published = JSON.stringify(stats)
    for (const value of ['Ada', 'Byron', 'example.com', 'cus_1']) expect(published).not.toContain(value)
  })

  it('keeps the last 10 examples', async () => {
    const {clock, shadow, source, target} = setup()
    for (let i = 0; i < 12; i++) {
      source.answers.set(`op.${i}`, [row])
      const r = shadow.compare(stmt(`op.${i}`), source, target, [row])
      await settle()
      clock.advance(250)
      await r
    }
    const stats = shadow.stats()
    expect(stats.mismatched).toBe(12)
    expect(stats.examples.map((e) => e.op)).toEqual(['op.2', 'op.3', 'op.4', 'op.5', 'op.6', 'op.7', 'op.8', 'op.9', 'op.10', 'op.11'])
    expect(stats.examples[0]?.columns).toEqual(['rows'])
  })

  it('counts an error when the other side fails, and never rejects', async () => {
    const {shadow, seen, source, target} = setup()
    target.answers.set('customer.get', () => Promise.reject(new Error('connection lost')))
    expect(await shadow.compare(stmt('customer.get'), source, target, [row])).toBe('error')
    expect(seen).toEqual(['error'])
    expect(shadow.stats().errors).toBe(1)
  })

  it('skips comparisons past the pending limit and after close', async () => {
    const {shadow, source, target} = setup({maxPending: 1})
    target.answers.set('customer.get', () => new Promise<unknown[]>(() => undefined))
    void shadow.compare(stmt('customer.get'), source, target, [row])
    expect(shadow.pending).toBe(1)
    expect(await shadow.compare(stmt('customer.get'), source, target, [row])).toBeNull()
    shadow.close()
    target.answers.set('customer.get', [row])
    expect(await shadow.compare(stmt('customer.get'), source, target, [row])).toBeNull()
  })

  it('a shadowed read answers with the primary rows without waiting for the other side', async () => {
    const {shadow, source, target} = setup()
    source.answers.set('customer.get', [row])
    target.answers.set('customer.get', () => new Promise<unknown[]>(() => undefined))
    const db = new ShadowingDb(source, target, shadow)
    expect(db.side).toBe('source')
    expect(await db.query(stmt('customer.get'))).toEqual([row])
    await settle()
    expect(target.calls).toEqual(['customer.get'])
    expect(shadow.pending).toBe(1)
  })
})
