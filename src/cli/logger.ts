/**
 * The CLI's logger: plain lines on stderr (never stdout, which carries only results), every line
 * passed through redact() so secrets and card numbers never reach a terminal or a CI log.
 * Levels: error < warn < info < debug; --verbose (or PAYCTL_LOG_LEVEL=debug) shows debug.
 */
import {redact} from './redact.js'

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
const ORDER: Record<LogLevel, number> = {error: 0, warn: 1, info: 2, debug: 3}

export interface Logger {
  error(message: string): void
  warn(message: string): void
  info(message: string): void
  debug(message: string): void
  readonly level: LogLevel
}

export interface LoggerOptions {
  level: LogLevel
  /** Where lines go; stderr by default. */
  write?: (line: string) => void
  /** Prefix each line with an ISO timestamp (CI logs). */
  timestamps?: boolean
}

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  return value !== undefined && value in ORDER ? (value as LogLevel) : undefined
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const emit = (level: LogLevel, message: string): void => {
    if (ORDER[level] > ORDER[options.level]) return
    const prefix = level === 'info' ? '' : `${level}: `
    const stamp = options.timestamps ? `${new Date().toISOString()} ` : ''
    write(`${stamp}${prefix}${redact(message)}\n`)
  }
  return {
    level: options.level,
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  }
}

/** A logger that drops everything, for libraries called without one. */
export const silentLogger: Logger = {level: 'error', error() {}, warn() {}, info() {}, debug() {}}
