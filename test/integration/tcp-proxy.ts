/**
 * A TCP proxy in front of a database server, for network faults between one runtime instance and
 * a server: `pass` forwards, `cut` drops every open connection and every new one (a partition).
 */
import net from 'node:net'

export interface TcpProxy {
  port: number
  mode: 'pass' | 'cut'
  /** Connections dropped since the proxy started. */
  dropped: number
  setMode(mode: 'pass' | 'cut'): void
  close(): Promise<void>
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const open = new Set<net.Socket>()
  const proxy: TcpProxy = {
    port: 0,
    mode: 'pass',
    dropped: 0,
    setMode(mode) {
      proxy.mode = mode
      if (mode === 'cut') {
        for (const s of open) s.destroy()
        proxy.dropped += open.size
        open.clear()
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy()
        server.close(() => resolve())
      }),
  }
  const server = net.createServer((client) => {
    if (proxy.mode === 'cut') {
      proxy.dropped++
      client.destroy()
      return
    }
    const upstream = net.connect(targetPort, targetHost)
    open.add(client)
    open.add(upstream)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
      open.delete(client)
      open.delete(upstream)
    }
    client.on('error', end)
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  proxy.port = typeof address === 'object' && address !== null ? address.port : 0
  return proxy
}
