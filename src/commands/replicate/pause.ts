import {Flags} from '@oclif/core'
import {PayctlCommand} from '../../cli/base-command.js'
import {configFlag} from '../../cli/flags.js'
import {findConfigPath, loadConfig, resolveConnection} from '../../config/index.js'
import {type ReplicationOverview, setReplicationPaused} from '../../migrators/replicate/control.js'

export default class ReplicatePause extends PayctlCommand<ReplicationOverview> {
  static override summary = 'Pause a running payctl replicate: the copy and the change applier stop at their next chunk or batch.'
  static override description = 'Sets the pause flag in the control store; the replicate process reads it within a second and holds. Changes keep arriving from the source and wait (on disk past a bound), so mind the source\'s binlog/CDC retention. Recorded in the audit log with your name and reason. payctl replicate resume lifts it.'
  static override examples = ['<%= config.bin %> <%= command.id %> --reason "month-end batch running"']
  static override flags = {
    config: configFlag,
    reason: Flags.string({summary: 'Why (shown by payctl status and kept in the audit log).'}),
  }

  async run(): Promise<ReplicationOverview> {
    const {flags} = await this.parse(ReplicatePause)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const overview = await setReplicationPaused(await resolveConnection('target', loaded), loaded.config.controlStore.database, true, flags.reason ?? null)
    this.out(overview.running ? `Paused: the running replicate (pid ${overview.pid ?? '?'} on ${overview.host ?? '?'}) holds within a second.` : 'Paused: no replicate is running now; the next one starts paused.')
    return overview
  }
}
