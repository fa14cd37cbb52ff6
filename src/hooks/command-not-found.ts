/** `payctl <unknown>`: exit 2 with the nearest command names, as JSON too when --json was given. */
import type {Hook} from '@oclif/core'
import {reportError} from '../cli/base-command.js'
import {UsageError} from '../cli/errors.js'
import {editDistance} from '../cli/text.js'

const hook: Hook<'command_not_found'> = function (options) {
  const typed = options.id.replaceAll(':', ' ')
  const ids = options.config.commandIDs.map((id) => id.replaceAll(':', ' '))
  const near = ids
    .map((id) => ({id, d: editDistance(typed, id)}))
    .filter((x) => x.d <= Math.max(2, Math.floor(typed.length / 3)) || x.id.startsWith(typed))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.id)
  const error = new UsageError('PAYCTL_UNKNOWN_COMMAND', `"${typed}" is not a payctl command.`, {
    actions: [...(near.length > 0 ? [`Did you mean: ${near.map((n) => `payctl ${n}`).join(', ')}?`] : []), 'Run: payctl --help'],
  })
  const json = options.argv?.includes('--json') === true || process.env.PAYCTL_CONTENT_TYPE?.toLowerCase() === 'json'
  return Promise.reject(reportError(error, {json, verbose: false}))
}

export default hook
