// Both DDL readers on 300 random mutations of each fixture (deterministic PRNG): deleted, duplicated and swapped token ranges, truncations. They must never throw, and every not-assessed line must exist in the mutated script.
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import type {DdlReader} from '../../../src/engines/ddl-reader.js'
import {readMysqlDump} from '../../../src/engines/mysql/mysql-ddl-reader.js'
import {readTsqlScript} from '../../../src/engines/sqlserver/sqlserver-ddl-reader.js'

const fixture = (name: string): string => readFileSync(path.resolve(import.meta.dirname, '../../fixtures/ddl', name), 'utf8')

/** mulberry32: small, fast, and the same sequence on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Cuts the script at word/punctuation boundaries so mutations move whole tokens (and sometimes split quotes and brackets). */
function pieces(script: string): string[] {
  return script.split(/(?<=[\s,;()[\]'"`])|(?=[\s,;()[\]'"`])/)
}

function mutate(script: string, random: () => number): string {
  let parts = pieces(script)
  const steps = 1 + Math.floor(random() * 4)
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(random() * parts.length)
    const len = 1 + Math.floor(random() * 12)
    switch (Math.floor(random() * 4)) {
      case 0:
        parts.splice(at, len)
        break
      case 1:
        parts.splice(at, 0, ...parts.slice(at, at + len))
        break
      case 2: {
        const other = Math.floor(random() * parts.length)
        const a = parts.slice(at, at + len)
        const b = parts.slice(other, other + len)
        parts.splice(at, a.length, ...b)
        parts.splice(other, b.length, ...a)
        break
      }
      default:
        parts = pieces(parts.join('').slice(0, Math.floor(random() * parts.join('').length)))
    }
  }
  return parts.join('')
}

const cases: [string, DdlReader, string[]][] = [
  ['readTsqlScript', readTsqlScript, ['ssms-payments.sql', 'nasty.sql']],
  ['readMysqlDump', readMysqlDump, ['mariadb-dump-payments.sql', 'mysql8-dump-extras.sql']],
]

describe.each(cases)('%s on mutated fixtures', (_name, reader, files) => {
  it.each(files)('never throws on 300 mutations of %s', (file) => {
    const original = fixture(file)
    const random = prng(file.length * 7919)
    for (let k = 0; k < 300; k++) {
      const script = mutate(original, random)
      const lines = script.split('\n').length
      let result
      try {
        result = reader(script, {})
      } catch (err) {
        throw new Error(`mutation ${k} of ${file} threw: ${String(err)}`, {cause: err})
      }
      for (const n of result.notAssessed) {
        expect(n.line, `mutation ${k} of ${file}: ${n.reason}`).toBeGreaterThanOrEqual(1)
        expect(n.line, `mutation ${k} of ${file}: ${n.reason}`).toBeLessThanOrEqual(lines)
        expect(n.text.length).toBeLessThanOrEqual(200)
      }
      expect(result.statements).toBeGreaterThanOrEqual(0)
    }
  })

  it('reads an empty script as an empty model', () => {
    const r = reader('', {database: 'x'})
    expect([r.model.tables, r.notAssessed, r.statements]).toEqual([[], [], 0])
  })
})
