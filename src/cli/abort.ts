/**
 * SIGINT/SIGTERM handling for commands. The first signal aborts the command's AbortSignal so the
 * running work stops at a safe point and saves its state (the command then exits 130); a second
 * signal exits at once with 130. Handlers are removed when the command ends.
 */
import {ExitCode, InterruptedError} from './errors.js'

export interface AbortHandle {
  readonly signal: AbortSignal
  dispose(): void
}

export function installAbortHandlers(onFirst: (signal: NodeJS.Signals) => void): AbortHandle {
  const controller = new AbortController()
  const handler = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // eslint-disable-next-line no-restricted-syntax -- the second Ctrl-C is the user insisting; nothing else may run
      process.exit(ExitCode.interrupted)
    }
    onFirst(sig)
    controller.abort(new InterruptedError(`Interrupted by ${sig}. What was done is saved; run the same command again to continue.`))
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** Throws the abort reason (an InterruptedError) if the signal fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new InterruptedError()
}
