import {Flags} from '@oclif/core'
import {PayctlCommand} from '../../cli/base-command.js'
import {InterruptedError, UsageError} from '../../cli/errors.js'
import {configFlag} from '../../cli/flags.js'
import {formatBytes, formatDuration, formatNumber} from '../../cli/output.js'
import {renderReplicationStatus, renderTableProgress} from '../../cli/render-replication.js'
import {createTaskList} from '../../cli/tasks.js'
import {findConfigPath, loadConfig, resolveConnection} from '../../config/index.js'
import {tableMatcher} from '../../config/tables.js'
import {describePosition} from '../../engines/replication.js'
import {DEFAULT_CHUNK_SIZING} from '../../migrators/replicate/copier.js'
import {DETACHED_ENV, type DetachedReplicate, detachedArgs, startDetached} from '../../migrators/replicate/detached.js'
import {replicate, type ReplicateResult, type ReplicationStatus} from '../../migrators/replicate/replicate.js'

export default class Replicate extends PayctlCommand<ReplicateResult | DetachedReplicate> {
  static override summary = 'Copy every table to the target and keep it in step with the source (full load + change data capture).'
  static override description = `Starts change capture at the source's current position, copies the tables in parallel key-range chunks (each chunk committed on the target together with its checkpoint), then applies the source's changes in commit order. Safe to stop at any moment, even with kill -9: a rerun continues from the last committed chunk and change batch, with no duplicate and no lost change.

Follows the cutover's routing state (read every 100 ms from the control store): after the write flip it drains the forward stream to the source position the cutover read, stops it, and replicates the target's changes back to the source (reverse replication, no copy); on rollback it drains reverse and runs forward again from the source position the cutover gives; on finalize it drains and ends (exit 0). Only one direction ever runs, and a restart resumes the direction and position the control store records.

Runs until stopped (Ctrl-C, SIGTERM or payctl replicate stop end it at a safe point, exit 130), or with --until caught-up until the target has every change the source had when the copy finished. --detach runs it in the background on this host (log: .payctl/replicate.log next to the config). To keep it running as a service, run it under a supervisor (systemd, a Kubernetes Deployment with one replica) with Restart=always: every start resumes. payctl status shows its progress and lag from any machine; payctl replicate pause / resume throttle it.

A source that cannot be captured (binlog off, not ROW, row image not FULL; SQL Server tables without CDC) is refused before anything is copied (exit 3), naming the setting to change.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --until caught-up',
    '<%= config.bin %> <%= command.id %>                       # run until stopped; payctl status in another shell',
    '<%= config.bin %> <%= command.id %> --restart --until caught-up   # empty the target tables and copy again',
    '<%= config.bin %> <%= command.id %> --detach                # in the background; payctl replicate stop ends it',
  ]
  static override flags = {
    config: configFlag,
    until: Flags.option({options: ['caught-up'] as const, env: 'PAYCTL_REPLICATE_UNTIL', summary: 'Stop once the copy is done and the target has caught up with the source.'})(),
    restart: Flags.boolean({env: 'PAYCTL_REPLICATE_RESTART', summary: 'Forget the copy state, empty the target tables, and copy from the start.'}),
    workers: Flags.integer({min: 1, max: 64, env: 'PAYCTL_REPLICATE_WORKERS', summary: 'Copy workers (parallel chunks), each with its own target connection. [default: replicate.workers in payctl.yaml, else 4]'}),
    'max-lag': Flags.integer({min: 1, env: 'PAYCTL_REPLICATE_MAX_LAG', summary: 'Pause the copy while change lag exceeds this many seconds. [default: replicate.maxLagSeconds, else 30]', helpValue: 'SECONDS'}),
    'chunk-ms': Flags.integer({min: 10, max: 60_000, env: 'PAYCTL_REPLICATE_CHUNK_MS', summary: 'Target time per copy chunk; chunk sizes adapt to it. [default: replicate.chunkMs, else 500]', helpValue: 'MS'}),
    detach: Flags.boolean({env: 'PAYCTL_REPLICATE_DETACH', summary: 'Run in the background on this host: returns once it is running, prints its pid and log file (.payctl/replicate.log next to the config).'}),
  }

  async run(): Promise<ReplicateResult | DetachedReplicate> {
    const {flags} = await this.parse(Replicate)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const {controlStore, replicate: settings} = loaded.config
    if (controlStore.side !== 'target') {
      throw new UsageError('PAYCTL_CONTROL_STORE_SIDE', 'payctl replicate keeps its checkpoints in the control store on the target (they commit in the same transaction as the rows they cover), but controlStore.side is source.', {
        actions: ['Set controlStore.side: target in payctl.yaml and run payctl provision.'],
      })
    }
    if (flags.detach) {
      const started = await startDetached({
        configPath: loaded.path,
        target: await resolveConnection('target', loaded),
        controlDatabase: controlStore.database,
        execPath: process.execPath,
        args: [...process.execArgv, ...detachedArgs(process.argv.slice(1))],
        env: process.env,
        signal: this.signal,
      })
      this.out(`payctl replicate runs in the background: pid ${started.pid}, log ${started.logFile}. payctl status shows it; payctl replicate stop ends it.`)
      return started
    }
    const [source, target] = [await resolveConnection('source', loaded), await resolveConnection('target', loaded)]
    let result: ReplicateResult | undefined
    let lastStatus: ReplicationStatus | null = null
    // a detached run writes to a log that may live for weeks: a progress line a minute (payctl status has the rest)
    const progressEveryMs = process.env[DETACHED_ENV] === '1' ? 60_000 : 0
    let lastProgress = 0
    await createTaskList<object>(
      [
        {
          title: 'Replicating',
          task: async (_ctx, task) => {
            result = await replicate({
              source,
              target,
              controlDatabase: controlStore.database,
              tables: tableMatcher(loaded.config.tables),
              workers: flags.workers ?? settings.workers,
              sizing: {...DEFAULT_CHUNK_SIZING, targetMs: flags['chunk-ms'] ?? settings.chunkMs},
              untilCaughtUp: flags.until === 'caught-up',
              restart: flags.restart,
              maxLagSeconds: flags['max-lag'] ?? settings.maxLagSeconds,
              maxTargetResponseMs: settings.maxTargetResponseMs,
              signal: this.signal,
              onEvent: (e) => {
                if (e.kind === 'warning') this.warnLater(e.message)
                else if (e.kind === 'plan') task.title = `${e.resumed ? 'Resuming' : 'Starting'} replication of ${e.tables.length} tables from ${describePosition(e.from)}`
                else if (e.kind === 'direction') {
                  const at = e.from === null ? '' : ` from ${describePosition(e.from)}`
                  if (e.direction === 'reverse') task.title = `Reverse replication (target -> source)${at}, routing version ${e.routingVersion}`
                  else if (e.direction === 'none') task.title = `Replication finalized at routing version ${e.routingVersion}`
                  else if (e.routingVersion > 0) task.title = `Forward replication (source -> target)${at}, routing version ${e.routingVersion}`
                } else if (e.kind === 'status') {
                  lastStatus = e.status
                  const now = Date.now()
                  if (now - lastProgress >= progressEveryMs) {
                    lastProgress = now
                    task.output = renderTableProgress(e.status)
                  }
                }
              },
            })
            task.title = result.stoppedBy === 'caught-up' ? 'Replication caught up' : result.stoppedBy === 'finalized' ? `Replication finalized at routing version ${result.routingVersion}` : 'Replication stopped'
          },
        },
      ],
      {json: this.jsonEnabled(), verbose: this.logger.level === 'debug'},
    ).run({})
    if (result === undefined) throw new Error('replicate finished without a result')
    if (result.stoppedBy === 'signal') {
      if (lastStatus !== null) process.stderr.write(`${renderReplicationStatus(lastStatus)}\n`)
      throw new InterruptedError('Stopped; every committed chunk and change batch is saved, and payctl replicate continues from there.')
    }
    this.out(renderReplicationStatus(result.status))
    const reverse = result.reverse.changesApplied > 0 || result.direction === 'reverse' ? ` Reverse: applied ${formatNumber(result.reverse.changesApplied)} target changes to the source${result.reverse.position === null ? '' : `, at target position ${describePosition(result.reverse.position)}`}.` : ''
    this.out(
      `Copied ${formatNumber(result.rowsCopied)} rows (${formatBytes(result.bytesCopied)}) in ${formatDuration(result.copySeconds * 1000)}, applied ${formatNumber(result.changesApplied)} changes; the target is at ${describePosition(result.position)}.${reverse}` +
        (result.stoppedBy === 'finalized' ? ` Finalized at routing version ${result.routingVersion}: replication has ended.` : ''),
    )
    return result
  }
}
