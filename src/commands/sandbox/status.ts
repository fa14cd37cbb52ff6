import path from 'node:path'
import {PayctlCommand} from '../../cli/base-command.js'
import {sandboxDirFlag} from '../../cli/flags.js'
import {formatBytes, formatDuration, table} from '../../cli/output.js'
import {instanceUrl, type RuntimeInstanceRecord} from '../../runtime-manager/index.js'
import {type SandboxState, type SandboxStatus, sandboxStatus} from '../../sandbox/index.js'

export type SandboxStatusResult = SandboxStatus

export default class SandboxStatusCommand extends PayctlCommand<SandboxStatusResult> {
  static override summary = 'Show the local sandbox: servers, health, ports, data set, runtime instances.'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {dir: sandboxDirFlag}

  async run(): Promise<SandboxStatusResult> {
    const {flags} = await this.parse(SandboxStatusCommand)
    const dir = path.resolve(flags.dir)
    const status = await sandboxStatus({dir})
    if (!status.exists) {
      this.out(`No sandbox in ${dir}. Start one with: payctl sandbox up`)
      return status
    }
    this.out(
      table(status.servers, [
        {header: 'server', get: (s) => (s.name === 'legacy' ? 'legacy (source)' : 'target')},
        {header: 'state', get: (s) => (s.healthy ? 'healthy' : s.running ? `running, not answering${s.error ? `: ${s.error}` : ''}` : 'stopped')},
        {header: 'pid', get: (s) => s.pid},
        {header: 'port', get: (s) => `127.0.0.1:${s.port}`},
        {header: 'version', get: (s) => s.version},
        {header: 'uptime', get: (s) => (s.uptimeSeconds === null ? null : formatDuration(s.uptimeSeconds * 1000))},
        {header: 'binlog', get: (s) => (s.binlogFormat === null ? null : `${s.binlogFormat}${s.gtidStrictMode ? ', GTID strict' : ''}`)},
        {header: 'databases', get: (s) => s.databases.map((d) => `${d.name} ${formatBytes(d.sizeBytes)}`).join(', ')},
      ]),
    )
    if (status.data) {
      const d = status.data
      this.out(`data set: ${d.status}, scale ${d.scale}, seed ${d.seed}${d.loadSeconds === null ? '' : `, loaded in ${d.loadSeconds.toFixed(1)} s`}`)
      if (d.status !== 'loaded') this.out('the load did not finish; `payctl sandbox up` with the same --scale and --seed loads it again')
      else this.out(table(Object.entries(d.rows), [
        {header: 'table', get: ([t]) => t},
        {header: 'rows', get: ([, n]) => n, align: 'right'},
      ]))
    }
    if (status.runtime.length > 0) {
      this.out(
        table(status.runtime, [
          {header: 'runtime', get: (r) => r.id},
          {header: 'state', get: (r) => (r.ready ? 'ready' : r.healthy ? `up, not ready${r.error ? `: ${r.error}` : ''}` : r.running ? `running, not answering${r.error ? `: ${r.error}` : ''}` : 'stopped')},
          {header: 'pid', get: (r) => r.pid},
          {header: 'url', get: (r) => r.url},
          {header: 'uptime', get: (r) => (r.uptimeSeconds === null ? null : formatDuration(r.uptimeSeconds * 1000))},
          {header: 'log', get: (r) => relativeToCwd(r.logFile)},
        ]),
      )
    } else {
      this.out('runtime: no instances (payctl sandbox up --runtime-instances 2 starts them)')
    }
    if (status.configPath) this.out(`config: ${status.configPath}`)
    return status
  }
}

/** How to reach the servers, printed after `sandbox up`. Passwords stay in their files. */
/** A path below the working folder as a relative one, any other as it is. */
function relativeToCwd(p: string): string {
  const r = path.relative(process.cwd(), p)
  return r.startsWith('..') ? p : r
}

export function renderConnectHelp(state: SandboxState, dir: string): string {
  const rel = relativeToCwd
  const lines: string[] = []
  for (const s of Object.values(state.servers)) {
    const label = s.name === 'legacy' ? 'legacy (source)' : 'target'
    const secret = rel(path.join(dir, 'secrets', `${s.name}.password`))
    lines.push(`${label}: 127.0.0.1:${s.port}, socket ${rel(s.socketPath)}, user payctl, password in ${secret}`)
    lines.push(`  mariadb -h 127.0.0.1 -P ${s.port} -u payctl -p"$(cat ${secret})" payments`)
  }
  if (state.data) {
    const total = Object.values(state.data.rows).reduce((a, b) => a + b, 0)
    lines.push(`data: ${total.toLocaleString('en-US')} rows in ${Object.keys(state.data.rows).length} tables (scale ${state.data.scale}, seed ${state.data.seed})`)
  }
  for (const r of state.runtime?.instances ?? []) {
    lines.push(`runtime ${r.id}: ${instanceUrl(r)} (pid ${r.pid}, log ${rel(r.logFile)})`)
  }
  if (state.runtime?.instances.length) lines.push(`  curl ${instanceUrl(state.runtime.instances[0] as RuntimeInstanceRecord)}/readyz`)
  if (state.configPath) {
    lines.push(`config: ${rel(state.configPath)}`)
    const defaultPath = path.resolve('.payctl/sandbox/payctl.yaml')
    if (path.resolve(state.configPath) !== defaultPath) lines.push(`  export PAYCTL_CONFIG=${state.configPath}`)
  }
  lines.push('next: payctl inspect --side source    (payctl sandbox status, payctl sandbox down)')
  return lines.join('\n')
}
