/**
 * From a loaded config to the connection an engine opens: defaults are already applied by
 * loadConfig; this resolves the password reference (the only step that reads a secret, so it is
 * done only by commands that connect) and makes TLS file paths absolute against the config's folder.
 */
import {isAbsolute, resolve} from 'node:path'
import type {ConnectionOptions, TlsOptions} from '../engines/engine.js'
import type {LoadedConfig} from './load.js'
import type {AwsSecretsClientFactory} from './secrets.js'
import {resolveSecret} from './secrets.js'

export interface ResolveConnectionOptions {
  awsClientFactory?: AwsSecretsClientFactory
}

export async function resolveConnection(
  side: 'source' | 'target',
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveConnectionOptions = {},
): Promise<ConnectionOptions> {
  const c = loaded.config[side]
  const password =
    c.password === null
      ? null
      : await resolveSecret(c.password, {
          baseDir: loaded.dir,
          label: `${side}.password`,
          env,
          ...(options.awsClientFactory ? {awsClientFactory: options.awsClientFactory} : {}),
        })
  const path = (p: string): string => (isAbsolute(p) ? p : resolve(loaded.dir, p))
  const tls: TlsOptions = {
    mode: c.tls.mode,
    ...(c.tls.ca === undefined ? {} : {ca: path(c.tls.ca)}),
    ...(c.tls.cert === undefined ? {} : {cert: path(c.tls.cert)}),
    ...(c.tls.key === undefined ? {} : {key: path(c.tls.key)}),
    ...(c.tls.servername === undefined ? {} : {servername: c.tls.servername}),
  }
  return {
    engine: c.engine,
    ...(c.flavor === undefined ? {} : {flavor: c.flavor}),
    host: c.host,
    port: c.port,
    ...(c.socket === undefined ? {} : {socketPath: path(c.socket)}),
    user: c.user,
    password,
    database: c.database,
    tls,
    connectTimeoutMs: c.connectTimeoutMs,
    queryTimeoutMs: c.queryTimeoutMs,
    poolSize: c.pool.size,
    ...(c.schemas === undefined ? {} : {schemas: [...c.schemas]}),
    label: side,
  }
}
