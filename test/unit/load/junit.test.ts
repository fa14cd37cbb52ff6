import {describe, expect, it} from 'vitest'
import {renderLoadJunit} from '../../../src/load/junit.js'
import {evaluateThresholds, loadReportJson} from '../../../src/load/report.js'
import {loadResult} from './load-result.js'

const gates = {maxFailed: 0, p99Ms: 100, maxDropped: 0}

describe('renderLoadJunit', () => {
  it('writes one passing test case per threshold of a run within them', () => {
    const r = loadResult()
    const xml = renderLoadJunit(loadReportJson(r, evaluateThresholds(r, gates)))
    expect(xml).toContain('<testsuite name="payctl load" tests="3" failures="0" errors="0" time="3.125">')
    expect(xml).toContain('<testcase classname="payctl.load.checkout" name="requests.failed &lt;= 0" time="3.125"></testcase>')
    expect(xml).toContain('<testcase classname="payctl.load.checkout" name="latency.p99 &lt;= 100 ms" time="3.125"></testcase>')
    expect(xml).toContain('<testcase classname="payctl.load.checkout" name="iterations.dropped &lt;= 0" time="3.125"></testcase>')
    expect(xml).not.toContain('<failure')
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')).toBe(true)
    expect(xml.trimEnd().endsWith('</testsuite>')).toBe(true)
  })

  it('fails exactly the crossed thresholds, with the value, the condition and the run in the body (escaped)', () => {
    const r = loadResult({failed: 4, p99: 250})
    const xml = renderLoadJunit(loadReportJson(r, evaluateThresholds(r, gates)))
    expect(xml).toContain('tests="3" failures="2"')
    expect(xml).toMatch(/name="requests.failed &lt;= 0" time="3.125">\n {4}<failure message="requests.failed = 4, expected &lt;= 0">/)
    expect(xml).toContain('<failure message="latency.p99 = 250, expected &lt;= 100 ms">')
    expect(xml).toContain('name="iterations.dropped &lt;= 0" time="3.125"></testcase>')
    expect(xml).toContain('requests: 500, 4 failed (503: 4)')
    expect(xml).toContain('failure #3 POST /v1/customers [503] 503 database_unreachable: &lt;db&gt; &amp; &quot;retry&quot;')
    expect(xml).not.toContain('<db>')
  })

  it('a run that made no request fails its request and latency cases for want of data', () => {
    const r = loadResult({total: 0})
    const xml = renderLoadJunit(loadReportJson(r, evaluateThresholds(r, gates)))
    expect(xml).toContain('failures="2"')
    expect(xml).toContain('<failure message="requests.failed: no data (no request was answered), expected &lt;= 0">')
    expect(xml).toContain('<failure message="latency.p99: no data (no request was answered), expected &lt;= 100 ms">')
    expect(xml).toContain('latency: no request answered')
  })
})
