/**
 * The ready-to-use payctl.yaml for the sandbox (pure: ports in, file text out). Passwords are
 * `file:` references relative to the config's own folder, never literals.
 */
import type {ServerName} from './types.js'

export interface SandboxConfigSpec {
  ports: Record<ServerName, number>
  database: string
  controlDatabase?: string
  /** The `runtime` section; left out when absent. */
  runtime?: {instances: number; basePort: number; fingerprintKey: string}
}

export function renderSandboxConfig(spec: SandboxConfigSpec): string {
  const endpoint = (name: ServerName) => [
    '  engine: mysql',
    '  flavor: mariadb',
    '  host: 127.0.0.1',
    `  port: ${spec.ports[name]}`,
    '  user: payctl',
    `  password: file:secrets/${name}.password   # relative to this file's folder`,
    `  database: ${spec.database}`,
    '  tls:',
    '    mode: disable',
  ]
  return [
    '# payctl config for the local sandbox (written by payctl sandbox up)',
    'version: 1',
    'source:',
    ...endpoint('legacy'),
    'target:',
    ...endpoint('target'),
    'controlStore:',
    '  side: target',
    `  database: ${spec.controlDatabase ?? 'payctl_control'}`,
    ...(spec.runtime === undefined
      ? []
      : [
          'runtime:',
          // the schema allows 1..32; a sandbox run without instances leaves the default to `runtime start`
          ...(spec.runtime.instances > 0 ? [`  instances: ${spec.runtime.instances}`] : []),
          '  host: 127.0.0.1',
          `  basePort: ${spec.runtime.basePort}`,
          `  fingerprintKey: ${spec.runtime.fingerprintKey}   # relative to this file's folder`,
        ]),
    // Short holds so the quickstart's whole shift takes under a minute (production holds are minutes:
    // payctl.example.yaml), and shares of reads large enough that the quickstart's light load gives
    // every gate data in each 2-second sample.
    'shift:',
    '  steps:',
    '    - {name: shadow, kind: shadow, readsTargetPercent: 0, shadowPercent: 25, hold: 6s}',
    '    - {name: reads-25, kind: reads, readsTargetPercent: 25, hold: 6s}',
    '    - {name: reads-50, kind: reads, readsTargetPercent: 50, hold: 6s}',
    '    - {name: reads-100, kind: reads, readsTargetPercent: 100, hold: 6s}',
    '    - {name: write-flip, kind: write-flip, hold: 6s}',
    '    - {name: observe, kind: observe, hold: 10s}',
    '  gates:',
    '    interval: 2s',
    '    minRequests: 10',
    '',
  ].join('\n')
}
