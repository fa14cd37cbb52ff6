/**
 * The runtime's process entry (started by `payctl runtime start` and the sandbox):
 *   node runtime/dist/main.js --config payctl.yaml [--host 127.0.0.1] [--port 0] [--instance ID]
 *        [--fingerprint-key-file FILE]
 * Each flag can also come from PAYCTL_RUNTIME_{CONFIG,HOST,PORT,INSTANCE,FINGERPRINT_KEY_FILE};
 * the key itself may be given as PAYCTL_RUNTIME_FINGERPRINT_KEY. It serves from the config's
 * source side. Once listening it logs {"msg":"listening","port":N,"instance":ID} (the process
 * manager reads the port from that line). SIGTERM/SIGINT: /readyz turns 503, the server stops
 * accepting, in-flight requests finish (at most SHUTDOWN_GRACE_MS), the pool closes, exit 0.
 * This is the only file of the service that may exit the process.
 */
import {readFile} from 'node:fs/promises'
import {hostname} from 'node:os'
import {parseArgs} from 'node:util'
import {loadConfig, resolveConnection} from '../../src/config/index.js'
import {mysqlPaymentsSql} from '../../src/engines/mysql/mysql-payments-sql.js'
import {buildApp, MIN_FINGERPRINT_KEY_BYTES} from './app.js'
import {MysqlDb} from './data/db.js'
import {SingleSideRouter} from './data/router.js'
import {createLogger} from './http/logger.js'

const SHUTDOWN_GRACE_MS = 10_000

/** Exit codes as payctl's (README): 2 bad usage or config, 3 environment (database unreachable). */
const EXIT_USAGE = 2
const EXIT_ENVIRONMENT = 3

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

  const keyFile = values['fingerprint-key-file'] ?? env.PAYCTL_RUNTIME_FINGERPRINT_KEY_FILE
  let key: Buffer | undefined
  if (keyFile !== undefined) key = Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'utf8')
  else if (env.PAYCTL_RUNTIME_FINGERPRINT_KEY !== undefined) key = Buffer.from(env.PAYCTL_RUNTIME_FINGERPRINT_KEY, 'utf8')
  if (key === undefined || key.length < MIN_FINGERPRINT_KEY_BYTES) {
    return fail(EXIT_USAGE, `no card fingerprint key (at least ${MIN_FINGERPRINT_KEY_BYTES} bytes): pass --fingerprint-key-file FILE or set PAYCTL_RUNTIME_FINGERPRINT_KEY`)
  }

  const loaded = await loadConfig(configPath)
  const connection = await resolveConnection('source', loaded, env)
  if (connection.engine !== 'mysql') return fail(EXIT_USAGE, `the runtime serves from MySQL-family databases only for now; source.engine is ${connection.engine}`)
  const router = new SingleSideRouter(MysqlDb.create('source', connection))
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
      .then(() => router.close())
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

  try {
    await app.ready()
    await router.writer().query(mysqlPaymentsSql.ping())
  } catch (error) {
    return fail(EXIT_ENVIRONMENT, 'the source database is unreachable', {err: error})
  }
  await app.listen({host, port})
  const address = app.server.address()
  logger.info({port: typeof address === 'object' && address !== null ? address.port : port, instance, host}, 'listening')
}

main().catch((error: unknown) => {
  createLogger().fatal({err: error}, 'runtime failed to start')
  process.exit(1)
})
