/**
 * Finding, reading and checking payctl.yaml. Commands call `findConfigPath` then `loadConfig`;
 * `payctl config validate` calls `readConfigFile`, which reports problems instead of throwing.
 *
 * Parse errors are worded here rather than passed on: both V8's JSON errors and the yaml
 * package's pretty errors quote the offending text, and in a config that text can be the very
 * literal password the validator exists to catch. Only line, column and the kind of error are kept.
 */
import {existsSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, extname, resolve} from 'node:path'
import {LineCounter, parseDocument} from 'yaml'
import type {PayctlErrorOptions} from '../cli/errors.js'
import {UsageError} from '../cli/errors.js'
import {applyDefaults} from './defaults.js'
import type {PayctlConfig, PayctlConfigInput} from './schema.js'
import type {ConfigIssue} from './validate.js'
import {formatIssue, validateConfig} from './validate.js'

/** A checked config. JSON-safe and free of secrets: passwords are still references. */
export interface LoadedConfig {
  /** Absolute path of the file. */
  path: string
  /** Its folder: `file:` references and TLS paths are relative to it. */
  dir: string
  config: PayctlConfig
}

export interface ConfigFile {
  path: string
  /** The parsed document, as written. */
  raw: unknown
  /** Every problem; empty when the file is valid. */
  issues: ConfigIssue[]
  /** With defaults applied; present only when there are no issues. */
  config?: PayctlConfig
}

const CREATE_ACTIONS = [
  'Run `payctl sandbox up` to start the local sandbox; it writes a payctl.yaml for it.',
  'Or copy payctl.example.yaml to payctl.yaml and edit it, then pass --config PATH (or set PAYCTL_CONFIG).',
]

/** Exit 2: payctl.yaml does not pass validation. `data.issues` lists every problem. */
export class ConfigInvalidError extends UsageError {
  constructor(
    readonly path: string,
    readonly issues: ConfigIssue[],
    options: PayctlErrorOptions = {},
  ) {
    const n = issues.length
    super('PAYCTL_CONFIG_INVALID', `${path} has ${n} problem${n === 1 ? '' : 's'}:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, {
      actions: ['Fix the keys listed above, then run `payctl config validate` to check the file again.'],
      data: {path, issues},
      ...options,
    })
  }
}

/**
 * Which config file to use: `explicit` (from --config or PAYCTL_CONFIG, relative to cwd) as given;
 * else payctl.yaml, payctl.yml or payctl.json in cwd; else the local sandbox's payctl.yaml.
 */
export function findConfigPath(explicit: string | undefined, cwd: string = process.cwd(), sandboxDir = '.payctl/sandbox'): string {
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit)
  const candidates = [
    ...['payctl.yaml', 'payctl.yml', 'payctl.json'].map((name) => resolve(cwd, name)),
    resolve(cwd, sandboxDir, 'payctl.yaml'),
  ]
  const found = candidates.find((p) => existsSync(p))
  if (found !== undefined) return found
  throw new UsageError('PAYCTL_CONFIG_NOT_FOUND', `No payctl config found. Looked for:\n${candidates.map((p) => `  ${p}`).join('\n')}`, {
    actions: [
      'Run `payctl sandbox up` to start the local sandbox; it writes .payctl/sandbox/payctl.yaml, which payctl then finds.',
      'Or pass --config PATH (or set PAYCTL_CONFIG) to use a config file elsewhere; payctl.example.yaml shows the format.',
    ],
    data: {searched: candidates},
  })
}

/** Reads and validates a config file; throws only when it is missing or not parseable. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  const absolute = resolve(path)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new UsageError('PAYCTL_CONFIG_NOT_FOUND', `No config file at ${absolute}.`, {actions: CREATE_ACTIONS, data: {path: absolute}, cause: err})
    }
    throw new UsageError('PAYCTL_CONFIG_UNREADABLE', `Cannot read ${absolute}: ${code ?? (err as Error).message}.`, {
      actions: [code === 'EISDIR' ? 'Pass the path of the file, not of its folder.' : `Check the permissions of ${absolute}.`],
      data: {path: absolute},
      cause: err,
    })
  }
  const raw = parseText(absolute, text)
  const issues = validateConfig(raw)
  return {path: absolute, raw, issues, ...(issues.length === 0 ? {config: applyDefaults(raw as PayctlConfigInput)} : {})}
}

/** Reads, validates and applies defaults; throws ConfigInvalidError (exit 2) listing every problem. */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const file = await readConfigFile(path)
  if (file.config === undefined) throw new ConfigInvalidError(file.path, file.issues)
  return {path: file.path, dir: dirname(file.path), config: file.config}
}

// ---------------------------------------------------------------------------------------------

interface ParseFailure {
  line: number
  column: number
  reason: string
}

function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase()
  const asYaml = ext === '.yaml' || ext === '.yml'
  if (!asYaml) {
    try {
      return JSON.parse(text) as unknown
    } catch (err) {
      // A file named .json must be JSON; anything else may still be YAML (JSON is nearly a subset).
      if (ext === '.json') throw parseError(path, 'JSON', jsonFailure(text, err as Error))
    }
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {prettyErrors: false, lineCounter, uniqueKeys: true})
  const first = doc.errors[0]
  if (first) {
    const pos = lineCounter.linePos(first.pos[0])
    const more = doc.errors.length - 1
    const reason = yamlReason(first.code, first.message, text.slice(first.pos[0])) + (more > 0 ? ` (and ${more} more error${more === 1 ? '' : 's'} after it)` : '')
    throw parseError(path, 'YAML', {line: pos.line, column: pos.col, reason})
  }
  try {
    // Aliases are resolved here, not while parsing: an undefined anchor, or more aliases than a
    // config needs (a "billion laughs" file), throws from toJS.
    return doc.toJS({maxAliasCount: 100}) as unknown
  } catch (err) {
    throw parseError(path, 'YAML', {line: null, column: null, reason: (err as Error).message.replace(/^\w/, (c) => c.toLowerCase())})
  }
}

function parseError(path: string, kind: 'JSON' | 'YAML', f: ParseFailure | {line: null; column: null; reason: string}): UsageError {
  const where = f.line === null ? path : `${path}:${f.line}:${f.column}`
  return new UsageError('PAYCTL_CONFIG_PARSE', `${where}: not valid ${kind}: ${f.reason}.`, {
    actions: [f.line === null ? `Fix the ${kind} in ${path}.` : `Fix the ${kind} syntax at line ${f.line}, column ${f.column} of ${path}.`],
    data: {path, line: f.line, column: f.column, reason: f.reason},
  })
}

function jsonFailure(text: string, err: Error): ParseFailure {
  // V8 gives "… at position N" for most errors, but quotes the text instead for an unexpected
  // token; that quote is dropped, and the position then comes from the yaml parser in JSON mode.
  const position = /at position (\d+)/.exec(err.message)
  let offset: number
  if (position?.[1] !== undefined) offset = Number(position[1])
  else if (/end of JSON input/.test(err.message)) offset = text.length
  else offset = locateWithYaml(text)
  const reason = /^Unexpected token/.test(err.message)
    ? 'unexpected token'
    : err.message.replace(/ in JSON at position \d+.*$/s, '').replace(/,? *"[^"]*" is not valid JSON$/s, '').replace(/^\w/, (c) => c.toLowerCase())
  return {...lineColumn(text, offset), reason}
}

function locateWithYaml(text: string): number {
  const doc = parseDocument(text, {schema: 'json', prettyErrors: false})
  return doc.errors[0]?.pos[0] ?? 0
}

function lineColumn(text: string, offset: number): {line: number; column: number} {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - (before.lastIndexOf('\n') + 1) + 1
  return {line, column}
}

function yamlReason(code: string, message: string, rest: string): string {
  if (code === 'DUPLICATE_KEY') {
    // Key names are not secrets; naming it saves hunting for it.
    const key = /^\s*("[^"\n]*"|'[^'\n]*'|[^:\n]+?)\s*:/.exec(rest)?.[1]
    return `${key === undefined ? 'a key' : `key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}`} appears twice in the same mapping`
  }
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (a --- line); payctl reads one'
  // The yaml package quotes scalars in some messages ("Unresolved plain scalar \"…\""): drop quotes.
  return message.replace(/\s*"[^"\n]*"/g, '').replace(/^\w/, (c) => c.toLowerCase())
}

