/**
 * Finds the MariaDB server binaries the sandbox runs as private processes. Distribution packages
 * put `mariadbd` in an sbin folder that is often not on a user's PATH, so those are searched too.
 */
import {execFile} from 'node:child_process'
import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import {delimiter, join} from 'node:path'
import {promisify} from 'node:util'

import {EnvironmentError} from '../cli/errors.js'

const execFileAsync = promisify(execFile)

export const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin', '/opt/homebrew/bin', '/opt/homebrew/sbin']

export interface MariadbBinaries {
  mariadbd: string
  installDb: string
  version: string
}

export const INSTALL_ACTIONS = [
  'Debian/Ubuntu: sudo apt-get install -y mariadb-server',
  'macOS: brew install mariadb',
  'Or run: bash scripts/setup.sh',
  'No system service is needed: payctl runs its own private mariadbd processes.',
]

/** The folders searched: the override when given, else PATH followed by the usual sbin folders. */
export function searchDirs(binDirs?: string[]): string[] {
  if (binDirs !== undefined) return binDirs
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')
  return [...new Set([...fromPath, ...EXTRA_BIN_DIRS])]
}

async function findExecutable(name: string, dirs: string[]): Promise<string | null> {
  for (const dir of dirs) {
    const candidate = join(dir, name)
    try {
      await access(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; keep looking
    }
  }
  return null
}

export async function findMariadb(binDirs?: string[]): Promise<MariadbBinaries> {
  const dirs = searchDirs(binDirs)
  const [mariadbd, installDb] = await Promise.all([findExecutable('mariadbd', dirs), findExecutable('mariadb-install-db', dirs)])
  if (mariadbd === null || installDb === null) {
    const missing = [mariadbd === null ? 'mariadbd' : null, installDb === null ? 'mariadb-install-db' : null].filter((m) => m !== null)
    throw new EnvironmentError(
      'PAYCTL_MARIADB_MISSING',
      `The sandbox needs MariaDB, but ${missing.join(' and ')} was not found (searched: ${dirs.join(', ') || 'nothing'}).`,
      {actions: INSTALL_ACTIONS, data: {missing, searched: dirs}},
    )
  }
  let version: string
  try {
    const {stdout} = await execFileAsync(mariadbd, ['--version'], {timeout: 15_000})
    // "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
    version = /Ver\s+(\S+)/.exec(stdout)?.[1] ?? stdout.trim()
  } catch (err) {
    throw new EnvironmentError('PAYCTL_MARIADB_BROKEN', `${mariadbd} --version failed: ${err instanceof Error ? err.message : String(err)}`, {
      actions: ['Check the MariaDB installation, or reinstall it:', ...INSTALL_ACTIONS],
      cause: err,
    })
  }
  return {mariadbd, installDb, version}
}
