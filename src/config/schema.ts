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
import {DURATION_PATTERN} from './duration.js'

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
  verifyHashMaxBytes: 16 * 1024 * 1024,
  verifyRepairLog: '.payctl/verify-repair.sql',
  // Reads move first, in gated steps, while writes stay on the source and every step can still be
  // undone by routing alone; the write flip comes last, and the observe step keeps gates (reverse
  // replication lag included) on the new state before anyone calls it done.
  shiftSteps: [
    {name: 'shadow', kind: 'shadow', readsTargetPercent: 0, shadowPercent: 10, hold: '30s'},
    {name: 'reads-10', kind: 'reads', readsTargetPercent: 10, hold: '30s'},
    {name: 'reads-50', kind: 'reads', readsTargetPercent: 50, hold: '30s'},
    {name: 'reads-100', kind: 'reads', readsTargetPercent: 100, hold: '30s'},
    {name: 'write-flip', kind: 'write-flip', hold: '30s'},
    {name: 'observe', kind: 'observe', hold: '60s'},
  ],
  // Published zero-downtime cutovers pause writes for milliseconds to a few seconds; past the
  // budget the flip reverts and writes resume on the source.
  shiftPauseBudget: '2s',
  // The same values as DEFAULT_HOLD_MS and DEFAULT_LEASE_MS of the routing state (a unit test keeps them equal).
  shiftHoldMs: 2_000,
  shiftLeaseMs: 1_000,
  gateInterval: '5s',
  gateScrapeTimeout: '2s',
  // One bad sample is a blip; a second one in the same step is a trend (Argo's failureLimit, counted, not consecutive).
  gateFailureLimit: 1,
  gateInconclusiveLimit: 2,
  gateMinRequests: 20,
  // Shadow reads are a share of reads only, so their own floor is lower than the requests' one.
  gateMinShadowReads: 10,
  gateErrorRate: 0.01,
  gateP99Ms: 250,
  gateShadowMismatchRate: 0.001,
  gateForwardLagSeconds: 5,
  gateReverseLagSeconds: 5,
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
  verifyHashMaxBytes: number
  verifyRepairLog: string
  shiftSteps: readonly ShiftStepInput[]
  shiftPauseBudget: DurationInput
  shiftHoldMs: number
  shiftLeaseMs: number
  gateInterval: DurationInput
  gateScrapeTimeout: DurationInput
  gateFailureLimit: number
  gateInconclusiveLimit: number
  gateMinRequests: number
  gateMinShadowReads: number
  gateErrorRate: number
  gateP99Ms: number
  gateShadowMismatchRate: number
  gateForwardLagSeconds: number
  gateReverseLagSeconds: number
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
  hashMaxBytes?: number
  repairLog?: string
}

export const SHIFT_STEP_KINDS = ['shadow', 'reads', 'write-flip', 'observe'] as const
export type ShiftStepKind = (typeof SHIFT_STEP_KINDS)[number]

/** A duration: a number of seconds, or a number with ms, s, m or h ("500ms", "30s", "2m", "1h"). */
export type DurationInput = number | string

export interface ShiftStepInput {
  /** What `payctl shift-traffic --to NAME` and `payctl status` call this step. */
  name: string
  kind: ShiftStepKind
  /** shadow and reads steps: share of reads served by the target. Carried over from the step before when absent. */
  readsTargetPercent?: number
  /** Share of reads also run on the other side and compared. Carried over from the step before when absent. */
  shadowPercent?: number
  /** How long the step is held under its gates before the next one starts. */
  hold: DurationInput
}

export interface WriteFlipConfigInput {
  pauseBudget?: DurationInput
  holdMs?: number
  leaseMs?: number
}

export interface GatesConfigInput {
  interval?: DurationInput
  scrapeTimeout?: DurationInput
  failureLimit?: number
  inconclusiveLimit?: number
  minRequests?: number
  minShadowReads?: number
  errorRate?: number
  p99Ms?: number
  shadowMismatchRate?: number
  forwardLagSeconds?: number
  reverseLagSeconds?: number
}

export interface ShiftConfigInput {
  steps?: ShiftStepInput[]
  writeFlip?: WriteFlipConfigInput
  gates?: GatesConfigInput
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
  shift?: ShiftConfigInput
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
  /** payctl shift-traffic's steps, write flip and health gates. */
  shift: ShiftConfig
}

/** A shift step with everything it leaves to the steps before it filled in. */
export interface ShiftStep {
  name: string
  kind: ShiftStepKind
  /** Share of reads served by the target during this step (100 from the write flip on). */
  readsTargetPercent: number
  /** Share of reads also run on the other side and compared. */
  shadowPercent: number
  /** Where writes go during this step: the source before the write flip, the target from it on. */
  writes: 'source' | 'target'
  /** How long the step is held under its gates (for write-flip: after the flip). */
  holdMs: number
}

export interface WriteFlipConfig {
  /** Longest write pause (writes paused to writes on the target) before the flip reverts to the source. */
  pauseBudgetMs: number
  /** How long an instance holds a write request at its pause gate before answering 503 with Retry-After. */
  holdMs: number
  /** An instance that could not read the routing state for this long stops writing (fences itself). */
  leaseMs: number
}

/**
 * The health gates of every step. A sample is what the runtime instances counted between two
 * scrapes `intervalMs` apart; each gate passes, fails, or is inconclusive (too little data).
 */
export interface GatesConfig {
  intervalMs: number
  /** A /metrics request that takes longer fails; the sample is then incomplete. */
  scrapeTimeoutMs: number
  /** Failed samples a step tolerates: the step fails at failure number failureLimit + 1. */
  failureLimit: number
  /** Inconclusive samples a step tolerates: the step is inconclusive at number inconclusiveLimit + 1. */
  inconclusiveLimit: number
  /** Fewer HTTP requests (or DB statements of a side, for its p99) in a sample: inconclusive. */
  minRequests: number
  /** Fewer compared shadow reads in a sample: the shadow gate is inconclusive. */
  minShadowReads: number
  /** Highest share of HTTP requests answered 5xx (0.01 = 1%). */
  errorRate: number
  /** Highest p99 DB statement latency of each side, in milliseconds. */
  p99Ms: number
  /** Highest share of compared shadow reads that differ. */
  shadowMismatchRate: number
  /** Highest source -> target replication lag before the write flip, in seconds. */
  forwardLagSeconds: number
  /** Highest target -> source replication lag from the write flip on, in seconds. */
  reverseLagSeconds: number
}

export interface ShiftConfig {
  steps: ShiftStep[]
  writeFlip: WriteFlipConfig
  gates: GatesConfig
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
  stepName: {
    pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$',
    expected: 'a step name: letters, digits, ., _ and -, starting with a letter or digit, at most 63 characters',
  },
  duration: {
    pattern: DURATION_PATTERN,
    expected: 'a duration: a number of seconds, or a number with ms, s, m or h ("500ms", "30s", "2m")',
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

const duration = (description: string) =>
  ({type: ['number', 'string'], minimum: 0, pattern: PATTERNS.duration.pattern, description}) as const

const percent = (description: string) => ({type: 'integer', minimum: 0, maximum: 100, description}) as const

const shiftStepSchema = {
  type: 'object',
  description:
    'One step of payctl shift-traffic: a routing change, then a hold under the health gates. ' +
    'readsTargetPercent and shadowPercent carry over from the step before when absent (starting from 0 and 0).',
  additionalProperties: false,
  required: ['name', 'kind', 'hold'],
  properties: {
    name: {type: 'string', pattern: PATTERNS.stepName.pattern, description: 'Unique name of the step, as `payctl shift-traffic --to NAME` and `payctl status` show it.'},
    kind: {
      type: 'string',
      enum: SHIFT_STEP_KINDS,
      description:
        'shadow: compare a share of reads on the target (needs shadowPercent above 0); reads: serve readsTargetPercent of reads from the target; ' +
        'write-flip: pause writes, wait for replication to catch up, start reverse replication and move writes (and all reads) to the target, exactly once, ' +
        'after reads reached 100; observe: change nothing and hold under the gates.',
    },
    readsTargetPercent: percent('shadow and reads steps: share of reads (0..100) served by the target, never lower than the step before. Required for reads.'),
    shadowPercent: percent('Share of reads (0..100) also run on the other side and compared (shadow reads). Required above 0 for shadow.'),
    hold: duration('How long the step is held under its gates: a number of seconds, or "30s", "2m". The gates take at least one sample in every step.'),
  },
} as const satisfies ObjectSchemaOf<ShiftStepInput>

const shiftSchema = {
  type: 'object',
  description: 'payctl shift-traffic: its steps, the write flip, and the health gates every step is held under.',
  additionalProperties: false,
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      items: shiftStepSchema,
      description: `The steps, in order; replaces the default list (${DEFAULTS.shiftSteps.map((s) => s.name).join(', ')}) as a whole. Exactly one write-flip.`,
    },
    writeFlip: {
      type: 'object',
      description: 'The write flip: how long writes may pause, and what the runtime instances do meanwhile.',
      additionalProperties: false,
      properties: {
        pauseBudget: duration(`Longest write pause before the flip reverts and writes resume on the source (100ms..60s). Default ${DEFAULTS.shiftPauseBudget}.`),
        holdMs: {
          type: 'integer',
          minimum: 0,
          maximum: 60_000,
          description: `How long an instance holds a write request at its pause gate before answering 503 with Retry-After, in milliseconds (0..60000). Default ${DEFAULTS.shiftHoldMs}.`,
        },
        leaseMs: {
          type: 'integer',
          minimum: 300,
          maximum: 60_000,
          description: `An instance that could not read the routing state for this many milliseconds stops writing (300..60000). Default ${DEFAULTS.shiftLeaseMs}.`,
        },
      },
    } satisfies ObjectSchemaOf<WriteFlipConfigInput>,
    gates: {
      type: 'object',
      description:
        'Health gates: every `interval`, the runtime instances\' /metrics are scraped and the difference to the last scrape is one sample. ' +
        'Each gate passes, fails, or is inconclusive (too little data: never a pass).',
      additionalProperties: false,
      properties: {
        interval: duration(`Time between two samples (1s..10m). Default ${DEFAULTS.gateInterval}.`),
        scrapeTimeout: duration(`A /metrics request that takes longer fails, and the sample cannot pass (100ms up to interval). Default ${DEFAULTS.gateScrapeTimeout}.`),
        failureLimit: {
          type: 'integer',
          minimum: 0,
          description: `Failed samples a step tolerates; the next one fails the step (0: the first failure fails it). Default ${DEFAULTS.gateFailureLimit}.`,
        },
        inconclusiveLimit: {
          type: 'integer',
          minimum: 0,
          description: `Inconclusive samples a step tolerates; the next one makes the step inconclusive (it stops for a person to decide). Default ${DEFAULTS.gateInconclusiveLimit}.`,
        },
        minRequests: {
          type: 'integer',
          minimum: 1,
          description: `Fewer HTTP requests in a sample (or DB statements of a side, for its p99) make the gate inconclusive. Default ${DEFAULTS.gateMinRequests}.`,
        },
        minShadowReads: {
          type: 'integer',
          minimum: 1,
          description: `Fewer compared shadow reads in a sample make the shadow gate inconclusive. Default ${DEFAULTS.gateMinShadowReads}.`,
        },
        errorRate: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          description: `Highest share of HTTP requests answered 5xx, 0..1 (0.01 = 1%). Default ${DEFAULTS.gateErrorRate}.`,
        },
        p99Ms: {
          type: 'number',
          minimum: 1,
          description: `Highest p99 DB statement latency of each side that serves statements, in milliseconds. Default ${DEFAULTS.gateP99Ms}.`,
        },
        shadowMismatchRate: {
          type: 'number',
          minimum: 0,
          maximum: 1,
          description: `Highest share of compared shadow reads that differ, 0..1; only in steps with shadow reads. Default ${DEFAULTS.gateShadowMismatchRate}.`,
        },
        forwardLagSeconds: {
          type: 'number',
          minimum: 0,
          description: `Highest source -> target replication lag in seconds, before the write flip. Default ${DEFAULTS.gateForwardLagSeconds}.`,
        },
        reverseLagSeconds: {
          type: 'number',
          minimum: 0,
          description: `Highest target -> source replication lag in seconds, from the write flip on. Default ${DEFAULTS.gateReverseLagSeconds}.`,
        },
      },
    } satisfies ObjectSchemaOf<GatesConfigInput>,
  },
} as const satisfies ObjectSchemaOf<ShiftConfigInput>

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
        parallel: {type: 'integer', minimum: 1, maximum: 16, default: DEFAULTS.verifyParallel, description: `Chunks compared at the same time, across tables (each runs one query on each server). Default ${DEFAULTS.verifyParallel}.`},
        maxRowDiffs: {type: 'integer', minimum: 1, default: DEFAULTS.verifyMaxRowDiffs, description: `Stop listing a table's differing rows after this many. Default ${DEFAULTS.verifyMaxRowDiffs}.`},
        hashMaxBytes: {
          type: 'integer',
          minimum: 1024,
          maximum: 1024 * 1024 * 1024,
          default: DEFAULTS.verifyHashMaxBytes,
          description: `Most row text (bytes) one server-side hash holds in a server's memory (GROUP_CONCAT), per range being compared (verify.parallel at once); a larger range is hashed in parts. A smaller max_allowed_packet wins. Default ${DEFAULTS.verifyHashMaxBytes} (16 MiB).`,
        },
        repairLog: nonEmpty(`File --repair appends every statement to (relative to the working directory). Default ${DEFAULTS.verifyRepairLog}.`),
      },
    } satisfies ObjectSchemaOf<VerifyConfigInput>,
    shift: shiftSchema,
  },
} as const satisfies ObjectSchemaOf<PayctlConfigInput> & {$schema: string; title: string}
