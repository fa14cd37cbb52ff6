import {mkdir, mkdtemp, rm, utimes, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {ExitCode} from '../../../src/cli/errors.js'
import {BUILT_ENTRY, chooseRuntimeEntry, type EntryFacts, findRuntimeEntry, SOURCE_ENTRY} from '../../../src/runtime-manager/index.js'

const ROOT = '/opt/payctl'
const TSX = 'file:///opt/payctl/node_modules/tsx/dist/loader.mjs'
const facts = (f: Partial<EntryFacts>): EntryFacts => ({root: ROOT, builtMtimeMs: null, newestSourceMtimeMs: null, tsxLoader: TSX, ...f})

describe('chooseRuntimeEntry', () => {
  it('runs the build when it is newer than every source', () => {
    const e = chooseRuntimeEntry(facts({builtMtimeMs: 2000, newestSourceMtimeMs: 1000}))
    expect(e).toMatchObject({kind: 'built', path: join(ROOT, BUILT_ENTRY), command: process.execPath, args: [join(ROOT, BUILT_ENTRY)]})
  })

  it('runs the build of an installed package, which has no sources and no tsx', () => {
    expect(chooseRuntimeEntry(facts({builtMtimeMs: 1000, tsxLoader: null})).kind).toBe('built')
  })

  it('runs the TypeScript sources through tsx when the build is missing or older (development)', () => {
    const missing = chooseRuntimeEntry(facts({newestSourceMtimeMs: 1000}))
    expect(missing).toMatchObject({kind: 'source', path: join(ROOT, SOURCE_ENTRY), args: ['--import', TSX, join(ROOT, SOURCE_ENTRY)]})
    expect(missing.reason).toContain('does not exist')
    const stale = chooseRuntimeEntry(facts({builtMtimeMs: 1000, newestSourceMtimeMs: 2000}))
    expect(stale.kind).toBe('source')
    expect(stale.reason).toContain('newer')
  })

  it('falls back to a stale build when tsx is not installed, and says so', () => {
    const e = chooseRuntimeEntry(facts({builtMtimeMs: 1000, newestSourceMtimeMs: 2000, tsxLoader: null}))
    expect(e.kind).toBe('built')
    expect(e.reason).toContain('tsx is not installed')
  })

  it('fails with exit 3 and how to build when there is nothing to run', () => {
    expect(() => chooseRuntimeEntry(facts({tsxLoader: null}))).toThrow(expect.objectContaining({code: 'PAYCTL_RUNTIME_MISSING', exitCode: ExitCode.environment}))
    expect(() => chooseRuntimeEntry(facts({newestSourceMtimeMs: 5, tsxLoader: null}))).toThrow(/npm run build|not built/)
  })

  it('lets PAYCTL_RUNTIME_ENTRY win, through tsx when it is TypeScript', () => {
    expect(chooseRuntimeEntry(facts({builtMtimeMs: 9, override: '/x/main.mjs'}))).toMatchObject({kind: 'override', args: ['/x/main.mjs']})
    expect(chooseRuntimeEntry(facts({override: '/x/main.ts'})).args).toEqual(['--import', TSX, '/x/main.ts'])
    expect(chooseRuntimeEntry(facts({builtMtimeMs: 9, override: ''})).kind).toBe('built')
  })
})

describe('findRuntimeEntry', () => {
  let root: string | undefined
  afterEach(async () => {
    if (root !== undefined) await rm(root, {recursive: true, force: true})
  })

  async function tree(files: Record<string, number>): Promise<string> {
    root = await mkdtemp(join(tmpdir(), 'payctl-entry-'))
    for (const [file, mtimeSeconds] of Object.entries(files)) {
      await mkdir(join(root, file, '..'), {recursive: true})
      await writeFile(join(root, file), '')
      await utimes(join(root, file), mtimeSeconds, mtimeSeconds)
    }
    return root
  }

  it('compares the build with the newest source file of runtime/src and src', async () => {
    const dir = await tree({[BUILT_ENTRY]: 2000, [SOURCE_ENTRY]: 1000, 'src/config/schema.ts': 1500})
    expect((await findRuntimeEntry(dir, {})).kind).toBe('built')
    await utimes(join(dir, 'src/config/schema.ts'), 3000, 3000)
    expect((await findRuntimeEntry(dir, {})).kind).toBe('source')
  })

  it('runs the build when the sources are not shipped', async () => {
    const dir = await tree({[BUILT_ENTRY]: 1000, 'src/config/schema.ts': 3000})
    expect((await findRuntimeEntry(dir, {})).kind).toBe('built')
  })

  it('reads PAYCTL_RUNTIME_ENTRY from the environment it is given', async () => {
    const dir = await tree({[BUILT_ENTRY]: 1000})
    expect(await findRuntimeEntry(dir, {PAYCTL_RUNTIME_ENTRY: '/x/stand-in.mjs'})).toMatchObject({kind: 'override', path: '/x/stand-in.mjs'})
  })
})
