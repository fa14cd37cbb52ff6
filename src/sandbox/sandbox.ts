/**
 * `payctl sandbox up | status | down` as a library: two private MariaDB servers ("legacy", the
 * source, and "target") under one folder, the legacy payments schema and a deterministic data set.
 *
 * Every step of `up` is idempotent and recorded in `<dir>/sandbox.json`, so a rerun after any
 * failure or interruption completes the sandbox: an initialised data directory is kept, running
 * servers are left alone, stopped ones are started, and a data set not marked "loaded" is
 * dropped and loaded again from scratch.
 */
import {mkdir, readdir, readFile, realpath, rm, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'

import {createConnection} from 'mysql2/promise'

import {EnvironmentError, InterruptedError, PayctlError, UsageError} from '../cli/errors.js'
import {ensureFingerprintKeyFile} from '../runtime-manager/index.js'
import {findMariadb, type MariadbBinaries} from './binaries.js'
import {renderSandboxConfig} from './config-file.js'
import {GENERATOR_VERSION, MAX_SCALE, MIN_SCALE} from './data-generator.js'
import {LEGACY_DATABASE, LEGACY_SCHEMA_SQL, LEGACY_TABLES} from './legacy-schema.js'
import {clearLoadDir, loadFiles, writeLoadFiles} from './loader.js'
import {renderMyCnf, SERVER_IDS} from './my-cnf.js'
import {DEFAULT_PORTS, freePort, pickPort} from './ports.js'
import {DEFAULT_RUNTIME_BASE_PORT, DEFAULT_RUNTIME_INSTANCES, ensureRuntime, FINGERPRINT_KEY_REF, MAX_RUNTIME_INSTANCES, runtimePaths, runtimeStatuses, stopRuntime} from './runtime.js'
import {ensurePassword, readPassword} from './secrets.js'
import {connectAdmin, initDatadir, serverPids, spawnServer, stopServer, waitUntilReady} from './server.js'
import {acquireLock, readSandboxState, sandboxDirError, sandboxPaths, serverPaths, writeSandboxState} from './state.js'
import {
  SERVER_NAMES,
  type SandboxConnectionInfo,
  type SandboxDownOptions,
  type SandboxDownResult,
  type SandboxProgress,
  type SandboxServerState,
  type SandboxServerStatus,
  type SandboxState,
  type SandboxStatus,
  type SandboxUpOptions,
  type ServerName,
} from './types.js'

export const APP_USER = 'payctl'
const HEALTH_TIMEOUT_MS = 2_000

function newState(dir: string, bins: MariadbBinaries): SandboxState {
  const now = new Date().toISOString()
  const server = (name: ServerName): SandboxServerState => {
    const p = serverPaths(dir, name)
    return {
      name,
      serverId: SERVER_IDS[name],
      port: 0,
      socketPath: p.socketPath,
      home: p.home,
      datadir: p.datadir,
      configFile: p.configFile,
      pidFile: p.pidFile,
      errorLog: p.errorLog,
      pid: null,
      startedAt: null,
      version: null,
    }
  }
  return {
    kind: 'payctl-sandbox',
    formatVersion: 1,
    dir,
    createdAt: now,
    updatedAt: now,
    binaries: {mariadbd: bins.mariadbd, installDb: bins.installDb, version: bins.version},
    servers: {legacy: server('legacy'), target: server('target')},
    accountsReady: false,
    data: null,
    configPath: null,
  }
}

function validateUpOptions(opts: SandboxUpOptions): void {
  if (!Number.isFinite(opts.scale) || opts.scale < MIN_SCALE || opts.scale > MAX_SCALE) {
    throw new UsageError('PAYCTL_BAD_SCALE', `The scale must be between ${MIN_SCALE} and ${MAX_SCALE} (got ${opts.scale}).`, {
      actions: ['Use --scale 1 for about 100,000 payment intents, --scale 0.01 for a quick small set.'],
    })
  }
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) {
    throw new UsageError('PAYCTL_BAD_SEED', `The seed must be a non-negative integer (got ${opts.seed}).`, {actions: ['Use for example --seed 1.']})
  }
  for (const [name, port] of Object.entries(opts.ports ?? {})) {
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new UsageError('PAYCTL_BAD_PORT', `The ${name} port must be 0 (any free port) or 1-65535 (got ${port}).`)
    }
  }
  const instances = opts.runtimeInstances ?? DEFAULT_RUNTIME_INSTANCES
  if (!Number.isInteger(instances) || instances < 0 || instances > MAX_RUNTIME_INSTANCES) {
    throw new UsageError('PAYCTL_BAD_RUNTIME_INSTANCES', `The number of runtime instances must be 0 (none) to ${MAX_RUNTIME_INSTANCES} (got ${instances}).`, {
      actions: ['Use for example --runtime-instances 2.'],
    })
  }
  const basePort = opts.runtimeBasePort ?? DEFAULT_RUNTIME_BASE_PORT
  if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65_535) {
    throw new UsageError('PAYCTL_BAD_PORT', `The runtime base port must be 0 (any free port) or 1-65535 (got ${basePort}).`)
  }
}

/** Creates, starts and loads the sandbox; harmless to run again. */
export async function sandboxUp(opts: SandboxUpOptions): Promise<SandboxState> {
  validateUpOptions(opts)
  const bins = await findMariadb(opts.binDirs)
  await mkdir(resolve(opts.dir), {recursive: true}).catch((err: unknown) => {
    throw sandboxDirError(resolve(opts.dir), err)
  })
  // canonical path: secure_file_priv and LOAD DATA must name the load folder the same way
  const dir = await realpath(resolve(opts.dir))
  const release = await acquireLock(dir)
  try {
    return await up(dir, bins, opts)
  } catch (err) {
    if (opts.signal?.aborted === true && !(err instanceof PayctlError)) throw new InterruptedError(undefined, {cause: err})
    throw err
  } finally {
    await release()
  }
}

async function up(dir: string, bins: MariadbBinaries, opts: SandboxUpOptions): Promise<SandboxState> {
  const progress = (event: SandboxProgress): void => opts.onProgress?.(event)
  const existing = await readSandboxState(dir)
  const loaded = existing?.data?.status === 'loaded' ? existing.data : null
  if (loaded !== null && (loaded.scale !== opts.scale || loaded.seed !== opts.seed || loaded.generatorVersion !== GENERATOR_VERSION)) {
    throw new UsageError(
      'PAYCTL_SANDBOX_EXISTS',
      `The sandbox in ${dir} already holds a data set with scale ${loaded.scale} and seed ${loaded.seed}${loaded.generatorVersion === GENERATOR_VERSION ? '' : ` (generator version ${loaded.generatorVersion})`}; scale ${opts.scale} and seed ${opts.seed} were asked.`,
      {
        actions: [`Remove it first: payctl sandbox down --purge --dir ${dir}`, `Or keep it: payctl sandbox up --scale ${loaded.scale} --seed ${loaded.seed}`],
        data: {scale: loaded.scale, seed: loaded.seed},
      },
    )
  }
  const state = existing ?? newState(dir, bins)
  state.binaries = {mariadbd: bins.mariadbd, installDb: bins.installDb, version: bins.version}
  const paths = sandboxPaths(dir)
  await mkdir(paths.loadDir, {recursive: true, mode: 0o700})

  // Servers that already run keep their process and port; the others get a port that is free now.
  const running: Record<ServerName, number | null> = {legacy: null, target: null}
  for (const name of SERVER_NAMES) running[name] = (await serverPids(state.servers[name]))[0] ?? null
  const taken = new Set<number>()
  for (const name of SERVER_NAMES) if (running[name] !== null) taken.add(state.servers[name].port)
  let portsChanged = false
  for (const name of SERVER_NAMES) {
    const server = state.servers[name]
    if (running[name] !== null) continue
    const preferred = opts.ports?.[name] ?? DEFAULT_PORTS[name]
    const port = await pickPort(server.port > 0 ? [server.port, preferred] : [preferred], taken)
    if (server.port > 0 && port !== server.port) {
      progress({step: 'start', server: name, message: `port ${server.port} is taken by another process; using ${port} (payctl.yaml is updated)`})
    }
    if (port !== server.port) portsChanged = true
    server.port = port
    taken.add(port)
    await mkdir(join(server.home, 'tmp'), {recursive: true, mode: 0o700})
    await writeFile(server.configFile, renderMyCnf(cnfSpec(server, paths.loadDir)))
  }
  await writeSandboxState(state)

  // (1)-(3) initialise and start both servers in parallel; the state is saved whatever happens.
  const results = await Promise.allSettled(SERVER_NAMES.map((name) => ensureRunning(state, name, running[name], bins, taken, opts, progress)))
  portsChanged ||= results.some((r) => r.status === 'fulfilled' && r.value)
  await writeSandboxState(state)
  for (const r of results) if (r.status === 'rejected') throw r.reason

  // (4) the application user, with its own password on each server (reading a password registers
  // it for redaction; a deleted password file gets a new password)
  const passwordsReadable = await Promise.all(SERVER_NAMES.map((name) => readPassword(dir, name).then(() => true, () => false)))
  if (!state.accountsReady || passwordsReadable.includes(false)) {
    progress({step: 'schema', message: `creating the ${APP_USER} user on both servers`})
    await Promise.all(SERVER_NAMES.map((name) => ensureAppUser(dir, state.servers[name])))
    state.accountsReady = true
    await writeSandboxState(state)
  }

  // (5)-(7) schema and data
  if (state.data?.status === 'loaded') {
    progress({step: 'load', server: 'legacy', message: `data set already loaded (scale ${state.data.scale}, seed ${state.data.seed})`})
  } else {
    await loadDataSet(state, opts, progress)
  }

  // (8) the config file, with the runtime's fingerprint key it refers to (made once, kept for
  // good: fingerprints already stored were computed with it). Written again whenever its content
  // would change (ports, runtime section), since the instances read it.
  const rt = runtimePaths(dir)
  await ensureFingerprintKeyFile(rt.fingerprintKeyFile)
  const instances = opts.runtimeInstances ?? DEFAULT_RUNTIME_INSTANCES
  const basePort = opts.runtimeBasePort ?? DEFAULT_RUNTIME_BASE_PORT
  const configFile = paths.configFile
  const configText = renderSandboxConfig({
    ports: {legacy: state.servers.legacy.port, target: state.servers.target.port},
    database: LEGACY_DATABASE,
    runtime: {instances, basePort, fingerprintKey: FINGERPRINT_KEY_REF},
  })
  const current = await readFile(configFile, 'utf8').catch(() => null)
  const configChanged = current !== configText || state.configPath === null
  if (configChanged) {
    await writeFile(configFile, configText)
    state.configPath = configFile
    await writeSandboxState(state)
    progress({step: 'config', message: `wrote ${configFile}`})
  } else {
    progress({step: 'config', message: `${configFile} is up to date`})
  }

  // (9) the payment service. A config change that only touched the runtime section needs no
  // restart; one that moved a database does.
  await ensureRuntime(state, configFile, {instances, basePort, configChanged: portsChanged, signal: opts.signal, progress})
  return state
}

function cnfSpec(server: SandboxServerState, loadDir: string) {
  return {
    name: server.name,
    serverId: server.serverId,
    port: server.port,
    datadir: server.datadir,
    socketPath: server.socketPath,
    pidFile: server.pidFile,
    errorLog: server.errorLog,
    loadDir,
    tmpDir: join(server.home, 'tmp'),
  }
}

/** Returns true when the port had to change (it was taken when mariadbd tried to bind it). */
async function ensureRunning(
  state: SandboxState,
  name: ServerName,
  runningPid: number | null,
  bins: MariadbBinaries,
  taken: Set<number>,
  opts: SandboxUpOptions,
  progress: (event: SandboxProgress) => void,
): Promise<boolean> {
  const server = state.servers[name]
  const paths = serverPaths(state.dir, name)
  if (runningPid !== null) {
    server.pid = runningPid
    progress({step: 'start', server: name, message: `already running (pid ${runningPid}, port ${server.port})`})
    server.version = await waitUntilReady(server, {pid: runningPid, exit: null}, opts.signal)
    return false
  }
  progress({step: 'init-db', server: name, message: `initialising ${paths.datadir}`})
  const created = await initDatadir(bins, server, paths)
  progress({step: 'init-db', server: name, message: created ? 'data directory created' : 'data directory exists'})
  let portChanged = false
  for (let attempt = 1; ; attempt++) {
    progress({step: 'start', server: name, message: `starting mariadbd on 127.0.0.1:${server.port}`})
    const started = await spawnServer(bins, paths)
    server.pid = started.pid
    server.startedAt = new Date().toISOString()
    try {
      server.version = await waitUntilReady(server, started, opts.signal)
      progress({step: 'start', server: name, message: `ready (pid ${started.pid}, port ${server.port}, ${server.version})`})
      return portChanged
    } catch (err) {
      if (started.exit !== null) server.pid = null
      // another process took the port between our check and mariadbd's bind: pick another once
      const portInUse = err instanceof PayctlError && err.code === 'PAYCTL_SANDBOX_PORT_IN_USE'
      const fixedPort = (opts.ports?.[name] ?? 0) !== 0
      if (!portInUse || attempt >= 2 || fixedPort) throw err
      taken.delete(server.port)
      server.port = await freePort(taken)
      taken.add(server.port)
      portChanged = true
      await writeFile(server.configFile, renderMyCnf(cnfSpec(server, sandboxPaths(state.dir).loadDir)))
    }
  }
}

async function ensureAppUser(dir: string, server: SandboxServerState): Promise<void> {
  const password = await ensurePassword(dir, server.name)
  const conn = await connectAdmin(server.socketPath)
  try {
    // Accounts are per server and stay out of the binlog: replicating legacy -> target must not
    // carry the legacy password over the target's.
    await conn.query('SET SESSION sql_log_bin = 0')
    for (const host of ['127.0.0.1', 'localhost']) {
      await conn.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [APP_USER, host, password.reveal()])
      await conn.query('ALTER USER ?@? IDENTIFIED BY ?', [APP_USER, host, password.reveal()])
      // ALL PRIVILEGES includes what change capture and the cutover need later (REPLICATION SLAVE,
      // BINLOG MONITOR, RELOAD, READ_ONLY ADMIN ...); this is a throwaway local sandbox.
      await conn.query('GRANT ALL PRIVILEGES ON *.* TO ?@?', [APP_USER, host])
    }
  } finally {
    await conn.end().catch(() => undefined)
  }
}

async function loadDataSet(state: SandboxState, opts: SandboxUpOptions, progress: (event: SandboxProgress) => void): Promise<void> {
  const started = Date.now()
  const loadDir = sandboxPaths(state.dir).loadDir
  state.data = {
    status: 'loading',
    scale: opts.scale,
    seed: opts.seed,
    generatorVersion: GENERATOR_VERSION,
    database: LEGACY_DATABASE,
    rows: {},
    loadedAt: null,
    loadSeconds: null,
  }
  await writeSandboxState(state)

  const charset = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci'
  progress({step: 'schema', server: 'legacy', message: `creating database ${LEGACY_DATABASE} (${LEGACY_TABLES.length} tables)`})
  const legacy = await connectAdmin(state.servers.legacy.socketPath, {multipleStatements: true})
  try {
    // A data set not marked loaded may be partial: start again from an empty schema.
    await legacy.query(`DROP DATABASE IF EXISTS \`${LEGACY_DATABASE}\`; CREATE DATABASE \`${LEGACY_DATABASE}\` ${charset}; USE \`${LEGACY_DATABASE}\`;${LEGACY_SCHEMA_SQL}`)
  } catch (err) {
    await legacy.end().catch(() => undefined)
    throw err
  }
  progress({step: 'schema', server: 'target', message: `creating empty database ${LEGACY_DATABASE}`})
  const target = await connectAdmin(state.servers.target.socketPath)
  try {
    await target.query(`CREATE DATABASE IF NOT EXISTS \`${LEGACY_DATABASE}\` ${charset}`)
  } finally {
    await target.end().catch(() => undefined)
  }

  try {
    await clearLoadDir(loadDir)
    progress({step: 'load', server: 'legacy', message: `generating the data set (scale ${opts.scale}, seed ${opts.seed})`, rows: 0})
    const loadOptions = {
      loadDir,
      scale: opts.scale,
      seed: opts.seed,
      ...(opts.signal === undefined ? {} : {signal: opts.signal}),
      onGenerated: (done: number, total: number) =>
        progress({step: 'load', server: 'legacy', message: `generated ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} payment intents`, rows: done}),
      onTableLoaded: (table: string, rows: number) =>
        progress({step: 'load', server: 'legacy', table, rows, message: `loaded ${table} (${rows.toLocaleString('en-US')} rows)`}),
    }
    const counts = await writeLoadFiles(loadOptions)
    await loadFiles(legacy, loadOptions, counts)
    state.data.rows = {...counts}
  } finally {
    await legacy.end().catch(() => undefined)
    await clearLoadDir(loadDir)
  }
  state.data.status = 'loaded'
  state.data.loadedAt = new Date().toISOString()
  state.data.loadSeconds = Math.round((Date.now() - started) / 100) / 10
  await writeSandboxState(state)
  const total = Object.values(state.data.rows).reduce((a, b) => a + b, 0)
  progress({step: 'load', server: 'legacy', rows: total, message: `data set loaded: ${total.toLocaleString('en-US')} rows in ${state.data.loadSeconds} s`})
}

// ---------------------------------------------------------------------------------------------

/** What runs and how healthy it is; a folder without a sandbox gives `exists: false`. */
export async function sandboxStatus(opts: {dir: string}): Promise<SandboxStatus> {
  const dir = resolve(opts.dir)
  const paths = sandboxPaths(dir)
  const state = await readSandboxState(dir)
  if (state === null) return {exists: false, dir, stateFile: paths.stateFile, configPath: null, createdAt: null, servers: [], data: null, runtime: []}
  const [servers, runtime] = await Promise.all([Promise.all(SERVER_NAMES.map((name) => serverStatus(dir, state.servers[name]))), runtimeStatuses(state)])
  return {exists: true, dir, stateFile: paths.stateFile, configPath: state.configPath, createdAt: state.createdAt, servers, data: state.data, runtime}
}

async function serverStatus(dir: string, server: SandboxServerState): Promise<SandboxServerStatus> {
  const pids = await serverPids(server)
  const status: SandboxServerStatus = {
    name: server.name,
    pid: pids[0] ?? null,
    port: server.port,
    socketPath: server.socketPath,
    datadir: server.datadir,
    configFile: server.configFile,
    errorLog: server.errorLog,
    running: pids.length > 0,
    healthy: false,
    version: null,
    uptimeSeconds: null,
    binlogFormat: null,
    gtidStrictMode: null,
    databases: [],
  }
  if (!status.running) return status
  let conn: Awaited<ReturnType<typeof createConnection>> | null = null
  try {
    const password = await readPassword(dir, server.name)
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`no answer to SELECT 1 within ${HEALTH_TIMEOUT_MS / 1000} s`)), HEALTH_TIMEOUT_MS).unref()
    })
    const connecting = createConnection({host: '127.0.0.1', port: server.port, user: APP_USER, password: password.reveal(), connectTimeout: HEALTH_TIMEOUT_MS})
    try {
      conn = await Promise.race([connecting, timeout])
    } catch (err) {
      // a connection that completes after the deadline must not keep the process alive
      connecting.then((late) => late.destroy(), () => undefined)
      throw err
    }
    const c = conn
    await Promise.race([c.query('SELECT 1'), timeout])
    status.healthy = true
    const [vars] = await c.query('SELECT VERSION() AS version, @@binlog_format AS binlogFormat, @@gtid_strict_mode AS gtidStrict')
    const v = (vars as Array<{version: string; binlogFormat: string; gtidStrict: number}>)[0]
    status.version = v?.version ?? null
    status.binlogFormat = v?.binlogFormat ?? null
    status.gtidStrictMode = v === undefined ? null : Number(v.gtidStrict) === 1
    const [uptime] = await c.query("SHOW GLOBAL STATUS LIKE 'Uptime'")
    const up = Number((uptime as Array<{Value: string}>)[0]?.Value)
    status.uptimeSeconds = Number.isFinite(up) ? up : null
    const [sizes] = await c.query(
      `SELECT s.SCHEMA_NAME AS name, COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) AS size
         FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME
        WHERE s.SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
        GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME`,
    )
    status.databases = (sizes as Array<{name: string; size: string | number}>).map((r) => ({name: r.name, sizeBytes: Number(r.size)}))
  } catch (err) {
    status.error = err instanceof Error ? err.message : String(err)
  } finally {
    if (status.healthy) await conn?.end().catch(() => undefined)
    else conn?.destroy()
  }
  return status
}

// ---------------------------------------------------------------------------------------------

/** Stops the runtime instances, then both servers (waits until they have exited); `purge` also deletes the sandbox folder. */
export async function sandboxDown(opts: SandboxDownOptions): Promise<SandboxDownResult> {
  const dir = await realpath(resolve(opts.dir)).catch(() => resolve(opts.dir))
  const state = await readSandboxState(dir)
  if (state === null) {
    const entries = await readdir(dir).catch(() => null)
    if (opts.purge && entries !== null && entries.length > 0) {
      throw new UsageError('PAYCTL_SANDBOX_NOT_A_SANDBOX', `${dir} holds no payctl sandbox (no sandbox.json); refusing to delete it.`, {
        actions: ['Check --dir. payctl only deletes folders it created.'],
      })
    }
    return {dir, existed: false, servers: [], runtime: [], purged: false}
  }
  const release = await acquireLock(dir)
  let purged = false
  try {
    // the service first, while its database still answers: in-flight payments finish cleanly
    const runtime = await stopRuntime(state, opts.signal)
    if (!opts.purge) await writeSandboxState(state)
    const servers = await Promise.all(SERVER_NAMES.map((name) => stopServer(state.servers[name], opts.signal)))
    for (const name of SERVER_NAMES) state.servers[name].pid = null
    if (opts.purge) {
      // sockets moved to the temp folder (long paths) are outside dir
      await Promise.all(SERVER_NAMES.map((name) => rm(state.servers[name].socketPath, {force: true})))
      await rm(dir, {recursive: true, force: true})
      purged = true
    } else {
      await writeSandboxState(state)
    }
    return {dir, existed: true, servers, runtime, purged}
  } finally {
    if (!purged) await release()
  }
}

/** How to reach a sandbox server as the payctl user (the password from its secrets file). */
export async function sandboxConnectionInfo(dir: string, server: ServerName): Promise<SandboxConnectionInfo> {
  const abs = resolve(dir)
  const state = await readSandboxState(abs)
  if (state === null) {
    throw new EnvironmentError('PAYCTL_SANDBOX_MISSING', `There is no sandbox in ${abs}.`, {actions: [`Start one: payctl sandbox up --dir ${abs}`]})
  }
  const s = state.servers[server]
  return {host: '127.0.0.1', port: s.port, socketPath: s.socketPath, user: APP_USER, password: await readPassword(abs, server), database: LEGACY_DATABASE}
}
