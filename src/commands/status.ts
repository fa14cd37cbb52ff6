import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {formatDuration} from '../cli/output.js'
import {renderReplicationStatus} from '../cli/render-replication.js'
import {findConfigPath, loadConfig, resolveConnection} from '../config/index.js'
import {replicationOverview, type ReplicationOverview} from '../migrators/replicate/control.js'

export default class Status extends PayctlCommand<{replication: ReplicationOverview}> {
  static override summary = 'Show where the migration is: replication phase, per-table copy state, change lag, throughput and throttling.'
  static override description = 'Reads the control store on the target, so it works from any machine while payctl replicate runs elsewhere. The figures are what the replicate process published at most a second ago; when it has not published for 5 seconds, status says it is not running.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json | jq .result.replication.status.lagSeconds']
  static override flags = {config: configFlag}

  async run(): Promise<{replication: ReplicationOverview}> {
    const {flags} = await this.parse(Status)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const replication = await replicationOverview(await resolveConnection('target', loaded), loaded.config.controlStore.database)
    const who = replication.running
      ? `replicate is running (pid ${replication.pid ?? '?'} on ${replication.host ?? '?'}, last heartbeat ${(replication.heartbeatAgeSeconds ?? 0).toFixed(1)} s ago)`
      : replication.heartbeatAgeSeconds === null
        ? 'replicate has not run yet'
        : `replicate is not running (last heartbeat ${formatDuration(replication.heartbeatAgeSeconds * 1000)} ago); its last status:`
    this.out(who + (replication.paused === null ? '' : `\npaused by ${replication.paused.by ?? '?'}${replication.paused.reason === null ? '' : `: ${replication.paused.reason}`}`))
    if (replication.status !== null) this.out(renderReplicationStatus(replication.status))
    return {replication}
  }
}
