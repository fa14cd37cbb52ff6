/**
 * Process helpers for the sandbox's mariadbd processes. A recorded pid may have been reused by an
 * unrelated process since, so before a pid is treated as "our server" (and before any signal is
 * sent to it) its command line must name this server's own option file.
 */
import {execFile} from 'node:child_process'
import {readdir, readFile} from 'node:fs/promises'
import {basename} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'
import {promisify} from 'node:util'

const execFileAsync = promisify(execFile)
const hasProc = process.platform === 'linux'

/** True when a process with this pid exists (and, on Linux, is not a zombie). */
export async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
  if (!hasProc) return true
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) S ...": the state letter follows the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The process's arguments, or null when it does not exist (or cannot be read). */
export async function commandLine(pid: number): Promise<string[] | null> {
  if (hasProc) {
    try {
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8')
      const args = raw.split('\0').filter((a) => a !== '')
      return args.length === 0 ? null : args
    } catch {
      return null
    }
  }
  try {
    const {stdout} = await execFileAsync('ps', ['-p', String(pid), '-o', 'command='], {timeout: 5_000})
    const line = stdout.trim()
    // ps joins arguments with spaces; good enough to find our --defaults-file argument
    return line === '' ? null : line.split(/\s+/)
  } catch {
    return null
  }
}

export function defaultsFileArg(configFile: string): string {
  return `--defaults-file=${configFile}`
}

const SERVER_EXECUTABLES = new Set(['mariadbd', 'mysqld'])

/**
 * True when pid is alive and is a mariadbd started with this option file (a `mariadb` client a
 * user started with the same --defaults-file is not a server and is never signalled).
 */
export async function isServerProcess(pid: number, configFile: string): Promise<boolean> {
  if (!(await pidAlive(pid))) return false
  const args = await commandLine(pid)
  if (args === null || !SERVER_EXECUTABLES.has(basename(args[0] ?? ''))) return false
  const arg = defaultsFileArg(configFile)
  return args.some((a) => a === arg) || (!hasProc && args.join(' ').includes(arg))
}

/** Linux only: every live process whose arguments contain `needle` (an empty list elsewhere). */
export async function findProcesses(needle: string): Promise<number[]> {
  if (!hasProc) return []
  const found: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    const args = await commandLine(pid)
    if (args?.some((a) => a.includes(needle)) === true && (await pidAlive(pid))) found.push(pid)
  }
  return found
}

/** Polls until the process is gone; false when the deadline passes first. */
export async function waitForExit(pid: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (await pidAlive(pid)) {
    if (Date.now() >= deadline) return false
    signal?.throwIfAborted()
    await delay(100)
  }
  return true
}

export function sendSignal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}
