/**
 * Where `payctl load` sends its traffic, and the check that something ready answers there before
 * the first iteration: a run against a dead port would only measure connection refusals, and
 * report them as the service's failures.
 *
 * Targets come from `--target`, else from the config: the instances the local sandbox recorded
 * when this config is the sandbox's own (`sandbox up` replaces a taken port with a free one, and
 * only its state file knows which), else the `runtime` section (instance k on basePort + k - 1,
 * as the runtime manager assigns them).
 */
import {dirname, resolve} from 'node:path'
import {EnvironmentError, UsageError} from '../cli/errors.js'
import type {LoadedConfig} from '../config/index.js'
import type {RuntimeConfig} from '../config/schema.js'
import {instanceUrl} from '../runtime-manager/index.js'
import {readSandboxState} from '../sandbox/index.js'

export interface ResolvedTargets {
  urls: string[]
  /** Where they came from, for messages: "--target", "the runtime section of /x/payctl.yaml"... */
  origin: string
}

export const PROBE_TIMEOUT_MS = 2_000

/** A --target value as a base URL: http(s) only, no trailing slash (paths are appended to it). */
export function normalizeTarget(value: string): string {
  const trimmed = value.trim()
  const url = URL.canParse(trimmed) ? new URL(trimmed) : null
  if (url === null || !/^https?:$/.test(url.protocol) || url.search !== '' || url.hash !== '') {
    throw new UsageError('PAYCTL_USAGE', `--target ${JSON.stringify(value)} is not an http(s) base URL.`, {
      actions: ['Give the base URL of an instance of the payment service, e.g. --target http://127.0.0.1:18080 (repeat --target for more).'],
    })
  }
  return trimmed.replace(/\/+$/, '')
}

/** A wildcard listen address is reached on the loopback of the same family. */
function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1'
  if (host === '::' || host === '[::]') return '::1'
  return host
}

/** The URLs of the instances a `runtime` section describes (the ports `payctl runtime start` prefers). */
export function runtimeConfigTargets(runtime: Pick<RuntimeConfig, 'host' | 'basePort' | 'instances'>, configPath: string): string[] {
  if (runtime.basePort === 0) {
    throw new UsageError('PAYCTL_LOAD_NO_TARGETS', `runtime.basePort in ${configPath} is 0 (any free port), so the instances' ports cannot be known from the config.`, {
      actions: ['Pass their URLs with --target (payctl runtime start prints them), or set runtime.basePort.'],
    })
  }
  const host = connectHost(runtime.host)
  return Array.from({length: runtime.instances}, (_, i) => instanceUrl({host, port: runtime.basePort + i}))
}

/** The instances the sandbox recorded for this very config file, or null when it is not a sandbox's config or none were started. */
export async function sandboxRecordedTargets(configPath: string): Promise<string[] | null> {
  // a config elsewhere, or a sandbox folder that cannot be read, is simply not a sandbox's config
  const state = await readSandboxState(dirname(configPath)).catch(() => null)
  if (state?.configPath === null || state?.configPath === undefined || resolve(state.configPath) !== resolve(configPath)) return null
  const instances = [...(state.runtime?.instances ?? [])].sort((a, b) => a.id.localeCompare(b.id, 'en', {numeric: true}))
  if (instances.length === 0) return null
  return instances.map((r) => instanceUrl({host: connectHost(r.host), port: r.port}))
}

/** --target values when given, else the config's instances (see the module comment). */
export async function resolveTargets(flagTargets: readonly string[] | undefined, loadConfig: () => Promise<LoadedConfig>): Promise<ResolvedTargets> {
  if (flagTargets !== undefined && flagTargets.length > 0) {
    return {urls: [...new Set(flagTargets.map((t) => normalizeTarget(t)))], origin: '--target'}
  }
  const loaded = await loadConfig()
  const recorded = await sandboxRecordedTargets(loaded.path)
  if (recorded !== null) return {urls: recorded, origin: `the sandbox's runtime instances (config ${loaded.path})`}
  return {urls: runtimeConfigTargets(loaded.config.runtime, loaded.path), origin: `the runtime section of ${loaded.path}`}
}

export interface TargetCheck {
  url: string
  ready: boolean
  /** The endpoint whose answer decided (`/readyz`, or `/healthz` for a service without `/readyz`). */
  endpoint: '/readyz' | '/healthz'
  status: number | null
  /** Why it is not ready: "nothing answers (ECONNREFUSED)", "/readyz answered 503 (database_unreachable)"... */
  problem: string | null
}

interface Answer {
  status: number | null
  /** `status` of a JSON body (`ready`, `database_unreachable`, `shutting_down`), when there is one. */
  state: string | null
  error: string | null
}

function networkProblem(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || (error.cause as Error | undefined)?.name === 'TimeoutError')) return `no answer within ${timeoutMs} ms`
  const cause = error instanceof Error ? (error.cause as {code?: unknown; message?: unknown} | undefined) : undefined
  if (typeof cause?.code === 'string') return `nothing answers (${cause.code})`
  if (typeof cause?.message === 'string') return `no answer (${cause.message})`
  return `no answer (${error instanceof Error ? error.message : String(error)})`
}

async function ask(url: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<Answer> {
  const timeout = AbortSignal.timeout(timeoutMs)
  try {
    const res = await fetch(url, {headers: {accept: 'application/json'}, signal: signal === undefined ? timeout : AbortSignal.any([timeout, signal])})
    const text = await res.text()
    let state: string | null = null
    try {
      const body = JSON.parse(text) as {status?: unknown} | null
      if (typeof body?.status === 'string') state = body.status
    } catch {
      // not JSON: the status code alone decides
    }
    return {status: res.status, state, error: null}
  } catch (error) {
    if (signal?.aborted === true) throw signal.reason
    return {status: null, state: null, error: networkProblem(error, timeoutMs)}
  }
}

/**
 * Asks one target `/readyz` (200: the service and its database answer). A 404 there is a service
 * without a readiness endpoint (a proxy, an older build); its `/healthz` then decides.
 */
export async function checkTarget(url: string, o: {timeoutMs?: number; signal?: AbortSignal | undefined} = {}): Promise<TargetCheck> {
  const timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS
  const ready = await ask(`${url}/readyz`, timeoutMs, o.signal)
  if (ready.status === null) return {url, ready: false, endpoint: '/readyz', status: null, problem: ready.error}
  if (ready.status === 200) return {url, ready: true, endpoint: '/readyz', status: 200, problem: null}
  if (ready.status !== 404) {
    const why = ready.state === null ? '' : ` (${ready.state})`
    return {url, ready: false, endpoint: '/readyz', status: ready.status, problem: `/readyz answered ${ready.status}${why}`}
  }
  const health = await ask(`${url}/healthz`, timeoutMs, o.signal)
  if (health.status === 200) return {url, ready: true, endpoint: '/healthz', status: 200, problem: null}
  const got = health.status === null ? (health.error ?? 'no answer') : `${health.status}`
  return {url, ready: false, endpoint: '/healthz', status: health.status, problem: `/readyz answered 404 and /healthz ${got}: not the payment service?`}
}

/** Checks every target at once; throws exit 3 naming each one that is not ready and what to do. */
export async function ensureTargetsReady(targets: ResolvedTargets, o: {timeoutMs?: number; signal?: AbortSignal | undefined} = {}): Promise<TargetCheck[]> {
  const checks = await Promise.all(targets.urls.map((url) => checkTarget(url, o)))
  const bad = checks.filter((c) => !c.ready)
  if (bad.length === 0) return checks
  throw targetsNotReadyError(targets, bad)
}

export function targetsNotReadyError(targets: ResolvedTargets, bad: readonly TargetCheck[]): EnvironmentError {
  const lines = bad.map((c) => `  ${c.url}: ${c.problem ?? 'not ready'}`)
  const actions: string[] = []
  if (bad.some((c) => c.status === 503)) {
    actions.push('An instance runs but is not ready (its database does not answer, or it is shutting down): check the source database (payctl sandbox status), then retry.')
  }
  if (bad.some((c) => c.status !== 503)) {
    actions.push('Start the payment service: payctl sandbox up (the local sandbox starts its instances), or payctl runtime start (instances on your payctl.yaml).')
  }
  actions.push(targets.origin === '--target' ? 'Check the --target URLs (payctl sandbox status lists where instances listen).' : 'Or point at running instances with --target URL (payctl sandbox status lists where they listen).')
  return new EnvironmentError(
    'PAYCTL_LOAD_TARGET_NOT_READY',
    `No ready payment service at ${bad.length} of ${targets.urls.length} load target${targets.urls.length === 1 ? '' : 's'} (from ${targets.origin}):\n${lines.join('\n')}`,
    {actions, data: {targets: targets.urls, notReady: bad.map((c) => ({url: c.url, endpoint: c.endpoint, status: c.status, problem: c.problem}))}},
  )
}
