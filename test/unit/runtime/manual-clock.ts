/** A RoutingClock the test moves by hand: timers fire in order when their time is passed. */
import type {RoutingClock} from '../../../runtime/src/data/routing-state.js'

export class ManualClock implements RoutingClock {
  #now = 0
  #timers: Array<{at: number; seq: number; fn: () => void}> = []
  #seq = 0

  now(): number {
    return this.#now
  }

  after(ms: number, fn: () => void): () => void {
    const timer = {at: this.#now + ms, seq: this.#seq++, fn}
    this.#timers.push(timer)
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer)
    }
  }

  /** Pending timers (not yet fired, not cancelled). */
  get pending(): number {
    return this.#timers.length
  }

  advance(ms: number): void {
    const until = this.#now + ms
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= until).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (due === undefined) break
      this.#timers = this.#timers.filter((t) => t !== due)
      this.#now = due.at
      due.fn()
    }
    this.#now = until
  }
}
