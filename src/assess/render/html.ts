/**
 * The HTML report: ONE self-contained file a DBA attaches to a change ticket. Inline CSS and JS,
 * no external URL of any kind (a Content-Security-Policy of default-src 'none' makes sure), every
 * value escaped. Tables are rendered on the server side, so the report reads fine with scripts
 * off; the script only adds sorting (click a header) and the severity filter.
 */
import type {AssessReport, Finding} from '../report.js'
import {formatBytes, formatNumber, SEVERITIES, SEVERITY_LABEL, seconds, sourceLine, targetLine, typeMappingsUsed} from './common.js'

export function escapeHtml(text: string | number | null | undefined): string {
  if (text === null || text === undefined) return ''
  return String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
}

const SEVERITY_RANK: Record<Finding['severity'], number> = {blocker: 0, 'needs-change': 1, info: 2}

interface Col<R> {
  header: string
  cell: (row: R) => string | number | null
  /** A sort key when the text would sort wrongly (sizes, durations, severities). */
  sortKey?: (row: R) => number | string
  numeric?: boolean
  className?: (row: R) => string
}

function htmlTable<R>(id: string, rows: readonly R[], cols: ReadonlyArray<Col<R>>, rowAttrs?: (row: R) => string): string {
  const head = cols.map((c) => `<th scope="col"${c.numeric ? ' class="num"' : ''}>${escapeHtml(c.header)}</th>`).join('')
  const body = rows
    .map((r) => {
      const cells = cols
        .map((c) => {
          const key = c.sortKey?.(r)
          const classes = [c.numeric ? 'num' : '', c.className?.(r) ?? ''].filter(Boolean).join(' ')
          return `<td${classes ? ` class="${classes}"` : ''}${key === undefined ? '' : ` data-sort="${escapeHtml(key)}"`}>${escapeHtml(c.cell(r))}</td>`
        })
        .join('')
      return `<tr${rowAttrs ? ` ${rowAttrs(r)}` : ''}>${cells}</tr>`
    })
    .join('\n')
  return `<table id="${id}" class="sortable"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`
}

function card(label: string, value: string | number, cls = ''): string {
  return `<div class="card ${cls}"><div class="value">${escapeHtml(typeof value === 'number' ? formatNumber(value) : value)}</div><div class="label">${escapeHtml(label)}</div></div>`
}

const CSS = `
:root{--blocker:#b91c1c;--blocker-bg:#fde8e8;--change:#b45309;--change-bg:#fef3c7;--info:#1d4ed8;--info-bg:#e0ecff;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1400px;padding:24px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:120px}
.card .value{font-size:24px;font-weight:600}.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card.blocker{border-color:var(--blocker);background:var(--blocker-bg)}.card.blocker .value{color:var(--blocker)}
.card.needs-change{border-color:var(--change);background:var(--change-bg)}.card.needs-change .value{color:var(--change)}
.card.info{border-color:var(--info);background:var(--info-bg)}.card.info .value{color:var(--info)}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;position:sticky;top:0}
.js table.sortable th{cursor:pointer;user-select:none}
.js table.sortable th::after{content:" \\2195";color:#8c959f}
.js table.sortable th[aria-sort=ascending]::after{content:" \\2191";color:#1f2328}
.js table.sortable th[aria-sort=descending]::after{content:" \\2193";color:#1f2328}
td.num,th.num{text-align:right;white-space:nowrap}
td.sev{font-weight:600;white-space:nowrap}
tr.blocker td.sev{color:var(--blocker)}tr.needs-change td.sev{color:var(--change)}tr.info td.sev{color:var(--info)}
tr.blocker td:first-child{border-left:4px solid var(--blocker)}tr.needs-change td:first-child{border-left:4px solid var(--change)}tr.info td:first-child{border-left:4px solid var(--info)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
#filters{margin:8px 0;display:flex;gap:16px;align-items:center}
#filters label{cursor:pointer}
.hidden{display:none}
.note{color:var(--muted)}
@media print{
  body{padding:0;max-width:none;font-size:11px}
  #filters{display:none!important}
  th{position:static}
  tr{break-inside:avoid}
  .card{break-inside:avoid}
  .js table.sortable th::after{content:""}
}
`

// Vanilla ES2015, no libraries. Sorting compares numbers as numbers (data-sort carries raw bytes,
// seconds and severity ranks); the filter hides rows by severity class.
const JS = `
(function () {
  'use strict';
  document.documentElement.className += ' js';
  function key(td) {
    var v = td.getAttribute('data-sort');
    return v !== null ? v : td.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== '' && b !== '' && !isNaN(x) && !isNaN(y)) return x - y;
    return a.localeCompare(b, undefined, {numeric: true, sensitivity: 'base'});
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute('aria-sort', 'none');
      function sort() {
        var ascending = th.getAttribute('aria-sort') !== 'ascending';
        Array.prototype.forEach.call(headers, function (h) { h.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c = compare(key(r1.cells[index]), key(r2.cells[index]));
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener('click', sort);
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); }
      });
    });
  });
  var filters = document.getElementById('filters');
  if (filters) {
    filters.classList.remove('hidden');
    var boxes = filters.querySelectorAll('input[type=checkbox]');
    var apply = function () {
      var shown = {};
      Array.prototype.forEach.call(boxes, function (b) { shown[b.value] = b.checked; });
      Array.prototype.forEach.call(document.querySelectorAll('#findings tbody tr'), function (tr) {
        tr.classList.toggle('hidden', !shown[tr.getAttribute('data-severity')]);
      });
    };
    Array.prototype.forEach.call(boxes, function (b) { b.addEventListener('change', apply); });
    apply();
  }
})();
`

export function renderHtml(r: AssessReport): string {
  const s = r.sizing
  const title = `payctl assessment: ${r.source.database} -> ${r.target.flavor}`
  const findings = htmlTable<Finding>(
    'findings',
    r.findings,
    [
      {header: 'severity', cell: (f) => f.severity, sortKey: (f) => SEVERITY_RANK[f.severity], className: () => 'sev'},
      {header: 'object', cell: (f) => f.object, className: () => 'mono'},
      {header: 'type', cell: (f) => f.objectType},
      {header: 'rule', cell: (f) => f.rule, className: () => 'mono'},
      {header: 'finding', cell: (f) => f.title},
      {header: 'mapping', cell: (f) => f.mapping, className: () => 'mono'},
      {header: 'reason', cell: (f) => f.reason},
      {header: 'phases', cell: (f) => f.phases.join(', ')},
      ...(r.source.from === 'ddl' ? [{header: 'line', cell: (f: Finding) => f.line ?? null, sortKey: (f: Finding) => f.line ?? 0, numeric: true}] : []),
    ],
    (f) => `class="${f.severity}" data-severity="${f.severity}"`,
  )
  const filters = `<div id="filters" class="hidden" role="group" aria-label="Filter by severity">Show: ${SEVERITIES.map(
    (sev) => `<label><input type="checkbox" value="${sev}" checked> ${escapeHtml(SEVERITY_LABEL[sev])}</label>`,
  ).join(' ')}</div>`
  const notAssessed =
    r.notAssessed.length === 0
      ? '<p class="note">Every statement was assessed.</p>'
      : htmlTable('not-assessed', r.notAssessed, [
          {header: 'line', cell: (n) => n.line, numeric: true},
          {header: 'statement', cell: (n) => n.text, className: () => 'mono'},
          {header: 'reason', cell: (n) => n.reason},
        ])
  let sizing = '<p class="note">Not available offline: run payctl assess against the live source for sizes and a measured load estimate.</p>'
  if (s !== null) {
    sizing = [
      `<p>Total: ${escapeHtml(formatNumber(s.totalRows))} rows, ${escapeHtml(formatBytes(s.totalBytes))}. Estimated full load: <strong>${escapeHtml(seconds(s.estimatedFullLoadSeconds))}</strong>.</p>`,
      htmlTable('sizing', s.tables, [
        {header: 'table', cell: (t) => t.table, className: () => 'mono'},
        {header: 'rows', cell: (t) => formatNumber(t.rows), sortKey: (t) => t.rows, numeric: true},
        {header: 'data', cell: (t) => formatBytes(t.dataBytes), sortKey: (t) => t.dataBytes, numeric: true},
        {header: 'indexes', cell: (t) => formatBytes(t.indexBytes), sortKey: (t) => t.indexBytes, numeric: true},
        {header: 'estimated load', cell: (t) => seconds(t.estimatedLoadSeconds), sortKey: (t) => t.estimatedLoadSeconds ?? -1, numeric: true},
      ]),
      s.measured === null
        ? ''
        : `<p>Measured: ${escapeHtml(formatNumber(s.measured.rowsPerSecond))} rows/s, ${escapeHtml(formatBytes(s.measured.bytesPerSecond))}/s. ${escapeHtml(s.measured.description ?? '')}</p>`,
      `<p>Largest: ${escapeHtml(s.largest.join(', ') || 'none')}.</p>`,
      `<p>Hottest: ${escapeHtml(s.hottest.length === 0 ? 'unknown' : s.hottest.map((h) => `${h.table} (${formatNumber(h.writes)} writes, ${h.source})`).join('; '))}.</p>`,
      ...(s.notes ?? []).map((n) => `<p class="note">${escapeHtml(n)}</p>`),
    ].join('\n')
  }
  const mappings = typeMappingsUsed(r.findings)
  const mappingTable =
    mappings.length === 0
      ? '<p class="note">Every column keeps its type.</p>'
      : htmlTable('type-mappings', mappings, [
          {header: 'rule', cell: (m) => m.rule, className: () => 'mono'},
          {header: 'mapping', cell: (m) => m.mapping, className: () => 'mono'},
          {header: 'severity', cell: (m) => m.severity, sortKey: (m) => SEVERITY_RANK[m.severity]},
          {header: 'columns', cell: (m) => m.columns, numeric: true},
        ])
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">Source: ${escapeHtml(sourceLine(r))}<br>Target: ${escapeHtml(targetLine(r))}<br>Generated ${escapeHtml(r.generatedAt)} by payctl ${escapeHtml(r.payctlVersion)}</p>
<section id="summary"><h2>Summary</h2>
<div class="cards">
${card('blockers', r.summary.blockers, 'blocker')}
${card('needs change', r.summary.needsChange, 'needs-change')}
${card('info', r.summary.info, 'info')}
${card('tables', r.summary.tables)}
${card('columns', r.summary.columns)}
${card('not assessed', r.summary.notAssessed)}
${s === null ? '' : card('estimated full load', seconds(s.estimatedFullLoadSeconds))}
</div></section>
<section><h2>Findings (${r.findings.length})</h2>
${filters}
${findings}
</section>
<section><h2>Not assessed (${r.notAssessed.length})</h2>
${notAssessed}
</section>
<section><h2>Sizing</h2>
${sizing}
</section>
<section><h2>Type mappings used</h2>
${mappingTable}
</section>
<script>${JS}</script>
</body>
</html>
`
}
