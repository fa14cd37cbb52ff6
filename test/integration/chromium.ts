/**
 * Headless Chromium driven over the Chrome DevTools Protocol (a WebSocket, the `ws` package):
 * enough to open a local file, record every error, console error and network request, and run
 * script in the page. Every wait has a deadline; nothing sleeps.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'

export const CHROMIUM = '/usr/bin/chromium'

interface CdpMessage {
  id?: number
  method?: string
  params?: Record<string, unknown>
  result?: Record<string, unknown>
  error?: {message: string}
}

export interface PageEvents {
  exceptions: string[]
  consoleErrors: string[]
  logErrors: string[]
  requests: string[]
}

export interface Browser {
  events: PageEvents
  send<T = Record<string, unknown>>(method: string, params?: Record<string, unknown>): Promise<T>
  /** Resolves with the first event of this name after the call. */
  waitFor(method: string, timeoutMs: number): Promise<Record<string, unknown>>
  evaluate<T>(expression: string): Promise<T>
  close(): Promise<void>
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer))
}

function devtoolsPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let err = ''
    const onData = (d: Buffer): void => {
      err += d.toString()
      const m = /DevTools listening on ws:\/\/[^:]+:(\d+)\//.exec(err)
      if (m) {
        child.stderr?.off('data', onData)
        resolve(Number(m[1]))
      }
    }
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`chromium exited (${code}) before DevTools listened:\n${err}`)))
    child.once('error', reject)
  })
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the HTML report test needs Debian's chromium package. Run scripts/setup.sh (it installs it).`)
  }
  const profile = await mkdtemp(path.join(tmpdir(), 'payctl-chromium-'))
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      `--user-data-dir=${profile}`,
      '--remote-debugging-port=0',
      'about:blank',
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  const cleanup = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await withDeadline(exited, 10_000, 'chromium exit').catch(() => child.kill('SIGKILL'))
    }
    await rm(profile, {recursive: true, force: true})
  }
  try {
    const port = await withDeadline(devtoolsPort(child), 30_000, 'chromium start')
    const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as {Browser?: string}
    if (!version.Browser) throw new Error('chromium /json/version has no Browser field')
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{type: string; webSocketDebuggerUrl: string}>
    const page = targets.find((t) => t.type === 'page')
    if (!page) throw new Error('chromium has no page target')
    const ws = new WebSocket(page.webSocketDebuggerUrl)
    await withDeadline(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, 'DevTools WebSocket')
    let nextId = 1
    const pending = new Map<number, {resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void}>()
    const waiters = new Map<string, Array<(p: Record<string, unknown>) => void>>()
    const events: PageEvents = {exceptions: [], consoleErrors: [], logErrors: [], requests: []}
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as CdpMessage
      if (msg.id !== undefined) {
        const p = pending.get(msg.id)
        pending.delete(msg.id)
        if (msg.error) p?.reject(new Error(msg.error.message))
        else p?.resolve(msg.result ?? {})
        return
      }
      const params = msg.params ?? {}
      switch (msg.method ?? '') {
        case 'Runtime.exceptionThrown':
          events.exceptions.push(JSON.stringify(params.exceptionDetails))
          break
        case 'Runtime.consoleAPICalled':
          if (params.type === 'error' || params.type === 'assert') events.consoleErrors.push(JSON.stringify(params.args))
          break
        case 'Log.entryAdded': {
          const entry = params.entry as {level?: string; text?: string; url?: string} | undefined
          if (entry?.level === 'error') events.logErrors.push(`${entry.text ?? ''} ${entry.url ?? ''}`)
          break
        }
        case 'Network.requestWillBeSent':
          events.requests.push((params.request as {url: string}).url)
          break
        default:
          break
      }
      const list = msg.method === undefined ? undefined : waiters.get(msg.method)
      if (list && msg.method !== undefined) {
        waiters.delete(msg.method)
        for (const w of list) w(params)
      }
    })
    const send = <T>(method: string, params: Record<string, unknown> = {}): Promise<T> => {
      const id = nextId++
      const result = new Promise<Record<string, unknown>>((resolve, reject) => pending.set(id, {resolve, reject}))
      ws.send(JSON.stringify({id, method, params}))
      return withDeadline(result, 20_000, method) as Promise<T>
    }
    return {
      events,
      send,
      waitFor: (method, timeoutMs) =>
        withDeadline(new Promise((resolve) => waiters.set(method, [...(waiters.get(method) ?? []), resolve])), timeoutMs, `event ${method}`),
      evaluate: async <T>(expression: string): Promise<T> => {
        const r = await send<{result: {value?: unknown}; exceptionDetails?: unknown}>('Runtime.evaluate', {expression, returnByValue: true})
        if (r.exceptionDetails) throw new Error(`evaluate failed: ${JSON.stringify(r.exceptionDetails)}`)
        return r.result.value as T
      },
      close: async () => {
        ws.close()
        await cleanup()
      },
    }
  } catch (err) {
    await cleanup()
    throw err
  }
}
