import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {formatDuration} from '../cli/output.js'
import {renderCutover} from '../cli/render-cutover.js'
import {renderReplicationStatus} from '../cli/render-replication.js'
import {findConfigPath, loadConfig, resolveConnection} from '../config/index.js'
import {cutoverOverview, type CutoverOverview} from '../cutover/overview.js'
import {replicationOverview, type ReplicationOverview} from '../migrators/replicate/control.js'

export interface StatusResult {
  replication: ReplicationOverview
  /** Null when the control store predates the cutover tables (run payctl provision). */
  cutover: CutoverOverview | null
}

export default class Status extends PayctlCommand<StatusResult> {
  static override summary = 'Show where the migration is: replication (both directions), routing desired vs applied per runtime instance, the shift step and its gates, the last write pause, and the audit trail.'
  static override description = `Reads the control store on the target, so it works from any machine while payctl replicate and the runtime run elsewhere (and while the source is down).

Replication: what the replicate process published at most a second ago (phase, direction, lag, per-table copy state); when it has not published for 5 seconds, status says it is not running.
Cutover: the routing version wanted now, and for each runtime instance the version it applied, where its writes go (FENCED when it stopped writing on its own), its reads share, in-flight and held writes, shadow-read matches and mismatches; the shift's step, the operator lease, the last gate results with their conditions, the last write flip's measured pause, and the latest audit entries.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq .result.replication.status.lagSeconds',
    '<%= config.bin %> <%= command.id %> --json | jq .result.cutover.instances',
  ]
  static override flags = {config: configFlag}

  async run(): Promise<StatusResult> {
    const {flags} = await this.parse(Status)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const target = await resolveConnection('target', loaded)
    const replication = await replicationOverview(target, loaded.config.controlStore.database)
    const who = replication.running
      ? `replicate is running (pid ${replication.pid ?? '?'} on ${replication.host ?? '?'}, last heartbeat ${(replication.heartbeatAgeSeconds ?? 0).toFixed(1)} s ago)`
      : replication.heartbeatAgeSeconds === null
        ? 'replicate has not run yet'
        : `replicate is not running (last heartbeat ${formatDuration(replication.heartbeatAgeSeconds * 1000)} ago); its last status:`
    this.out(who + (replication.paused === null ? '' : `\npaused by ${replication.paused.by ?? '?'}${replication.paused.reason === null ? '' : `: ${replication.paused.reason}`}`))
    if (replication.status !== null) this.out(renderReplicationStatus(replication.status))
    const cutover = await cutoverOverview(target, loaded.config.controlStore.database)
    this.out(cutover === null ? 'Cutover: the control store has no routing tables yet (run payctl provision).' : renderCutover(cutover))
    return {replication, cutover}
  }
}
