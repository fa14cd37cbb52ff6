/**
 * The sandbox: real local MariaDB servers ("legacy" source and "target") as private processes,
 * with the legacy payments schema and a deterministic data set. Used by `payctl sandbox ...`,
 * by the integration tests and by the demo.
 */
export {findMariadb, INSTALL_ACTIONS, type MariadbBinaries} from './binaries.js'
export {renderSandboxConfig} from './config-file.js'
export {DATASET_END, datasetSize, GENERATOR_VERSION, generateDataset, TABLE_COLUMNS, type Row, type RowSink} from './data-generator.js'
export {LEGACY_DATABASE, LEGACY_SCHEMA_SQL, LEGACY_TABLES, type LegacyTable} from './legacy-schema.js'
export {renderMyCnf, SERVER_IDS} from './my-cnf.js'
export {DEFAULT_PORTS} from './ports.js'
export {APP_USER, sandboxConnectionInfo, sandboxDown, sandboxStatus, sandboxUp} from './sandbox.js'
export {DEFAULT_RUNTIME_INSTANCES, FINGERPRINT_KEY_REF, MAX_RUNTIME_INSTANCES, runtimePaths} from './runtime.js'
export {readSandboxState} from './state.js'
export * from './types.js'
