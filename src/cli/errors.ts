/**
 * Errors with stable codes and the exit codes every payctl command shares (README "Exit codes").
 *
 * Throw at the site with a message that says what failed and why, and `actions` that say what to
 * do next. The base command renders them (human text on stderr, or the `--json` envelope) and sets
 * the exit code; libraries never exit the process themselves.
 */
import {redact} from './redact.js'

export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  environment: 3,
  checkFailed: 4,
  partial: 5,
  interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface PayctlErrorOptions {
  /** What to do next, one line each. */
  actions?: string[]
  cause?: unknown
  /** JSON-safe details for `--json` consumers; never secrets. */
  data?: Record<string, unknown>
}

export interface PayctlErrorJson {
  name: string
  code: string
  message: string
  exitCode: number
  actions: string[]
  data?: Record<string, unknown>
}

export class PayctlError extends Error {
  readonly actions: string[]
  readonly data: Record<string, unknown> | undefined

  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    options: PayctlErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.actions = options.actions ?? []
    this.data = options.data
  }

  /** Wraps anything thrown into a PayctlError; an unknown error is a bug (exit 1). */
  static from(err: unknown): PayctlError {
    if (err instanceof PayctlError) return err
    const message = err instanceof Error ? err.message : String(err)
    return new BugError(message, {cause: err})
  }

  toJSON(): PayctlErrorJson {
    return {
      name: this.name,
      code: this.code,
      message: redact(this.message),
      exitCode: this.exitCode,
      actions: this.actions.map((a) => redact(a)),
      ...(this.data === undefined ? {} : {data: JSON.parse(redact(JSON.stringify(this.data))) as Record<string, unknown>}),
    }
  }
}

/** Exit 1: something payctl did not expect. */
export class BugError extends PayctlError {
  constructor(message: string, options: PayctlErrorOptions = {}) {
    super('PAYCTL_UNEXPECTED', message, ExitCode.bug, {
      actions: ['This is a bug in payctl. Rerun with --verbose and report the output (secrets are redacted).'],
      ...options,
    })
  }
}

/** Exit 2: bad flags, arguments or config. */
export class UsageError extends PayctlError {
  constructor(code: string, message: string, options: PayctlErrorOptions = {}) {
    super(code, message, ExitCode.usage, options)
  }
}

/** Exit 3: a server is unreachable, a permission or a server setting is missing, a tool is not installed. */
export class EnvironmentError extends PayctlError {
  constructor(code: string, message: string, options: PayctlErrorOptions = {}) {
    super(code, message, ExitCode.environment, options)
  }
}

/** Exit 4: a check or a gate failed (data differs, a threshold was breached). */
export class CheckFailedError extends PayctlError {
  constructor(code: string, message: string, options: PayctlErrorOptions = {}) {
    super(code, message, ExitCode.checkFailed, options)
  }
}

/** Exit 5: some parts failed, state is saved and a rerun resumes. */
export class PartialError extends PayctlError {
  constructor(code: string, message: string, options: PayctlErrorOptions = {}) {
    super(code, message, ExitCode.partial, options)
  }
}

/** Exit 130: interrupted by SIGINT or SIGTERM; state is saved. */
export class InterruptedError extends PayctlError {
  constructor(message = 'Interrupted; state is saved and a rerun continues from it.', options: PayctlErrorOptions = {}) {
    super('PAYCTL_INTERRUPTED', message, ExitCode.interrupted, options)
  }
}
