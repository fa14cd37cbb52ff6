import {afterEach, describe, expect, it} from 'vitest'
import {PayctlError} from '../../../src/cli/errors.js'
import {type LoadResult, type Scenario, startLoad} from '../../../src/load/generator.js'
import {checkoutScenario, SCENARIO_NAMES, scenarioByName, writesScenario} from '../../../src/load/scenarios.js'
import {FakePaymentsApi} from './fake-payments-api.js'
import {startServer, type TestServer} from './http-server.js'

const servers: TestServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** `iterations` at 1000/s with no limit in flight (none dropped), unless a smaller maxInFlight is asked for. */
async function against(scenario: Scenario, seed = 5, iterations = 300, maxInFlight = 10_000): Promise<{api: FakePaymentsApi; result: LoadResult}> {
  const api = new FakePaymentsApi()
  const s = await startServer(api.handler)
  servers.push(s)
  const result = await startLoad({targets: [s.url], ratePerSecond: 1000, durationMs: iterations, maxInFlight, scenario, seed, requestTimeoutMs: 5000}).finished
  return {api, result}
}

function ops(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([k]) => k.startsWith('op:')))
}

describe('load scenarios against a strict fake of the payments API', () => {
  it('writes: every operation runs, nothing fails, every POST has its own Idempotency-Key, declines are a small counted share', async () => {
    const {api, result} = await against(writesScenario())
    expect(result.failureSamples).toEqual([])
    expect(result.iterations).toMatchObject({started: 300, completed: 300, failed: 0, dropped: 0})
    expect(result.requests.failed).toBe(0)
    expect(api.postsWithoutKey).toBe(0)
    expect(api.reusedKeys).toBe(0)
    // every POST has its own key; the flows' reads (result pages, saved cards) are GETs
    const posts = Object.entries(result.requests.byEndpoint).filter(([name]) => name.startsWith('POST ')).reduce((n, [, e]) => n + e.total, 0)
    expect(api.keys.size).toBe(posts)
    expect(result.requests.byEndpoint['GET /v1/payment_intents/:id']?.total ?? 0).toBeGreaterThan(0)
    expect(api.gets).toBe(0)
    for (const op of ['new_customer', 'add_card', 'checkout', 'refund', 'wallet', 'decline']) expect(result.counters[`op:${op}`], op).toBeGreaterThan(0)
    for (const c of ['refund:full', 'refund:partial', 'wallet:top_up', 'wallet:pay', 'checkout:manual_partial', 'checkout:manual_full', 'checkout:void_authorization', 'checkout:cancel_before_confirm']) {
      expect(result.counters[c], c).toBeGreaterThan(0)
    }
    // declines: asked for on purpose, each one a 402 on the decline endpoint, and few
    const declines = result.counters.declined_on_purpose ?? 0
    expect(declines).toBeGreaterThan(0)
    expect(result.requests.byStatus['402']).toBe(declines)
    expect(result.requests.byEndpoint['POST /v1/payment_intents/:id/confirm (decline)']).toMatchObject({total: declines, failed: 0, byStatus: {'402': declines}})
    expect(declines / result.iterations.started).toBeLessThan(0.1)
    // the rows the fake holds: payments captured, refunds never above what was received
    const intents = [...api.intents.values()]
    expect(intents.some((i) => i.status === 'canceled')).toBe(true)
    expect(intents.some((i) => i.status === 'succeeded' && i.received < i.amount)).toBe(true)
    expect(intents.every((i) => i.refunded <= i.received)).toBe(true)
    expect([...api.wallets.values()].every((b) => b >= 0)).toBe(true)
  })

  it('writes: the same seed picks the same operation for each iteration', async () => {
    const first = await against(writesScenario(), 11, 150)
    const second = await against(writesScenario(), 11, 150)
    const other = await against(writesScenario(), 12, 150)
    expect(ops(second.result.counters)).toEqual(ops(first.result.counters))
    expect(ops(other.result.counters)).not.toEqual(ops(first.result.counters))
  })

  it('checkout: customers are created or reused, cards attached, intents confirmed, captured in full or part, canceled, a few declined', async () => {
    const {api, result} = await against(checkoutScenario())
    expect(result.failureSamples).toEqual([])
    expect(result.requests.failed).toBe(0)
    expect(api.postsWithoutKey).toBe(0)
    for (const o of ['automatic', 'manual_full', 'manual_partial', 'cancel_before_confirm', 'void_authorization', 'decline']) expect(result.counters[`checkout:${o}`], o).toBeGreaterThan(0)
    expect(result.requests.byEndpoint['POST /v1/payment_intents/:id/capture']?.total).toBeGreaterThan(0)
    expect(result.requests.byEndpoint['POST /v1/refunds']).toBeUndefined()
    // the mix is data: a checkout with declines turned off asks for none
    const none = await against(checkoutScenario({outcomes: {automatic: 1, manual_full: 0, manual_partial: 0, cancel_before_confirm: 0, void_authorization: 0, decline: 0}}), 5, 50)
    expect(none.result.counters['checkout:automatic']).toBe(50)
    expect(none.result.counters.declined_on_purpose).toBeUndefined()
  })

  it('checkout: returning customers come from the run\'s pool once it has some', async () => {
    // one iteration at a time, so each sees the customers the ones before it created
    const {api, result} = await against(checkoutScenario(), 3, 200, 1)
    expect(result.iterations.started).toBeGreaterThanOrEqual(20)
    expect(result.requests.failed).toBe(0)
    // 30% new customers (and the first one)
    expect(api.customers.size).toBeLessThan(result.iterations.started * 0.6)
  })

  it('names the scenarios and refuses an unknown one', () => {
    expect(SCENARIO_NAMES.map((n) => scenarioByName(n).name)).toEqual(['checkout', 'writes'])
    expect(() => scenarioByName('browse')).toThrow(PayctlError)
  })
})
