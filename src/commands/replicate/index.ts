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
import {replicate, type ReplicateResult, type ReplicationStatus} from '../../migrators/replicate/replicate.js'

export default class Replicate extends PayctlCommand<ReplicateResult> {
  static override summary = 'Copy every table to the target and keep it in step with the source (full load + change data capture).'
  static override description = `Starts change capture at the source's current position, copies the tables in parallel key-range chunks (each chunk committed on the target together with its checkpoint), then applies the source's changes in commit order. Safe to stop at any moment, even with kill -9: a rerun continues from the last committed chunk and change batch, with no duplicate and no lost change.

Runs until stopped (Ctrl-C or SIGTERM stop it at a safe point, exit 130), or with --until caught-up until the target has every change the source had when the copy finished. To keep it running as a service, run it under a supervisor (systemd, a Kubernetes Deployment with one replica) with Restart=always: every start resumes. payctl status shows its progress and lag from any machine; payctl replicate pause / resume throttle it.

A source that cannot be captured (binlog off, not ROW, row image not FULL; SQL Server tables without CDC) is refused before anything is copied (exit 3), naming the setting to change.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --until caught-up',
    '<%= config.bin %> <%= command.id %>                       # run until stopped; payctl status in another shell',
    '<%= config.bin %> <%= command.id %> --restart --until caught-up   # empty the target tables and copy again',
  ]
  static override flags = {
    config: configFlag,
    until: Flags.option({options: ['caught-up'] as const, env: 'PAYCTL_REPLICATE_UNTIL', summary: 'Stop once the copy is done and the target has caught up with the source.'})(),
    restart: Flags.boolean({env: 'PAYCTL_REPLICATE_RESTART', summary: 'Forget the copy state, empty the target tables, and copy from the start.'}),
    workers: Flags.integer({min: 1, max: 64, env: 'PAYCTL_REPLICATE_WORKERS', summary: 'Copy workers (parallel chunks), each with its own target connection. [default: replicate.workers in payctl.yaml, else 4]'}),
    'max-lag': Flags.integer({min: 1, env: 'PAYCTL_REPLICATE_MAX_LAG', summary: 'Pause the copy while change lag exceeds this many seconds. [default: replicate.maxLagSeconds, else 30]', helpValue: 'SECONDS'}),
    'chunk-ms': Flags.integer({min: 10, max: 60_000, env: 'PAYCTL_REPLICATE_CHUNK_MS', summary: 'Target time per copy chunk; chunk sizes adapt to it. [default: replicate.chunkMs, else 500]', helpValue: 'MS'}),
  }

  async run(): Promise<ReplicateResult> {
    const {flags} = await this.parse(Replicate)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const {controlStore, replicate: settings} = loaded.config
    if (controlStore.side !== 'target') {
      throw new UsageError('PAYCTL_CONTROL_STORE_SIDE', 'payctl replicate keeps its checkpoints in the control store on the target (they commit in the same transaction as the rows they cover), but controlStore.side is source.', {
        actions: ['Set controlStore.side: target in payctl.yaml and run payctl provision.'],
      })
    }
    const [source, target] = [await resolveConnection('source', loaded), await resolveConnection('target', loaded)]
    let result: ReplicateResult | undefined
    let lastStatus: ReplicationStatus | null = null
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
                else if (e.kind === 'status') {
                  lastStatus = e.status
                  task.output = renderTableProgress(e.status)
                }
              },
            })
            task.title = result.stoppedBy === 'caught-up' ? 'Replication caught up' : 'Replication stopped'
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
    this.out(
      `Copied ${formatNumber(result.rowsCopied)} rows (${formatBytes(result.bytesCopied)}) in ${formatDuration(result.copySeconds * 1000)}, applied ${formatNumber(result.changesApplied)} changes; the target is at ${describePosition(result.position)}.`,
    )
    return result
  }
}
