import {writeFile} from 'node:fs/promises'
import {resolve} from 'node:path'
import {Flags} from '@oclif/core'
import {failOnResult} from '../assess/assess.js'
import {ASSESS_FORMATS, renderReport} from '../assess/render/index.js'
import type {AssessReport} from '../assess/report.js'
import {runAssess} from '../assess/run.js'
import {PayctlCommand} from '../cli/base-command.js'
import {CheckFailedError, UsageError} from '../cli/errors.js'
import {configFlag} from '../cli/flags.js'
import {redact} from '../cli/redact.js'
import {ENGINES} from '../config/index.js'
import {MYSQL_FLAVORS} from '../engines/model.js'

export default class Assess extends PayctlCommand<AssessReport> {
  static override summary = 'Assess the source for the migration: compatibility findings, change-capture prerequisites, permissions, sizing.'
  static override description =
    'Live from the configured source (introspection, a measured sample copy), or offline from a DDL script (--from-ddl: SSMS "Generate Scripts" output or mysqldump). Writes a terminal summary, JSON, Markdown or one self-contained HTML file.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --target-flavor tidb --format html --out assessment.html',
    '<%= config.bin %> <%= command.id %> --from-ddl payments.sql --source-engine sqlserver --target-flavor aurora-mysql --format markdown',
    '<%= config.bin %> <%= command.id %> --fail-on blocker --json',
  ]
  static override flags = {
    config: configFlag,
    'from-ddl': Flags.string({env: 'PAYCTL_FROM_DDL', summary: 'Assess a DDL script offline instead of the live source (no config needed).', helpValue: 'FILE'}),
    'source-engine': Flags.option({options: ENGINES, env: 'PAYCTL_SOURCE_ENGINE', summary: 'Engine of the --from-ddl script (default sqlserver).'})(),
    'target-flavor': Flags.option({options: MYSQL_FLAVORS, env: 'PAYCTL_TARGET_FLAVOR', summary: 'Target flavor (default: target.flavor in the config, else the live target\'s).'})(),
    format: Flags.option({options: ASSESS_FORMATS, default: 'table' as const, env: 'PAYCTL_FORMAT', summary: 'Output format.'})(),
    out: Flags.string({char: 'o', env: 'PAYCTL_OUT', summary: 'Write the report to this file instead of stdout.', helpValue: 'FILE'}),
    'fail-on': Flags.option({options: ['blocker', 'warning'] as const, env: 'PAYCTL_FAIL_ON', summary: 'Exit 4 on any blocker (blocker) or any blocker or needs-change (warning); the report is written first.'})(),
    sample: Flags.boolean({default: true, allowNo: true, env: 'PAYCTL_SAMPLE', summary: 'Measure a short sample copy to estimate the full-load time (--no-sample skips it).'}),
  }

  async run(): Promise<AssessReport> {
    const {flags} = await this.parse(Assess)
    if (flags['source-engine'] !== undefined && flags['from-ddl'] === undefined) {
      throw new UsageError('PAYCTL_USAGE', '--source-engine applies only with --from-ddl.', {actions: ['Add --from-ddl FILE, or drop --source-engine (a live source says its own engine).']})
    }
    if (flags.format === 'html' && flags.out === undefined && process.stdout.isTTY === true && !this.jsonEnabled()) {
      throw new UsageError('PAYCTL_USAGE', 'An HTML report on a terminal is unreadable.', {actions: ['Add --out report.html (or pipe stdout to a file).']})
    }
    const report = await runAssess({
      ...(flags.config === undefined ? {} : {configPath: flags.config}),
      ...(flags['from-ddl'] === undefined ? {} : {fromDdl: resolve(flags['from-ddl'])}),
      ...(flags['source-engine'] === undefined ? {} : {sourceEngine: flags['source-engine']}),
      ...(flags['target-flavor'] === undefined ? {} : {targetFlavor: flags['target-flavor']}),
      sample: flags.sample,
      payctlVersion: this.config.version,
      cwd: process.cwd(),
      signal: this.signal,
      progress: (m) => this.logger.info(m),
      warn: (m) => this.warnLater(m),
    })
    const text = renderReport(report, flags.format)
    if (flags.out !== undefined) {
      await writeFile(flags.out, `${redact(text)}\n`)
      this.logger.info(`wrote ${flags.format} report to ${flags.out}`)
    } else this.out(text)
    if (flags['fail-on'] !== undefined) {
      const verdict = failOnResult(report, flags['fail-on'])
      if (verdict.met) {
        throw new CheckFailedError('PAYCTL_ASSESS_FAILED', `${verdict.count} finding${verdict.count === 1 ? '' : 's'} at or above --fail-on ${flags['fail-on']}: ${verdict.rules.join(', ')}.`, {
          actions: ['Fix the findings listed in the report (each says what to change), or rerun without --fail-on.'],
          data: {failOn: flags['fail-on'], count: verdict.count, rules: verdict.rules, ...(this.jsonEnabled() && flags.out === undefined ? {report} : {})},
        })
      }
    }
    return report
  }
}
