/**
 * payctl replicate following the cutover's routing state on the sandbox's real MariaDB servers:
 * forward copy + CDC; a routing version that flips replication to reverse (the target's changes
 * applied to the source, from the target position the cutover read); the process stopped and
 * restarted while reverse runs (it resumes reverse); a version back to forward (rollback: forward
 * restarts from the source position the cutover read, so nothing reverse wrote comes back); a
 * version with none (finalize: the process ends). Nothing loops: each stream applies exactly the
 * changes made on its capture side after its start. Then the same through the CLI: replicate
 * --detach, kill -9 while reverse applies a stream of target writes, --detach again, replicate
 * stop. Both end with source = target (CHECKSUM TABLE on every table).
 */
import {hostname} from 'node:os'
import {stat} from 'node:fs/promises'
import mysql, {type Connection} from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {findConfigPath, loadConfig, resolveConnection} from '../../src/config/index.js'
import {tableMatcher} from '../../src/config/tables.js'
import {type Query, ReplicationStore} from '../../src/control/replication-store.js'
import {type RoutingDesired, RoutingStore} from '../../src/control/routing-store.js'
import type {Engine} from '../../src/engines/engine.js'
import {openEngine} from '../../src/engines/open.js'
import {type CapturePosition, type ChangeCapture, comparePositions} from '../../src/engines/replication.js'
import {actedOn, appliedAtLeast, replicationPositions, type ReplicationPositions} from '../../src/migrators/replicate/control.js'
import {replicateLogFile} from '../../src/migrators/replicate/detached.js'
import {replicate, type ReplicateOptions, type ReplicateResult} from '../../src/migrators/replicate/replicate.js'
import {pidAlive} from '../../src/sandbox/processes.js'
import {parseJson, runCli} from './cli-helpers.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import {dropProvisioned, emptyReplicated} from './target-reset.js'

const sandbox = inject('sandbox')
const env = {PAYCTL_CONFIG: sandbox.configPath}
const CONTROL = 'payctl_control'
/** Rows this file creates carry this prefix in customers.public_id, and are removed from the source at the end. */
const MARK = 'cus_rev_'

function connect(e: SandboxEndpoint): Promise<Connection> {
  return mysql.createConnection({host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true})
}

let source: Connection
let target: Connection
let engines: Engine[] = []
let sourceCapture: ChangeCapture
let targetCapture: ChangeCapture
let options: Omit<ReplicateOptions, 'signal'>
/** Customer X: updated on both sides during the test, restored on the source at the end. */
let x: {id: string; name: string | null; updatedAt: string}
const detachedPids: number[] = []
const routing = new RoutingStore(CONTROL)

const q: Query = async <T>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
  const [rows] = await target.query(sql, params === undefined ? undefined : [...params])
  return rows as T[]
}
const positions = (): Promise<ReplicationPositions> => replicationPositions(q, CONTROL)

/** Whether the process's last published status has `direction` at or past `goal` (its counters are then those of everything up to it). */
async function published(direction: 'forward' | 'reverse', goal: CapturePosition): Promise<boolean> {
  const s = (await positions()).process.status
  const at = direction === 'forward' ? (s?.direction === 'forward' ? s.position : null) : (s?.reverse?.position ?? null)
  return at !== null && comparePositions(at, goal) >= 0
}

interface Running {
  done: Promise<ReplicateResult>
  stop(): Promise<ReplicateResult>
  readonly ended: boolean
}

/** payctl replicate in this process, until stopped (or finalized). */
function start(): Running {
  const ac = new AbortController()
  let ended = false
  const done = replicate({...options, signal: ac.signal}).finally(() => (ended = true))
  done.catch(() => undefined)
  return {
    done,
    stop: () => {
      ac.abort()
      return done
    },
    get ended() {
      return ended
    },
  }
}

async function until(what: string, cond: () => Promise<boolean>, run?: Running, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (run?.ended === true) {
      const err = await run.done.then(
        (r) => `it ended (${r.stoppedBy})`,
        (e: unknown) => String(e),
      )
      throw new Error(`payctl replicate ended before ${what}: ${err}`)
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify((await positions()).process.status?.handover ?? null)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

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

async function customer(conn: Connection, where: string, params: unknown[]): Promise<{id: string; name: string | null} | null> {
  const [[row]] = await conn.query<mysql.RowDataPacket[]>(`SELECT id, name FROM customers WHERE ${where}`, params)
  return row === undefined ? null : {id: String(row.id), name: row.name === null ? null : String(row.name)}
}

async function insertCustomer(conn: Connection, tag: string): Promise<void> {
  await conn.query("INSERT INTO customers (public_id, email, name, country, preferred_currency, metadata) VALUES (?, ?, ?, 'DE', 'EUR', ?)", [`${MARK}${tag}`, `${tag}@example.com`, `created ${tag}`, JSON.stringify({tag})])
}

async function setRouting(patch: Partial<RoutingDesired>, reason: string): Promise<number> {
  const current = await routing.current(q)
  return routing.set(q, current.version, {...current.desired, ...patch}, 'it@reverse-replication', hostname(), reason)
}

/**
 * The cutover's flip, as far as replication is concerned: source position P once forward has
 * applied it, then reverse from the target's position Q. `late`: a source write committed after P
 * (an unfenced straggler), made while the applier is paused so that it waits, unapplied, in the
 * forward stream when the flip asks that stream to stop at P.
 */
async function flipToReverse(run?: Running, late?: () => Promise<void>): Promise<number> {
  const p = await sourceCapture.currentPosition()
  await until('forward to apply the source position', async () => appliedAtLeast(await positions(), 'forward', p), run)
  const from = await targetCapture.currentPosition()
  const store = new ReplicationStore(CONTROL)
  if (late !== undefined) {
    await store.setPaused(q, true, 'it@reverse-replication', 'hold the straggler')
    await until('the pause to be seen', async () => ((await positions()).process.status?.paused ?? null) !== null, run)
    await late()
  }
  const version = await setRouting({writes: 'target', replication: {direction: 'reverse', stopAt: p, from}}, 'flip')
  if (late !== undefined) await store.setPaused(q, false, 'it@reverse-replication', null)
  await until('reverse replication to start', async () => {
    const s = await positions()
    return actedOn(s, version) && s.process.alive && s.process.status?.direction === 'reverse'
  }, run)
  return version
}

/** Rollback: target position Q' once reverse has applied it, then forward from the source's position P'. */
async function rollBackToForward(run: Running): Promise<number> {
  const stopAt = await targetCapture.currentPosition()
  await until('reverse to apply the target position', async () => appliedAtLeast(await positions(), 'reverse', stopAt), run)
  const from = await sourceCapture.currentPosition()
  const version = await setRouting({writes: 'source', replication: {direction: 'forward', stopAt, from}}, 'rollback')
  await until('forward replication to start again', async () => {
    const s = await positions()
    return actedOn(s, version) && s.process.status?.direction === 'forward'
  }, run)
  return version
}

async function resetTarget(): Promise<void> {
  await emptyReplicated(target, sandbox.target.database, CONTROL)
  await target.query(`DELETE FROM ${CONTROL}.routing_state`)
}

beforeAll(async () => {
  source = await connect(sandbox.source)
  target = await connect(sandbox.target)
  const provision = await runCli(['provision'], {env})
  expect(provision.code, provision.stderr).toBe(0)
  const loaded = await loadConfig(findConfigPath(sandbox.configPath, process.cwd()))
  const [s, t] = [await resolveConnection('source', loaded), await resolveConnection('target', loaded)]
  options = {source: s, target: t, controlDatabase: loaded.config.controlStore.database, tables: tableMatcher(loaded.config.tables), workers: 2, untilCaughtUp: false, restart: false, maxLagSeconds: 30, statusIntervalMs: 250, heapBudgetMb: 2048}
  expect(options.controlDatabase).toBe(CONTROL)
  engines = [await openEngine(s), await openEngine(t)]
  const capture = (e: Engine | undefined): ChangeCapture => {
    if (e?.replication === undefined) throw new Error('no replication support')
    return e.replication.capture
  }
  sourceCapture = capture(engines[0])
  targetCapture = capture(engines[1])
  const [[row]] = await source.query<mysql.RowDataPacket[]>('SELECT id, name, updated_at FROM customers ORDER BY id LIMIT 1')
  x = {id: String(row?.id), name: row?.name === null ? null : String(row?.name), updatedAt: String(row?.updated_at)}
  await resetTarget()
})

afterAll(async () => {
  for (const pid of detachedPids) if (await pidAlive(pid)) process.kill(pid, 'SIGKILL')
  // the other files expect the source's data set as the sandbox made it, and a target without tables or control store
  await source.query('SET foreign_key_checks = 0')
  await source.query('DELETE FROM customers WHERE public_id LIKE ?', [`${MARK}%`])
  await source.query('SET foreign_key_checks = 1')
  await source.query("DELETE FROM outbox_events WHERE aggregate_id LIKE 'rev_%'")
  await source.query('UPDATE customers SET name = ?, updated_at = ? WHERE id = ?', [x.name, x.updatedAt, x.id])
  await dropProvisioned(target, sandbox.target.database, CONTROL)
  for (const e of engines) await e.close()
  await source.end()
  await target.end()
})

describe('payctl replicate follows the routing state: forward, reverse, back, finalize', () => {
  it('applies each side\'s changes once, in the direction asked, and ends with source = target', async () => {
    // forward: the copy, then changes
    let run = start()
    await until('every table copied and replicating', async () => {
      const s = (await positions()).process.status
      return s?.phase === 'replicating' && s.tables.every((t) => t.state === 'replicating')
    }, run)
    await insertCustomer(source, 'src1')
    await until('a source insert to reach the target', async () => (await customer(target, 'public_id = ?', [`${MARK}src1`])) !== null, run)

    // the write flip: forward drains to P and stops there, reverse starts at Q
    await flipToReverse(run, async () => {
      await source.query("UPDATE customers SET name = 'stray source write' WHERE id = ?", [x.id])
    })
    // the straggler came after P: forward stopped before it
    expect((await customer(target, 'id = ?', [x.id]))?.name).toBe(x.name)
    await insertCustomer(target, 'tgt1')
    await target.query("UPDATE customers SET name = 'updated on the target' WHERE id = ?", [x.id])
    await target.query("INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES ('customer', 'rev_1', 'customer.created', '{}')")
    await target.query("DELETE FROM outbox_events WHERE aggregate_id = 'rev_1'")
    await until('the target\'s changes to reach the source', async () => (await customer(source, 'id = ?', [x.id]))?.name === 'updated on the target' && (await customer(source, 'public_id = ?', [`${MARK}tgt1`])) !== null, run)
    const written = await targetCapture.currentPosition()
    await until('reverse to publish the target\'s position', () => published('reverse', written), run)
    const [[outbox]] = await source.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM outbox_events WHERE aggregate_id = 'rev_1'")
    expect(Number(outbox?.n)).toBe(0)
    const flipped = (await positions()).process.status
    // exactly the four target changes: nothing forward wrote on the target came back
    expect(flipped?.reverse?.changesApplied).toBe(4)
    expect((await customer(target, 'id = ?', [x.id]))?.name).toBe('updated on the target')

    // stopped while reverse runs, written meanwhile, started again: it resumes reverse
    const stopped = await run.stop()
    expect(stopped.stoppedBy).toBe('signal')
    expect(stopped.direction).toBe('reverse')
    expect(stopped.status.phase).toBe('stopped')
    await target.query("UPDATE customers SET name = 'updated while replicate was down' WHERE id = ?", [x.id])
    run = start()
    await until('reverse to resume and apply it', async () => (await customer(source, 'id = ?', [x.id]))?.name === 'updated while replicate was down', run)
    expect((await positions()).process.status?.direction).toBe('reverse')

    // rollback: reverse drains to Q', forward restarts at P' (after everything reverse wrote on the source)
    await rollBackToForward(run)
    await insertCustomer(source, 'src2')
    await source.query("UPDATE customers SET name = 'back on the source' WHERE public_id = ?", [`${MARK}tgt1`])
    const sourceNow = await sourceCapture.currentPosition()
    await until('forward to publish the source\'s position', () => published('forward', sourceNow), run)
    expect((await customer(target, 'public_id = ?', [`${MARK}src2`]))?.name).toBe('created src2')
    expect((await customer(target, 'public_id = ?', [`${MARK}tgt1`]))?.name).toBe('back on the source')
    const back = (await positions()).process.status
    // exactly the two new source changes: neither the stray write nor reverse's own writes were applied forward
    expect(back?.changesApplied).toBe(2)
    expect((await customer(target, 'id = ?', [x.id]))?.name).toBe('updated while replicate was down')

    // finalize: drains forward to the source's position and ends
    const version = await setRouting({replication: {direction: 'none', stopAt: await sourceCapture.currentPosition()}}, 'finalize')
    const end = await run.done
    expect(end.stoppedBy).toBe('finalized')
    expect(end.direction).toBe('none')
    expect(end.routingVersion).toBe(version)
    expect(end.status.phase).toBe('stopped')
    expect((await positions()).process.alive).toBe(false)

    const names = await tables()
    expect(await checksums(target, names)).toEqual(await checksums(source, names))
    const [[audit]] = await target.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${CONTROL}.audit_log WHERE action = 'replicate.direction'`)
    expect(Number(audit?.n)).toBe(3)
  })
})

describe('payctl replicate --detach, kill -9 during reverse replication, replicate stop', () => {
  it('resumes reverse after kill -9 without losing or doubling a target write, and stops on request', async () => {
    await resetTarget()
    const first = await runCli(['replicate', '--detach', '--workers', '2', '--json'], {env})
    expect(first.code, first.stderr).toBe(0)
    const started = parseJson<{result: {pid: number; logFile: string}}>(first).result
    detachedPids.push(started.pid)
    expect(started.logFile).toBe(replicateLogFile(sandbox.configPath))
    await until('every table copied and replicating', async () => {
      const s = (await positions()).process.status
      return s?.phase === 'replicating' && s.tables.every((t) => t.state === 'replicating')
    })
    await flipToReverse()

    // the application writing on the target: new customers and updates of them, one per transaction
    let writing = true
    let written = 0
    const writer = (async () => {
      const conn = await connect(sandbox.target)
      try {
        while (writing) {
          const n = written++
          await insertCustomer(conn, `k${n}`)
          if (n > 0) await conn.query('UPDATE customers SET name = ? WHERE public_id = ?', [`renamed ${n}`, `${MARK}k${n - 1}`])
        }
      } finally {
        await conn.end()
      }
    })()
    try {
      await until('reverse to apply some of them', async () => ((await positions()).process.status?.reverse?.changesApplied ?? 0) >= 40)
      process.kill(started.pid, 'SIGKILL')
      await until('the killed process to be gone', async () => !(await pidAlive(started.pid)))
      const again = await runCli(['replicate', '--detach', '--workers', '2', '--json'], {env})
      expect(again.code, again.stderr).toBe(0)
      const resumed = parseJson<{result: {pid: number}}>(again).result
      detachedPids.push(resumed.pid)
      await until('reverse to run again', async () => {
        const s = await positions()
        return s.process.pid === resumed.pid && s.process.status?.direction === 'reverse' && (s.process.status.reverse?.changesApplied ?? 0) > 0
      })
    } finally {
      writing = false
      await writer
    }
    const end = await targetCapture.currentPosition()
    await until('reverse to apply every target write', async () => appliedAtLeast(await positions(), 'reverse', end))
    const names = await tables()
    expect(await checksums(source, names)).toEqual(await checksums(target, names))
    const [[count]] = await source.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM customers WHERE public_id LIKE ?', [`${MARK}k%`])
    expect(Number(count?.n)).toBe(written)

    const stop = await runCli(['replicate', 'stop', '--json'], {env})
    expect(stop.code, stop.stderr).toBe(0)
    expect(parseJson<{result: {stopped: boolean; phase: string}}>(stop).result).toMatchObject({stopped: true, phase: 'stopped'})
    expect(await pidAlive(detachedPids.at(-1) ?? 0)).toBe(false)
    expect((await positions()).process.alive).toBe(false)
    expect((await stat(started.logFile)).size).toBeGreaterThan(0)
    const none = await runCli(['replicate', 'stop', '--json'], {env})
    expect(parseJson<{result: {stopped: boolean}}>(none).result.stopped).toBe(false)
  })
})
