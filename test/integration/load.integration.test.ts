/**
 * The load generator against the real payment service: one runtime instance (dist-runtime/, built
 * by the global setup) on the suite's sandbox source, driven by the `writes` scenario at 50
 * iterations/s for 3 s. Every request must succeed (declines asked for on purpose are expected
 * 402s), and the source's tables must have grown. Only the API writes, so the source stays
 * consistent (the ledger still balances) and the target database is never touched.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, test} from 'vitest'
import {startLoad} from '../../src/load/generator.js'
import {evaluateThresholds, renderLoadResult, thresholdsPassed} from '../../src/load/report.js'
import {writesScenario} from '../../src/load/scenarios.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')
const TABLES = ['customers', 'payment_methods', 'payment_intents', 'payment_attempts', 'refunds', 'wallet_transactions'] as const
type Table = (typeof TABLES)[number]

let work: string
let instances: SpawnedInstance[] = []
let source: mysql.Pool

async function counts(): Promise<Record<Table, number>> {
  const out = {} as Record<Table, number>
  for (const t of TABLES) {
    const [rows] = await source.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${t}\``)
    out[t] = Number(rows[0]?.n)
  }
  return out
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-load-it-'))
  const s = sandbox.source
  source = mysql.createPool({host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, connectionLimit: 2})
  instances = await startInstances({
    configPath: sandbox.configPath,
    fingerprintKeyFile: runtimePaths(sandbox.dir).fingerprintKeyFile,
    ids: [instanceId(1)],
    basePort: 0,
    logDir: work,
    detached: false,
  })
})

afterAll(async () => {
  await stopInstances(
    instances.map((i) => i.record),
    {configPath: sandbox.configPath},
  )
  await source?.end()
  await rm(work, {recursive: true, force: true})
})

describe('load generator against the payment service', () => {
  test('the writes scenario at 50/s for 3 s: no failed request, and intents and refunds were written to the source', async () => {
    const url = instanceUrl((instances[0] as SpawnedInstance).record)
    const before = await counts()
    const run = startLoad({targets: [url], ratePerSecond: 50, durationMs: 3000, maxInFlight: 50, scenario: writesScenario(), seed: 20_240_601, requestTimeoutMs: 10_000})
    const result = await run.finished
    const report = renderLoadResult(result, {colour: false})
    expect(result.failureSamples, report).toEqual([])
    expect(result.iterations).toMatchObject({scheduled: 150, started: 150, completed: 150, failed: 0, dropped: 0})
    expect(result.requests.failed, report).toBe(0)
    expect(result.requests.total).toBeGreaterThan(300)
    // declines were asked for and answered 402, never counted as failures
    expect(result.requests.byStatus['402'] ?? 0).toBe(result.counters.declined_on_purpose ?? 0)
    const gates = evaluateThresholds(result, {maxFailedRate: 0, maxDropped: 0, minRequests: 300})
    expect(thresholdsPassed(gates), JSON.stringify(gates)).toBe(true)

    const after = await counts()
    expect(after.payment_intents).toBeGreaterThan(before.payment_intents)
    expect(after.refunds).toBeGreaterThan(before.refunds)
    expect(after.customers).toBeGreaterThan(before.customers)
    expect(after.payment_methods).toBeGreaterThan(before.payment_methods)
    expect(after.wallet_transactions).toBeGreaterThan(before.wallet_transactions)
    // one intent per create request (created + created-and-confirmed)
    const created = (result.requests.byEndpoint['POST /v1/payment_intents']?.total ?? 0) + (result.requests.byEndpoint['POST /v1/payment_intents (confirm)']?.total ?? 0)
    expect(after.payment_intents - before.payment_intents).toBe(created)
    expect(after.refunds - before.refunds).toBe(result.requests.byEndpoint['POST /v1/refunds']?.total)

    // the books still balance after the load
    const balance = await fetch(`${url}/v1/ledger/balance`)
    expect(((await balance.json()) as {balanced?: unknown}).balanced).toBe(true)
  })
})
