import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {PayctlError} from '../cli/errors.js'
import {configFlag} from '../cli/flags.js'
import {formatDuration} from '../cli/output.js'
import {renderPlanSql, renderPlanTable} from '../cli/render-provision.js'
import {createTaskList} from '../cli/tasks.js'
import {findConfigPath, loadConfig, resolveConnection} from '../config/index.js'
import {MYSQL_FLAVORS} from '../engines/model.js'
import {conflictError, provision, type ProvisionResult} from '../migrators/provision.js'

export default class Provision extends PayctlCommand<ProvisionResult> {
  static override summary = 'Create the converted schema and the control store on the target (plan first with --dry-run).'
  static override description =
    'Converts the source schema for the target flavor, compares it with what the target already has, and creates only what is missing: tables, indexes, foreign keys, and the control store (payctl_control). Rerunning is safe: tables that already match are skipped, and a table that exists but differs is reported with its differences (exit 4) and never dropped or altered.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --dry-run > provision.sql',
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --dry-run --target-flavor tidb --json | jq \'.result.plan.statements[].sql\'',
  ]
  static override flags = {
    config: configFlag,
    'dry-run': Flags.boolean({env: 'PAYCTL_DRY_RUN', summary: 'Print the plan and every statement as an SQL script; change nothing.'}),
    'target-flavor': Flags.option({options: MYSQL_FLAVORS, env: 'PAYCTL_TARGET_FLAVOR', summary: 'Convert for this flavor. [default: the live target\'s]'})(),
  }

  async run(): Promise<ProvisionResult> {
    const {flags} = await this.parse(Provision)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const {controlStore} = loaded.config
    const [source, target] = [await resolveConnection('source', loaded), await resolveConnection('target', loaded)]
    let result: ProvisionResult | undefined
    let refused: PayctlError | undefined
    await createTaskList<object>(
      [
        {
          title: flags['dry-run'] ? 'Planning provision (dry run)' : 'Provisioning the target',
          task: async (_ctx, task) => {
            // A conflict is an answer, not a failed task: the base command reports it once, below.
            result = await provision({
              source,
              target,
              control: {...controlStore, connection: controlStore.side === 'source' ? source : target},
              tables: loaded.config.tables,
              ...(flags['target-flavor'] === undefined ? {} : {flavor: flags['target-flavor']}),
              dryRun: flags['dry-run'],
              signal: this.signal,
              onEvent: (e) => {
                if (e.kind === 'warning') this.warnLater(e.message)
                else task.output = e.kind === 'phase' ? e.message : `[${e.progress.index}/${e.progress.total}] ${e.progress.statement.purpose}`
              },
            }).catch((err: unknown) => {
              if (!(err instanceof PayctlError && err.code === 'PAYCTL_PROVISION_CONFLICT')) throw err
              refused = err
              task.title = 'Provision refused: tables on the target differ from the converted schema'
              return undefined
            })
          },
        },
      ],
      {json: this.jsonEnabled(), verbose: this.logger.level === 'debug'},
    ).run({})
    if (refused !== undefined) throw refused
    if (result === undefined) throw new Error('provision finished without a result')
    const {plan} = result
    if (result.dryRun) {
      this.out(renderPlanSql(plan))
      if (plan.conflicts > 0) throw conflictError(plan)
      return result
    }
    this.out(renderPlanTable(plan, {applied: true}))
    this.out(
      result.executed === 0
        ? 'Nothing to do: the target already has the converted schema and the control store.'
        : `Executed ${result.executed} statements in ${formatDuration(result.durationMs)}; ${result.skipped} tables were already in place.`,
    )
    return result
  }
}
