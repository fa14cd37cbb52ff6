import {PayctlCommand} from '../../cli/base-command.js'
import {configFlag} from '../../cli/flags.js'
import {ConfigInvalidError, findConfigPath, readConfigFile} from '../../config/index.js'

export interface ConfigValidateResult {
  path: string
  valid: true
  source: SideSummary
  target: SideSummary
}

interface SideSummary {
  engine: string
  endpoint: string
  database: string
  user: string
  password: string | null
}

export default class ConfigValidate extends PayctlCommand<ConfigValidateResult> {
  static override summary = 'Check payctl.yaml against its schema and list every problem.'
  static override description =
    'Reports every problem at once, each with its path in the file and what was expected: wrong types, unknown keys, missing keys, and literal secrets (passwords must be references: env:NAME, file:PATH or aws-secretsmanager:ARN). Exit 2 when there is any problem. Secrets are not resolved or printed.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --config payctl.yaml',
    '<%= config.bin %> <%= command.id %> --config payctl.yaml --json',
  ]
  static override flags = {config: configFlag}

  async run(): Promise<ConfigValidateResult> {
    const {flags} = await this.parse(ConfigValidate)
    const file = await readConfigFile(findConfigPath(flags.config, process.cwd()))
    if (file.issues.length > 0 || file.config === undefined) throw new ConfigInvalidError(file.path, file.issues)
    const side = (s: typeof file.config.source): SideSummary => ({
      engine: s.engine + (s.flavor ? ` (${s.flavor})` : ''),
      endpoint: s.socket ?? `${s.host ?? ''}:${s.port ?? ''}`,
      database: s.database,
      user: s.user,
      password: s.password ?? null,
    })
    const result: ConfigValidateResult = {path: file.path, valid: true, source: side(file.config.source), target: side(file.config.target)}
    this.out(`${file.path} is valid.`)
    this.out(`  source: ${result.source.engine} ${result.source.endpoint} database ${result.source.database}, password ${result.source.password ?? 'none'}`)
    this.out(`  target: ${result.target.engine} ${result.target.endpoint} database ${result.target.database}, password ${result.target.password ?? 'none'}`)
    return result
  }
}
