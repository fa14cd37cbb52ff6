/**
 * Checks a parsed payctl.yaml and explains every problem in words a DBA acts on: the JSON pointer
 * of the value, what is wrong, what was expected. All problems at once, sorted by path, so one
 * edit fixes the file. Pure: no I/O, nothing resolved.
 *
 * Two layers: the JSON Schema (ajv) for shape, types and ranges, then rules that depend on the
 * engine or on two keys at once (flavor with sqlserver, verify-ca without ca, host or socket), and
 * the order of the shift steps (shift.ts). Those live in code rather than as schema if/then: ajv reports a failed if/then as two extra
 * errors that only repeat the real one, and the code can say which key to remove.
 *
 * A value is quoted back only when it is short and its key cannot hold a secret: a literal
 * password in the file must not reach a terminal, a CI log or a ticket through this message.
 */
import type {ErrorObject} from 'ajv'
import {Ajv} from 'ajv'
import {editDistance} from '../cli/text.js'
import {DEFAULTS, PATTERNS, payctlConfigSchema} from './schema.js'
import {isSecretRefProblem, parseSecretRef, SECRET_REF_FORMS} from './secret-ref.js'
import {shiftIssues} from './shift.js'

export interface ConfigIssue {
  /** JSON pointer to the offending value (or to the object missing a key); "/" for the whole file. */
  path: string
  /** What is wrong, with a suggestion when there is one. Never contains a secret. */
  message: string
  /** What would have been accepted, or null when the fix is to remove the key. */
  expected: string | null
  /** The ajv keyword (type, enum, required, additionalProperties, ...) or the rule (secretRef, engine, tls, ...). */
  keyword: string
}

// allowUnionTypes: a duration is a number of seconds or a string with a unit ("30s").
const ajv = new Ajv({allErrors: true, strict: true, verbose: true, allowUnionTypes: true})
const validateSchema = ajv.compile(payctlConfigSchema)

export function validateConfig(raw: unknown): ConfigIssue[] {
  if (raw === null || raw === undefined) {
    return [{path: '/', message: 'the file is empty', expected: 'a mapping with version, source and target', keyword: 'type'}]
  }
  const issues: ConfigIssue[] = []
  validateSchema(raw)
  for (const err of validateSchema.errors ?? []) {
    const issue = fromAjv(err)
    if (issue) issues.push(issue)
  }
  issues.push(...semanticIssues(raw))
  return sortAndDedupe(issues)
}

/** One line per issue, as `payctl config validate` and ConfigInvalidError print it. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.path}: ${issue.message}`
}

// ---------------------------------------------------------------------------------------------
// ajv errors -> issues

interface SchemaNode {
  type?: string
  enum?: readonly unknown[]
  const?: unknown
  pattern?: string
  minimum?: number
  maximum?: number
  minLength?: number
  minItems?: number
  uniqueItems?: boolean
  required?: readonly string[]
  properties?: Record<string, SchemaNode>
  items?: SchemaNode
}

const VALUE_KEYWORDS = new Set([
  'type', 'enum', 'const', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'multipleOf', 'format',
])

function fromAjv(err: ErrorObject): ConfigIssue | null {
  const at = err.instancePath === '' ? '/' : err.instancePath
  const node = (err.parentSchema ?? {}) as SchemaNode
  switch (err.keyword) {
    case 'required': {
      const key = String((err.params as {missingProperty: string}).missingProperty)
      const child = node.properties?.[key]
      return {path: at, message: `missing required key ${JSON.stringify(key)}`, expected: child ? describe(child) : null, keyword: 'required'}
    }
    case 'additionalProperties': {
      const key = String((err.params as {additionalProperty: string}).additionalProperty)
      return unknownKey(childPath(err.instancePath, key), key, Object.keys(node.properties ?? {}))
    }
    case 'uniqueItems': {
      const {i} = err.params as {i: number; j: number}
      const item: unknown = Array.isArray(err.data) ? (err.data as unknown[])[i] : undefined
      return {path: at, message: `lists ${showValue(at, item) ?? 'an entry'} more than once`, expected: describe(node), keyword: 'uniqueItems'}
    }
    case 'if':
      return null // only says "must match then"; the failing keyword inside `then` is reported on its own
    default:
      break
  }
  if (err.keyword === 'pattern' && node.pattern === PATTERNS.secretRef.pattern && typeof err.data === 'string') {
    return secretRefIssue(at, err.data)
  }
  if (VALUE_KEYWORDS.has(err.keyword)) {
    const expected = describe(node)
    let message = `must be ${expected}${got(at, err.data)}`
    if (node.enum && typeof err.data === 'string' && !isSecretPath(at)) {
      const hint = suggest(err.data, node.enum.map(String))
      if (hint) message += `; did you mean ${JSON.stringify(hint)}?`
    }
    if ((node.type === 'integer' || node.type === 'number') && typeof err.data === 'string' && /^-?\d+$/.test(err.data.trim())) {
      message += '; write the number without quotes'
    }
    return {path: at, message, expected, keyword: err.keyword}
  }
  // A keyword this file does not know how to word: still report it, in ajv's words.
  return {path: at, message: err.message ?? `fails ${err.keyword}`, expected: null, keyword: err.keyword}
}

function describe(node: SchemaNode): string {
  // A duration's type is a union (number or string): its words come from the pattern, not the type.
  if (node.pattern === PATTERNS.duration.pattern) return PATTERNS.duration.expected
  if (node.enum) return `one of: ${node.enum.map(String).join(', ')}`
  if (node.const !== undefined) return JSON.stringify(node.const)
  switch (node.type ?? '') {
    case 'integer':
    case 'number': {
      const noun = node.type === 'integer' ? 'an integer' : 'a number'
      if (node.minimum !== undefined && node.maximum !== undefined) return `${noun} between ${node.minimum} and ${node.maximum}`
      if (node.minimum !== undefined) return `${noun} of at least ${node.minimum}`
      if (node.maximum !== undefined) return `${noun} of at most ${node.maximum}`
      return noun
    }
    case 'string': {
      const pattern = Object.values(PATTERNS).find((p) => p.pattern === node.pattern)
      if (pattern) return pattern.expected
      return node.minLength !== undefined && node.minLength > 0 ? 'a non-empty string' : 'a string'
    }
    case 'array': {
      const items = node.items?.type === 'object' ? `mappings${node.items.required?.length ? ` with keys ${node.items.required.join(', ')}` : ''}` : 'non-empty strings'
      return `a list of ${items}${node.minItems ? ' with at least one entry' : ''}${node.uniqueItems ? ', each listed once' : ''}`
    }
    case 'object':
      return node.required?.length ? `a mapping with keys ${node.required.join(', ')}` : 'a mapping'
    default:
      return node.type || 'a valid value'
  }
}

/** " (got ...)" for the message, or "" when the value may be a secret or is too long to help. */
function got(path: string, value: unknown): string {
  const shown = showValue(path, value)
  if (shown !== null) return ` (got ${shown})`
  if (isSecretPath(path)) return ''
  if (value === null) return ' (got an empty value)'
  if (Array.isArray(value)) return value.length === 0 ? ' (got an empty list)' : ' (got a list)'
  if (typeof value === 'object') return ' (got a mapping)'
  return ` (got a ${typeof value})`
}

function showValue(path: string, value: unknown): string | null {
  if (isSecretPath(path)) return null
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return null
  const text = JSON.stringify(value)
  return text.length <= 40 ? text : null
}

const SECRET_KEY = /pass|pwd|secret|token|credential|api.?key|private/i
/** Keys whose value is a secret reference; a value that is not one may be the secret itself. */
const SECRET_REF_KEYS = new Set(['password', 'fingerprintKey'])

/** True when the last key of the path may hold a secret: its value is never shown. */
function isSecretPath(path: string): boolean {
  const last = decodePointerSegment(path.split('/').pop() ?? '')
  return SECRET_KEY.test(last) || SECRET_REF_KEYS.has(last)
}

function secretRefIssue(path: string, value: string): ConfigIssue {
  const parsed = parseSecretRef(value)
  // Unreachable when the schema pattern failed, unless the two drift apart; say so rather than pass.
  const problem = isSecretRefProblem(parsed) ? parsed : {problem: 'is not a valid secret reference', expected: SECRET_REF_FORMS}
  let message = problem.problem
  if (problem.expected === SECRET_REF_FORMS) {
    const section = path.split('/')[1] ?? 'source'
    // the key the reference is written under: password for source and target, fingerprintKey for runtime
    const key = decodePointerSegment(path.split('/').pop() ?? 'password')
    const name = key === 'password' ? `PAYCTL_${section.toUpperCase()}_PASSWORD` : `PAYCTL_${section.toUpperCase()}_${key.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`
    message += ` (${SECRET_REF_FORMS}); set ${name} and write ${key}: env:${name}`
  } else {
    message += `; expected ${problem.expected}`
  }
  return {path, message, expected: problem.expected, keyword: 'secretRef'}
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and suggestions

function unknownKey(path: string, key: string, allowed: string[]): ConfigIssue {
  const expected = `one of the keys: ${allowed.join(', ')}`
  let message = `unknown key ${JSON.stringify(key)}`
  if (SECRET_KEY.test(key) && key !== 'password') {
    message += allowed.includes('password')
      ? `; the password goes in "password" as a reference (${SECRET_REF_FORMS}), never in the file itself`
      : '; payctl.yaml holds no secrets, only references to them (source.password, target.password, runtime.fingerprintKey)'
  } else {
    const hint = suggest(key, allowed)
    message += hint ? `; did you mean ${JSON.stringify(hint)}?` : `; allowed keys: ${allowed.join(', ')}`
  }
  return {path, message, expected, keyword: 'additionalProperties'}
}

/** Names DBAs bring from other tools (JDBC, mysql CLI, sqlcmd, libpq; Argo Rollouts and Flagger for shift) mapped to payctl's. */
const ALIASES: Record<string, string | readonly string[]> = {
  hostname: 'host', server: 'host', address: 'host', addr: 'host', datasource: 'host',
  username: 'user', login: 'user', uid: 'user', userid: 'user',
  db: 'database', dbname: 'database', databasename: 'database', initialcatalog: 'database', catalog: 'database',
  ssl: 'tls', sslmode: 'tls', encrypt: 'tls',
  timeout: 'connectTimeoutMs', connecttimeout: 'connectTimeoutMs', logintimeout: 'connectTimeoutMs',
  querytimeout: 'queryTimeoutMs', requesttimeout: 'queryTimeoutMs', statementtimeout: 'queryTimeoutMs',
  socketpath: 'socket', unixsocket: 'socket',
  poolsize: 'pool', connectionlimit: 'pool', max: 'size',
  type: ['engine', 'kind'], driver: 'engine', dialect: 'engine', client: 'engine',
  variant: 'flavor', distribution: 'flavor',
  schema: 'schemas', includes: 'include', excludes: 'exclude', only: 'include', ignore: 'exclude',
  control: 'controlStore', state: 'controlStore', statestore: 'controlStore',
  weight: 'readsTargetPercent', setweight: 'readsTargetPercent', reads: 'readsTargetPercent', readpercent: 'readsTargetPercent', readspercent: 'readsTargetPercent',
  shadow: 'shadowPercent', mirror: 'shadowPercent', duration: 'hold', pause: 'hold', wait: 'hold',
  threshold: 'failureLimit', maxfailures: 'failureLimit', steptype: 'kind',
  cafile: 'ca', sslca: 'ca', certfile: 'cert', sslcert: 'cert', keyfile: 'key', sslkey: 'key', hostnameoverride: 'servername',
}

/** The candidate the user most likely meant, or null. */
export function suggest(word: string, candidates: readonly string[]): string | null {
  const w = word.toLowerCase().replace(/[-_\s]/g, '')
  const alias = [ALIASES[w] ?? []].flat().find((a) => candidates.includes(a))
  if (alias !== undefined) return alias
  const exact = candidates.find((c) => c.toLowerCase().replace(/[-_\s]/g, '') === w)
  if (exact !== undefined) return exact
  let best: string | null = null
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  if (best !== null && bestDistance <= (w.length <= 4 ? 1 : 2)) return best
  // "hostname" for "host", "connectTimeout" for "connectTimeoutMs": one contains the other.
  const contained = candidates.find((c) => c.length >= 4 && (w.startsWith(c.toLowerCase()) || c.toLowerCase().startsWith(w)) && w.length >= 3)
  return contained ?? null
}


// ---------------------------------------------------------------------------------------------
// Rules across keys. They read the raw value defensively: it has not necessarily passed the schema.

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

function semanticIssues(raw: unknown): ConfigIssue[] {
  if (!isObj(raw)) return []
  const issues: ConfigIssue[] = []
  for (const side of ['source', 'target'] as const) {
    const e = raw[side]
    if (isObj(e)) issues.push(...endpointIssues(`/${side}`, e))
  }
  const {source, target} = raw
  if (isObj(source) && isObj(target) && sameDatabase(source, target)) {
    issues.push({
      path: '/target',
      message: 'points at the same server and database as source; payctl would migrate the database onto itself',
      expected: 'a different host, port, socket or database than source',
      keyword: 'distinctTarget',
    })
  }
  issues.push(...shiftIssues(raw.shift))
  return issues
}

function endpointIssues(path: string, e: Obj): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  const only = (key: string, engine: 'mysql' | 'sqlserver', why: string): void => {
    if (e[key] === undefined) return
    issues.push({
      path: `${path}/${key}`,
      message: `${JSON.stringify(key)} applies only to engine ${engine} (this side is ${String(e.engine)}); ${why}`,
      expected: null,
      keyword: 'engine',
    })
  }
  if (e.engine === 'sqlserver') {
    only('flavor', 'mysql', 'remove it')
    only('socket', 'mysql', 'remove it and give host and port')
  } else if (e.engine === 'mysql') {
    only('schemas', 'sqlserver', 'for mysql, "database" names the one schema to migrate')
  }

  if (e.host === undefined && e.socket === undefined) {
    const mysql = e.engine === 'mysql'
    issues.push({
      path,
      message: `missing required key "host"${mysql ? ' (or "socket")' : ''}`,
      expected: mysql ? 'host: NAME, or socket: PATH' : 'host: NAME',
      keyword: 'required',
    })
  }
  if (typeof e.host === 'string') {
    const withPort = /^([^:\s[\]]+):(\d{1,5})$/.exec(e.host)
    if (withPort) {
      issues.push({
        path: `${path}/host`,
        message: `includes a port; write host: ${withPort[1] ?? ''} and port: ${withPort[2] ?? ''}`,
        expected: 'a host name or address without a port',
        keyword: 'host',
      })
    }
  }

  const tls = e.tls
  if (isObj(tls)) {
    if ((tls.mode === 'verify-ca' || tls.mode === 'verify-full') && tls.ca === undefined) {
      issues.push({
        path: `${path}/tls`,
        message: `missing required key "ca": tls mode ${tls.mode} checks the server certificate against it`,
        expected: 'ca: PATH to the PEM file of the certificate authority, or mode: require',
        keyword: 'tls',
      })
    }
    for (const [has, needs] of [['cert', 'key'], ['key', 'cert']] as const) {
      if (tls[has] !== undefined && tls[needs] === undefined) {
        issues.push({
          path: `${path}/tls`,
          message: `missing required key ${JSON.stringify(needs)}: a client certificate needs both cert and key`,
          expected: `${needs}: PATH to a PEM file`,
          keyword: 'tls',
        })
      }
    }
  }
  return issues
}

function sameDatabase(a: Obj, b: Obj): boolean {
  if (a.engine !== b.engine || typeof a.engine !== 'string' || a.database !== b.database) return false
  const port = (e: Obj): unknown => e.port ?? (a.engine === 'mysql' ? DEFAULTS.port.mysql : DEFAULTS.port.sqlserver)
  if (a.socket !== undefined || b.socket !== undefined) return a.socket === b.socket
  return a.host === b.host && port(a) === port(b)
}

// ---------------------------------------------------------------------------------------------

function sortAndDedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>()
  const valueSeen = new Set<string>()
  const out: ConfigIssue[] = []
  for (const issue of issues) {
    // type and minimum can both fire for one value (0.5 for an integer 1..65535); say it once.
    if (VALUE_KEYWORDS.has(issue.keyword)) {
      if (valueSeen.has(issue.path)) continue
      valueSeen.add(issue.path)
    }
    const key = `${issue.path}\0${issue.message}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(issue)
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

function childPath(parent: string, key: string): string {
  return `${parent}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`
}

function decodePointerSegment(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~')
}
