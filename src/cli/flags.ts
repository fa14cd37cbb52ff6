/** Flags shared by several commands. Every flag can also come from a PAYCTL_* environment variable. */
import {Flags} from '@oclif/core'

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
