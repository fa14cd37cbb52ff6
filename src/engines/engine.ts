/**
 * The contract every engine folder implements. Migrators, validators and cutover talk to a
 * database only through it; dialect SQL lives only under src/engines/<engine>/.
 */
import type {Secret} from '../cli/redact.js'
import type {EngineName, MysqlFlavor, SchemaModel, ServerInfo} from './model.js'

export type TlsMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'

export interface TlsOptions {
  mode: TlsMode
  /** Paths to PEM files. */
  ca?: string
  cert?: string
  key?: string
  /** Server name to verify when it differs from host. */
  servername?: string
}

/** A resolved connection: the password is a Secret that never prints. */
export interface ConnectionOptions {
  engine: EngineName
  /** MySQL family only; detected from the server when absent. */
  flavor?: MysqlFlavor
  host: string
  port: number
  /** Unix socket (MySQL family); overrides host/port when set. */
  socketPath?: string
  user: string
  password: Secret | null
  database: string
  tls: TlsOptions
  connectTimeoutMs: number
  queryTimeoutMs: number
  poolSize: number
  /** SQL Server: schemas to introspect (default: every user schema). */
  schemas?: string[]
  /** Which side of the migration this is ("source", "target"); used in messages. */
  label: string
}

export interface IntrospectOptions {
  /** Only these tables (names, or schema.name); default every base table. */
  tables?: string[]
  signal?: AbortSignal
}

export interface Dialect {
  readonly engine: EngineName
  quoteIdentifier(name: string): string
  /** schema.table, quoted. */
  qualify(schema: string, table: string): string
}

export interface Engine {
  readonly name: EngineName
  readonly dialect: Dialect
  readonly options: ConnectionOptions
  /** Opens the pool and runs a trivial query; throws EnvironmentError (exit 3) naming host:port on failure. */
  connect(signal?: AbortSignal): Promise<void>
  serverInfo(): Promise<ServerInfo>
  introspect(options?: IntrospectOptions): Promise<SchemaModel>
  close(): Promise<void>
}

/** host:port (or the socket) as messages name it. */
export function describeEndpoint(o: Pick<ConnectionOptions, 'host' | 'port' | 'socketPath'>): string {
  return o.socketPath ? `${o.socketPath} (unix socket)` : `${o.host}:${o.port}`
}
