import {createServer} from 'node:net'
import type {ServerResponse} from 'node:http'
import {afterEach, describe, expect, it} from 'vitest'
import {PayctlError} from '../../../src/cli/errors.js'
import {type IterationContext, type LoadOptions, type Scenario, startLoad} from '../../../src/load/generator.js'
import {json, startServer, type TestServer, waitFor} from './http-server.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  servers.push(s)
  return s
}

function scenario(iteration: (ctx: IterationContext) => Promise<void>, name = 'test'): Scenario {
  return {name, description: 'test', prepare: () => iteration}
}

const getOk: Scenario = scenario(async (ctx) => {
  await ctx.request({name: 'GET /ok', method: 'GET', path: '/ok'})
})

function options(targets: string[], o: Partial<LoadOptions> = {}): LoadOptions {
  return {targets, ratePerSecond: 100, maxInFlight: 100, scenario: getOk, seed: 1, requestTimeoutMs: 2000, ...o}
}

/** A handler that holds every response until released. */
function holding(): {handler: (req: unknown, res: ServerResponse) => void; held: Array<() => void>; releaseAll: () => void} {
  const held: Array<() => void> = []
  return {
    held,
    handler: (_req, res) => {
      held.push(() => json(res, 200, {ok: true}))
    },
    releaseAll: () => {
      for (const release of held.splice(0)) release()
    },
  }
}

describe('startLoad: arrival rate', () => {
  it('holds 200 iterations/s over 2 s: started iterations track elapsed time, and the run starts exactly rate x duration', async () => {
    const s = await server()
    const run = startLoad(options([s.url], {ratePerSecond: 200, durationMs: 2000}))
    // mid-run: the count of started iterations against the elapsed scheduling time
    await waitFor(() => run.stats().iterations.started >= 150, '150 started iterations')
    const mid = run.stats()
    const expectedMid = (mid.schedulingMs * 200) / 1000
    expect(Math.abs(mid.iterations.started - expectedMid)).toBeLessThanOrEqual(3 + expectedMid * 0.02)
    expect(mid.running).toBe(true)

    const result = await run.finished
    expect(result.stopReason).toBe('duration')
    expect(result.iterations).toMatchObject({scheduled: 400, started: 400, completed: 400, failed: 0, dropped: 0})
    expect(result.schedulingMs).toBeGreaterThanOrEqual(1995)
    expect(result.achievedRate).toBeGreaterThan(190)
    expect(result.achievedRate).toBeLessThanOrEqual(201)
    expect(result.requests).toMatchObject({total: 400, failed: 0, byStatus: {'200': 400}})
    expect(result.requests.byEndpoint['GET /ok']).toMatchObject({total: 400, failed: 0})
    expect(result.latency.count).toBe(400)
    expect(result.latency.p50).toBeGreaterThan(0)
    expect(result.latency.p50).toBeLessThanOrEqual(result.latency.p99)
    expect(result.latency.p99).toBeLessThanOrEqual(result.latency.max)
    expect(s.seen).toHaveLength(400)
    // keep-alive: connections are reused
    expect(s.connections).toBeLessThan(50)
  })

  it('catches up after a stall by absolute time, but drops what is overdue by more than maxLagMs', async () => {
    const s = await server()
    let blocked = false
    const stalling = scenario(async (ctx) => {
      if (!blocked) {
        blocked = true
        // a 300 ms stall of the event loop (a synchronous burst of work in the generator's process)
        const until = performance.now() + 300
        while (performance.now() < until) {
          // busy
        }
      }
      await ctx.request({name: 'GET /ok', method: 'GET', path: '/ok'})
    })
    const result = await startLoad(options([s.url], {ratePerSecond: 200, durationMs: 600, scenario: stalling, maxLagMs: 100})).finished
    // every arrival came due once: started or dropped, none lost or doubled
    expect(result.iterations.scheduled).toBe(120)
    expect(result.iterations.started + result.iterations.dropped).toBe(120)
    // about (300 - 100) ms of arrivals were too late; the rest of the stall was caught up
    expect(result.iterations.droppedBy.lag).toBeGreaterThanOrEqual(30)
    expect(result.iterations.droppedBy.lag).toBeLessThanOrEqual(55)
    expect(result.iterations.droppedBy.maxInFlight).toBe(0)
    expect(result.scheduleLag.max).toBeGreaterThanOrEqual(90)
  })

  it('spreads iterations round-robin over the targets, and seeds each iteration by (seed, index)', async () => {
    const a = await server()
    const b = await server()
    const draws = (seed: number) => {
      const seen = new Map<number, number>()
      const sc = scenario(async (ctx) => {
        seen.set(ctx.iteration, ctx.rng.u32())
        await ctx.request({name: 'GET /ok', method: 'GET', path: '/ok'})
      })
      return {seen, run: startLoad(options([a.url, `${b.url}/`], {ratePerSecond: 200, durationMs: 50, scenario: sc, seed}))}
    }
    const first = draws(42)
    const result = await first.run.finished
    expect(result.iterations.started).toBe(10)
    expect(a.seen).toHaveLength(5)
    expect(b.seen).toHaveLength(5)
    expect(b.seen[0]?.path).toBe('/ok')
    const second = draws(42)
    await second.run.finished
    const third = draws(43)
    await third.run.finished
    expect([...second.seen.entries()].sort()).toEqual([...first.seen.entries()].sort())
    expect(third.seen.get(0)).not.toBe(first.seen.get(0))
  })

  it('refuses options that cannot run', () => {
    for (const bad of [{targets: []}, {targets: ['ftp://x']}, {ratePerSecond: 0}, {maxInFlight: 0}, {requestTimeoutMs: -1}, {durationMs: Number.NaN}]) {
      expect(() => startLoad(options(['http://127.0.0.1:1'], bad))).toThrow(PayctlError)
    }
  })
})

describe('startLoad: max in flight', () => {
  it('drops and counts the iterations that come due while maxInFlight are running, never queues them', async () => {
    const h = holding()
    const s = await server(h.handler)
    const run = startLoad(options([s.url], {ratePerSecond: 200, maxInFlight: 5}))
    await waitFor(() => h.held.length === 5 && run.stats().iterations.dropped >= 20, '5 held requests and 20 drops')
    const during = run.stats()
    expect(during.inFlight).toBe(5)
    expect(during.iterations.started).toBe(5)
    expect(during.iterations.droppedBy.maxInFlight).toBe(during.iterations.dropped)
    const stopping = run.stop()
    h.releaseAll()
    const result = await stopping
    expect(result.stopReason).toBe('stopped')
    expect(result.iterations.started).toBe(5)
    expect(result.iterations.completed).toBe(5)
    expect(result.iterations.dropped).toBeGreaterThanOrEqual(20)
    expect(result.iterations.scheduled).toBe(result.iterations.started + result.iterations.dropped)
    expect(s.maxInFlight).toBe(5)
    expect(s.seen).toHaveLength(5)
  })
})

describe('startLoad: failures', () => {
  it('counts failed requests by status and error kind, per endpoint, and accepts statuses the request expects', async () => {
    const hold = holding()
    const s = await server((req, res) => {
      switch (req.path) {
        case '/ok':
        case '/check':
          return json(res, 200, {status: 'succeeded'})
        case '/declined':
          return json(res, 402, {error: {type: 'card_error', code: 'card_declined', message: 'Your card was declined.'}})
        case '/missing':
          return json(res, 404, {error: {type: 'invalid_request_error', code: 'resource_missing', message: "No such customer: 'cus_x'"}})
        case '/boom':
          res.writeHead(503)
          return res.end()
        case '/badjson':
          res.writeHead(200, {'content-type': 'application/json'})
          return res.end('{"half":')
        case '/slow':
          return hold.handler(req, res)
        default:
          return json(res, 500, {})
      }
    })
    const paths = ['ok', 'declined', 'missing', 'boom', 'badjson', 'slow', 'check'] as const
    const sc = scenario(async (ctx) => {
      const p = paths[ctx.iteration % paths.length] as (typeof paths)[number]
      await ctx.request({
        name: `GET /${p}`,
        method: 'GET',
        path: `/${p}`,
        ...(p === 'declined' ? {expect: [402]} : {}),
        ...(p === 'check' ? {check: (body) => ((body as {status?: string}).status === 'canceled' ? null : 'not canceled')} : {}),
      })
    })
    const result = await startLoad(options([s.url], {ratePerSecond: 70, durationMs: 200, scenario: sc, requestTimeoutMs: 150})).finished
    expect(result.iterations).toMatchObject({started: 14, completed: 4, failed: 10, dropped: 0})
    expect(result.requests.total).toBe(14)
    expect(result.requests.failed).toBe(10)
    expect(result.requests.failedByKind).toEqual({'404': 2, '503': 2, invalid_json: 2, timeout: 2, check: 2})
    expect(result.requests.byStatus).toEqual({'200': 6, '402': 2, '404': 2, '503': 2, timeout: 2})
    expect(result.requests.byEndpoint['GET /declined']).toMatchObject({total: 2, failed: 0, byStatus: {'402': 2}})
    expect(result.requests.byEndpoint['GET /missing']).toMatchObject({total: 2, failed: 2, byStatus: {'404': 2}})
    expect(result.requests.byEndpoint['GET /slow']).toMatchObject({total: 2, failed: 2, byStatus: {timeout: 2}})
    expect(result.requests.byEndpoint['GET /slow']?.latency.count).toBe(0)
    expect(result.failureSamples.map((f) => f.message)).toContain("404 resource_missing: No such customer: 'cus_x'")
    hold.releaseAll()
  })

  it('counts a refused connection by its error code, and an error the scenario throws itself', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer()
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as {port: number}).port
        probe.close(() => resolve(p))
      })
    })
    const refused = await startLoad(options([`http://127.0.0.1:${port}`], {ratePerSecond: 100, durationMs: 30})).finished
    expect(refused.iterations).toMatchObject({started: 3, failed: 3})
    expect(refused.requests.failedByKind).toEqual({econnrefused: 3})

    const s = await server()
    const buggy = scenario(async (ctx) => {
      await ctx.request({name: 'GET /ok', method: 'GET', path: '/ok'})
      throw new TypeError('the scenario read a field that is not there')
    })
    const result = await startLoad(options([s.url], {ratePerSecond: 100, durationMs: 20, scenario: buggy})).finished
    expect(result.iterations).toMatchObject({started: 2, failed: 2})
    expect(result.requests.failed).toBe(0)
    expect(result.requests.failedByKind).toEqual({scenario: 2})
    expect(result.failureSamples[0]).toMatchObject({kind: 'scenario', message: 'the scenario read a field that is not there'})
  })

  it('sends JSON bodies with a unique Idempotency-Key on every POST unless told otherwise', async () => {
    const s = await server()
    const sc = scenario(async (ctx) => {
      await ctx.request({name: 'POST /a', method: 'POST', path: '/a', body: {n: ctx.iteration}})
      await ctx.request({name: 'POST /b', method: 'POST', path: '/b', body: {}, idempotencyKey: 'fixed-key'})
      await ctx.request({name: 'POST /c', method: 'POST', path: '/c', idempotencyKey: false})
    })
    await startLoad(options([s.url], {ratePerSecond: 100, durationMs: 50, scenario: sc})).finished
    const a = s.seen.filter((r) => r.path === '/a')
    expect(a).toHaveLength(5)
    expect(new Set(a.map((r) => r.headers['idempotency-key'])).size).toBe(5)
    expect(a.every((r) => r.headers['content-type'] === 'application/json' && /^\{"n":\d\}$/.test(r.body))).toBe(true)
    expect(s.seen.filter((r) => r.path === '/b').every((r) => r.headers['idempotency-key'] === 'fixed-key')).toBe(true)
    expect(s.seen.filter((r) => r.path === '/c').every((r) => r.headers['idempotency-key'] === undefined)).toBe(true)
  })
})

describe('startLoad: stop and abort', () => {
  it('stop() stops scheduling and resolves only after the in-flight iterations end', async () => {
    const h = holding()
    const s = await server(h.handler)
    const run = startLoad(options([s.url], {ratePerSecond: 200, maxInFlight: 3}))
    await waitFor(() => h.held.length === 3, '3 held requests')
    const events: string[] = []
    const stopping = run.stop().then((r) => {
      events.push('stopped')
      return r
    })
    // let every pending callback run: the stop must still be waiting for the three requests
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual([])
    expect(run.stats()).toMatchObject({running: true, inFlight: 3, stopReason: 'stopped'})
    for (const release of h.held.splice(0)) {
      events.push('released')
      release()
    }
    const result = await stopping
    expect(events).toEqual(['released', 'released', 'released', 'stopped'])
    expect(result.iterations).toMatchObject({started: 3, completed: 3, failed: 0})
    expect(result.requests.total).toBe(3)
    expect(run.stats()).toMatchObject({running: false, inFlight: 0})
    // no iteration started after the stop, and stop() again gives the same result
    expect(s.seen).toHaveLength(3)
    expect(await run.stop()).toEqual(result)
  })

  it('an aborted signal stops scheduling and cuts in-flight requests short, counted as interrupted, not failed', async () => {
    const h = holding()
    const s = await server(h.handler)
    const ac = new AbortController()
    const run = startLoad(options([s.url], {ratePerSecond: 200, maxInFlight: 4, signal: ac.signal}))
    await waitFor(() => h.held.length === 4, '4 held requests')
    ac.abort()
    const result = await run.finished
    expect(result.stopReason).toBe('aborted')
    expect(result.iterations).toMatchObject({started: 4, completed: 0, failed: 0, interrupted: 4})
    expect(result.requests).toMatchObject({total: 0, failed: 0, aborted: 4})
  })
})
