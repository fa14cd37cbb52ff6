// Read-your-writes across requests: a key a write request of this instance touched reads from that
// write's side for a window (whatever readsTargetPercent says), then by the percentage again; the
// keys come from the route's :id and from the answer; writes that did not answer 2xx add nothing.
import Fastify, {type FastifyInstance} from 'fastify'
import {afterEach, describe, expect, it} from 'vitest'
import {INITIAL_ROUTING, readBucket, type RoutingDesired} from '../../../src/control/routing-store.js'
import {RecentWrites} from '../../../runtime/src/data/recent-writes.js'
import {type RequestRouting, RoutedRouter} from '../../../runtime/src/data/router.js'
import {RoutingState} from '../../../runtime/src/data/routing-state.js'
import {ShadowReads} from '../../../runtime/src/data/shadow.js'
import {ApiError} from '../../../runtime/src/domain/errors.js'
import {installErrorHandling} from '../../../runtime/src/http/errors.js'
import {RuntimeMetrics} from '../../../runtime/src/http/metrics.js'
import {installRouting, writtenKeys} from '../../../runtime/src/http/routing.js'
import {FakeDb} from './fake-db.js'
import {ManualClock} from './manual-clock.js'

const WINDOW = 5_000
const readRequest = (): RequestRouting => ({write: false, ticket: null})

function setup(change: Partial<RoutingDesired>, windowMs = WINDOW) {
  const clock = new ManualClock()
  const state = new RoutingState({clock, random: () => 0.5})
  let version = 0
  const read = (c: Partial<RoutingDesired>) => state.observe({version: ++version, desired: {...INITIAL_ROUTING, ...c}}, clock.now())
  read(change)
  const recent = new RecentWrites({windowMs, clock})
  const router = new RoutedRouter(new FakeDb('source'), new FakeDb('target'), state, new ShadowReads({clock}), recent)
  const readSide = (key: string) => router.context.run(readRequest(), () => router.reader(key).side)
  return {clock, state, read, recent, router, readSide}
}

describe('RecentWrites', () => {
  it('gives the side of a key written at t until t + window, then forgets it', () => {
    const clock = new ManualClock()
    const recent = new RecentWrites({windowMs: WINDOW, clock})
    clock.advance(1_000)
    recent.remember(['pi_a', 'cus_a'], 'source')
    expect(recent.sideOf('pi_a')).toBe('source')
    clock.advance(WINDOW - 1)
    expect(recent.sideOf('cus_a')).toBe('source')
    expect(recent.sideOf('pi_other')).toBeNull()
    clock.advance(1)
    expect(recent.sideOf('pi_a')).toBeNull()
    expect(recent.sideOf('cus_a')).toBeNull()
    // dropped when looked up after the window
    expect(recent.stats().keys).toBe(0)
  })

  it('restarts the window of a key written again, with the side of the newer write', () => {
    const clock = new ManualClock()
    const recent = new RecentWrites({windowMs: WINDOW, clock})
    recent.remember(['pi_a'], 'source')
    clock.advance(4_000)
    recent.remember(['pi_a'], 'target')
    clock.advance(4_000)
    expect(recent.sideOf('pi_a')).toBe('target')
    clock.advance(1_000)
    expect(recent.sideOf('pi_a')).toBeNull()
  })

  it('drops expired keys lazily when it remembers, and the oldest keys past its cap', () => {
    const clock = new ManualClock()
    const recent = new RecentWrites({windowMs: WINDOW, maxKeys: 3, clock})
    recent.remember(['k1', 'k2'], 'source')
    clock.advance(WINDOW)
    recent.remember(['k3'], 'source')
    // k1 and k2 expired: gone without being looked up
    expect(recent.stats().keys).toBe(1)
    recent.remember(['k4', 'k5'], 'source')
    recent.remember(['k3'], 'source') // written again: now the newest
    recent.remember(['k6'], 'source')
    expect(recent.stats().keys).toBe(3)
    expect(['k3', 'k4', 'k5', 'k6'].map((k) => recent.sideOf(k))).toEqual(['source', null, 'source', 'source'])
  })

  it('remembers nothing with a window of 0, and refuses a negative one', () => {
    const recent = new RecentWrites({windowMs: 0, clock: new ManualClock()})
    expect(recent.enabled).toBe(false)
    recent.remember(['pi_a'], 'source')
    expect(recent.sideOf('pi_a')).toBeNull()
    expect(recent.stats().keys).toBe(0)
    expect(() => new RecentWrites({windowMs: -1})).toThrow(RangeError)
  })
})

describe('RoutedRouter with recent writes', () => {
  it('reads a key written within the window from the write side, whatever the percentage says, then by percentage again', () => {
    const {clock, recent, readSide} = setup({writes: 'source', readsTargetPercent: 100})
    expect(readSide('pi_a')).toBe('target')
    clock.advance(200)
    recent.remember(['pi_a'], 'source')
    expect(readSide('pi_a')).toBe('source')
    expect(readSide('pi_b')).toBe('target')
    clock.advance(WINDOW - 1)
    expect(readSide('pi_a')).toBe('source')
    clock.advance(1)
    expect(readSide('pi_a')).toBe('target')
    expect(recent.stats().routedReads).toBe(2)
  })

  it('counts only the reads it moved: a key the percentage sends to the write side anyway is not counted', () => {
    const pct = 50
    const {recent, readSide} = setup({writes: 'source', readsTargetPercent: pct})
    const keys = Array.from({length: 200}, (_, i) => `pi_${i}`)
    const toTarget = keys.filter((k) => readBucket(k) < pct)
    recent.remember(keys, 'source')
    for (const k of keys) expect(readSide(k)).toBe('source')
    expect(recent.stats().routedReads).toBe(toTarget.length)
    expect(toTarget.length).toBeGreaterThan(0)
    expect(toTarget.length).toBeLessThan(keys.length)
  })

  it('reads from the new write side once writes flipped after the write (it holds every write of the old one)', () => {
    const {read, recent, readSide, router} = setup({writes: 'source', readsTargetPercent: 0})
    recent.remember(['pi_a'], 'source')
    read({writes: 'paused', pausedFrom: 'source'})
    expect(readSide('pi_a')).toBe('source')
    read({writes: 'target'})
    expect(readSide('pi_a')).toBe('target')
    expect(router.serving().map((d) => d.side)).toEqual(['target'])
  })

  it('leaves the read fallback out for a remembered key (it reads on the write side already)', () => {
    const {recent, router} = setup({writes: 'source', readsTargetPercent: 100})
    recent.remember(['cus_a'], 'source')
    router.context.run(readRequest(), () => expect(router.readFallback(router.reader('cus_a'))).toBeNull())
  })
})

describe('writtenKeys', () => {
  it("takes the route's :id and the answer's id, customer and payment_intent", () => {
    expect(writtenKeys({id: 'pi_1'}, JSON.stringify({id: 'pi_1', object: 'payment_intent', customer: 'cus_1', payment_method: 'pm_1', amount: 5}))).toEqual(['pi_1', 'cus_1'])
    expect(writtenKeys({}, JSON.stringify({id: 're_1', object: 'refund', payment_intent: 'pi_1'}))).toEqual(['re_1', 'pi_1'])
    expect(writtenKeys({id: 'cus_1'}, Buffer.from(JSON.stringify({id: 'wal_1', object: 'wallet', customer: 'cus_1', transactions: [{id: 'wtx_1'}]})))).toEqual(['cus_1', 'wal_1'])
    expect(writtenKeys(undefined, {id: 'cus_2', object: 'customer'})).toEqual(['cus_2'])
  })

  it('ignores what is no key: other types, lists, text that is not a JSON object, overlong strings', () => {
    expect(writtenKeys({id: 5}, JSON.stringify({id: 7, customer: null}))).toEqual([])
    expect(writtenKeys(null, '[{"id":"pi_1"}]')).toEqual([])
    expect(writtenKeys(null, 'not json')).toEqual([])
    expect(writtenKeys(null, '{"id":')).toEqual([])
    expect(writtenKeys(null, JSON.stringify({id: `pi_${'x'.repeat(70)}`}))).toEqual([])
    expect(writtenKeys(null, null)).toEqual([])
  })
})

describe('write hooks remember what a write touched', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => {
    await app?.close()
    app = undefined
  })

  async function appWith(change: Partial<RoutingDesired>, windowMs = WINDOW) {
    const s = setup(change, windowMs)
    const metrics = new RuntimeMetrics()
    const a = Fastify()
    installErrorHandling(a, metrics)
    installRouting(a, s.router, metrics)
    s.router.recentWrites.setObserver(() => metrics.readYourWrites.inc())
    type Params = {Params: {id: string}}
    a.post<Params>('/v1/payment_intents/:id/confirm', async (req) => {
      await s.router.writer().execute({kind: 'execute', sql: 'UPDATE', params: [], op: 'intent.update'})
      return {id: req.params.id, object: 'payment_intent', customer: 'cus_conf', status: 'succeeded'}
    })
    a.post('/v1/refunds', () => ({id: 're_new', object: 'refund', payment_intent: 'pi_refunded'}))
    a.post<Params>('/v1/payment_intents/:id/capture', () => {
      throw new ApiError(402, 'card_error', 'card_declined', 'declined')
    })
    a.post<Params>('/v1/payment_intents/:id/cancel', () => {
      throw new Error('boom')
    })
    a.get<Params>('/v1/read/:id', (req) => ({side: s.router.reader(req.params.id).side}))
    await a.ready()
    app = a
    const get = async (key: string) => (await a.inject({method: 'GET', url: `/v1/read/${key}`})).json<{side: string}>().side
    const metric = async () => (await metrics.registry.metrics()).split('\n').find((l) => l.startsWith('payctl_read_your_writes_total '))
    return {...s, app: a, get, metric}
  }

  it('reads the keys of a 2xx write (route param and answer) from its side until the window has passed', async () => {
    const {app: a, clock, get, metric} = await appWith({writes: 'source', readsTargetPercent: 100})
    expect(await metric()).toBe('payctl_read_your_writes_total 0')
    expect((await a.inject({method: 'POST', url: '/v1/payment_intents/pi_conf/confirm', payload: {}})).statusCode).toBe(200)
    expect((await a.inject({method: 'POST', url: '/v1/refunds', payload: {payment_intent: 'pi_refunded'}})).statusCode).toBe(200)
    for (const key of ['pi_conf', 'cus_conf', 're_new', 'pi_refunded']) expect(await get(key)).toBe('source')
    expect(await get('pi_untouched')).toBe('target')
    expect(await metric()).toBe('payctl_read_your_writes_total 4')
    clock.advance(WINDOW)
    for (const key of ['pi_conf', 'cus_conf', 're_new', 'pi_refunded']) expect(await get(key)).toBe('target')
  })

  it('remembers a card decline (402 wrote the failed attempt) but not a write that failed', async () => {
    const {app: a, get, recent} = await appWith({writes: 'source', readsTargetPercent: 100})
    expect((await a.inject({method: 'POST', url: '/v1/payment_intents/pi_declined/capture', payload: {}})).statusCode).toBe(402)
    expect((await a.inject({method: 'POST', url: '/v1/payment_intents/pi_failed/cancel', payload: {}})).statusCode).toBe(500)
    expect(recent.stats().keys).toBe(1)
    expect(await get('pi_declined')).toBe('source')
    expect(await get('pi_failed')).toBe('target')
  })

  it('remembers nothing for a write refused at the gate', async () => {
    const {app: a, recent, clock, state} = await appWith({writes: 'paused', pausedFrom: 'source', holdMs: 100})
    const refused = a.inject({method: 'POST', url: '/v1/payment_intents/pi_held/confirm', payload: {}})
    while (state.snapshot().heldWrites === 0) await new Promise((resolve) => setImmediate(resolve))
    clock.advance(100)
    expect((await refused).statusCode).toBe(503)
    expect(recent.stats().keys).toBe(0)
  })

  it('remembers nothing with the window at 0 (PAYCTL_RUNTIME_RYW_MS=0)', async () => {
    const {app: a, get, recent} = await appWith({writes: 'source', readsTargetPercent: 100}, 0)
    expect((await a.inject({method: 'POST', url: '/v1/payment_intents/pi_conf/confirm', payload: {}})).statusCode).toBe(200)
    expect(recent.stats().keys).toBe(0)
    expect(await get('pi_conf')).toBe('target')
  })
})
