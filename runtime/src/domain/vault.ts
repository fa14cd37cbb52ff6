/**
 * The card vault, simulated in process memory: token -> PAN. A real deployment keeps card
 * numbers in an external PCI-scoped vault (HSM-backed, its own audit) and only the token crosses
 * into this service; the in-memory map stands in for that boundary, so nothing here writes a PAN
 * to the database or a log. Because it is process-local, a token created on one instance cannot
 * be resolved on another: the simulated processor therefore decides outcomes from what the
 * database holds (BIN, last 4, keyed fingerprint), never from the vault, so any instance can
 * confirm a method saved through any other.
 */
import {newId} from './ids.js'

export interface Vault {
  /** Stores a PAN and returns its token. */
  tokenize(pan: string): string
  /** Whether this process holds the token (a real vault answers for every instance). */
  has(token: string): boolean
}

/** Bounded, so a long load test cannot grow the process without limit; the oldest cards go first. */
export class MemoryVault implements Vault {
  readonly #cards = new Map<string, string>()

  constructor(private readonly capacity = 100_000) {}

  tokenize(pan: string): string {
    const token = newId('tok')
    this.#cards.set(token, pan)
    if (this.#cards.size > this.capacity) {
      const oldest = this.#cards.keys().next()
      if (oldest.done !== true) this.#cards.delete(oldest.value)
    }
    return token
  }

  has(token: string): boolean {
    return this.#cards.has(token)
  }

  /** Never print the cards: util.inspect and JSON show the count only. */
  toJSON(): {cards: number} {
    return {cards: this.#cards.size}
  }
}
