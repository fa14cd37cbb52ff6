/**
 * The sandbox's layout on disk, its state file (`<dir>/sandbox.json`, written atomically) and a
 * lock file so two `payctl sandbox` commands never work on the same folder at once.
 *
 *   <dir>/sandbox.json          state (no secrets)
 *   <dir>/payctl.yaml           a ready config pointing at both servers
 *   <dir>/secrets/<name>.password   the payctl user's password (0600, folder 0700)
 *   <dir>/<name>/my.cnf, data/, error.log, mariadbd.pid, mariadbd.sock
 *   <dir>/load/                 transient TSV files for LOAD DATA INFILE
 *   <dir>/runtime/<id>.log      logs of the payment service's instances (secrets/runtime-fingerprint.key: its key)
 */
import {createHash} from 'node:crypto'
import {open, readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {EnvironmentError, UsageError} from '../cli/errors.js'
import {pidAlive} from './processes.js'
import type {SandboxState, ServerName} from './types.js'

export const STATE_FILE = 'sandbox.json'
export const CONFIG_FILE = 'payctl.yaml'
const LOCK_FILE = 'sandbox.lock'
/** Unix socket paths are limited to ~104-108 bytes; longer ones move to the temp folder. */
const MAX_SOCKET_PATH = 100

export interface ServerPaths {
  home: string
  datadir: string
  configFile: string
  pidFile: string
  errorLog: string
  socketPath: string
  initialisedMarker: string
}

export function sandboxPaths(dir: string) {
  return {
    stateFile: join(dir, STATE_FILE),
    configFile: join(dir, CONFIG_FILE),
    secretsDir: join(dir, 'secrets'),
    loadDir: join(dir, 'load'),
    lockFile: join(dir, LOCK_FILE),
  }
}

export function serverPaths(dir: string, name: ServerName): ServerPaths {
  const home = join(dir, name)
  let socketPath = join(home, 'mariadbd.sock')
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    const tag = createHash('sha256').update(dir).digest('hex').slice(0, 12)
    socketPath = join(tmpdir(), `payctl-${tag}-${name}.sock`)
  }
  return {
    home,
    datadir: join(home, 'data'),
    configFile: join(home, 'my.cnf'),
    pidFile: join(home, 'mariadbd.pid'),
    errorLog: join(home, 'error.log'),
    socketPath,
    initialisedMarker: join(home, 'initialised'),
  }
}

/** The state in `<dir>/sandbox.json`, or null when the folder holds no sandbox. */
export async function readSandboxState(dir: string): Promise<SandboxState | null> {
  const file = sandboxPaths(dir).stateFile
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    throw sandboxDirError(dir, err)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new UsageError('PAYCTL_SANDBOX_STATE_INVALID', `${file} is not valid JSON.`, {
      actions: [`Stop any server it started and remove the folder: payctl sandbox down --purge --dir ${dir}`],
      cause: err,
    })
  }
  const state = parsed as Partial<SandboxState>
  if (state.kind !== 'payctl-sandbox' || state.formatVersion !== 1 || state.servers === undefined) {
    throw new UsageError('PAYCTL_SANDBOX_STATE_INVALID', `${file} is not a payctl sandbox state file (format 1).`, {
      actions: ['Use another --dir, or remove this folder yourself if it is not needed.'],
    })
  }
  return state as SandboxState
}

/**
 * The sandbox folder cannot be used (it is a file, a path through a file, not readable or not
 * writable): exit 2 or 3 with what to do, instead of the bare errno of a bug.
 */
export function sandboxDirError(dir: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
    return new UsageError('PAYCTL_SANDBOX_DIR_INVALID', `--dir ${dir} is not a folder (it, or a folder above it, is a file).`, {
      actions: ['Pass --dir a folder, or a path where payctl may create one.'],
      cause: err,
      data: {dir},
    })
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new EnvironmentError('PAYCTL_SANDBOX_DIR_DENIED', `Cannot use the sandbox folder ${dir}: ${code} (not readable or not writable).`, {
      actions: [`Check the permissions of ${dir}, or pass another --dir.`],
      cause: err,
      data: {dir},
    })
  }
  return err instanceof Error ? err : new Error(String(err))
}

export async function writeSandboxState(state: SandboxState): Promise<void> {
  const file = sandboxPaths(state.dir).stateFile
  const tmp = `${file}.${process.pid}.tmp`
  state.updatedAt = new Date().toISOString()
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, {mode: 0o644})
  await rename(tmp, file)
}

/** Takes `<dir>/sandbox.lock`; a lock left by a process that no longer runs is taken over. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const file = sandboxPaths(dir).lockFile
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return async () => {
        await unlink(file).catch(() => undefined)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw sandboxDirError(dir, err)
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim())
      if (Number.isInteger(holder) && holder > 0 && (await pidAlive(holder))) {
        throw new UsageError('PAYCTL_SANDBOX_BUSY', `Another payctl process (pid ${holder}) is working on the sandbox in ${dir}.`, {
          actions: ['Wait for it to finish and run the command again.', `If no payctl runs, remove ${file}.`],
          data: {pid: holder},
        })
      }
      await unlink(file).catch(() => undefined)
    }
  }
  throw new UsageError('PAYCTL_SANDBOX_BUSY', `Could not take the lock ${file}.`, {actions: [`If no payctl runs, remove ${file}.`]})
}
