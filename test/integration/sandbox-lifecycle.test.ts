/**
 * The sandbox end to end with real mariadbd processes, in its own temporary folder and on
 * OS-chosen ports (so it never collides with a sandbox on 13306/13307 or the suite's shared one).
 */
import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {createConnection} from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {EnvironmentError, ExitCode, UsageError} from '../../src/cli/errors.js'
import {
  LEGACY_TABLES,
  readSandboxState,
  type SandboxProgress,
  type SandboxState,
  sandboxConnectionInfo,
  sandboxDown,
  sandboxStatus,
  sandboxUp,
} from '../../src/sandbox/index.js'

const SCALE = 0.01
const SEED = 3

/** Live processes whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<number[]> {
  const found: number[] = []
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes(needle)) found.push(Number(entry))
  }
  return found
}

/** A process that has exited but not yet been reaped (a zombie) counts as gone. */
async function alive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null)
  return stat === null ? process.platform !== 'linux' : !/^\d+ \(.*\) Z/s.test(stat)
}

async function connect(dir: string, server: 'legacy' | 'target') {
  const info = await sandboxConnectionInfo(dir, server)
  return createConnection({host: info.host, port: info.port, user: info.user, password: info.password.reveal(), database: info.database, dateStrings: true})
}

describe('sandbox lifecycle', () => {
  let dir: string
  let first: SandboxState
  const events: SandboxProgress[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'payctl-sandbox-it-'))
  })

  afterAll(async () => {
    await sandboxDown({dir, purge: true}).catch(() => undefined)
    await rm(dir, {recursive: true, force: true}) // the folder mkdtemp made, if the test failed before up
  })

  it('up creates, starts and loads two servers (and skips a preferred port that is taken)', async () => {
    const squatter = createServer()
    await new Promise<void>((done) => squatter.listen(0, '127.0.0.1', done))
    const busy = (squatter.address() as {port: number}).port
    try {
      first = await sandboxUp({dir, scale: SCALE, seed: SEED, ports: {legacy: busy, target: 0}, onProgress: (e) => events.push(e)})
    } finally {
      await new Promise((done) => squatter.close(done))
    }
    expect(first.servers.legacy.port).not.toBe(busy)

    for (const step of ['init-db', 'start', 'schema', 'load', 'config'] as const) expect(events.some((e) => e.step === step), step).toBe(true)
    for (const name of ['legacy', 'target'] as const) expect(events.some((e) => e.step === 'start' && e.server === name)).toBe(true)
    expect(first.servers.legacy.port).not.toBe(first.servers.target.port)
    expect(first.servers.legacy.pid).toBeGreaterThan(0)
    expect(first.data).toMatchObject({status: 'loaded', scale: SCALE, seed: SEED})
    expect(first.data?.rows.payment_intents).toBe(1000)

    const status = await sandboxStatus({dir})
    expect(status.exists).toBe(true)
    for (const s of status.servers) {
      expect(s, s.name).toMatchObject({running: true, healthy: true, binlogFormat: 'ROW', gtidStrictMode: true})
      expect(s.version).toMatch(/MariaDB/)
      expect(s.uptimeSeconds).toBeGreaterThanOrEqual(0)
      expect(s.databases.map((d) => d.name)).toContain('payments')
    }
    expect(status.data?.rows).toEqual(first.data?.rows)
  })

  it('keeps the passwords in 0600 files only, registered and never in state or progress', async () => {
    const secrets = join(dir, 'secrets')
    expect((await stat(secrets)).mode & 0o777).toBe(0o700)
    const stateText = await readFile(join(dir, 'sandbox.json'), 'utf8')
    const configText = await readFile(join(dir, 'payctl.yaml'), 'utf8')
    for (const name of ['legacy', 'target'] as const) {
      const file = join(secrets, `${name}.password`)
      expect((await stat(file)).mode & 0o777).toBe(0o600)
      const password = (await readFile(file, 'utf8')).trim()
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
      expect(stateText).not.toContain(password)
      expect(configText).not.toContain(password)
      expect(JSON.stringify(events)).not.toContain(password)
      const info = await sandboxConnectionInfo(dir, name)
      expect(String(info.password)).not.toContain(password)
    }
    const legacyPassword = (await readFile(join(secrets, 'legacy.password'), 'utf8')).trim()
    expect(legacyPassword).not.toBe((await readFile(join(secrets, 'target.password'), 'utf8')).trim())
  })

  it('writes a payctl.yaml that points at both servers', async () => {
    const config = parse(await readFile(join(dir, 'payctl.yaml'), 'utf8')) as {source: {port: number; password: string}; target: {port: number}}
    expect(config.source.port).toBe(first.servers.legacy.port)
    expect(config.target.port).toBe(first.servers.target.port)
    expect(config.source.password).toBe('file:secrets/legacy.password')
  })

  it('serves the data set to the payctl user over TCP, intact', async () => {
    const legacy = await connect(dir, 'legacy')
    try {
      for (const table of LEGACY_TABLES) {
        const [rows] = await legacy.query(`SELECT COUNT(*) AS n FROM \`${table}\``)
        expect(Number((rows as Array<{n: number}>)[0]?.n), table).toBe(first.data?.rows[table])
      }
      const [unbalanced] = await legacy.query('SELECT COUNT(*) AS n FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING SUM(amount) <> 0) t')
      expect(Number((unbalanced as Array<{n: number}>)[0]?.n)).toBe(0)
      const [orphans] = await legacy.query(
        'SELECT COUNT(*) AS n FROM payment_attempts a LEFT JOIN payment_intents i ON i.id = a.payment_intent_id LEFT JOIN payment_methods m ON m.id = a.payment_method_id WHERE i.id IS NULL OR m.id IS NULL',
      )
      expect(Number((orphans as Array<{n: number}>)[0]?.n)).toBe(0)
      const [customers] = await legacy.query('SELECT id, name, HEX(name) AS hex, created_at FROM customers WHERE id <= 3 ORDER BY id')
      const c = customers as Array<{id: number; name: string | null; created_at: string}>
      expect(c[0]?.name).toBe('Zoë Ångström ') // trailing space kept, non-ASCII intact
      expect(c[0]?.created_at).toMatch(/\.000000$/)
      expect(c[1]?.name).toBeNull()
      expect(c[1]?.created_at).toMatch(/\.999999$/)
      expect(c[2]?.name).toBe('李小龙 🐉') // 4-byte UTF-8
      const [pm] = await legacy.query('SELECT HEX(fingerprint) AS f, LENGTH(fingerprint) AS len FROM payment_methods WHERE id = 1')
      const fingerprint = (pm as Array<{f: string; len: number}>)[0]
      expect(fingerprint?.len).toBe(32)
      expect(fingerprint?.f).toMatch(/^00.*00$/)
      const [vars] = await legacy.query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_row_image', 'bind_address', 'character_set_server')")
      expect(Object.fromEntries((vars as Array<{Variable_name: string; Value: string}>).map((v) => [v.Variable_name, v.Value]))).toEqual({
        bind_address: '127.0.0.1',
        binlog_row_image: 'FULL',
        character_set_server: 'utf8mb4',
        log_bin: 'ON',
      })
    } finally {
      await legacy.end()
    }
    const target = await connect(dir, 'target')
    try {
      const [tables] = await target.query('SHOW TABLES')
      expect(tables).toEqual([])
    } finally {
      await target.end()
    }
  })

  it('keeps root to the unix socket: no TCP login without a password', async () => {
    await expect(createConnection({host: '127.0.0.1', port: first.servers.legacy.port, user: 'root', password: ''})).rejects.toThrow(/Access denied/)
  })

  it('up again with the same scale and seed changes nothing', async () => {
    const again = await sandboxUp({dir, scale: SCALE, seed: SEED, ports: {legacy: 0, target: 0}})
    expect(again.servers.legacy.pid).toBe(first.servers.legacy.pid)
    expect(again.servers.target.pid).toBe(first.servers.target.pid)
    expect(again.servers.legacy.port).toBe(first.servers.legacy.port)
    expect(again.data?.loadedAt).toBe(first.data?.loadedAt)
  })

  it('up with another seed is refused while the data set exists', async () => {
    const err = await sandboxUp({dir, scale: SCALE, seed: SEED + 1}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect(err).toMatchObject({code: 'PAYCTL_SANDBOX_EXISTS', exitCode: ExitCode.usage})
    expect((err as UsageError).actions.join('\n')).toContain('payctl sandbox down --purge')
  })

  it('down stops both servers and leaves no process of this sandbox', async () => {
    const result = await sandboxDown({dir, purge: false})
    expect(result.existed).toBe(true)
    expect(result.servers.map((s) => [s.name, s.stopped])).toEqual([
      ['legacy', true],
      ['target', true],
    ])
    expect(await alive(first.servers.legacy.pid ?? 0)).toBe(false)
    expect(await alive(first.servers.target.pid ?? 0)).toBe(false)
    expect(await processesMentioning(dir)).toEqual([])
    const status = await sandboxStatus({dir})
    expect(status.servers.map((s) => s.running)).toEqual([false, false])
  })

  it('up after down starts the same servers without reinitialising or reloading', async () => {
    await rm(join(dir, 'secrets', 'target.password')) // a lost password file gets a new password
    const restarted = await sandboxUp({dir, scale: SCALE, seed: SEED, ports: {legacy: 0, target: 0}})
    expect(restarted.servers.legacy.pid).not.toBe(first.servers.legacy.pid)
    expect(restarted.data?.loadedAt).toBe(first.data?.loadedAt)
    expect((await sandboxStatus({dir})).servers.every((s) => s.healthy)).toBe(true)
    const target = await connect(dir, 'target')
    await target.end()
  })

  it('up after a load that did not finish loads the data set again', async () => {
    const state = await readSandboxState(dir)
    if (state?.data == null) throw new Error('no data set recorded')
    state.data.status = 'loading' // as left by a crash in the middle of the load
    await writeFile(join(dir, 'sandbox.json'), JSON.stringify(state))
    const reloaded = await sandboxUp({dir, scale: SCALE, seed: SEED})
    expect(reloaded.data?.status).toBe('loaded')
    expect(reloaded.data?.rows).toEqual(first.data?.rows)
    expect(reloaded.data?.loadedAt).not.toBe(first.data?.loadedAt)
    const legacy = await connect(dir, 'legacy')
    try {
      const [rows] = await legacy.query('SELECT COUNT(*) AS n FROM payment_intents')
      expect(Number((rows as Array<{n: number}>)[0]?.n)).toBe(1000)
    } finally {
      await legacy.end()
    }
  })

  it('down --purge removes the folder, and down again is harmless', async () => {
    const purged = await sandboxDown({dir, purge: true})
    expect(purged.purged).toBe(true)
    await expect(stat(dir)).rejects.toThrow(/ENOENT/)
    expect(await processesMentioning(dir)).toEqual([])
    expect(await sandboxDown({dir, purge: false})).toMatchObject({existed: false, purged: false})
    expect(await sandboxDown({dir, purge: true})).toMatchObject({existed: false, purged: false})
    expect(await sandboxStatus({dir})).toMatchObject({exists: false, servers: []})
  })
})

describe('sandbox safety', () => {
  it('refuses to purge a folder that is not a sandbox', async () => {
    const other = await mkdtemp(join(tmpdir(), 'payctl-not-a-sandbox-'))
    try {
      await writeFile(join(other, 'precious.txt'), 'keep me')
      await expect(sandboxDown({dir: other, purge: true})).rejects.toMatchObject({code: 'PAYCTL_SANDBOX_NOT_A_SANDBOX', exitCode: ExitCode.usage})
      expect(await readFile(join(other, 'precious.txt'), 'utf8')).toBe('keep me')
    } finally {
      await rm(other, {recursive: true, force: true})
    }
  })

  it('says how to install MariaDB when mariadbd is missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'payctl-no-bin-'))
    const dir = join(empty, 'sandbox')
    try {
      await mkdir(join(empty, 'bin'))
      const err = await sandboxUp({dir, scale: SCALE, seed: SEED, binDirs: [join(empty, 'bin')]}).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(EnvironmentError)
      expect(err).toMatchObject({code: 'PAYCTL_MARIADB_MISSING', exitCode: ExitCode.environment})
      expect((err as EnvironmentError).actions.join('\n')).toContain('sudo apt-get install -y mariadb-server')
      expect((err as EnvironmentError).actions.join('\n')).toContain('brew install mariadb')
      await expect(stat(dir)).rejects.toThrow(/ENOENT/) // nothing was created
    } finally {
      await rm(empty, {recursive: true, force: true})
    }
  })
})
