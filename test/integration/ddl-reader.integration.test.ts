// The offline MySQL reader against the truth: a real `mariadb-dump --no-data` of the sandbox's legacy payments schema, read by readMysqlDump, must give the same tables, columns, keys and foreign keys as MysqlEngine's live introspection of the same server.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {Secret} from '../../src/cli/redact.js'
import type {SchemaModel, TableModel} from '../../src/engines/model.js'
import {readMysqlDump} from '../../src/engines/mysql/mysql-ddl-reader.js'
import {MysqlEngine} from '../../src/engines/mysql/mysql-engine.js'
import {LEGACY_TABLES} from '../../src/sandbox/index.js'
import './sandbox-context.js'

const run = promisify(execFile)
const sandbox = inject('sandbox')

/**
 * The only documented exception: rowEstimate, dataBytes and indexBytes are statistics a dump
 * does not carry. Everything else (identity seeds included: mariadb-dump keeps AUTO_INCREMENT=n
 * even with --no-data) must be equal.
 */
function comparable(t: TableModel): unknown {
  return {...t, rowEstimate: undefined, dataBytes: undefined, indexBytes: undefined}
}

describe('readMysqlDump on a real mariadb-dump of the sandbox', () => {
  let live: SchemaModel
  let dump: string
  const engine = new MysqlEngine({
    engine: 'mysql',
    host: sandbox.source.host,
    port: sandbox.source.port,
    user: sandbox.source.user,
    password: new Secret(sandbox.source.password, 'env:PAYCTL_IT_PASSWORD'),
    database: sandbox.source.database,
    tls: {mode: 'disable'},
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    poolSize: 2,
    label: 'source',
  })

  beforeAll(async () => {
    await engine.connect()
    live = await engine.introspect()
    const s = sandbox.source
    const out = await run(
      '/usr/bin/mariadb-dump',
      ['-h', s.host, '-P', String(s.port), '-u', s.user, '--no-data', '--routines', '--triggers', '--events', '--skip-ssl', s.database],
      {env: {...process.env, MYSQL_PWD: s.password}, maxBuffer: 64 * 1024 * 1024},
    )
    dump = out.stdout
  })

  afterAll(async () => {
    await engine.close()
  })

  it('reads every statement of the dump, flags the flavor, and has nothing left unassessed', () => {
    const read = readMysqlDump(dump, {})
    expect(read.notAssessed).toEqual([])
    expect(read.statements).toBeGreaterThan(LEGACY_TABLES.length)
    expect(read.model.server).toMatchObject({engine: 'mysql', flavor: 'mariadb', database: sandbox.source.database})
    expect(read.model.server.version.major).toBe(live.server.version.major)
    expect(read.model.server.version.minor).toBe(live.server.version.minor)
  })

  it('gives the same tables, columns, keys, indexes, foreign keys and checks as live introspection', () => {
    const read = readMysqlDump(dump, {})
    const byName = (m: SchemaModel): Map<string, TableModel> => new Map(m.tables.map((t) => [t.name, t]))
    const fromDump = byName(read.model)
    const fromLive = byName(live)
    expect([...fromDump.keys()].sort()).toEqual([...fromLive.keys()].sort())
    for (const [name, liveTable] of fromLive) {
      const dumpTable = fromDump.get(name)
      expect(dumpTable, name).toBeDefined()
      expect(comparable(dumpTable as TableModel), name).toEqual(comparable(liveTable))
    }
  })
})
