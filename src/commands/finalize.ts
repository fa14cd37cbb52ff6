import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {configFlag} from '../cli/flags.js'
import {findConfigPath, loadConfig} from '../config/index.js'
import {openCutoverEnv} from '../cutover/env.js'
import {finalize, type FinalizeResult} from '../cutover/finalize.js'

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
      const result = await finalize(env, {force: flags.force, reason: flags.reason ?? null, waitMs: 60_000, signal: this.signal})
      this.out(
        result.alreadyFinalized
          ? 'Already finalized.'
          : `Finalized (routing version ${result.version}): ${result.replicationStopped ? 'reverse replication drained and stopped' : 'reverse replication was asked to stop; it had not stopped after 60 s (payctl status shows it)'}.`,
      )
      return result
    } finally {
      await env.close()
    }
  }
}
