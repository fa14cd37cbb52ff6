/**
 * The sandbox's instances of the payment service: detached processes on the sandbox's own
 * payctl.yaml, recorded in the state file, logs in `<dir>/runtime/<id>.log`.
 *
 * `up` converges on the number asked: instances that run are kept (they serve traffic; a rerun of
 * `up` must not interrupt it), dead ones are started again on their usual port, extra ones are
 * stopped. When `up` rewrote payctl.yaml (a database moved to another port), the running
 * instances still hold the old settings, so they are restarted too.
 */
import {join} from 'node:path'

import {
  DEFAULT_BASE_PORT,
  instanceId,
  instanceStatus,
  isInstanceProcess,
  type RuntimeInstanceRecord,
  type RuntimeInstanceStatus,
  type RuntimeStopResult,
  startInstances,
  stopInstance,
  stopInstances,
} from '../runtime-manager/index.js'
import {commandLine, findProcesses} from './processes.js'
import {sandboxPaths, writeSandboxState} from './state.js'
import type {SandboxProgress, SandboxState} from './types.js'

export const DEFAULT_RUNTIME_INSTANCES = 2
export const MAX_RUNTIME_INSTANCES = 32
export const FINGERPRINT_KEY_REF = 'file:secrets/runtime-fingerprint.key'

export function runtimePaths(dir: string) {
  return {logDir: join(dir, 'runtime'), fingerprintKeyFile: join(sandboxPaths(dir).secretsDir, 'runtime-fingerprint.key')}
}

export interface EnsureRuntimeOptions {
  instances: number
  basePort: number
  /** payctl.yaml was written in this run: running instances hold stale settings. */
  configChanged: boolean
  signal?: AbortSignal | undefined
  progress: (event: SandboxProgress) => void
}

export async function ensureRuntime(state: SandboxState, configPath: string, o: EnsureRuntimeOptions): Promise<void> {
  const paths = runtimePaths(state.dir)
  const runtime = (state.runtime ??= {instances: [], requested: o.instances, fingerprintKeyFile: paths.fingerprintKeyFile})
  runtime.requested = o.instances
  const wanted = Array.from({length: o.instances}, (_, i) => instanceId(i + 1))
  const alive: RuntimeInstanceRecord[] = []
  for (const r of runtime.instances) if (await isInstanceProcess(r.pid, r, configPath)) alive.push(r)
  const keep = o.configChanged ? [] : alive.filter((r) => wanted.includes(r.id))
  const stop = alive.filter((r) => !keep.includes(r))
  for (const r of stop) {
    o.progress({step: 'runtime', instance: r.id, message: wanted.includes(r.id) ? 'restarting: payctl.yaml changed' : `stopping (${o.instances} instance${o.instances === 1 ? '' : 's'} asked)`})
  }
  await stopInstances(stop, {configPath})
  for (const r of keep) o.progress({step: 'runtime', instance: r.id, message: `already running (pid ${r.pid}, port ${r.port})`})
  runtime.instances = [...keep]
  await writeSandboxState(state)

  const start = wanted.filter((id) => !keep.some((r) => r.id === id))
  if (start.length === 0) return
  await startInstances({
    configPath,
    fingerprintKeyFile: runtime.fingerprintKeyFile,
    ids: start,
    basePort: o.basePort,
    takenPorts: new Set(keep.map((r) => r.port)),
    logDir: paths.logDir,
    detached: true,
    signal: o.signal,
    onProgress: (e) => o.progress({step: 'runtime', instance: e.instance, message: e.message}),
    // recorded before it is ready, so `sandbox down` finds it even if payctl dies while waiting
    onSpawned: async (record) => {
      runtime.instances.push(record)
      await writeSandboxState(state)
    },
  }).catch(async (err: unknown) => {
    // startInstances stopped what it started: forget those records
    runtime.instances = runtime.instances.filter((r) => !start.includes(r.id))
    await writeSandboxState(state)
    throw err
  })
  runtime.instances.sort((a, b) => a.id.localeCompare(b.id, 'en', {numeric: true}))
  await writeSandboxState(state)
}

export async function runtimeStatuses(state: SandboxState): Promise<RuntimeInstanceStatus[]> {
  const configPath = state.configPath ?? sandboxPaths(state.dir).configFile
  return Promise.all((state.runtime?.instances ?? []).map((r) => instanceStatus(r, configPath)))
}

/**
 * Stops the recorded instances, and (Linux) any other instance process started on this sandbox's
 * config that the state does not know (payctl killed between spawning and recording it, or a
 * `payctl runtime start` on this config): none of them can work once the databases stop.
 */
export async function stopRuntime(state: SandboxState, signal?: AbortSignal): Promise<RuntimeStopResult[]> {
  const configPath = state.configPath ?? sandboxPaths(state.dir).configFile
  const recorded = state.runtime?.instances ?? []
  const results = await stopInstances(recorded, {configPath, signal})
  for (const pid of await findProcesses(configPath)) {
    if (recorded.some((r) => r.pid === pid)) continue
    const args = (await commandLine(pid)) ?? []
    const arg = (flag: string): string | undefined => args[args.indexOf(flag) + 1]
    const id = arg('--instance')
    const port = Number(arg('--port'))
    if (!args.includes('--instance') || id === undefined || !Number.isInteger(port)) continue
    results.push(await stopInstance({id, pid, port, host: arg('--host') ?? '127.0.0.1', logFile: '', startedAt: ''}, {configPath, signal}))
  }
  if (state.runtime !== undefined) state.runtime.instances = []
  return results
}

export {DEFAULT_BASE_PORT as DEFAULT_RUNTIME_BASE_PORT}
