/**
 * The runtime manager: runs N instances of the bundled payment service (runtime/) as child
 * processes for a config, detached for the sandbox or attached for `payctl runtime start`.
 * A library: no oclif, no listr2; progress goes through callbacks.
 */
export {BUILT_ENTRY, chooseRuntimeEntry, type EntryFacts, findRuntimeEntry, packageRoot, SOURCE_ENTRY} from './entry.js'
export {ensureFingerprintKeyFile, type FingerprintKeyFile, fingerprintKeyFileFor, newFingerprintKey} from './fingerprint-key.js'
export {
  type ExitInfo,
  formatLogTail,
  instanceArgs,
  instanceUrl,
  isInstanceProcess,
  probe,
  READY_TIMEOUT_MS,
  type SpawnedInstance,
  STOP_GRACE_MS,
  stopInstance,
  waitUntilReady,
} from './instance.js'
export {
  DEFAULT_BASE_PORT,
  DEFAULT_HOST,
  instanceId,
  instanceStatus,
  startInstances,
  type StartInstancesOptions,
  stopInstances,
  superviseInstances,
  type SupervisionEnd,
} from './manager.js'
export {assignPorts, type PortProbe, preferredPorts} from './ports.js'
export * from './types.js'
