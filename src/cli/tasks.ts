/**
 * The listr2 task-list factory. Progress goes to stderr so stdout stays a clean result:
 * interactive (redrawn in place) when stderr is a terminal outside CI, plain timestamped lines
 * otherwise, and nothing at all with --json. Libraries never import listr2: they report through
 * callbacks, and commands adapt those into task output.
 */
import {Listr, ListrLogger, type ListrTask, PRESET_TIMER, PRESET_TIMESTAMP, ProcessOutput} from 'listr2'

export interface TaskListOptions {
  json: boolean
  verbose?: boolean
  concurrent?: boolean | number
  exitOnError?: boolean
}

/** Read before any Listr is built: forceTTY overwrites process.std*.isTTY. */
const stderrInteractive = process.stderr.isTTY === true && process.env.CI === undefined && process.env.TERM !== 'dumb'

export function createTaskList<Ctx extends object>(tasks: Array<ListrTask<Ctx>>, options: TaskListOptions): Listr<Ctx, 'default', 'simple'> {
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const interactive = stderrInteractive && options.verbose !== true
  return new Listr<Ctx, 'default', 'simple'>(tasks, {
    concurrent: options.concurrent ?? false,
    exitOnError: options.exitOnError ?? true,
    collectErrors: 'minimal',
    // payctl installs its own SIGINT/SIGTERM handling (src/cli/abort.ts)
    registerSignalListeners: false,
    silentRendererCondition: options.json,
    forceTTY: interactive,
    fallbackRendererCondition: !interactive,
    renderer: 'default',
    rendererOptions: {logger, collapseSubtasks: false, timer: PRESET_TIMER},
    fallbackRenderer: 'simple',
    fallbackRendererOptions: {logger, timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP},
  })
}
