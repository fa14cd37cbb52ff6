/**
 * Concurrent writers on the sandbox's legacy source, straight in SQL: seeded transactions of
 * inserts, updates (including JSON, DECIMAL, DATETIME(6) and NULL changes) and deletes on tables
 * with single and composite keys, as a busy payment database sees from its janitors and back
 * office next to the API. Used with the runtime's load to exercise replication under live writes.
 */
import mysql, {type Pool} from 'mysql2/promise'
import {Prng} from '../../src/sandbox/prng.js'
import type {SandboxEndpoint} from './sandbox-context.js'

export interface SourceWriters {
  /** Transactions committed so far. */
  readonly committed: number
  stop(): Promise<void>
}

export function startSourceWriters(endpoint: SandboxEndpoint, seed: number, concurrency = 3): SourceWriters {
  const pool: Pool = mysql.createPool({host: endpoint.host, port: endpoint.port, user: endpoint.user, password: endpoint.password, database: endpoint.database, connectionLimit: concurrency, dateStrings: true, supportBigNumbers: true, bigNumberStrings: true})
  let stopped = false
  let committed = 0
  // intents the payment API creates while the writers run are its own: an update from here (which
  // zeroes amount_capturable) between its confirm and its capture would fail the API's request
  let oldIntents: Promise<number> | null = null
  const loops = Array.from({length: concurrency}, (_, i) => loop(new Prng(seed, i)))

  async function one(rng: Prng): Promise<void> {
    const conn = await pool.getConnection()
    const maxId = async (table: string): Promise<number> => {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT COALESCE(MAX(id), 0) AS m FROM ${table}`)
      return Number(rows[0]?.m ?? 0)
    }
    try {
      await conn.beginTransaction()
      const ops = rng.int(1, 4)
      for (let i = 0; i < ops; i++) {
        const pick = rng.int(0, 9)
        const customers = await maxId('customers')
        oldIntents ??= maxId('payment_intents')
        const intents = await oldIntents
        const outbox = await maxId('outbox_events')
        if (pick === 0) {
          await conn.query('INSERT INTO customers (public_id, email, name, country, preferred_currency, metadata) VALUES (?, ?, ?, ?, ?, ?)', [
            `cus_w${seed}_${rng.u32().toString(36)}${rng.u32().toString(36)}`,
            `w${rng.u32()}@example.com`,
            rng.chance(0.3) ? null : `Writer ${rng.u32()}`,
            'DE',
            'EUR',
            JSON.stringify({src: 'writer', n: rng.int(1, 999)}),
          ])
        } else if (pick === 1) {
          await conn.query('UPDATE customers SET email = ?, name = NULL, metadata = JSON_SET(COALESCE(metadata, JSON_OBJECT()), "$.touched", ?) WHERE id = ?', [`u${rng.u32()}@example.org`, rng.int(1, 1e6), rng.int(1, customers)])
        } else if (pick === 2) {
          await conn.query('UPDATE payment_intents SET description = ?, amount_capturable = 0, version = version + 1, updated_at = UTC_TIMESTAMP(6) WHERE id = ?', [
            rng.chance(0.2) ? '' : rng.chance(0.5) ? `desc ${rng.u32()} ünïcödé` : `tab\there\nline "q" back\\slash ${rng.u32()}`,
            rng.int(1, intents),
          ])
        } else if (pick === 3) {
          await conn.query('DELETE FROM outbox_events WHERE id = ?', [rng.int(1, outbox)])
        } else if (pick === 4) {
          await conn.query('UPDATE outbox_events SET published_at = UTC_TIMESTAMP(6) WHERE published_at IS NULL AND id >= ? ORDER BY id LIMIT 3', [rng.int(1, outbox)])
        } else if (pick === 5) {
          await conn.query('INSERT INTO outbox_events (aggregate_type, aggregate_id, event_type, payload) VALUES (?, ?, ?, ?)', ['payment_intent', `pi_w${rng.u32()}`, 'payment_intent.updated', JSON.stringify({amount: `${rng.int(1, 99999)}.${rng.int(10, 99)}00`, tags: ['w', seed]})])
        } else if (pick === 6) {
          await conn.query(
            'INSERT INTO idempotency_keys (scope, idem_key, request_method, request_path, request_hash, response_code, created_at, expires_at) VALUES (?, ?, ?, ?, UNHEX(SHA2(?, 256)), 200, UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) + INTERVAL 1 DAY)',
            ['writer', `k-${rng.u32()}-${rng.u32()}`, 'POST', '/v1/writer', String(rng.u32())],
          )
        } else if (pick === 7) {
          // the janitor: expired-looking keys go away (composite primary key)
          await conn.query('DELETE FROM idempotency_keys ORDER BY created_at LIMIT 1')
        } else if (pick === 8) {
          await conn.query('UPDATE ledger_entries SET created_at = created_at + INTERVAL 1 MICROSECOND WHERE txn_id = ? AND entry_no = 1', [rng.int(1, 500)])
        } else {
          await conn.query('UPDATE wallets SET balance = balance + ?, version = version + 1 WHERE id = ?', [`${rng.int(0, 50)}.${rng.int(0, 9999)}`, rng.int(1, 50)])
        }
      }
      if (rng.chance(0.05)) await conn.rollback()
      else {
        await conn.commit()
        committed++
      }
    } catch (err) {
      await conn.rollback().catch(() => undefined)
      // lock waits, deadlocks and a random key drawn twice are part of a busy database: go on with the next transaction
      const code = (err as {code?: string}).code
      if (code !== 'ER_LOCK_DEADLOCK' && code !== 'ER_LOCK_WAIT_TIMEOUT' && code !== 'ER_DUP_ENTRY') throw err
    } finally {
      conn.release()
    }
  }

  async function loop(rng: Prng): Promise<void> {
    while (!stopped) await one(rng)
  }

  return {
    get committed() {
      return committed
    },
    async stop() {
      stopped = true
      await Promise.all(loops)
      await pool.end()
    },
  }
}
