/**
 * The sandbox's public shapes: options, progress events, the state file (`<dir>/sandbox.json`)
 * and what status/down return. These are also the `--json` output of `payctl sandbox ...`, so
 * change them only additively.
 */
import type {Secret} from '../cli/redact.js'
import type {RuntimeInstanceRecord, RuntimeInstanceStatus, RuntimeStopResult} from '../runtime-manager/types.js'

export const SERVER_NAMES = ['legacy', 'target'] as const
/** "legacy" is the source system being migrated; "target" is where it goes. */
export type ServerName = (typeof SERVER_NAMES)[number]

export type SandboxStep = 'init-db' | 'start' | 'schema' | 'load' | 'config' | 'runtime'

export interface SandboxProgress {
  step: SandboxStep
  server?: ServerName
  message: string
  /** Rows done so far in this step (load). */
  rows?: number
  table?: string
  /** The runtime instance (runtime step). */
  instance?: string
}

export interface SandboxUpOptions {
  dir: string
  /** 1 = about 100,000 payment intents; may be fractional (0.01 = about 1,000). */
  scale: number
  seed: number
  signal?: AbortSignal
  onProgress?: (event: SandboxProgress) => void
  /** Preferred TCP ports; 0 means "any free port". Defaults: legacy 13306, target 13307. */
  ports?: Partial<Record<ServerName, number>>
  /** Where to look for mariadbd and mariadb-install-db instead of PATH and the usual sbin folders. */
  binDirs?: string[]
  /** Instances of the payment service to run (default 2); 0 runs none and stops any that run. */
  runtimeInstances?: number
  /** Port of instance rt-1, the next ones follow (default 18080); 0 means any free ports. */
  runtimeBasePort?: number
}

export interface SandboxServerState {
  name: ServerName
  serverId: number
  port: number
  socketPath: string
  /** The folder that holds this server's files: `<dir>/<name>`. */
  home: string
  datadir: string
  configFile: string
  pidFile: string
  errorLog: string
  /** The mariadbd process as last started by payctl; null when stopped by `sandbox down`. */
  pid: number | null
  startedAt: string | null
  version: string | null
}

export interface SandboxDataSet {
  /** `loading` until every table is loaded and analysed; a rerun of `up` reloads from scratch. */
  status: 'loading' | 'loaded'
  scale: number
  seed: number
  generatorVersion: number
  database: string
  rows: Record<string, number>
  loadedAt: string | null
  loadSeconds: number | null
}

/** `<dir>/sandbox.json`. Never holds a secret: passwords live in `<dir>/secrets/` (mode 0600). */
export interface SandboxState {
  kind: 'payctl-sandbox'
  formatVersion: 1
  dir: string
  createdAt: string
  updatedAt: string
  binaries: {mariadbd: string; installDb: string; version: string}
  servers: Record<ServerName, SandboxServerState>
  /** The `payctl` application user exists on both servers with the passwords in secrets/. */
  accountsReady: boolean
  data: SandboxDataSet | null
  configPath: string | null
  /** The payment service's instances (absent in sandboxes made before the runtime existed). */
  runtime?: SandboxRuntimeState
}

export interface SandboxRuntimeState {
  /** Detached processes started by `sandbox up`; `sandbox down` stops them. */
  instances: RuntimeInstanceRecord[]
  /** How many instances the last `up` asked for; a rerun without --runtime-instances asks the same. */
  requested: number
  /** `<dir>/secrets/runtime-fingerprint.key` (0600): generated once, shared by every instance. */
  fingerprintKeyFile: string
}

export interface SandboxServerStatus {
  name: ServerName
  pid: number | null
  port: number
  socketPath: string
  datadir: string
  configFile: string
  errorLog: string
  /** The recorded process is alive and is this sandbox's mariadbd. */
  running: boolean
  /** Answers `SELECT 1` over TCP as the payctl user within 2 s. */
  healthy: boolean
  version: string | null
  uptimeSeconds: number | null
  binlogFormat: string | null
  gtidStrictMode: boolean | null
  /** Sizes (data + indexes) of the non-system databases. */
  databases: Array<{name: string; sizeBytes: number}>
  /** Why it is not healthy, when it is not. */
  error?: string
}

export interface SandboxStatus {
  exists: boolean
  dir: string
  stateFile: string
  configPath: string | null
  createdAt: string | null
  servers: SandboxServerStatus[]
  data: SandboxDataSet | null
  /** The payment service's instances as recorded by `sandbox up`. */
  runtime: RuntimeInstanceStatus[]
}

export interface SandboxServerDownResult {
  name: ServerName
  pid: number | null
  /** A live process was found and stopped. */
  stopped: boolean
  /** It did not exit within the grace period and was killed with SIGKILL. */
  killed: boolean
}

export interface SandboxDownOptions {
  dir: string
  purge: boolean
  signal?: AbortSignal
}

export interface SandboxDownResult {
  dir: string
  existed: boolean
  servers: SandboxServerDownResult[]
  /** Runtime instances, stopped before the databases. */
  runtime: RuntimeStopResult[]
  purged: boolean
}

export interface SandboxConnectionInfo {
  host: string
  port: number
  socketPath: string
  user: string
  /** Read from `<dir>/secrets/<server>.password`; prints as a mask. */
  password: Secret
  database: string
}
