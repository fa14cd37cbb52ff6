import {createServer, type Server} from 'node:http'
import {type AddressInfo, createServer as createNetServer} from 'node:net'
import {Counter, Gauge, Histogram, type OpenMetricsContentType, Registry, collectDefaultMetrics} from 'prom-client'
import {afterEach, describe, expect, it} from 'vitest'
import type {Bucket} from '../../../src/cutover/prometheus.js'
import {counterDelta, histogramQuantile, parsePrometheusText, PromParseError, scrapeMetrics, seriesKey, sumBuckets} from '../../../src/cutover/prometheus.js'

/** A registry shaped like the runtime's (runtime/src/http/metrics.ts). */
function runtimeLike() {
  const registry = new Registry()
  const requests = new Counter({name: 'http_requests_total', help: 'HTTP requests by method, route template and status code.', labelNames: ['method', 'route', 'status'] as const, registers: [registry]})
  const db = new Histogram({
    name: 'db_query_duration_seconds',
    help: 'Database statement latency by side (source|target) and statement.',
    labelNames: ['side', 'op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  })
  const pool = new Gauge({name: 'db_pool_connections', help: 'Connections of each side\'s pool by state.', labelNames: ['side', 'state'] as const, registers: [registry]})
  return {registry, requests, db, pool}
}

describe('parsePrometheusText on prom-client output', () => {
  it('reads counters, gauges and histograms with their labels, types and help', async () => {
    const m = runtimeLike()
    m.requests.inc({method: 'POST', route: '/v1/payment_intents', status: '201'}, 7)
    m.requests.inc({method: 'GET', route: '/v1/payment_intents/:id', status: '503'})
    m.db.observe({side: 'target', op: 'intentByPublicId'}, 0.003)
    m.db.observe({side: 'target', op: 'intentByPublicId'}, 2)
    m.pool.set({side: 'source', state: 'idle'}, 3)
    const e = parsePrometheusText(await m.registry.metrics())

    const requests = e.get('http_requests_total')
    expect(requests?.type).toBe('counter')
    expect(requests?.help).toBe('HTTP requests by method, route template and status code.')
    expect(requests?.samples).toEqual([
      {name: 'http_requests_total', labels: {method: 'POST', route: '/v1/payment_intents', status: '201'}, value: 7},
      {name: 'http_requests_total', labels: {method: 'GET', route: '/v1/payment_intents/:id', status: '503'}, value: 1},
    ])
    expect(e.get('db_pool_connections')).toMatchObject({type: 'gauge', help: "Connections of each side's pool by state.", samples: [{labels: {side: 'source', state: 'idle'}, value: 3}]})

    const hist = e.get('db_query_duration_seconds')
    expect(hist?.type).toBe('histogram')
    // every _bucket, _sum and _count line belongs to the histogram family, none to a family of its own
    expect(new Set(hist?.samples.map((s) => s.name))).toEqual(new Set(['db_query_duration_seconds_bucket', 'db_query_duration_seconds_sum', 'db_query_duration_seconds_count']))
    expect(e.has('db_query_duration_seconds_bucket')).toBe(false)
    const buckets = sumBuckets(hist?.samples ?? [], 'db_query_duration_seconds', {side: 'target'})
    expect(buckets.map((b) => [b.le, b.count])).toEqual([
      [0.0005, 0],
      [0.001, 0],
      [0.0025, 0],
      [0.005, 1],
      [0.01, 1],
      [0.025, 1],
      [0.05, 1],
      [0.1, 1],
      [0.25, 1],
      [1, 1],
      [Infinity, 2],
    ])
    expect(hist?.samples.find((s) => s.name.endsWith('_sum'))?.value).toBeCloseTo(2.003)
  })

  it('unescapes quotes, backslashes and newlines in label values and help text', async () => {
    const registry = new Registry()
    const c = new Counter({name: 'odd_total', help: 'help with \\ and\nnewline', labelNames: ['v'] as const, registers: [registry]})
    const nasty = 'a "quoted" \\path\\ with\nnewline, {braces}=and,commas'
    c.inc({v: nasty}, 2)
    const text = await registry.metrics()
    expect(text).toContain('\\"quoted\\"')
    const e = parsePrometheusText(text)
    expect(e.get('odd_total')?.help).toBe('help with \\ and\nnewline')
    expect(e.get('odd_total')?.samples[0]).toEqual({name: 'odd_total', labels: {v: nasty}, value: 2})
  })

  it('reads the default process metrics, NaN written as prom-client writes it ("Nan") included', async () => {
    const registry = new Registry()
    collectDefaultMetrics({register: registry})
    const e = parsePrometheusText(await registry.metrics())
    expect(e.get('process_start_time_seconds')?.samples[0]?.value).toBeGreaterThan(1_600_000_000)
    expect(e.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge')
    expect(parsePrometheusText('x Nan\ny +Inf\nz -inf\n').get('x')?.samples[0]?.value).toBeNaN()
    expect([...parsePrometheusText('y +Inf\nz -inf\n').values()].map((f) => f.samples[0]?.value)).toEqual([Infinity, -Infinity])
  })

  it('reads OpenMetrics text too: counter families without _total, # EOF, exemplars', async () => {
    const registry = new Registry<OpenMetricsContentType>()
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    const c = new Counter({name: 'http_requests_total', help: 'r', labelNames: ['status', 'traceId'] as const, registers: [registry], enableExemplars: true})
    c.inc({labels: {status: '500'}, value: 3, exemplarLabels: {traceId: 'abc'}})
    const text = await registry.metrics()
    expect(text).toContain('# EOF')
    expect(text).toContain('# {traceId="abc"} 3')
    const e = parsePrometheusText(text)
    expect(e.get('http_requests')).toMatchObject({type: 'counter', samples: [{name: 'http_requests_total', labels: {status: '500'}, value: 3}]})
  })

  it('reads timestamps, spacing variants, untyped samples and trailing commas', () => {
    const e = parsePrometheusText(['# a comment', '', 'plain 1.5e3 1700000000000', 'spaced { a = "1" , b="2", } 4', 'frac 2 1700000000.5', 'windows 1\r'].join('\n'))
    expect(e.get('plain')).toEqual({name: 'plain', type: 'untyped', help: null, samples: [{name: 'plain', labels: {}, value: 1500, timestampMs: 1_700_000_000_000}]})
    expect(e.get('spaced')?.samples[0]?.labels).toEqual({a: '1', b: '2'})
    expect(e.get('frac')?.samples[0]?.timestampMs).toBe(1_700_000_000_500)
    expect(e.get('windows')?.samples[0]?.value).toBe(1)
  })

  it.each([
    ['x{a="1"', 1, 'unterminated label value', 'x{a="1'],
    ['no value', 1, 'expected a value after no', 'no'],
    ['no space before the value', 1, 'expected a space before the value of bad', 'bad{}1'],
    ['not a number', 1, 'not a number: "abc"', 'x abc'],
    ['duplicate label', 2, 'label a given twice', 'ok 1\nx{a="1",a="2"} 1'],
    ['unknown type', 1, 'unknown metric type "widget" for x', '# TYPE x widget'],
    ['unquoted label', 1, 'expected a quoted value for label a', 'x{a=1} 1'],
    ['extra text', 1, 'unexpected text after the value of x', 'x 1 2 3'],
  ])('refuses %s with its line number', (_name, line, reason, text) => {
    let err: unknown
    try {
      parsePrometheusText(text)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PromParseError)
    expect(err).toMatchObject({line, reason})
  })
})

describe('histogramQuantile', () => {
  const b = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({le, count}))

  it('gives the values of Prometheus histogram_quantile on its own test data', () => {
    // promql/promqltest/testdata/histograms.test: testhistogram_bucket{start="positive"}
    const positive = b([
      [0.1, 50],
      [0.2, 70],
      [Infinity, 100],
    ])
    expect(histogramQuantile(0.2, positive)).toBeCloseTo(0.04)
    expect(histogramQuantile(0.5, positive)).toBeCloseTo(0.1)
    expect(histogramQuantile(0.8, positive)).toBeCloseTo(0.2)
    expect(histogramQuantile(0, positive)).toBe(0)
    expect(histogramQuantile(1, positive)).toBeCloseTo(0.2)
    expect(histogramQuantile(-0.1, positive)).toBe(-Infinity)
    expect(histogramQuantile(1.2, positive)).toBe(Infinity)
  })

  it('interpolates linearly inside the bucket the rank falls in, from 0 in the lowest', () => {
    const latency = b([
      [0.1, 10],
      [0.25, 50],
      [0.5, 90],
      [1, 100],
      [Infinity, 100],
    ])
    expect(histogramQuantile(0.05, latency)).toBeCloseTo(0.05) // 0 + 0.1 * 5/10
    expect(histogramQuantile(0.5, latency)).toBeCloseTo(0.25) // 0.1 + 0.15 * 40/40
    expect(histogramQuantile(0.7, latency)).toBeCloseTo(0.375) // 0.25 + 0.25 * 20/40
    expect(histogramQuantile(0.99, latency)).toBeCloseTo(0.95) // 0.5 + 0.5 * 9/10
  })

  it('answers the highest finite bound when the rank is in the +Inf bucket', () => {
    expect(
      histogramQuantile(
        0.99,
        b([
          [0.25, 10],
          [1, 100],
          [Infinity, 200],
        ]),
      ),
    ).toBe(1)
  })

  it('is NaN without observations or without a +Inf bucket', () => {
    expect(histogramQuantile(0.99, b([[0.1, 0], [Infinity, 0]]))).toBeNaN()
    expect(histogramQuantile(0.99, b([[0.1, 5], [1, 10]]))).toBeNaN()
    expect(histogramQuantile(0.99, [])).toBeNaN()
    expect(histogramQuantile(Number.NaN, b([[0.1, 5], [Infinity, 10]]))).toBeNaN()
  })

  it('raises counts that are not monotonic, and adds buckets of the same bound, as Prometheus does', () => {
    // 0.25 has fewer than 0.1: taken as 10
    expect(histogramQuantile(0.5, b([[0.1, 10], [0.25, 8], [Infinity, 20]]))).toBeCloseTo(0.1)
    // unsorted input, and two series' buckets not yet summed
    expect(histogramQuantile(0.5, b([[Infinity, 10], [0.1, 2], [Infinity, 10], [0.1, 8], [0.2, 20], [0.2, 0]]))).toBeCloseTo(0.1)
  })

  it('matches a p99 computed from prom-client buckets of known observations', async () => {
    const m = runtimeLike()
    for (let i = 0; i < 98; i++) m.db.observe({side: 'source', op: 'a'}, 0.004)
    m.db.observe({side: 'source', op: 'b'}, 0.2)
    m.db.observe({side: 'source', op: 'b'}, 0.2)
    const samples = [...parsePrometheusText(await m.registry.metrics()).values()].flatMap((f) => f.samples)
    const buckets = sumBuckets(samples, 'db_query_duration_seconds', {side: 'source'})
    // rank 99 of 100 falls in (0.1, 0.25], which holds observations 99 and 100: 0.1 + 0.15 * 1/2
    expect(histogramQuantile(0.99, buckets)).toBeCloseTo(0.175)
    expect(sumBuckets(samples, 'db_query_duration_seconds', {side: 'target'})).toEqual([])
  })
})

describe('counterDelta', () => {
  const page = (lines: string[]) => parsePrometheusText(lines.join('\n'))
  const PREV = page([
    '# TYPE http_requests_total counter',
    'http_requests_total{status="200"} 100',
    'http_requests_total{status="500"} 2',
    '# TYPE h histogram',
    'h_bucket{le="0.1"} 10',
    'h_bucket{le="+Inf"} 12',
    'h_sum 1.5',
    'h_count 12',
    '# TYPE g gauge',
    'g 7',
    '# TYPE process_start_time_seconds gauge',
    'process_start_time_seconds 1000',
  ])
  const values = (d: ReturnType<typeof counterDelta>) => Object.fromEntries(d.samples.map((s) => [seriesKey(s.name, s.labels), s.value]))

  it('subtracts counters and histogram counts, and counts a series that appeared from zero', () => {
    const d = counterDelta(
      PREV,
      page([
        '# TYPE http_requests_total counter',
        'http_requests_total{status="200"} 150',
        'http_requests_total{status="500"} 2',
        'http_requests_total{status="503"} 4',
        '# TYPE h histogram',
        'h_bucket{le="0.1"} 15',
        'h_bucket{le="+Inf"} 20',
        'h_sum 3',
        'h_count 20',
        '# TYPE g gauge',
        'g 1',
        '# TYPE process_start_time_seconds gauge',
        'process_start_time_seconds 1000',
      ]),
    )
    expect(d.restarted).toBe(false)
    expect(values(d)).toEqual({
      'http_requests_total{status="200"}': 50,
      'http_requests_total{status="500"}': 0,
      'http_requests_total{status="503"}': 4,
      'h_bucket{le="0.1"}': 5,
      'h_bucket{le="+Inf"}': 8,
      'h_count{}': 8,
    })
  })

  it('takes a restarted process from zero when a counter went down', () => {
    const d = counterDelta(PREV, page(['# TYPE http_requests_total counter', 'http_requests_total{status="200"} 30', 'http_requests_total{status="500"} 3']))
    expect(d.restarted).toBe(true)
    expect(values(d)).toEqual({'http_requests_total{status="200"}': 30, 'http_requests_total{status="500"}': 3})
  })

  it('takes a restarted process from zero when its start time changed, even if its counters grew past the old ones', () => {
    const d = counterDelta(
      PREV,
      page(['# TYPE http_requests_total counter', 'http_requests_total{status="200"} 120', '# TYPE process_start_time_seconds gauge', 'process_start_time_seconds 1050']),
    )
    expect(d.restarted).toBe(true)
    expect(values(d)).toEqual({'http_requests_total{status="200"}': 120})
  })

  it('keys series by label set, whatever the label order', () => {
    expect(seriesKey('x', {b: '2', a: '1'})).toBe(seriesKey('x', {a: '1', b: '2'}))
    expect(seriesKey('x', {a: '1"'})).toBe('x{a="1\\""}')
  })
})

describe('scrapeMetrics over HTTP', () => {
  let server: Server | undefined
  afterEach(async () => {
    server?.closeAllConnections()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    server = undefined
  })

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler)
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it('scrapes a real prom-client registry served on /metrics', async () => {
    const m = runtimeLike()
    m.requests.inc({method: 'GET', route: '/health', status: '200'}, 3)
    const base = await serve((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end()
        return
      }
      void m.registry.metrics().then((text) => res.writeHead(200, {'content-type': m.registry.contentType}).end(text))
    })
    const e = await scrapeMetrics(`${base}/metrics`, {timeoutMs: 2_000})
    expect(e.get('http_requests_total')?.samples).toEqual([{name: 'http_requests_total', labels: {method: 'GET', route: '/health', status: '200'}, value: 3}])
  })

  it('fails with the HTTP status, a timeout, a refused connection or a page that does not parse', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/down') res.writeHead(503, 'Service Unavailable').end('no')
      else if (req.url === '/garbage') res.writeHead(200).end('<html>oops</html>')
      // /slow never answers
    })
    await expect(scrapeMetrics(`${base}/down`, {timeoutMs: 2_000})).rejects.toThrow('HTTP 503 Service Unavailable')
    await expect(scrapeMetrics(`${base}/garbage`, {timeoutMs: 2_000})).rejects.toThrow('not Prometheus text format: line 1: expected a metric name')
    await expect(scrapeMetrics(`${base}/slow`, {timeoutMs: 100})).rejects.toThrow('no answer within 100 ms')
    // a port nothing listens on: one the OS just gave out and took back
    const probe = createNetServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const {port} = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    await expect(scrapeMetrics(`http://127.0.0.1:${port}/metrics`, {timeoutMs: 2_000})).rejects.toThrow(/^fetch failed \(ECONNREFUSED: connect ECONNREFUSED/)
  })

  it('stops at once when the caller aborts, with the caller\'s reason', async () => {
    const base = await serve(() => undefined)
    const controller = new AbortController()
    const pending = scrapeMetrics(`${base}/metrics`, {timeoutMs: 10_000, signal: controller.signal})
    controller.abort(new Error('interrupted'))
    await expect(pending).rejects.toThrow('interrupted')
  })
})
