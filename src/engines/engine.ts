/**
 * The contract every engine folder implements. Migrators, validators and cutover talk to a
 * database only through it; dialect SQL lives only under src/engines/<engine>/.
 */
import type {Secret} from '../cli/redact.js'
import type {EngineName, MysqlFlavor, SchemaModel, ServerInfo, TableModel} from './model.js'
import type {ReplicationSupport} from './replication.js'

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
  /**
   * MySQL family: read this database (schema) on the same server instead of the connected one,
   * e.g. the control store next to the target. An absent database reads as zero tables.
   */
  database?: string
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
  /**
   * Runs one statement (or, on SQL Server, one batch) that returns no rows, such as DDL rendered
   * by the engine's own DDL renderer. The text is sent as it is: no placeholder substitution.
   */
  execute(sql: string): Promise<void>
  close(): Promise<void>
  /**
   * Writes per table since the server's statistics were last reset (assess: hottest tables);
   * null when the server does not keep them or payctl may not read them.
   */
  tableWriteCounts?(): Promise<TableWriteCount[] | null>
  /** Reads up to `limit` rows of a table in key order and times it (assess: the sample copy). */
  sampleRows?(table: TableModel, limit: number, options?: SampleOptions): Promise<SampleResult>
  /**
   * Writes `rows` rows totalling about `bytes` into a temporary table and times it (assess: the
   * sample copy's write half). The table is TEMPORARY and dropped, so nothing is left behind.
   */
  measureWrite?(bytes: number, rows: number, options?: SampleOptions): Promise<SampleResult>
  /** Keyset chunk reads, change capture and the target writer (payctl replicate); see replication.ts. */
  readonly replication?: ReplicationSupport
  /** The write fence of the cutover (payctl shift-traffic, rollback); absent where payctl cannot fence this engine. */
  readonly fence?: WriteFence
}

/**
 * Fences a database against the application's writes at the write flip, so that a stray writer
 * (an instance payctl does not know about, a batch job) cannot write to the side that no longer
 * takes writes. The replication user keeps writing (reverse replication needs it).
 */
export interface WriteFence {
  /** What the fence does on this server, for plans and status (e.g. "SET GLOBAL read_only = ON"). */
  readonly description: string
  fenceWrites(): Promise<void>
  unfenceWrites(): Promise<void>
  writesFenced(): Promise<boolean>
}

export interface TableWriteCount {
  schema: string
  table: string
  writes: number
}

export interface SampleOptions {
  /** Stop after this long even when fewer rows were handled (the result says how many were). */
  maxSeconds?: number
  signal?: AbortSignal
}

export interface SampleResult {
  rows: number
  /** Bytes of the values as the client received or sent them. */
  bytes: number
  seconds: number
}

/** host:port (or the socket) as messages name it. */
export function describeEndpoint(o: Pick<ConnectionOptions, 'host' | 'port' | 'socketPath'>): string {
  return o.socketPath ? `${o.socketPath} (unix socket)` : `${o.host}:${o.port}`
}
