import {describe, expect, it} from 'vitest'
import {buildReport, failOnResult, sortFindings} from '../../../src/assess/assess.js'
import {renderHtml} from '../../../src/assess/render/html.js'
import {renderMarkdown} from '../../../src/assess/render/markdown.js'
import {renderTerminal} from '../../../src/assess/render/terminal.js'
import type {AssessReport, Finding} from '../../../src/assess/report.js'
import {computeSizing} from '../../../src/assess/sizing.js'
import {col, mariadb, model, target, tbl} from './models.js'

const XSS = '<script>alert(1)</script>'

function f(rule: string, severity: Finding['severity'], object: string, o: Partial<Finding> = {}): Finding {
  return {rule, severity, objectType: 'table', object, title: `${rule} on ${object}`, mapping: null, reason: 'because', phases: ['replicate'], ...o}
}

function report(findings: Finding[], sizing: AssessReport['sizing'] = null): AssessReport {
  const m = model(mariadb(), [tbl(XSS, [col('id', 'bigint'), col('a|b', 'int')], {schema: 'payments', rowEstimate: 1000, dataBytes: 65_536})])
  return buildReport({model: m, findings, notAssessed: [{line: 7, text: 'CREATE PARTITION FUNCTION pf (int)', reason: 'not read'}], from: 'ddl', file: 'x.sql', endpoint: null, target: target('tidb'), sizing, payctlVersion: '0.1.0', now: () => new Date('2026-01-02T03:04:05Z')})
}

describe('report', () => {
  it('sorts by severity, then object, then rule, and counts the summary', () => {
    const r = report([f('b.rule', 'info', 'a'), f('z.rule', 'blocker', 'z'), f('a.rule', 'needs-change', 'b'), f('a.rule', 'blocker', 'a')])
    expect(r.findings.map((x) => `${x.severity}:${x.object}:${x.rule}`)).toEqual(['blocker:a:a.rule', 'blocker:z:z.rule', 'needs-change:b:a.rule', 'info:a:b.rule'])
    expect(r.summary).toEqual({tables: 1, columns: 2, blockers: 2, needsChange: 1, info: 1, notAssessed: 1})
    expect(r.generatedAt).toBe('2026-01-02T03:04:05.000Z')
    expect(sortFindings([])).toEqual([])
  })

  it('--fail-on blocker counts blockers only; warning adds needs-change; rule ids are listed once', () => {
    const r = report([f('table.no-primary-key', 'blocker', 'a'), f('table.no-primary-key', 'blocker', 'b'), f('type.x', 'needs-change', 'c'), f('i', 'info', 'd')])
    expect(failOnResult(r, 'blocker')).toEqual({met: true, count: 2, rules: ['table.no-primary-key']})
    expect(failOnResult(r, 'warning')).toEqual({met: true, count: 3, rules: ['table.no-primary-key', 'type.x']})
    expect(failOnResult(report([f('i', 'info', 'd'), f('t', 'needs-change', 'e')]), 'blocker')).toEqual({met: false, count: 0, rules: []})
  })
})

describe('sizing', () => {
  const m = model(mariadb(), [
    tbl('big', [col('id', 'bigint')], {schema: 'payments', rowEstimate: 100_000, dataBytes: 100_000_000, indexBytes: 0}),
    tbl('small', [col('id', 'bigint')], {schema: 'payments', rowEstimate: 10, dataBytes: 16_384, indexBytes: 16_384}),
  ])
  it('rate = sample bytes / the slower half; estimate = data bytes / rate; hottest top writes with their source', () => {
    const s = computeSizing(
      m,
      {tables: ['payments.big'], read: {rows: 20_000, bytes: 10_000_000, seconds: 1}, write: {rows: 10_000, bytes: 5_000_000, seconds: 1}, targetEndpoint: 't:1'},
      {counts: [{schema: 'payments', table: 'small', writes: 7}, {schema: 'payments', table: 'big', writes: 0}], source: 'perf', unknownReason: 'x'},
    )
    // the write probe was cut short at half the volume: its time scales to 2 s, the slower half
    expect(s.measured).toMatchObject({sampleRows: 20_000, sampleBytes: 10_000_000, seconds: 2, bytesPerSecond: 5_000_000, rowsPerSecond: 10_000, readSeconds: 1, writeSeconds: 2})
    expect(s.tables.find((t) => t.table === 'payments.big')?.estimatedLoadSeconds).toBe(20)
    expect(s.estimatedFullLoadSeconds).toBeCloseTo(20.003, 3)
    expect(s.largest).toEqual(['payments.big', 'payments.small'])
    expect(s.hottest).toEqual([{table: 'payments.small', writes: 7, source: 'perf'}])
    expect(s.measured?.description).toMatch(/Read 20000 rows .* wrote 10000 rows/)
  })
  it('without a sample there is no estimate, and unknown write counts say why', () => {
    const s = computeSizing(m, null, {counts: null, source: 'perf', unknownReason: 'performance_schema is off'})
    expect(s.measured).toBeNull()
    expect(s.estimatedFullLoadSeconds).toBeNull()
    expect(s.hottest).toEqual([])
    expect(s.notes).toEqual(['Hottest tables unknown: performance_schema is off.'])
    expect(s.totalBytes).toBe(100_000_000 + 32_768)
  })
})

describe('renderers', () => {
  const r = report([f('table.no-primary-key', 'blocker', `payments.${XSS}`, {mapping: 'a | b -> c', line: 12}), f('type.mysql.json', 'info', 'payments.t.doc', {mapping: 'json -> json'})])

  it('HTML escapes every value (an XSS-y table name stays text)', () => {
    const html = renderHtml(r)
    expect(html).not.toContain(XSS)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    // exactly one script element: ours
    expect(html.match(/<script\b/g)).toHaveLength(1)
  })

  it('HTML is self-contained: no external URL in any src or href, a CSP that forbids fetches', () => {
    const html = renderHtml(r)
    const attrs = [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/gi)].map((m) => m[1] ?? '')
    for (const a of attrs) expect(a).not.toMatch(/https?:|\/\//)
    expect(html).not.toMatch(/https?:\/\//)
    expect(html).not.toMatch(/@import|url\(/)
    expect(html).toContain(`content="default-src 'none'`)
  })

  it('HTML has summary cards, a severity filter, sortable tables and print styles', () => {
    const html = renderHtml(r)
    expect(html).toMatch(/<div class="card blocker"><div class="value">1<\/div><div class="label">blockers/)
    expect(html).toContain('<table id="findings" class="sortable">')
    expect(html).toMatch(/<tr class="blocker" data-severity="blocker">/)
    expect(html).toMatch(/<input type="checkbox" value="needs-change" checked>/)
    expect(html).toContain('@media print')
    expect(html).toContain('CREATE PARTITION FUNCTION pf (int)')
  })

  it('Markdown has the headings, escapes table cells, and lists the not-assessed lines and type mappings used', () => {
    const md = renderMarkdown(r)
    expect(md).toContain('## Findings')
    expect(md).toContain('### Blockers (1)')
    expect(md).toContain('## Not assessed')
    expect(md).toContain('| 7 | CREATE PARTITION FUNCTION pf (int) | not read |')
    expect(md).toContain('a \\| b -> c')
    expect(md).not.toContain(XSS)
    expect(md).toContain('## Type mappings used')
    expect(md).toContain('| type.mysql.json | json -> json | info | 1 |')
  })

  it('terminal groups findings by severity with object, rule and mapping, and the not-assessed lines', () => {
    const out = renderTerminal(r, {colour: false})
    expect(out).toMatch(/Blockers \(1\)/)
    expect(out).toMatch(/Info \(1\)/)
    expect(out).not.toMatch(/Needs change/)
    expect(out).toContain('table.no-primary-key')
    expect(out).toContain('Not assessed (1)')
  })
})

describe('secrets in a script', () => {
  // notAssessed quotes script lines; SSMS scripts logins, credentials and keys with their passwords.
  const lines = [
    "CREATE LOGIN [app] WITH PASSWORD=N'S3cret!Pass', DEFAULT_DATABASE=[Payments]",
    "CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'MasterKey Pass'",
    "EXEC master.dbo.sp_addlinkedsrvlogin @rmtsrvname=N'LS', @rmtuser=N'sa', @rmtpassword='LinkedP@ss'",
    "INSERT [dbo].[Cards] ([Id], [Pan]) VALUES (1, N'4111111111111111')",
  ]
  const r = buildReport({
    model: model(mariadb(), []), findings: [], notAssessed: lines.map((text, i) => ({line: i + 1, text, reason: 'not read'})), from: 'ddl', file: 'x.sql', endpoint: null,
    target: target('tidb'), sizing: null, payctlVersion: '0.1.0', now: () => new Date('2026-01-02T03:04:05Z'),
  })

  it('never reach a report, in any format (HTML escaping must not defeat the redaction)', () => {
    for (const text of [JSON.stringify(r), renderHtml(r), renderMarkdown(r), renderTerminal(r)]) {
      for (const secret of ['S3cret', 'MasterKey', 'Pass', 'LinkedP', '4111111111111111']) expect(text).not.toContain(secret)
    }
    expect(r.notAssessed.map((n) => n.text)).toEqual([
      "CREATE LOGIN [app] WITH PASSWORD=N'********', DEFAULT_DATABASE=[Payments]",
      "CREATE MASTER KEY ENCRYPTION BY PASSWORD = '********'",
      "EXEC master.dbo.sp_addlinkedsrvlogin @rmtsrvname=N'LS', @rmtuser=N'sa', @rmtpassword='********'",
      "INSERT [dbo].[Cards] ([Id], [Pan]) VALUES (1, N'********1111')",
    ])
  })
})
