import {Flags} from '@oclif/core'
import {PayctlCommand} from '../../cli/base-command.js'
import {configFlag} from '../../cli/flags.js'
import {findConfigPath, loadConfig, resolveConnection} from '../../config/index.js'
import {STOP_TIMEOUT_MS, stopReplicate, type StopReplicateResult} from '../../migrators/replicate/detached.js'

export default class ReplicateStop extends PayctlCommand<StopReplicateResult> {
  static override summary = 'Stop a running payctl replicate (started with --detach, or in another shell on this host) at a safe point, and wait until it has ended.'
  static override description =
    'Finds the running replicate from its heartbeat in the control store and sends it SIGTERM: it finishes its current chunk or change batch, saves its state and exits; a later payctl replicate resumes from there. A replicate on another host cannot be signalled from here: the error says where it runs. Nothing to do when none runs (exit 0).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --timeout 120']
  static override flags = {
    config: configFlag,
    timeout: Flags.integer({min: 1, env: 'PAYCTL_REPLICATE_STOP_TIMEOUT', summary: `Seconds to wait for it to exit. [default: ${STOP_TIMEOUT_MS / 1000}]`, helpValue: 'SECONDS'}),
  }

  async run(): Promise<StopReplicateResult> {
    const {flags} = await this.parse(ReplicateStop)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const result = await stopReplicate(await resolveConnection('target', loaded), loaded.config.controlStore.database, {
      ...(flags.timeout === undefined ? {} : {timeoutMs: flags.timeout * 1000}),
      signal: this.signal,
    })
    this.out(result.stopped ? `Stopped payctl replicate (pid ${result.pid ?? '?'}); its state is saved, and payctl replicate resumes from there.` : 'No payctl replicate is running.')
    return result
  }
}
