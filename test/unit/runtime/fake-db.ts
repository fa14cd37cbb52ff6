/** A Db without a server: answers each statement by its op from a table the test fills (and changes). */
import type {Db, PoolStats, Queryable, Side} from '../../../runtime/src/data/db.js'
import type {Statement} from '../../../src/engines/payments-sql.js'

export class FakeDb implements Db {
  readonly calls: string[] = []
  /** Rows per op; a function may throw to simulate a failing side, or return a promise that never settles. */
  answers = new Map<string, unknown[] | (() => Promise<unknown[]>)>()
  closed = false

  constructor(readonly side: Side) {}

  async query<T>(stmt: Statement): Promise<T[]> {
    this.calls.push(stmt.op)
    const a = this.answers.get(stmt.op)
    if (typeof a === 'function') return (await a()) as T[]
    return (a ?? []) as T[]
  }

  async execute(stmt: Statement): Promise<number> {
    this.calls.push(stmt.op)
    return Promise.resolve(1)
  }

  async insert(stmt: Statement): Promise<string> {
    this.calls.push(stmt.op)
    return Promise.resolve('1')
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    this.calls.push('BEGIN')
    const result = await fn(this)
    this.calls.push('COMMIT')
    return result
  }

  poolStats(): PoolStats {
    return {total: 0, idle: 0, waiting: 0}
  }

  setObserver(): void {}

  close(): Promise<void> {
    this.closed = true
    return Promise.resolve()
  }
}

export const stmt = (op: string, ...params: unknown[]): Statement => ({kind: 'query', sql: `SELECT /* ${op} */ 1`, params, op})
