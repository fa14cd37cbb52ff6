/** A tiny real HTTP server for the load generator's tests, with a handler the test controls. */
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

export interface SeenRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

export type Handler = (req: SeenRequest, res: ServerResponse) => unknown

export interface TestServer {
  url: string
  seen: SeenRequest[]
  /** Requests being handled now, and the most at once. */
  readonly inFlight: number
  readonly maxInFlight: number
  /** Distinct TCP connections accepted (keep-alive keeps this far below the request count). */
  readonly connections: number
  handler: Handler
  close(): Promise<void>
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {'content-type': 'application/json'})
  res.end(JSON.stringify(body))
}

export async function startServer(handler: Handler = (_req, res) => json(res, 200, {ok: true})): Promise<TestServer> {
  let inFlight = 0
  let maxInFlight = 0
  let connections = 0
  const sockets = new Set<Socket>()
  const state: TestServer = {
    url: '',
    seen: [],
    get inFlight() {
      return inFlight
    },
    get maxInFlight() {
      return maxInFlight
    },
    get connections() {
      return connections
    },
    handler,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)))
        for (const s of sockets) s.destroy()
      }),
  }
  const server = createServer((req, res) => {
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => inFlight--)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen: SeenRequest = {method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8')}
      state.seen.push(seen)
      Promise.resolve(state.handler(seen, res)).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, {error: {code: 'test_handler', message: String(error)}})
      })
    })
  })
  server.on('connection', (s: Socket) => {
    connections++
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return state
}

/** Polls a condition (a real wait for a state, never a fixed sleep). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
