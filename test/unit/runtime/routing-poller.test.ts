import pino from 'pino'
import {describe, expect, it} from 'vitest'
import {INITIAL_ROUTING, type RoutingDesired, type RuntimeHeartbeatDetail} from '../../../src/control/routing-store.js'
import {RoutingPoller} from '../../../runtime/src/data/routing.js'
import {RoutingState} from '../../../runtime/src/data/routing-state.js'
import {ManualClock} from './manual-clock.js'

type Answer = {version: number; desired: Partial<RoutingDesired>} | {error: {errno?: number; code?: string}}

interface Heartbeat {
  instanceId: string
  applied: number | null
  detail: RuntimeHeartbeatDetail
}

/** A control store: answers the routing read with `answer`, records heartbeats and leaves. */
function controlStore(initial: Answer) {
  const s = {
    answer: initial,
    heartbeats: [] as Heartbeat[],
    left: [] as string[],
    statements: [] as string[],
    onHeartbeat: (_h: Heartbeat): void => undefined,
    query: async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
      await Promise.resolve()
      s.statements.push(sql)
      if (sql.startsWith('SELECT version, desired FROM `payctl_control`.`routing_state`')) {
        const a = s.answer
        if ('error' in a) throw Object.assign(new Error('control store failure'), a.error)
        return [{version: String(a.version), desired: JSON.stringify({...INITIAL_ROUTING, ...a.desired})}] as T[]
      }
      if (sql.startsWith('INSERT INTO `payctl_control`.`runtime_heartbeats`')) {
        if ('error' in s.answer) throw Object.assign(new Error('control store failure'), s.answer.error)
        const h = {instanceId: String(params[0]), applied: params[3] as number | null, detail: JSON.parse(String(params[4])) as RuntimeHeartbeatDetail}
        s.heartbeats.push(h)
        s.onHeartbeat(h)
        return []
      }
      if (sql.startsWith('DELETE FROM `payctl_control`.`runtime_heartbeats`')) {
        s.left.push(String(params[0]))
        return []
      }
      throw new Error(`unexpected statement ${sql}`)
    },
  }
  return s
}

function setup(initial: Answer) {
  const clock = new ManualClock()
  const state = new RoutingState({clock})
  const store = controlStore(initial)
  const poller = new RoutingPoller({
    query: store.query,
    database: 'payctl_control',
    state,
    instanceId: 'rt-7',
    host: 'app-host',
    pid: 4242,
    logger: pino({level: 'silent'}),
    detail: () => ({url: 'http://127.0.0.1:18080', shadow: {matched: 3, mismatched: 1, errors: 0, examples: []}}),
    clock,
  })
  return {clock, state, store, poller}
}

const UNREACHABLE = {error: {code: 'ECONNREFUSED'}}

describe('RoutingPoller', () => {
  it('reads the state and heartbeats the applied version with the instance detail', async () => {
    const {state, store, poller} = setup({version: 3, desired: {writes: 'source', readsTargetPercent: 25, shadowPercent: 5}})
    await poller.tick()
    expect(state.mode()).toBe('source')
    expect(store.heartbeats).toEqual([
      {
        instanceId: 'rt-7',
        applied: 3,
        detail: {
          url: 'http://127.0.0.1:18080',
          writes: 'source',
          readsTargetPercent: 25,
          shadowPercent: 5,
          inFlightWrites: 0,
          heldWrites: 0,
          fenced: false,
          lastReadAgeMs: 0,
          shadow: {matched: 3, mismatched: 1, errors: 0, examples: []},
        },
      },
    ])
  })

  it('treats a control store that does not exist yet as "no migration": writes on the source, no heartbeat', async () => {
    for (const errno of [1049, 1146]) {
      const {state, store, poller} = setup({error: {errno, code: errno === 1049 ? 'ER_BAD_DB_ERROR' : 'ER_NO_SUCH_TABLE'}})
      await poller.tick()
      expect(state.fenced).toBe(false)
      expect(state.writableSide()).toBe('source')
      expect(state.version).toBe(0)
      expect(store.heartbeats).toEqual([])
    }
  })

  it('starts fenced when the control store cannot be reached, and opens writes on the first successful read', async () => {
    const {state, store, poller} = setup(UNREACHABLE)
    await poller.tick()
    expect(state.fenced).toBe(true)
    expect(state.writableSide()).toBeNull()
    expect(store.heartbeats).toEqual([])
    store.answer = {version: 9, desired: {writes: 'target'}}
    await poller.tick()
    expect(state.writableSide()).toBe('target')
    expect(store.heartbeats.at(-1)).toMatchObject({applied: 9, detail: {writes: 'target', fenced: false}})
  })

  it('fences itself only after leaseMs without a successful read, and lifts the fence when a read succeeds', async () => {
    const {clock, state, store, poller} = setup({version: 2, desired: {writes: 'source', leaseMs: 1000}})
    await poller.tick()
    const ticket = await state.admit()
    store.answer = {error: {code: 'PROTOCOL_SEQUENCE_TIMEOUT'}}
    for (let t = 100; t <= 1000; t += 100) {
      clock.advance(100)
      await poller.tick()
      expect(state.fenced, `at ${t} ms`).toBe(false)
    }
    clock.advance(1)
    expect(state.fenced).toBe(true)
    expect(() => state.check(ticket)).toThrow(expect.objectContaining({code: 'writes_fenced'}) as Error)
    const heartbeats = store.heartbeats.length
    await poller.tick()
    expect(store.heartbeats).toHaveLength(heartbeats)

    store.answer = {version: 2, desired: {writes: 'source', leaseMs: 1000}}
    await poller.tick()
    expect(state.fenced).toBe(false)
    expect(() => state.check(ticket)).not.toThrow()
  })

  it('a control store that disappears after a real version was read does not reopen writes on the source', async () => {
    const {clock, state, store, poller} = setup({version: 5, desired: {writes: 'target', leaseMs: 1000}})
    await poller.tick()
    store.answer = {error: {errno: 1146, code: 'ER_NO_SUCH_TABLE'}}
    clock.advance(1001)
    await poller.tick()
    expect(state.fenced).toBe(true)
    expect(state.version).toBe(5)
    expect(state.primarySide()).toBe('target')
  })

  it('acknowledges a pause in a heartbeat as soon as the last in-flight write ends, without waiting for the next tick', async () => {
    const {state, store, poller} = setup({version: 1, desired: {writes: 'source'}})
    await poller.start()
    const ticket = await state.admit()
    store.answer = {version: 2, desired: {writes: 'paused', pausedFrom: 'source'}}
    await poller.tick()
    expect(store.heartbeats.at(-1)).toMatchObject({applied: 1, detail: {writes: 'paused', inFlightWrites: 1}})

    const acked = new Promise<Heartbeat>((resolve) => (store.onHeartbeat = (h) => h.applied === 2 && resolve(h)))
    state.finish(ticket)
    expect((await acked).detail).toMatchObject({writes: 'paused', inFlightWrites: 0})
    await poller.stop()
  })

  it('polls again pollMs after a read ends, never two at once, and leaves the instance list when stopped', async () => {
    const {clock, store, poller} = setup({version: 1, desired: {}})
    await poller.start()
    const reads = () => store.statements.filter((s) => s.startsWith('SELECT')).length
    expect(reads()).toBe(1)
    expect(clock.pending).toBe(1)
    clock.advance(99)
    expect(reads()).toBe(1)
    const next = new Promise<void>((resolve) => (store.onHeartbeat = () => resolve()))
    clock.advance(1)
    await next
    expect(reads()).toBe(2)
    await poller.stop()
    expect(store.left).toEqual(['rt-7'])
    expect(clock.pending).toBe(0)
  })
})
