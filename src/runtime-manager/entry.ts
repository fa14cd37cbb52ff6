/**
 * Which program runs the payment service. The build compiles runtime/ into
 * `dist-runtime/runtime/src/main.js`; in a development checkout the TypeScript sources may be newer
 * than that build (or it may not exist), and then the sources are run through tsx, so
 * `node bin/dev.js runtime start` never runs stale code. `PAYCTL_RUNTIME_ENTRY` names another
 * script to run instead (a patched build, a stand-in) and wins over both.
 *
 * The choice is a pure function of facts gathered from the disk, so it is unit-tested without
 * building anything.
 */
import {existsSync} from 'node:fs'
import {readdir, stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {EnvironmentError} from '../cli/errors.js'
import type {RuntimeEntry} from './types.js'

export const BUILT_ENTRY = join('dist-runtime', 'runtime', 'src', 'main.js')
export const SOURCE_ENTRY = join('runtime', 'src', 'main.ts')
/** Sources the runtime is compiled from: its own and payctl's (engines, config, redaction). */
const SOURCE_DIRS = [join('runtime', 'src'), 'src']

/** The payctl package root: this file is `src/runtime-manager/entry.ts` or `dist/runtime-manager/entry.js`. */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
}

export interface EntryFacts {
  root: string
  /** PAYCTL_RUNTIME_ENTRY, when set. */
  override?: string | undefined
  /** mtime of dist-runtime/runtime/src/main.js, or null when it is not built. */
  builtMtimeMs: number | null
  /** Newest mtime of the .ts sources, or null when runtime/src/main.ts is absent (an installed package). */
  newestSourceMtimeMs: number | null
  /** URL of tsx's loader, or null when tsx is not installed (production installs). */
  tsxLoader: string | null
}

export function chooseRuntimeEntry(f: EntryFacts): RuntimeEntry {
  const node = process.execPath
  if (f.override !== undefined && f.override !== '') {
    const path = resolve(f.override)
    const args = path.endsWith('.ts') ? tsxArgs(f.tsxLoader, path) : [path]
    return {kind: 'override', path, command: node, args, reason: 'PAYCTL_RUNTIME_ENTRY is set'}
  }
  const built = join(f.root, BUILT_ENTRY)
  const source = join(f.root, SOURCE_ENTRY)
  const builtIsCurrent = f.builtMtimeMs !== null && (f.newestSourceMtimeMs === null || f.builtMtimeMs >= f.newestSourceMtimeMs)
  if (builtIsCurrent) return {kind: 'built', path: built, command: node, args: [built], reason: `${BUILT_ENTRY} is up to date`}
  if (f.newestSourceMtimeMs !== null && f.tsxLoader !== null) {
    const why = f.builtMtimeMs === null ? `${BUILT_ENTRY} does not exist` : `the sources are newer than ${BUILT_ENTRY}`
    return {kind: 'source', path: source, command: node, args: tsxArgs(f.tsxLoader, source), reason: `${why}; running ${SOURCE_ENTRY} with tsx`}
  }
  if (f.builtMtimeMs !== null) {
    return {kind: 'built', path: built, command: node, args: [built], reason: `${BUILT_ENTRY} is older than the sources, but tsx is not installed`}
  }
  throw new EnvironmentError('PAYCTL_RUNTIME_MISSING', `The payment service is not built: ${built} does not exist${f.newestSourceMtimeMs === null ? ' and its sources are not here' : ' and tsx is not installed to run its sources'}.`, {
    actions: [`Build it: cd ${f.root} && npm run build`],
    data: {built, source},
  })
}

function tsxArgs(loader: string | null, script: string): string[] {
  if (loader === null) {
    throw new EnvironmentError('PAYCTL_RUNTIME_TSX_MISSING', `${script} is TypeScript, and tsx is not installed to run it.`, {
      actions: ['Install the development dependencies (npm ci), or build the service (npm run build).'],
    })
  }
  return ['--import', loader, script]
}

/** Gathers the facts for `chooseRuntimeEntry` from the disk and the environment. */
export async function findRuntimeEntry(root: string = packageRoot(), env: NodeJS.ProcessEnv = process.env): Promise<RuntimeEntry> {
  const builtMtimeMs = await stat(join(root, BUILT_ENTRY)).then((s) => s.mtimeMs, () => null)
  const hasSources = existsSync(join(root, SOURCE_ENTRY))
  let newest: number | null = null
  if (hasSources) {
    newest = 0
    for (const dir of SOURCE_DIRS) newest = Math.max(newest, await newestTsMtime(join(root, dir)))
  }
  return chooseRuntimeEntry({root, override: env.PAYCTL_RUNTIME_ENTRY, builtMtimeMs, newestSourceMtimeMs: newest, tsxLoader: tsxLoader()})
}

async function newestTsMtime(dir: string): Promise<number> {
  let newest = 0
  const entries = await readdir(dir, {withFileTypes: true, recursive: true}).catch(() => [])
  for (const e of entries) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue
    const s = await stat(join(e.parentPath, e.name)).catch(() => null)
    if (s !== null && s.mtimeMs > newest) newest = s.mtimeMs
  }
  return newest
}

/** tsx's ESM loader as an absolute URL, so the child finds it whatever its working folder. */
function tsxLoader(): string | null {
  try {
    // resolved from this module, which lives in the payctl package next to its node_modules
    return import.meta.resolve('tsx')
  } catch {
    return null
  }
}
