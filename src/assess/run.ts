/**
 * What `payctl assess` does before the rules run: choose live or offline, find the target flavor
 * (--target-flavor, else the config's target.flavor, else the live target's detected flavor),
 * open the engines it needs and close them again. The command only parses flags and renders.
 */
import {readFile} from 'node:fs/promises'
import {UsageError} from '../cli/errors.js'
import {findConfigPath, type LoadedConfig, loadConfig, resolveConnection} from '../config/index.js'
import {tableMatcher} from '../config/tables.js'
import type {Engine} from '../engines/engine.js'
import type {EngineName, MysqlFlavor, ServerInfo} from '../engines/model.js'
import {MYSQL_FLAVORS} from '../engines/model.js'
import {openEngine, withEngine} from '../engines/open.js'
import {defaultTargetSpec} from '../migrators/schema/convert.js'
import type {TargetSpec} from '../migrators/schema/steps.js'
import {assessDdl, assessLive} from './assess.js'
import type {AssessReport} from './report.js'

export interface RunAssessOptions {
  configPath?: string
  fromDdl?: string
  sourceEngine?: EngineName
  targetFlavor?: MysqlFlavor
  sample: boolean
  payctlVersion: string
  cwd: string
  signal?: AbortSignal
  progress?: (message: string) => void
  warn?: (message: string) => void
}

/** The target spec; the version (and server settings) only when the live target is that flavor. */
export function targetSpec(flavor: MysqlFlavor, database: string, server: ServerInfo | null): TargetSpec {
  const same = server !== null && server.flavor === flavor
  const spec = defaultTargetSpec(flavor, database, same ? server.version : null)
  // as provision does (targetSpecFor): the live server's own utf8mb4 default wins
  if (same && server.charset === 'utf8mb4' && server.collation !== null) spec.collation = server.collation
  return spec
}

function missingFlavor(detail: string): UsageError {
  return new UsageError('PAYCTL_TARGET_FLAVOR_UNKNOWN', `The target flavor is not known: ${detail}`, {
    actions: [`Pass --target-flavor (${MYSQL_FLAVORS.join(', ')}), or set target.flavor in the config.`],
  })
}

/** Opens the target when the config names one; null (and a warning) when it cannot be reached. */
async function tryOpenTarget(loaded: LoadedConfig, o: RunAssessOptions): Promise<{engine: Engine | null; server: ServerInfo | null; error: string | null}> {
  try {
    const engine = await openEngine(await resolveConnection('target', loaded), o.signal)
    try {
      return {engine, server: await engine.serverInfo(), error: null}
    } catch (err) {
      await engine.close().catch(() => undefined)
      throw err
    }
  } catch (err) {
    o.signal?.throwIfAborted()
    return {engine: null, server: null, error: err instanceof Error ? err.message : String(err)}
  }
}

function chooseFlavor(o: RunAssessOptions, loaded: LoadedConfig | null, server: ServerInfo | null, error: string | null): MysqlFlavor {
  const flavor = o.targetFlavor ?? loaded?.config.target.flavor ?? (server !== null && server.flavor !== 'sqlserver' ? server.flavor : undefined)
  if (flavor !== undefined) return flavor
  throw missingFlavor(error === null ? 'no --target-flavor, no target.flavor in the config, and the target is not a MySQL-family server.' : `no --target-flavor, no target.flavor in the config, and the target could not be reached (${error}).`)
}

export async function runAssess(o: RunAssessOptions): Promise<AssessReport> {
  return o.fromDdl === undefined ? runLive(o) : runDdl(o, o.fromDdl)
}

async function runDdl(o: RunAssessOptions, file: string): Promise<AssessReport> {
  let script: string
  try {
    script = await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError('PAYCTL_FILE_NOT_READABLE', `Cannot read the DDL script ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, {
      actions: ['Check the path passed to --from-ddl.'],
      cause: err,
      data: {path: file},
    })
  }
  // Offline needs no config; one is read only to learn the target flavor when the flag is absent.
  let flavor = o.targetFlavor
  let database = 'payments'
  if (flavor === undefined) {
    let loaded: LoadedConfig
    try {
      loaded = await loadConfig(findConfigPath(o.configPath, o.cwd))
    } catch (err) {
      throw missingFlavor(`no --target-flavor and no usable config (${err instanceof Error ? err.message.split('\n', 1)[0] : String(err)}).`)
    }
    database = loaded.config.target.database
    flavor = loaded.config.target.flavor
    if (flavor === undefined) {
      const t = await tryOpenTarget(loaded, o)
      await t.engine?.close()
      flavor = chooseFlavor(o, loaded, t.server, t.error)
    }
  }
  return assessDdl({script, sourceEngine: o.sourceEngine ?? 'sqlserver', fileName: file, target: targetSpec(flavor, database, null), payctlVersion: o.payctlVersion})
}

async function runLive(o: RunAssessOptions): Promise<AssessReport> {
  const loaded = await loadConfig(findConfigPath(o.configPath, o.cwd))
  const sourceConnection = await resolveConnection('source', loaded)
  o.progress?.('connecting to the target')
  const target = await tryOpenTarget(loaded, o)
  try {
    const flavor = chooseFlavor(o, loaded, target.server, target.error)
    if (target.error !== null) o.warn?.(`the target could not be reached (${target.error}); its version is unknown and the sample copy measures reads only`)
    else if (target.server !== null && target.server.flavor !== flavor) o.warn?.(`assessing for ${flavor} while the target server is ${target.server.flavor} ${target.server.version.raw}: version-dependent rules assume the version is unknown`)
    const spec = targetSpec(flavor, loaded.config.target.database, target.server)
    return await withEngine(sourceConnection, o.signal, async (source) => {
      o.progress?.('reading the source catalog')
      const full = await source.introspect(o.signal === undefined ? {} : {signal: o.signal})
      const matches = tableMatcher(loaded.config.tables)
      const model = {...full, tables: full.tables.filter((t) => matches(t.schema, t.name))}
      return assessLive({
        source,
        model,
        target: spec,
        targetServer: target.server?.flavor === flavor ? target.server : null,
        sample: o.sample ? {target: target.engine} : false,
        payctlVersion: o.payctlVersion,
        ...(o.signal === undefined ? {} : {signal: o.signal}),
        ...(o.progress === undefined ? {} : {progress: o.progress}),
      })
    })
  } finally {
    await target.engine?.close()
  }
}
