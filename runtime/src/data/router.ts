/**
 * Which database a query goes to. Today one side serves everything; the traffic-shift work
 * replaces this with a router that reads the versioned routing state (reads per routing key,
 * writes to one side, sticky per payment). Every query in the service asks the router, never a
 * pool directly, so that change stays inside this file.
 */
import type {Db, Side} from './db.js'

export interface DbRouter {
  /** The side that takes writes (and reads that must see them). */
  writer(): Db
  /** The side for a read; the key (a customer or payment id) keeps one payment's reads on one side. */
  reader(routingKey?: string): Db
  /** Every side with an open pool (readiness, pool metrics, shutdown). */
  sides(): Db[]
  close(): Promise<void>
}

export class SingleSideRouter implements DbRouter {
  constructor(private readonly db: Db) {}

  get side(): Side {
    return this.db.side
  }

  writer(): Db {
    return this.db
  }

  reader(_routingKey?: string): Db {
    return this.db
  }

  sides(): Db[] {
    return [this.db]
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
