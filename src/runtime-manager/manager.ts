/**
 * N instances of the payment service for one config: start them (ports, ids, logs, readiness),
 * report on them, stop them. Two ways to run them:
 *
 * - detached (the sandbox): the processes outlive payctl; the caller records them (the sandbox
 *   state file) and stops them later by pid.
 * - attached (`payctl runtime start`): `superviseInstances` holds them until the command is
 *   interrupted or one of them dies, then stops the rest; nothing outlives the command.
 */
import {join, resolve} from 'node:path'

import {InterruptedError} from '../cli/errors.js'
import {findRuntimeEntry} from './entry.js'
import {type ExitInfo, instanceUrl, isInstanceProcess, probe, type SpawnedInstance, spawnInstance, stopInstance, waitUntilReady} from './instance.js'
import {assignPorts, preferredPorts} from './ports.js'
import type {RuntimeEntry, RuntimeInstanceRecord, RuntimeInstanceStatus, RuntimeProgress, RuntimeStopResult} from './types.js'

export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_BASE_PORT = 18080
/** A start that failed half-way stops what it started; those never served traffic, so no long grace. */
const ABANDON_GRACE_MS = 5_000

export function instanceId(n: number): string {
  return `rt-${n}`
}

export interface StartInstancesOptions {
  configPath: string
  fingerprintKeyFile: string
  /** The instance ids to start (`rt-1`, `rt-2`, ... by default `count` of them). */
  ids: readonly string[]
  host?: string
  /** Instance rt-k prefers basePort + k - 1; 0 = any free port. */
  basePort?: number
  /** Ports not to use (instances that keep running). */
  takenPorts?: ReadonlySet<number>
  /** Log files are `<logDir>/<id>.log`. */
  logDir: string
  detached: boolean
  readyTimeoutMs?: number
  entry?: RuntimeEntry
  signal?: AbortSignal | undefined
  onProgress?: (event: RuntimeProgress) => void
  /** Called as soon as a process exists, before it is ready, so a caller can record it at once. */
  onSpawned?: (record: RuntimeInstanceRecord) => void | Promise<void>
}

/**
 * Starts the instances in parallel and resolves once every one answers /readyz 200. When one
 * fails, the others started here are stopped before the error is thrown: a failed start leaves
 * nothing running.
 */
export async function startInstances(o: StartInstancesOptions): Promise<SpawnedInstance[]> {
  const progress = (instance: string, message: string): void => o.onProgress?.({instance, message})
  const entry = o.entry ?? (await findRuntimeEntry())
  const configPath = resolve(o.configPath)
  const host = o.host ?? DEFAULT_HOST
  const ports = await assignPorts(preferredPorts(o.basePort ?? DEFAULT_BASE_PORT, o.ids), o.takenPorts)
  const spawned: SpawnedInstance[] = []
  try {
    for (const [i, id] of o.ids.entries()) {
      const port = ports[i] as number
      const logFile = join(resolve(o.logDir), `${id}.log`)
      progress(id, `starting on ${host}:${port} (${entry.kind === 'source' ? 'from the TypeScript sources' : entry.path}), log ${logFile}`)
      const instance = await spawnInstance({entry, id, host, port, configPath, fingerprintKeyFile: resolve(o.fingerprintKeyFile), logFile, detached: o.detached})
      spawned.push(instance)
      await o.onSpawned?.(instance.record)
    }
    const results = await Promise.allSettled(
      spawned.map(async (instance) => {
        await waitUntilReady(instance, {signal: o.signal, ...(o.readyTimeoutMs === undefined ? {} : {timeoutMs: o.readyTimeoutMs})})
        progress(instance.record.id, `ready at ${instanceUrl(instance.record)} (pid ${instance.record.pid})`)
      }),
    )
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed !== undefined) throw o.signal?.aborted === true ? abortReason(o.signal) : failed.reason
    return spawned
  } catch (err) {
    await Promise.all(spawned.map((s) => stopInstance(s.record, {configPath, graceMs: ABANDON_GRACE_MS}).catch(() => undefined)))
    throw err
  }
}

/** Stops the instances in parallel (SIGTERM, then SIGKILL after the grace period). */
export async function stopInstances(
  records: readonly RuntimeInstanceRecord[],
  opts: {configPath?: string | undefined; graceMs?: number; signal?: AbortSignal | undefined} = {},
): Promise<RuntimeStopResult[]> {
  return Promise.all(records.map((r) => stopInstance(r, opts)))
}

export async function instanceStatus(record: RuntimeInstanceRecord, configPath?: string): Promise<RuntimeInstanceStatus> {
  const running = await isInstanceProcess(record.pid, record, configPath)
  const status: RuntimeInstanceStatus = {
    id: record.id,
    pid: running ? record.pid : null,
    port: record.port,
    running,
    healthy: false,
    ready: false,
    url: instanceUrl(record),
    uptimeSeconds: running ? Math.max(0, Math.round((Date.now() - Date.parse(record.startedAt)) / 1000)) : null,
    logFile: record.logFile,
  }
  if (!running) return status
  const [health, ready] = await Promise.all([probe(record, '/healthz'), probe(record, '/readyz')])
  status.healthy = health.status === 200
  status.ready = ready.status === 200
  if (!status.ready) status.error = ready.status === null ? (ready.error ?? 'no answer') : `/readyz answered ${ready.status}`
  return status
}

export type SupervisionEnd =
  | {reason: 'interrupted'}
  | {reason: 'instance-exited'; id: string; exit: ExitInfo}

/**
 * Waits until the signal aborts (Ctrl-C, SIGTERM) or an instance exits on its own, then stops
 * every instance still running. Instances must have been started attached.
 */
export async function superviseInstances(
  instances: readonly SpawnedInstance[],
  signal: AbortSignal,
  opts: {graceMs?: number} = {},
): Promise<{end: SupervisionEnd; stopped: RuntimeStopResult[]}> {
  const aborted = new Promise<SupervisionEnd>((resolve) => {
    if (signal.aborted) resolve({reason: 'interrupted'})
    else signal.addEventListener('abort', () => resolve({reason: 'interrupted'}), {once: true})
  })
  const died = instances.map((i) => i.exited.then((exit): SupervisionEnd => ({reason: 'instance-exited', id: i.record.id, exit})))
  const end = await Promise.race([aborted, ...died])
  // the command's signal is already aborted here: stopping must not be cut short by it
  const stopped = await stopInstances(
    instances.filter((i) => i.exit === null).map((i) => i.record),
    opts.graceMs === undefined ? {} : {graceMs: opts.graceMs},
  )
  await Promise.all(instances.map((i) => i.exited))
  return {end, stopped}
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError()
}
