/**
 * Golden files: the expected text lives in test/fixtures/ddl-golden and is compared exactly.
 * UPDATE_GOLDEN=1 rewrites them instead (then review the diff by eye before committing).
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {expect} from 'vitest'

export const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../fixtures/ddl-golden')

export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name)
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, actual)
    return
  }
  if (!existsSync(file)) throw new Error(`Golden file ${file} is missing; run the tests with UPDATE_GOLDEN=1 to write it, then review it.`)
  expect(actual).toBe(readFileSync(file, 'utf8'))
}
