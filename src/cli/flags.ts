/** Flags shared by several commands. Every flag can also come from a PAYCTL_* environment variable. */
import {Flags} from '@oclif/core'

import {UsageError} from './errors.js'

export const configFlag = Flags.string({
  char: 'c',
  env: 'PAYCTL_CONFIG',
  summary: 'Path to payctl.yaml (YAML or JSON).',
  description:
    'Default: ./payctl.yaml, ./payctl.yml or ./payctl.json, else the local sandbox\'s .payctl/sandbox/payctl.yaml.',
  helpValue: 'FILE',
})

export const sandboxDirFlag = Flags.string({
  char: 'd',
  env: 'PAYCTL_SANDBOX_DIR',
  summary: 'Folder of the local sandbox (data, sockets, logs, secrets, payctl.yaml).',
  default: '.payctl/sandbox',
  helpValue: 'DIR',
})

/**
 * A comma-separated list flag (`--tables a, b`). Given but naming nothing (`--tables ' , '`) is a
 * usage error: an empty list would silently select nothing and look like an empty database.
 */
export function parseNameList(flag: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const names = value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
  if (names.length === 0) {
    throw new UsageError('PAYCTL_USAGE', `${flag} names no table (got "${value}").`, {actions: [`Give ${flag} one or more names separated by commas, e.g. ${flag} payment_intents,refunds; or leave it out for every table.`]})
  }
  return names
}
