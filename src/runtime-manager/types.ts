/**
 * The runtime manager's public shapes. `RuntimeInstanceRecord` is stored in the sandbox state
 * file and `RuntimeInstanceStatus` is part of `payctl sandbox status --json`: change them only
 * additively.
 */

/** One started instance of the payment service, as recorded (no secrets). */
export interface RuntimeInstanceRecord {
  /** `rt-1`, `rt-2`, ...: stable across restarts, so logs and metrics keep their label. */
  id: string
  pid: number
  host: string
  port: number
  /** stdout and stderr of the process (pino JSON lines). */
  logFile: string
  startedAt: string
}

export interface RuntimeInstanceStatus {
  id: string
  pid: number | null
  port: number
  /** The recorded process is alive and is this instance (its command line says so). */
  running: boolean
  /** GET /healthz answered 200. */
  healthy: boolean
  /** GET /readyz answered 200 (the database answers and it is not shutting down). */
  ready: boolean
  url: string
  uptimeSeconds: number | null
  logFile: string
  /** Why it is not ready, when it is not. */
  error?: string
}

export interface RuntimeStopResult {
  id: string
  pid: number
  port: number
  /** A live process was found and stopped. */
  stopped: boolean
  /** It did not exit within the grace period and was killed with SIGKILL. */
  killed: boolean
}

export type RuntimeEntryKind = 'built' | 'source' | 'override'

/** How to run the service: `command ...args --config ... --port ...`. */
export interface RuntimeEntry {
  kind: RuntimeEntryKind
  /** The script that is run (main.js, main.ts, or the override). */
  path: string
  command: string
  args: string[]
  /** Why this entry was chosen, for --verbose and error messages. */
  reason: string
}

export interface RuntimeProgress {
  instance: string
  message: string
}
