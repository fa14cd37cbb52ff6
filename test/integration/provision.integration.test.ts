// payctl provision against the sandbox's real MariaDB servers: dry run, apply, the converted schema compared with the source, a no-op rerun, completion of a half-provisioned table, and a conflict refused with its diff. Leaves the target empty.
import mysql from 'mysql2/promise'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {Secret} from '../../src/cli/redact.js'
import {CONTROL_TABLES} from '../../src/control/control-schema.js'
import type {ConnectionOptions} from '../../src/engines/engine.js'
import type {SchemaModel, TableModel} from '../../src/engines/model.js'
import {MysqlEngine} from '../../src/engines/mysql/mysql-engine.js'
import type {ProvisionResult} from '../../src/migrators/provision.js'
import {diffTable} from '../../src/migrators/table-diff.js'
import {LEGACY_TABLES} from '../../src/sandbox/index.js'
import {parseJson, runCli} from './cli-helpers.js'
import type {SandboxEndpoint} from './sandbox-context.js'
import './sandbox-context.js'

const sandbox = inject('sandbox')
// The sandbox's payctl.yaml leaves the control store at its default: payctl_control on the target.
const CONTROL = 'payctl_control'
const sorted = (names: Iterable<string>) => [...names].sort()

let admin: mysql.Connection

function engineOptions(server: SandboxEndpoint, label: string): ConnectionOptions {
  return {
    engine: 'mysql',
    host: server.host,
    port: server.port,
    user: server.user,
    password: new Secret(server.password, 'env:PAYCTL_IT_PASSWORD'),
    database: server.database,
    tls: {mode: 'disable'},
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    poolSize: 2,
    label,
  }
}

async function introspect(server: SandboxEndpoint, label: string, database?: string): Promise<SchemaModel> {
  const engine = new MysqlEngine(engineOptions(server, label))
  try {
    return await engine.introspect(database === undefined ? {} : {database})
  } finally {
    await engine.close()
  }
}

async function tablesIn(database: string): Promise<string[]> {
  const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?', [database])
  return sorted(rows.map((r) => String(r.name)))
}

const provision = (...args: string[]) => runCli(['provision', '--config', sandbox.configPath, ...args])

/**
 * What a mariadb -> mariadb conversion may change, and nothing else: the AUTO_INCREMENT next value
 * (the source's follows its data; a new table starts at 1) and the statistics.
 */
function comparable(t: TableModel) {
  return {
    ...t,
    columns: t.columns.map((c) => ({...c, identity: c.identity === null ? null : {seed: '(next value)', increment: c.identity.increment}})),
    rowEstimate: 0,
    dataBytes: 0,
    indexBytes: 0,
  }
}

beforeAll(async () => {
  const t = sandbox.target
  admin = await mysql.createConnection({host: t.host, port: t.port, user: t.user, password: t.password, database: t.database})
  expect(await tablesIn(t.database), 'the sandbox target must start empty').toEqual([])
})

afterAll(async () => {
  // Other integration files expect an empty target: drop what provision created, children first.
  if (admin === undefined) return
  await admin.query('SET FOREIGN_KEY_CHECKS = 0')
  for (const name of await tablesIn(sandbox.target.database)) await admin.query(`DROP TABLE IF EXISTS \`${name}\``)
  await admin.query('SET FOREIGN_KEY_CHECKS = 1')
  await admin.query(`DROP DATABASE IF EXISTS \`${CONTROL}\``)
  await admin.end()
})

describe('payctl provision on the sandbox', () => {
  it('--dry-run lists every statement and changes nothing', async () => {
    const run = await provision('--dry-run', '--json')
    expect(run.code, run.stderr).toBe(0)
    const {result} = parseJson<{result: ProvisionResult}>(run)
    expect(result.dryRun).toBe(true)
    expect(result.executed).toBe(0)
    expect(result.plan.conflicts).toBe(0)
    expect(result.plan.target).toMatchObject({flavor: 'mariadb', database: sandbox.target.database})
    const purposes = result.plan.statements.map((s) => s.purpose)
    for (const table of LEGACY_TABLES) expect(purposes).toContain(`table ${table}`)
    for (const table of CONTROL_TABLES) expect(purposes).toContain(`control store table ${table.name}`)
    expect(purposes).toContain(`control store database ${CONTROL}`)
    expect(purposes.filter((p) => p.startsWith('foreign key '))).not.toHaveLength(0)
    expect(result.summary).toEqual({create: LEGACY_TABLES.length + CONTROL_TABLES.length, complete: 0, same: 0, conflict: 0, extra: 0})

    const human = await provision('--dry-run')
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(/^-- payctl provision plan: mariadb /)
    expect(human.stdout).toContain(`\n-- table payment_intents\nCREATE TABLE`)
    // Every non-comment line belongs to a statement: the script can be run as it is.
    expect(human.stdout.split(';\n').length - 1).toBe(result.plan.statements.length)

    expect(await tablesIn(sandbox.target.database)).toEqual([])
    expect(await tablesIn(CONTROL)).toEqual([])
  })

  it('creates the converted schema and the control store', async () => {
    const run = await provision()
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/Executed \d+ statements/)
    expect(await tablesIn(sandbox.target.database)).toEqual(sorted(LEGACY_TABLES))
    expect(await tablesIn(CONTROL)).toEqual(sorted(CONTROL_TABLES.map((t) => t.name)))
    const [versions] = await admin.query<mysql.RowDataPacket[]>(`SELECT version FROM \`${CONTROL}\`.schema_version`)
    expect(versions.map((r) => Number(r.version))).toEqual([1])
  })

  it('gives the target the same tables as the source (mariadb -> mariadb: nothing but the AUTO_INCREMENT next value differs)', async () => {
    const [source, target] = [await introspect(sandbox.source, 'source'), await introspect(sandbox.target, 'target')]
    expect(target.tables).toHaveLength(LEGACY_TABLES.length)
    for (const name of LEGACY_TABLES) {
      const s = source.tables.find((t) => t.name === name)
      const t = target.tables.find((x) => x.name === name)
      if (s === undefined || t === undefined) throw new Error(`table ${name} missing on the ${s === undefined ? 'source' : 'target'}`)
      expect(diffTable(s, t).map((d) => d.text), name).toEqual([])
      expect(comparable(t), name).toEqual(comparable(s))
    }
  })

  it('a second run is a no-op', async () => {
    const run = await provision('--json')
    expect(run.code, run.stderr).toBe(0)
    const {result} = parseJson<{result: ProvisionResult}>(run)
    expect(result.executed).toBe(0)
    expect(result.plan.statements).toEqual([])
    expect(result.summary).toEqual({create: 0, complete: 0, same: LEGACY_TABLES.length + CONTROL_TABLES.length, conflict: 0, extra: 0})
    const human = await provision()
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toContain('Nothing to do')
  })

  it('completes a table whose index a stopped run did not create', async () => {
    await admin.query('DROP INDEX ix_customers_email ON customers')
    const run = await provision('--json')
    expect(run.code, run.stderr).toBe(0)
    const {result} = parseJson<{result: ProvisionResult}>(run)
    expect(result.plan.tables.find((t) => t.name === 'customers')).toEqual({
      name: 'customers',
      store: 'target',
      action: 'complete',
      diff: ['index ix_customers_email: missing on target; will be added'],
    })
    expect(result.executed).toBe(1)
    const [rows] = await admin.query<mysql.RowDataPacket[]>("SHOW INDEX FROM customers WHERE Key_name = 'ix_customers_email'")
    expect(rows).toHaveLength(1)
  })

  it('refuses a conflicting table with its diff (exit 4) and changes nothing', async () => {
    await admin.query('ALTER TABLE refunds MODIFY amount DECIMAL(12,2) NOT NULL')
    const before = {target: await introspect(sandbox.target, 'target'), control: await introspect(sandbox.target, 'target', CONTROL)}

    const run = await provision('--json')
    expect(run.code, run.stderr).toBe(4)
    const {error} = parseJson<{error: {code: string; message: string; data: {conflicts: unknown[]}}}>(run)
    expect(error.code).toBe('PAYCTL_PROVISION_CONFLICT')
    expect(error.data.conflicts).toEqual([{table: 'refunds', store: 'target', diff: ['column amount: decimal(19,4) expected, decimal(12,2) found']}])

    const human = await provision()
    expect(human.code).toBe(4)
    expect(human.stderr).toContain('error PAYCTL_PROVISION_CONFLICT: 1 table(s) on the target differ')
    expect(human.stderr).toContain('refunds:\n    - column amount: decimal(19,4) expected, decimal(12,2) found')
    expect(human.stderr).toMatch(/next: .*tables\.exclude/)

    const after = {target: await introspect(sandbox.target, 'target'), control: await introspect(sandbox.target, 'target', CONTROL)}
    expect(after.target.tables.map(comparable)).toEqual(before.target.tables.map(comparable))
    expect(after.control.tables.map(comparable)).toEqual(before.control.tables.map(comparable))
  })
})
