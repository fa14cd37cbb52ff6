/**
 * payctl replicate against the sandbox's real MariaDB servers: the full load and change capture
 * under concurrent writes (the payment service driven by the open-model load generator: customers,
 * cards, intents, captures, cancels, refunds, wallets; plus SQL writers for updates and deletes
 * the API does not make), killed with SIGKILL during the copy and again while applying changes,
 * resumed, and then checked independently of payctl (CHECKSUM TABLE and row counts on both
 * servers), for three seeds. Also: a source whose binlog cannot be captured is refused before
 * anything is copied.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import mysql, {type Connection} from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {startLoad} from '../../src/load/generator.js'
import {renderLoadResult} from '../../src/load/report.js'
import {writesScenario} from '../../src/load/scenarios.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths} from '../../src/sandbox/index.js'
import {Prng} from '../../src/sandbox/prng.js'
import {dropProvisioned, emptyReplicated} from './target-reset.js'
import {parseJson, runCli, startCli, type CliProcess} from './cli-helpers.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import {startSourceWriters} from './source-writer.js'

const sandbox = inject('sandbox')
const env = {PAYCTL_CONFIG: sandbox.configPath}
const CONTROL = 'payctl_control'

function connect(e: SandboxEndpoint, database: string | null = e.database): Promise<Connection> {
  return mysql.createConnection({host: e.host, port: e.port, user: e.user, password: e.password, ...(database === null ? {} : {database}), dateStrings: true, supportBigNumbers: true, bigNumberStrings: true})
}

let source: Connection
let target: Connection
let work: string
let instances: SpawnedInstance[] = []

async function tables(): Promise<string[]> {
  const [rows] = await source.query<mysql.RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [sandbox.source.database])
  return rows.map((r) => String(r.t))
}

async function checksums(conn: Connection, names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const [[sum]] = await conn.query<mysql.RowDataPacket[]>(`CHECKSUM TABLE \`${name}\` EXTENDED`)
    const [[count]] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${name}\``)
    out[name] = `${String(count?.n)} rows, checksum ${String(sum?.Checksum)}`
  }
  return out
}

async function copiedRows(): Promise<number> {
  const [[row]] = await target.query<mysql.RowDataPacket[]>(`SELECT COALESCE(SUM(rows_copied), 0) AS n FROM ${CONTROL}.replication_tables`).catch(() => [[{n: 0}]] as unknown as [mysql.RowDataPacket[]])
  return Number(row?.n ?? 0)
}

async function appliedChanges(): Promise<number> {
  const [[row]] = await target.query<mysql.RowDataPacket[]>(`SELECT JSON_VALUE(status, '$.changesApplied') AS n, JSON_VALUE(status, '$.phase') AS phase FROM ${CONTROL}.replication_state`)
  return row?.phase === 'replicating' ? Number(row.n ?? 0) : -1
}

async function waitFor(what: string, cond: () => Promise<boolean>, proc: CliProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let ended = false
  void proc.done.then(() => (ended = true))
  while (!(await cond())) {
    if (ended) throw new Error(`payctl replicate ended before ${what}:\n${proc.output().stderr.slice(-3000)}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function emptyTarget(): Promise<void> {
  await emptyReplicated(target, sandbox.target.database, CONTROL)
}

beforeAll(async () => {
  source = await connect(sandbox.source)
  target = await connect(sandbox.target)
  work = await mkdtemp(path.join(tmpdir(), 'payctl-replicate-it-'))
  instances = await startInstances({configPath: sandbox.configPath, fingerprintKeyFile: runtimePaths(sandbox.dir).fingerprintKeyFile, ids: [instanceId(1)], basePort: 0, logDir: work, detached: false})
  const provision = await runCli(['provision'], {env})
  expect(provision.code, provision.stderr).toBe(0)
  await emptyTarget()
})

afterAll(async () => {
  await stopInstances(
    instances.map((i) => i.record),
    {configPath: sandbox.configPath},
  )
  await rm(work, {recursive: true, force: true})
  // the suite's other files expect a target without tables or control store
  await dropProvisioned(target, sandbox.target.database)
  await source.end()
  await target.end()
})

describe('payctl replicate under live writes, killed and resumed', () => {
  for (const seed of [11, 23, 47]) {
    it(`ends with target = source (seed ${seed})`, async () => {
      await emptyTarget()
      const rng = new Prng(seed)
      const writers = startSourceWriters(sandbox.source, seed)
      const url = instanceUrl((instances[0] as SpawnedInstance).record)
      const load = startLoad({targets: [url], ratePerSecond: 40, maxInFlight: 40, scenario: writesScenario(), seed, requestTimeoutMs: 10_000})
      const args = ['replicate', '--workers', '2', '--chunk-ms', '20']
      try {
        // kill -9 in the middle of the copy, at a seeded number of copied rows
        const killCopyAt = rng.int(2_000, 12_000)
        const first = startCli(args, {env})
        await waitFor(`${killCopyAt} rows copied`, async () => (await copiedRows()) >= killCopyAt, first)
        first.child.kill('SIGKILL')
        await first.done

        // resume; kill -9 again once it is applying changes live
        const second = startCli(args, {env})
        const killApplyAt = rng.int(20, 200)
        await waitFor(`${killApplyAt} changes applied`, async () => (await appliedChanges()) >= killApplyAt, second)
        second.child.kill('SIGKILL')
        await second.done
        expect(writers.committed).toBeGreaterThan(0)
      } finally {
        const result = await load.stop()
        await writers.stop()
        // the API's writes went through while replicate was killed and resumed
        expect(result.requests.failed, renderLoadResult(result, {colour: false})).toBe(0)
        expect(result.iterations.completed).toBeGreaterThan(0)
      }

      // writers stopped: resume once more and let it catch up
      const last = await runCli([...args, '--until', 'caught-up', '--json'], {env})
      expect(last.code, last.stderr).toBe(0)
      const result = parseJson<{result: {resumed: boolean; status: {phase: string}}}>(last).result
      expect(result.resumed).toBe(true)
      expect(result.status.phase).toBe('caught-up')

      const names = await tables()
      expect(await checksums(target, names)).toEqual(await checksums(source, names))
    })
  }
})

describe('payctl replicate refuses a source it cannot capture', () => {
  it('exits 3 naming binlog_row_image before copying anything', async () => {
    await emptyTarget()
    await source.query("SET GLOBAL binlog_row_image = 'MINIMAL'")
    try {
      const run = await runCli(['replicate', '--until', 'caught-up', '--json'], {env})
      expect(run.code, run.stderr).toBe(3)
      const out = parseJson<{error: {code: string; message: string}}>(run)
      expect(out.error.code).toBe('PAYCTL_CAPTURE_NOT_READY')
      expect(out.error.message).toContain('binlog_row_image = FULL')
    } finally {
      await source.query("SET GLOBAL binlog_row_image = 'FULL'")
    }
    expect(await copiedRows()).toBe(0)
    const [[row]] = await target.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers')
    expect(Number(row?.n)).toBe(0)
  })
})

describe('payctl replicate pause / resume and payctl status', () => {
  it('a pause holds the applier (status says so), resume applies what waited, SIGINT stops it with exit 130', async () => {
    await emptyTarget()
    const first = await runCli(['replicate', '--until', 'caught-up'], {env})
    expect(first.code, first.stderr).toBe(0)
    const proc = startCli(['replicate'], {env})
    try {
      await waitFor('live replication', async () => (await appliedChanges()) >= 0, proc)
      const pause = await runCli(['replicate', 'pause', '--reason', 'month-end batch', '--json'], {env})
      expect(pause.code, pause.stderr).toBe(0)
      type Overview = {result: {replication: {running: boolean; paused: {reason: string} | null; status: {at: string; throttled: string | null; phase: string} | null}}}
      const status = async (): Promise<Overview['result']['replication']> => parseJson<Overview>(await runCli(['status', '--json'], {env})).result.replication
      await waitFor('the pause to be seen', async () => (await status()).status?.throttled?.includes('month-end batch') === true, proc)
      const seen = await status()
      expect(seen.running).toBe(true)
      expect(seen.paused?.reason).toBe('month-end batch')

      await source.query("UPDATE customers SET name = 'held back' WHERE id = 1")
      // two heartbeats after the change: the process is alive and still holding it back
      const after = (await status()).status?.at
      await waitFor('two more heartbeats', async () => {
        const at = (await status()).status?.at
        return at !== undefined && after !== undefined && at > after && Date.parse(at) - Date.parse(after) >= 1500
      }, proc)
      const [[held]] = await target.query<mysql.RowDataPacket[]>('SELECT name FROM customers WHERE id = 1')
      expect(held?.name).not.toBe('held back')

      const resume = await runCli(['replicate', 'resume'], {env})
      expect(resume.code, resume.stderr).toBe(0)
      await waitFor('the held change to be applied', async () => {
        const [[row]] = await target.query<mysql.RowDataPacket[]>('SELECT name FROM customers WHERE id = 1')
        return row?.name === 'held back'
      }, proc)
    } finally {
      proc.child.kill('SIGINT')
    }
    const end = await proc.done
    expect(end.code, end.stderr).toBe(130)
    const [[audit]] = await target.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${CONTROL}.audit_log WHERE action IN ('replicate.pause', 'replicate.resume')`)
    expect(Number(audit?.n)).toBeGreaterThanOrEqual(2)
    const stopped = parseJson<{result: {replication: {running: boolean; status: {phase: string}}}}>(await runCli(['status', '--json'], {env})).result.replication
    expect(stopped.running).toBe(false)
    expect(stopped.status.phase).toBe('stopped')
  })
})

describe('one replicate at a time', () => {
  it('a second payctl replicate is refused with exit 3 while the first runs', async () => {
    await emptyTarget()
    const proc = startCli(['replicate'], {env})
    try {
      await waitFor('live replication', async () => (await appliedChanges()) >= 0, proc)
      const second = await runCli(['replicate', '--json'], {env})
      expect(second.code, second.stderr).toBe(3)
      expect(parseJson<{error: {code: string}}>(second).error.code).toBe('PAYCTL_REPLICATE_RUNNING')
    } finally {
      proc.child.kill('SIGTERM')
    }
    expect((await proc.done).code).toBe(130)
  })
})

describe('a target that refuses LOAD DATA LOCAL', () => {
  it('is copied with multi-row upserts instead, to the same result', async () => {
    await emptyTarget()
    await target.query('SET GLOBAL local_infile = 0')
    try {
      const run = await runCli(['replicate', '--until', 'caught-up'], {env})
      expect(run.code, run.stderr).toBe(0)
    } finally {
      await target.query('SET GLOBAL local_infile = 1')
    }
    const names = await tables()
    expect(await checksums(target, names)).toEqual(await checksums(source, names))
  })
})

describe('a schema change on the source', () => {
  it('stops replication with exit 3, the statement and what to do', async () => {
    await emptyTarget()
    const proc = startCli(['replicate', '--json'], {env})
    try {
      await waitFor('live replication', async () => (await appliedChanges()) >= 0, proc)
      await source.query('ALTER TABLE refunds ADD COLUMN payctl_probe INT NULL')
      const end = await proc.done
      expect(end.code, end.stderr).toBe(3)
      const out = parseJson<{error: {code: string; message: string; actions: string[]}}>(end)
      expect(out.error.code).toBe('PAYCTL_SOURCE_DDL')
      expect(out.error.message).toContain('ALTER TABLE refunds ADD COLUMN payctl_probe')
      expect(out.error.actions.join(' ')).toContain('payctl provision')
    } finally {
      proc.child.kill('SIGKILL')
      await source.query('ALTER TABLE refunds DROP COLUMN IF EXISTS payctl_probe')
    }
  })
})
