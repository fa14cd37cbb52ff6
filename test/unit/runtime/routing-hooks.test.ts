// The write gate as Fastify hooks, on a bare app with fake databases: the request context survives
// body parsing, held writes are released to the new side or refused with 503 + Retry-After, and a
// pause is acknowledged only after the write that was running when it came has answered.
import {request} from 'node:http'
import Fastify, {type FastifyInstance} from 'fastify'
import {afterEach, describe, expect, it} from 'vitest'
import {INITIAL_ROUTING, type RoutingDesired} from '../../../src/control/routing-store.js'
import {RoutedRouter} from '../../../runtime/src/data/router.js'
import {RoutingState, type WriteTicket} from '../../../runtime/src/data/routing-state.js'
import {ShadowReads} from '../../../runtime/src/data/shadow.js'
import {installErrorHandling} from '../../../runtime/src/http/errors.js'
import {RuntimeMetrics} from '../../../runtime/src/http/metrics.js'
import {installRouting} from '../../../runtime/src/http/routing.js'
import {FakeDb} from './fake-db.js'
import {ManualClock} from './manual-clock.js'

/** Tells the test when a request has reached the gate. */
class GateState extends RoutingState {
  #waiters: Array<() => void> = []
  arrivals = 0

  override admit(): Promise<WriteTicket> {
    const p = super.admit()
    this.arrivals++
    for (const w of this.#waiters.splice(0)) w()
    return p
  }

  arrived(n: number): Promise<void> {
    if (this.arrivals >= n) return Promise.resolve()
    return new Promise((resolve) => this.#waiters.push(() => void this.arrived(n).then(resolve)))
  }
}

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return {promise, resolve}
}

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

async function setup(change: Partial<RoutingDesired>) {
  const clock = new ManualClock()
  const state = new GateState({clock})
  const read = (version: number, c: Partial<RoutingDesired>) => state.observe({version, desired: {...INITIAL_ROUTING, ...c}}, clock.now())
  read(1, change)
  const router = new RoutedRouter(new FakeDb('source'), new FakeDb('target'), state, new ShadowReads({clock}))
  const metrics = new RuntimeMetrics()
  const a = Fastify()
  installErrorHandling(a, metrics)
  installRouting(a, router, metrics)
  metrics.watchRouting(state)
  const inHandler: {wait: Promise<void> | null; entered: () => void} = {wait: null, entered: () => undefined}
  a.post<{Body: {amount: number}}>('/v1/things', async (req) => {
    inHandler.entered()
    if (inHandler.wait !== null) await inHandler.wait
    const w = router.writer()
    await w.execute({kind: 'execute', sql: 'INSERT', params: [], op: 'thing.insert'})
    return {writer: w.side, reader: router.reader('pi_1').side, amount: req.body.amount}
  })
  a.get('/v1/things', () => ({reader: router.reader('pi_1').side, writer: router.writer().side}))
  await a.ready()
  app = a
  return {app: a, clock, state, read, metrics, inHandler}
}

const post = (a: FastifyInstance) => a.inject({method: 'POST', url: '/v1/things', payload: {amount: 5}})
const metric = async (m: RuntimeMetrics, line: RegExp) => (await m.registry.metrics()).split('\n').find((l) => line.test(l))

describe('write gate hooks', () => {
  it('runs a write request on its admitted side, with the context intact after the body was parsed', async () => {
    const {app: a} = await setup({writes: 'source', readsTargetPercent: 100})
    const r = await post(a)
    expect(r.statusCode).toBe(200)
    // reads of a write request stay on its side, although reads are 100% on the target
    expect(r.json()).toEqual({writer: 'source', reader: 'source', amount: 5})
    expect((await a.inject({method: 'GET', url: '/v1/things'})).json()).toEqual({reader: 'target', writer: 'source'})
  })

  it('keeps the context over a real socket when the body arrives in pieces', async () => {
    const {app: a} = await setup({writes: 'target'})
    await a.listen({host: '127.0.0.1', port: 0})
    const port = (a.server.address() as {port: number}).port
    const body = '{"amount":7}'
    const answer = new Promise<{status: number; text: string}>((resolve, reject) => {
      const req = request({host: '127.0.0.1', port, path: '/v1/things', method: 'POST', headers: {'content-type': 'application/json', 'content-length': String(body.length)}}, (res) => {
        let text = ''
        res.on('data', (d: Buffer) => (text += d.toString()))
        res.on('end', () => resolve({status: res.statusCode ?? 0, text}))
      })
      req.on('error', reject)
      // the rest of the body goes in a second write, after the first was flushed
      req.write(body.slice(0, 5), () => req.end(body.slice(5)))
    })
    const r = await answer
    expect(r.status).toBe(200)
    expect(JSON.parse(r.text)).toEqual({writer: 'target', reader: 'target', amount: 7})
  })

  it('holds a write while paused and releases it to the side writes reopen on', async () => {
    const {app: a, clock, state, read, metrics} = await setup({writes: 'paused', pausedFrom: 'source', holdMs: 2000})
    const pending = post(a)
    await state.arrived(1)
    expect(state.snapshot().heldWrites).toBe(1)
    clock.advance(1500)
    read(2, {writes: 'target'})
    const r = await pending
    expect(r.statusCode).toBe(200)
    expect(r.json()).toMatchObject({writer: 'target', reader: 'target'})
    expect(await metric(metrics, /^payctl_write_gate_wait_seconds_count/)).toBe('payctl_write_gate_wait_seconds_count 1')
    expect(await metric(metrics, /^payctl_write_gate_rejected_total/)).toBe('payctl_write_gate_rejected_total 0')
  })

  it('answers 503 with Retry-After and an API error once holdMs has passed, having run nothing', async () => {
    const {app: a, clock, state, metrics, inHandler} = await setup({writes: 'paused', pausedFrom: 'source', holdMs: 800})
    let ran = false
    inHandler.entered = () => (ran = true)
    const pending = post(a)
    await state.arrived(1)
    clock.advance(800)
    const r = await pending
    expect(r.statusCode).toBe(503)
    expect(r.headers['retry-after']).toBe('1')
    expect(r.json()).toEqual({error: {type: 'api_error', code: 'writes_paused', message: expect.stringContaining('paused') as string}})
    expect(ran).toBe(false)
    expect(await metric(metrics, /^payctl_write_gate_rejected_total/)).toBe('payctl_write_gate_rejected_total 1')
    expect(await metric(metrics, /^payctl_writes_mode\{mode="paused"\}/)).toBe('payctl_writes_mode{mode="paused"} 1')
  })

  it('acknowledges a pause only after the write running when it came has answered', async () => {
    const {app: a, state, read, inHandler, metrics} = await setup({writes: 'source'})
    const gate = deferred()
    const entered = deferred()
    inHandler.wait = gate.promise
    inHandler.entered = entered.resolve
    const running = post(a)
    await entered.promise
    read(2, {writes: 'paused', pausedFrom: 'source'})
    expect(state.appliedVersion).toBe(1)
    expect(state.snapshot().inFlightWrites).toBe(1)
    expect(await metric(metrics, /^payctl_routing_version/)).toBe('payctl_routing_version 1')
    gate.resolve()
    const r = await running
    // admitted before the pause: it finishes on the source
    expect(r.json()).toMatchObject({writer: 'source'})
    expect(state.appliedVersion).toBe(2)
    expect(state.snapshot().inFlightWrites).toBe(0)
  })

  it('refuses the statements of a running write once the instance is fenced', async () => {
    const {app: a, clock, inHandler} = await setup({writes: 'source', leaseMs: 1000})
    const gate = deferred()
    const entered = deferred()
    inHandler.wait = gate.promise
    inHandler.entered = entered.resolve
    const running = post(a)
    await entered.promise
    clock.advance(1001)
    gate.resolve()
    const r = await running
    expect(r.statusCode).toBe(503)
    expect(r.headers['retry-after']).toBe('1')
    expect(r.json()).toMatchObject({error: {code: 'writes_fenced'}})
  })

  it('serves reads while writes are paused', async () => {
    const {app: a} = await setup({writes: 'paused', pausedFrom: 'source'})
    const r = await a.inject({method: 'GET', url: '/v1/things'})
    expect(r.statusCode).toBe(200)
    expect(r.json()).toEqual({reader: 'source', writer: 'source'})
  })
})
