/**
 * The zero-downtime cutover end to end, on the sandbox's real servers, with two real runtime
 * instances under steady checkout load from payctl's load generator:
 *
 * 1. a gate failure injected before the flip (instance B loses the target: its reads there fail,
 *    and then its writes) rolls reads back automatically; the exit code and status say why;
 * 2. payctl migrate --yes, payctl rollback, payctl migrate --yes again, all under load: no failed
 *    request, verify finds no difference after each direction, and the ledger balances;
 * 3. instance B is cut off from the target (the control store's server) at the moment writes pause:
 *    it fences itself and answers writes with 503, the flip goes through without it, and no write
 *    reaches the source after the flip (every source row equals the target's once reverse
 *    replication has drained; B's refused writes exist nowhere).
 *
 * Instance B reaches the target through a TCP proxy the test controls; instance A directly. The
 * shift's holds are 2 s with 1 s gate samples, so a migrate takes about half a minute.
 */
import {randomUUID} from 'node:crypto'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, test} from 'vitest'
import {parse, stringify} from 'yaml'
import {loadConfig} from '../../src/config/index.js'
import {openCutoverEnv} from '../../src/cutover/env.js'
import {flipWrites} from '../../src/cutover/flip.js'
import {mysqlPaymentsSql} from '../../src/engines/mysql/mysql-payments-sql.js'
import {type LoadRun, startLoad} from '../../src/load/generator.js'
import {renderLoadResult} from '../../src/load/report.js'
import {checkoutScenario} from '../../src/load/scenarios.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import {type CliRun, startCli} from './cli-helpers.js'
import './sandbox-context.js'
import {dropProvisioned} from './target-reset.js'
import {startTcpProxy, type TcpProxy} from './tcp-proxy.js'

const sandbox = inject('sandbox')
const RATE = 15

let work: string
let configA: string
let configB: string
let proxy: TcpProxy
let instances: SpawnedInstance[] = []
let source: mysql.Pool
let target: mysql.Pool

async function cli(args: string[], timeoutMs = 240_000): Promise<CliRun> {
  return startCli([...args, '--config', configA], {timeoutMs}).done
}

function urls(): string[] {
  return instances.map((i) => instanceUrl(i.record))
}

function load(): LoadRun {
  return startLoad({targets: urls(), ratePerSecond: RATE, maxInFlight: 200, scenario: checkoutScenario(), seed: Math.floor(Math.random() * 1e9), requestTimeoutMs: 15_000})
}

async function routing(): Promise<{version: number; desired: {writes: string; readsTargetPercent: number}}> {
  const [rows] = await target.query<mysql.RowDataPacket[]>('SELECT version, desired FROM payctl_control.routing_state ORDER BY version DESC LIMIT 1')
  const r = rows[0]
  if (r === undefined) return {version: 0, desired: {writes: 'source', readsTargetPercent: 0}}
  const desired = (typeof r.desired === 'string' ? JSON.parse(r.desired) : r.desired) as {writes: string; readsTargetPercent: number}
  return {version: Number(r.version), desired}
}

async function unbalanced(pool: mysql.Pool): Promise<number> {
  const stmt = mysqlPaymentsSql.ledgerUnbalancedTxns(10)
  const [rows] = await pool.query<mysql.RowDataPacket[]>(stmt.sql, stmt.params as unknown[])
  return rows.length
}

/** Waits until reverse replication applied everything the target has now (load stopped). */
async function reverseDrained(): Promise<void> {
  const [master] = await target.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS')
  const status = master[0]
  const file = String(status?.File)
  const pos = Number(status?.Position)
  for (let i = 0; i < 300; i++) {
    const [rows] = await target.query<mysql.RowDataPacket[]>("SELECT position FROM payctl_control.capture_positions WHERE run_id = 'reverse' AND direction = 'reverse'")
    const raw: unknown = rows[0]?.position
    const p = (typeof raw === 'string' ? JSON.parse(raw) : raw) as {file: string; pos: number} | undefined
    if (p !== undefined && (p.file > file || (p.file === file && p.pos >= pos))) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('reverse replication did not drain in 30 s')
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-cutover-it-'))
  const s = sandbox.source
  const t = sandbox.target
  source = mysql.createPool({host: s.host, port: s.port, user: s.user, password: s.password, database: s.database, connectionLimit: 3})
  target = mysql.createPool({host: t.host, port: t.port, user: t.user, password: t.password, database: t.database, connectionLimit: 3})
  proxy = await startTcpProxy(t.host, t.port)
  // the sandbox's config with short holds; B's copy reaches the target through the proxy (same folder: file: secrets resolve)
  const base = parse(await readFile(sandbox.configPath, 'utf8')) as Record<string, unknown>
  base.shift = {
    steps: [
      {name: 'shadow', kind: 'shadow', readsTargetPercent: 0, shadowPercent: 50, hold: '2s'},
      {name: 'reads-30', kind: 'reads', readsTargetPercent: 30, hold: '4s'},
      {name: 'reads-100', kind: 'reads', readsTargetPercent: 100, hold: '2s'},
      {name: 'write-flip', kind: 'write-flip', hold: '2s'},
      {name: 'observe', kind: 'observe', hold: '2s'},
    ],
    gates: {interval: '1s', failureLimit: 0, inconclusiveLimit: 1, minRequests: 5, minShadowReads: 1, p99Ms: 2000},
  }
  configA = path.join(sandbox.dir, 'payctl-cutover-a.yaml')
  configB = path.join(sandbox.dir, 'payctl-cutover-b.yaml')
  await writeFile(configA, stringify(base))
  await writeFile(configB, stringify({...base, target: {...(base.target as object), port: proxy.port}}))
  expect((await cli(['provision'])).code).toBe(0)
  const key = runtimePaths(sandbox.dir).fingerprintKeyFile
  instances = [
    ...(await startInstances({configPath: configA, fingerprintKeyFile: key, ids: [instanceId(1)], basePort: 0, logDir: work, detached: false})),
    ...(await startInstances({configPath: configB, fingerprintKeyFile: key, ids: [instanceId(2)], basePort: 0, logDir: work, detached: false})),
  ]
  const started = await cli(['replicate', '--detach'])
  expect(started.code, started.stderr).toBe(0)
}, 300_000)

afterAll(async () => {
  await startCli(['replicate', 'stop', '--config', configA], {timeoutMs: 60_000}).done.catch(() => undefined)
  // each instance is stopped with its own config (B's reaches the target through the proxy)
  const [a, b] = instances
  if (a !== undefined) await stopInstances([a.record], {configPath: configA}).catch(() => undefined)
  if (b !== undefined) await stopInstances([b.record], {configPath: configB}).catch(() => undefined)
  await proxy?.close()
  await source?.query('SET GLOBAL read_only = OFF').catch(() => undefined)
  const conn = await target.getConnection()
  try {
    await dropProvisioned(conn, sandbox.target.database)
  } finally {
    conn.release()
  }
  await source?.end()
  await target?.end()
  await rm(work, {recursive: true, force: true})
})

describe('zero-downtime cutover', () => {
  test('a gate failure before the flip (instance B loses the target) rolls reads back by itself; exit 4 and status say why', async () => {
    const run = load()
    let cut: ReturnType<typeof setTimeout> | undefined
    try {
      // the failure starts once reads-30 runs: B's target connections (and then its control store) drop
      const shift = startCli(['shift-traffic', '--to', 'reads-30', '--config', configA], {timeoutMs: 120_000})
      await shift.waitForStderr(/step 2\/5 reads-30/, 60_000)
      proxy.setMode('cut')
      const r = await shift.done
      expect(r.code, r.stderr).toBe(4)
      expect(r.stderr).toMatch(/reads-30 failed its gates/)
      expect(r.stderr).toMatch(/error rate/)
      expect(r.stderr).toMatch(/rolled back to the source/)
      const now = await routing()
      expect(now.desired).toMatchObject({writes: 'source', readsTargetPercent: 0})
      const status = await cli(['status', '--json'])
      const json = JSON.parse(status.stdout) as {result: {cutover: {shift: {status: string; failure: {step: string; reason: string} | null}}}}
      expect(json.result.cutover.shift.status).toBe('rolled-back')
      expect(json.result.cutover.shift.failure?.step).toBe('reads-30')
      expect(json.result.cutover.shift.failure?.reason).toMatch(/error rate/)
    } finally {
      if (cut !== undefined) clearTimeout(cut)
      proxy.setMode('pass')
      await run.stop()
    }
  })

  test('migrate --yes, rollback, migrate --yes under steady checkout load: no failed request, no difference after each direction, the ledger balances', async () => {
    const run = load()
    let result
    try {
      const first = await cli(['migrate', '--yes'])
      expect(first.code, first.stderr + first.stdout).toBe(0)
      expect((await routing()).desired.writes).toBe('target')
      expect(first.stdout).toMatch(/write pause/)

      const back = await cli(['rollback', '--reason', 'integration test'])
      expect(back.code, back.stderr + back.stdout).toBe(0)
      expect((await routing()).desired).toMatchObject({writes: 'source', readsTargetPercent: 0})
      // forward direction again, under load: online verify finds nothing
      const verified = await cli(['verify'])
      expect(verified.code, verified.stdout).toBe(0)

      const second = await cli(['migrate', '--yes'])
      expect(second.code, second.stderr + second.stdout).toBe(0)
      expect((await routing()).desired.writes).toBe('target')
    } finally {
      result = await run.stop()
    }
    const report = renderLoadResult(result, {colour: false})
    expect(result.requests.failed, report).toBe(0)
    expect(result.iterations.dropped, report).toBe(0)
    expect(result.requests.total).toBeGreaterThan(200)
    await reverseDrained()
    const verified = await cli(['verify'])
    expect(verified.code, verified.stdout).toBe(0)
    expect(await unbalanced(source)).toBe(0)
    expect(await unbalanced(target)).toBe(0)
  })

  test('instance B cut off from the target during the flip fences itself; the flip goes on without it and the source gets no write after it', async () => {
    const [a, b] = urls()
    const run = startLoad({targets: [a ?? ''], ratePerSecond: RATE, maxInFlight: 200, scenario: checkoutScenario(), seed: 7, requestTimeoutMs: 15_000})
    expect((await cli(['rollback'])).code).toBe(0)
    const toReads = await cli(['shift-traffic', '--to', 'reads-100'])
    expect(toReads.code, toReads.stderr).toBe(0)
    const loaded = await loadConfig(configA)
    const env = await openCutoverEnv(loaded)
    let flipped
    try {
      // lease 1 s + grace 1 s for B to count as gone: a 5 s budget leaves room for the rest
      flipped = await flipWrites(env, 'target', {
        budgetMs: 5_000,
        holdMs: 5_000,
        leaseMs: 1_000,
        onEvent: (e) => {
          if (e.kind === 'paused') proxy.setMode('cut')
        },
      })
    } finally {
      await env.close()
    }
    expect(flipped.measurement.outcome).toBe('flipped')
    // B cannot read the routing state: its writes are refused, never sent to the source
    const email = `fenced-${randomUUID()}@example.com`
    const refused = await fetch(`${b}/v1/customers`, {method: 'POST', headers: {'content-type': 'application/json', 'idempotency-key': randomUUID()}, body: JSON.stringify({email, name: 'Fenced Writer'})})
    expect(refused.status).toBe(503)
    const metrics = await (await fetch(`${b}/metrics`)).text()
    expect(metrics).toMatch(/payctl_writes_mode\{mode="fenced"\} 1/)
    const result = await run.stop()
    expect(result.requests.failed, renderLoadResult(result, {colour: false})).toBe(0)
    await reverseDrained()
    const [onSource] = await source.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers WHERE email = ?', [email])
    expect(Number(onSource[0]?.n)).toBe(0)
    // forward replication stopped at the flip: a row written to the source after it would be missing on the target
    const verified = await cli(['verify'])
    expect(verified.code, verified.stdout).toBe(0)
    proxy.setMode('pass')
  })

  test('finalize refuses before the observe step passed, then with --force drains reverse replication into the source and stops it', async () => {
    const refused = await cli(['finalize'])
    expect(refused.code, refused.stderr).toBe(3)
    expect(refused.stderr).toMatch(/observe step has not passed/)
    // a last write on the target must reach the source before reverse replication stops
    const [a] = urls()
    const email = `last-${randomUUID()}@example.com`
    const created = await fetch(`${a}/v1/customers`, {method: 'POST', headers: {'content-type': 'application/json', 'idempotency-key': randomUUID()}, body: JSON.stringify({email, name: 'Last Writer'})})
    expect(created.status).toBe(200)
    const done = await cli(['finalize', '--force', '--reason', 'integration test'])
    expect(done.code, done.stderr + done.stdout).toBe(0)
    expect(done.stdout).toMatch(/drained into the source and stopped/)
    const [onSource] = await source.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers WHERE email = ?', [email])
    expect(Number(onSource[0]?.n)).toBe(1)
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as {result: {replication: {running: boolean}; cutover: {shift: {status: string}; routing: {desired: {replication: {direction: string}}}}}}
    expect(status.result.replication.running).toBe(false)
    expect(status.result.cutover.shift.status).toBe('finalized')
    expect(status.result.cutover.routing.desired.replication.direction).toBe('none')
    expect((await cli(['finalize'])).stdout).toMatch(/Already finalized/)
  })
})
