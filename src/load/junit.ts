/**
 * A load run as JUnit XML, where a CI shows it: one test case per threshold, failed when the
 * threshold was crossed or had no data; the run's figures go in the suite's output.
 */
import type {LoadResult} from './generator.js'
import type {LoadReportJson, ThresholdResult} from './report.js'

const xml = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

function valueText(t: ThresholdResult): string {
  if (t.value === null) return 'no data'
  return Number.isInteger(t.value) ? String(t.value) : String(Number(t.value.toFixed(4)))
}

/** One line per fact a reader of a failed case needs first: what was sent, what failed and how. */
export function describeRun(r: LoadResult): string {
  const it = r.iterations
  const kinds = Object.entries(r.requests.failedByKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k}: ${n}`)
  const lines = [
    `scenario ${r.scenario} (seed ${r.seed}) on ${r.targets.join(', ')}`,
    `rate ${r.achievedRate}/s achieved of ${r.ratePerSecond}/s asked, ${(r.durationMs / 1000).toFixed(1)} s, ended: ${r.stopReason}`,
    `iterations: ${it.started} started, ${it.completed} completed, ${it.failed} failed, ${it.dropped} dropped (${it.droppedBy.maxInFlight} at max in flight, ${it.droppedBy.lag} too late)`,
    `requests: ${r.requests.total}, ${r.requests.failed} failed${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`,
    r.latency.count === 0 ? 'latency: no request answered' : `latency ms: p50 ${r.latency.p50}, p95 ${r.latency.p95}, p99 ${r.latency.p99}, max ${r.latency.max}`,
  ]
  for (const f of r.failureSamples.slice(0, 10)) lines.push(`failure #${f.iteration} ${f.endpoint} [${f.kind}] ${f.message}`)
  return lines.join('\n')
}

function testCase(t: ThresholdResult, r: LoadResult, seconds: string): string {
  const open = `  <testcase classname="payctl.load.${xml(r.scenario)}" name="${xml(`${t.metric} ${t.condition}`)}" time="${seconds}">`
  if (t.pass) return `${open}</testcase>`
  const message = t.value === null ? `${t.metric}: no data (no request was answered), expected ${t.condition}` : `${t.metric} = ${valueText(t)}, expected ${t.condition}`
  return `${open}\n    <failure message="${xml(message)}">${xml(describeRun(r))}</failure>\n  </testcase>`
}

export function renderLoadJunit(report: LoadReportJson): string {
  const r = report.result
  const seconds = (r.durationMs / 1000).toFixed(3)
  const failures = report.thresholds.filter((t) => !t.pass).length
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuite name="payctl load" tests="${report.thresholds.length}" failures="${failures}" errors="0" time="${seconds}">`,
    ...report.thresholds.map((t) => testCase(t, r, seconds)),
    `  <system-out>${xml(describeRun(r))}</system-out>`,
    '</testsuite>',
    '',
  ].join('\n')
}
