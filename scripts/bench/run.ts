/**
 * npm run bench: payctl replicate against baselines, all measured in one run on a private sandbox.
 *
 *   1. full load of the sandbox source into the provisioned target, three ways, each into emptied
 *      target tables and each verified (target row counts = source row counts):
 *        a. mariadb-dump --single-transaction | mariadb          (SQL text through a pipe)
 *        b. mariadb-dump --tab + mariadb-import (LOAD DATA INFILE) (tab-separated files)
 *        c. payctl replicate --restart --until caught-up           (last, so CDC can follow it)
 *      reported as rows/s, MB/s, seconds and payctl's ratio against each baseline
 *      (baseline_seconds / payctl_seconds: above 1 means payctl is faster).
 *   2. payctl's peak RSS during its full load (/proc/<pid>/status VmRSS every 100 ms, and VmHWM).
 *   3. change capture: payctl replicate (no --until) follows the source while the load generator
 *      drives the payment service's `writes` scenario at a rate calibrated to about --cdc-rate row
 *      changes/s for --cdc-seconds; payctl_control.replication_state is sampled every 250 ms for
 *      lag and apply rate.
 *   4. verify (after the CDC part, replication stopped, so the target equals the source):
 *      `payctl verify --json` wall time, exit code (must be 0), hash method per table and peak RSS,
 *      against the server-native floor: `CHECKSUM TABLE <the compared tables>` on both servers at the
 *      same time (wall time until both finish; run before and after verify, the faster one counts).
 *      Ratio = verify seconds / floor seconds (1.0: as fast as the floor). --no-verify skips it.
 *
 * The sandbox lives in its own temporary folder with OS-chosen ports and is brought down (and
 * deleted) at the end, also on failure or Ctrl-C. Output: a table on stdout, the figures in
 * reports/bench-replicate.json; progress on stderr.
 *
 *   npm run bench -- --scale 0.2
 *   PAYCTL_BENCH_SCALE=10 npm run bench
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {cpus, tmpdir, totalmem} from 'node:os'
import path from 'node:path'
import {parseArgs} from 'node:util'

import mysql from 'mysql2/promise'

import {startLoad, type LoadResult} from '../../src/load/generator.js'
import {writesScenario} from '../../src/load/scenarios.js'
import {instanceId, instanceUrl, type SpawnedInstance, startInstances, stopInstances} from '../../src/runtime-manager/index.js'
import {runtimePaths, sandboxConnectionInfo, sandboxDown, sandboxUp, type SandboxState} from '../../src/sandbox/index.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const CONTROL_DB = 'payctl_control'
const MB = 1024 * 1024

// ------------------------------------------------------------------------------------------ options

const {values: flags} = parseArgs({
  options: {
    scale: {type: 'string', default: process.env.PAYCTL_BENCH_SCALE ?? '10'},
    seed: {type: 'string', default: process.env.PAYCTL_BENCH_SEED ?? '1'},
    workers: {type: 'string', default: process.env.PAYCTL_BENCH_WORKERS ?? '4'},
    'cdc-seconds': {type: 'string', default: process.env.PAYCTL_BENCH_CDC_SECONDS ?? '30'},
    'cdc-rate': {type: 'string', default: process.env.PAYCTL_BENCH_CDC_RATE ?? '300'},
    'runtime-instances': {type: 'string', default: process.env.PAYCTL_BENCH_RUNTIME_INSTANCES ?? '1'},
    out: {type: 'string', default: process.env.PAYCTL_BENCH_OUT ?? path.join(ROOT, 'reports/bench-replicate.json')},
    'no-build': {type: 'boolean', default: process.env.PAYCTL_BENCH_NO_BUILD === '1'},
    'no-verify': {type: 'boolean', default: process.env.PAYCTL_BENCH_NO_VERIFY === '1'},
    keep: {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
  allowPositionals: false,
})

if (flags.help) {
  process.stdout.write(`npm run bench -- [--scale 10] [--seed 1] [--workers 4] [--cdc-seconds 30] [--cdc-rate 300]
                      [--runtime-instances 1] [--out reports/bench-replicate.json] [--no-build] [--no-verify] [--keep]
env: PAYCTL_BENCH_SCALE, PAYCTL_BENCH_SEED, PAYCTL_BENCH_WORKERS, PAYCTL_BENCH_CDC_SECONDS, PAYCTL_BENCH_CDC_RATE,
     PAYCTL_BENCH_RUNTIME_INSTANCES, PAYCTL_BENCH_OUT, PAYCTL_BENCH_NO_BUILD=1, PAYCTL_BENCH_NO_VERIFY=1
--no-verify skips the payctl verify part (run after the CDC part).
--keep leaves the sandbox running (its folder is printed); otherwise it is stopped and deleted.
`)
  // eslint-disable-next-line no-restricted-syntax -- a script, not a command: --help ends it here
  process.exit(0)
}

const num = (name: string, text: string, min: number): number => {
  const v = Number(text)
  if (!Number.isFinite(v) || v < min) throw new Error(`--${name} must be a number >= ${min} (got ${JSON.stringify(text)})`)
  return v
}
const SCALE = num('scale', flags.scale, 0.0001)
const SEED = Math.trunc(num('seed', flags.seed, 0))
const WORKERS = Math.trunc(num('workers', flags.workers, 1))
const CDC_SECONDS = num('cdc-seconds', flags['cdc-seconds'], 1)
const CDC_RATE = num('cdc-rate', flags['cdc-rate'], 1)
const RUNTIME_INSTANCES = Math.max(1, Math.trunc(num('runtime-instances', flags['runtime-instances'], 1)))

// ------------------------------------------------------------------------------------------ helpers

const t0 = Date.now()
function log(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${message}\n`)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Child processes this script started and that may still run: killed on the way out. */
const children = new Set<ChildProcess>()

function run(cmd: string, args: string[], o: {env?: NodeJS.ProcessEnv; cwd?: string; onSpawn?: (c: ChildProcess) => void} = {}): {child: ChildProcess; done: Promise<Exit>} {
  const child = spawn(cmd, args, {cwd: o.cwd ?? ROOT, env: {...process.env, NO_COLOR: '1', ...o.env}, stdio: ['ignore', 'pipe', 'pipe']})
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const done = new Promise<Exit>((resolve, reject) => {
    child.on('error', (err) => {
      children.delete(child)
      reject(err)
    })
    child.on('close', (code, signal) => {
      children.delete(child)
      resolve({code, signal, stdout, stderr})
    })
  })
  o.onSpawn?.(child)
  return {child, done}
}

async function mustRun(what: string, cmd: string, args: string[], o: {env?: NodeJS.ProcessEnv} = {}): Promise<Exit> {
  const r = await run(cmd, args, o).done
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-4000)}${r.stdout.slice(-2000)}`)
  return r
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i] as number
}

const fmt = (n: number | null | undefined, digits = 1): string => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits}))
const fmtInt = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'))

function renderTable(header: string[], rows: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

// ------------------------------------------------------------------------------------------ databases

type Conn = mysql.Connection
interface Endpoint {
  host: string
  port: number
  user: string
  password: string
  database: string
}

async function endpoint(dir: string, server: 'legacy' | 'target'): Promise<Endpoint> {
  const c = await sandboxConnectionInfo(dir, server)
  return {host: c.host, port: c.port, user: c.user, password: c.password.reveal(), database: c.database}
}

const connect = (e: Endpoint): Promise<Conn> => mysql.createConnection({host: e.host, port: e.port, user: e.user, password: e.password, database: e.database, supportBigNumbers: true, bigNumberStrings: false})

async function sourceTables(conn: Conn, database: string): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [database])
  return rows.map((r) => String(r.t))
}

async function counts(conn: Conn, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const t of tables) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${t}\``)
    out[t] = Number(rows[0]?.n)
  }
  return out
}

const total = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0)

async function truncateTarget(conn: Conn, tables: string[]): Promise<void> {
  await conn.query('SET foreign_key_checks = 0')
  for (const t of tables) await conn.query(`TRUNCATE TABLE \`${t}\``)
  await conn.query('SET foreign_key_checks = 1')
  const c = await counts(conn, tables)
  if (total(c) !== 0) throw new Error(`target tables not empty after TRUNCATE: ${JSON.stringify(c)}`)
}

/** Target counts must equal the source's, table by table: a method that copied nothing must not look fast. */
async function verify(method: string, target: Conn, tables: string[], expected: Record<string, number>): Promise<{ok: true; rows: number}> {
  const got = await counts(target, tables)
  const bad = tables.filter((t) => got[t] !== expected[t])
  if (bad.length > 0) throw new Error(`${method}: target row counts differ from the source's: ${bad.map((t) => `${t} ${got[t]} != ${expected[t]}`).join(', ')}`)
  log(`${method}: verified, ${total(got).toLocaleString('en-US')} rows in ${tables.length} tables match the source`)
  return {ok: true, rows: total(got)}
}

/** A [client] option file for the mariadb tools, so no password appears on a command line. */
async function clientCnf(file: string, e: Endpoint): Promise<string> {
  await writeFile(file, `[client]\nhost=${e.host}\nport=${e.port}\nuser=${e.user}\npassword="${e.password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\nprotocol=tcp\n`, {mode: 0o600})
  return file
}

// ------------------------------------------------------------------------------------------ memory sampling

interface MemSampler {
  stop(): {peakRssMb: number; hwmMb: number; samples: number}
}

/** VmRSS every 100 ms and VmHWM (the kernel's own peak) of one process. */
function sampleMemory(pid: number): MemSampler {
  let peakRss = 0
  let hwm = 0
  let samples = 0
  const read = async (): Promise<void> => {
    const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0)
    if (text === '') return
    samples++
    peakRss = Math.max(peakRss, kb('VmRSS'))
    hwm = Math.max(hwm, kb('VmHWM'))
  }
  void read()
  const timer = setInterval(() => void read(), 100)
  return {
    stop() {
      clearInterval(timer)
      return {peakRssMb: peakRss / 1024, hwmMb: hwm / 1024, samples}
    },
  }
}

// ------------------------------------------------------------------------------------------ full-load methods

interface FullLoad {
  method: string
  command: string
  seconds: number
  rows: number
  rowsPerSecond: number
  /** Over the common payload (the tables as tab-separated text, from the --tab dump). */
  mbPerSecond: number | null
  /** What the method itself moved, where it says (SQL text, TSV files, payctl's own byte count). */
  ownBytes: number | null
  detail: Record<string, unknown>
  verified: boolean
}

async function dumpPipe(c: Ctx): Promise<FullLoad> {
  await truncateTarget(c.target, c.tables)
  const dump = ['mariadb-dump', `--defaults-extra-file=${c.sourceCnf}`, '--single-transaction', '--no-create-info', '--skip-triggers', c.sourceDb.database, ...c.tables]
  const load = ['mariadb', `--defaults-extra-file=${c.targetCnf}`, '--init-command=SET foreign_key_checks=0', c.targetDb.database]
  const shell = `set -o pipefail; ${dump.map(q).join(' ')} | tee >(wc -c > ${q(c.work)}/dump-bytes) | ${load.map(q).join(' ')}`
  log('full load: mariadb-dump | mariadb ...')
  const started = performance.now()
  await mustRun('mariadb-dump | mariadb', 'bash', ['-c', shell])
  const seconds = (performance.now() - started) / 1000
  await sleep(200) // the process substitution's wc may finish just after the pipeline
  const bytes = Number((await readFile(path.join(c.work, 'dump-bytes'), 'utf8').catch(() => '')).trim()) || null
  const v = await verify('mariadb-dump | mariadb', c.target, c.tables, c.sourceCounts)
  return {
    method: 'mariadb-dump | mariadb',
    command: `${dump.join(' ')} | ${load.join(' ')}`,
    seconds,
    rows: v.rows,
    rowsPerSecond: v.rows / seconds,
    mbPerSecond: null,
    ownBytes: bytes,
    detail: {sqlBytes: bytes},
    verified: v.ok,
  }
}

async function dumpTab(c: Ctx): Promise<FullLoad> {
  await truncateTarget(c.target, c.tables)
  // --tab makes the source server write the files (SELECT ... INTO OUTFILE): they must be in its
  // secure_file_priv folder, which is also the target's (both servers share <sandbox>/load).
  const tabDir = path.join(c.state.dir, 'load', 'bench-tab')
  await rm(tabDir, {recursive: true, force: true})
  await mkdir(tabDir, {recursive: true, mode: 0o777})
  const dump = ['mariadb-dump', `--defaults-extra-file=${c.sourceCnf}`, '--single-transaction', '--no-create-info', '--skip-triggers', `--tab=${tabDir}`, c.sourceDb.database, ...c.tables]
  log('full load: mariadb-dump --tab ...')
  const started = performance.now()
  await mustRun('mariadb-dump --tab', dump[0] as string, dump.slice(1))
  const dumpSeconds = (performance.now() - started) / 1000
  const files = c.tables.map((t) => path.join(tabDir, `${t}.txt`))
  let bytes = 0
  for (const f of files) bytes += (await stat(f)).size
  const imp = ['mariadb-import', `--defaults-extra-file=${c.targetCnf}`, '--ignore-foreign-keys', `--use-threads=${WORKERS}`, c.targetDb.database, ...files]
  log(`full load: mariadb-import (LOAD DATA INFILE, ${WORKERS} threads) of ${(bytes / MB).toFixed(1)} MB ...`)
  const importStarted = performance.now()
  await mustRun('mariadb-import', imp[0] as string, imp.slice(1))
  const importSeconds = (performance.now() - importStarted) / 1000
  const seconds = (performance.now() - started) / 1000
  const v = await verify('mariadb-dump --tab + mariadb-import', c.target, c.tables, c.sourceCounts)
  await rm(tabDir, {recursive: true, force: true})
  c.payloadBytes = bytes
  return {
    method: 'mariadb-dump --tab + mariadb-import',
    command: `${dump.join(' ')} && ${imp.slice(0, 5).join(' ')} <dir>/*.txt`,
    seconds,
    rows: v.rows,
    rowsPerSecond: v.rows / seconds,
    mbPerSecond: null,
    ownBytes: bytes,
    detail: {tsvBytes: bytes, dumpSeconds, importSeconds, importThreads: WORKERS},
    verified: v.ok,
  }
}

interface ReplicateJson {
  rowsCopied: number
  bytesCopied: number
  copySeconds: number
  changesApplied: number
  status: {phase: string}
}

async function payctlFullLoad(c: Ctx): Promise<{load: FullLoad; memory: ReturnType<MemSampler['stop']>}> {
  const args = ['bin/run.js', 'replicate', '--restart', '--until', 'caught-up', '--json', '--workers', String(WORKERS)]
  log(`full load: payctl ${args.slice(1).join(' ')} ...`)
  let sampler: MemSampler | null = null
  const started = performance.now()
  const r = run(process.execPath, args, {env: c.env, onSpawn: (child) => (sampler = sampleMemory(child.pid as number))})
  const exit = await r.done
  const seconds = (performance.now() - started) / 1000
  const memory = (sampler as MemSampler | null)?.stop() ?? {peakRssMb: 0, hwmMb: 0, samples: 0}
  if (exit.code !== 0) throw new Error(`payctl replicate --restart --until caught-up failed (exit ${exit.code ?? exit.signal}):\n${exit.stderr.slice(-4000)}\n${exit.stdout.slice(-4000)}`)
  const result = (JSON.parse(exit.stdout) as {result: ReplicateJson}).result
  if (result.status.phase !== 'caught-up') throw new Error(`payctl replicate ended in phase ${result.status.phase}`)
  const v = await verify('payctl replicate', c.target, c.tables, c.sourceCounts)
  return {
    load: {
      method: 'payctl replicate',
      command: `PAYCTL_CONFIG=<sandbox>/payctl.yaml node ${args.join(' ')}`,
      seconds,
      rows: v.rows,
      rowsPerSecond: v.rows / seconds,
      mbPerSecond: null,
      ownBytes: result.bytesCopied,
      detail: {rowsCopied: result.rowsCopied, bytesCopied: result.bytesCopied, copySeconds: result.copySeconds, workers: WORKERS, note: 'seconds = wall time of the process (start-up, introspection, copy, catch-up); copySeconds = payctl\'s own copy clock'},
      verified: v.ok,
    },
    memory,
  }
}

const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

// ------------------------------------------------------------------------------------------ CDC

interface StatusRow {
  phase: string
  at: string
  lagSeconds: number | null
  changesApplied: number
  applyRatePerSecond: number
}

async function readStatus(target: Conn): Promise<StatusRow | null> {
  const [rows] = await target.query<mysql.RowDataPacket[]>(`SELECT status FROM ${CONTROL_DB}.replication_state WHERE run_id = 'forward'`)
  const raw: unknown = rows[0]?.status
  if (raw === null || raw === undefined) return null
  const s = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StatusRow
  return s
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, alive: () => boolean = () => true): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== null) return v
    if (!alive()) throw new Error(`gave up waiting for ${what}: the process ended`)
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await sleep(100)
  }
}

/** Waits until the published status shows no lag and the applied counter has stopped moving. */
async function waitCaughtUp(target: Conn, alive: () => boolean, timeoutMs: number): Promise<StatusRow> {
  let last: StatusRow | null = null
  let stableSince = 0
  return waitFor('replication to catch up', timeoutMs, async () => {
    const s = await readStatus(target)
    if (s === null) return null
    if (last !== null && s.changesApplied === last.changesApplied && (s.lagSeconds ?? 1) === 0) {
      if (stableSince === 0) stableSince = Date.now()
      if (Date.now() - stableSince >= 2500) return s
    } else {
      stableSince = 0
    }
    last = s
    return null
  }, alive)
}

interface CdcResult {
  loadRatePerSecond: number
  changesPerIteration: number
  calibration: {iterations: number; changes: number}
  loadSeconds: number
  changesDuringLoad: number
  changeRatePerSecond: number
  catchUpSeconds: number
  lag: {samples: number; distinctStatuses: number; p50: number | null; p99: number | null; max: number | null}
  applyRate: {mean: number | null; p50: number | null; max: number | null}
  load: {scenario: string; askedRate: number; achievedRate: number; started: number; completed: number; failed: number; dropped: number; requests: number; failedRequests: number; failedByKind: Record<string, number>; latencyP50Ms: number; latencyP99Ms: number}
  verifiedAfter: boolean
}

async function cdc(c: Ctx): Promise<CdcResult> {
  const args = ['bin/run.js', 'replicate', '--workers', String(WORKERS)]
  log(`CDC: starting payctl ${args.slice(1).join(' ')} (runs until stopped)`)
  const spawnedAt = Date.now()
  const rep = run(process.execPath, args, {env: c.env})
  let repEnded = false
  void rep.done.then(() => (repEnded = true))
  c.replicateChild = rep
  try {
    await waitFor('payctl replicate to publish a fresh "replicating" status', 120_000, async () => {
      const s = await readStatus(c.target)
      return s !== null && s.phase === 'replicating' && Date.parse(s.at) >= spawnedAt - 1000 ? s : null
    }, () => !repEnded)

    log(`CDC: starting ${RUNTIME_INSTANCES} payment service instance(s) on the source`)
    c.instances = await startInstances({
      configPath: c.state.configPath as string,
      fingerprintKeyFile: runtimePaths(c.state.dir).fingerprintKeyFile,
      ids: Array.from({length: RUNTIME_INSTANCES}, (_, i) => instanceId(i + 1)),
      basePort: 0,
      logDir: path.join(c.work, 'runtime'),
      detached: false,
    })
    const targets = c.instances.map((i) => instanceUrl(i.record))

    // Calibration: row changes per `writes` iteration, from the applied counter.
    const before = await waitCaughtUp(c.target, () => !repEnded, 60_000)
    const calRate = 20
    log(`CDC: calibrating (writes scenario at ${calRate} it/s for 4 s)`)
    const cal = await startLoad({targets, ratePerSecond: calRate, durationMs: 4000, maxInFlight: 200, scenario: writesScenario(), seed: SEED + 1000, requestTimeoutMs: 10_000}).finished
    const afterCal = await waitCaughtUp(c.target, () => !repEnded, 60_000)
    const calChanges = afterCal.changesApplied - before.changesApplied
    const perIteration = cal.iterations.completed > 0 ? calChanges / cal.iterations.completed : 0
    if (!(perIteration > 0)) throw new Error(`calibration: ${cal.iterations.completed} iterations gave ${calChanges} applied changes (failed ${cal.iterations.failed}); cannot size the load`)
    const rate = Math.max(1, Math.round((CDC_RATE / perIteration) * 10) / 10)
    log(`CDC: ${perIteration.toFixed(2)} row changes per iteration; load at ${rate} it/s for ${CDC_SECONDS} s (aim: ${CDC_RATE} changes/s)`)

    // The measured run: sample the published status every 250 ms.
    const samples: StatusRow[] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const s = await readStatus(c.target).catch(() => null)
        if (s !== null) samples.push(s)
        await sleep(250)
      }
    })()
    const startStatus = await readStatus(c.target)
    const loadStartWall = Date.now()
    const loadStarted = performance.now()
    const load: LoadResult = await startLoad({targets, ratePerSecond: rate, durationMs: CDC_SECONDS * 1000, maxInFlight: 500, scenario: writesScenario(), seed: SEED, requestTimeoutMs: 10_000}).finished
    const loadSeconds = (performance.now() - loadStarted) / 1000
    const loadEnded = performance.now()
    const loadEndWall = Date.now()
    const end = await waitCaughtUp(c.target, () => !repEnded, 120_000)
    const catchUpSeconds = Math.max(0, (performance.now() - loadEnded) / 1000 - 2.5) // minus the 2.5 s of stability waitCaughtUp asks for
    sampling = false
    await sampler
    const changes = end.changesApplied - (startStatus?.changesApplied ?? afterCal.changesApplied)

    // Lag and apply rate: one value per published status (payctl publishes every second).
    // (statuses published from the load's start until 1 s after its end)
    const duringLoad = samples.filter((s) => Date.parse(s.at) >= loadStartWall && Date.parse(s.at) <= loadEndWall + 1000)
    const distinct = [...new Map(duringLoad.map((s) => [s.at, s])).values()]
    const lags = distinct.map((s) => s.lagSeconds ?? 0).sort((a, b) => a - b)
    const rates = distinct.map((s) => s.applyRatePerSecond).sort((a, b) => a - b)

    // After the load: the source's counts must be on the target too.
    const src = await counts(c.source, c.tables)
    const v = await verify('CDC', c.target, c.tables, src)

    return {
      loadRatePerSecond: rate,
      changesPerIteration: perIteration,
      calibration: {iterations: cal.iterations.completed, changes: calChanges},
      loadSeconds,
      changesDuringLoad: changes,
      changeRatePerSecond: changes / loadSeconds,
      catchUpSeconds,
      lag: {samples: duringLoad.length, distinctStatuses: distinct.length, p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags.at(-1) ?? null},
      applyRate: {mean: rates.length === 0 ? null : rates.reduce((a, b) => a + b, 0) / rates.length, p50: percentile(rates, 50), max: rates.at(-1) ?? null},
      load: {
        scenario: load.scenario,
        askedRate: load.ratePerSecond,
        achievedRate: load.achievedRate,
        started: load.iterations.started,
        completed: load.iterations.completed,
        failed: load.iterations.failed,
        dropped: load.iterations.dropped,
        requests: load.requests.total,
        failedRequests: load.requests.failed,
        failedByKind: load.requests.failedByKind,
        latencyP50Ms: load.latency.p50,
        latencyP99Ms: load.latency.p99,
      },
      verifiedAfter: v.ok,
    }
  } finally {
    await stopReplicate(c)
    await stopRuntimeInstances(c)
  }
}

async function stopReplicate(c: Ctx): Promise<void> {
  const rep = c.replicateChild
  if (rep === null) return
  c.replicateChild = null
  if (rep.child.exitCode === null && rep.child.signalCode === null) {
    rep.child.kill('SIGTERM')
    const timer = setTimeout(() => rep.child.kill('SIGKILL'), 30_000)
    const exit = await rep.done.catch(() => null)
    clearTimeout(timer)
    log(`CDC: payctl replicate stopped (exit ${exit?.code ?? exit?.signal})`)
  }
}

async function stopRuntimeInstances(c: Ctx): Promise<void> {
  if (c.instances.length === 0) return
  const records = c.instances.map((i) => i.record)
  c.instances = []
  await stopInstances(records, {configPath: c.state.configPath ?? undefined}).catch((err: unknown) => log(`stopping the runtime failed: ${String(err)}`))
}

// ------------------------------------------------------------------------------------------ verify

/** The part of payctl verify's --json result (src/validators/types.ts VerifyResult) the bench reads. */
interface VerifyJson {
  status: 'equal' | 'different'
  tables: {table: string; method: string; methodReason: string; chunks: number; rechecked: number; splits?: number; sourceRows: number; targetRows: number; status: string; seconds: number}[]
  totals: {tables: number; equal: number; different: number; rowsCompared: number; rowDiffs: number; seconds: number}
}

interface FloorRun {
  /** Wall time until both servers' CHECKSUM TABLE finished. */
  seconds: number
  sourceSeconds: number
  targetSeconds: number
  /** Tables whose CHECKSUM TABLE value differs between the servers (informational: it depends on the row format). */
  checksumMismatches: string[]
}

interface VerifySection {
  command: string
  exitCode: number
  status: string
  seconds: number
  /** payctl verify's own clock (result.totals.seconds). */
  ownSeconds: number
  rowsCompared: number
  rowsPerSecond: number
  tables: {table: string; method: string; methodReason: string; status: string; rows: number; chunks: number; splits: number; seconds: number}[]
  methods: Record<string, number>
  peakMemory: {vmHwmMb: number; sampledPeakVmRssMb: number; samples: number}
  floor: {
    command: string
    /** The faster of the two runs (before and after payctl verify; only the one after when verify compared fewer tables than the bench knows). */
    seconds: number
    rowsPerSecond: number
    runs: {beforeVerify: FloorRun; afterVerify: FloorRun}
  }
  /** verify seconds / floor seconds: 1.0 is as fast as the floor; goal < 2, stretch < 1.2. */
  ratio: number
}

/** CHECKSUM TABLE over all the tables on both servers at the same time, one connection each. */
async function checksumFloor(c: Ctx, tables: string[]): Promise<FloorRun> {
  const sql = `CHECKSUM TABLE ${tables.map((t) => `\`${t.replace(/`/g, '``')}\``).join(', ')}`
  const one = async (e: Endpoint): Promise<{seconds: number; sums: Map<string, string>}> => {
    const conn = await connect(e)
    try {
      const started = performance.now()
      const [rows] = await conn.query<mysql.RowDataPacket[]>(sql)
      const seconds = (performance.now() - started) / 1000
      // Table is "db.name"; Checksum is NULL for a table that does not exist (with a warning)
      const sums = new Map(rows.map((r) => [String(r.Table).slice(e.database.length + 1), String(r.Checksum)]))
      const missing = tables.filter((t) => sums.get(t) === undefined || sums.get(t) === 'null')
      if (missing.length > 0) throw new Error(`CHECKSUM TABLE on ${e.host}:${e.port} gave no checksum for: ${missing.join(', ')}`)
      return {seconds, sums}
    } finally {
      await conn.end().catch(() => undefined)
    }
  }
  const started = performance.now()
  const [src, tgt] = await Promise.all([one(c.sourceDb), one(c.targetDb)])
  const seconds = (performance.now() - started) / 1000
  return {seconds, sourceSeconds: src.seconds, targetSeconds: tgt.seconds, checksumMismatches: tables.filter((t) => src.sums.get(t) !== tgt.sums.get(t))}
}

async function verifyBench(c: Ctx): Promise<VerifySection> {
  const args = ['bin/run.js', 'verify', '--json']
  log(`verify: floor, CHECKSUM TABLE of the ${c.tables.length} tables on both servers at once (before payctl verify) ...`)
  const before = await checksumFloor(c, c.tables)
  log(`verify: floor ${before.seconds.toFixed(2)} s (source ${before.sourceSeconds.toFixed(2)} s, target ${before.targetSeconds.toFixed(2)} s)`)

  log(`verify: payctl ${args.slice(1).join(' ')} ...`)
  let sampler: MemSampler | null = null
  const started = performance.now()
  const r = run(process.execPath, args, {env: c.env, onSpawn: (child) => (sampler = sampleMemory(child.pid as number))})
  const exit = await r.done
  const seconds = (performance.now() - started) / 1000
  const memory = (sampler as MemSampler | null)?.stop() ?? {peakRssMb: 0, hwmMb: 0, samples: 0}
  if (exit.code !== 0) {
    throw new Error(`payctl verify --json failed (exit ${exit.code ?? exit.signal}; the target should equal the source here, replication stopped):\n--- stderr\n${exit.stderr.slice(-4000)}\n--- stdout\n${exit.stdout.slice(-4000)}`)
  }
  const result = (JSON.parse(exit.stdout) as {status: number; result: VerifyJson}).result
  if (result.status !== 'equal') throw new Error(`payctl verify exited 0 but reported status ${result.status}`)
  const methods: Record<string, number> = {}
  for (const t of result.tables) methods[t.method] = (methods[t.method] ?? 0) + 1
  log(`verify: ${seconds.toFixed(2)} s, ${result.totals.rowsCompared.toLocaleString('en-US')} rows in ${result.totals.tables} tables (${Object.entries(methods).map(([m, n]) => `${m} ${n}`).join(', ')})`)

  // The floor covers exactly the tables verify compared (normally all of the bench's tables).
  const floorTables = result.tables.filter((t) => t.status !== 'skipped').map((t) => t.table)
  const unknown = floorTables.filter((t) => !c.tables.includes(t))
  if (unknown.length > 0) throw new Error(`payctl verify compared tables the bench does not know: ${unknown.join(', ')}`)
  const sameSet = floorTables.length === c.tables.length
  if (!sameSet) log(`verify: payctl verify compared ${floorTables.length} of ${c.tables.length} tables; only the floor run after it (over those) counts`)

  log(`verify: floor again, CHECKSUM TABLE of the ${floorTables.length} compared tables (after payctl verify) ...`)
  const after = await checksumFloor(c, floorTables)
  log(`verify: floor ${after.seconds.toFixed(2)} s (source ${after.sourceSeconds.toFixed(2)} s, target ${after.targetSeconds.toFixed(2)} s)`)
  const floorSeconds = sameSet ? Math.min(before.seconds, after.seconds) : after.seconds
  // the same rows verify compared (the CDC part has added rows since c.sourceCounts was taken)
  const floorRows = result.totals.rowsCompared
  return {
    command: `PAYCTL_CONFIG=<sandbox>/payctl.yaml node ${args.join(' ')}`,
    exitCode: exit.code,
    status: result.status,
    seconds,
    ownSeconds: result.totals.seconds,
    rowsCompared: result.totals.rowsCompared,
    rowsPerSecond: result.totals.rowsCompared / seconds,
    tables: result.tables.map((t) => ({table: t.table, method: t.method, methodReason: t.methodReason, status: t.status, rows: t.sourceRows, chunks: t.chunks, splits: t.splits ?? 0, seconds: t.seconds})),
    methods,
    peakMemory: {vmHwmMb: memory.hwmMb, sampledPeakVmRssMb: memory.peakRssMb, samples: memory.samples},
    floor: {
      command: `CHECKSUM TABLE ${floorTables.join(', ')} -- on both servers at the same time, one connection each`,
      seconds: floorSeconds,
      rowsPerSecond: floorRows / floorSeconds,
      runs: {beforeVerify: before, afterVerify: after},
    },
    ratio: seconds / floorSeconds,
  }
}

// ------------------------------------------------------------------------------------------ main

interface Ctx {
  state: SandboxState
  work: string
  env: NodeJS.ProcessEnv
  sourceDb: Endpoint
  targetDb: Endpoint
  source: Conn
  target: Conn
  sourceCnf: string
  targetCnf: string
  tables: string[]
  sourceCounts: Record<string, number>
  payloadBytes: number | null
  replicateChild: {child: ChildProcess; done: Promise<Exit>} | null
  instances: SpawnedInstance[]
}

async function main(): Promise<number> {
  if (!flags['no-build']) {
    // tsc into dist/ and dist-runtime/ (as the integration tests do): no rm -rf, so another
    // process using dist/ at the same time keeps working
    log('building dist/ and dist-runtime/ (tsc; --no-build skips)')
    await mustRun('tsc -p tsconfig.json', process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])
    await mustRun('tsc -p tsconfig.runtime.json', process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.runtime.json'])
  }

  const dir = await mkdtemp(path.join(tmpdir(), 'payctl-bench-'))
  let ctx: Ctx | null = null
  let interrupted = false
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return
    interrupted = true
    log(`${sig}: stopping and bringing the sandbox down`)
    for (const ch of children) ch.kill('SIGTERM')
    // eslint-disable-next-line no-restricted-syntax -- the sandbox is down: leave now, whatever still runs
    void cleanup().finally(() => process.exit(130))
  }
  let cleaned: Promise<void> | null = null
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      if (ctx !== null) {
        await stopReplicate(ctx).catch(() => undefined)
        await stopRuntimeInstances(ctx).catch(() => undefined)
        await ctx.source.end().catch(() => undefined)
        await ctx.target.end().catch(() => undefined)
      }
      for (const ch of children) ch.kill('SIGKILL')
      if (flags.keep) {
        log(`--keep: the sandbox stays in ${dir} (payctl sandbox down --purge --dir ${dir})`)
        return
      }
      log(`sandbox down --purge ${dir}`)
      await sandboxDown({dir, purge: true}).catch((err: unknown) => log(`sandbox down failed: ${String(err)} (run: node bin/run.js sandbox down --purge --dir ${dir})`))
    })())
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  try {
    log(`sandbox up --scale ${SCALE} --seed ${SEED} in ${dir} (free ports, no runtime instances yet)`)
    const upStarted = performance.now()
    let lastProgress = 0
    const state = await sandboxUp({
      dir,
      scale: SCALE,
      seed: SEED,
      ports: {legacy: 0, target: 0},
      runtimeInstances: 0,
      runtimeBasePort: 0,
      onProgress: (e) => {
        const now = Date.now()
        if (e.step !== 'load' || e.table !== undefined || now - lastProgress > 5000) {
          lastProgress = now
          log(`sandbox ${e.step}${e.server === undefined ? '' : ` ${e.server}`}: ${e.message}`)
        }
      },
    })
    const sandboxUpSeconds = (performance.now() - upStarted) / 1000
    log(`sandbox up took ${sandboxUpSeconds.toFixed(1)} s (data load ${state.data?.loadSeconds ?? '?'} s)`)
    const work = path.join(dir, 'bench')
    await mkdir(work, {recursive: true, mode: 0o700})
    const sourceDb = await endpoint(dir, 'legacy')
    const targetDb = await endpoint(dir, 'target')
    const source = await connect(sourceDb)
    const target = await connect(targetDb)
    const env = {PAYCTL_CONFIG: state.configPath as string}
    ctx = {
      state,
      work,
      env,
      sourceDb,
      targetDb,
      source,
      target,
      sourceCnf: await clientCnf(path.join(work, 'legacy.cnf'), sourceDb),
      targetCnf: await clientCnf(path.join(work, 'target.cnf'), targetDb),
      tables: [],
      sourceCounts: {},
      payloadBytes: null,
      replicateChild: null,
      instances: [],
    }
    log('payctl provision')
    await mustRun('payctl provision', process.execPath, ['bin/run.js', 'provision'], {env})
    ctx.tables = await sourceTables(source, sourceDb.database)
    ctx.sourceCounts = await counts(source, ctx.tables)
    const rows = total(ctx.sourceCounts)
    const [[size]] = await source.query<mysql.RowDataPacket[]>('SELECT SUM(DATA_LENGTH) AS d, SUM(INDEX_LENGTH) AS i FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [sourceDb.database])
    log(`source: ${rows.toLocaleString('en-US')} rows in ${ctx.tables.length} tables (${ctx.sourceCounts.payment_intents?.toLocaleString('en-US') ?? '?'} payment intents)`)

    // 1. full loads, each into emptied target tables, each verified; payctl last (CDC follows it)
    const pipe = await dumpPipe(ctx)
    const tab = await dumpTab(ctx)
    const {load: pay, memory} = await payctlFullLoad(ctx)
    const loads = [pay, pipe, tab]
    const payload = ctx.payloadBytes
    for (const l of loads) l.mbPerSecond = payload === null ? null : payload / MB / l.seconds

    // 3. change capture under load
    const cdcResult = await cdc(ctx)

    // 4. verify, replication stopped (cdc() stops it): the target equals the source
    const verifyResult = flags['no-verify'] ? null : await verifyBench(ctx)

    // ---------------------------------------------------------------------------- report
    const ratio = (b: FullLoad): number => b.seconds / pay.seconds
    const report = {
      kind: 'payctl-bench-replicate',
      formatVersion: 1,
      at: new Date().toISOString(),
      machine: {cpus: cpus().length, memoryMb: Math.round(totalmem() / MB), node: process.version},
      options: {scale: SCALE, seed: SEED, workers: WORKERS, cdcSeconds: CDC_SECONDS, cdcRateAsked: CDC_RATE, runtimeInstances: RUNTIME_INSTANCES},
      sandbox: {upSeconds: sandboxUpSeconds, dataLoadSeconds: state.data?.loadSeconds ?? null, mariadb: state.binaries.version},
      source: {tables: ctx.tables.length, rows, rowsByTable: ctx.sourceCounts, dataBytes: Number(size?.d), indexBytes: Number(size?.i), payloadBytes: payload, payloadNote: 'MB/s of every method is over the same payload: the tables as tab-separated text (the --tab dump)'},
      fullLoad: loads.map((l) => ({...l, payctlRatio: l === pay ? 1 : ratio(l)})),
      payctlPeakMemory: {vmHwmMb: memory.hwmMb, sampledPeakVmRssMb: memory.peakRssMb, samples: memory.samples},
      cdc: cdcResult,
      verify: verifyResult ?? {skipped: true},
      totalSeconds: (Date.now() - t0) / 1000,
    }
    await mkdir(path.dirname(flags.out), {recursive: true})
    await writeFile(flags.out, `${JSON.stringify(report, null, 2)}\n`)

    const out: string[] = []
    out.push(`payctl replicate benchmark: scale ${SCALE} (${rows.toLocaleString('en-US')} rows, ${ctx.sourceCounts.payment_intents?.toLocaleString('en-US') ?? '?'} payment intents, ${payload === null ? '?' : (payload / MB).toFixed(1)} MB as TSV), ${report.machine.cpus} CPUs, MariaDB ${state.binaries.version}`)
    out.push(`sandbox up: ${sandboxUpSeconds.toFixed(1)} s (data set load ${state.data?.loadSeconds ?? '?'} s)`)
    out.push('')
    out.push('Full load (every method into emptied target tables; target row counts verified equal to the source\'s after each)')
    out.push(
      renderTable(
        ['method', 'seconds', 'rows/s', 'MB/s', 'payctl ratio', 'verified'],
        loads.map((l) => [l.method, fmt(l.seconds, 2), fmtInt(l.rowsPerSecond), fmt(l.mbPerSecond, 2), l === pay ? '1.00 (itself)' : `${fmt(ratio(l), 2)}x`, l.verified ? 'yes' : 'NO']),
        [false, true, true, true, true, false],
      ),
    )
    out.push(`  payctl ratio = baseline seconds / payctl seconds (above 1: payctl is faster). payctl's own copy clock: ${fmt(pay.detail.copySeconds as number, 2)} s, ${fmt(((pay.detail.bytesCopied as number) ?? 0) / MB, 1)} MB by its count.`)
    out.push(`  --tab: dump ${fmt(tab.detail.dumpSeconds as number, 2)} s + import ${fmt(tab.detail.importSeconds as number, 2)} s (${WORKERS} threads); dump | mariadb moved ${pipe.ownBytes === null ? '?' : fmt(pipe.ownBytes / MB, 1)} MB of SQL.`)
    out.push('')
    out.push(`payctl peak memory during the full load: VmHWM ${fmt(memory.hwmMb, 1)} MB (sampled VmRSS max ${fmt(memory.peakRssMb, 1)} MB, ${memory.samples} samples at 100 ms)`)
    out.push('')
    const r = cdcResult
    out.push(`Change capture under load (${r.load.scenario} scenario for ${fmt(r.loadSeconds, 1)} s, ${RUNTIME_INSTANCES} runtime instance(s))`)
    out.push(
      renderTable(
        ['figure', 'value'],
        [
          ['row changes/s (applied counter, during the load)', fmt(r.changeRatePerSecond, 1)],
          ['changes applied during the load', fmtInt(r.changesDuringLoad)],
          ['apply rate (published) mean / p50 / max per s', `${fmt(r.applyRate.mean, 1)} / ${fmt(r.applyRate.p50, 1)} / ${fmt(r.applyRate.max, 1)}`],
          ['lag p50 / p99 / max (s)', `${fmt(r.lag.p50, 2)} / ${fmt(r.lag.p99, 2)} / ${fmt(r.lag.max, 2)}`],
          ['lag samples (250 ms) / distinct statuses', `${r.lag.samples} / ${r.lag.distinctStatuses}`],
          ['catch-up after the load stopped (s)', fmt(r.catchUpSeconds, 1)],
          ['load: asked / achieved iterations/s', `${fmt(r.load.askedRate, 1)} / ${fmt(r.load.achievedRate, 1)}`],
          ['load: iterations completed / failed / dropped', `${fmtInt(r.load.completed)} / ${fmtInt(r.load.failed)} / ${fmtInt(r.load.dropped)}`],
          ['load: requests / failed', `${fmtInt(r.load.requests)} / ${fmtInt(r.load.failedRequests)}${Object.keys(r.load.failedByKind).length > 0 ? ` ${JSON.stringify(r.load.failedByKind)}` : ''}`],
          ['load: latency p50 / p99 (ms)', `${fmt(r.load.latencyP50Ms, 1)} / ${fmt(r.load.latencyP99Ms, 1)}`],
          ['row changes per iteration (calibration)', fmt(r.changesPerIteration, 2)],
          ['target = source row counts afterwards', r.verifiedAfter ? 'yes' : 'NO'],
        ],
        [false, true],
      ),
    )
    out.push('')
    const v = verifyResult
    if (v === null) {
      out.push('payctl verify: skipped (--no-verify)')
    } else {
      out.push(`payctl verify against the CHECKSUM TABLE floor (replication stopped; target = source; ${fmtInt(v.rowsCompared)} rows in ${v.tables.length} tables)`)
      out.push(
        renderTable(
          ['what', 'seconds', 'rows/s', 'ratio'],
          [
            ['payctl verify --json (wall time of the process)', fmt(v.seconds, 2), fmtInt(v.rowsPerSecond), `${fmt(v.ratio, 2)}x`],
            ['CHECKSUM TABLE on both servers at once (floor)', fmt(v.floor.seconds, 2), fmtInt(v.floor.rowsPerSecond), '1.00'],
          ],
          [false, true, true, true],
        ),
      )
      out.push(`  ratio = verify seconds / floor seconds (1.0: as fast as the floor; goal < 2, stretch < 1.2): ${fmt(v.ratio, 2)} -> ${v.ratio < 1.2 ? 'stretch met' : v.ratio < 2 ? 'goal met' : 'goal NOT met'}`)
      out.push(`  verify: exit ${v.exitCode}, status ${v.status}, own clock ${fmt(v.ownSeconds, 2)} s; methods: ${Object.entries(v.methods).map(([m, n]) => `${m} ${n}`).join(', ')}`)
      out.push(`  per table: ${v.tables.map((t) => `${t.table} ${t.method}`).join(', ')}`)
      out.push(`  floor runs: before verify ${fmt(v.floor.runs.beforeVerify.seconds, 2)} s, after ${fmt(v.floor.runs.afterVerify.seconds, 2)} s (the faster counts)${v.floor.runs.afterVerify.checksumMismatches.length > 0 ? `; CHECKSUM TABLE values differ between the servers for ${v.floor.runs.afterVerify.checksumMismatches.join(', ')} (row format / column types)` : '; CHECKSUM TABLE values equal on both servers'}`)
      out.push(`  verify peak memory: VmHWM ${fmt(v.peakMemory.vmHwmMb, 1)} MB (sampled VmRSS max ${fmt(v.peakMemory.sampledPeakVmRssMb, 1)} MB, ${v.peakMemory.samples} samples at 100 ms)`)
    }
    out.push('')
    out.push(`JSON: ${path.relative(process.cwd(), flags.out) || flags.out}`)
    process.stdout.write(`${out.join('\n')}\n`)
    return 0
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    return 1
  } finally {
    await cleanup()
  }
}

process.exitCode = await main()
