/**
 * Just enough Prometheus for the shift gates: a parser of the text exposition format (what
 * prom-client serves on /metrics; OpenMetrics text parses too), a scrape over HTTP, counter deltas
 * between two scrapes with restarts taken into account, and Prometheus' histogram_quantile.
 *
 * Hand-written rather than a dependency: the format is small and stable, and the gates must be
 * able to say exactly why a line did not parse (a garbled scrape may never read as "no errors").
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown' | 'untyped'

export type Labels = Readonly<Record<string, string>>

export interface PromSample {
  /** The sample's own name: http_requests_total, db_query_duration_seconds_bucket, ... */
  name: string
  labels: Labels
  value: number
  timestampMs?: number
}

export interface PromFamily {
  /** The name of the # TYPE line (for a histogram, without _bucket, _sum and _count). */
  name: string
  type: MetricType
  help: string | null
  samples: PromSample[]
}

/** One parsed /metrics page: families by name, in the order they appeared. */
export type PromExposition = Map<string, PromFamily>

export class PromParseError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`)
    this.name = 'PromParseError'
  }
}

const METRIC_TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown', 'untyped'])

/** Suffixes a family's samples may carry, by type (OpenMetrics names a counter family without _total). */
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_count', '_sum', '_created'],
  gaugehistogram: ['_bucket', '_gcount', '_gsum'],
  summary: ['_count', '_sum', '_created'],
  info: ['_info'],
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/

export function parsePrometheusText(text: string): PromExposition {
  const families: PromExposition = new Map()
  const family = (name: string): PromFamily => {
    let f = families.get(name)
    if (f === undefined) {
      f = {name, type: 'untyped', help: null, samples: []}
      families.set(name, f)
    }
    return f
  }
  const lines = text.split('\n')
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const lineNo = i + 1
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line)
      if (!m) return // any other comment, # EOF and # UNIT included
      const [, keyword, name = '', rest = ''] = m
      if (keyword === 'HELP') family(name).help = unescapeHelp(rest)
      else {
        const type = rest.trim()
        if (!METRIC_TYPES.has(type)) throw new PromParseError(lineNo, `unknown metric type ${JSON.stringify(type)} for ${name}`)
        family(name).type = type as MetricType
      }
      return
    }
    const sample = parseSampleLine(line, lineNo)
    family(familyOf(families, sample.name)).samples.push(sample)
  })
  return families
}

/** The family a sample belongs to: its own name, or a typed family whose suffix it carries. */
function familyOf(families: PromExposition, sampleName: string): string {
  if (families.has(sampleName) && families.get(sampleName)?.type !== 'untyped') return sampleName
  for (const [name, f] of families) {
    if (!sampleName.startsWith(name)) continue
    const suffix = sampleName.slice(name.length)
    if (SUFFIXES[f.type]?.includes(suffix)) return name
  }
  return sampleName
}

function parseSampleLine(line: string, lineNo: number): PromSample {
  const name = NAME.exec(line)?.[0]
  if (name === undefined) throw new PromParseError(lineNo, 'expected a metric name')
  let pos = name.length
  const labels: Record<string, string> = {}
  if (line[skipSpaces(line, pos)] === '{') {
    pos = skipSpaces(line, pos) + 1
    for (;;) {
      pos = skipSpaces(line, pos)
      if (line[pos] === '}') {
        pos++
        break
      }
      const labelName = LABEL_NAME.exec(line.slice(pos))?.[0]
      if (labelName === undefined) throw new PromParseError(lineNo, `expected a label name at column ${pos + 1}`)
      pos = skipSpaces(line, pos + labelName.length)
      if (line[pos] !== '=') throw new PromParseError(lineNo, `expected = after label ${labelName}`)
      pos = skipSpaces(line, pos + 1)
      if (line[pos] !== '"') throw new PromParseError(lineNo, `expected a quoted value for label ${labelName}`)
      const {value, end} = readQuoted(line, pos + 1, lineNo)
      if (Object.hasOwn(labels, labelName)) throw new PromParseError(lineNo, `label ${labelName} given twice`)
      labels[labelName] = value
      pos = skipSpaces(line, end)
      if (line[pos] === ',') pos++
      else if (line[pos] !== '}') throw new PromParseError(lineNo, `expected , or } after label ${labelName}`)
    }
  }
  // The value, an optional timestamp, then (OpenMetrics) an optional exemplar after " # ".
  const rest = line.slice(pos)
  const hash = rest.indexOf('#')
  const fields = (hash === -1 ? rest : rest.slice(0, hash)).trim().split(/\s+/)
  if (fields[0] === undefined || fields[0] === '') throw new PromParseError(lineNo, `expected a value after ${name}`)
  if (!/^\s/.test(rest)) throw new PromParseError(lineNo, `expected a space before the value of ${name}`)
  const value = parseValue(fields[0])
  if (value === null) throw new PromParseError(lineNo, `not a number: ${JSON.stringify(fields[0].slice(0, 40))}`)
  const sample: PromSample = {name, labels, value}
  if (fields[1] !== undefined) {
    const ts = parseValue(fields[1])
    if (ts === null || !Number.isFinite(ts)) throw new PromParseError(lineNo, `not a timestamp: ${JSON.stringify(fields[1].slice(0, 40))}`)
    // The classic text format writes milliseconds as an integer; OpenMetrics writes seconds with a fraction.
    sample.timestampMs = fields[1].includes('.') ? ts * 1_000 : ts
  }
  if (fields.length > 2) throw new PromParseError(lineNo, `unexpected text after the value of ${name}`)
  return sample
}

function skipSpaces(line: string, pos: number): number {
  let p = pos
  while (line[p] === ' ' || line[p] === '\t') p++
  return p
}

function readQuoted(line: string, start: number, lineNo: number): {value: string; end: number} {
  let value = ''
  for (let p = start; p < line.length; p++) {
    const c = line[p]
    if (c === '"') return {value, end: p + 1}
    if (c === '\\') {
      const next = line[++p]
      if (next === 'n') value += '\n'
      else if (next === '\\' || next === '"') value += next
      else if (next === undefined) break
      else value += `\\${next}`
    } else value += c
  }
  throw new PromParseError(lineNo, 'unterminated label value')
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'))
}

/** As Go's strconv.ParseFloat, which Prometheus uses: NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string): number | null {
  switch (text.toLowerCase()) {
    case 'nan':
      return NaN
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity
    case '-inf':
    case '-infinity':
      return -Infinity
    default:
      return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? Number(text) : null
  }
}

// ---------------------------------------------------------------------------------------------
// Scraping

export interface ScrapeOptions {
  timeoutMs: number
  signal?: AbortSignal
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch
}

/** Pages bigger than this are refused: a runtime's /metrics is a few tens of KiB. */
const MAX_PAGE_BYTES = 16 * 1024 * 1024

/** GET `url` (a /metrics page) and parse it. Throws with a one-line reason on any failure. */
export async function scrapeMetrics(url: string, options: ScrapeOptions): Promise<PromExposition> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const doFetch = options.fetch ?? fetch
  let text: string
  try {
    const res = await doFetch(url, {signal, headers: {accept: 'text/plain;version=0.0.4;q=0.9, */*;q=0.1'}})
    if (!res.ok) {
      await res.body?.cancel()
      throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`)
    }
    const length = Number(res.headers.get('content-length') ?? 0)
    if (length > MAX_PAGE_BYTES) {
      await res.body?.cancel()
      throw new Error(`the page is ${length} bytes, more than the ${MAX_PAGE_BYTES} payctl reads`)
    }
    text = await res.text()
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : err
    if (timeout.aborted) throw new Error(`no answer within ${options.timeoutMs} ms`, {cause: err})
    throw new Error(fetchReason(err), {cause: err})
  }
  try {
    return parsePrometheusText(text)
  } catch (err) {
    throw new Error(`not Prometheus text format: ${(err as Error).message}`, {cause: err})
  }
}

/** fetch says "fetch failed" and hides the reason (ECONNREFUSED, ...) in its cause. */
function fetchReason(err: unknown): string {
  const e = err as {message?: string; cause?: {code?: string; message?: string}}
  const cause = [e.cause?.code, e.cause?.message].filter((x) => x !== undefined && x !== '').join(': ')
  return cause === '' ? (e.message ?? String(err)) : `${e.message ?? 'request failed'} (${cause})`
}

// ---------------------------------------------------------------------------------------------
// Counter deltas

/** Sample names whose values only grow while a process lives (counters and histogram/summary counts). */
function isCounting(family: PromFamily, sample: PromSample): boolean {
  switch (family.type) {
    case 'counter':
      return !sample.name.endsWith('_created')
    case 'histogram':
    case 'summary':
      // _sum is left out: it goes down when negative values are observed, so it cannot show a restart.
      return sample.name.endsWith('_bucket') || sample.name.endsWith('_count')
    case 'gauge':
    case 'gaugehistogram':
    case 'info':
    case 'stateset':
    case 'unknown':
    case 'untyped':
      return false
  }
}

export function seriesKey(name: string, labels: Labels): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',')}}`
}

export interface CounterDelta {
  /** What each counting series grew by between the two scrapes. */
  samples: PromSample[]
  /**
   * True when the process restarted in between (a counter went down, or process_start_time_seconds
   * changed): its counters started again from zero, so the whole of `current` is the growth.
   */
  restarted: boolean
}

/**
 * What the counters of one process grew by from `previous` to `current`. A series that appears
 * only in `current` grew from zero: prom-client creates a labelled series at its first event
 * (the first 500 of a route), and that event must count.
 */
export function counterDelta(previous: PromExposition, current: PromExposition): CounterDelta {
  const before = new Map<string, number>()
  for (const f of previous.values()) for (const s of f.samples) if (isCounting(f, s)) before.set(seriesKey(s.name, s.labels), s.value)
  const start = (e: PromExposition): number | undefined => e.get('process_start_time_seconds')?.samples[0]?.value
  const startBefore = start(previous)
  const startNow = start(current)
  let restarted = startBefore !== undefined && startNow !== undefined && startBefore !== startNow
  const grown: {sample: PromSample; was: number}[] = []
  for (const f of current.values()) {
    for (const s of f.samples) {
      if (!isCounting(f, s)) continue
      const was = before.get(seriesKey(s.name, s.labels)) ?? 0
      if (s.value < was) restarted = true
      grown.push({sample: s, was})
    }
  }
  return {
    restarted,
    samples: grown.map(({sample, was}) => ({name: sample.name, labels: sample.labels, value: restarted ? sample.value : sample.value - was})),
  }
}

// ---------------------------------------------------------------------------------------------
// histogram_quantile

export interface Bucket {
  /** Upper bound (the `le` label); Infinity for +Inf. */
  le: number
  /** Cumulative count of observations <= le. */
  count: number
}

/** Sums `<name>_bucket` samples whose labels include `match`, by `le` (sum by (le) in PromQL). */
export function sumBuckets(samples: readonly PromSample[], name: string, match: Labels = {}): Bucket[] {
  const byLe = new Map<number, number>()
  for (const s of samples) {
    if (s.name !== `${name}_bucket`) continue
    if (!Object.entries(match).every(([k, v]) => s.labels[k] === v)) continue
    const le = parseValue(s.labels.le ?? '')
    if (le === null || Number.isNaN(le)) continue
    byLe.set(le, (byLe.get(le) ?? 0) + s.value)
  }
  return [...byLe].map(([le, count]) => ({le, count})).sort((a, b) => a.le - b.le)
}

/**
 * Prometheus' histogram_quantile (promql/quantile.go, bucketQuantile): linear interpolation
 * within the bucket the rank falls in, the lowest bucket starting at 0; a rank in the +Inf bucket
 * gives the highest finite bound. NaN without a +Inf bucket or without observations. Counts that
 * are not monotonic (sums of deltas from scrapes taken a moment apart) are raised to monotonic,
 * as Prometheus does.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  if (Number.isNaN(q)) return NaN
  if (q < 0) return -Infinity
  if (q > 1) return Infinity
  const sorted = coalesce([...buckets].sort((a, b) => a.le - b.le))
  const last = sorted.at(-1)
  if (last === undefined || last.le !== Infinity || sorted.length < 2) return NaN
  let max = -Infinity
  for (const b of sorted) {
    if (b.count < max) b.count = max
    else max = b.count
  }
  const observations = last.count
  if (!(observations > 0)) return NaN
  let rank = q * observations
  let b = sorted.findIndex((x, i) => i < sorted.length - 1 && x.count >= rank)
  if (b === -1) b = sorted.length - 1
  if (b === sorted.length - 1) return (sorted[sorted.length - 2] as Bucket).le
  const bucket = sorted[b] as Bucket
  if (b === 0 && bucket.le <= 0) return bucket.le
  let start = 0
  let count = bucket.count
  if (b > 0) {
    const prev = sorted[b - 1] as Bucket
    start = prev.le
    count -= prev.count
    rank -= prev.count
  }
  return start + (bucket.le - start) * (rank / count)
}

/** Buckets with the same bound (from different series) added together; input sorted. */
function coalesce(sorted: Bucket[]): Bucket[] {
  const out: Bucket[] = []
  for (const b of sorted) {
    const last = out.at(-1)
    if (last !== undefined && last.le === b.le) last.count += b.count
    else out.push({le: b.le, count: b.count})
  }
  return out
}
