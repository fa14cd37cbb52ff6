/**
 * Port choice for runtime instances: instance i prefers basePort + i, so a sandbox's instances
 * come up on the same, documented ports (18080, 18081, ...) run after run; a port that is taken
 * (by another program, or by an instance of another sandbox) is replaced by one the OS picks
 * rather than failing the start.
 */
import {freePort, isPortFree} from '../sandbox/ports.js'

export interface PortProbe {
  isFree(port: number): Promise<boolean>
  /** A port the OS hands out that is not in `exclude`. */
  anyFree(exclude: ReadonlySet<number>): Promise<number>
}

const osProbe: PortProbe = {isFree: isPortFree, anyFree: freePort}

/** Instance `rt-k` prefers basePort + k - 1, whichever instances are started; 0 = any free port. */
export function preferredPorts(basePort: number, ids: readonly string[]): number[] {
  return ids.map((id, i) => {
    if (basePort === 0) return 0
    const k = Number(/^rt-(\d+)$/.exec(id)?.[1] ?? i + 1)
    return basePort + k - 1
  })
}

/**
 * One distinct port per preference, none in `taken`: the preferred port when it is free, else
 * one the OS picks. A preference of 0 means "any free port". `taken` is not modified.
 */
export async function assignPorts(preferred: readonly number[], taken: ReadonlySet<number> = new Set(), probe: PortProbe = osProbe): Promise<number[]> {
  const used = new Set(taken)
  const ports: number[] = []
  for (const want of preferred) {
    let port: number
    if (want > 0 && want <= 65_535 && !used.has(want) && (await probe.isFree(want))) port = want
    else port = await probe.anyFree(used)
    used.add(port)
    ports.push(port)
  }
  return ports
}
