/**
 * A FIFO of row changes that keeps the first `memoryLimit` in memory and appends the rest to a file
 * (JSON lines, Buffers as {"$b64": ...}), so the changes held back while a large table is copied
 * never grow the process's memory with the table's write rate. Drained once, in order.
 */
import {createReadStream} from 'node:fs'
import {appendFile, mkdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import type {RowChange} from '../../engines/replication.js'

function encode(change: RowChange): string {
  return JSON.stringify(change, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && (value as {type?: unknown}).type === 'Buffer' && Array.isArray((value as {data?: unknown}).data)) {
      return {$b64: Buffer.from((value as {data: number[]}).data).toString('base64')}
    }
    return value
  })
}

function decode(line: string): RowChange {
  return JSON.parse(line, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && '$b64' in value) return Buffer.from(String((value).$b64), 'base64')
    return value
  }) as RowChange
}

export class SpillBuffer {
  #memory: RowChange[] = []
  #spilled = 0
  #pendingLines: string[] = []
  #count = 0

  constructor(
    private readonly dir: string,
    private readonly name: string,
    private readonly memoryLimit = 20_000,
  ) {}

  get size(): number {
    return this.#count
  }

  get spilled(): number {
    return this.#spilled
  }

  #file(): string {
    return join(this.dir, `${this.name.replaceAll(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`)
  }

  async push(change: RowChange): Promise<void> {
    this.#count++
    if (this.#spilled === 0 && this.#memory.length < this.memoryLimit) {
      this.#memory.push(change)
      return
    }
    this.#spilled++
    this.#pendingLines.push(encode(change))
    if (this.#pendingLines.length >= 1000) await this.#flush()
  }

  async #flush(): Promise<void> {
    if (this.#pendingLines.length === 0) return
    await mkdir(this.dir, {recursive: true})
    const text = this.#pendingLines.join('\n') + '\n'
    this.#pendingLines = []
    await appendFile(this.#file(), text)
  }

  /** Every change in the order pushed, in batches of up to `size`; the buffer is empty afterwards. */
  async *drain(size: number): AsyncGenerator<RowChange[]> {
    const memory = this.#memory
    this.#memory = []
    for (let i = 0; i < memory.length; i += size) yield memory.slice(i, i + size)
    if (this.#spilled > 0) {
      await this.#flush()
      const lines = createInterface({input: createReadStream(this.#file()), crlfDelay: Number.POSITIVE_INFINITY})
      let batch: RowChange[] = []
      for await (const line of lines) {
        if (line === '') continue
        batch.push(decode(line))
        if (batch.length >= size) {
          yield batch
          batch = []
        }
      }
      if (batch.length > 0) yield batch
      await rm(this.#file(), {force: true})
    }
    this.#spilled = 0
    this.#count = 0
  }

  async discard(): Promise<void> {
    this.#memory = []
    this.#pendingLines = []
    this.#spilled = 0
    this.#count = 0
    await rm(this.#file(), {force: true})
  }
}
