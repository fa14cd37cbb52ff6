/**
 * Deterministic randomness for the sandbox data set. The generator is pure 32-bit integer
 * arithmetic (no Math.random), so a seed gives the same sequence everywhere. The few derived
 * values that go through Math.log/exp/cos/pow (amounts, which customer pays) use V8's fdlibm
 * port, which gives the same bits on every platform.
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** splitmix32: spreads a 32-bit seed over the state words. */
function splitmix32(state: {x: number}): number {
  state.x = (state.x + 0x9e3779b9) | 0
  let z = state.x
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator): 128-bit state, passes PractRand. */
export class Prng {
  #a: number
  #b: number
  #c: number
  #d: number

  /** `seed` is any safe integer; both 32-bit halves feed the state. */
  constructor(seed: number, stream = 0) {
    const lo = seed >>> 0
    const hi = Math.floor(seed / 0x1_0000_0000) >>> 0
    const s = {x: (lo ^ Math.imul(hi, 0x27d4eb2d) ^ Math.imul(stream + 1, 0x165667b1)) | 0}
    this.#a = splitmix32(s)
    this.#b = splitmix32(s)
    this.#c = splitmix32(s)
    this.#d = 1
    for (let i = 0; i < 15; i++) this.u32()
  }

  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return t >>> 0
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.u32() / 0x1_0000_0000
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1))
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }

  /** Picks by weight: [[value, weight], ...]. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0
    for (const [, w] of choices) total += w
    let r = this.next() * total
    for (const [value, w] of choices) {
      if (r < w) return value
      r -= w
    }
    const last = choices[choices.length - 1]
    if (last === undefined) throw new Error('weighted pick from an empty list')
    return last[0]
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i += 4) {
      const x = this.u32()
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (x >>> (8 * k)) & 0xff
    }
    return out
  }

  base62(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += BASE62[this.u32() % 62]
    return s
  }

  digits(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += String(this.u32() % 10)
    return s
  }

  hex(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += (this.u32() & 15).toString(16)
    return s
  }
}

function mix32(x: number, key: number): number {
  let z = (x ^ key) | 0
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d)
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b)
  return (z ^ (z >>> 16)) >>> 0
}

function base62Fixed(x: number, width: number): string {
  let s = ''
  let v = x
  for (let i = 0; i < width; i++) {
    s += BASE62[v % 62]
    v = Math.floor(v / 62)
  }
  return s
}

/**
 * Public ids ("pi_3Kx...") derived from the numeric id: a 4-round Feistel permutation of the
 * 64-bit (salt, id) pair keyed by the seed is a bijection, so ids never collide, look random, and
 * need no memory to be looked up again (a refund can name its payment intent's public id).
 */
export class PublicIds {
  readonly #keys: number[]

  constructor(seed: number) {
    const rng = new Prng(seed, 0x5eed)
    this.#keys = [rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32(), rng.u32()]
  }

  make(prefix: string, salt: number, id: number, length: number): string {
    const k = this.#keys
    let left = salt >>> 0
    let right = id >>> 0
    for (let round = 0; round < 4; round++) {
      const next = (left ^ mix32(right, k[round] ?? 0)) >>> 0
      left = right
      right = next
    }
    // 12 characters carry the 64-bit permutation (unique); the rest only pad to the usual length.
    let body = base62Fixed(left, 6) + base62Fixed(right, 6)
    let filler = mix32(left ^ right, k[4] ?? 0)
    while (body.length < length) {
      body += base62Fixed(filler, 5)
      filler = mix32(filler, k[5] ?? 0)
    }
    return `${prefix}_${body.slice(0, Math.max(length, 12))}`
  }
}
