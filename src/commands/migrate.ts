import {Flags} from '@oclif/core'
import type {ListrTask} from 'listr2'
import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {formatDuration, formatNumber, keyValueTable} from '../cli/output.js'
import {describeFlip} from '../cli/render-cutover.js'
import {createTaskList} from '../cli/tasks.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {assessStep, type MigrateOptions, MigrateSession, type MigrateSummary, provisionStep} from '../migrators/migrate.js'

interface Ctx {
  session?: MigrateSession
}

export default class Migrate extends PayctlCommand<MigrateSummary> {
  static override summary = 'Run the whole migration: assess → provision → replicate → verify → shift-traffic (→ finalize with --finalize).'
  static override description = `Each step is recorded in the control store (migration_runs, phase_history). Run it again after a crash or a failed step and it continues: steps that succeeded in the unfinished run are skipped, replication resumes where it stopped, the shift continues after its last completed step.

replicate runs as its own background process (payctl replicate --detach, logging to .payctl/replicate.log) because replication must outlive this command: reverse replication keeps the source current until payctl finalize. migrate waits until the copy is done and the change lag is under a second.

Without --yes the run stops before the write flip (exit 0; payctl shift-traffic --promote approves it later, or run payctl migrate --yes). Gate failures before the flip roll reads back and exit 4; verify differences stop the run before any traffic moves (exit 4).`
  static override examples = ['<%= config.bin %> <%= command.id %>                 # stops before the write flip', '<%= config.bin %> <%= command.id %> --yes           # flip writes too', '<%= config.bin %> <%= command.id %> --yes --finalize   # and stop reverse replication after observe']
  static override flags = {
    config: configFlag,
    yes: Flags.boolean({char: 'y', env: 'PAYCTL_YES', summary: 'Do not stop before the write flip for approval.'}),
    finalize: Flags.boolean({env: 'PAYCTL_FINALIZE', summary: 'After the observe step, stop reverse replication and record the migration as done.'}),
    'catch-up-timeout': Flags.integer({min: 10, env: 'PAYCTL_CATCH_UP_TIMEOUT', default: 3600, summary: 'Seconds to wait for the copy to finish and replication to catch up.', helpValue: 'SECONDS'}),
  }

  async run(): Promise<MigrateSummary> {
    const {flags} = await this.parse(Migrate)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const started = performance.now()
    let current: {output: string | undefined} | null = null
    const o: MigrateOptions = {
      loaded,
      payctlVersion: this.config.version,
      yes: flags.yes,
      finalize: flags.finalize,
      catchUpTimeoutMs: flags['catch-up-timeout'] * 1000,
      signal: this.signal,
      onProgress: (_step, message) => {
        if (current !== null) current.output = message
      },
      onShiftEvent: (e) => {
        if (current === null) return
        if (e.kind === 'step-start') current.output = `step ${e.index + 1}/${e.of} ${e.step.name}: reads ${e.step.readsTargetPercent}% on the target, shadow ${e.step.shadowPercent}%`
        else if (e.kind === 'sample') current.output = `${e.step}: sample ${e.sample.index}/${e.tally.samplesPlanned} ${e.sample.outcome} (${e.sample.traffic.requests} requests)`
        else if (e.kind === 'flip' && e.event.kind === 'flipped') current.output = `writes on the target; write pause ${e.event.pauseMs} ms`
        else if (e.kind === 'rolled-back') current.output = `reads rolled back: ${e.reason}`
      },
    }
    const step = (title: string, fn: (ctx: Ctx, task: {title: string; output: string | undefined; skip(message?: string): void}) => Promise<void>): ListrTask<Ctx> => ({
      title,
      task: async (ctx, task) => {
        current = task
        try {
          await fn(ctx, task)
        } finally {
          current = null
        }
      },
    })
    let summary: MigrateSummary | undefined
    const done: Array<['assess' | 'provision', unknown]> = []
    const ctx: Ctx = {}
    try {
      await createTaskList<Ctx>(
        [
          step('Assess the source', async (_c, task) => {
            const r = await assessStep(o)
            done.push(['assess', r])
            task.title = `Assessed: ${r.findings} findings, no blockers`
          }),
          step('Provision the target and the control store', async (_c, task) => {
            const r = await provisionStep(o)
            done.push(['provision', {executed: r.executed, skipped: r.skipped, summary: r.summary}])
            task.title = r.executed === 0 ? 'Provisioned: nothing to do' : `Provisioned: ${r.executed} statements`
          }),
          step('Open the migration run', async (c, task) => {
            c.session = await MigrateSession.open(o)
            // assess and provision ran before the control store could be written to: recorded now
            for (const [name, detail] of done) await c.session.record(name, () => Promise.resolve(detail), (x) => x)
            task.title = c.session.resumed ? `Continuing migration run ${c.session.run.id}` : `Migration run ${c.session.run.id}`
          }),
          step('Replicate (full load, then changes)', async (c, task) => {
            const s = c.session
            if (s === undefined) throw new Error('no session')
            const r = await s.record('replicate', () => s.replicate(), (x) => x)
            task.title = `Replicating: ${formatNumber(r.rowsCopied)} rows copied, lag ${r.lagSeconds === null ? '?' : `${r.lagSeconds.toFixed(2)} s`}${r.started ? ' (payctl replicate started in the background)' : ''}`
          }),
          step('Verify target against source (online)', async (c, task) => {
            const s = c.session
            if (s === undefined) throw new Error('no session')
            if (s.succeeded('verify') && s.summary.verify === null) {
              task.skip('Verified earlier in this run')
              return
            }
            const r = await s.record('verify', () => s.verify((m) => (task.output = m)), (x) => ({status: x.status, totals: x.totals}))
            task.title = `Verified: ${r.totals.tables} tables equal (${formatNumber(r.totals.rowsCompared)} rows) in ${formatDuration(r.totals.seconds * 1000)}`
          }),
          step('Shift traffic', async (c, task) => {
            const s = c.session
            if (s === undefined) throw new Error('no session')
            const r = await s.record('shift-traffic', () => s.shift(), (x) => ({status: x.status, next: x.next, flip: x.flip}))
            task.title = r.waitingForApproval ? `Shift stopped before the write flip: approve with payctl shift-traffic --promote (or payctl migrate --yes)` : `Shift ${r.status}${r.flip === null ? '' : `, write pause ${r.flip.pauseMs} ms`}`
          }),
          step('Finalize', async (c, task) => {
            const s = c.session
            if (s === undefined) throw new Error('no session')
            if (!flags.finalize || s.summary.shift?.next !== null) {
              task.skip(flags.finalize ? 'Finalize waits for the shift to complete' : 'Not asked (--finalize): reverse replication keeps running for a rollback')
              return
            }
            await s.record('finalize', () => s.finalize(), (x) => x)
            task.title = 'Finalized: reverse replication stopped'
          }),
        ],
        {json: this.jsonEnabled(), verbose: this.logger.level === 'debug'},
      ).run(ctx)
      const s = ctx.session
      if (s === undefined) throw new Error('migrate ended without a session')
      const complete = s.summary.shift?.next === null
      // a run that stopped before the flip for approval stays open: the next migrate continues it
      if (complete) await s.store.endRun(s.env.control, s.run.id, 'succeeded')
      summary = s.summary
    } finally {
      await ctx.session?.close()
    }
    const flip = summary.shift?.flip ?? null
    this.out(
      keyValueTable([
        ['migration run', `${summary.runId}${summary.resumed ? ' (continued)' : ''}`],
        ['rows copied', summary.rowsCopied === null ? '' : formatNumber(summary.rowsCopied)],
        ['replication lag', summary.lagSeconds === null ? '' : `${summary.lagSeconds.toFixed(2)} s`],
        ['verify', summary.verify === null ? 'done earlier in this run' : `${summary.verify.status}: ${summary.verify.tables} tables, ${formatNumber(summary.verify.rows)} rows in ${formatDuration(summary.verify.seconds * 1000)}`],
        ['shift', summary.shift === null ? '' : `${summary.shift.status}${summary.shift.next === null ? '' : `; next step ${summary.shift.next}`}`],
        ['write flip', flip === null ? 'not in this run' : describeFlip(flip)],
        ['finalized', summary.finalized === null ? 'no' : 'yes'],
        ['took', formatDuration(performance.now() - started)],
      ]),
    )
    return summary
  }
}
