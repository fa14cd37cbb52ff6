/**
 * Integration tests run against real servers: this starts one sandbox (two private mariadbd
 * processes with the legacy payments data) in a temporary folder, builds dist/ so CLI tests run
 * the same bin/run.js a user runs (and dist-runtime/, the payment service), and tears everything
 * down afterwards.
 */
import {execFileSync} from 'node:child_process'
import {mkdtemp} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {TestProject} from 'vitest/node'
import {sandboxConnectionInfo, sandboxDown, sandboxUp} from '../../src/sandbox/index.js'
import './sandbox-context.js'

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(import.meta.dirname, '../..')
  // dist/ for bin/run.js, dist-runtime/ for the payment service the runtime tests start
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], {cwd: root, stdio: 'inherit'})
  execFileSync('npx', ['tsc', '-p', 'tsconfig.runtime.json'], {cwd: root, stdio: 'inherit'})
  const dir = await mkdtemp(path.join(tmpdir(), 'payctl-it-'))
  let state: Awaited<ReturnType<typeof sandboxUp>>
  try {
    // no runtime instances: the tests that need them start their own, on this sandbox's config
    state = await sandboxUp({dir, scale: 0.02, seed: 7, ports: {legacy: 0, target: 0}, runtimeInstances: 0})
  } catch (error) {
    // a server may already be running when the other failed: leave nothing behind
    await sandboxDown({dir, purge: true}).catch(() => undefined)
    throw error
  }
  const endpoint = async (server: 'legacy' | 'target') => {
    const c = await sandboxConnectionInfo(dir, server)
    return {host: c.host, port: c.port, user: c.user, password: c.password.reveal(), database: c.database}
  }
  project.provide('sandbox', {
    dir,
    configPath: state.configPath ?? path.join(dir, 'payctl.yaml'),
    source: await endpoint('legacy'),
    target: await endpoint('target'),
  })
  return async () => {
    await sandboxDown({dir, purge: true})
  }
}
