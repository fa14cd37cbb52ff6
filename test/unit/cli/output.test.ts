import {describe, expect, test} from 'vitest'
import {createLogger} from '../../../src/cli/logger.js'
import {formatBytes, formatDuration, table} from '../../../src/cli/output.js'
import {registerSecret} from '../../../src/cli/redact.js'

describe('output', () => {
  test('table renders headers and rows without colour codes when asked', () => {
    const out = table([{n: 'a', v: 1200}], [{header: 'name', get: (r) => r.n}, {header: 'value', get: (r) => r.v, align: 'right'}], {colour: false})
    expect(out).toContain('name')
    expect(out).toContain('1,200')
    expect(out).not.toContain('\u001b[')
  })

  test('formats bytes and durations', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB')
    expect(formatDuration(250)).toBe('250 ms')
    expect(formatDuration(12_340)).toBe('12.3 s')
    expect(formatDuration(125_000)).toBe('2m05s')
  })
})

describe('logger', () => {
  test('filters by level and redacts every line', () => {
    registerSecret('Log-secret-991')
    const lines: string[] = []
    const log = createLogger({level: 'info', write: (l) => lines.push(l)})
    log.debug('hidden')
    log.info('connecting with Log-secret-991')
    log.warn('careful')
    expect(lines).toEqual(['connecting with ********\n', 'warn: careful\n'])
  })
})
