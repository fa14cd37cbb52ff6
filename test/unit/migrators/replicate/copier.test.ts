import {mkdtemp, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {decodeKey, encodeKey} from '../../../../src/control/replication-store.js'
import type {RowChange} from '../../../../src/engines/replication.js'
import {DEFAULT_CHUNK_SIZING, nextChunkRows, planSegments} from '../../../../src/migrators/replicate/copier.js'
import {SpillBuffer} from '../../../../src/migrators/replicate/spill-buffer.js'

describe('chunk sizing', () => {
  it('grows fast chunks and shrinks slow ones toward the target time, within bounds', () => {
    expect(nextChunkRows(2000, 250, DEFAULT_CHUNK_SIZING)).toBe(4000)
    expect(nextChunkRows(2000, 10, DEFAULT_CHUNK_SIZING)).toBe(4000)
    expect(nextChunkRows(2000, 5000, DEFAULT_CHUNK_SIZING)).toBe(1000)
    expect(nextChunkRows(2000, 400, DEFAULT_CHUNK_SIZING)).toBe(2500)
    expect(nextChunkRows(300, 5000, DEFAULT_CHUNK_SIZING)).toBe(DEFAULT_CHUNK_SIZING.minRows)
    expect(nextChunkRows(40_000, 1, DEFAULT_CHUNK_SIZING)).toBe(DEFAULT_CHUNK_SIZING.maxRows)
    // wide rows: no more than maxBytes per chunk
    expect(nextChunkRows(2000, 10, DEFAULT_CHUNK_SIZING, 4096)).toBe(512)
  })
})

describe('segments', () => {
  it('splits a large table on an integer first key into contiguous ranges', () => {
    const s = planSegments({min: ['1'], max: ['1000000']}, 1_000_000, 250_000, 8)
    expect(s).toEqual([
      {from: null, until: ['250001']},
      {from: ['250001'], until: ['500001']},
      {from: ['500001'], until: ['750001']},
      {from: ['750001'], until: null},
    ])
  })

  it('keeps small, empty and non-integer-keyed tables in one segment', () => {
    expect(planSegments({min: [1], max: [100]}, 100, 250_000, 8)).toEqual([{from: null, until: null}])
    expect(planSegments(null, 0, 250_000, 8)).toEqual([{from: null, until: null}])
    expect(planSegments({min: ['a'], max: ['z']}, 10_000_000, 250_000, 8)).toEqual([{from: null, until: null}])
    expect(planSegments({min: [1, 1], max: [10_000_000, 3]}, 10_000_000, 250_000, 4)).toHaveLength(4)
  })
})

describe('checkpoint keys', () => {
  it('round-trip binary and numeric key values', () => {
    const key = ['42', 7, Buffer.from('00ff', 'hex'), null]
    expect(decodeKey(encodeKey(key))).toEqual(key)
    expect(decodeKey(null)).toBeNull()
  })
})

describe('SpillBuffer', () => {
  it('keeps order across memory and disk, with binary values intact, and removes its file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'payctl-spill-test-'))
    try {
      const b = new SpillBuffer(dir, 'payments.t', 3)
      const changes: RowChange[] = Array.from({length: 2500}, (_, i) => ({op: i % 3 === 0 ? 'delete' : 'insert', schema: 's', table: 't', before: i % 3 === 0 ? {id: i} : null, after: i % 3 === 0 ? null : {id: i, bin: Buffer.from([i % 256]), s: `v${i}`}}))
      for (const c of changes) await b.push(c)
      expect(b.size).toBe(2500)
      expect(b.spilled).toBe(2497)
      const out: RowChange[] = []
      for await (const batch of b.drain(1000)) {
        expect(batch.length).toBeLessThanOrEqual(1000)
        out.push(...batch)
      }
      expect(out).toEqual(changes)
      expect(b.size).toBe(0)
      expect(await readdir(dir)).toEqual([])
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })
})
