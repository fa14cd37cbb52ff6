/** Runs the built CLI (bin/run.js, as a user runs it) and captures both streams and the exit code. */
import {type ChildProcessByStdio, spawn} from 'node:child_process'
import path from 'node:path'
import type {Readable} from 'node:stream'

export const ROOT = path.resolve(import.meta.dirname, '../..')

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  timeoutMs?: number
}

/** A running payctl: its process, the output so far, and its end. */
export interface CliProcess {
  child: ChildProcessByStdio<null, Readable, Readable>
  output(): CliRun
  /** Resolves when stderr matches, rejects if the process ends first or the deadline passes. */
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void>
  done: Promise<CliRun>
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/run.js'), ...args], {
    cwd: options.cwd ?? ROOT,
    env: {...process.env, NO_COLOR: '1', PAYCTL_CONFIG: '', ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const listeners = new Set<() => void>()
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const l of listeners) l()
  })
  const timeoutMs = options.timeoutMs ?? 120_000
  const done = new Promise<CliRun>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`payctl ${args.join(' ')} did not finish in ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, stdout, stderr})
    })
  })
  const waitForStderr = (pattern: RegExp, waitMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!pattern.test(stderr)) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`stderr did not match ${pattern} within ${waitMs} ms:\n${stderr}`))
      }, waitMs)
      const cleanup = (): void => {
        clearTimeout(timer)
        listeners.delete(check)
      }
      listeners.add(check)
      void done.then((run) => {
        if (!listeners.has(check)) return
        cleanup()
        reject(new Error(`payctl ended (exit ${run.code}) before stderr matched ${pattern}:\n${run.stderr}`))
      })
      check()
    })
  return {child, output: () => ({code: child.exitCode, stdout, stderr}), waitForStderr, done}
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return startCli(args, options).done
}

/** Parses stdout as the --json envelope, failing with both streams shown when it is not JSON. */
export function parseJson<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
}
