/**
 * Public ids (cus_, pm_, pi_, re_, wal_, tok_) from the OS CSPRNG: 24 base62 characters is about
 * 143 bits, so ids are unguessable and a collision is not a practical concern (the columns are
 * UNIQUE anyway, so one would fail loudly instead of mixing two objects).
 */
import {randomBytes} from 'node:crypto'
import {luhnValid} from '../../../src/cli/redact.js'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

export function base62(length: number): string {
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // rejection sampling: 248 = 4 * 62, so every character is equally likely
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62]
    }
  }
  return out
}

export type IdPrefix = 'cus' | 'pm' | 'pi' | 're' | 'wal' | 'tok' | 'ch' | 're_sim' | 'wtx' | 'wtu'

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${base62(24)}`
}

/**
 * A ledger transaction id. ledger_entries.txn_id has no sequence of its own and several instances
 * write concurrently, so it is random: 62 bits, at least 2^40 (above the generator's sequential
 * ids). Returned as a decimal string: it does not fit a JS number exactly. Such ids are 13-19
 * digits, so one in ten would pass the Luhn check and look like a card number to every PAN scanner
 * (and to the log redactor): those are drawn again.
 */
export function newLedgerTxnId(): string {
  for (;;) {
    const n = randomBytes(8).readBigUInt64BE() >> 2n
    const text = (n < 1n << 40n ? n + (1n << 40n) : n).toString()
    if (!luhnValid(text)) return text
  }
}
