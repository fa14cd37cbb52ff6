import {Flags} from '@oclif/core'
import path from 'node:path'
import {PayctlCommand} from '../../cli/base-command.js'
import {sandboxDirFlag} from '../../cli/flags.js'
import {type SandboxDownResult, sandboxDown} from '../../sandbox/index.js'

export type SandboxDownCommandResult = SandboxDownResult

export default class SandboxDown extends PayctlCommand<SandboxDownCommandResult> {
  static override summary = 'Stop the local sandbox\'s runtime instances and servers; --purge also deletes its data.'
  static override description =
    'Stops the payment service\'s instances first (SIGTERM: they finish in-flight requests; SIGKILL after 15 s), then both mariadbd servers cleanly, and waits until the processes have exited (SIGKILL after 30 s). Without --purge the data stays and `payctl sandbox up` starts the same servers again. Harmless when nothing runs.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --purge']
  static override flags = {
    dir: sandboxDirFlag,
    purge: Flags.boolean({env: 'PAYCTL_PURGE', summary: 'Also delete the sandbox folder (data, logs, secrets, config).'}),
  }

  async run(): Promise<SandboxDownCommandResult> {
    const {flags} = await this.parse(SandboxDown)
    const dir = path.resolve(flags.dir)
    const result = await sandboxDown({dir, purge: flags.purge, signal: this.signal})
    if (!result.existed) {
      this.out(`No sandbox in ${dir}; nothing to stop.`)
      return result
    }
    for (const r of result.runtime) {
      this.out(`runtime ${r.id}: ${r.stopped ? `stopped (pid ${r.pid}, port ${r.port})${r.killed ? ' with SIGKILL after the grace period' : ''}` : 'was not running'}`)
    }
    for (const s of result.servers) {
      this.out(`${s.name}: ${s.stopped ? `stopped (pid ${s.pid})${s.killed ? ' with SIGKILL after the grace period' : ''}` : 'was not running'}`)
    }
    if (result.purged) this.out(`deleted ${dir}`)
    return result
  }
}
