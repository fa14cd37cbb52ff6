/**
 * The routed payment service against the sandbox's real MariaDB servers: instances of the built
 * service (child processes on the sandbox's config, or on a copy whose target goes through a TCP
 * proxy the test can cut) read routing_state from the control store on the target and publish
 * heartbeats there. Shown here: writes go to the side the state names; a pause holds new writes
 * and is acknowledged only once the write in flight has ended, and the held write then goes to the
 * new side; an instance cut off from the control store fences itself after its lease and answers
 * writes 503 (and one that starts cut off never writes); shadow reads count a row that differs on
 * the target as a mismatch and publish its column, never its value; a payment the instance has
 * just written reads back from the side that took the write, although reads are on the target.
 */
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {connect as tcpConnect, createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql, {type Connection, type RowDataPacket} from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import YAML from 'yaml'
import {type InstanceHeartbeat, INITIAL_ROUTING, type Query, type RoutingDesired, RoutingStore} from '../../src/control/routing-store.js'
import {instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import {runCli} from './cli-helpers.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import {dropProvisioned} from './target-reset.js'

const sandbox = inject('sandbox')
const CONTROL = 'payctl_control'
const routing = new RoutingStore(CONTROL)
const keyFile = runtimePaths(sandbox.dir).fingerprintKeyFile

let source: Connection
let target: Connection
let work: string
let main: SpawnedInstance
let proxy: CuttableProxy

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

function connectTo(e: SandboxEndpoint): Promise<Connection> {
  return mysql.createConnection({host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true})
}

const q: Query = async <T>(sql: string, params: readonly unknown[] = []): Promise<T[]> => {
  const [rows] = await target.query(sql, params as unknown[])
  return rows as T[]
}

/** Appends a routing version (as payctl does) and returns it. */
async function setRouting(change: Partial<RoutingDesired>, reason: string): Promise<number> {
  const current = await routing.current(q)
  return routing.set(q, current.version, {...INITIAL_ROUTING, ...change}, 'runtime-routing-it', 'test', reason)
}

async function heartbeat(id: string): Promise<InstanceHeartbeat | undefined> {
  return (await routing.instances(q)).find((i) => i.instanceId === id)
}

/** Polls a condition (each round a real query or request) until it holds or the deadline passes. */
async function until<T>(what: string, probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: T
  for (;;) {
    last = await probe()
    if (ok(last)) return last
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const applied = (id: string, version: number) => until(`${id} to apply routing version ${version}`, () => heartbeat(id), (h) => h?.appliedVersion === version)

async function call(base: string, method: string, url: string, body?: unknown): Promise<{status: number; body: Json; headers: Headers}> {
  const r = await fetch(`${base}${url}`, {method, headers: body === undefined ? {} : {'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  const text = await r.text()
  return {status: r.status, body: text.startsWith('{') ? (JSON.parse(text) as Json) : {text}, headers: r.headers}
}

async function count(conn: Connection, table: string, publicId: string): Promise<number> {
  const [[row]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\` WHERE public_id = ?`, [publicId])
  return Number(row?.n)
}

/** Copies a row from the source to the target as replication would (foreign keys are not this test's concern). */
async function copyToTarget(table: string, publicId: string): Promise<void> {
  const [rows] = await source.query<RowDataPacket[]>(`SELECT * FROM \`${table}\` WHERE public_id = ?`, [publicId])
  const row = rows[0] as Record<string, unknown>
  const columns = Object.keys(row)
  await target.query('SET SESSION foreign_key_checks = 0')
  try {
    await target.query(`INSERT INTO \`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => row[c]))
  } finally {
    await target.query('SET SESSION foreign_key_checks = 1')
  }
}

async function metric(base: string, line: RegExp): Promise<number | null> {
  const text = (await call(base, 'GET', '/metrics')).body.text as string
  const found = text.split('\n').find((l) => line.test(l))
  return found === undefined ? null : Number(found.split(' ').at(-1))
}

/** A TCP proxy to a server that the test can cut: existing connections drop, new ones hang unanswered. */
class CuttableProxy {
  readonly #server: Server
  readonly #sockets = new Set<Socket>()
  #cut = false

  private constructor(server: Server) {
    this.#server = server
  }

  static async start(host: string, port: number): Promise<CuttableProxy> {
    const proxy: CuttableProxy = new CuttableProxy(
      createServer((client) => {
        proxy.#sockets.add(client)
        client.on('close', () => proxy.#sockets.delete(client))
        client.on('error', () => undefined)
        // cut: accepted but never answered, like a partition (the client's connect timeout decides)
        if (proxy.#cut) return
        const upstream = tcpConnect(port, host)
        proxy.#sockets.add(upstream)
        upstream.on('close', () => proxy.#sockets.delete(upstream))
        upstream.on('error', () => client.destroy())
        client.on('error', () => upstream.destroy())
        client.pipe(upstream).pipe(client)
      }),
    )
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    return (this.#server.address() as {port: number}).port
  }

  cut(): void {
    this.#cut = true
    for (const s of this.#sockets) s.destroy()
  }

  restore(): void {
    this.#cut = false
    // hung connections from the cut: the client gave up on them already
    for (const s of this.#sockets) s.destroy()
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

/** The sandbox's config with the target (and so the control store) reached through the proxy. */
async function proxiedConfig(port: number): Promise<string> {
  const cfg = YAML.parse(await readFile(sandbox.configPath, 'utf8')) as {target: {port: number; password: string}; source: {password: string}; runtime?: {fingerprintKey?: string}}
  cfg.target.port = port
  // file: references are relative to the config's folder, which this copy is not in
  const absolute = (ref: string) => `file:${path.resolve(sandbox.dir, ref.slice('file:'.length))}`
  cfg.source.password = absolute(cfg.source.password)
  cfg.target.password = absolute(cfg.target.password)
  if (cfg.runtime?.fingerprintKey !== undefined) cfg.runtime.fingerprintKey = absolute(cfg.runtime.fingerprintKey)
  const file = path.join(work, 'proxied.yaml')
  await writeFile(file, YAML.stringify(cfg))
  return file
}

/** Instances this file started, with the config each was started on (stopping checks the command line names it). */
const started = new Map<SpawnedInstance, string>()

async function start(id: string, configPath = sandbox.configPath): Promise<SpawnedInstance> {
  const [instance] = await startInstances({configPath, fingerprintKeyFile: keyFile, ids: [id], basePort: 0, logDir: work, detached: false})
  if (instance === undefined) throw new Error('no instance started')
  started.set(instance, configPath)
  return instance
}

async function stop(instance: SpawnedInstance): Promise<void> {
  const [result] = await stopInstances([instance.record], {configPath: started.get(instance)})
  started.delete(instance)
  expect(result).toMatchObject({stopped: true, killed: false})
}

beforeAll(async () => {
  source = await connectTo(sandbox.source)
  target = await connectTo(sandbox.target)
  work = await mkdtemp(path.join(tmpdir(), 'payctl-routing-it-'))
  // the converted schema and the control store on the target
  const provision = await runCli(['provision'], {env: {PAYCTL_CONFIG: sandbox.configPath}})
  expect(provision.code, provision.stderr).toBe(0)
  main = await start('rt-routing')
  proxy = await CuttableProxy.start(sandbox.target.host, sandbox.target.port)
})

afterAll(async () => {
  for (const i of [...started.keys()]) await stop(i).catch(() => undefined)
  await proxy?.close()
  await rm(work, {recursive: true, force: true})
  // the suite's other files expect a target without tables or control store
  await dropProvisioned(target, sandbox.target.database, CONTROL)
  await source.end()
  await target.end()
})

describe('routed runtime', () => {
  it('sends writes to the side routing_state names, and heartbeats the version it applied with its URL', async () => {
    const base = instanceUrl(main.record)
    const v1 = await setRouting({writes: 'source'}, 'writes on the source')
    const hb = await applied('rt-routing', v1)
    expect(hb?.detail).toMatchObject({url: base, writes: 'source', fenced: false, inFlightWrites: 0})

    const onSource = await call(base, 'POST', '/v1/customers', {email: 'routing-source@example.com', name: 'On Source'})
    expect(onSource.status).toBe(200)
    expect(await count(source, 'customers', onSource.body.id as string)).toBe(1)
    expect(await count(target, 'customers', onSource.body.id as string)).toBe(0)

    // the flip as payctl makes it: pause, then writes on the target
    await applied('rt-routing', await setRouting({writes: 'paused', pausedFrom: 'source'}, 'pause'))
    const v3 = await setRouting({writes: 'target'}, 'writes on the target')
    expect((await applied('rt-routing', v3))?.detail).toMatchObject({writes: 'target'})
    expect(await metric(base, /^payctl_routing_version /)).toBe(v3)
    expect(await metric(base, /^payctl_writes_mode\{mode="target"\}/)).toBe(1)

    const onTarget = await call(base, 'POST', '/v1/customers', {email: 'routing-target@example.com', name: 'On Target'})
    expect(onTarget.status).toBe(200)
    const id = onTarget.body.id as string
    expect(await count(target, 'customers', id)).toBe(1)
    expect(await count(source, 'customers', id)).toBe(0)
    // reads follow the writes to the target
    expect((await call(base, 'GET', `/v1/customers/${id}`)).body).toMatchObject({id, name: 'On Target'})

    await applied('rt-routing', await setRouting({writes: 'paused', pausedFrom: 'target'}, 'pause'))
    await applied('rt-routing', await setRouting({writes: 'source'}, 'back to the source'))
  })

  it('holds writes during a pause, acknowledges it only once the write in flight has ended, then releases held writes to the new side', async () => {
    const base = instanceUrl(main.record)
    await applied('rt-routing', await setRouting({writes: 'source', holdMs: 30_000}, 'writes on the source'))
    const cus = (await call(base, 'POST', '/v1/customers', {name: 'Pause'})).body.id as string
    const pm = (await call(base, 'POST', '/v1/payment_methods', {customer: cus, type: 'card', card: {number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123'}})).body.id as string
    const pi = await call(base, 'POST', '/v1/payment_intents', {amount: 2500, currency: 'usd', customer: cus, payment_method: pm, confirm: true, capture_method: 'manual'})
    expect(pi.body.status).toBe('requires_capture')

    // the capture blocks on the intent's row lock, held here: a write in flight for as long as the test wants
    const locker = await connectTo(sandbox.source)
    await locker.beginTransaction()
    await locker.query('SELECT id FROM payment_intents WHERE public_id = ? FOR UPDATE', [pi.body.id])
    const capture = call(base, 'POST', `/v1/payment_intents/${pi.body.id as string}/capture`, {})
    try {
      const before = await until('the capture to be in flight', () => heartbeat('rt-routing'), (h) => h?.detail?.inFlightWrites === 1)
      const vSource = before?.appliedVersion as number

      const vPaused = await setRouting({writes: 'paused', pausedFrom: 'source', holdMs: 30_000}, 'pause')
      const seen = await until('the pause to be read', () => heartbeat('rt-routing'), (h) => h?.detail?.writes === 'paused')
      expect(seen).toMatchObject({appliedVersion: vSource, detail: {inFlightWrites: 1}})

      let heldDone = false
      const held = call(base, 'POST', '/v1/customers', {name: 'Held'}).finally(() => (heldDone = true))
      const holding = await until('a write to be held', () => heartbeat('rt-routing'), (h) => h?.detail?.heldWrites === 1)
      expect(holding).toMatchObject({appliedVersion: vSource, detail: {inFlightWrites: 1, writes: 'paused'}})
      // later heartbeats still do not acknowledge the pause while the capture runs
      const later = await until('a later heartbeat', () => heartbeat('rt-routing'), (h) => h !== undefined && h.lastSeenAt > (holding?.lastSeenAt ?? ''))
      expect(later?.appliedVersion).toBe(vSource)

      await locker.rollback()
      expect((await capture).body).toMatchObject({status: 'succeeded', amount_received: 2500})
      const acked = await applied('rt-routing', vPaused)
      expect(acked?.detail).toMatchObject({inFlightWrites: 0, heldWrites: 1})
      expect(heldDone).toBe(false)

      const vTarget = await setRouting({writes: 'target'}, 'writes on the target')
      const released = await held
      expect(released.status).toBe(200)
      expect(await count(target, 'customers', released.body.id as string)).toBe(1)
      expect(await count(source, 'customers', released.body.id as string)).toBe(0)
      await applied('rt-routing', vTarget)
      expect(await metric(base, /^payctl_write_gate_wait_seconds_count /)).toBeGreaterThanOrEqual(1)
    } finally {
      await locker.rollback().catch(() => undefined)
      await locker.end()
      await capture.catch(() => undefined)
    }

    // a pause past its holdMs answers 503 with Retry-After, and nothing was written
    await applied('rt-routing', await setRouting({writes: 'paused', pausedFrom: 'target', holdMs: 200}, 'short pause'))
    const refused = await call(base, 'POST', '/v1/customers', {name: 'Refused', email: 'refused-during-pause@example.com'})
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.body.error).toMatchObject({type: 'api_error', code: 'writes_paused'})
    expect(await metric(base, /^payctl_write_gate_rejected_total /)).toBeGreaterThanOrEqual(1)
    for (const conn of [source, target]) {
      const [[row]] = await conn.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM customers WHERE email = 'refused-during-pause@example.com'")
      expect(Number(row?.n)).toBe(0)
    }
    await applied('rt-routing', await setRouting({writes: 'source'}, 'back to the source'))
  })

  it('counts a row that differs on the target as a shadow mismatch, naming the column and never the value', async () => {
    const base = instanceUrl(main.record)
    await applied('rt-routing', await setRouting({writes: 'source', shadowPercent: 100}, 'shadow every read'))
    const same = (await call(base, 'POST', '/v1/customers', {email: 'shadow-same@example.com', name: 'Same Everywhere'})).body.id as string
    const differs = (await call(base, 'POST', '/v1/customers', {email: 'shadow-differs@example.com', name: 'Source Name'})).body.id as string
    // the target gets copies of both rows (as replication would), then one of them changes there
    for (const id of [same, differs]) {
      const [rows] = await source.query<RowDataPacket[]>('SELECT * FROM customers WHERE public_id = ?', [id])
      const row = rows[0] as Record<string, unknown>
      const columns = Object.keys(row)
      await target.query(`INSERT INTO customers (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, columns.map((c) => row[c]))
    }
    await target.query("UPDATE customers SET name = 'Renamed On Target' WHERE public_id = ?", [differs])

    const matchBefore = (await metric(base, /^payctl_shadow_reads_total\{result="match"\}/)) ?? 0
    for (const id of [same, differs]) expect((await call(base, 'GET', `/v1/customers/${id}`)).status).toBe(200)

    const mismatches = await until('the mismatch to be counted', () => metric(base, /^payctl_shadow_reads_total\{result="mismatch"\}/), (n) => (n ?? 0) >= 1)
    expect(mismatches).toBe(1)
    expect(await metric(base, /^payctl_shadow_reads_total\{result="match"\}/)).toBeGreaterThan(matchBefore)
    const hb = await until('the mismatch in a heartbeat', () => heartbeat('rt-routing'), (h) => (h?.detail?.shadow.mismatched ?? 0) >= 1)
    expect(hb?.detail?.shadow.examples).toEqual([{at: expect.any(String) as string, op: 'customer.get', sides: ['source', 'target'], columns: ['name']}])
    const published = JSON.stringify(hb?.detail)
    for (const value of ['Renamed On Target', 'Source Name', 'shadow-differs@example.com', differs]) expect(published).not.toContain(value)

    await applied('rt-routing', await setRouting({writes: 'source'}, 'shadow off'))
  })

  it('reads a payment it has just written from the side that took the write, although reads are all on the target and its row there is older', async () => {
    const base = instanceUrl(main.record)
    await applied('rt-routing', await setRouting({writes: 'source', readsTargetPercent: 100}, 'reads on the target, writes on the source'))
    const cus = (await call(base, 'POST', '/v1/customers', {name: 'Checkout'})).body.id as string
    const pm = (await call(base, 'POST', '/v1/payment_methods', {customer: cus, type: 'card', card: {number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123'}})).body
      .id as string
    const created = await call(base, 'POST', '/v1/payment_intents', {amount: 1999, currency: 'usd', customer: cus, payment_method: pm, confirm: true})
    expect(created.status).toBe(200)
    expect(created.body).toMatchObject({status: 'succeeded', amount_received: 1999})
    const pi = created.body.id as string
    expect(await count(target, 'payment_intents', pi)).toBe(0)

    // replication a step behind: the target has the rows, the intent as it was before the confirm
    for (const [table, id] of [['customers', cus], ['payment_methods', pm], ['payment_intents', pi]] as const) await copyToTarget(table, id)
    await target.query("UPDATE payment_intents SET status = 'requires_confirmation', amount_received = 0 WHERE public_id = ?", [pi])
    const routedBefore = (await metric(base, /^payctl_read_your_writes_total /)) ?? 0

    const read = await call(base, 'GET', `/v1/payment_intents/${pi}`)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({id: pi, status: 'succeeded', amount_received: 1999, customer: cus})
    expect(await metric(base, /^payctl_read_your_writes_total /)).toBe(routedBefore + 1)

    // once the window (5 s by default) has passed, the read follows the percentage to the target
    // again: the answer above came from the source because of the write, not by chance
    const later = await until('the read back on the target', () => call(base, 'GET', `/v1/payment_intents/${pi}`), (r) => r.body.status === 'requires_confirmation', 20_000)
    expect(later.body).toMatchObject({id: pi, amount_received: 0})

    await applied('rt-routing', await setRouting({writes: 'source'}, 'reads back on the source'))
  })

  it('fences an instance cut off from the control store once its lease has passed, and lifts the fence when it can read again', async () => {
    const v = await setRouting({writes: 'source', leaseMs: 1500, holdMs: 300}, 'lease 1.5 s')
    const cutOff = await start('rt-cut', await proxiedConfig(proxy.port))
    const base = instanceUrl(cutOff.record)
    await applied('rt-cut', v)
    expect((await call(base, 'POST', '/v1/customers', {name: 'Before The Cut'})).status).toBe(200)

    proxy.cut()
    const cutAt = Date.now()
    // within the lease the instance still writes: it cannot tell a partition from a slow read yet
    expect((await call(base, 'POST', '/v1/customers', {name: 'Just After The Cut'})).status).toBe(200)
    const fenced = await until('a write refused', () => call(base, 'POST', '/v1/customers', {name: 'During The Cut'}), (r) => r.status !== 200)
    const fencedAfterMs = Date.now() - cutAt
    expect(fenced.status).toBe(503)
    expect(fenced.headers.get('retry-after')).toBe('1')
    expect(fenced.body.error).toMatchObject({type: 'api_error', code: 'writes_fenced'})
    expect(fencedAfterMs).toBeGreaterThanOrEqual(1500 - 600)
    expect(await metric(base, /^payctl_writes_mode\{mode="fenced"\}/)).toBe(1)
    // reads go on
    const known = (await call(instanceUrl(main.record), 'POST', '/v1/customers', {name: 'Readable'})).body.id as string
    expect((await call(base, 'GET', `/v1/customers/${known}`)).status).toBe(200)
    // its heartbeat has stopped: payctl sees it go silent
    const silent = await heartbeat('rt-cut')
    expect(silent?.ageMs).toBeGreaterThan(1000)

    proxy.restore()
    const back = await until('writes again', () => call(base, 'POST', '/v1/customers', {name: 'After The Cut'}), (r) => r.status === 200, 30_000)
    expect(await count(source, 'customers', back.body.id as string)).toBe(1)
    expect(await metric(base, /^payctl_writes_mode\{mode="source"\}/)).toBe(1)
    await stop(cutOff)
    expect(await heartbeat('rt-cut')).toBeUndefined()
  })

  it('an instance that starts without reaching the control store never writes until it has read the state', async () => {
    await setRouting({writes: 'source', holdMs: 300}, 'short hold')
    proxy.cut()
    const blind = await start('rt-blind', await proxiedConfig(proxy.port))
    const base = instanceUrl(blind.record)
    const refused = await call(base, 'POST', '/v1/customers', {name: 'Blind', email: 'written-blind@example.com'})
    expect(refused.status).toBe(503)
    expect(refused.body.error).toMatchObject({code: 'writes_fenced'})
    const [[row]] = await source.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM customers WHERE email = 'written-blind@example.com'")
    expect(Number(row?.n)).toBe(0)
    expect(await heartbeat('rt-blind')).toBeUndefined()

    proxy.restore()
    await until('writes once the state is read', () => call(base, 'POST', '/v1/customers', {name: 'Sighted'}), (r) => r.status === 200, 30_000)
    expect((await heartbeat('rt-blind'))?.detail).toMatchObject({writes: 'source', fenced: false, url: base})
    await stop(blind)
  })
})
