/** Opens an engine for a resolved connection: loads it, connects, and closes it again if connecting fails. */
import type {ConnectionOptions, Engine} from './engine.js'
import {createEngine} from './registry.js'

export async function openEngine(options: ConnectionOptions, signal?: AbortSignal): Promise<Engine> {
  const engine = await createEngine(options)
  try {
    await engine.connect(signal)
    return engine
  } catch (error) {
    await engine.close().catch(() => undefined)
    throw error
  }
}

/** Runs fn with an open engine and always closes it. */
export async function withEngine<R>(options: ConnectionOptions, signal: AbortSignal | undefined, fn: (engine: Engine) => Promise<R>): Promise<R> {
  const engine = await openEngine(options, signal)
  try {
    return await fn(engine)
  } finally {
    await engine.close()
  }
}
