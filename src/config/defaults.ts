/**
 * Fills in what payctl.yaml leaves out. Done in code, not with ajv's useDefaults, because the
 * port depends on the engine; and on a copy, so the parsed file stays what the user wrote.
 * Call it only on a config that validated.
 */
import type {EndpointConfig, EndpointConfigInput, PayctlConfig, PayctlConfigInput} from './schema.js'
import {DEFAULTS} from './schema.js'
import {resolveShift} from './shift.js'

export function applyDefaults(input: PayctlConfigInput): PayctlConfig {
  return {
    version: input.version,
    source: endpointDefaults(input.source),
    target: endpointDefaults(input.target),
    tables: {
      include: [...(input.tables?.include ?? DEFAULTS.tablesInclude)],
      exclude: [...(input.tables?.exclude ?? DEFAULTS.tablesExclude)],
    },
    controlStore: {
      side: input.controlStore?.side ?? DEFAULTS.controlStoreSide,
      database: input.controlStore?.database ?? DEFAULTS.controlStoreDatabase,
    },
    runtime: {
      instances: input.runtime?.instances ?? DEFAULTS.runtimeInstances,
      host: input.runtime?.host ?? DEFAULTS.runtimeHost,
      basePort: input.runtime?.basePort ?? DEFAULTS.runtimeBasePort,
      fingerprintKey: input.runtime?.fingerprintKey ?? null,
    },
    replicate: {
      workers: input.replicate?.workers ?? DEFAULTS.replicateWorkers,
      chunkMs: input.replicate?.chunkMs ?? DEFAULTS.replicateChunkMs,
      maxLagSeconds: input.replicate?.maxLagSeconds ?? DEFAULTS.replicateMaxLagSeconds,
      maxTargetResponseMs: input.replicate?.maxTargetResponseMs ?? DEFAULTS.replicateMaxTargetResponseMs,
    },
    verify: {
      chunkMs: input.verify?.chunkMs ?? DEFAULTS.verifyChunkMs,
      parallel: input.verify?.parallel ?? DEFAULTS.verifyParallel,
      maxRowDiffs: input.verify?.maxRowDiffs ?? DEFAULTS.verifyMaxRowDiffs,
      hashMaxBytes: input.verify?.hashMaxBytes ?? DEFAULTS.verifyHashMaxBytes,
      repairLog: input.verify?.repairLog ?? DEFAULTS.verifyRepairLog,
    },
    shift: resolveShift(input.shift),
  }
}

function endpointDefaults(e: EndpointConfigInput): EndpointConfig {
  const {tls} = e
  return {
    engine: e.engine,
    ...(e.flavor === undefined ? {} : {flavor: e.flavor}),
    host: e.host ?? 'localhost',
    port: e.port ?? DEFAULTS.port[e.engine],
    ...(e.socket === undefined ? {} : {socket: e.socket}),
    user: e.user,
    password: e.password ?? null,
    database: e.database,
    ...(e.schemas === undefined ? {} : {schemas: [...e.schemas]}),
    tls: {
      mode: tls?.mode ?? DEFAULTS.tlsMode,
      ...(tls?.ca === undefined ? {} : {ca: tls.ca}),
      ...(tls?.cert === undefined ? {} : {cert: tls.cert}),
      ...(tls?.key === undefined ? {} : {key: tls.key}),
      ...(tls?.servername === undefined ? {} : {servername: tls.servername}),
    },
    connectTimeoutMs: e.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    queryTimeoutMs: e.queryTimeoutMs ?? DEFAULTS.queryTimeoutMs,
    pool: {size: e.pool?.size ?? DEFAULTS.poolSize},
  }
}
