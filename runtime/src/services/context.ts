/**
 * What every service needs, handed in by buildApp (tests swap the clock and the processor), and
 * the one way services write an outbox event (same transaction as the change it announces).
 */
import type {Queries, Store} from '../data/store.js'
import type {Processor} from '../domain/processor.js'
import type {Vault} from '../domain/vault.js'

export interface Services {
  store: Store
  processor: Processor
  vault: Vault
  fingerprintKey: Buffer
  clock: () => Date
}

export async function outbox(q: Queries, aggregateType: string, aggregateId: string, eventType: string, data: Record<string, unknown>, now: Date): Promise<void> {
  await q.insertOutboxEvent({aggregateType, aggregateId, eventType, payload: JSON.stringify({type: eventType, ...data}), now})
}
