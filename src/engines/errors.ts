/**
 * Connection failures, shared by every engine so that "unreachable", "wrong password" and
 * "no such database" read the same whatever the driver. Each engine maps its driver's error
 * codes onto these kinds; all are exit 3 (environment) and name the side and host:port.
 */
import {EnvironmentError} from '../cli/errors.js'
import {redact} from '../cli/redact.js'
import {type ConnectionOptions, describeEndpoint} from './engine.js'

export type ConnectFailure = 'refused' | 'timeout' | 'host-not-found' | 'auth' | 'database-not-found' | 'tls' | 'other'

const CODES: Record<ConnectFailure, string> = {
  refused: 'PAYCTL_CONNECT_REFUSED',
  timeout: 'PAYCTL_CONNECT_TIMEOUT',
  'host-not-found': 'PAYCTL_HOST_NOT_FOUND',
  auth: 'PAYCTL_AUTH_FAILED',
  'database-not-found': 'PAYCTL_DATABASE_NOT_FOUND',
  tls: 'PAYCTL_TLS_FAILED',
  other: 'PAYCTL_CONNECT_FAILED',
}

export function connectionError(
  kind: ConnectFailure,
  o: Pick<ConnectionOptions, 'engine' | 'host' | 'port' | 'socketPath' | 'user' | 'database' | 'label' | 'password' | 'connectTimeoutMs'>,
  cause: unknown,
): EnvironmentError {
  const where = `the ${o.label} (${o.engine} at ${describeEndpoint(o)})`
  const detail = redact(cause instanceof Error ? cause.message : String(cause))
  const passwordRef = o.password?.reference ?? 'none'
  const hostKey = `${o.label}.host / ${o.label}.port`
  let message: string
  let actions: string[]
  switch (kind) {
    case 'refused':
      message = `Cannot connect to ${where}: connection refused.`
      actions = [`Check that the server is running and listening there, and that ${hostKey} in the config are right.`]
      break
    case 'timeout':
      message = `Cannot connect to ${where}: no answer within ${o.connectTimeoutMs} ms.`
      actions = [`Check ${hostKey}, firewalls and security groups between here and the server; raise ${o.label}.connectTimeoutMs if the network is slow.`]
      break
    case 'host-not-found':
      message = `Cannot connect to ${where}: the host name does not resolve.`
      actions = [`Check ${o.label}.host in the config.`]
      break
    case 'auth':
      message = `${capitalize(where)} refused user "${o.user}": authentication failed.`
      actions = [
        `Check the password that ${o.label}.password refers to (${passwordRef}) and the user ${o.label}.user.`,
        'Check that the user may connect from this host.',
      ]
      break
    case 'database-not-found':
      message = `Connected to ${where}, but database "${o.database}" does not exist or user "${o.user}" may not use it.`
      actions = [`Check ${o.label}.database in the config, and the user's grants.`]
      break
    case 'tls':
      message = `Cannot connect to ${where}: TLS failed (${detail}).`
      actions = [`Check ${o.label}.tls in the config (mode, ca, servername).`]
      break
    case 'other':
      message = `Cannot connect to ${where}: ${detail}`
      actions = [`Check the ${o.label} section of the config and the server's logs.`]
      break
  }
  return new EnvironmentError(CODES[kind], message, {
    actions,
    cause,
    data: {side: o.label, engine: o.engine, endpoint: describeEndpoint(o), reason: kind, detail},
  })
}

/** Node's certificate and handshake error codes, which every driver's TLS failure surfaces as. */
const NODE_TLS_ERROR_CODES = new Set([
  'EPROTO',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** True for a TLS failure code from Node, or one of the driver's own (`driverCodes`). */
export function isTlsErrorCode(code: string, driverCodes: ReadonlySet<string> = new Set()): boolean {
  return NODE_TLS_ERROR_CODES.has(code) || driverCodes.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
