/**
 * The three ways payctl.yaml may point at a secret, parsed without resolving anything. The
 * validator uses it to explain a bad reference and the resolver to dispatch, so both agree on
 * what a reference is. Nothing here ever repeats the value it was given: a string that is not a
 * valid reference may well be a literal password.
 */

export type SecretRef =
  | {kind: 'env'; name: string}
  | {kind: 'file'; path: string}
  | {kind: 'aws-secretsmanager'; secretId: string; jsonKey: string | null; region: string | null}

export const SECRET_REF_FORMS = 'env:NAME, file:PATH or aws-secretsmanager:ARN[#jsonKey]'

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
// Secrets Manager: a full ARN (the region in it is where the secret lives) or a secret name
// (1-512 characters of letters, digits and /_+=.@-), then optionally #key into a JSON secret.
const AWS_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):(\d{12}):secret:[A-Za-z0-9/_+=.@-]+$/
const AWS_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/
const JSON_KEY = /^[^#\s]+$/

/**
 * One regex for the JSON Schema, so an editor that reads the schema flags a literal password
 * too. Kept equivalent to parseSecretRef (a unit test checks both on the same inputs).
 */
export const SECRET_REF_PATTERN =
  '^(env:[A-Za-z_][A-Za-z0-9_]*' +
  '|file:.+' +
  '|aws-secretsmanager:(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})(#[^#\\s]+)?)$'

export interface SecretRefProblem {
  /** Why it is not a reference; never contains the value. */
  problem: string
  expected: string
}

export function isSecretRefProblem(r: SecretRef | SecretRefProblem): r is SecretRefProblem {
  return 'problem' in r
}

export function parseSecretRef(ref: string): SecretRef | SecretRefProblem {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4)
    if (ENV_NAME.test(name)) return {kind: 'env', name}
    return {
      problem: 'is an env: reference with an invalid variable name (letters, digits and _, not starting with a digit)',
      expected: 'env:NAME',
    }
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5)
    if (path.length > 0) return {kind: 'file', path}
    return {problem: 'is a file: reference without a path', expected: 'file:PATH'}
  }
  if (ref.startsWith('aws-secretsmanager:')) {
    const rest = ref.slice('aws-secretsmanager:'.length)
    const hash = rest.indexOf('#')
    const secretId = hash === -1 ? rest : rest.slice(0, hash)
    const jsonKey = hash === -1 ? null : rest.slice(hash + 1)
    const expected = 'aws-secretsmanager:arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME[#jsonKey] or aws-secretsmanager:NAME[#jsonKey]'
    if (jsonKey !== null && !JSON_KEY.test(jsonKey)) {
      return {problem: 'is an aws-secretsmanager: reference with an empty or malformed #jsonKey', expected}
    }
    const arn = AWS_ARN.exec(secretId)
    if (arn) return {kind: 'aws-secretsmanager', secretId, jsonKey, region: arn[1] ?? null}
    if (!secretId.startsWith('arn:') && AWS_NAME.test(secretId)) return {kind: 'aws-secretsmanager', secretId, jsonKey, region: null}
    return {problem: 'is an aws-secretsmanager: reference that is neither a Secrets Manager ARN nor a secret name', expected}
  }
  return {problem: 'is a literal password; secrets must be references', expected: SECRET_REF_FORMS}
}
