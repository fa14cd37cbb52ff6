import {afterEach, describe, expect, it, vi} from 'vitest'
import {formatProgress, startProgressLine} from '../../../src/load/progress.js'
import {loadStats} from './load-result.js'

describe('formatProgress', () => {
  it('shows requests, failures, the achieved rate against the asked one, p99, in flight and drops', () => {
    expect(formatProgress(loadStats({total: 1234, failed: 5, dropped: 2, p99: 12.345, inFlight: 3}))).toBe(
      'load checkout 3s | 1,234 requests | 5 failed | 19.8/s of 20/s | p99 12.3 ms | 3 in flight | 2 dropped',
    )
  })

  it('has no p99 before the first answer, and says when it is finishing after a stop', () => {
    expect(formatProgress(loadStats({total: 0}))).toContain('| p99 - |')
    expect(formatProgress(loadStats({p99: 250, stopReason: 'stopped'}))).toMatch(/p99 250 ms .* \| finishing in-flight iterations$/)
    expect(formatProgress(loadStats({stopReason: 'duration', running: false}))).not.toContain('finishing')
  })
})

describe('startProgressLine', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('rewrites one line in place every interval, and ends it before other output', () => {
    vi.useFakeTimers()
    const written: string[] = []
    let total = 10
    const line = startProgressLine({stats: () => loadStats({total})}, (t) => written.push(t), 2000)
    vi.advanceTimersByTime(1999)
    expect(written).toEqual([])
    vi.advanceTimersByTime(1)
    total = 20
    vi.advanceTimersByTime(2000)
    expect(written).toHaveLength(2)
    const erase = '\r\u001B[2K'
    expect(written[0]?.startsWith(`${erase}load checkout 3s | 10 requests`)).toBe(true)
    expect(written[1]?.startsWith(`${erase}load checkout 3s | 20 requests`)).toBe(true)
    line.break()
    line.break()
    expect(written.slice(2)).toEqual(['\n'])
    line.stop()
    vi.advanceTimersByTime(10_000)
    expect(written).toHaveLength(3)
  })
})
