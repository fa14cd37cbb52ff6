/**
 * `payctl load`'s live progress on a terminal: one line, rewritten in place every few seconds,
 * with what an operator watches during a cutover: requests, failures, the rate achieved against
 * the rate asked, p99 so far, iterations in flight and dropped.
 */
import {formatNumber} from '../cli/output.js'
import type {LoadRun, LoadStats} from './generator.js'

export const PROGRESS_INTERVAL_MS = 2_000

export function formatProgress(s: LoadStats): string {
  const seconds = (s.schedulingMs / 1000).toFixed(0)
  const p99 = s.latency.count === 0 ? '-' : `${s.latency.p99 >= 100 ? s.latency.p99.toFixed(0) : s.latency.p99.toFixed(1)} ms`
  return [
    `load ${s.scenario} ${seconds}s`,
    `${formatNumber(s.requests.total)} requests`,
    `${formatNumber(s.requests.failed)} failed`,
    `${formatNumber(s.achievedRate)}/s of ${formatNumber(s.ratePerSecond)}/s`,
    `p99 ${p99}`,
    `${formatNumber(s.inFlight)} in flight`,
    `${formatNumber(s.iterations.dropped)} dropped`,
    ...(s.running && s.stopReason !== 'running' ? ['finishing in-flight iterations'] : []),
  ].join(' | ')
}

export interface ProgressLine {
  /** Ends the line in place so that the next output (a warning, the summary) starts on a fresh one. */
  break(): void
  stop(): void
}

/**
 * Rewrites one line on a terminal stream (`\r` and erase-line) every `intervalMs`. Not for pipes
 * or CI logs, where every update would become a line of its own.
 */
export function startProgressLine(run: Pick<LoadRun, 'stats'>, write: (text: string) => void, intervalMs = PROGRESS_INTERVAL_MS): ProgressLine {
  let shown = false
  const timer = setInterval(() => {
    write(`\r\u001B[2K${formatProgress(run.stats())}`)
    shown = true
  }, intervalMs)
  timer.unref()
  const lineBreak = (): void => {
    if (shown) write('\n')
    shown = false
  }
  return {
    break: lineBreak,
    stop() {
      clearInterval(timer)
      lineBreak()
    },
  }
}
