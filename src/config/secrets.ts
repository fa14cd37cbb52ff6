/**
 * Turns a secret reference from payctl.yaml into the secret, at the last moment (when a command
 * connects), so nothing secret is held in the loaded config. Every value comes back as a `Secret`,
 * which registers it for redaction and never prints itself. Error messages name the reference,
 * the file or the ARN, never the content.
 *
 * The AWS SDK is imported on first use: most runs never touch Secrets Manager, and loading the
 * SDK costs startup time. It reads AWS_REGION, credentials and AWS_ENDPOINT_URL (or
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, e.g. for LocalStack) from the environment on its own.
 */
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {resolve} from 'node:path'
import {EnvironmentError, UsageError} from '../cli/errors.js'
import {Secret} from '../cli/redact.js'
import {isSecretRefProblem, parseSecretRef, SECRET_REF_FORMS} from './secret-ref.js'

/** The one Secrets Manager call payctl makes; a fake in unit tests, the SDK client otherwise. */
export interface SecretsManagerLike {
  getSecretValue(input: {SecretId: string}): Promise<{SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined}>
  destroy?(): void
}

/** `region` is the one in the ARN, or null for a bare secret name (the SDK's default region then). */
export type AwsSecretsClientFactory = (options: {region: string | null}) => SecretsManagerLike | Promise<SecretsManagerLike>

export interface ResolveSecretOptions {
  /** Folder that relative `file:` paths are resolved against (the config file's folder). */
  baseDir: string
  /** Where the reference was written, for messages, e.g. "source.password". */
  label: string
  env?: NodeJS.ProcessEnv
  awsClientFactory?: AwsSecretsClientFactory
}

// redact() masks only values of at least this length (shorter ones would mask ordinary words),
// so a shorter secret could leak into a log; refuse it instead.
const MIN_SECRET_LENGTH = 4

export async function resolveSecret(ref: string, opts: ResolveSecretOptions): Promise<Secret> {
  const parsed = parseSecretRef(ref)
  if (isSecretRefProblem(parsed)) {
    // Validation rejects these first; the value is not quoted because it may be a literal password.
    throw new UsageError('PAYCTL_SECRET_REF_INVALID', `${opts.label} ${parsed.problem}.`, {
      actions: [`Write ${opts.label} as ${SECRET_REF_FORMS}.`],
      data: {label: opts.label},
    })
  }
  let value: string
  switch (parsed.kind) {
    case 'env':
      value = fromEnv(parsed.name, opts)
      break
    case 'file':
      value = await fromFile(parsed.path, opts)
      break
    case 'aws-secretsmanager':
      value = await fromAws(parsed.secretId, parsed.jsonKey, parsed.region, opts)
      break
  }
  if (value.length < MIN_SECRET_LENGTH) {
    throw new UsageError('PAYCTL_SECRET_TOO_SHORT', `${opts.label} (${ref}) is shorter than ${MIN_SECRET_LENGTH} characters, too short for payctl to mask in its output.`, {
      actions: [`Give this account a longer password and store that in ${ref}.`],
      data: {label: opts.label, reference: ref},
    })
  }
  return new Secret(value, ref)
}

function fromEnv(name: string, opts: ResolveSecretOptions): string {
  const value = (opts.env ?? process.env)[name]
  if (value === undefined || value === '') {
    throw new UsageError('PAYCTL_SECRET_UNSET', `${opts.label} refers to env:${name}, which is ${value === undefined ? 'not set' : 'empty'}.`, {
      actions: [`export ${name}=... (the password), then run the command again.`],
      data: {label: opts.label, reference: `env:${name}`},
    })
  }
  return value
}

async function fromFile(path: string, opts: ResolveSecretOptions): Promise<string> {
  const absolute = path === '~' || path.startsWith('~/') ? resolve(homedir(), path.slice(2)) : resolve(opts.baseDir, path)
  let text: string
  try {
    text = await readFile(absolute, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error'
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code})`
    throw new UsageError('PAYCTL_SECRET_UNREADABLE', `${opts.label} refers to file:${path}, and ${absolute} ${why}.`, {
      actions: [`Write the password to ${absolute} (chmod 600), or point ${opts.label} at another reference.`],
      data: {label: opts.label, reference: `file:${path}`, path: absolute, code},
      cause: err,
    })
  }
  // Editors and `echo` add a final newline that is not part of the password; only one is removed.
  return text.replace(/\r?\n$/, '')
}

async function fromAws(secretId: string, jsonKey: string | null, region: string | null, opts: ResolveSecretOptions): Promise<string> {
  const ref = `aws-secretsmanager:${secretId}${jsonKey === null ? '' : `#${jsonKey}`}`
  const factory = opts.awsClientFactory ?? defaultAwsClientFactory
  let secretString: string
  const client = await factory({region})
  try {
    const out = await client.getSecretValue({SecretId: secretId})
    if (out.SecretString !== undefined) secretString = out.SecretString
    else if (out.SecretBinary !== undefined) secretString = Buffer.from(out.SecretBinary).toString('utf8')
    else secretString = ''
  } catch (err) {
    throw awsError(err, secretId, opts.label, region)
  } finally {
    client.destroy?.()
  }

  const json = parseJsonObject(secretString)
  if (jsonKey === null) {
    // A JSON secret (RDS-managed secrets are {"username", "password", ...}) passed whole as a
    // password fails later as "access denied", which points the wrong way; say which key to take.
    if (json !== null) {
      const key = 'password' in json ? 'password' : Object.keys(json)[0] ?? 'KEY'
      throw new UsageError('PAYCTL_SECRET_KEY_MISSING', `${opts.label}: secret ${secretId} holds a JSON object, so the reference must name the key to use.`, {
        actions: [`Write ${opts.label} as ${ref}#${key} (keys in the secret: ${Object.keys(json).join(', ')}).`],
        data: {label: opts.label, reference: ref, keys: Object.keys(json)},
      })
    }
    return secretString
  }
  if (json === null) {
    throw new UsageError('PAYCTL_SECRET_KEY_MISSING', `${opts.label}: secret ${secretId} is not a JSON object, so key "${jsonKey}" cannot be taken from it.`, {
      actions: [`Remove #${jsonKey} from ${opts.label} to use the whole secret, or store the secret as JSON.`],
      data: {label: opts.label, reference: ref},
    })
  }
  const value = json[jsonKey]
  if (typeof value !== 'string' && typeof value !== 'number') {
    const keys = Object.keys(json)
    throw new UsageError(
      'PAYCTL_SECRET_KEY_MISSING',
      `${opts.label}: secret ${secretId} has no ${value === undefined ? '' : 'text '}key "${jsonKey}".`,
      {
        actions: [`Use one of its keys (${keys.join(', ') || 'none'}): ${ref.replace(/#.*$/, '')}#KEY.`],
        data: {label: opts.label, reference: ref, keys},
      },
    )
  }
  return String(value)
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  if (!text.trimStart().startsWith('{')) return null
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null
  } catch {
    // Not JSON after all (its parse error would quote the secret, so it is not passed on).
    return null
  }
}

function awsError(err: unknown, secretId: string, label: string, region: string | null): EnvironmentError {
  const name = err instanceof Error ? err.name : 'Error'
  const detail = err instanceof Error ? err.message : String(err)
  const data = {label, secretId, awsError: name}
  const what = `${label}: cannot read ${secretId} from AWS Secrets Manager`
  switch (name) {
    case 'ResourceNotFoundException':
      return new EnvironmentError('PAYCTL_SECRET_NOT_FOUND', `${what}: no such secret${region ? ` in ${region}` : ''}.`, {
        actions: [
          `Check the ARN or name and the region: aws secretsmanager describe-secret --secret-id ${secretId}`,
          ...(region ? [] : ['A bare secret name is looked up in AWS_REGION; write the full ARN to pin the region.']),
        ],
        data,
        cause: err,
      })
    case 'AccessDeniedException':
      return new EnvironmentError('PAYCTL_SECRET_ACCESS_DENIED', `${what}: access denied (${detail}).`, {
        actions: [
          `Grant secretsmanager:GetSecretValue on ${secretId} (and kms:Decrypt on its KMS key) to the identity payctl runs as; see aws sts get-caller-identity.`,
        ],
        data,
        cause: err,
      })
    case 'DecryptionFailure':
      return new EnvironmentError('PAYCTL_SECRET_ACCESS_DENIED', `${what}: the KMS key could not decrypt it (${detail}).`, {
        actions: [`Grant kms:Decrypt on the secret's KMS key to the identity payctl runs as.`],
        data,
        cause: err,
      })
    case 'CredentialsProviderError':
    case 'UnrecognizedClientException':
    case 'ExpiredTokenException':
    case 'InvalidSignatureException':
      return new EnvironmentError('PAYCTL_AWS_CREDENTIALS', `${what}: no valid AWS credentials (${detail}).`, {
        actions: ['Provide AWS credentials: AWS_PROFILE (after aws sso login), AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance/task role.'],
        data,
        cause: err,
      })
    default:
      break
  }
  if (/region is missing/i.test(detail)) {
    return new EnvironmentError('PAYCTL_AWS_REGION_MISSING', `${what}: no AWS region is configured for the secret name ${secretId}.`, {
      actions: ['Set AWS_REGION, or write the secret\'s full ARN (it includes the region).'],
      data,
      cause: err,
    })
  }
  return new EnvironmentError('PAYCTL_SECRET_UNAVAILABLE', `${what}: ${name}: ${detail}`, {
    actions: ['Check network access to Secrets Manager (or AWS_ENDPOINT_URL if set) and retry.'],
    data,
    cause: err,
  })
}

const defaultAwsClientFactory: AwsSecretsClientFactory = async ({region}) => {
  // payctl targets Node 20 on purpose; the SDK's nine-line "upgrade to Node 22" notice on stderr
  // would interleave with command output. An explicit setting by the user still wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const {SecretsManagerClient, GetSecretValueCommand} = await import('@aws-sdk/client-secrets-manager')
  const client = new SecretsManagerClient(region === null ? {} : {region})
  return {
    getSecretValue: (input) => client.send(new GetSecretValueCommand(input)),
    destroy: () => client.destroy(),
  }
}
