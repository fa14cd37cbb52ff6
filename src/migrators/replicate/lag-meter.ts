/**
 * Change lag of one stream: the capture side's position is sampled (every 250 ms by replicate);
 * lag is the age of the oldest sample the applier has not reached yet, 0 when it has reached them
 * all. Measured on this machine's clock only, so the servers' clocks never have to agree.
 */
import {type CapturePosition, comparePositions} from '../../engines/replication.js'

export class LagMeter {
  readonly #samples: Array<{position: CapturePosition; at: number}> = []
  #latest: CapturePosition | null = null

  /** The capture side's position at the last sample. */
  get latest(): CapturePosition | null {
    return this.#latest
  }

  sample(position: CapturePosition, at = Date.now()): void {
    this.#latest = position
    const last = this.#samples.at(-1)
    if (last === undefined || comparePositions(last.position, position) !== 0) this.#samples.push({position, at})
  }

  lagSeconds(applied: CapturePosition, now = Date.now()): number {
    while (this.#samples.length > 0 && comparePositions(this.#samples[0]?.position ?? applied, applied) <= 0) this.#samples.shift()
    const oldest = this.#samples[0]
    return oldest === undefined ? 0 : Math.max(0, now - oldest.at) / 1000
  }
}
