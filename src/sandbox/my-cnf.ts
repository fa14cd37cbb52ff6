/**
 * The my.cnf payctl writes for each sandbox server (pure: spec in, file text out). mariadbd is
 * started with `--defaults-file=<this file>`, so no system option file (/etc/mysql/...) is read and
 * a user can open the file to see exactly how the server runs, or pass it to the client:
 * `mariadb --defaults-file=<dir>/legacy/my.cnf` (root over the unix socket).
 */
import type {ServerName} from './types.js'

/** Unique per server: binlog replication between the two needs distinct server ids and GTID domains. */
export const SERVER_IDS: Record<ServerName, number> = {legacy: 1, target: 2}

export interface MyCnfSpec {
  name: ServerName
  serverId: number
  port: number
  datadir: string
  socketPath: string
  pidFile: string
  errorLog: string
  /** Folder that server-side `LOAD DATA INFILE` may read from (secure_file_priv). */
  loadDir: string
  /** The server's own temporary folder (`<home>/tmp`). */
  tmpDir: string
}

/** Quotes an option value when it has characters the option-file parser would mangle. */
export function cnfValue(value: string): string {
  if (/^[A-Za-z0-9_./:+@=-]+$/.test(value)) return value
  // Option files interpret \\, \t, \n, \r, \b, \s inside values; only backslash and quote need escaping here.
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

export function renderMyCnf(spec: MyCnfSpec): string {
  const v = cnfValue
  const lines = [
    `# payctl sandbox: the ${spec.name} server (${spec.name === 'legacy' ? 'migration source' : 'migration target'}).`,
    '# Written by `payctl sandbox up` on every start; edits are overwritten.',
    '',
    '[mariadbd]',
    `datadir = ${v(spec.datadir)}`,
    `socket = ${v(spec.socketPath)}`,
    `pid-file = ${v(spec.pidFile)}`,
    // A private temp folder: with the shared /tmp, another process that cleans it can delete
    // mariadbd's internal temporary tables under it (seen during mariadb-install-db).
    `tmpdir = ${v(spec.tmpDir)}`,
    `log-error = ${v(spec.errorLog)}`,
    '',
    '# Private server: TCP on the loopback interface only, no DNS lookups for client hosts.',
    `port = ${spec.port}`,
    'bind-address = 127.0.0.1',
    'skip-name-resolve',
    'max-connections = 300',
    '',
    'character-set-server = utf8mb4',
    'collation-server = utf8mb4_unicode_ci',
    "default-time-zone = '+00:00'",
    '',
    '# Binary log for change data capture: row images with every column, GTID positions.',
    `server-id = ${spec.serverId}`,
    `gtid-domain-id = ${spec.serverId}`,
    'gtid-strict-mode = ON',
    `log-bin = ${v(`${spec.datadir}/mariadb-bin`)}`,
    'binlog-format = ROW',
    'binlog-row-image = FULL',
    'log-slave-updates = ON',
    'max-binlog-size = 128M',
    'binlog-expire-logs-seconds = 604800',
    '',
    '# Sized for a small machine (2 cores, a few GB).',
    'innodb-buffer-pool-size = 256M',
    'innodb-log-file-size = 256M',
    '# Sandbox only: commits are not fsynced one by one. A mariadbd crash loses nothing; an OS',
    '# crash may lose the last second. Never use these two settings for a real payment database.',
    'innodb-flush-log-at-trx-commit = 2',
    'sync-binlog = 0',
    '',
    '# The data set is loaded with server-side LOAD DATA INFILE from this folder only. The target',
    '# takes LOAD DATA LOCAL from clients (payctl replicate copies with it, as Aurora MySQL and TiDB allow).',
    `secure-file-priv = ${v(spec.loadDir)}`,
    `local-infile = ${spec.name === 'target' ? 'ON' : 'OFF'}`,
    '',
    '[client]',
    `socket = ${v(spec.socketPath)}`,
    `port = ${spec.port}`,
    'default-character-set = utf8mb4',
    '',
  ]
  return lines.join('\n')
}
