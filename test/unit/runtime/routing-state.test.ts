import {describe, expect, it} from 'vitest'
import {INITIAL_ROUTING, type RoutingDesired} from '../../../src/control/routing-store.js'
import {RoutingState, type WriteTicket} from '../../../runtime/src/data/routing-state.js'
import {WritesUnavailableError} from '../../../runtime/src/domain/errors.js'
import {ManualClock} from './manual-clock.js'

const desired = (change: Partial<RoutingDesired>): RoutingDesired => ({...INITIAL_ROUTING, ...change})

function setup() {
  const clock = new ManualClock()
  const state = new RoutingState({clock})
  const acks: number[] = []
  state.onApplied((v) => acks.push(v))
  const read = (version: number, change: Partial<RoutingDesired> = {}, sentAt = clock.now()) => state.observe({version, desired: desired(change)}, sentAt)
  return {clock, state, acks, read}
}

/** The outcome of a gate admission, observable without awaiting it. */
function track(p: Promise<WriteTicket>) {
  const t: {ticket: WriteTicket | null; error: unknown} = {ticket: null, error: null}
  p.then(
    (ticket) => (t.ticket = ticket),
    (error: unknown) => (t.error = error),
  )
  return t
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('RoutingState write gate', () => {
  it('admits writes at once on the side the state names, and acknowledges a plain version at once', async () => {
    const {state, acks, read} = setup()
    read(1, {writes: 'source'})
    const ticket = await state.admit()
    expect(ticket).toMatchObject({side: 'source', version: 1, held: false, waitedMs: 0})
    expect(state.appliedVersion).toBe(1)
    expect(acks).toEqual([1])
  })

  it('holds writes while paused, acknowledges the pause only once in-flight writes ended, and releases held writes to the new side', async () => {
    const {clock, state, acks, read} = setup()
    read(4, {writes: 'source'})
    const first = await state.admit()
    const second = await state.admit()

    read(5, {writes: 'paused', pausedFrom: 'source', holdMs: 2000})
    expect(state.appliedVersion).toBe(4)
    const held = track(state.admit())
    await settle()
    expect(held.ticket).toBeNull()
    expect(state.snapshot()).toMatchObject({writes: 'paused', inFlightWrites: 2, heldWrites: 1, appliedVersion: 4})

    // a write admitted before the pause may finish on its side
    expect(() => state.check(first)).not.toThrow()
    state.finish(first)
    expect(state.appliedVersion).toBe(4)
    state.finish(second)
    expect(state.appliedVersion).toBe(5)
    expect(acks).toEqual([4, 5])

    clock.advance(700)
    read(6, {writes: 'target'})
    await settle()
    expect(held.ticket).toMatchObject({side: 'target', version: 6, held: true, waitedMs: 700})
    expect(state.appliedVersion).toBe(6)
    expect(state.snapshot().heldWrites).toBe(0)
  })

  it('answers 503 writes_paused to a write still held after holdMs, and not one millisecond earlier', async () => {
    const {clock, state, read} = setup()
    read(1, {writes: 'paused', pausedFrom: 'source', holdMs: 500, leaseMs: 60_000})
    const held = track(state.admit())
    clock.advance(499)
    await settle()
    expect(held.error).toBeNull()
    clock.advance(1)
    await settle()
    expect(held.error).toBeInstanceOf(WritesUnavailableError)
    expect(held.error).toMatchObject({status: 503, code: 'writes_paused', retryAfterSeconds: 1})
    expect(state.snapshot().heldWrites).toBe(0)
  })

  it('a pause that ends before holdMs leaves no timer behind', () => {
    const {clock, state, read} = setup()
    read(1, {writes: 'paused', holdMs: 2000})
    void state.admit()
    expect(clock.pending).toBe(1)
    read(2, {writes: 'source'})
    expect(clock.pending).toBe(0)
  })

  it('writes that moved side under a running request are refused, and the new version waits for that request', async () => {
    const {state, read} = setup()
    read(1, {writes: 'source'})
    const ticket = await state.admit()
    read(2, {writes: 'target'})
    expect(state.appliedVersion).toBe(1)
    expect(() => state.check(ticket)).toThrow(expect.objectContaining({code: 'writes_moved', status: 503}) as Error)
    state.finish(ticket)
    expect(state.appliedVersion).toBe(2)
    expect(() => state.check(ticket)).toThrow(/after its request ended/)
  })

  it('ignores a version that goes backwards', () => {
    const {clock, state, read} = setup()
    read(5, {writes: 'target'})
    clock.advance(900)
    expect(read(3, {writes: 'source'})).toBe(false)
    expect(state.version).toBe(5)
    expect(state.primarySide()).toBe('target')
    // and it does not count as a read for the lease either
    clock.advance(101)
    expect(state.fenced).toBe(true)
  })
})

describe('RoutingState fencing', () => {
  it('is fenced before its first read: writes are held and then refused with writes_fenced', async () => {
    const {clock, state} = setup()
    expect(state.fenced).toBe(true)
    expect(state.mode()).toBe('fenced')
    const held = track(state.admit())
    clock.advance(INITIAL_ROUTING.holdMs)
    await settle()
    expect(held.error).toMatchObject({status: 503, code: 'writes_fenced'})
  })

  it('fences itself once the last successful read was sent more than leaseMs ago, and lifts the fence on the next read', async () => {
    const {clock, state, read} = setup()
    read(1, {writes: 'source', leaseMs: 1000, holdMs: 5000})
    const ticket = await state.admit()
    clock.advance(1000)
    expect(state.fenced).toBe(false)
    expect(() => state.check(ticket)).not.toThrow()
    clock.advance(1)
    expect(state.fenced).toBe(true)
    expect(state.mode()).toBe('fenced')
    expect(state.writableSide()).toBeNull()
    expect(() => state.check(ticket)).toThrow(expect.objectContaining({code: 'writes_fenced'}) as Error)

    const held = track(state.admit())
    clock.advance(300)
    read(1, {writes: 'source', leaseMs: 1000, holdMs: 5000})
    await settle()
    expect(state.fenced).toBe(false)
    expect(held.ticket).toMatchObject({side: 'source', held: true, waitedMs: 300})
  })

  it('fences itself when reads succeed but no heartbeat did within leaseMs (payctl would take it for gone), and lifts the fence on the next heartbeat', async () => {
    const {clock, state, read} = setup()
    read(1, {writes: 'source', leaseMs: 1000, holdMs: 5000})
    state.requireHeartbeats()
    expect(state.fenced).toBe(false) // the first heartbeat gets a lease from now
    clock.advance(1001)
    read(1, {writes: 'source', leaseMs: 1000, holdMs: 5000})
    expect(state.fenced).toBe(true) // reads go on, but no heartbeat got through in a lease
    state.heartbeatSucceeded(clock.now())
    expect(state.fenced).toBe(false)
    clock.advance(900)
    read(1, {writes: 'source', leaseMs: 1000, holdMs: 5000})
    clock.advance(101)
    expect(state.fenced).toBe(true) // the read is fresh, the heartbeat 1001 ms old
    const held = track(state.admit())
    clock.advance(50)
    state.heartbeatSucceeded(clock.now())
    await settle()
    expect(state.fenced).toBe(false)
    expect(held.ticket).toMatchObject({side: 'source', held: true, waitedMs: 50})
  })

  it('counts the lease from when the read was sent, not from when its answer arrived', () => {
    const {clock, state} = setup()
    clock.advance(800) // the read was sent at 0 and answered at 800
    state.observe({version: 1, desired: desired({leaseMs: 1000})}, 0)
    clock.advance(200)
    expect(state.fenced).toBe(false)
    clock.advance(1)
    expect(state.fenced).toBe(true)
  })
})
