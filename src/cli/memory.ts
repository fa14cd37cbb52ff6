/**
 * A memory ceiling for the long-running data movers (replicate, verify). V8 lets its heap grow far
 * past the live data when a process allocates fast (every copied row is a few short-lived strings),
 * so a copy whose live set is ~60 MB can sit at 300+ MB of RSS. Above `budgetMb` of heap in use,
 * this runs a full collection (checked four times a second), which keeps the heap near the live set at
 * the cost of a few percent of throughput. `gc` is reached without --expose-gc on the command line
 * by turning the flag on at run time and taking the function from a fresh context.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

type Gc = () => void

let collector: Gc | null | undefined

function gcFunction(): Gc | null {
  if (collector !== undefined) return collector
  try {
    v8.setFlagsFromString('--expose-gc')
    const fn: unknown = vm.runInNewContext('gc')
    collector = typeof fn === 'function' ? (fn as Gc) : null
  } catch {
    collector = null
  }
  return collector
}

/** Starts the governor; returns its stop function. */
export function startMemoryGovernor(budgetMb = 96, intervalMs = 250): () => void {
  const gc = gcFunction()
  if (gc === null) return () => undefined
  const timer = setInterval(() => {
    if (process.memoryUsage().heapUsed > budgetMb * 1024 * 1024) gc()
  }, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
