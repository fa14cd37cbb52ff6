/**
 * payctl replicate as a background process on this host: `--detach` starts the same command
 * without --detach as a detached child (its own session, so a terminal's Ctrl-C or hang-up does
 * not reach it; output appended to .payctl/replicate.log next to the config) and returns once its
 * heartbeat is in the control store; `payctl replicate stop` asks it to stop (SIGTERM: it ends at
 * a safe point and saves its state) and waits until it has.
 *
 * A recorded pid may belong to another process since, so a pid is signalled only when it runs on
 * this host and its command line is a payctl replicate.
 */
import {spawn} from 'node:child_process'
import {closeSync, fstatSync, openSync} from 'node:fs'
import {mkdir} from 'node:fs/promises'
import {hostname} from 'node:os'
import {dirname, join} from 'node:path'
import {EnvironmentError} from '../../cli/errors.js'
import {replicateAlive, type ReplicationStateRow} from '../../control/replication-store.js'
import type {ConnectionOptions} from '../../engines/engine.js'
import {commandLine, pidAlive, sendSignal, waitForExit} from '../../sandbox/processes.js'
import {tailFile} from '../../sandbox/server.js'
import {withStore} from './control.js'

/** A first heartbeat comes after the schema is read and the change stream is open: seconds, more on a large schema. */
export const DETACH_READY_TIMEOUT_MS = 120_000
/** A replicate stops at its next chunk or batch; a large chunk on a slow target takes a while. */
export const STOP_TIMEOUT_MS = 60_000
const POLL_MS = 200
/** Set in the detached child's environment: it logs progress less often. */
export const DETACHED_ENV = 'PAYCTL_REPLICATE_DETACHED'

export interface DetachedReplicate {
  pid: number
  host: string
  logFile: string
}

export interface StopReplicateResult {
  /** A replicate process was running (a live heartbeat). */
  wasRunning: boolean
  pid: number | null
  host: string | null
  /** It was signalled here and has exited. */
  stopped: boolean
  /** The phase of its last published status. */
  phase: string | null
}

/** `.payctl/replicate.log` in the config's folder. */
export function replicateLogFile(configPath: string): string {
  return join(dirname(configPath), '.payctl', 'replicate.log')
}

/** The arguments of the detached child: this command's, without --detach. */
export function detachedArgs(argv: readonly string[]): string[] {
  return argv.filter((a) => a !== '--detach' && !a.startsWith('--detach='))
}

type StateReader = () => Promise<ReplicationStateRow | null>

function withState<R>(target: ConnectionOptions, database: string, fn: (read: StateReader) => Promise<R>): Promise<R> {
  return withStore(target, database, (query, store) => fn(() => store.state(query)))
}

export interface StartDetachedOptions {
  configPath: string
  target: ConnectionOptions
  controlDatabase: string
  /** The command line to run: node's own arguments, the script, and the command's arguments (without --detach). */
  execPath: string
  args: string[]
  env: NodeJS.ProcessEnv
  readyTimeoutMs?: number
  signal?: AbortSignal
}

export async function startDetached(o: StartDetachedOptions): Promise<DetachedReplicate> {
  return withState(o.target, o.controlDatabase, async (read) => {
    const running = await read()
    // a heartbeat younger than 5 s from a process of this host that is gone (kill -9) does not count
    const gone = running?.host === hostname() && running.pid !== null && !(await pidAlive(running.pid))
    if (replicateAlive(running) && !gone) {
      throw new EnvironmentError('PAYCTL_REPLICATE_RUNNING', `payctl replicate is already running (pid ${running.pid ?? '?'} on ${running.host ?? '?'}).`, {
        actions: ['Watch it with payctl status, or stop it first with payctl replicate stop.'],
      })
    }
    const logFile = replicateLogFile(o.configPath)
    await mkdir(dirname(logFile), {recursive: true})
    const fd = openSync(logFile, 'a', 0o640)
    const offset = fstatSync(fd).size
    // the child must not detach again when --detach came from the environment
    const env: NodeJS.ProcessEnv = {...o.env, [DETACHED_ENV]: '1'}
    delete env.PAYCTL_REPLICATE_DETACH
    let child
    try {
      child = spawn(o.execPath, o.args, {detached: true, stdio: ['ignore', fd, fd], env})
    } finally {
      // the child has its own copy of the descriptor
      closeSync(fd)
    }
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', reject)
      child.once('spawn', () => resolve(child.pid ?? 0))
    })
    child.on('error', () => undefined)
    let exit: {code: number | null; signal: NodeJS.Signals | null} | null = null
    child.once('exit', (code, signal) => (exit = {code, signal}))
    child.unref()

    const deadline = Date.now() + (o.readyTimeoutMs ?? DETACH_READY_TIMEOUT_MS)
    for (;;) {
      const state = await read()
      if (state?.pid === pid && replicateAlive(state)) return {pid, host: hostname(), logFile}
      const ended = exit as {code: number | null; signal: NodeJS.Signals | null} | null
      if (ended !== null) {
        const how = ended.signal === null ? `with code ${ended.code}` : `on ${ended.signal}`
        const tail = (await tailFile(logFile, 15, offset)).trim()
        throw new EnvironmentError('PAYCTL_REPLICATE_START_FAILED', `The detached payctl replicate (pid ${pid}) exited ${how} before its first heartbeat. Last lines of ${logFile}:\n${tail === '' ? '(empty)' : tail}`, {
          actions: [`Read ${logFile}; fix what it names and run payctl replicate --detach again.`],
          data: {pid, logFile, code: ended.code, signal: ended.signal},
        })
      }
      if (Date.now() >= deadline || o.signal?.aborted === true) {
        // it never reported: stop it rather than leave an unobserved process behind
        sendSignal(pid, 'SIGTERM')
        throw new EnvironmentError('PAYCTL_REPLICATE_START_TIMEOUT', `The detached payctl replicate (pid ${pid}) published no heartbeat within ${Math.round((o.readyTimeoutMs ?? DETACH_READY_TIMEOUT_MS) / 1000)} s; it was asked to stop.`, {
          actions: [`Read ${logFile}.`, 'Run payctl replicate in the foreground to watch it start.'],
          data: {pid, logFile},
        })
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  })
}

/** Whether pid is a live payctl replicate on this host (not a reused pid). */
async function isReplicateProcess(pid: number): Promise<boolean> {
  if (!(await pidAlive(pid))) return false
  const args = await commandLine(pid)
  return args !== null && args.includes('replicate') && !args.includes('stop')
}

export async function stopReplicate(target: ConnectionOptions, controlDatabase: string, opts: {timeoutMs?: number; signal?: AbortSignal} = {}): Promise<StopReplicateResult> {
  return withState(target, controlDatabase, async (read) => {
    const state = await read()
    const last = {pid: state?.pid ?? null, host: state?.host ?? null, phase: phaseOf(state)}
    if (!replicateAlive(state)) return {wasRunning: false, ...last, stopped: false}
    const {pid, host} = state
    if (pid === null || host !== hostname()) {
      throw new EnvironmentError('PAYCTL_REPLICATE_ELSEWHERE', `payctl replicate runs on ${host ?? 'another host'} (pid ${pid ?? '?'}), not here: it can only be signalled from its own host.`, {
        actions: [`On ${host ?? 'that host'}: payctl replicate stop (or kill -TERM ${pid ?? '<pid>'}); it saves its state and exits.`],
        data: {pid, host},
      })
    }
    if (!(await isReplicateProcess(pid))) {
      // killed without a chance to say so: its heartbeat goes stale within seconds
      return {wasRunning: false, pid, host, stopped: false, phase: phaseOf(state)}
    }
    sendSignal(pid, 'SIGTERM')
    const timeoutMs = opts.timeoutMs ?? STOP_TIMEOUT_MS
    if (!(await waitForExit(pid, timeoutMs, opts.signal))) {
      throw new EnvironmentError('PAYCTL_REPLICATE_STOP_TIMEOUT', `payctl replicate (pid ${pid}) did not exit within ${Math.round(timeoutMs / 1000)} s of SIGTERM.`, {
        actions: [`It may be finishing a large chunk: run payctl replicate stop again, or kill -9 ${pid} (safe: a rerun resumes from its checkpoints).`],
        data: {pid, host},
      })
    }
    return {wasRunning: true, pid, host, stopped: true, phase: phaseOf(await read())}
  })
}

function phaseOf(state: ReplicationStateRow | null): string | null {
  const phase = (state?.status as {phase?: unknown} | null)?.phase
  return typeof phase === 'string' ? phase : null
}
