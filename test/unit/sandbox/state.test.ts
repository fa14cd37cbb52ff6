import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {ExitCode, PayctlError} from '../../../src/cli/errors.js'
import {readSandboxState} from '../../../src/sandbox/state.js'

describe('readSandboxState', () => {
  let base: string
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'payctl-state-'))
  })
  afterEach(async () => {
    await rm(base, {recursive: true, force: true})
  })

  it('returns null for a folder that holds no sandbox', async () => {
    expect(await readSandboxState(join(base, 'missing'))).toBeNull()
  })

  it('--dir naming a file (or a path through one) is a usage error naming the path, not a bug', async () => {
    const file = join(base, 'a-file')
    await writeFile(file, 'x')
    for (const dir of [file, join(file, 'sub')]) {
      const err = await readSandboxState(dir).then(
        () => null,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(PayctlError)
      expect(err).toMatchObject({code: 'PAYCTL_SANDBOX_DIR_INVALID', exitCode: ExitCode.usage})
      expect((err as PayctlError).message).toContain(file)
    }
  })
})

describe('acquireLock', () => {
  it('a sandbox folder that cannot be written is an environment error, not a bug', async () => {
    const {acquireLock} = await import('../../../src/sandbox/state.js')
    // a path under a file gives ENOTDIR whoever runs the test (root ignores read-only modes)
    const base = await mkdtemp(join(tmpdir(), 'payctl-lock-'))
    try {
      await writeFile(join(base, 'f'), 'x')
      await expect(acquireLock(join(base, 'f'))).rejects.toMatchObject({code: 'PAYCTL_SANDBOX_DIR_INVALID', exitCode: ExitCode.usage})
    } finally {
      await rm(base, {recursive: true, force: true})
    }
  })
})
