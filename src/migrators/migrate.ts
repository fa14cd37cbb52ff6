/**
 * payctl migrate: every phase in order — assess, provision, replicate, verify, shift-traffic,
 * finalize (with --finalize) — recorded in the control store (migration_runs, phase_history).
 *
 * A rerun continues the newest run that did not end: assess, provision and verify are not run
 * again once they succeeded in it; replicate is a state, not a step (a replicate process must be
 * running and caught up, and one is started in the background when none is); shift-traffic
 * continues after its last completed step (its own state); finalize is idempotent.
 *
 * Replication must outlive this command (reverse replication runs until finalize), so it runs as
 * its own process: `payctl replicate --detach` (or the operator's supervised one).
 */
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {failOnResult} from '../assess/assess.js'
import {runAssess} from '../assess/run.js'
import {CheckFailedError, EnvironmentError} from '../cli/errors.js'
import {type LoadedConfig, resolveConnection} from '../config/index.js'
import {tableMatcher} from '../config/tables.js'
import {type MigrationRun, MigrationStore} from '../control/migration-store.js'
import {ReplicationStore} from '../control/replication-store.js'
import {type CutoverEnv, openCutoverEnv, pollUntil} from '../cutover/env.js'
import {finalize, type FinalizeResult} from '../cutover/finalize.js'
import {replicationProcess} from '../cutover/flip.js'
import {type ShiftEvent, type ShiftResult, shiftTraffic, withLease} from '../cutover/shift.js'
import {describePosition} from '../engines/replication.js'
import type {VerifyResult} from '../validators/types.js'
import {verify} from '../validators/verify.js'
import {provision, type ProvisionResult} from './provision.js'
import {operatorName} from './replicate/replicate.js'

export const MIGRATE_STEPS = ['assess', 'provision', 'replicate', 'verify', 'shift-traffic', 'finalize'] as const
export type MigrateStep = (typeof MIGRATE_STEPS)[number]

export interface MigrateOptions {
  loaded: LoadedConfig
  payctlVersion: string
  yes: boolean
  finalize: boolean
  /** Longest wait for replication to finish the copy and catch up (ms). */
  catchUpTimeoutMs: number
  signal?: AbortSignal
  onProgress?: (step: MigrateStep, message: string) => void
  onShiftEvent?: (e: ShiftEvent) => void
}

export interface MigrateSummary {
  runId: string
  resumed: boolean
  steps: Array<{step: MigrateStep; status: 'succeeded' | 'skipped' | 'waiting' | 'not-run'; detail: string}>
  rowsCopied: number | null
  lagSeconds: number | null
  verify: {status: string; tables: number; rows: number; seconds: number} | null
  shift: ShiftResult | null
  finalized: FinalizeResult | null
}

const binPath = (): string => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js')

function fingerprint(loaded: LoadedConfig): string {
  // secret references are not secrets, but they are left out anyway (the file's shape, not where its secrets live)
  const {source, target, ...rest} = loaded.config
  const strip = (e: typeof source): unknown => ({...e, password: null})
  return createHash('sha256').update(JSON.stringify({...rest, source: strip(source), target: strip(target)})).digest('hex')
}

/** One migrate run: the command builds its task list from these steps. */
export class MigrateSession {
  readonly store: MigrationStore
  run!: MigrationRun
  resumed = false
  readonly summary: MigrateSummary

  private constructor(
    readonly o: MigrateOptions,
    readonly env: CutoverEnv,
  ) {
    this.store = new MigrationStore(o.loaded.config.controlStore.database)
    this.summary = {runId: '', resumed: false, steps: [], rowsCopied: null, lagSeconds: null, verify: null, shift: null, finalized: null}
  }

  /** Assess and provision run before the control store exists; the session opens after provision. */
  static async open(o: MigrateOptions): Promise<MigrateSession> {
    const env = await openCutoverEnv(o.loaded, o.signal)
    const s = new MigrateSession(o, env)
    const {run, resumed} = await s.store.openRun(env.control, fingerprint(o.loaded), o.payctlVersion, operatorName())
    s.run = run
    s.resumed = resumed
    s.summary.runId = run.id
    s.summary.resumed = resumed
    return s
  }

  async close(): Promise<void> {
    await this.env.close()
  }

  succeeded(step: MigrateStep): boolean {
    return this.run.steps.some((x) => x.phase === step && x.status === 'succeeded')
  }

  /** Runs a step with its record: running, then succeeded or failed (with the error's message). */
  async record<T>(step: MigrateStep, fn: () => Promise<T>, detail: (r: T) => unknown): Promise<T> {
    await this.store.stepStarted(this.env.control, this.run.id, step)
    try {
      const r = await fn()
      await this.store.stepEnded(this.env.control, this.run.id, step, 'succeeded', detail(r), null)
      return r
    } catch (err) {
      await this.store.stepEnded(this.env.control, this.run.id, step, 'failed', null, err instanceof Error ? err.message : String(err)).catch(() => undefined)
      await this.store.endRun(this.env.control, this.run.id, this.o.signal?.aborted === true ? 'interrupted' : 'failed').catch(() => undefined)
      throw err
    }
  }

  /** Replication: a running, caught-up replicate process (started detached when there is none). */
  async replicate(): Promise<{started: boolean; rowsCopied: number; lagSeconds: number | null}> {
    const emit = (m: string): void => this.o.onProgress?.('replicate', m)
    let started = false
    const process0 = await replicationProcess(this.env)
    if (!process0.alive) {
      emit('starting payctl replicate in the background')
      await promisify(execFile)(globalThis.process.execPath, [binPath(), 'replicate', '--detach', '--config', this.o.loaded.path], {cwd: globalThis.process.cwd(), env: globalThis.process.env}).catch((err: unknown) => {
        const e = err as {stderr?: string; code?: number}
        throw new EnvironmentError('PAYCTL_REPLICATE_START_FAILED', `payctl replicate --detach failed (exit ${e.code ?? '?'}): ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`, {
          actions: ['Run payctl replicate in a shell to see why, then run payctl migrate again.'],
        })
      })
      started = true
    }
    const store = new ReplicationStore(this.env.controlDatabase)
    let rowsCopied = 0
    let lag: number | null = null
    const caughtUp = await pollUntil(
      async () => {
        const p = await replicationProcess(this.env)
        const tables = await store.tables(this.env.control)
        rowsCopied = tables.reduce((n, t) => n + t.rowsCopied, 0)
        lag = p.direction === 'reverse' ? p.reverseLagSeconds : p.lagSeconds
        const live = tables.length > 0 && tables.every((t) => t.state === 'replicating')
        emit(`${tables.filter((t) => t.state === 'replicating').length}/${tables.length} tables live, ${rowsCopied.toLocaleString('en-US')} rows copied, lag ${lag === null ? '?' : `${lag.toFixed(1)} s`}`)
        if (!p.alive && !started) throw new EnvironmentError('PAYCTL_REPLICATION_NOT_RUNNING', 'payctl replicate stopped.', {actions: ['See .payctl/replicate.log next to payctl.yaml, fix the cause, and run payctl migrate again.']})
        return p.alive && live && lag !== null && lag <= 1
      },
      performance.now() + this.o.catchUpTimeoutMs,
      1_000,
      this.o.signal,
    )
    if (!caughtUp) {
      throw new EnvironmentError('PAYCTL_REPLICATION_NOT_CAUGHT_UP', `Replication did not finish the copy and catch up within ${Math.round(this.o.catchUpTimeoutMs / 1000)} s.`, {
        actions: ['It keeps running in the background: watch payctl status, then run payctl migrate again.'],
      })
    }
    this.summary.rowsCopied = rowsCopied
    this.summary.lagSeconds = lag
    return {started, rowsCopied, lagSeconds: lag}
  }

  /** Online verify of every table; records the source position it started at as checked through. */
  async verify(onProgress: (m: string) => void): Promise<VerifyResult> {
    const {loaded} = this.o
    const mark = await this.env.source.replication.capture.currentPosition()
    const settings = loaded.config.verify
    let done = 0
    const result = await verify({
      source: await resolveConnection('source', loaded),
      target: await resolveConnection('target', loaded),
      controlDatabase: loaded.config.controlStore.database,
      tables: tableMatcher(loaded.config.tables),
      countOnly: false,
      samplePct: null,
      where: null,
      repair: false,
      dryRun: false,
      repairLog: null,
      maxRowDiffs: settings.maxRowDiffs,
      chunkMs: settings.chunkMs,
      hashMaxBytes: settings.hashMaxBytes,
      concurrency: settings.parallel,
      recheckRetries: 3,
      recheckWaitMs: 30_000,
      ...(this.o.signal === undefined ? {} : {signal: this.o.signal}),
      onEvent: (e) => {
        if (e.kind === 'table-done') onProgress(`${++done} tables done; ${e.result.table}: ${e.result.status}`)
      },
    })
    this.summary.verify = {status: result.status, tables: result.totals.tables, rows: result.totals.rowsCompared, seconds: result.totals.seconds}
    if (result.status !== 'equal') {
      throw new CheckFailedError('PAYCTL_VERIFY_DIFFERENT', `${result.totals.different} of ${result.totals.tables} tables differ (${result.totals.rowDiffs} differing rows listed); the migration stops before any traffic moves.`, {
        actions: ['payctl verify lists the rows; payctl verify --repair fixes the target. Then run payctl migrate again.'],
      })
    }
    // the shift's write flip compares only the rows changed after this position
    await this.env.cutover.update(this.env.control, (s) => ({...s, verifiedThrough: mark}))
    onProgress(`equal; rows changed after ${describePosition(mark)} are compared at the write flip`)
    return result
  }

  async shift(): Promise<ShiftResult> {
    const r = await shiftTraffic(this.env, {
      shift: this.o.loaded.config.shift,
      promote: false,
      yes: this.o.yes,
      abort: false,
      reason: 'payctl migrate',
      ...(this.o.signal === undefined ? {} : {signal: this.o.signal}),
      ...(this.o.onShiftEvent === undefined ? {} : {onEvent: this.o.onShiftEvent}),
    })
    this.summary.shift = r
    return r
  }

  async finalize(): Promise<FinalizeResult> {
    const r = await withLease(this.env, false, () => finalize(this.env, {force: false, reason: 'payctl migrate --finalize', waitMs: 60_000, ...(this.o.signal === undefined ? {} : {signal: this.o.signal})}))
    this.summary.finalized = r
    return r
  }
}

/** Assess before anything is written: blockers stop the migration (exit 4). */
export async function assessStep(o: MigrateOptions): Promise<{findings: number; blockers: number}> {
  const report = await runAssess({configPath: o.loaded.path, sample: false, payctlVersion: o.payctlVersion, cwd: process.cwd(), ...(o.signal === undefined ? {} : {signal: o.signal}), progress: (m) => o.onProgress?.('assess', m)})
  const verdict = failOnResult(report, 'blocker')
  if (verdict.met) {
    throw new CheckFailedError('PAYCTL_ASSESS_BLOCKERS', `Assess found ${verdict.count} blocker${verdict.count === 1 ? '' : 's'} (${verdict.rules.join(', ')}); nothing was changed.`, {
      actions: ['Run payctl assess to read them (each says what to change), fix them, and run payctl migrate again.'],
    })
  }
  return {findings: report.findings.length, blockers: 0}
}

export function provisionStep(o: MigrateOptions): Promise<ProvisionResult> {
  return (async () => {
    const {loaded} = o
    const source = await resolveConnection('source', loaded)
    const target = await resolveConnection('target', loaded)
    return provision({
      source,
      target,
      control: {...loaded.config.controlStore, connection: loaded.config.controlStore.side === 'source' ? source : target},
      tables: loaded.config.tables,
      dryRun: false,
      ...(o.signal === undefined ? {} : {signal: o.signal}),
      onEvent: (e) => {
        if (e.kind !== 'warning') o.onProgress?.('provision', e.kind === 'phase' ? e.message : `[${e.progress.index}/${e.progress.total}] ${e.progress.statement.purpose}`)
      },
    })
  })()
}
