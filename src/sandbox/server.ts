/**
 * One sandbox mariadbd: initialise its data directory, start it as a detached private process,
 * wait until it answers, stop it. Administration uses the unix socket as the OS user (root, or
 * the user running payctl), which mariadb-install-db sets up with unix_socket authentication, so
 * no administrator password exists anywhere.
 */
import {execFile, spawn} from 'node:child_process'
import {closeSync, fstatSync, openSync} from 'node:fs'
import {mkdir, open, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {userInfo} from 'node:os'
import {setTimeout as delay} from 'node:timers/promises'

import {createConnection, type Connection} from 'mysql2/promise'

import {EnvironmentError} from '../cli/errors.js'
import type {MariadbBinaries} from './binaries.js'
import {defaultsFileArg, findProcesses, isServerProcess, sendSignal, waitForExit} from './processes.js'
import type {ServerPaths} from './state.js'
import type {SandboxServerDownResult, SandboxServerState} from './types.js'

const READY_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 30_000
const KILL_WAIT_MS = 10_000

const runningAsRoot = (): boolean => process.getuid?.() === 0

/** The MariaDB account that unix_socket authentication maps the current OS user to. */
export function adminUser(): string {
  return runningAsRoot() ? 'root' : userInfo().username
}

export async function connectAdmin(socketPath: string, options: {database?: string; connectTimeoutMs?: number; multipleStatements?: boolean} = {}): Promise<Connection> {
  return createConnection({
    socketPath,
    user: adminUser(),
    database: options.database,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    multipleStatements: options.multipleStatements ?? false,
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  })
}

/**
 * The last lines of a log file (empty when it does not exist), only from byte `from` on: logs are
 * appended across runs, and a start that failed must be explained by its own lines only.
 */
export async function tailFile(file: string, lines = 15, from = 0): Promise<string> {
  try {
    const handle = await open(file, 'r')
    try {
      const {size} = await handle.stat()
      const start = Math.min(size, Math.max(size - 16_384, from))
      const length = size - start
      const buffer = Buffer.alloc(length)
      await handle.read(buffer, 0, length, start)
      return buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '').slice(-lines).join('\n')
    } finally {
      await handle.close()
    }
  } catch {
    return ''
  }
}

export async function isInitialised(paths: ServerPaths): Promise<boolean> {
  try {
    await stat(paths.initialisedMarker)
    return true
  } catch {
    return false
  }
}

/**
 * Runs mariadb-install-db once. The marker file is written only after it succeeded, so a data
 * directory left half-made by an interrupted run is wiped and made again.
 */
export async function initDatadir(bins: MariadbBinaries, server: SandboxServerState, paths: ServerPaths): Promise<boolean> {
  if (await isInitialised(paths)) return false
  await rm(paths.datadir, {recursive: true, force: true})
  await mkdir(paths.datadir, {recursive: true, mode: 0o700})
  const args = [
    defaultsFileArg(paths.configFile),
    '--auth-root-authentication-method=socket',
    '--skip-test-db',
    ...(runningAsRoot() ? ['--user=root'] : [`--auth-root-socket-user=${adminUser()}`]),
  ]
  const output = await new Promise<{ok: boolean; text: string; error?: Error}>((resolve) => {
    execFile(bins.installDb, args, {timeout: 180_000, maxBuffer: 4 * 1024 * 1024}, (error, stdout, stderr) => {
      resolve({ok: error === null, text: `${stdout}${stderr}`, ...(error === null ? {} : {error})})
    })
  })
  const logFile = `${paths.home}/install-db.log`
  await writeFile(logFile, output.text)
  if (!output.ok) {
    // install-db's own output is generic advice; the cause is in the server's error log
    const serverErrors = (await readFile(paths.errorLog, 'utf8').catch(() => ''))
      .split('\n')
      .filter((l) => /\[ERROR\]|^ERROR/.test(l))
      .slice(-5)
    const tail = serverErrors.length > 0 ? serverErrors.join('\n') : output.text.split('\n').filter((l) => l.trim() !== '').slice(-12).join('\n')
    throw new EnvironmentError('PAYCTL_SANDBOX_INIT_FAILED', `mariadb-install-db failed for the ${server.name} server (${paths.datadir}).\n${tail}`, {
      actions: [`Read ${logFile} and ${paths.errorLog}.`, 'Check free disk space and that the folder is writable, then run `payctl sandbox up` again.'],
      cause: output.error,
      data: {server: server.name, datadir: paths.datadir},
    })
  }
  await writeFile(paths.initialisedMarker, `${new Date().toISOString()}\n`)
  return true
}

export interface StartedServer {
  pid: number
  /** Size of the error log when this start began: its own lines come after it. */
  logOffset?: number
  /** Set once the process has exited (while this payctl process still runs). */
  exit: {code: number | null; signal: NodeJS.Signals | null} | null
}

/** Starts mariadbd detached (it outlives payctl) with stdout and stderr appended to its error log. */
export function spawnServer(bins: MariadbBinaries, paths: ServerPaths): Promise<StartedServer> {
  const fd = openSync(paths.errorLog, 'a', 0o640)
  try {
    const logOffset = fstatSync(fd).size
    const child = spawn(bins.mariadbd, [defaultsFileArg(paths.configFile), ...(runningAsRoot() ? ['--user=root'] : [])], {
      detached: true,
      stdio: ['ignore', fd, fd],
    })
    const started: StartedServer = {pid: child.pid ?? 0, exit: null, logOffset}
    child.once('exit', (code, signal) => {
      started.exit = {code, signal}
    })
    return new Promise((resolve, reject) => {
      child.once('error', reject)
      child.once('spawn', () => {
        child.unref()
        started.pid = child.pid ?? 0
        resolve(started)
      })
    })
  } finally {
    closeSync(fd)
  }
}

/** Polls the server over its socket until it answers; returns its version. */
export async function waitUntilReady(server: SandboxServerState, started: StartedServer, signal?: AbortSignal): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let lastError = ''
  for (;;) {
    signal?.throwIfAborted()
    if (started.exit !== null || !(await isServerProcess(started.pid, server.configFile))) {
      const log = await tailFile(server.errorLog, 15, started.logOffset)
      const portInUse = /Address already in use|Bind on TCP\/IP port/i.test(log)
      throw new EnvironmentError(
        portInUse ? 'PAYCTL_SANDBOX_PORT_IN_USE' : 'PAYCTL_SANDBOX_START_FAILED',
        `The ${server.name} server (port ${server.port}) exited while starting${started.exit?.code == null ? '' : ` with code ${started.exit.code}`}. Last lines of ${server.errorLog}:\n${log}`,
        {
          actions: portInUse
            ? [`Free port ${server.port} or run \`payctl sandbox up\` again to pick another port.`]
            : [`Read ${server.errorLog}.`, 'If the data directory is damaged: payctl sandbox down --purge, then payctl sandbox up.'],
          data: {server: server.name, port: server.port, errorLog: server.errorLog, portInUse},
        },
      )
    }
    try {
      const conn = await connectAdmin(server.socketPath, {connectTimeoutMs: 2_000})
      try {
        const [rows] = await conn.query('SELECT VERSION() AS version')
        return String((rows as Array<{version: string}>)[0]?.version ?? '')
      } finally {
        await conn.end().catch(() => undefined)
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err)
    }
    if (Date.now() > deadline) {
      const log = await tailFile(server.errorLog, 15, started.logOffset)
      throw new EnvironmentError(
        'PAYCTL_SANDBOX_START_TIMEOUT',
        `The ${server.name} server (pid ${started.pid}, port ${server.port}) did not answer within ${READY_TIMEOUT_MS / 1000} s (${lastError}). Last lines of ${server.errorLog}:\n${log}`,
        {
          actions: [`Read ${server.errorLog}.`, 'Run `payctl sandbox down` and `payctl sandbox up` again.'],
          data: {server: server.name, port: server.port, pid: started.pid, errorLog: server.errorLog},
        },
      )
    }
    await delay(150)
  }
}

async function pidFromFile(file: string): Promise<number | null> {
  const text = await readFile(file, 'utf8').catch(() => '')
  const pid = Number(text.trim())
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

/** Every live mariadbd of this server: the recorded pid, the pid file's, and (Linux) any other process started with its option file. */
export async function serverPids(server: SandboxServerState): Promise<number[]> {
  const candidates = new Set<number>()
  if (server.pid !== null) candidates.add(server.pid)
  const fromFile = await pidFromFile(server.pidFile)
  if (fromFile !== null) candidates.add(fromFile)
  for (const pid of await findProcesses(defaultsFileArg(server.configFile))) candidates.add(pid)
  const ours: number[] = []
  for (const pid of candidates) if (await isServerProcess(pid, server.configFile)) ours.push(pid)
  return ours
}

/**
 * SIGTERM is mariadbd's clean shutdown (same as `mariadb-admin shutdown`: it flushes InnoDB and
 * closes the binlog). A server that has not exited after the grace period gets SIGKILL; InnoDB
 * recovers from that on the next start.
 */
export async function stopServer(server: SandboxServerState, signal?: AbortSignal): Promise<SandboxServerDownResult> {
  const pids = await serverPids(server)
  let killed = false
  for (const pid of pids) sendSignal(pid, 'SIGTERM')
  for (const pid of pids) {
    if (await waitForExit(pid, STOP_GRACE_MS, signal)) continue
    sendSignal(pid, 'SIGKILL')
    killed = true
    if (!(await waitForExit(pid, KILL_WAIT_MS, signal))) {
      throw new EnvironmentError('PAYCTL_SANDBOX_STOP_FAILED', `The ${server.name} server (pid ${pid}) did not exit even after SIGKILL.`, {
        actions: [`Check the process with: ps -p ${pid} -o pid,stat,command`],
        data: {server: server.name, pid},
      })
    }
  }
  return {name: server.name, pid: pids[0] ?? null, stopped: pids.length > 0, killed}
}
