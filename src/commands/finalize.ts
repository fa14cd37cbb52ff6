import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {EnvironmentError} from '../cli/errors.js'
import {configFlag} from '../cli/flags.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {openCutoverEnv} from '../cutover/env.js'
import {finalize, type FinalizeResult} from '../cutover/finalize.js'
import {withLease} from '../cutover/shift.js'

export default class Finalize extends PayctlCommand<FinalizeResult> {
  static override summary = 'End the migration: stop reverse replication after the observation window and record the migration as done.'
  static override description = 'Refuses unless writes are on the target and the shift\'s observe step passed (--force overrides the latter). The replicate process drains reverse replication into the source up to the target\'s position now, stops and exits. From here payctl rollback is no longer possible; the source stays fenced against the application\'s writes.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --force --reason "observation done by hand"']
  static override flags = {
    config: configFlag,
    force: Flags.boolean({summary: 'Finalize even if the observe step has not passed.'}),
    reason: Flags.string({env: 'PAYCTL_REASON', summary: 'Why: written to the audit log.', helpValue: 'TEXT'}),
  }

  async run(): Promise<FinalizeResult> {
    const {flags} = await this.parse(Finalize)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const env = await openCutoverEnv(loaded, this.signal)
    try {
      const result = await withLease(env, false, () => finalize(env, {force: flags.force, reason: flags.reason ?? null, waitMs: 60_000, signal: this.signal}))
      if (!result.alreadyFinalized && !result.replicationStopped) {
        throw new EnvironmentError('PAYCTL_FINALIZE_NOT_DRAINED', `Reverse replication was asked to drain into the source and stop (routing version ${result.version}), but it had not within 60 s: the migration is not finalized yet.`, {
          actions: ['payctl status shows the replicate process and its reverse lag; run payctl finalize again once it has caught up.'],
        })
      }
      this.out(
        result.alreadyFinalized
          ? 'Already finalized.'
          : result.replicationStopped
            ? `Finalized (routing version ${result.version}): reverse replication drained into the source and stopped.`
            : `Not finalized yet: reverse replication was asked to drain and stop (routing version ${result.version}) but had not within 60 s; payctl status shows it; run payctl finalize again.`,
      )
      return result
    } finally {
      await env.close()
    }
  }
}
