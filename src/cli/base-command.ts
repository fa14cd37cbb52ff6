/**
 * The one base command. It owns what every payctl command shares: the `--json` envelope
 * (`{status, result, warnings}` on success, `{status, error}` on failure, status being the exit
 * code), error rendering with next-step actions, the documented exit codes, the logger on
 * stderr, warnings collected during the run, and SIGINT/SIGTERM → abort → exit 130.
 * Commands parse flags, call one library function, render its result and return it.
 */
import {Command, Flags, type Interfaces} from '@oclif/core'
import {type AbortHandle, installAbortHandlers} from './abort.js'
import {ExitCode, InterruptedError, PayctlError, UsageError} from './errors.js'
import {createLogger, type Logger, parseLogLevel} from './logger.js'
import {redact} from './redact.js'

export interface JsonSuccess<T> {
  status: 0
  result: T
  warnings: string[]
}

export interface JsonFailure {
  status: number
  error: ReturnType<PayctlError['toJSON']>
  warnings: string[]
}

export abstract class PayctlCommand<T> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {
    verbose: Flags.boolean({
      env: 'PAYCTL_VERBOSE',
      helpGroup: 'GLOBAL',
      summary: 'Log debug detail to stderr (secrets stay redacted).',
    }),
  }

  abstract override run(): Promise<T>

  protected logger!: Logger
  protected signal!: AbortSignal
  protected readonly warnings: string[] = []
  #abort: AbortHandle | undefined

  override async init(): Promise<void> {
    await super.init()
    const verbose = this.argv.includes('--verbose') || /^(1|true)$/i.test(process.env.PAYCTL_VERBOSE ?? '')
    const level = parseLogLevel(process.env.PAYCTL_LOG_LEVEL) ?? (verbose ? 'debug' : 'info')
    this.logger = createLogger({level, timestamps: process.env.CI !== undefined && verbose})
    this.#abort = installAbortHandlers((sig) => this.logger.warn(`received ${sig}; stopping at a safe point (Ctrl-C again to stop at once)`))
    this.signal = this.#abort.signal
  }

  /** A warning shown on stderr at the end, and carried in the --json envelope. */
  protected warnLater(message: string): void {
    this.warnings.push(redact(message))
  }

  /** Prints a human result on stdout (nothing under --json, where the returned object is printed). */
  protected out(text: string): void {
    if (!this.jsonEnabled()) process.stdout.write(`${redact(text)}\n`)
  }

  protected override toSuccessJson(result: unknown): JsonSuccess<unknown> {
    return {status: ExitCode.ok, result, warnings: this.warnings}
  }

  protected override logJson(json: unknown): void {
    process.stdout.write(`${redact(JSON.stringify(json, null, 2))}\n`)
  }

  protected override catch(err: Interfaces.CommandError): Promise<never> {
    return Promise.reject(reportError(this.toPayctlError(err), {json: this.jsonEnabled(), verbose: this.logger?.level === 'debug', warnings: this.warnings}))
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    this.#abort?.dispose()
    if (!this.jsonEnabled()) for (const w of this.warnings) process.stderr.write(`warning: ${w}\n`)
    await super.finally(err)
  }

  private toPayctlError(err: unknown): PayctlError {
    if (err instanceof PayctlError) return err
    if (this.signal?.aborted) return new InterruptedError(undefined, {cause: err})
    // oclif's own parse errors (unknown flag, missing required flag, bad option value) carry exit 2
    const oclifError = err as {oclif?: {exit?: number}; parse?: unknown} | undefined
    if (err instanceof Error && (oclifError?.parse !== undefined || oclifError?.oclif?.exit === ExitCode.usage)) {
      return usageError(err, `payctl ${this.id?.replaceAll(':', ' ') ?? ''}`.trim())
    }
    return PayctlError.from(err)
  }
}

/**
 * Prints an error as payctl prints every error (the --json envelope on stdout, or the message and
 * next steps on stderr), sets the exit code, and marks it so oclif's handler neither prints it
 * again nor changes the code. Returns it for rethrowing.
 */
export function reportError(error: PayctlError, o: {json: boolean; verbose: boolean; warnings?: string[]}): PayctlError {
  process.exitCode = error.exitCode
  if (o.json) {
    const failure: JsonFailure = {status: error.exitCode, error: error.toJSON(), warnings: o.warnings ?? []}
    process.stdout.write(`${redact(JSON.stringify(failure, null, 2))}\n`)
  } else {
    process.stderr.write(formatError(error, o.verbose))
  }
  Object.assign(error, {skipOclifErrorHandling: true, oclif: {exit: error.exitCode}})
  return error
}

/** An oclif parse error (unknown flag, missing or bad value) as a payctl usage error, exit 2. */
export function usageError(err: Error, command: string): UsageError {
  const message = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && l !== 'See more help with --help' && l !== 'The following error occurred:')
    .join(' ')
  return new UsageError('PAYCTL_USAGE', message, {cause: err, actions: [`Run: ${command} --help`]})
}

export function formatError(error: PayctlError, withCause: boolean): string {
  const lines = [`error ${error.code}: ${error.message}`]
  for (const a of error.actions) lines.push(`  next: ${a}`)
  if (withCause) {
    const cause = error.cause
    if (cause instanceof Error) lines.push(`  cause: ${cause.stack ?? cause.message}`)
    else if (error.exitCode === ExitCode.bug && error.stack) lines.push(error.stack)
  }
  return `${redact(lines.join('\n'))}\n`
}
