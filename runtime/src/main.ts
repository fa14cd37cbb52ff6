/**
 * The runtime's process entry (started by `payctl runtime start` and the sandbox):
 *   node runtime/dist/main.js --config payctl.yaml [--host 127.0.0.1] [--port 0] [--instance ID]
 *        [--fingerprint-key-file FILE]
 * Each flag can also come from PAYCTL_RUNTIME_{CONFIG,HOST,PORT,INSTANCE,FINGERPRINT_KEY_FILE};
 * the key itself may be given as PAYCTL_RUNTIME_FINGERPRINT_KEY, and PAYCTL_RUNTIME_RYW_MS sets
 * the read-your-writes window (default READ_YOUR_WRITES_MS, 0 disables; data/recent-writes.ts).
 * It opens pools to the config's
 * source and target and routes between them by the routing state in the control store
 * (controlStore.side/database), read before it listens and then every RUNTIME_POLL_MS
 * (data/routing.ts). Once listening it logs {"msg":"listening","port":N,"instance":ID} (the
 * process manager reads the port from that line). SIGTERM/SIGINT: /readyz turns 503, the server
 * stops accepting, in-flight requests finish (at most SHUTDOWN_GRACE_MS), the instance leaves the
 * control store's instance list, the pools close, exit 0.
 * This is the only file of the service that may exit the process.
 */
import {readFile} from 'node:fs/promises'
import {hostname} from 'node:os'
import {parseArgs} from 'node:util'
import {loadConfig, resolveConnection} from '../../src/config/index.js'
import {mysqlPaymentsSql} from '../../src/engines/mysql/mysql-payments-sql.js'
import {buildApp, MIN_FINGERPRINT_KEY_BYTES} from './app.js'
import {MysqlDb} from './data/db.js'
import {READ_YOUR_WRITES_MS, RecentWrites} from './data/recent-writes.js'
import {RoutedRouter} from './data/router.js'
import {controlStoreClient, RoutingPoller} from './data/routing.js'
import {RoutingState} from './data/routing-state.js'
import {ShadowReads} from './data/shadow.js'
import {createLogger} from './http/logger.js'

const SHUTDOWN_GRACE_MS = 10_000

/** Exit codes as payctl's (README): 2 bad usage or config, 3 environment (database unreachable). */
const EXIT_USAGE = 2
const EXIT_ENVIRONMENT = 3

/** The host in this instance's URL: a wildcard address is not one payctl can connect to. */
function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return hostname()
  return host.includes(':') ? `[${host}]` : host
}

async function main(): Promise<void> {
  const env = process.env
  const {values} = parseArgs({
    options: {
      config: {type: 'string'},
      host: {type: 'string'},
      port: {type: 'string'},
      instance: {type: 'string'},
      'fingerprint-key-file': {type: 'string'},
    },
    strict: true,
  })
  const instance = values.instance ?? env.PAYCTL_RUNTIME_INSTANCE ?? `${hostname()}-${process.pid}`
  const logger = createLogger({instance, level: env.PAYCTL_RUNTIME_LOG_LEVEL ?? 'info'})
  const fail = (code: number, msg: string, extra: Record<string, unknown> = {}): never => {
    logger.fatal(extra, msg)
    logger.flush()
    process.exit(code)
  }

  const configPath = values.config ?? env.PAYCTL_RUNTIME_CONFIG
  if (configPath === undefined) return fail(EXIT_USAGE, 'no config: pass --config FILE or set PAYCTL_RUNTIME_CONFIG')
  const host = values.host ?? env.PAYCTL_RUNTIME_HOST ?? '127.0.0.1'
  const portText = values.port ?? env.PAYCTL_RUNTIME_PORT ?? '0'
  if (!/^\d{1,5}$/.test(portText) || Number.parseInt(portText, 10) > 65535) return fail(EXIT_USAGE, `--port must be 0..65535, got ${portText}`)
  const port = Number.parseInt(portText, 10)
  const rywText = env.PAYCTL_RUNTIME_RYW_MS ?? String(READ_YOUR_WRITES_MS)
  if (!/^\d{1,7}$/.test(rywText)) return fail(EXIT_USAGE, `PAYCTL_RUNTIME_RYW_MS must be 0 (off) or a number of milliseconds up to 9999999, got ${rywText}`)
  const readYourWritesMs = Number.parseInt(rywText, 10)

  const keyFile = values['fingerprint-key-file'] ?? env.PAYCTL_RUNTIME_FINGERPRINT_KEY_FILE
  let key: Buffer | undefined
  if (keyFile !== undefined) key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'utf8')
  else if (env.PAYCTL_RUNTIME_FINGERPRINT_KEY !== undefined) key = Buffer.from(env.PAYCTL_RUNTIME_FINGERPRINT_KEY, 'utf8')
  if (key === undefined || key.length < MIN_FINGERPRINT_KEY_BYTES) {
    return fail(EXIT_USAGE, `no card fingerprint key (at least ${MIN_FINGERPRINT_KEY_BYTES} bytes): pass --fingerprint-key-file FILE or set PAYCTL_RUNTIME_FINGERPRINT_KEY`)
  }

  const loaded = await loadConfig(configPath)
  const source = await resolveConnection('source', loaded, env)
  const target = await resolveConnection('target', loaded, env)
  for (const c of [source, target]) {
    if (c.engine !== 'mysql') return fail(EXIT_USAGE, `the runtime serves from MySQL-family databases only for now; ${c.label}.engine is ${c.engine}`)
  }
  const controlSide = loaded.config.controlStore.side
  const control = controlSide === 'source' ? source : target
  const state = new RoutingState()
  const shadow = new ShadowReads()
  const router = new RoutedRouter(MysqlDb.create('source', source), MysqlDb.create('target', target), state, shadow, new RecentWrites({windowMs: readYourWritesMs}))
  const controlStore = controlStoreClient(control)
  let url: string | null = null
  const poller = new RoutingPoller({
    query: controlStore.query,
    database: loaded.config.controlStore.database,
    state,
    instanceId: instance,
    host: hostname(),
    pid: process.pid,
    logger,
    detail: () => ({url, shadow: shadow.stats()}),
  })
  // the first read decides whether this instance may write at all (it stays fenced until one succeeds)
  await poller.start()
  const app = buildApp({router, logger, fingerprintKey: key, defaultMetrics: true})

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    app.lifecycle.shuttingDown = true
    logger.info({signal}, 'shutting down')
    const force = setTimeout(() => fail(1, 'in-flight requests did not finish in time', {graceMs: SHUTDOWN_GRACE_MS}), SHUTDOWN_GRACE_MS)
    force.unref()
    app
      .close()
      .then(() => poller.stop())
      .then(() => Promise.all([router.close(), controlStore.close()]))
      .then(() => {
        clearTimeout(force)
        logger.info('stopped')
        logger.flush()
        process.exit(0)
      })
      .catch((error: unknown) => fail(1, 'shutdown failed', {err: error}))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  await app.ready()
  for (const db of router.serving()) {
    try {
      await db.query(mysqlPaymentsSql.ping())
    } catch (error) {
      return fail(EXIT_ENVIRONMENT, `the ${db.side} database is unreachable`, {err: error})
    }
  }
  await app.listen({host, port})
  const address = app.server.address()
  const listening = typeof address === 'object' && address !== null ? address.port : port
  url = `http://${advertisedHost(host)}:${listening}`
  poller.kick() // publish the URL now: payctl finds this instance's /metrics by it
  logger.info({port: listening, instance, host, writes: state.mode(), routingVersion: state.version, readYourWritesMs}, 'listening')
}

main().catch((error: unknown) => {
  createLogger().fatal({err: error}, 'runtime failed to start')
  process.exit(1)
})
