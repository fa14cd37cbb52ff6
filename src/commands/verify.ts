import {writeFile} from 'node:fs/promises'
import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {recordVerified} from '../cutover/overview.js'
import {withEngine} from '../engines/open.js'
import {CheckFailedError, UsageError} from '../cli/errors.js'
import {configFlag, parseNameList} from '../cli/flags.js'
import {createTaskList} from '../cli/tasks.js'
import {findConfigPath, loadConfig, resolveConnection} from '../config/index.js'
import {tableMatcher} from '../config/tables.js'
import {renderJunit, renderVerifySummary} from '../validators/report.js'
import type {VerifyResult} from '../validators/types.js'
import {verify} from '../validators/verify.js'

export default class Verify extends PayctlCommand<VerifyResult> {
  static override summary = 'Compare the target with the source row by row (chunked checksums, then the differing rows), online while replication runs.'
  static override description = `Splits each table into key ranges sized to about --chunk-ms, and compares each range's row count and a strong hash on both sides: computed by the servers when both compute it the same way over the same column types (pushdown), else over payctl's canonical row encoding of rows streamed in key order (see "Verify" in the README for the rules). While payctl replicate runs, a range that differs is compared again after replication has passed the moment it was read, so changes in flight are not reported. A range that still differs is narrowed to its rows: each is reported by key as missing in target, missing in source, or different (with the columns and both values; card-like and secret values masked).

Exit 0: equal. Exit 4: differences (the report lists them). Exit 3: a server or setting problem.`
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --count-only',
    '<%= config.bin %> <%= command.id %> --tables payment_intents,refunds --junit reports/verify.xml',
    '<%= config.bin %> <%= command.id %> --repair --dry-run > fix.sql',
    '<%= config.bin %> <%= command.id %> --repair --repair-log .payctl/repair.sql',
  ]
  static override flags = {
    config: configFlag,
    tables: Flags.string({env: 'PAYCTL_TABLES', summary: 'Only these tables (comma-separated; names or globs).', helpValue: 'T1,T2'}),
    'count-only': Flags.boolean({env: 'PAYCTL_VERIFY_COUNT_ONLY', summary: 'Compare row counts only (fast).'}),
    sample: Flags.integer({min: 1, max: 100, env: 'PAYCTL_VERIFY_SAMPLE', summary: 'Compare this percentage of chunks, picked at random.', helpValue: 'PCT'}),
    where: Flags.string({env: 'PAYCTL_VERIFY_WHERE', summary: 'Only rows matching this SQL condition (the same text runs on both sides).', helpValue: 'SQL'}),
    repair: Flags.boolean({env: 'PAYCTL_VERIFY_REPAIR', summary: 'Make the differing target rows equal the source (target := source), then verify again.'}),
    'dry-run': Flags.boolean({env: 'PAYCTL_DRY_RUN', summary: 'With --repair: print the repair SQL, change nothing.'}),
    'repair-log': Flags.string({env: 'PAYCTL_VERIFY_REPAIR_LOG', summary: 'With --repair: append every statement here. [default: verify.repairLog in payctl.yaml, else .payctl/verify-repair.sql]', helpValue: 'FILE'}),
    junit: Flags.string({env: 'PAYCTL_VERIFY_JUNIT', summary: 'Also write JUnit XML (one test case per table) to this file.', helpValue: 'FILE'}),
    'max-row-diffs': Flags.integer({min: 1, env: 'PAYCTL_VERIFY_MAX_ROW_DIFFS', summary: 'Stop listing a table\'s differing rows after this many. [default: verify.maxRowDiffs, else 1000]'}),
    'chunk-ms': Flags.integer({min: 10, max: 60_000, env: 'PAYCTL_VERIFY_CHUNK_MS', summary: 'Target time per chunk. [default: verify.chunkMs, else 1000]', helpValue: 'MS'}),
    'hash-max-bytes': Flags.integer({min: 1024, max: 1024 * 1024 * 1024, env: 'PAYCTL_VERIFY_HASH_MAX_BYTES', summary: "Most row text one server-side hash holds in a server's memory (per range, --parallel at once); larger ranges are hashed in parts; a smaller max_allowed_packet wins. [default: verify.hashMaxBytes, else 16777216]", helpValue: 'BYTES'}),
    parallel: Flags.integer({min: 1, max: 16, env: 'PAYCTL_VERIFY_PARALLEL', summary: 'Chunks compared at the same time, across tables (each runs one query on each server); the last table left uses them all. [default: verify.parallel, else 3]'}),
  }

  async run(): Promise<VerifyResult> {
    const {flags} = await this.parse(Verify)
    if (flags['dry-run'] && !flags.repair) throw new UsageError('PAYCTL_USAGE', '--dry-run applies to --repair only.', {actions: ['Add --repair to print the repair SQL, or leave out --dry-run.']})
    if (flags.repair && flags['count-only']) throw new UsageError('PAYCTL_USAGE', '--repair needs the differing rows, which --count-only does not find.', {actions: ['Leave out --count-only.']})
    const only = parseNameList('--tables', flags.tables)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const configured = tableMatcher(loaded.config.tables)
    const settings = loaded.config.verify
    const named = only === undefined ? null : tableMatcher({include: only, exclude: []})
    const [source, target] = [await resolveConnection('source', loaded), await resolveConnection('target', loaded)]
    let result: VerifyResult | undefined
    const sql: string[] = []
    // a full verify that finds both sides equal is where the write flip's changed-row check starts
    const full = only === undefined && flags.where === undefined && flags.sample === undefined && !flags['count-only'] && !flags.repair
    const startedAt = full ? await withEngine(source, this.signal, (e) => e.replication?.capture.currentPosition() ?? Promise.resolve(null)).catch(() => null) : null
    await createTaskList<object>(
      [
        {
          title: flags['count-only'] ? 'Counting rows on both sides' : 'Verifying target against source',
          task: async (_ctx, task) => {
            let done = 0
            // a progress line at most once a second: a log (CI, no terminal) gets one line each, not one per chunk
            let shown = 0
            result = await verify({
              source,
              target,
              controlDatabase: loaded.config.controlStore.database,
              tables: (schema, name) => configured(schema, name) && (named === null || named(schema, name)),
              countOnly: flags['count-only'],
              samplePct: flags.sample ?? null,
              where: flags.where ?? null,
              repair: flags.repair,
              dryRun: flags['dry-run'],
              repairLog: flags['repair-log'] ?? settings.repairLog,
              maxRowDiffs: flags['max-row-diffs'] ?? settings.maxRowDiffs,
              chunkMs: flags['chunk-ms'] ?? settings.chunkMs,
              hashMaxBytes: flags['hash-max-bytes'] ?? settings.hashMaxBytes,
              concurrency: flags.parallel ?? settings.parallel,
              recheckRetries: 3,
              recheckWaitMs: 30_000,
              signal: this.signal,
              onEvent: (e) => {
                if (e.kind === 'table-done') {
                  done++
                  task.output = `${done} tables done; ${e.result.table}: ${e.result.status}`
                } else if (e.kind === 'progress' && performance.now() - shown >= 1_000) {
                  shown = performance.now()
                  task.output = `${e.table}: ${e.chunks} chunks, ${e.rows} rows`
                }
                else if (e.kind === 'repair-sql' && flags['dry-run']) sql.push(`-- ${e.table}`, ...e.statements.map((s) => `${s};`))
              },
            })
          },
        },
      ],
      {json: this.jsonEnabled(), verbose: this.logger.level === 'debug'},
    ).run({})
    if (result === undefined) throw new Error('verify finished without a result')
    if (flags.junit !== undefined) await writeFile(flags.junit, renderJunit(result))
    if (flags['dry-run'] && !this.jsonEnabled()) this.out(sql.length > 0 ? sql.join('\n') : '-- nothing to repair')
    else this.out(renderVerifySummary(result))
    if (result.status === 'equal' && startedAt !== null) await recordVerified(target, loaded.config.controlStore.database, startedAt).catch(() => false)
    if (result.status !== 'equal') {
      throw new CheckFailedError('PAYCTL_VERIFY_DIFFERENT', `${result.totals.different} of ${result.totals.tables} tables differ (${result.totals.rowDiffs} differing rows listed).`, {
        actions: [flags.repair && flags['dry-run'] ? 'Review the SQL above, then run payctl verify --repair to apply it.' : 'Inspect the rows listed; payctl verify --repair --dry-run prints the SQL that makes the target equal the source.'],
        data: this.jsonEnabled() ? {result} : {},
      })
    }
    return result
  }
}
