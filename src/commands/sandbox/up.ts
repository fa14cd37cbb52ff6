import {Flags} from '@oclif/core'
import path from 'node:path'
import {PayctlCommand} from '../../cli/base-command.js'
import {UsageError} from '../../cli/errors.js'
import {sandboxDirFlag} from '../../cli/flags.js'
import {formatDuration} from '../../cli/output.js'
import {createTaskList} from '../../cli/tasks.js'
import {DEFAULT_RUNTIME_INSTANCES, readSandboxState, type SandboxState, sandboxUp} from '../../sandbox/index.js'
import {renderConnectHelp} from './status.js'

export type SandboxUpResult = SandboxState & {elapsedMs: number}

export default class SandboxUp extends PayctlCommand<SandboxUpResult> {
  static override summary = 'Start the local sandbox: two real MariaDB servers (legacy source and target) with the payments data.'
  static override description =
    'Creates two private mariadbd servers, each with its own data directory, port and socket under --dir (binlog ROW, FULL row image, GTID), loads the legacy payments schema and a deterministic data set of the size asked, writes a ready payctl.yaml for them, and starts the payment service (runtime/) on the legacy database: --runtime-instances instances on ports 18080, 18081, ... (another free port when one is taken), logs in <dir>/runtime/. Running it again is harmless: running servers and instances are left alone, stopped ones are started, loaded data is kept. Needs MariaDB installed (scripts/setup.sh installs it).'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --scale 1 --seed 42',
    '<%= config.bin %> <%= command.id %> --scale 0.1 --dir /var/tmp/payctl-sandbox',
    '<%= config.bin %> <%= command.id %> --scale 0.01 --runtime-instances 0',
  ]
  static override flags = {
    dir: sandboxDirFlag,
    scale: Flags.string({
      env: 'PAYCTL_SCALE',
      summary: 'Data set size: 1 is about 100,000 payment intents with their attempts, refunds and ledger rows. [default: the existing sandbox\'s, else 1]',
      helpValue: 'N',
    }),
    seed: Flags.integer({
      env: 'PAYCTL_SEED',
      summary: 'Seed of the deterministic data set (same seed and scale, same data). [default: the existing sandbox\'s, else 1]',
      min: 0,
    }),
    'runtime-instances': Flags.integer({
      env: 'PAYCTL_RUNTIME_INSTANCES',
      summary: 'Instances of the payment service to run on ports 18080, 18081, ... (0 = none). [default: the existing sandbox\'s, else 2]',
      min: 0,
      max: 32,
    }),
  }

  async run(): Promise<SandboxUpResult> {
    const {flags} = await this.parse(SandboxUp)
    const dir = path.resolve(flags.dir)
    // rerunning `up` without flags keeps the data set the sandbox already has
    const previous = await readSandboxState(dir)
    const existing = previous?.data ?? null
    const scaleText = flags.scale ?? String(existing?.scale ?? 1)
    const seed = flags.seed ?? existing?.seed ?? 1
    const runtimeInstances = flags['runtime-instances'] ?? previous?.runtime?.requested ?? DEFAULT_RUNTIME_INSTANCES
    const scale = Number(scaleText)
    // the range is the library's to check; here only that it is a number at all
    // a plain decimal only: Number() would also take "0x10" (16) or "1e3"
    if (!/^\s*\d+(\.\d+)?\s*$|^\s*\.\d+\s*$/.test(scaleText) || Number.isNaN(scale)) {
      throw new UsageError('PAYCTL_BAD_SCALE', `--scale must be a number, such as 1 or 0.05 (got "${scaleText}").`, {
        actions: ['Use --scale 1 for about 100,000 payment intents, --scale 0.01 for a quick small set.'],
      })
    }
    const started = Date.now()
    let state: SandboxState | undefined
    const tasks = createTaskList<object>(
      [
        {
          title: `Sandbox in ${dir} (scale ${scale}, seed ${seed})`,
          task: async (_ctx, task) => {
            state = await sandboxUp({
              dir,
              scale,
              seed,
              runtimeInstances,
              signal: this.signal,
              onProgress: (p) => {
                const who = p.server ?? p.instance
                task.output = `${who ? `${who}: ` : ''}${p.message}`
                this.logger.debug(`${p.step}${who ? ` [${who}]` : ''}: ${p.message}`)
              },
            })
            task.title = `Sandbox ready in ${formatDuration(Date.now() - started)}`
          },
        },
      ],
      {json: this.jsonEnabled(), verbose: this.logger.level === 'debug'},
    )
    await tasks.run({})
    if (state === undefined) throw new Error('sandbox up finished without a state')
    const elapsedMs = Date.now() - started
    this.out(renderConnectHelp(state, dir))
    return {...state, elapsedMs}
  }
}
