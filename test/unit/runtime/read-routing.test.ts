import {describe, expect, it} from 'vitest'
import {INITIAL_ROUTING, readBucket, type RoutingDesired} from '../../../src/control/routing-store.js'
import {mysqlPaymentsSql} from '../../../src/engines/mysql/mysql-payments-sql.js'
import {type RequestRouting, RoutedRouter} from '../../../runtime/src/data/router.js'
import {RoutingState} from '../../../runtime/src/data/routing-state.js'
import {ShadowingDb, ShadowReads} from '../../../runtime/src/data/shadow.js'
import {Store} from '../../../runtime/src/data/store.js'
import {FakeDb} from './fake-db.js'
import {ManualClock} from './manual-clock.js'

function setup(change: Partial<RoutingDesired>, random: () => number = () => 0.5) {
  const clock = new ManualClock()
  const state = new RoutingState({clock, random})
  state.observe({version: 1, desired: {...INITIAL_ROUTING, ...change}}, 0)
  const source = new FakeDb('source')
  const target = new FakeDb('target')
  const router = new RoutedRouter(source, target, state, new ShadowReads({clock}))
  return {clock, state, source, target, router}
}

const keys = Array.from({length: 10_000}, (_, i) => `pi_${i.toString(36).padStart(8, '0')}`)
const readRequest = (): RequestRouting => ({write: false, ticket: null})

describe('sticky read routing', () => {
  it('sends a key to the same side every time, and a share of keys close to the percentage to the target', () => {
    const {state} = setup({readsTargetPercent: 30})
    for (const key of keys.slice(0, 100)) expect(new Set(Array.from({length: 5}, () => state.readSide(key))).size).toBe(1)
    const onTarget = keys.filter((k) => state.readSide(k) === 'target').length / keys.length
    expect(onTarget).toBeGreaterThan(0.28)
    expect(onTarget).toBeLessThan(0.32)
  })

  it('only moves keys from the source to the target as the percentage rises', () => {
    const at = (pct: number) => {
      const {state} = setup({readsTargetPercent: pct})
      return new Set(keys.filter((k) => state.readSide(k) === 'target'))
    }
    const ten = at(10)
    const fifty = at(50)
    for (const k of ten) expect(fifty.has(k)).toBe(true)
    expect(at(0).size).toBe(0)
    expect(at(100).size).toBe(keys.length)
    // the bucket is the control store's: every instance and payctl agree on it
    const {state} = setup({readsTargetPercent: 50})
    for (const k of keys.slice(0, 200)) expect(state.readSide(k)).toBe(readBucket(k) < 50 ? 'target' : 'source')
  })

  it('reads everything on the target once writes are there (and while a pause from the target holds them)', () => {
    for (const change of [{writes: 'target' as const, readsTargetPercent: 0}, {writes: 'paused' as const, pausedFrom: 'target' as const, readsTargetPercent: 0}]) {
      const {state} = setup(change)
      expect(keys.slice(0, 500).every((k) => state.readSide(k) === 'target')).toBe(true)
      expect(state.servingSides()).toEqual(['target'])
    }
  })

  it('draws at random for a read without a key', () => {
    let next = 0.05
    const {state} = setup({readsTargetPercent: 10}, () => next)
    expect(state.readSide()).toBe('target')
    next = 0.1
    expect(state.readSide()).toBe('source')
  })
})

describe('RoutedRouter', () => {
  it('keeps a write request on its admitted side for its reads too (read-your-writes)', async () => {
    const {state, router} = setup({readsTargetPercent: 100, writes: 'source'})
    const ticket = await state.admit()
    const ctx: RequestRouting = {write: true, ticket}
    router.context.run(ctx, () => {
      expect(router.writer().side).toBe('source')
      expect(router.reader('pi_x').side).toBe('source')
      expect(router.readFallback(router.reader('pi_x'))).toBeNull()
    })
    // a read request at 100% reads from the target
    router.context.run(readRequest(), () => expect(router.reader('pi_x').side).toBe('target'))
  })

  it('refuses every statement of a write request once the instance is fenced, and rolls back a transaction fenced before its commit', async () => {
    const {clock, state, source, router} = setup({writes: 'source', leaseMs: 1000})
    const ticket = await state.admit()
    await router.context.run({write: true, ticket}, async () => {
      const db = router.writer()
      await db.execute({kind: 'execute', sql: 'UPDATE x', params: [], op: 'x.update'})
      const tx = db.transaction(async (q) => {
        await q.execute({kind: 'execute', sql: 'UPDATE y', params: [], op: 'y.update'})
        clock.advance(1001)
      })
      await expect(tx).rejects.toMatchObject({status: 503, code: 'writes_fenced'})
      await expect(db.execute({kind: 'execute', sql: 'UPDATE z', params: [], op: 'z.update'})).rejects.toMatchObject({code: 'writes_fenced'})
      expect(() => router.writer()).toThrow(expect.objectContaining({code: 'writes_fenced'}) as Error)
    })
    expect(source.calls).toEqual(['x.update', 'BEGIN', 'y.update'])
  })

  it('outside a request, writes only where they are open now', () => {
    const {router, state} = setup({writes: 'paused', pausedFrom: 'source'})
    expect(() => router.writer()).toThrow(expect.objectContaining({code: 'writes_paused'}) as Error)
    state.observe({version: 2, desired: {...INITIAL_ROUTING, writes: 'target'}}, 0)
    expect(router.writer().side).toBe('target')
  })

  it('shadows a shadowPercent share of read-request reads only', () => {
    let draw = 0.2
    const {router} = setup({shadowPercent: 25}, () => draw)
    router.context.run(readRequest(), () => {
      const db = router.reader('pi_a')
      expect(db).toBeInstanceOf(ShadowingDb)
      expect((db as ShadowingDb).other.side).toBe('target')
      draw = 0.3
      expect(router.reader('pi_a')).not.toBeInstanceOf(ShadowingDb)
    })
    draw = 0.2
    expect(router.reader('pi_a')).not.toBeInstanceOf(ShadowingDb)
  })

  it('serves readiness from the sides in use only', () => {
    expect(setup({}).router.serving().map((d) => d.side)).toEqual(['source'])
    expect(setup({readsTargetPercent: 5}).router.serving().map((d) => d.side)).toEqual(['source', 'target'])
    expect(setup({writes: 'target'}).router.serving().map((d) => d.side)).toEqual(['target'])
  })
})

describe('Store reader fallback', () => {
  const row = {id: '5', public_id: 'cus_new', email: null, name: 'New', metadata: null, created_at: new Date(0), updated_at: new Date(0)}

  it('repeats a single-row lookup that found nothing on the side without writes on the write side', async () => {
    const {source, target, router} = setup({readsTargetPercent: 100, writes: 'source'})
    source.answers.set('customer.get', [row])
    const store = new Store(router, mysqlPaymentsSql)
    const found = await router.context.run(readRequest(), () => store.reader('cus_new').customer('cus_new'))
    expect(found).toEqual(row)
    expect(target.calls).toEqual(['customer.get'])
    expect(source.calls).toEqual(['customer.get'])
  })

  it('answers "not found" from the write side without asking the other side', async () => {
    const {source, target, router} = setup({readsTargetPercent: 0, writes: 'source'})
    const store = new Store(router, mysqlPaymentsSql)
    expect(await router.context.run(readRequest(), () => store.reader('cus_none').customer('cus_none'))).toBeNull()
    expect(source.calls).toEqual(['customer.get'])
    expect(target.calls).toEqual([])
  })

  it('does not repeat lists: only single-row lookups fall back', async () => {
    const {source, target, router} = setup({readsTargetPercent: 100, writes: 'source'})
    source.answers.set('payment_method.list', [{id: '1'}])
    const store = new Store(router, mysqlPaymentsSql)
    expect(await router.context.run(readRequest(), () => store.reader('cus_x').paymentMethods('5', 10))).toEqual([])
    expect(target.calls).toEqual(['payment_method.list'])
    expect(source.calls).toEqual([])
  })
})
