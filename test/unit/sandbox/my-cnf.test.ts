import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'

import {validateConfig} from '../../../src/config/validate.js'
import {renderSandboxConfig} from '../../../src/sandbox/config-file.js'
import {loadDataSql} from '../../../src/sandbox/loader.js'
import {cnfValue, type MyCnfSpec, renderMyCnf, SERVER_IDS} from '../../../src/sandbox/my-cnf.js'
import {serverPaths} from '../../../src/sandbox/state.js'
import type {ServerName} from '../../../src/sandbox/types.js'

function spec(name: ServerName, dir = '/srv/payctl sandbox'): MyCnfSpec {
  const p = serverPaths(dir, name)
  return {name, serverId: SERVER_IDS[name], port: name === 'legacy' ? 13306 : 13307, datadir: p.datadir, socketPath: p.socketPath, pidFile: p.pidFile, errorLog: p.errorLog, loadDir: `${dir}/load`, tmpDir: `${p.home}/tmp`}
}

/** The [mariadbd] section as option -> value. */
function serverOptions(cnf: string): Map<string, string> {
  const options = new Map<string, string>()
  let section = ''
  for (const raw of cnf.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const header = /^\[(.+)\]$/.exec(line)
    if (header) {
      section = header[1] ?? ''
      continue
    }
    if (section !== 'mariadbd') continue
    const [key, ...rest] = line.split('=')
    options.set((key ?? '').trim(), rest.join('=').trim())
  }
  return options
}

describe('renderMyCnf', () => {
  const legacy = serverOptions(renderMyCnf(spec('legacy')))
  const target = serverOptions(renderMyCnf(spec('target')))

  it('turns on the binlog as change capture needs it', () => {
    for (const o of [legacy, target]) {
      expect(o.get('binlog-format')).toBe('ROW')
      expect(o.get('binlog-row-image')).toBe('FULL')
      expect(o.get('gtid-strict-mode')).toBe('ON')
      expect(o.get('log-slave-updates')).toBe('ON')
      expect(o.get('log-bin')).toMatch(/mariadb-bin/)
    }
  })

  it('gives each server its own server id, GTID domain, port and files', () => {
    expect(legacy.get('server-id')).not.toBe(target.get('server-id'))
    expect(legacy.get('gtid-domain-id')).not.toBe(target.get('gtid-domain-id'))
    expect(legacy.get('port')).toBe('13306')
    expect(target.get('port')).toBe('13307')
    for (const key of ['datadir', 'socket', 'pid-file', 'log-error']) expect(legacy.get(key)).not.toBe(target.get(key))
  })

  it('binds the loopback interface only and sets the sandbox defaults', () => {
    for (const o of [legacy, target]) {
      expect(o.get('bind-address')).toBe('127.0.0.1')
      expect(o.has('skip-name-resolve')).toBe(true)
      expect(o.get('character-set-server')).toBe('utf8mb4')
      expect(o.get('collation-server')).toBe('utf8mb4_unicode_ci')
      expect(o.get('max-connections')).toBe('300')
      expect(o.get('innodb-buffer-pool-size')).toBe('256M')
      expect(o.get('secure-file-priv')).toBe('"/srv/payctl sandbox/load"')
    }
  })

  it('quotes paths the option-file parser would split or unescape', () => {
    expect(cnfValue('/var/lib/x')).toBe('/var/lib/x')
    expect(cnfValue('/a b/c')).toBe('"/a b/c"')
    expect(cnfValue('C:\\x "y"')).toBe('"C:\\\\x \\"y\\""')
    expect(cnfValue('/a#b')).toBe('"/a#b"')
  })

  it('moves a socket whose path is too long for a unix socket to the temp folder', () => {
    const deep = `/srv/${'very-long-folder-name/'.repeat(6)}sandbox`
    expect(serverPaths(deep, 'legacy').socketPath.startsWith(deep)).toBe(false)
    expect(serverPaths(deep, 'legacy').socketPath).not.toBe(serverPaths(deep, 'target').socketPath)
    expect(serverPaths('/srv/s', 'legacy').socketPath).toBe('/srv/s/legacy/mariadbd.sock')
  })
})

describe('renderSandboxConfig', () => {
  it('writes a config with both endpoints, file: password references and the comments', () => {
    const text = renderSandboxConfig({ports: {legacy: 23306, target: 23307}, database: 'payments'})
    expect(text).toMatch(/^# payctl config for the local sandbox/)
    expect(text).toContain("# relative to this file's folder")
    expect(parse(text)).toEqual({
      version: 1,
      source: {engine: 'mysql', flavor: 'mariadb', host: '127.0.0.1', port: 23306, user: 'payctl', password: 'file:secrets/legacy.password', database: 'payments', tls: {mode: 'disable'}},
      target: {engine: 'mysql', flavor: 'mariadb', host: '127.0.0.1', port: 23307, user: 'payctl', password: 'file:secrets/target.password', database: 'payments', tls: {mode: 'disable'}},
      controlStore: {side: 'target', database: 'payctl_control'},
      shift: expect.objectContaining({gates: {interval: '2s', minRequests: 10}}) as unknown,
    })
  })

  it('has a shift section that validates, with short holds and the default step names', () => {
    const raw = parse(renderSandboxConfig({ports: {legacy: 1, target: 2}, database: 'payments'})) as {shift: {steps: Array<{name: string; hold: string}>}}
    expect(validateConfig(raw)).toEqual([])
    expect(raw.shift.steps.map((s) => s.name)).toEqual(['shadow', 'reads-25', 'reads-50', 'reads-100', 'write-flip', 'observe'])
    expect(raw.shift.steps.every((s) => /^\d+s$/.test(s.hold) && Number.parseInt(s.hold, 10) <= 10)).toBe(true)
  })
})

describe('renderSandboxConfig runtime section', () => {
  it('adds the runtime section with its fingerprint key reference when asked', () => {
    const text = renderSandboxConfig({ports: {legacy: 1, target: 2}, database: 'payments', runtime: {instances: 2, basePort: 18080, fingerprintKey: 'file:secrets/runtime-fingerprint.key'}})
    expect((parse(text) as {runtime: unknown}).runtime).toEqual({instances: 2, host: '127.0.0.1', basePort: 18080, fingerprintKey: 'file:secrets/runtime-fingerprint.key'})
  })
})

describe('loadDataSql', () => {
  it('loads binary columns through UNHEX and quotes the file path', () => {
    const sql = loadDataSql('payment_methods', "/tmp/it's/payment_methods.tsv")
    expect(sql).toContain("LOAD DATA INFILE '/tmp/it\\'s/payment_methods.tsv'")
    expect(sql).toContain('CHARACTER SET utf8mb4')
    expect(sql).toContain('@hex_fingerprint')
    expect(sql).toContain('SET `fingerprint` = UNHEX(@hex_fingerprint)')
    expect(loadDataSql('customers', '/x/customers.tsv')).not.toContain('UNHEX')
  })
})
