import {readdir, readFile, writeFile, mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, test} from 'vitest'
import YAML from 'yaml'
import {LEGACY_TABLES, sandboxDown} from '../../src/sandbox/index.js'
import {parseJson, runCli, startCli} from './cli-helpers.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')
const COMMANDS = ['config validate', 'inspect', 'provision', 'runtime start', 'sandbox up', 'sandbox status', 'sandbox down']

let work: string

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'payctl-cli-'))
})
afterAll(async () => {
  // stop any sandbox a failed test left running before deleting the folder
  for (const name of await readdir(work)) await sandboxDown({dir: path.join(work, name), purge: false}).catch(() => undefined)
  await rm(work, {recursive: true, force: true})
})

/** The sandbox's config with some keys changed, written next to a copy of its secrets. */
interface SideConfig {
  port: number
  password: string
}
type TestConfig = {source: SideConfig; target: SideConfig} & Record<string, unknown>

async function variantConfig(name: string, change: (cfg: TestConfig) => void): Promise<string> {
  const cfg = YAML.parse(await readFile(sandbox.configPath, 'utf8')) as TestConfig
  for (const side of [cfg.source, cfg.target]) {
    // absolute, since the variant lives in another folder
    if (side.password.startsWith('file:')) side.password = `file:${path.resolve(path.dirname(sandbox.configPath), side.password.slice(5))}`
  }
  change(cfg)
  const file = path.join(work, `${name}.yaml`)
  await writeFile(file, YAML.stringify(cfg))
  return file
}

describe('help', () => {
  test('payctl --help lists every command with its summary', async () => {
    const run = await runCli(['--help'])
    expect(run.code).toBe(0)
    for (const c of COMMANDS) expect(run.stdout).toContain(c.split(' ')[0])
    expect(run.stdout).toContain('Print the introspected schema')
  })

  test.each(COMMANDS)('payctl %s --help shows a summary and examples', async (command) => {
    const run = await runCli([...command.split(' '), '--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/USAGE/)
    expect(run.stdout).toMatch(/EXAMPLES/)
    expect(run.stdout).toContain(`$ payctl ${command}`)
  })
})

describe('config validate', () => {
  test('the sandbox config is valid', async () => {
    const run = await runCli(['config', 'validate', '--config', sandbox.configPath, '--json'])
    expect(run.code).toBe(0)
    const json = parseJson<{status: number; result: {valid: boolean; source: {password: string}}}>(run)
    expect(json.status).toBe(0)
    expect(json.result.valid).toBe(true)
    expect(json.result.source.password).toMatch(/^file:/)
  })

  test('a broken file lists each problem by path and exits 2, never echoing the literal secret', async () => {
    const file = path.join(work, 'broken.yaml')
    await writeFile(
      file,
      [
        'version: 1',
        'target:',
        '  engine: mysql',
        '  host: 127.0.0.1',
        '  port: "not-a-port"',
        '  hostname: db.internal',
        '  user: app',
        '  password: Sup3r-Literal-Pw',
        '  database: payments',
        '',
      ].join('\n'),
    )
    const human = await runCli(['config', 'validate', '--config', file])
    expect(human.code).toBe(2)
    expect(human.stdout).toBe('')
    expect(human.stderr).toContain('/target/port')
    expect(human.stderr).toContain('/target/hostname')
    expect(human.stderr).toContain('/target/password')
    expect(human.stderr).toMatch(/\/\S*:? .*source|missing required key "source"/)
    expect(human.stderr + human.stdout).not.toContain('Sup3r-Literal-Pw')

    const json = await runCli(['config', 'validate', '--config', file, '--json'])
    expect(json.code).toBe(2)
    const env = parseJson<{status: number; error: {code: string; data: {issues: Array<{path: string}>}}}>(json)
    expect(env.status).toBe(2)
    expect(env.error.code).toBe('PAYCTL_CONFIG_INVALID')
    expect(env.error.data.issues.map((i) => i.path).sort()).toEqual(['/', '/target/hostname', '/target/password', '/target/port'])
    expect(json.stdout + json.stderr).not.toContain('Sup3r-Literal-Pw')
  })

  test('a missing file exits 2 and says how to get one', async () => {
    const run = await runCli(['config', 'validate', '--config', path.join(work, 'nope.yaml'), '--json'])
    expect(run.code).toBe(2)
    expect(parseJson<{error: {code: string; actions: string[]}}>(run).error.code).toBe('PAYCTL_CONFIG_NOT_FOUND')
  })
})

describe('inspect', () => {
  test('lists every sandbox table with exact column types, keys and sizes', async () => {
    const run = await runCli(['inspect', '--side', 'source', '--config', sandbox.configPath])
    expect(run.code, run.stderr).toBe(0)
    for (const t of LEGACY_TABLES) expect(run.stdout).toContain(`payments.${t}`)
    expect(run.stdout).toContain('decimal(19,4)')
    expect(run.stdout).toContain('datetime(6)')
    expect(run.stdout).toMatch(/PRIMARY KEY \(payment_intent_id, attempt_no\)/)
    expect(run.stdout).toContain('FOREIGN KEY')
    expect(run.stdout).toMatch(/binlog_format\s*│?\s*ROW/)
  })

  test('--json gives the model with sizes and keys for every table', async () => {
    const run = await runCli(['inspect', '--side', 'source', '--config', sandbox.configPath, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const json = parseJson<{status: number; result: {side: string; tables: Array<{name: string; primaryKey: unknown; dataBytes: number; rowEstimate: number}>}}>(run)
    expect(json.result.side).toBe('source')
    expect(json.result.tables.map((t) => t.name).sort()).toEqual([...LEGACY_TABLES].sort())
    for (const t of json.result.tables) {
      expect(t.primaryKey, t.name).not.toBeNull()
      expect(t.dataBytes, t.name).toBeGreaterThan(0)
    }
    expect(json.result.tables.find((t) => t.name === 'payment_intents')?.rowEstimate).toBeGreaterThan(500)
  })

  test('an unreachable server exits 3 naming host:port', async () => {
    const file = await variantConfig('unreachable', (cfg) => {
      cfg.source.port = 1
    })
    const run = await runCli(['inspect', '--side', 'source', '--config', file])
    expect(run.code).toBe(3)
    expect(run.stderr).toContain('127.0.0.1:1')
    const json = await runCli(['inspect', '--side', 'source', '--config', file, '--json'])
    expect(json.code).toBe(3)
    expect(parseJson<{error: {code: string; message: string}}>(json).error.message).toContain('127.0.0.1:1')
  })

  test('a wrong password exits 3 and the password appears nowhere in stdout, stderr or logs', async () => {
    const wrong = 'Wr0ng-Pa55word-XYZ'
    const file = await variantConfig('wrong-password', (cfg) => {
      cfg.source.password = 'env:PAYCTL_IT_WRONG_PASSWORD'
    })
    for (const extra of [[], ['--json'], ['--verbose'], ['--json', '--verbose']]) {
      const run = await runCli(['inspect', '--side', 'source', '--config', file, ...extra], {env: {PAYCTL_IT_WRONG_PASSWORD: wrong}})
      expect(run.code, run.stderr).toBe(3)
      expect(run.stdout + run.stderr).not.toContain(wrong)
      expect(run.stdout + run.stderr).toContain('PAYCTL_AUTH_FAILED')
      expect(run.stdout + run.stderr).toContain(`127.0.0.1:${sandbox.source.port}`)
    }
  })

  test('a bad --side exits 2 with JSON on stdout', async () => {
    const run = await runCli(['inspect', '--side', 'sideways', '--json'])
    expect(run.code).toBe(2)
    expect(parseJson<{status: number; error: {code: string}}>(run)).toMatchObject({status: 2, error: {code: 'PAYCTL_USAGE'}})
  })
})

describe('sandbox commands', () => {
  test('up, status and down through the CLI: up prints how to connect, down leaves no mariadbd of it', async () => {
    const dir = path.join(work, 'cli-sandbox')
    const up = await runCli(['sandbox', 'up', '--scale', '0.01', '--seed', '3', '--dir', dir], {timeoutMs: 170_000})
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toMatch(/mariadb -h 127\.0\.0\.1 -P \d+ -u payctl/)
    expect(up.stdout).toContain('payctl.yaml')

    const status = await runCli(['sandbox', 'status', '--dir', dir, '--json'])
    expect(status.code).toBe(0)
    const st = parseJson<{result: {exists: boolean; servers: Array<{name: string; healthy: boolean; pid: number}>}}>(status)
    expect(st.result.exists).toBe(true)
    expect(st.result.servers.map((s) => [s.name, s.healthy])).toEqual([
      ['legacy', true],
      ['target', true],
    ])

    const inspect = await runCli(['inspect', '--side', 'target', '--summary', '--json'], {env: {PAYCTL_CONFIG: path.join(dir, 'payctl.yaml')}})
    expect(inspect.code, inspect.stderr).toBe(0)

    const down = await runCli(['sandbox', 'down', '--dir', dir, '--purge', '--json'])
    expect(down.code, down.stderr).toBe(0)
    expect(parseJson<{result: {purged: boolean}}>(down).result.purged).toBe(true)
    expect(await processesMentioning(dir)).toEqual([])
  })

  test('SIGINT during the load exits 130 with the state saved, and a rerun finishes the load', async () => {
    const dir = path.join(work, 'interrupted')
    const up = startCli(['sandbox', 'up', '--scale', '0.3', '--dir', dir, '--verbose'], {timeoutMs: 170_000})
    // --verbose logs each progress event as "[time] debug: <step> [server]: message"; stop once rows are loading
    await up.waitForStderr(/debug: load \[legacy\]: loaded /, 120_000)
    up.child.kill('SIGINT')
    const interrupted = await up.done
    expect(interrupted.code, interrupted.stderr).toBe(130)
    expect(interrupted.stderr).toContain('PAYCTL_INTERRUPTED')

    const status = parseJson<{result: {exists: boolean; data: {status: string} | null}}>(await runCli(['sandbox', 'status', '--dir', dir, '--json']))
    expect(status.result.exists).toBe(true)
    expect(status.result.data?.status ?? 'none').not.toBe('loaded')

    const again = await runCli(['sandbox', 'up', '--scale', '0.3', '--dir', dir, '--json'], {timeoutMs: 170_000})
    expect(again.code, again.stderr).toBe(0)
    const state = parseJson<{status: number; result: {data: {status: string; rows: Record<string, number>}}}>(again)
    expect(state.result.data.status).toBe('loaded')
    expect(state.result.data.rows.payment_intents).toBeGreaterThan(20_000)

    const down = await runCli(['sandbox', 'down', '--dir', dir, '--purge'])
    expect(down.code, down.stderr).toBe(0)
    expect(await processesMentioning(dir)).toEqual([])
  })

  test('a bad --scale exits 2 before anything starts', async () => {
    const dir = path.join(work, 'never-created')
    const run = await runCli(['sandbox', 'up', '--scale', 'lots', '--dir', dir, '--json'])
    expect(run.code).toBe(2)
    expect(parseJson<{error: {code: string}}>(run).error.code).toBe('PAYCTL_BAD_SCALE')
    await expect(readdir(dir)).rejects.toThrow()
  })

  test('status and down of a folder with no sandbox are harmless', async () => {
    const dir = path.join(work, 'empty')
    const status = await runCli(['sandbox', 'status', '--dir', dir, '--json'])
    expect(status.code).toBe(0)
    expect(parseJson<{result: {exists: boolean}}>(status).result.exists).toBe(false)
    const down = await runCli(['sandbox', 'down', '--dir', dir, '--json'])
    expect(down.code).toBe(0)
    expect(parseJson<{result: {existed: boolean}}>(down).result.existed).toBe(false)
  })
})

async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmdline.includes(text) && cmdline.includes('mariadbd')) found.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`)
  }
  return found
}
