import {describe, expect, it} from 'vitest'
import type {RoutingDesired} from '../../../../src/control/routing-store.js'
import type {CapturePosition} from '../../../../src/engines/replication.js'
import {appliedAtLeast, actedOn, type ReplicationPositions} from '../../../../src/migrators/replicate/control.js'
import {detachedArgs, replicateLogFile} from '../../../../src/migrators/replicate/detached.js'
import {nextHandover, NOT_ACTED} from '../../../../src/migrators/replicate/handover.js'
import {LagMeter} from '../../../../src/migrators/replicate/lag-meter.js'
import type {ReplicationStatus} from '../../../../src/migrators/replicate/replicate.js'

const src = (n: number): CapturePosition => ({kind: 'binlog', file: 'source-bin.000001', pos: n, gtid: null})
const tgt = (n: number): CapturePosition => ({kind: 'binlog', file: 'target-bin.000001', pos: n, gtid: null})
const v = (version: number, replication: RoutingDesired['replication']) => ({version, replication})

describe('nextHandover', () => {
  it('stays when nothing is newer than the version acted on', () => {
    expect(nextHandover({version: 3, direction: 'forward'}, [v(2, {direction: 'reverse', from: tgt(1)}), v(3, {direction: 'forward'})])).toEqual({kind: 'stay'})
    expect(nextHandover(NOT_ACTED, [])).toEqual({kind: 'stay'})
  })

  it('adopts newer versions that keep the running direction (read shifts), whatever their positions', () => {
    expect(nextHandover({version: 1, direction: 'forward'}, [v(2, {direction: 'forward'}), v(3, {direction: 'forward', stopAt: src(9), from: src(9)})])).toEqual({kind: 'adopt', version: 3})
  })

  it('switches forward -> reverse at the flip, draining forward to the source position and starting at the target position', () => {
    expect(nextHandover({version: 4, direction: 'forward'}, [v(5, {direction: 'reverse', stopAt: src(100), from: tgt(50)})])).toEqual({
      kind: 'switch',
      version: 5,
      from: 'forward',
      to: 'reverse',
      stopAt: src(100),
      start: tgt(50),
    })
  })

  it('stops at what is applied when stopAt is absent', () => {
    expect(nextHandover({version: 1, direction: 'forward'}, [v(2, {direction: 'reverse', from: tgt(7)})])).toMatchObject({kind: 'switch', stopAt: null, start: tgt(7)})
  })

  it('replays the switches a stopped process missed, oldest first: a flip and its rollback both run', () => {
    const versions = [v(7, {direction: 'forward'}), v(8, {direction: 'forward'}), v(9, {direction: 'reverse', stopAt: src(100), from: tgt(50)}), v(10, {direction: 'reverse'}), v(11, {direction: 'forward', stopAt: tgt(80), from: src(140)})]
    const first = nextHandover({version: 6, direction: 'forward'}, versions)
    expect(first).toMatchObject({kind: 'switch', version: 9, to: 'reverse', stopAt: src(100), start: tgt(50)})
    // once version 9 is recorded, the rollback comes next
    expect(nextHandover({version: 9, direction: 'reverse'}, versions)).toMatchObject({kind: 'switch', version: 11, from: 'reverse', to: 'forward', stopAt: tgt(80), start: src(140)})
    expect(nextHandover({version: 11, direction: 'forward'}, versions)).toEqual({kind: 'stay'})
  })

  it('orders versions itself (history comes newest first)', () => {
    const versions = [v(3, {direction: 'forward', stopAt: tgt(9), from: src(9)}), v(2, {direction: 'reverse', from: tgt(1)})]
    expect(nextHandover({version: 1, direction: 'forward'}, versions)).toMatchObject({kind: 'switch', version: 2, to: 'reverse'})
  })

  it('finalizes with none: drains to stopAt, nothing starts', () => {
    expect(nextHandover({version: 5, direction: 'reverse'}, [v(6, {direction: 'none', stopAt: tgt(90)})])).toEqual({kind: 'switch', version: 6, from: 'reverse', to: 'none', stopAt: tgt(90), start: null})
    expect(nextHandover({version: 6, direction: 'none'}, [v(6, {direction: 'none'})])).toEqual({kind: 'stay'})
  })

  it('refuses a switch without from: the start of the other side\'s writes cannot be guessed', () => {
    expect(nextHandover({version: 1, direction: 'forward'}, [v(2, {direction: 'reverse', stopAt: src(5)})])).toMatchObject({kind: 'invalid', version: 2})
    expect(nextHandover({version: 2, direction: 'reverse'}, [v(3, {direction: 'forward', stopAt: tgt(5), from: null})])).toMatchObject({kind: 'invalid', version: 3})
  })
})

describe('LagMeter', () => {
  it('is the age of the oldest sampled position not yet applied', () => {
    const m = new LagMeter()
    expect(m.lagSeconds(src(10), 1_000)).toBe(0)
    m.sample(src(10), 1_000)
    m.sample(src(20), 2_000)
    m.sample(src(20), 2_500)
    expect(m.latest).toEqual(src(20))
    expect(m.lagSeconds(src(5), 4_000)).toBe(3)
    expect(m.lagSeconds(src(10), 4_000)).toBe(2)
    expect(m.lagSeconds(src(25), 4_000)).toBe(0)
  })
})

function positions(p: Partial<ReplicationPositions>, status: Partial<ReplicationStatus> | null = null, alive = true): ReplicationPositions {
  return {forward: null, reverse: null, acted: null, ...p, process: {alive, host: 'h', pid: 1, heartbeatAgeMs: 100, status: status as ReplicationStatus | null}}
}

describe('cutover helpers', () => {
  it('appliedAtLeast takes the saved position, or what a live process published for that direction', () => {
    expect(appliedAtLeast(positions({forward: src(10)}), 'forward', src(10))).toBe(true)
    expect(appliedAtLeast(positions({forward: src(9)}), 'forward', src(10))).toBe(false)
    // reverse saves lazily while idle: the published applied position counts while the process lives
    const reverse = {position: tgt(30), targetPosition: tgt(30), lagSeconds: 0, lagEvents: 0, changesApplied: 0, applyRatePerSecond: 0}
    expect(appliedAtLeast(positions({reverse: tgt(20)}, {direction: 'reverse', reverse}), 'reverse', tgt(30))).toBe(true)
    expect(appliedAtLeast(positions({reverse: tgt(20)}, {direction: 'reverse', reverse}, false), 'reverse', tgt(30))).toBe(false)
    // a position of the other kind never counts
    expect(appliedAtLeast(positions({forward: src(10)}), 'forward', {kind: 'lsn', commitLsn: '0'.repeat(20), changeLsn: null})).toBe(false)
  })

  it('actedOn compares the recorded routing version', () => {
    expect(actedOn(positions({acted: {version: 5, direction: 'reverse'}}), 5)).toBe(true)
    expect(actedOn(positions({acted: {version: 4, direction: 'forward'}}), 5)).toBe(false)
    expect(actedOn(positions({}), 1)).toBe(false)
  })
})

describe('payctl replicate --detach', () => {
  it('runs the same command without --detach, logging next to the config', () => {
    expect(detachedArgs(['/x/bin/run.js', 'replicate', '--detach', '--workers', '2', '--detach=true'])).toEqual(['/x/bin/run.js', 'replicate', '--workers', '2'])
    expect(replicateLogFile('/etc/payctl/payctl.yaml')).toBe('/etc/payctl/.payctl/replicate.log')
  })
})
