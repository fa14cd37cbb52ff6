import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {describeFlip} from '../cli/render-cutover.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {openCutoverEnv} from '../cutover/env.js'
import {type ShiftEvent, type ShiftResult, shiftTraffic} from '../cutover/shift.js'

export default class ShiftTraffic extends PayctlCommand<ShiftResult> {
  static override summary = 'Move the runtime\'s reads, then its writes, to the target in gated steps (shadow → reads 10% → 50% → 100% → write flip → observe).'
  static override description = `Walks the steps of shift.steps in payctl.yaml. Each step writes a new routing version (reads share on the target, shadow-read share), waits until every live runtime instance applied it, and holds it for its time while the gates sample the instances' metrics and replication lag: error rate, p99 statement latency per side, shadow-read mismatch rate, forward lag (reverse lag after the flip). A gate passes, fails or is inconclusive; no data never passes.

Before the write flip a failing step rolls reads back to the source at once and exits 4 naming the metric, its value, the condition and the window. An inconclusive step keeps the routing and exits 4: run again to hold it, --promote to go on, --abort to roll back.

The write flip waits for approval: the command stops before it (exit 0, status waiting-for-approval) unless --yes is given; approve it later with --promote. The flip pauses writes (held at each instance's gate, at most shift.writeFlip.holdMs), drains forward replication, compares the rows changed since the last check, starts reverse replication and fences the source; past shift.writeFlip.pauseBudget everything reverts to writes on the source. The pause is measured and printed. After the flip a failing gate does not move writes back by itself: run payctl rollback.

One operator at a time: a lease in the control store refuses a second shift-traffic (exit 3). State is saved after every step; a rerun continues after the last completed step.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --to reads-100          # move reads only, stop before the flip',
    '<%= config.bin %> <%= command.id %> --promote               # approve the write flip and go on',
    '<%= config.bin %> <%= command.id %> --yes                   # every step, the flip without stopping',
    '<%= config.bin %> <%= command.id %> --abort                 # reads back to the source (before the flip)',
  ]
  static override flags = {
    config: configFlag,
    to: Flags.string({env: 'PAYCTL_SHIFT_TO', summary: 'Stop after this step (a name from shift.steps).', helpValue: 'STEP'}),
    promote: Flags.boolean({summary: 'Approve the write flip (or go on past an inconclusive step); recorded in the audit log.'}),
    yes: Flags.boolean({char: 'y', env: 'PAYCTL_YES', summary: 'Do not stop before the write flip for approval.'}),
    abort: Flags.boolean({summary: 'Roll reads back to the source and end the shift (before the write flip only).', exclusive: ['promote', 'to']}),
    reason: Flags.string({env: 'PAYCTL_REASON', summary: 'Why: written to the audit log with every routing change.', helpValue: 'TEXT'}),
  }

  async run(): Promise<ShiftResult> {
    const {flags} = await this.parse(ShiftTraffic)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const env = await openCutoverEnv(loaded, this.signal)
    try {
      const result = await shiftTraffic(env, {
        shift: loaded.config.shift,
        ...(flags.to === undefined ? {} : {to: flags.to}),
        promote: flags.promote,
        yes: flags.yes,
        abort: flags.abort,
        reason: flags.reason ?? null,
        signal: this.signal,
        onEvent: (e) => this.progress(e),
      })
      if (result.waitingForApproval) this.out(`Stopped before the write flip (step ${result.next ?? '?'}): approve it with payctl shift-traffic --promote (or roll back with --abort).`)
      else if (result.next === null) this.out(`Shift complete: writes and reads are on the target, reverse replication runs (routing version ${result.routingVersion}). Finalize with payctl finalize when the observation window is over.`)
      else this.out(`Stopped after the requested step; next: ${result.next} (routing version ${result.routingVersion}).`)
      if (result.flip !== null) this.out(`Write flip: ${describeFlip(result.flip)}`)
      return result
    } finally {
      await env.close()
    }
  }

  private progress(e: ShiftEvent): void {
    if (this.jsonEnabled()) return
    const line = (s: string): void => {
      process.stderr.write(`${s}\n`)
    }
    switch (e.kind) {
      case 'step-start': {
        line(`step ${e.index + 1}/${e.of} ${e.step.name} (${e.step.kind}): reads ${e.step.readsTargetPercent}% on the target, shadow ${e.step.shadowPercent}%, hold ${Math.round(e.step.holdMs / 1000)} s`)
        break
      }
      case 'routing': {
        line(`  routing version ${e.version} applied by every live instance`)
        break
      }
      case 'sample': {
        const failing = e.sample.gates.filter((g) => g.outcome === 'fail' || g.outcome === 'inconclusive')
        line(`  sample ${e.sample.index}/${e.tally.samplesPlanned}: ${e.sample.outcome} (${e.sample.traffic.requests} requests)${failing.length === 0 ? '' : ` — ${failing.map((g) => g.reason).join('; ')}`}`)
        break
      }
      case 'step-end': {
        line(`  ${e.step}: ${e.note}`)
        break
      }
      case 'flip': {
        const f = e.event
        if (f.kind === 'paused') line(`  writes paused (routing version ${f.version})`)
        else if (f.kind === 'phase') line(`    ${f.phase} +${f.ms} ms`)
        else if (f.kind === 'pre-check') line(`  changed rows compared before the pause: ${f.rowsChecked}, differences ${f.differences}`)
        else if (f.kind === 'flipped') line(`  writes on the target (routing version ${f.version}); write pause ${f.pauseMs} ms`)
        else line(`  write flip reverted (routing version ${f.version}): ${f.reason}`)
        break
      }
      case 'rolled-back': {
        line(`  reads rolled back to the source (routing version ${e.version}): ${e.reason}`)
        break
      }
    }
  }
}
