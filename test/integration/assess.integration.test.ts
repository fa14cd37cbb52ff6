/**
 * payctl assess end to end: the built CLI against the live sandbox source and against T-SQL
 * scripts, every format written with --out and parsed back, --fail-on, bad flags, and the HTML
 * report opened in headless Chromium (errors, network requests, sorting, scripts off).
 */
import {existsSync} from 'node:fs'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import type {AssessReport} from '../../src/assess/report.js'
import {launchChromium} from './chromium.js'
import {ROOT, runCli} from './cli-helpers.js'
import './sandbox-context.js'

const SSMS = path.join(ROOT, 'test/fixtures/ddl/ssms-payments.sql')
const NASTY = path.join(ROOT, 'test/fixtures/ddl/nasty.sql')
const FORMATS = ['json', 'markdown', 'html', 'table'] as const

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'payctl-assess-'))
})
afterAll(async () => {
  await rm(dir, {recursive: true, force: true})
})

async function checkWritten(format: (typeof FORMATS)[number], file: string, from: 'live' | 'ddl'): Promise<void> {
  const text = await readFile(file, 'utf8')
  switch (format) {
    case 'json': {
      const r = JSON.parse(text) as AssessReport
      expect(r.source.from).toBe(from)
      expect(r.summary.tables).toBeGreaterThan(0)
      expect(r.findings.length).toBe(r.summary.blockers + r.summary.needsChange + r.summary.info)
      break
    }
    case 'markdown':
      expect(text).toMatch(/^# payctl assessment: /)
      expect(text).toContain('\n## Findings\n')
      expect(text).toContain('\n## Sizing\n')
      break
    case 'html':
      expect(text).toMatch(/^<!doctype html>/)
      expect(text).toContain('<table id="findings" class="sortable">')
      expect(text.trimEnd()).toMatch(/<\/html>$/)
      break
    case 'table':
      expect(text).toContain('blockers')
      break
  }
}

describe('payctl assess, live sandbox source', () => {
  it.each(FORMATS)('writes %s with --out', async (format) => {
    const {configPath} = inject('sandbox')
    const out = path.join(dir, `live.${format}`)
    const run = await runCli(['assess', '--config', configPath, '--format', format, '--out', out])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toBe('')
    await checkWritten(format, out, 'live')
  })

  it('measures a sample copy and sizes every table (--json envelope)', async () => {
    const {configPath} = inject('sandbox')
    const run = await runCli(['assess', '--config', configPath, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const r = (JSON.parse(run.stdout) as {status: number; result: AssessReport}).result
    expect(r.source).toMatchObject({engine: 'mysql', flavor: 'mariadb', from: 'live', database: 'payments'})
    expect(r.target.flavor).toBe('mariadb')
    expect(r.target.version).toMatch(/MariaDB/)
    const s = r.sizing!
    expect(s.tables).toHaveLength(r.summary.tables)
    expect(s.largest.length).toBeGreaterThan(0)
    expect(s.measured).not.toBeNull()
    expect(s.measured!.sampleRows).toBeGreaterThan(0)
    expect(s.measured!.writeSeconds).not.toBeNull()
    expect(s.measured!.seconds).toBeLessThan(10)
    expect(s.estimatedFullLoadSeconds).toBeGreaterThan(0)
    // the sandbox source is healthy for binlog capture: no change-capture blocker
    expect(r.findings.filter((f) => f.rule.startsWith('cdc.'))).toEqual([])
    expect(r.findings.some((f) => f.objectType === 'permission')).toBe(true)
    process.stderr.write(`assess sample copy on the sandbox: ${s.measured!.rowsPerSecond} rows/s, ${s.measured!.bytesPerSecond} B/s (${s.measured!.description})\n`)
  })

  it('--no-sample skips the copy; --target-flavor tidb applies the TiDB rules', async () => {
    const {configPath} = inject('sandbox')
    const run = await runCli(['assess', '--config', configPath, '--no-sample', '--target-flavor', 'tidb', '--format', 'json'])
    expect(run.code, run.stderr).toBe(0)
    const r = JSON.parse(run.stdout) as AssessReport
    expect(r.target).toEqual({flavor: 'tidb', version: null})
    expect(r.sizing?.measured).toBeNull()
    expect(r.findings.map((f) => f.rule)).toContain('identity.tidb-auto-random')
    expect(r.findings.map((f) => f.rule)).toContain('fk.tidb-version-unknown')
  })
})

describe('payctl assess --from-ddl', () => {
  it.each(FORMATS)('writes %s from the SSMS script without a config', async (format) => {
    const out = path.join(dir, `ddl.${format}`)
    const run = await runCli(['assess', '--from-ddl', SSMS, '--source-engine', 'sqlserver', '--target-flavor', 'tidb', '--format', format, '--out', out], {cwd: dir})
    expect(run.code, run.stderr).toBe(0)
    await checkWritten(format, out, 'ddl')
  })

  it('--fail-on blocker exits 4 naming the rules, after writing the report', async () => {
    const out = path.join(dir, 'fail.json')
    const run = await runCli(['assess', '--from-ddl', SSMS, '--target-flavor', 'aurora-mysql', '--format', 'json', '--out', out, '--fail-on', 'blocker'], {cwd: dir})
    expect(run.code).toBe(4)
    expect(run.stderr).toMatch(/error PAYCTL_ASSESS_FAILED: \d+ findings? at or above --fail-on blocker: .*table\.no-primary-key/)
    const r = JSON.parse(await readFile(out, 'utf8')) as AssessReport
    expect(r.findings.filter((f) => f.severity === 'blocker').map((f) => f.object)).toContain('dbo.AuditLog')
  })

  it('a script with constructs it cannot read: exit 0, not-assessed entries with line numbers', async () => {
    const run = await runCli(['assess', '--from-ddl', NASTY, '--target-flavor', 'mysql', '--format', 'json'], {cwd: dir})
    expect(run.code, run.stderr).toBe(0)
    const r = JSON.parse(run.stdout) as AssessReport
    expect(r.notAssessed.length).toBeGreaterThan(0)
    expect(r.notAssessed.map((n) => n.line)).toContain(28)
    expect(r.summary.notAssessed).toBe(r.notAssessed.length)
    // offline, change-capture settings are info "not known offline"
    expect(r.findings.find((f) => f.rule === 'cdc.sqlserver.agent')).toMatchObject({severity: 'info'})
    expect(r.sizing).toBeNull()
  })

  it('bad usage exits 2: --source-engine without --from-ddl; a missing file is named', async () => {
    const a = await runCli(['assess', '--source-engine', 'sqlserver', '--target-flavor', 'mysql'], {cwd: dir})
    expect(a.code).toBe(2)
    expect(a.stderr).toContain('--source-engine applies only with --from-ddl')
    const missing = path.join(dir, 'nope.sql')
    const b = await runCli(['assess', '--from-ddl', missing, '--target-flavor', 'mysql'], {cwd: dir})
    expect(b.code).toBe(2)
    expect(b.stderr).toContain(missing)
    const c = await runCli(['assess', '--from-ddl', SSMS], {cwd: dir})
    expect(c.code).toBe(2)
    expect(c.stderr).toContain('--target-flavor')
  })
})

describe('the HTML report in headless Chromium', () => {
  it('loads with no error and no request but the file; headers sort; the filter hides rows; readable without scripts', async () => {
    const file = path.join(dir, 'chromium.html')
    const run = await runCli(['assess', '--from-ddl', SSMS, '--target-flavor', 'tidb', '--format', 'html', '--out', file], {cwd: dir})
    expect(run.code, run.stderr).toBe(0)
    // a hostile table name must arrive as text
    const html = await readFile(file, 'utf8')
    await writeFile(file, html.replace('dbo.AuditLog</td>', 'dbo.&lt;script&gt;alert(1)&lt;/script&gt;</td>'))
    expect(existsSync(file)).toBe(true)
    const url = pathToFileURL(file).href
    const browser = await launchChromium()
    try {
      await Promise.all(['Runtime.enable', 'Log.enable', 'Network.enable', 'Page.enable'].map((m) => browser.send(m)))
      const loaded = browser.waitFor('Page.loadEventFired', 20_000)
      await browser.send('Page.navigate', {url})
      await loaded
      expect(await browser.evaluate<boolean>("document.documentElement.classList.contains('js')")).toBe(true)
      expect(await browser.evaluate<number>("document.querySelectorAll('script').length")).toBe(1)
      expect(await browser.evaluate<boolean>("document.body.textContent.includes('dbo.<script>alert(1)</script>')")).toBe(true)

      const objects = "Array.from(document.querySelectorAll('#findings tbody tr')).map((r) => r.cells[1].textContent)"
      const before = await browser.evaluate<string[]>(objects)
      expect(before.length).toBeGreaterThan(5)
      await browser.evaluate("document.querySelectorAll('#findings thead th')[1].click()")
      const ascending = await browser.evaluate<string[]>(objects)
      expect(ascending).not.toEqual(before)
      expect(ascending).toEqual([...before].sort((a, b) => a.localeCompare(b, undefined, {numeric: true, sensitivity: 'base'})))
      expect(await browser.evaluate<string>("document.querySelectorAll('#findings thead th')[1].getAttribute('aria-sort')")).toBe('ascending')
      await browser.evaluate("document.querySelectorAll('#findings thead th')[1].click()")
      expect(await browser.evaluate<string[]>(objects)).toEqual([...ascending].reverse())

      const visible = "Array.from(document.querySelectorAll('#findings tbody tr')).filter((r) => r.offsetParent !== null).length"
      const all = await browser.evaluate<number>(visible)
      await browser.evaluate("document.querySelector('#filters input[value=info]').click()")
      const withoutInfo = await browser.evaluate<number>(visible)
      const info = await browser.evaluate<number>("document.querySelectorAll('#findings tbody tr[data-severity=info]').length")
      expect(info).toBeGreaterThan(0)
      expect(withoutInfo).toBe(all - info)

      expect(browser.events.exceptions).toEqual([])
      expect(browser.events.consoleErrors).toEqual([])
      expect(browser.events.logErrors).toEqual([])
      // data: URLs (the blank favicon) never touch the network; anything else would be a fetch
      expect(browser.events.requests.filter((u) => !u.startsWith('data:'))).toEqual([url])

      // scripts off: the tables are there and the filter (which needs a script) stays hidden
      await browser.send('Emulation.setScriptExecutionDisabled', {value: true})
      const reloaded = browser.waitFor('Page.loadEventFired', 20_000)
      await browser.send('Page.reload', {ignoreCache: true})
      await reloaded
      const noJs = await browser.send<{root: {nodeId: number}}>('DOM.getDocument', {depth: -1})
      const rows = await browser.send<{nodeIds: number[]}>('DOM.querySelectorAll', {nodeId: noJs.root.nodeId, selector: '#findings tbody tr'})
      expect(rows.nodeIds.length).toBe(before.length)
      const hidden = await browser.send<{nodeIds: number[]}>('DOM.querySelectorAll', {nodeId: noJs.root.nodeId, selector: '#filters.hidden'})
      expect(hidden.nodeIds).toHaveLength(1)
      expect(browser.events.exceptions).toEqual([])
    } finally {
      await browser.close()
    }
  })
})
