/**
 * The payctl user's passwords: random, one per server, kept only in `<dir>/secrets/<name>.password`
 * (file 0600, folder 0700) and referenced from payctl.yaml as `file:secrets/<name>.password`.
 * They are registered for redaction as soon as they exist and never appear in state or output.
 */
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {EnvironmentError} from '../cli/errors.js'
import {Secret} from '../cli/redact.js'
import {sandboxPaths} from './state.js'
import type {ServerName} from './types.js'

export function passwordFile(dir: string, name: ServerName): string {
  return join(sandboxPaths(dir).secretsDir, `${name}.password`)
}

/** 24 characters of base64url (144 random bits). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url')
}

export async function readPassword(dir: string, name: ServerName): Promise<Secret> {
  const file = passwordFile(dir, name)
  let value: string
  try {
    value = (await readFile(file, 'utf8')).trim()
  } catch (err) {
    throw new EnvironmentError('PAYCTL_SANDBOX_SECRET_MISSING', `The ${name} server's password file ${file} cannot be read.`, {
      actions: ['Run `payctl sandbox up` to create the sandbox (it writes the password files).'],
      cause: err,
    })
  }
  if (value === '') {
    throw new EnvironmentError('PAYCTL_SANDBOX_SECRET_MISSING', `The ${name} server's password file ${file} is empty.`, {
      actions: ['Run `payctl sandbox down --purge` and `payctl sandbox up` to recreate the sandbox.'],
    })
  }
  return new Secret(value, `file:secrets/${name}.password`)
}

/** The existing password, or a new one written with mode 0600. */
export async function ensurePassword(dir: string, name: ServerName): Promise<Secret> {
  const secretsDir = sandboxPaths(dir).secretsDir
  await mkdir(secretsDir, {recursive: true, mode: 0o700})
  await chmod(secretsDir, 0o700)
  const file = passwordFile(dir, name)
  try {
    return await readPassword(dir, name)
  } catch {
    const value = newPassword()
    const secret = new Secret(value, `file:secrets/${name}.password`)
    await writeFile(file, `${value}\n`, {mode: 0o600})
    await chmod(file, 0o600)
    return secret
  }
}
