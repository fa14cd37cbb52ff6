import {Flags} from '@oclif/core'
import {PayctlCommand} from '../cli/base-command.js'
import {configFlag, parseNameList} from '../cli/flags.js'
import {renderObjects, renderServer, renderTableDetail, renderTableList} from '../cli/render-schema.js'
import {findConfigPath, loadConfig, resolveConnection} from '../config/index.js'
import type {SchemaModel} from '../engines/model.js'
import {withEngine} from '../engines/open.js'

export type InspectResult = SchemaModel & {side: 'source' | 'target'}

export default class Inspect extends PayctlCommand<InspectResult> {
  static override summary = 'Print the introspected schema of the source or the target.'
  static override description =
    'Reads the catalog (information_schema on the MySQL family, sys.* on SQL Server) and prints the server, its change-capture settings, and every table with exact column types, keys, indexes, foreign keys and sizes.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --side source',
    '<%= config.bin %> <%= command.id %> --side target --tables payment_intents,refunds',
    '<%= config.bin %> <%= command.id %> --side source --summary',
    '<%= config.bin %> <%= command.id %> --side source --json | jq \'.result.tables[].name\'',
  ]
  static override flags = {
    config: configFlag,
    side: Flags.option({options: ['source', 'target'] as const, required: true, env: 'PAYCTL_SIDE', summary: 'Which database to inspect.'})(),
    tables: Flags.string({
      env: 'PAYCTL_TABLES',
      summary: 'Only these tables (comma-separated names or schema.name).',
      helpValue: 'T1,T2',
    }),
    summary: Flags.boolean({env: 'PAYCTL_SUMMARY', summary: 'Only the server and the table list, without per-table column detail.'}),
  }

  async run(): Promise<InspectResult> {
    const {flags} = await this.parse(Inspect)
    const tables = parseNameList('--tables', flags.tables)
    const loaded = await loadConfig(findConfigPath(flags.config, process.cwd()))
    const connection = await resolveConnection(flags.side, loaded)
    this.logger.debug(`inspecting the ${flags.side} (config ${loaded.path})`)
    const model = await withEngine(connection, this.signal, (engine) => engine.introspect({...(tables ? {tables} : {}), signal: this.signal}))
    this.out(renderServer(model))
    this.out(renderTableList(model))
    if (!flags.summary) {
      for (const t of model.tables) this.out(`\n${renderTableDetail(t)}`)
      this.out(`\n${renderObjects(model)}`)
    }
    return {side: flags.side, ...model}
  }
}
