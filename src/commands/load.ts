import {randomInt} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {throwIfAborted} from '../cli/abort.js'
import {PayctlCommand} from '../cli/base-command.js'
import {CheckFailedError, EnvironmentError, InterruptedError} from '../cli/errors.js'
import {configFlag} from '../cli/flags.js'
import {formatDuration} from '../cli/output.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {parseLoadDuration, parseNumberFlag} from '../load/flag-values.js'
import {startLoad} from '../load/generator.js'
import {renderLoadJunit} from '../load/junit.js'
import {type ProgressLine, startProgressLine} from '../load/progress.js'
import {evaluateThresholds, type LoadReportJson, loadReportJson, renderLoadResult} from '../load/report.js'
import {SCENARIO_NAMES, scenarioByName} from '../load/scenarios.js'
import {ensureTargetsReady, resolveTargets} from '../load/targets.js'

export default class Load extends PayctlCommand<LoadReportJson> {
  static override summary = 'Drive the payment service with a constant arrival rate of checkouts or writes, and gate on failures, p99 and drops.'
  static override description = `Starts --rate iterations per second of a scenario against the payment service (open model, like k6's constant-arrival-rate: a slow service shows up as latency and dropped iterations, never as a quietly lower rate). checkout: one checkout per iteration (new or returning customer, saved card, payment confirmed; manual captures, cancels and a few declines on purpose, whose 402s are expected). writes: a write mix over every table (customers, cards, intents, refunds, wallet top-ups and payments).

Targets: --target URLs, else the runtime instances of payctl.yaml (the sandbox's recorded ones when it is the sandbox's config, else runtime.host and runtime.basePort + i). Each must answer /readyz 200 before the run starts.

Runs for --duration, or until Ctrl-C or SIGTERM: scheduling stops, iterations in flight finish (each request is bounded by --request-timeout), and the result is printed. On a terminal, a progress line is shown on stderr every 2 s.

Thresholds: --max-failed failed requests (default 0), --max-dropped dropped iterations (default 0), --p99-ms when given. A run that made no request fails them (no data never passes).

Output: the summary on stdout, or with --json {result, thresholds, passed} (on a failed threshold, under error.data.report); --out also writes that report to a file, --junit JUnit XML with one test case per threshold.

Exit 0: every threshold passed (also when stopped by a signal, for a run without --duration). Exit 4: a threshold failed. Exit 3: a target is not ready. Exit 130: a run with --duration was interrupted (the report is still printed and written). Exit 2: bad flags or config.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --duration 30s',
    '<%= config.bin %> <%= command.id %> --scenario writes --rate 100 --duration 2m --p99-ms 250 --junit reports/load.xml',
    '<%= config.bin %> <%= command.id %> --target http://127.0.0.1:18080 --target http://127.0.0.1:18081 --rate 20',
    '<%= config.bin %> <%= command.id %> --scenario writes --out reports/load.json > reports/load.txt & LOAD=$!  # later: kill $LOAD; wait $LOAD',
    '<%= config.bin %> <%= command.id %> --duration 10s --json',
  ]
  static override flags = {
    config: configFlag,
    target: Flags.string({
      multiple: true,
      delimiter: ',',
      env: 'PAYCTL_LOAD_TARGET',
      summary: 'Base URL of an instance of the payment service; repeat (or separate with commas) for more. [default: the runtime instances of payctl.yaml]',
      helpValue: 'URL',
    }),
    scenario: Flags.option({options: SCENARIO_NAMES, default: 'checkout' as const, env: 'PAYCTL_LOAD_SCENARIO', summary: 'What each iteration does.'})(),
    rate: Flags.string({default: '50', env: 'PAYCTL_LOAD_RATE', summary: 'Iterations started per second, whatever the latency.', helpValue: 'N'}),
    duration: Flags.string({env: 'PAYCTL_LOAD_DURATION', summary: 'Stop scheduling after this long: seconds, or 500ms, 30s, 2m, 1h. [default: until Ctrl-C or SIGTERM]', helpValue: 'DURATION'}),
    'max-in-flight': Flags.integer({min: 1, env: 'PAYCTL_LOAD_MAX_IN_FLIGHT', summary: 'Iterations running at once; one that comes due beyond it is dropped and counted. [default: 2 x rate, at least 50]', helpValue: 'N'}),
    seed: Flags.integer({min: 0, env: 'PAYCTL_LOAD_SEED', summary: 'Seed of the scenario\'s choices: the same seed makes the same iterations. [default: random; the report shows it]', helpValue: 'N'}),
    'request-timeout': Flags.string({default: '10s', env: 'PAYCTL_LOAD_REQUEST_TIMEOUT', summary: 'A request with no full answer by then fails (kind timeout).', helpValue: 'DURATION'}),
    'max-failed': Flags.integer({min: 0, default: 0, env: 'PAYCTL_LOAD_MAX_FAILED', summary: 'Threshold: failed requests, at most. [default: 0]', helpValue: 'N'}),
    'p99-ms': Flags.string({env: 'PAYCTL_LOAD_P99_MS', summary: 'Threshold: p99 latency over every request, at most, in milliseconds.', helpValue: 'MS'}),
    'max-dropped': Flags.integer({min: 0, default: 0, env: 'PAYCTL_LOAD_MAX_DROPPED', summary: 'Threshold: dropped iterations (at --max-in-flight, or started too late), at most. [default: 0]', helpValue: 'N'}),
    out: Flags.string({env: 'PAYCTL_LOAD_OUT', summary: 'Also write the JSON report to this file (folders are created).', helpValue: 'FILE'}),
    junit: Flags.string({env: 'PAYCTL_LOAD_JUNIT', summary: 'Also write JUnit XML (one test case per threshold) to this file.', helpValue: 'FILE'}),
  }

  async run(): Promise<LoadReportJson> {
    const {flags} = await this.parse(Load)
    const rate = parseNumberFlag('--rate', flags.rate)
    const durationMs = flags.duration === undefined ? undefined : parseLoadDuration('--duration', flags.duration)
    const requestTimeoutMs = parseLoadDuration('--request-timeout', flags['request-timeout'])
    const p99Ms = flags['p99-ms'] === undefined ? undefined : parseNumberFlag('--p99-ms', flags['p99-ms'], {allowZero: true})
    // room for iterations that take up to 2 s before any is dropped; a slower service is what drops are for
    const maxInFlight = flags['max-in-flight'] ?? Math.max(50, Math.ceil(rate * 2))
    const seed = flags.seed ?? randomInt(1, 2 ** 31)
    const targets = await resolveTargets(flags.target, () => loadConfig(findConfigPath(flags.config, process.cwd())))
    // a report that cannot be written should fail now, not after a long run
    for (const file of [flags.out, flags.junit]) if (file !== undefined) await makeParent(file)
    await ensureTargetsReady(targets, {signal: this.signal})
    throwIfAborted(this.signal)

    this.logger.info(
      `load: ${flags.scenario} at ${rate}/s on ${targets.urls.join(', ')}, ${durationMs === undefined ? 'until Ctrl-C or SIGTERM' : `for ${formatDuration(durationMs)}`} (seed ${seed})`,
    )
    // not the run's abort signal: that cuts requests short, and a stopped run reports what its iterations did
    const run = startLoad({targets: targets.urls, ratePerSecond: rate, maxInFlight, scenario: scenarioByName(flags.scenario), seed, requestTimeoutMs, ...(durationMs === undefined ? {} : {durationMs})})
    const stop = (): void => void run.stop()
    this.signal.addEventListener('abort', stop, {once: true})
    const progress = process.stderr.isTTY ? startProgressLine(run, (text) => process.stderr.write(text)) : null
    const unhook = breakLineOnSignal(progress)
    let report: LoadReportJson
    try {
      const result = await run.finished
      report = loadReportJson(result, evaluateThresholds(result, {maxFailed: flags['max-failed'], ...(p99Ms === undefined ? {} : {p99Ms}), maxDropped: flags['max-dropped']}))
    } finally {
      unhook()
      progress?.stop()
      this.signal.removeEventListener('abort', stop)
    }

    this.out(renderLoadResult(report.result, {thresholds: report.thresholds}))
    if (flags.out !== undefined) await writeReport(flags.out, `${JSON.stringify(report, null, 2)}\n`, report)
    if (flags.junit !== undefined) await writeReport(flags.junit, renderLoadJunit(report), report)

    if (durationMs !== undefined && report.result.stopReason === 'stopped') {
      throw new InterruptedError(`Interrupted after ${formatDuration(report.result.schedulingMs)} of the ${formatDuration(durationMs)} asked; the result above covers that part.`, {
        actions: ['Run it again for the whole duration, or leave out --duration to run until stopped.'],
        data: {report},
      })
    }
    const failed = report.thresholds.filter((t) => !t.pass)
    if (failed.length > 0) {
      throw new CheckFailedError(
        'PAYCTL_LOAD_THRESHOLD',
        `${failed.length} of ${report.thresholds.length} load thresholds failed: ${failed.map((t) => `${t.metric} ${t.value === null ? 'had no data' : `= ${round(t.value)}`} (expected ${t.condition})`).join('; ')}.`,
        {
          actions: [
            report.result.requests.total === 0
              ? 'No request was answered: check that the targets stay up for the whole run, and that the run lasts long enough to start an iteration.'
              : 'See the first failures and the per-endpoint table above (--json has them all); the runtime instances\' logs say why a request failed.',
          ],
          data: {report},
        },
      )
    }
    return report
  }
}

const round = (n: number): number => (Number.isInteger(n) ? n : Number(n.toFixed(3)))

async function makeParent(file: string): Promise<void> {
  try {
    await mkdir(path.dirname(path.resolve(file)), {recursive: true})
  } catch (error) {
    throw unwritable(file, error)
  }
}

async function writeReport(file: string, text: string, report: LoadReportJson): Promise<void> {
  try {
    await writeFile(file, text)
  } catch (error) {
    throw unwritable(file, error, report)
  }
}

function unwritable(file: string, error: unknown, report?: LoadReportJson): EnvironmentError {
  const code = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))
  return new EnvironmentError('PAYCTL_LOAD_REPORT_UNWRITABLE', `Cannot write ${file}: ${code}.`, {
    actions: ['Choose a path in a folder you can write to.'],
    cause: error,
    ...(report === undefined ? {} : {data: {report}}),
  })
}

/**
 * The base command logs "received SIGINT..." on the first signal; on a terminal the progress line
 * is still open, so it is ended first (listeners prepended to the base command's).
 */
function breakLineOnSignal(progress: ProgressLine | null): () => void {
  if (progress === null) return () => undefined
  const onSignal = (): void => progress.break()
  process.prependListener('SIGINT', onSignal)
  process.prependListener('SIGTERM', onSignal)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
