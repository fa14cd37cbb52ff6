/**
 * payctl verify on the sandbox after a replicate run: a correct replica is equal; each kind of
 * difference injected into the target (a missing row, an extra row, one changed column per type
 * family) is reported exactly, and nothing else; a difference that is not one by the documented
 * rules (JSON key order) is not reported; --repair --dry-run prints the fix, --repair applies it
 * and a second verify is clean; and with replication and writers running, a correct replica
 * verifies with zero differences three times out of three.
 */
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql, {type Connection} from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {startLoad} from '../../src/load/generator.js'
import {writesScenario} from '../../src/load/scenarios.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import type {RowDiff, VerifyResult} from '../../src/validators/types.js'
import {dropProvisioned, emptyReplicated} from './target-reset.js'
import {parseJson, runCli, startCli} from './cli-helpers.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import {startSourceWriters} from './source-writer.js'

const sandbox = inject('sandbox')
const env = {PAYCTL_CONFIG: sandbox.configPath}
const CONTROL = 'payctl_control'

let source: Connection
let target: Connection
let work: string

function connect(e: SandboxEndpoint): Promise<Connection> {
  return mysql.createConnection({host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true})
}

async function emptyTarget(): Promise<void> {
  await emptyReplicated(target, sandbox.target.database, CONTROL)
}

async function one<T = mysql.RowDataPacket>(conn: Connection, sql: string, params: unknown[] = []): Promise<T> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql, params)
  const row = rows[0]
  if (row === undefined) throw new Error(`no row: ${sql}`)
  return row as T
}

async function verifyJson(args: string[] = []): Promise<{code: number | null; result: VerifyResult; stderr: string}> {
  const run = await runCli(['verify', '--json', ...args], {env})
  const out = parseJson<{status: string; result?: VerifyResult; error?: {data?: {result?: VerifyResult}}}>(run)
  const result = out.result ?? out.error?.data?.result
  if (result === undefined) throw new Error(`no verify result (exit ${run.code}):\n${run.stdout}\n${run.stderr}`)
  return {code: run.code, result, stderr: run.stderr}
}

/** A comparable form of a reported difference: table, key, kind, differing columns. */
const shape = (d: RowDiff): string => `${d.table} ${JSON.stringify(d.key)} ${d.kind} ${d.columns.map((c) => c.column).join(',')}`

beforeAll(async () => {
  source = await connect(sandbox.source)
  target = await connect(sandbox.target)
  work = await mkdtemp(path.join(tmpdir(), 'payctl-verify-it-'))
  const provision = await runCli(['provision'], {env})
  expect(provision.code, provision.stderr).toBe(0)
  await emptyTarget()
  const copy = await runCli(['replicate', '--until', 'caught-up'], {env})
  expect(copy.code, copy.stderr).toBe(0)
})

afterAll(async () => {
  // the suite's other files expect a target without tables or control store
  await dropProvisioned(target, sandbox.target.database)
  await source.end()
  await target.end()
  await rm(work, {recursive: true, force: true})
})

describe('payctl verify', () => {
  it('finds a fresh replica equal, with the hash pushed down to both servers', async () => {
    const {code, result, stderr} = await verifyJson()
    expect(code, stderr).toBe(0)
    expect(result.status).toBe('equal')
    expect(result.totals.rowDiffs).toBe(0)
    expect(new Set(result.tables.map((t) => t.method))).toEqual(new Set(['pushdown']))
    expect(result.tables.every((t) => t.sourceRows === t.targetRows && t.sourceRows > 0)).toBe(true)
    const counts = await verifyJson(['--count-only'])
    expect(counts.code).toBe(0)
    expect(new Set(counts.result.tables.map((t) => t.method))).toEqual(new Set(['count']))
  })

  it('reports exactly the injected differences, not a JSON key reorder; --repair fixes them and a second verify is clean', async () => {
    await target.query('SET foreign_key_checks = 0')
    const expected: string[] = []
    // a missing row, an extra row
    const missing = await one<{id: string}>(target, 'SELECT id FROM outbox_events ORDER BY id LIMIT 1 OFFSET 10')
    await target.query('DELETE FROM outbox_events WHERE id = ?', [missing.id])
    expected.push(`outbox_events {"id":"${missing.id}"} missing-in-target `)
    const extra = await one<{id: string}>(target, 'SELECT MAX(id) + 1000 AS id FROM outbox_events')
    await target.query("INSERT INTO outbox_events (id, aggregate_type, aggregate_id, event_type, payload) VALUES (?, 'x', 'x', 'x', '{}')", [extra.id])
    expected.push(`outbox_events {"id":"${extra.id}"} missing-in-source `)
    // one changed column per type family
    const intents = await source.query<mysql.RowDataPacket[]>('SELECT id FROM payment_intents ORDER BY id LIMIT 3')
    const [a, b] = intents[0].map((r) => String(r.id))
    await target.query('UPDATE payment_intents SET amount = amount + 0.0001, updated_at = updated_at WHERE id = ?', [a])
    expected.push(`payment_intents {"id":"${a}"} different amount`)
    await target.query('UPDATE payment_intents SET created_at = created_at + INTERVAL 1 MICROSECOND, updated_at = updated_at WHERE id = ?', [b])
    expected.push(`payment_intents {"id":"${b}"} different created_at`)
    const nullPhone = await one<{id: string}>(source, 'SELECT id FROM customers WHERE phone IS NULL ORDER BY id LIMIT 1')
    await target.query("UPDATE customers SET phone = '', updated_at = updated_at WHERE id = ?", [nullPhone.id])
    const named = await source.query<mysql.RowDataPacket[]>("SELECT id FROM customers WHERE phone IS NOT NULL AND name IS NOT NULL AND email IS NOT NULL AND id <> ? ORDER BY id LIMIT 2", [nullPhone.id])
    const [spaced, cased] = named[0].map((r) => String(r.id))
    await target.query("UPDATE customers SET name = CONCAT(name, ' '), updated_at = updated_at WHERE id = ?", [spaced])
    await target.query('UPDATE customers SET email = UPPER(email), updated_at = updated_at WHERE id = ?', [cased])
    expected.push(`customers {"id":"${nullPhone.id}"} different phone`, `customers {"id":"${spaced}"} different name`, `customers {"id":"${cased}"} different email`)
    const key = await one<{scope: string; idem_key: string}>(source, 'SELECT scope, idem_key FROM idempotency_keys ORDER BY scope, idem_key LIMIT 1')
    await target.query('UPDATE idempotency_keys SET request_hash = CONCAT(LEFT(request_hash, 31), CHAR(ASCII(RIGHT(request_hash, 1)) ^ 1)) WHERE scope = ? AND idem_key = ?', [key.scope, key.idem_key])
    expected.push(`idempotency_keys ${JSON.stringify({scope: key.scope, idem_key: key.idem_key})} different request_hash`)
    // JSON: the same object with its keys in another order is not a difference; a changed value is
    const jsonRows = await source.query<mysql.RowDataPacket[]>("SELECT id, metadata FROM payment_intents WHERE JSON_TYPE(metadata) = 'OBJECT' AND JSON_LENGTH(metadata) >= 2 AND id NOT IN (?, ?) ORDER BY id LIMIT 2", [a, b])
    const [reordered, revalued] = jsonRows[0].map((r) => ({id: String(r.id), metadata: JSON.parse(String(r.metadata)) as Record<string, unknown>}))
    if (reordered === undefined || revalued === undefined) throw new Error('the sandbox has no payment intents with JSON metadata')
    const reversed = Object.fromEntries(Object.entries(reordered.metadata).reverse())
    await target.query('UPDATE payment_intents SET metadata = ?, updated_at = updated_at WHERE id = ?', [JSON.stringify(reversed, null, 1), reordered.id])
    await target.query('UPDATE payment_intents SET metadata = ?, updated_at = updated_at WHERE id = ?', [JSON.stringify({...revalued.metadata, payctl: 'changed'}), revalued.id])
    expected.push(`payment_intents {"id":"${revalued.id}"} different metadata`)
    await target.query('SET foreign_key_checks = 1')

    const found = await verifyJson()
    expect(found.code, found.stderr).toBe(4)
    expect(found.result.tables.flatMap((t) => t.diffs).map(shape).sort()).toEqual(expected.sort())
    const emailDiff = found.result.tables.flatMap((t) => t.diffs).find((d) => d.columns[0]?.column === 'email')
    expect(emailDiff?.columns[0]?.target).toBe(emailDiff?.columns[0]?.source?.toUpperCase())

    const junit = path.join(work, 'verify.xml')
    const dry = await runCli(['verify', '--repair', '--dry-run', '--junit', junit], {env})
    expect(dry.code, dry.stderr).toBe(4)
    expect(dry.stdout).toContain('DELETE FROM `payments`.`outbox_events`')
    expect(dry.stdout).toContain("REPLACE INTO `payments`.`customers`")
    const xml = await readFile(junit, 'utf8')
    expect(xml).toContain('<testsuite name="payctl verify"')
    expect(xml.match(/<failure /g)).toHaveLength(4)
    // the dry run changed nothing; and with a hash buffer of 8 KiB (many small ranges, some hashed in parts) the same rows are found
    const small = await verifyJson(['--hash-max-bytes', '8192'])
    expect(small.result.tables.flatMap((t) => t.diffs).map(shape).sort()).toEqual(expected.sort())
    expect(small.result.tables.reduce((n, t) => n + t.chunks, 0)).toBeGreaterThan(found.result.tables.reduce((n, t) => n + t.chunks, 0) * 10)

    const log = path.join(work, 'repair.sql')
    const repaired = await verifyJson(['--repair', '--repair-log', log])
    expect(repaired.code, repaired.stderr).toBe(0)
    expect(repaired.result.tables.reduce((n, t) => n + (t.repaired ?? 0), 0)).toBe(expected.length)
    expect(await readFile(log, 'utf8')).toMatch(/REPLACE INTO `payments`\.`payment_intents`/)
    const again = await verifyJson()
    expect(again.code, again.stderr).toBe(0)
    // the reordered JSON was never a difference, so it was left as it was
    const kept = await one<{metadata: string}>(target, 'SELECT metadata FROM payment_intents WHERE id = ?', [reordered.id])
    expect(kept.metadata).toBe(JSON.stringify(reversed, null, 1))
  })

  it('bad --where is a usage error (exit 2)', async () => {
    const run = await runCli(['verify', '--tables', 'customers', '--where', 'no_such_column = 1'], {env})
    expect(run.code, run.stderr).toBe(2)
    expect(run.stderr).toContain('--where')
  })
})

describe('payctl verify online', () => {
  it('finds zero differences 3 times out of 3 while replication follows live writes', async () => {
    const instances: SpawnedInstance[] = await startInstances({configPath: sandbox.configPath, fingerprintKeyFile: runtimePaths(sandbox.dir).fingerprintKeyFile, ids: [instanceId(1)], basePort: 0, logDir: work, detached: false})
    const replication = startCli(['replicate'], {env})
    const writers = startSourceWriters(sandbox.source, 99, 2)
    const load = startLoad({targets: [instanceUrl((instances[0] as SpawnedInstance).record)], ratePerSecond: 20, maxInFlight: 20, scenario: writesScenario(), seed: 5, requestTimeoutMs: 10_000})
    try {
      await replication.waitForStderr(/replicating:/, 60_000)
      for (let i = 0; i < 3; i++) {
        const run = await verifyJson()
        expect(run.code, `${run.stderr}\n${run.result.tables.flatMap((t) => t.diffs).map(shape).join('\n')}`).toBe(0)
        expect(run.result.online.replicationRunning).toBe(true)
      }
    } finally {
      await load.stop()
      await writers.stop()
      replication.child.kill('SIGTERM')
      await replication.done
      await stopInstances(
        instances.map((x) => x.record),
        {configPath: sandbox.configPath},
      )
    }
  })
})
