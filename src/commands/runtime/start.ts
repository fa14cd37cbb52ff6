import {Flags} from '@oclif/core'
import path from 'node:path'
import {PayctlCommand} from '../../cli/base-command.js'
import {EnvironmentError, InterruptedError} from '../../cli/errors.js'
import {configFlag} from '../../cli/flags.js'
import {findConfigPath, loadConfig} from '../../config/index.js'
import {fingerprintKeyFileFor, formatLogTail, instanceId, instanceUrl, startInstances, superviseInstances} from '../../runtime-manager/index.js'
import {tailFile} from '../../sandbox/server.js'

/** Never returned: the command runs until stopped, and its one JSON envelope is the error one (exit 130 or 3), whose data has this shape. */
export interface RuntimeStartData {
  config: string
  instances: Array<{id: string; pid: number; url: string; logFile: string; startedAt: string}>
  stopped: Array<{id: string; pid: number; stopped: boolean; killed: boolean}>
}

export default class RuntimeStart extends PayctlCommand<never> {
  static override summary = 'Run the payment service (runtime/) in the foreground: N instances against a config.'
  static override description =
    'Starts the instances as child processes on their own ports (instance rt-k prefers base port + k - 1; a taken port is replaced by a free one), waits until each answers /readyz, prints their URLs and runs until Ctrl-C or SIGTERM, which stops them gracefully (exit 130). An instance that dies stops the others and the command exits 3 with the end of its log. The service uses the config\'s source database and the key of runtime.fingerprintKey. Logs: <log-dir>/<id>.log.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --config payctl.yaml --instances 3 --port 9000',
    '<%= config.bin %> <%= command.id %> --instances 1 --port 0 --json',
  ]
  static override flags = {
    config: configFlag,
    instances: Flags.integer({env: 'PAYCTL_RUNTIME_INSTANCES', summary: 'How many instances. [default: runtime.instances, else 2]', min: 1, max: 32}),
    port: Flags.integer({env: 'PAYCTL_RUNTIME_BASE_PORT', summary: 'Port of the first instance; 0 = any free ports. [default: runtime.basePort, else 18080]', min: 0, max: 65_535}),
    host: Flags.string({env: 'PAYCTL_RUNTIME_HOST', summary: 'Address to listen on. [default: runtime.host, else 127.0.0.1]'}),
    'log-dir': Flags.string({env: 'PAYCTL_RUNTIME_LOG_DIR', summary: 'Folder of the instances\' log files.', default: '.payctl/runtime', helpValue: 'DIR'}),
  }

  async run(): Promise<never> {
    const {flags} = await this.parse(RuntimeStart)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const rt = loaded.config.runtime
    const count = flags.instances ?? rt.instances
    const key = await fingerprintKeyFileFor(loaded)
    try {
      const instances = await startInstances({
        configPath: loaded.path,
        fingerprintKeyFile: key.file,
        ids: Array.from({length: count}, (_, i) => instanceId(i + 1)),
        host: flags.host ?? rt.host,
        basePort: flags.port ?? rt.basePort,
        logDir: path.resolve(flags['log-dir']),
        detached: false,
        signal: this.signal,
        onProgress: (e) => this.logger.debug(`${e.instance}: ${e.message}`),
      })
      for (const i of instances) this.out(`${i.record.id}  ${instanceUrl(i.record)}  pid ${i.record.pid}  log ${displayPath(i.record.logFile)}`)
      this.logger.info(`runtime ready: ${count} instance${count === 1 ? '' : 's'} on ${loaded.path}; Ctrl-C stops them`)
      const {end, stopped} = await superviseInstances(instances, this.signal)
      const data: RuntimeStartData = {
        config: loaded.path,
        instances: instances.map(({record: r}) => ({id: r.id, pid: r.pid, url: instanceUrl(r), logFile: r.logFile, startedAt: r.startedAt})),
        stopped: stopped.map((s) => ({id: s.id, pid: s.pid, stopped: s.stopped, killed: s.killed})),
      }
      if (end.reason === 'interrupted') {
        throw new InterruptedError(`Interrupted; stopped ${stopped.filter((s) => s.stopped).length} runtime instance(s) gracefully.`, {data: {...data}})
      }
      const dead = instances.find((i) => i.record.id === end.id)
      const log = dead === undefined ? '' : formatLogTail(await tailFile(dead.record.logFile, 12, dead.logOffset))
      const how = end.exit.signal === null ? `with code ${end.exit.code}` : `on ${end.exit.signal}`
      throw new EnvironmentError('PAYCTL_RUNTIME_EXITED', `Runtime instance ${end.id} exited ${how}; the others were stopped. Last lines of its log:\n${log}`, {
        actions: [`Read ${dead?.record.logFile ?? 'its log'}.`, 'Start them again: payctl runtime start'],
        data: {...data, exited: end.id, code: end.exit.code, signal: end.exit.signal},
      })
    } finally {
      await key.dispose()
    }
  }
}

/** A path below the working folder as a relative one, any other as it is. */
function displayPath(p: string): string {
  const r = path.relative(process.cwd(), p)
  return r.startsWith('..') ? p : r
}
