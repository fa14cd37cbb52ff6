/**
 * TCP port choice for the sandbox servers: a preferred port when it is free, else one the OS
 * hands out. "Free" is checked by binding 127.0.0.1 (the address the servers bind), which also
 * fails when another process listens on the wildcard address.
 */
import {createServer} from 'node:net'

export const DEFAULT_PORTS = {legacy: 13306, target: 13307} as const

function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.unref()
    server.once('error', () => resolve(null))
    server.listen({port, host: '127.0.0.1', exclusive: true}, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : null
      server.close(() => resolve(bound))
    })
  })
}

export async function isPortFree(port: number): Promise<boolean> {
  return (await listenOnce(port)) === port
}

/** A port the OS considers free right now (there is a small race until the server binds it). */
export async function freePort(exclude: ReadonlySet<number> = new Set()): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await listenOnce(0)
    if (port !== null && !exclude.has(port)) return port
  }
  throw new Error('could not get a free TCP port from the OS')
}

/**
 * The first candidate that is free and not excluded, else an OS-chosen port. A candidate of 0
 * means "any free port" and is skipped here.
 */
export async function pickPort(candidates: readonly number[], exclude: ReadonlySet<number>): Promise<number> {
  for (const port of candidates) {
    if (port > 0 && !exclude.has(port) && (await isPortFree(port))) return port
  }
  return freePort(exclude)
}
