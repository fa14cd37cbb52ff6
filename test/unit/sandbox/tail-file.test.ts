import {appendFile, mkdtemp, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {describe, expect, it} from 'vitest'

import {tailFile} from '../../../src/sandbox/server.js'

describe('tailFile', () => {
  it('quotes only what was written after an offset: an appended log must not blame this start on an earlier run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payctl-tail-'))
    try {
      const log = join(dir, 'error.log')
      await writeFile(log, 'old: [ERROR] Can\'t start server: Bind on TCP/IP port: Address already in use\n')
      const offset = (await stat(log)).size
      await appendFile(log, 'new: [ERROR] InnoDB: the data directory is damaged\n')
      expect(await tailFile(log, 15, offset)).toBe('new: [ERROR] InnoDB: the data directory is damaged')
      expect(await tailFile(log)).toContain('old:')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
