/**
 * payctl.yaml: its JSON Schema and its TypeScript types.
 *
 * The schema is a plain object rather than ajv's `JSONSchemaType<T>`: that type insists that every
 * optional property be `nullable: true`, which would make `port: null` (an empty `port:` in YAML)
 * valid. Instead each object schema `satisfies ObjectSchemaOf<T>`, so the compiler keeps the
 * property names and required keys in step with the types, and a unit test validates a full example.
 *
 * Defaults that depend on the engine (the port) cannot be ajv `useDefaults`; all defaults are
 * applied in code by `applyDefaults` (defaults.ts) from `DEFAULTS` below, which the descriptions quote.
 */
import type {TlsMode} from '../engines/engine.js'
import type {EngineName, MysqlFlavor} from '../engines/model.js'
import {MYSQL_FLAVORS} from '../engines/model.js'
import {SECRET_REF_PATTERN} from './secret-ref.js'

export const ENGINES = ['mysql', 'sqlserver'] as const satisfies readonly EngineName[]
export const TLS_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const satisfies readonly TlsMode[]
export const CONTROL_STORE_SIDES = ['target', 'source'] as const
export type ControlStoreSide = (typeof CONTROL_STORE_SIDES)[number]

export const DEFAULTS = {
  port: {mysql: 3306, sqlserver: 1433},
  tlsMode: 'prefer',
  connectTimeoutMs: 10_000,
  // payctl works in small chunks, so a statement that runs for five minutes is almost always
  // waiting on a lock; failing it (the step is resumable) beats hanging a cutover forever.
  queryTimeoutMs: 300_000,
  poolSize: 8,
  tablesInclude: ['*'],
  tablesExclude: [],
  controlStoreSide: 'target',
  controlStoreDatabase: 'payctl_control',
  runtimeInstances: 2,
  runtimeHost: '127.0.0.1',
  // high enough to stay clear of the usual 8080/3000 development servers
  runtimeBasePort: 18080,
  replicateWorkers: 4,
  replicateChunkMs: 500,
  replicateMaxLagSeconds: 30,
  replicateMaxTargetResponseMs: 1_000,
  verifyChunkMs: 1_000,
  verifyParallel: 3,
  verifyMaxRowDiffs: 1_000,
  verifyRepairLog: '.payctl/verify-repair.sql',
} as const satisfies {
  port: Record<EngineName, number>
  tlsMode: TlsMode
  connectTimeoutMs: number
  queryTimeoutMs: number
  poolSize: number
  tablesInclude: readonly string[]
  tablesExclude: readonly string[]
  controlStoreSide: ControlStoreSide
  controlStoreDatabase: string
  runtimeInstances: number
  runtimeHost: string
  runtimeBasePort: number
  replicateWorkers: number
  replicateChunkMs: number
  replicateMaxLagSeconds: number
  replicateMaxTargetResponseMs: number
  verifyChunkMs: number
  verifyParallel: number
  verifyMaxRowDiffs: number
  verifyRepairLog: string
}

// ---------------------------------------------------------------------------------------------
// Types: what the file may say (…Input) and what payctl works with after defaults (no suffix).

export interface TlsConfigInput {
  mode?: TlsMode
  ca?: string
  cert?: string
  key?: string
  servername?: string
}

export interface PoolConfigInput {
  size?: number
}

export interface EndpointConfigInput {
  engine: EngineName
  flavor?: MysqlFlavor
  host?: string
  port?: number
  socket?: string
  user: string
  /** A reference (env:, file:, aws-secretsmanager:), never the password itself. */
  password?: string
  database: string
  schemas?: string[]
  tls?: TlsConfigInput
  connectTimeoutMs?: number
  queryTimeoutMs?: number
  pool?: PoolConfigInput
}

export interface TablesConfigInput {
  include?: string[]
  exclude?: string[]
}

export interface ControlStoreConfigInput {
  side?: ControlStoreSide
  database?: string
}

export interface RuntimeConfigInput {
  instances?: number
  host?: string
  basePort?: number
  /** A reference (env:, file:, aws-secretsmanager:) to the key of the card fingerprints, never the key itself. */
  fingerprintKey?: string
}

export interface ReplicateConfigInput {
  workers?: number
  chunkMs?: number
  maxLagSeconds?: number
  maxTargetResponseMs?: number
}

export interface VerifyConfigInput {
  chunkMs?: number
  parallel?: number
  maxRowDiffs?: number
  repairLog?: string
}

export interface PayctlConfigInput {
  $schema?: string
  version: 1
  source: EndpointConfigInput
  target: EndpointConfigInput
  tables?: TablesConfigInput
  controlStore?: ControlStoreConfigInput
  runtime?: RuntimeConfigInput
  replicate?: ReplicateConfigInput
  verify?: VerifyConfigInput
}

export interface TlsConfig {
  mode: TlsMode
  /** As written in the file; relative paths are resolved against the file's folder when connecting. */
  ca?: string
  cert?: string
  key?: string
  servername?: string
}

export interface EndpointConfig {
  engine: EngineName
  flavor?: MysqlFlavor
  /** "localhost" when only a socket is given (the socket wins when connecting). */
  host: string
  port: number
  socket?: string
  user: string
  /** The reference, or null for no password. */
  password: string | null
  database: string
  schemas?: string[]
  tls: TlsConfig
  connectTimeoutMs: number
  queryTimeoutMs: number
  pool: {size: number}
}

/** payctl.yaml with defaults applied. JSON-safe; holds secret references only. */
export interface PayctlConfig {
  version: 1
  source: EndpointConfig
  target: EndpointConfig
  tables: {include: string[]; exclude: string[]}
  controlStore: {side: ControlStoreSide; database: string}
  /** How `payctl runtime start` runs the bundled payment service. */
  runtime: RuntimeConfig
  /** payctl replicate's defaults (its flags override them). */
  replicate: Required<ReplicateConfigInput>
  /** payctl verify's defaults (its flags override them). */
  verify: Required<VerifyConfigInput>
}

export interface RuntimeConfig {
  instances: number
  host: string
  basePort: number
  /** The reference, or null when the file names none. */
  fingerprintKey: string | null
}

// ---------------------------------------------------------------------------------------------
// Schema

type RequiredKeys<T> = {[K in keyof T]-?: undefined extends T[K] ? never : K}[keyof T]

interface PropertySchema {
  description: string
  [keyword: string]: unknown
}

/** Keeps an object schema's property names and required keys in step with its type. */
interface ObjectSchemaOf<T> {
  type: 'object'
  description: string
  additionalProperties: false
  required?: readonly RequiredKeys<T>[]
  properties: {[K in keyof T]-?: PropertySchema}
}

/** Patterns with the words a DBA reads when a value does not match (validate.ts uses them). */
export const PATTERNS = {
  identifier: {
    pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$',
    expected: 'an identifier: letters, digits and _, starting with a letter or _, at most 64 characters',
  },
  secretRef: {
    pattern: SECRET_REF_PATTERN,
    expected: 'a secret reference: env:NAME, file:PATH or aws-secretsmanager:ARN[#jsonKey]',
  },
} as const

const nonEmpty = (description: string) => ({type: 'string', minLength: 1, description}) as const

const tlsSchema = {
  type: 'object',
  description: 'TLS for the connection.',
  additionalProperties: false,
  properties: {
    mode: {
      type: 'string',
      enum: TLS_MODES,
      default: DEFAULTS.tlsMode,
      description:
        'disable: plain text; prefer: TLS when the server offers it; require: TLS without verifying the certificate; ' +
        'verify-ca: TLS, certificate signed by `ca`; verify-full: verify-ca plus the host name (or `servername`). Default prefer.',
    },
    ca: nonEmpty('PEM file of the certificate authority (relative to this file). Required for verify-ca and verify-full.'),
    cert: nonEmpty('PEM file of the client certificate (relative to this file); needs `key`.'),
    key: nonEmpty('PEM file of the client key (relative to this file); needs `cert`.'),
    servername: nonEmpty('Host name to verify in the server certificate when it differs from `host`.'),
  },
} as const satisfies ObjectSchemaOf<TlsConfigInput>

const poolSchema = {
  type: 'object',
  description: 'Connection pool.',
  additionalProperties: false,
  properties: {
    size: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      default: DEFAULTS.poolSize,
      description: `Connections payctl may open to this server (1..256). Default ${DEFAULTS.poolSize}.`,
    },
  },
} as const satisfies ObjectSchemaOf<PoolConfigInput>

const endpointSchema = (side: 'source' | 'target') =>
  ({
    type: 'object',
    description:
      side === 'source'
        ? 'The database payctl migrates from (the legacy SQL Server, or the sandbox source).'
        : 'The database payctl migrates to (TiDB, Aurora MySQL, MySQL or MariaDB).',
    additionalProperties: false,
    required: ['engine', 'user', 'database'],
    properties: {
      engine: {type: 'string', enum: ENGINES, description: 'mysql (TiDB, Aurora MySQL, MySQL, MariaDB) or sqlserver.'},
      flavor: {
        type: 'string',
        enum: MYSQL_FLAVORS,
        description: 'mysql only: which MySQL-family server this is. Detected from the server when absent.',
      },
      host: nonEmpty('Host name or address, without a port. Required unless `socket` is given.'),
      port: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        description: `TCP port. Default ${DEFAULTS.port.mysql} for mysql, ${DEFAULTS.port.sqlserver} for sqlserver.`,
      },
      socket: nonEmpty('mysql only: Unix socket path (relative to this file); when given, it is used instead of host and port.'),
      user: nonEmpty('User name payctl logs in as.'),
      password: {
        type: 'string',
        pattern: PATTERNS.secretRef.pattern,
        description:
          'Where to read the password: env:NAME (an environment variable), file:PATH (relative to this file), ' +
          'or aws-secretsmanager:ARN[#jsonKey]. Never the password itself. Omit for no password.',
      },
      database: nonEmpty('Database to migrate (sqlserver: the database; mysql: the schema).'),
      schemas: {
        type: 'array',
        items: nonEmpty('A SQL Server schema name.'),
        minItems: 1,
        uniqueItems: true,
        description: 'sqlserver only: schemas to migrate. Default: every user schema.',
      },
      tls: tlsSchema,
      connectTimeoutMs: {
        type: 'integer',
        minimum: 100,
        maximum: 600_000,
        default: DEFAULTS.connectTimeoutMs,
        description: `How long to wait for a connection, in milliseconds (100..600000). Default ${DEFAULTS.connectTimeoutMs}.`,
      },
      queryTimeoutMs: {
        type: 'integer',
        minimum: 0,
        default: DEFAULTS.queryTimeoutMs,
        description:
          `Cancel a statement after this many milliseconds; 0 means no limit. Default ${DEFAULTS.queryTimeoutMs} (5 minutes): ` +
          'payctl works in small chunks, so a statement that runs this long is usually waiting on a lock.',
      },
      pool: poolSchema,
    },
  }) as const satisfies ObjectSchemaOf<EndpointConfigInput>

const globList = (description: string) =>
  ({type: 'array', items: nonEmpty('A table name or glob (* and ?), as `table` or `schema.table`.'), description}) as const

export const payctlConfigSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'payctl.yaml',
  type: 'object',
  description: 'payctl configuration: where to migrate from and to, which tables, and where payctl keeps its state.',
  additionalProperties: false,
  required: ['version', 'source', 'target'],
  properties: {
    $schema: nonEmpty('JSON Schema of this file, for editors. Ignored by payctl.'),
    version: {type: 'integer', const: 1, description: 'Format version of this file. This payctl reads version 1.'},
    source: endpointSchema('source'),
    target: endpointSchema('target'),
    tables: {
      type: 'object',
      description: 'Which tables to migrate. A table is migrated when it matches `include` and does not match `exclude`.',
      additionalProperties: false,
      properties: {
        include: globList(`Tables to migrate. Default ${JSON.stringify(DEFAULTS.tablesInclude)} (all).`),
        exclude: globList('Tables to leave out, even if included. Default none.'),
      },
    } satisfies ObjectSchemaOf<TablesConfigInput>,
    controlStore: {
      type: 'object',
      description: 'Where payctl keeps migration state, checkpoints, routing state and the audit log.',
      additionalProperties: false,
      properties: {
        side: {
          type: 'string',
          enum: CONTROL_STORE_SIDES,
          default: DEFAULTS.controlStoreSide,
          description: `Which server holds the control store. Default ${DEFAULTS.controlStoreSide}.`,
        },
        database: {
          type: 'string',
          pattern: PATTERNS.identifier.pattern,
          default: DEFAULTS.controlStoreDatabase,
          description: `Database (schema) for the control store. Default ${DEFAULTS.controlStoreDatabase}.`,
        },
      },
    } satisfies ObjectSchemaOf<ControlStoreConfigInput>,
    runtime: {
      type: 'object',
      description: 'The bundled payment service (runtime/) as `payctl runtime start` and the sandbox run it.',
      additionalProperties: false,
      properties: {
        instances: {
          type: 'integer',
          minimum: 1,
          maximum: 32,
          default: DEFAULTS.runtimeInstances,
          description: `How many instances to start (1..32), each on its own port. Default ${DEFAULTS.runtimeInstances}.`,
        },
        host: nonEmpty(`Address the instances listen on. Default ${DEFAULTS.runtimeHost}.`),
        basePort: {
          type: 'integer',
          minimum: 0,
          maximum: 65535,
          default: DEFAULTS.runtimeBasePort,
          description:
            `Port of the first instance; the next ones take the following ports, and a taken port is replaced by one the OS picks. ` +
            `0 means any free port. Default ${DEFAULTS.runtimeBasePort}.`,
        },
        fingerprintKey: {
          type: 'string',
          pattern: PATTERNS.secretRef.pattern,
          description:
            'Where to read the secret key of the card fingerprints (the same on every instance, so one card always gets one fingerprint): ' +
            'env:NAME, file:PATH (relative to this file) or aws-secretsmanager:ARN[#jsonKey]. Never the key itself.',
        },
      },
    } satisfies ObjectSchemaOf<RuntimeConfigInput>,
    replicate: {
      type: 'object',
      description: 'Defaults of payctl replicate (its flags override them).',
      additionalProperties: false,
      properties: {
        workers: {type: 'integer', minimum: 1, maximum: 64, default: DEFAULTS.replicateWorkers, description: `Copy workers, each with its own target connection (1..64). Default ${DEFAULTS.replicateWorkers}.`},
        chunkMs: {type: 'integer', minimum: 10, maximum: 60_000, default: DEFAULTS.replicateChunkMs, description: `Target time per copy chunk in milliseconds; chunk sizes adapt to it. Default ${DEFAULTS.replicateChunkMs}.`},
        maxLagSeconds: {type: 'integer', minimum: 1, default: DEFAULTS.replicateMaxLagSeconds, description: `The copy pauses while change lag exceeds this many seconds. Default ${DEFAULTS.replicateMaxLagSeconds}.`},
        maxTargetResponseMs: {
          type: 'integer',
          minimum: 50,
          default: DEFAULTS.replicateMaxTargetResponseMs,
          description: `The copy pauses while a primary-key read on the target takes longer than this (ms). Default ${DEFAULTS.replicateMaxTargetResponseMs}.`,
        },
      },
    } satisfies ObjectSchemaOf<ReplicateConfigInput>,
    verify: {
      type: 'object',
      description: 'Defaults of payctl verify (its flags override them).',
      additionalProperties: false,
      properties: {
        chunkMs: {type: 'integer', minimum: 10, maximum: 60_000, default: DEFAULTS.verifyChunkMs, description: `Target time per compared chunk in milliseconds. Default ${DEFAULTS.verifyChunkMs}.`},
        parallel: {type: 'integer', minimum: 1, maximum: 16, default: DEFAULTS.verifyParallel, description: `Tables compared at the same time. Default ${DEFAULTS.verifyParallel}.`},
        maxRowDiffs: {type: 'integer', minimum: 1, default: DEFAULTS.verifyMaxRowDiffs, description: `Stop listing a table's differing rows after this many. Default ${DEFAULTS.verifyMaxRowDiffs}.`},
        repairLog: nonEmpty(`File --repair appends every statement to (relative to the working directory). Default ${DEFAULTS.verifyRepairLog}.`),
      },
    } satisfies ObjectSchemaOf<VerifyConfigInput>,
  },
} as const satisfies ObjectSchemaOf<PayctlConfigInput> & {$schema: string; title: string}
