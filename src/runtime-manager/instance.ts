/**
 * One instance of the payment service as a child process: spawn it with its log file, wait until
 * it is ready, probe it, stop it.
 *
 * Every instance gets its own process group, in both modes: a Ctrl-C in the terminal then reaches
 * only payctl, which stops the instances with SIGTERM (the service's graceful shutdown), instead
 * of the terminal's SIGINT killing them mid-request. A recorded pid may have been reused since, so
 * a pid is signalled only when its command line names this instance's id, port and config.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {closeSync, fstatSync, openSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {request} from 'node:http'
import {dirname} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'

import {EnvironmentError, UsageError} from '../cli/errors.js'
import {commandLine, pidAlive, sendSignal, waitForExit} from '../sandbox/processes.js'
import {tailFile} from '../sandbox/server.js'
import type {RuntimeEntry, RuntimeInstanceRecord, RuntimeStopResult} from './types.js'

export const READY_TIMEOUT_MS = 30_000
/** The service finishes in-flight requests within ~10 s; a little more before SIGKILL. */
export const STOP_GRACE_MS = 15_000
const KILL_WAIT_MS = 5_000
const PROBE_TIMEOUT_MS = 1_500
const POLL_MS = 200

export interface SpawnInstanceOptions {
  entry: RuntimeEntry
  id: string
  host: string
  port: number
  configPath: string
  fingerprintKeyFile: string
  logFile: string
  /** true: the process outlives payctl (the sandbox); false: it ends with payctl (`runtime start`). */
  detached: boolean
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface SpawnedInstance {
  record: RuntimeInstanceRecord
  child: ChildProcess
  /** Set once the process has exited (while this payctl process still runs). */
  exit: ExitInfo | null
  exited: Promise<ExitInfo>
  /** Size of the (appended) log file when this instance started: its own lines come after it. */
  logOffset: number
}

export function instanceArgs(o: Pick<SpawnInstanceOptions, 'entry' | 'configPath' | 'host' | 'port' | 'id' | 'fingerprintKeyFile'>): string[] {
  return [...o.entry.args, '--config', o.configPath, '--host', o.host, '--port', String(o.port), '--instance', o.id, '--fingerprint-key-file', o.fingerprintKeyFile]
}

export function instanceUrl(record: Pick<RuntimeInstanceRecord, 'host' | 'port'>): string {
  const host = record.host.includes(':') ? `[${record.host}]` : record.host
  return `http://${host}:${record.port}`
}

export async function spawnInstance(o: SpawnInstanceOptions): Promise<SpawnedInstance> {
  const logDir = dirname(o.logFile)
  let fd: number
  try {
    await mkdir(logDir, {recursive: true})
    fd = openSync(o.logFile, 'a', 0o640)
  } catch (err) {
    throw logFileError(logDir, o.logFile, err)
  }
  const logOffset = fstatSync(fd).size
  let child: ChildProcess
  try {
    child = spawn(o.entry.command, instanceArgs(o), {detached: true, stdio: ['ignore', fd, fd]})
  } finally {
    // the child has its own copy of the descriptor
    closeSync(fd)
  }
  const spawned = await new Promise<number>((resolve, reject) => {
    child.once('error', reject)
    child.once('spawn', () => resolve(child.pid ?? 0))
  })
  // once spawned, failures show as the exit; a late 'error' (a failed kill) must not crash payctl
  child.on('error', () => undefined)
  if (o.detached) child.unref()
  else {
    // An attached instance must not outlive payctl, even when payctl exits at once (a second
    // Ctrl-C calls process.exit): SIGTERM lets it finish its requests on its own.
    const onExit = (): void => {
      if (instance.exit === null) sendSignal(spawned, 'SIGTERM')
    }
    process.on('exit', onExit)
    child.once('exit', () => process.off('exit', onExit))
  }
  const instance: SpawnedInstance = {
    record: {id: o.id, pid: spawned, host: o.host, port: o.port, logFile: o.logFile, startedAt: new Date().toISOString()},
    child,
    exit: null,
    logOffset,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        instance.exit = {code, signal}
        resolve(instance.exit)
      })
    }),
  }
  return instance
}

/** The log folder or file cannot be made: exit 2 when the path is wrong, 3 when permissions are. */
function logFileError(logDir: string, logFile: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
    return new UsageError('PAYCTL_RUNTIME_LOG_DIR_INVALID', `Cannot write the instance log ${logFile}: ${logDir} (or a folder above it) is a file, not a folder.`, {
      actions: ['Pass --log-dir a folder, or a path where payctl may create one.'],
      cause: err,
      data: {logDir},
    })
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new EnvironmentError('PAYCTL_RUNTIME_LOG_DIR_DENIED', `Cannot write the instance log ${logFile}: ${code}.`, {
      actions: [`Check the permissions of ${logDir}, or pass another --log-dir.`],
      cause: err,
      data: {logDir},
    })
  }
  return err instanceof Error ? err : new Error(String(err))
}

/** GET path on the instance: the HTTP status, or the error that prevented an answer. */
export function probe(record: Pick<RuntimeInstanceRecord, 'host' | 'port'>, path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<{status: number | null; error?: string}> {
  return new Promise((resolve) => {
    // agent: false: no keep-alive socket may hold the CLI open after a status probe
    const req = request({host: record.host, port: record.port, path, method: 'GET', agent: false, timeout: timeoutMs}, (res) => {
      res.resume()
      resolve({status: res.statusCode ?? null})
    })
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.once('error', (err) => resolve({status: null, error: err.message}))
    req.end()
  })
}

/**
 * Polls /readyz until it answers 200. Fails at once when the process exits (the service exits
 * when it cannot start, e.g. its database is unreachable), and at the deadline otherwise; both
 * errors quote the end of the instance's log, which says why.
 */
export async function waitUntilReady(instance: SpawnedInstance, opts: {timeoutMs?: number; signal?: AbortSignal | undefined} = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? READY_TIMEOUT_MS
  const deadline = Date.now() + timeoutMs
  const {record} = instance
  let last = 'no answer yet'
  for (;;) {
    opts.signal?.throwIfAborted()
    if (instance.exit !== null) {
      const how = instance.exit.signal === null ? `with code ${instance.exit.code}` : `on ${instance.exit.signal}`
      throw await startError('PAYCTL_RUNTIME_START_FAILED', `Runtime instance ${record.id} (port ${record.port}) exited ${how} while starting.`, record, instance.logOffset)
    }
    const ready = await probe(record, '/readyz')
    if (ready.status === 200) return
    last = ready.status === null ? (ready.error ?? 'no answer') : `/readyz answered ${ready.status}`
    if (Date.now() >= deadline) {
      throw await startError('PAYCTL_RUNTIME_START_TIMEOUT', `Runtime instance ${record.id} (pid ${record.pid}, port ${record.port}) was not ready within ${timeoutMs / 1000} s (${last}).`, record, instance.logOffset)
    }
    // woken early by the exit, so a crash is reported at once
    await Promise.race([delay(POLL_MS), instance.exited])
  }
}

async function startError(code: string, message: string, record: RuntimeInstanceRecord, logOffset: number): Promise<EnvironmentError> {
  const tail = formatLogTail(await tailFile(record.logFile, 12, logOffset))
  const portInUse = /EADDRINUSE|address already in use/i.test(tail)
  return new EnvironmentError(code, `${message} Last lines of ${record.logFile}:\n${tail === '' ? '(empty)' : tail}`, {
    actions: portInUse
      ? [`Port ${record.port} is taken: free it, or choose another base port (--port).`]
      : [`Read ${record.logFile}.`, 'Check that the config\'s source database is up and reachable (payctl inspect --side source).'],
    data: {instance: record.id, port: record.port, pid: record.pid, logFile: record.logFile, portInUse},
  })
}

const PINO_LEVELS: Record<number, string> = {10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal'}

/** pino's JSON lines as "level: msg (err)", other lines as they are. */
export function formatLogTail(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch {
        return line
      }
      if (typeof parsed !== 'object' || parsed === null || !('msg' in parsed)) return line
      const entry = parsed as {level?: number; msg?: unknown; err?: {message?: unknown}}
      const level = PINO_LEVELS[entry.level ?? 30] ?? String(entry.level)
      const err = typeof entry.err?.message === 'string' && entry.err.message !== entry.msg ? ` (${entry.err.message})` : ''
      return `  ${level}: ${String(entry.msg)}${err}`
    })
    .join('\n')
}

/** True when pid is alive and its command line is this instance's (id, port and, when given, config). */
export async function isInstanceProcess(pid: number, record: Pick<RuntimeInstanceRecord, 'id' | 'port'>, configPath?: string): Promise<boolean> {
  if (!(await pidAlive(pid))) return false
  const args = await commandLine(pid)
  if (args === null) return false
  const has = (flag: string, value: string): boolean => args.some((a, i) => a === flag && args[i + 1] === value)
  return has('--instance', record.id) && has('--port', String(record.port)) && (configPath === undefined || has('--config', configPath))
}

/**
 * SIGTERM is the service's graceful shutdown (stop accepting, finish in-flight requests); an
 * instance still alive after the grace period gets SIGKILL. Harmless when it no longer runs.
 */
export async function stopInstance(
  record: RuntimeInstanceRecord,
  opts: {configPath?: string | undefined; graceMs?: number; signal?: AbortSignal | undefined} = {},
): Promise<RuntimeStopResult> {
  const result: RuntimeStopResult = {id: record.id, pid: record.pid, port: record.port, stopped: false, killed: false}
  if (!(await isInstanceProcess(record.pid, record, opts.configPath))) return result
  sendSignal(record.pid, 'SIGTERM')
  result.stopped = true
  if (await waitForExit(record.pid, opts.graceMs ?? STOP_GRACE_MS, opts.signal)) return result
  sendSignal(record.pid, 'SIGKILL')
  result.killed = true
  if (!(await waitForExit(record.pid, KILL_WAIT_MS, opts.signal))) {
    throw new EnvironmentError('PAYCTL_RUNTIME_STOP_FAILED', `Runtime instance ${record.id} (pid ${record.pid}) did not exit even after SIGKILL.`, {
      actions: [`Check the process with: ps -p ${record.pid} -o pid,stat,command`],
      data: {instance: record.id, pid: record.pid},
    })
  }
  return result
}
