import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {describeFlip} from '../cli/render-cutover.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {MigrationStore} from '../control/migration-store.js'
import {openCutoverEnv} from '../cutover/env.js'
import {rollback, type RollbackResult} from '../cutover/rollback.js'
import {withLease} from '../cutover/shift.js'

export default class Rollback extends PayctlCommand<RollbackResult> {
  static override summary = 'Go back to the source from any step of the shift, without losing a write.'
  static override description = `Before the write flip: reads and shadow reads go back to 0% on the target (routing only; instances apply it within a poll interval).
After the flip: the write flip in the other direction — writes are paused at the instances, reverse replication drains every write the target took into the source, the changed rows are compared, writes move back to the source and forward replication restarts from the source's position. The pause has the same budget as the flip (shift.writeFlip.pauseBudget); past it writes stay on the target and the command exits 4.
With writes left paused by a flip that died: the routing from before that pause is restored and the source's fence lifted.

Safe to run twice: with everything already on the source it changes nothing. Needs payctl replicate running after the flip (reverse replication). Takes the operator lease: while a payctl shift-traffic runs it refuses (exit 3) unless --force, which takes the lease over (that shift stops before its next routing change).`
  static override examples = ['<%= config.bin %> <%= command.id %> --reason "p99 regression on target"', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {
    config: configFlag,
    reason: Flags.string({env: 'PAYCTL_REASON', summary: 'Why: written to the audit log.', helpValue: 'TEXT'}),
    force: Flags.boolean({summary: 'Take the operator lease over from a running payctl shift-traffic (it stops before its next routing change).'}),
  }

  async run(): Promise<RollbackResult> {
    const {flags} = await this.parse(Rollback)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const env = await openCutoverEnv(loaded, this.signal)
    try {
      const {writeFlip} = loaded.config.shift
      const result = await withLease(env, flags.force, () => rollback(env, {
        budgetMs: writeFlip.pauseBudgetMs,
        holdMs: writeFlip.holdMs,
        leaseMs: writeFlip.leaseMs,
        reason: flags.reason ?? null,
        signal: this.signal,
        onEvent: (e) => {
          if (this.jsonEnabled()) return
          if (e.kind === 'routing') process.stderr.write(`routing version ${e.version}: ${e.what}\n`)
          else if (e.kind === 'phase') process.stderr.write(`  ${e.phase} +${e.ms} ms\n`)
          else if (e.kind === 'paused') process.stderr.write(`writes paused (routing version ${e.version})\n`)
        },
      }))
      await new MigrationStore(env.controlDatabase).rollBackNewestRun(env.control)
      const what = {
        nothing: 'Nothing to roll back: reads and writes are on the source.',
        reads: 'Reads and shadow reads are back on the source.',
        paused: 'The unfinished write pause was undone: writes are back where they were before it.',
        writes: 'Writes and reads are back on the source; forward replication restarts from the source\'s position.',
      }[result.from]
      this.out(`${what} Routing version ${result.version}${result.acknowledged.length > 0 ? `, applied by ${result.acknowledged.join(', ')}` : ''}.`)
      if (result.flip !== null) this.out(`Write flip back: ${describeFlip(result.flip)}`)
      return result
    } finally {
      await env.close()
    }
  }
}
