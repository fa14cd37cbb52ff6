/**
 * payctl migrate's record in the control store: one migration_runs row per run, one phase_history
 * row per step (running, then succeeded / failed / skipped, with a small detail JSON). A rerun
 * continues the newest run that did not end (crashed, failed, interrupted): steps it already
 * finished are not run again. A run ends when it succeeds or is rolled back; the next migrate
 * starts a new one.
 */
import {randomUUID} from 'node:crypto'
import {hostname} from 'node:os'
import {mysqlDialect} from '../engines/mysql/mysql-dialect.js'
import {valueText} from '../engines/replication.js'
import {jsonColumn, type Query} from './rows.js'

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'rolled-back'
export type StepStatus = 'running' | 'succeeded' | 'failed' | 'skipped'

export interface MigrationRun {
  id: string
  status: RunStatus
  startedAt: string
  finishedAt: string | null
  steps: Array<{phase: string; status: StepStatus; startedAt: string; finishedAt: string | null; detail: unknown; error: string | null}>
}

const q = (name: string): string => mysqlDialect.quoteIdentifier(name)


export class MigrationStore {
  readonly #db: string

  constructor(database: string) {
    this.#db = q(database)
  }

  #t(name: string): string {
    return `${this.#db}.${q(name)}`
  }

  async latest(query: Query): Promise<MigrationRun | null> {
    const rows = await query<Record<string, unknown>>(`SELECT id, status, started_at, finished_at FROM ${this.#t('migration_runs')} ORDER BY started_at DESC LIMIT 1`)
    const r = rows[0]
    if (r === undefined) return null
    const id = valueText(r.id)
    const steps = await query<Record<string, unknown>>(`SELECT phase, status, started_at, finished_at, detail, error FROM ${this.#t('phase_history')} WHERE run_id = ? ORDER BY started_at`, [id])
    return {
      id,
      status: valueText(r.status) as RunStatus,
      startedAt: valueText(r.started_at),
      finishedAt: r.finished_at === null ? null : valueText(r.finished_at),
      steps: steps.map((s) => ({
        phase: valueText(s.phase),
        status: valueText(s.status) as StepStatus,
        startedAt: valueText(s.started_at),
        finishedAt: s.finished_at === null ? null : valueText(s.finished_at),
        detail: jsonColumn(s.detail),
        error: s.error === null ? null : valueText(s.error),
      })),
    }
  }

  /** The run to continue (the newest that did not end), or a new one. */
  async openRun(query: Query, configFingerprint: string, payctlVersion: string, operator: string): Promise<{run: MigrationRun; resumed: boolean}> {
    const last = await this.latest(query)
    if (last !== null && last.status !== 'succeeded' && last.status !== 'rolled-back') {
      await query(`UPDATE ${this.#t('migration_runs')} SET status = 'running', finished_at = NULL WHERE id = ?`, [last.id])
      return {run: {...last, status: 'running'}, resumed: true}
    }
    const id = randomUUID()
    await query(
      `INSERT INTO ${this.#t('migration_runs')} (id, started_at, finished_at, status, config_fingerprint, payctl_version, operator, host) VALUES (?, UTC_TIMESTAMP(6), NULL, 'running', ?, ?, ?, ?)`,
      [id, configFingerprint, payctlVersion, operator, hostname()],
    )
    const run = await this.latest(query)
    if (run === null) throw new Error('the migration run just written cannot be read back')
    return {run, resumed: false}
  }

  async stepStarted(query: Query, runId: string, phase: string): Promise<void> {
    await query(
      `INSERT INTO ${this.#t('phase_history')} (run_id, phase, step, status, started_at, finished_at, detail, error) VALUES (?, ?, ?, 'running', UTC_TIMESTAMP(6), NULL, NULL, NULL)` +
        " ON DUPLICATE KEY UPDATE status = 'running', started_at = VALUES(started_at), finished_at = NULL, error = NULL",
      [runId, phase, phase],
    )
  }

  async stepEnded(query: Query, runId: string, phase: string, status: Exclude<StepStatus, 'running'>, detail: unknown, error: string | null): Promise<void> {
    await query(`UPDATE ${this.#t('phase_history')} SET status = ?, finished_at = UTC_TIMESTAMP(6), detail = ?, error = ? WHERE run_id = ? AND phase = ? AND step = ?`, [
      status,
      JSON.stringify(detail ?? null),
      error,
      runId,
      phase,
      phase,
    ])
  }

  async endRun(query: Query, runId: string, status: Exclude<RunStatus, 'running'>): Promise<void> {
    await query(`UPDATE ${this.#t('migration_runs')} SET status = ?, finished_at = UTC_TIMESTAMP(6) WHERE id = ?`, [status, runId])
  }

  /** A rollback ends the newest run: the next migrate starts over from its first step. */
  async rollBackNewestRun(query: Query): Promise<void> {
    const last = await this.latest(query)
    if (last !== null) await this.endRun(query, last.id, 'rolled-back')
  }
}
