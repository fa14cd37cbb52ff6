/** payctl.yaml: schema, validation, loading, secret references and the connections they describe. */
export {resolveConnection} from './connection.js'
export type {ResolveConnectionOptions} from './connection.js'
export {applyDefaults} from './defaults.js'
export {ConfigInvalidError, findConfigPath, loadConfig, readConfigFile} from './load.js'
export type {ConfigFile, LoadedConfig} from './load.js'
export {formatDurationInput, parseDuration} from './duration.js'
export {CONTROL_STORE_SIDES, DEFAULTS, ENGINES, payctlConfigSchema, SHIFT_STEP_KINDS, TLS_MODES} from './schema.js'
export type {
  ControlStoreSide,
  DurationInput,
  EndpointConfig,
  GatesConfig,
  GatesConfigInput,
  EndpointConfigInput,
  PayctlConfig,
  PayctlConfigInput,
  RuntimeConfig,
  ReplicateConfigInput,
  RuntimeConfigInput,
  ShiftConfig,
  ShiftConfigInput,
  ShiftStep,
  ShiftStepInput,
  ShiftStepKind,
  VerifyConfigInput,
  TlsConfig,
  WriteFlipConfig,
  WriteFlipConfigInput,
} from './schema.js'
export {findShiftStep, resolveShift, resolveShiftSteps} from './shift.js'
export {parseSecretRef, SECRET_REF_FORMS} from './secret-ref.js'
export type {SecretRef} from './secret-ref.js'
export {resolveSecret} from './secrets.js'
export type {AwsSecretsClientFactory, ResolveSecretOptions, SecretsManagerLike} from './secrets.js'
export {formatIssue, validateConfig} from './validate.js'
export type {ConfigIssue} from './validate.js'
