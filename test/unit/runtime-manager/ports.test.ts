import {describe, expect, it} from 'vitest'
import {assignPorts, type PortProbe, preferredPorts} from '../../../src/runtime-manager/index.js'

/** A probe over a fixed set of busy ports; the "OS" hands out 40000, 40001, ... */
function fakeProbe(busy: number[]): PortProbe & {asked: number} {
  let next = 40_000
  const probe = {
    asked: 0,
    isFree: (port: number) => Promise.resolve(!busy.includes(port)),
    anyFree: (exclude: ReadonlySet<number>) => {
      probe.asked++
      while (exclude.has(next) || busy.includes(next)) next++
      return Promise.resolve(next++)
    },
  }
  return probe
}

describe('preferredPorts', () => {
  it('gives rt-k the base port + k - 1, whichever instances are started', () => {
    expect(preferredPorts(18080, ['rt-1', 'rt-2'])).toEqual([18080, 18081])
    expect(preferredPorts(18080, ['rt-2'])).toEqual([18081])
    expect(preferredPorts(9000, ['rt-3', 'rt-10'])).toEqual([9002, 9009])
  })

  it('asks for any port everywhere when the base port is 0', () => {
    expect(preferredPorts(0, ['rt-1', 'rt-2'])).toEqual([0, 0])
  })
})

describe('assignPorts', () => {
  it('takes the preferred ports when they are free, without asking the OS', async () => {
    const probe = fakeProbe([])
    expect(await assignPorts([18080, 18081], new Set(), probe)).toEqual([18080, 18081])
    expect(probe.asked).toBe(0)
  })

  it('replaces a port another program holds with one from the OS, keeping the others', async () => {
    const probe = fakeProbe([18080])
    expect(await assignPorts([18080, 18081], new Set(), probe)).toEqual([40000, 18081])
  })

  it('never hands out a port in `taken` (instances that keep running) or twice', async () => {
    const probe = fakeProbe([])
    const taken = new Set([18080, 40000])
    expect(await assignPorts([18080, 18081, 0, 0], taken, probe)).toEqual([40001, 18081, 40002, 40003])
    expect([...taken]).toEqual([18080, 40000])
  })

  it('treats an out-of-range preference as "any port"', async () => {
    expect(await assignPorts([65_536], new Set(), fakeProbe([]))).toEqual([40000])
  })
})
