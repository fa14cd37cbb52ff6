import {Flags} from '@oclif/core'
import {PayctlCommand} from '../../cli/base-command.js'
import {configFlag} from '../../cli/flags.js'
import {findConfigPath, loadConfig, resolveConnection} from '../../config/index.js'
import {type ReplicationOverview, setReplicationPaused} from '../../migrators/replicate/control.js'

export default class ReplicateResume extends PayctlCommand<ReplicationOverview> {
  static override summary = 'Resume a paused payctl replicate.'
  static override examples = ['<%= config.bin %> <%= command.id %>']
  static override flags = {
    config: configFlag,
    reason: Flags.string({summary: 'Why (kept in the audit log).'}),
  }

  async run(): Promise<ReplicationOverview> {
    const {flags} = await this.parse(ReplicateResume)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const overview = await setReplicationPaused(await resolveConnection('target', loaded), loaded.config.controlStore.database, false, flags.reason ?? null)
    this.out(overview.running ? 'Resumed.' : 'Resumed: no replicate is running now.')
    return overview
  }
}
