/**
 * The key of the card fingerprints. Every instance must use the same key, and keep it across
 * restarts, or one card gets several fingerprints; so it is generated once (the sandbox) or
 * named in payctl.yaml (`runtime.fingerprintKey`), never made up per run. The service reads it
 * from a file: a `file:` reference is passed as it is, any other reference is resolved and
 * written to a private temporary file that lives only as long as the instances.
 */
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {homedir, tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'

import {UsageError} from '../cli/errors.js'
import {registerSecret} from '../cli/redact.js'
import {isSecretRefProblem, parseSecretRef} from '../config/secret-ref.js'
import {resolveSecret} from '../config/secrets.js'
import type {LoadedConfig} from '../config/load.js'

/** 32 random bytes (256 bits, as strong as the HMAC-SHA-256 it keys), base64url. */
export function newFingerprintKey(): string {
  return randomBytes(32).toString('base64url')
}

/** Keeps an existing non-empty key file; otherwise writes a new key with mode 0600. Returns whether it wrote one. */
export async function ensureFingerprintKeyFile(file: string): Promise<boolean> {
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (existing !== '') {
    registerSecret(existing)
    return false
  }
  await mkdir(dirname(file), {recursive: true, mode: 0o700})
  const key = newFingerprintKey()
  registerSecret(key)
  await writeFile(file, `${key}\n`, {mode: 0o600})
  await chmod(file, 0o600)
  return true
}

export interface FingerprintKeyFile {
  file: string
  /** Removes the temporary copy, if one was made. */
  dispose(): Promise<void>
}

/** The file to hand to the instances for this config's `runtime.fingerprintKey`. */
export async function fingerprintKeyFileFor(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Promise<FingerprintKeyFile> {
  const ref = loaded.config.runtime.fingerprintKey
  if (ref === null) {
    throw new UsageError('PAYCTL_RUNTIME_NO_FINGERPRINT_KEY', `${loaded.path} names no runtime.fingerprintKey; the payment service needs one key, the same on every instance and every run, to fingerprint cards.`, {
      actions: [
        'Create a key once: mkdir -p secrets && openssl rand -base64 32 > secrets/runtime-fingerprint.key && chmod 600 secrets/runtime-fingerprint.key',
        'Then add to payctl.yaml:  runtime:\n    fingerprintKey: file:secrets/runtime-fingerprint.key   (or env:NAME, aws-secretsmanager:ARN)',
      ],
      data: {config: loaded.path},
    })
  }
  const parsed = parseSecretRef(ref)
  // resolving it also checks that a file: key exists and is readable, and registers it for redaction
  const secret = await resolveSecret(ref, {baseDir: loaded.dir, label: 'runtime.fingerprintKey', env})
  if (!isSecretRefProblem(parsed) && parsed.kind === 'file') {
    const file = parsed.path === '~' || parsed.path.startsWith('~/') ? resolve(homedir(), parsed.path.slice(2)) : resolve(loaded.dir, parsed.path)
    return {file, dispose: () => Promise.resolve()}
  }
  const dir = await mkdtemp(join(tmpdir(), 'payctl-runtime-key-'))
  await chmod(dir, 0o700)
  const file = join(dir, 'fingerprint.key')
  await writeFile(file, `${secret.reveal()}\n`, {mode: 0o600})
  return {file, dispose: () => rm(dir, {recursive: true, force: true})}
}
