/** Human rendering of an introspected schema model for `payctl inspect`. */
import type {ColumnModel, SchemaModel, TableModel} from '../engines/model.js'
import {formatBytes, keyValueTable, table} from './output.js'

export function renderServer(model: SchemaModel): string {
  const s = model.server
  const cc = s.changeCapture
  const rows: Array<[string, string | number | null]> = [
    ['engine / flavor', `${s.engine} / ${s.flavor}`],
    ['version', s.version.raw],
    ['endpoint', `${s.host}:${s.port}`],
    ['database', s.database],
    ['charset / collation', `${s.charset ?? '?'} / ${s.collation ?? '?'}`],
  ]
  if (s.edition) rows.push(['edition', s.edition])
  if (cc.kind === 'binlog') {
    rows.push(
      ['log_bin', cc.logBin ? 'ON' : 'OFF'],
      ['binlog_format', cc.binlogFormat],
      ['binlog_row_image', cc.binlogRowImage],
      ['GTID mode', cc.gtidMode + (cc.gtidStrictMode === null ? '' : ` (strict ${cc.gtidStrictMode ? 'ON' : 'OFF'})`)],
      ['binlog retention', cc.retentionSeconds === null ? null : cc.retentionSeconds === 0 ? 'forever' : `${Math.round(cc.retentionSeconds / 3600)} h`],
    )
  } else {
    rows.push(
      ['recovery model', cc.recoveryModel],
      ['CDC', cc.cdcEnabled ? 'enabled' : 'disabled'],
      ['Change Tracking', cc.changeTrackingEnabled ? `enabled (${cc.changeTrackingRetention ?? '?'})` : 'disabled'],
      ['SQL Server Agent', cc.agentRunning === null ? 'unknown' : cc.agentRunning ? 'running' : 'stopped'],
    )
  }
  return keyValueTable(rows)
}

export function renderTableList(model: SchemaModel): string {
  if (model.tables.length === 0) return `no tables in ${model.server.database}`
  return table(model.tables, [
    {header: 'table', get: (t) => qualified(t)},
    {header: 'rows (est.)', get: (t) => t.rowEstimate, align: 'right'},
    {header: 'data', get: (t) => formatBytes(t.dataBytes), align: 'right'},
    {header: 'indexes', get: (t) => formatBytes(t.indexBytes), align: 'right'},
    {header: 'columns', get: (t) => t.columns.length, align: 'right'},
    {header: 'primary key', get: (t) => (t.primaryKey ? t.primaryKey.columns.map((c) => c.name).join(', ') : 'NONE')},
    {header: 'FKs', get: (t) => t.foreignKeys.length, align: 'right'},
  ])
}

export function renderTableDetail(t: TableModel): string {
  const head = `${qualified(t)}: ${t.rowEstimate.toLocaleString('en-US')} rows (est.), data ${formatBytes(t.dataBytes)}, indexes ${formatBytes(t.indexBytes)}${t.collation ? `, ${t.collation}` : ''}`
  const cols = table(t.columns, [
    {header: '#', get: (c) => c.ordinal, align: 'right'},
    {header: 'column', get: (c) => c.name},
    {header: 'type', get: (c) => c.columnType + (c.collation && !t.collation?.startsWith(c.collation) ? ` ${c.collation}` : '')},
    {header: 'null', get: (c) => (c.nullable ? 'YES' : 'NO')},
    {header: 'default', get: (c) => c.default},
    {header: 'extra', get: (c) => extra(c)},
  ])
  const keys: string[] = []
  if (t.primaryKey) keys.push(`  PRIMARY KEY (${t.primaryKey.columns.map((c) => c.name).join(', ')})`)
  else keys.push('  no primary key')
  for (const u of t.uniqueKeys) keys.push(`  UNIQUE ${u.name} (${u.columns.map((c) => c.name).join(', ')})`)
  for (const i of t.indexes.filter((x) => !x.primary && !x.unique)) {
    keys.push(`  INDEX ${i.name} (${i.columns.map((c) => c.name + (c.prefixLength ? `(${c.prefixLength})` : '') + (c.descending ? ' DESC' : '')).join(', ')})${i.kind === 'btree' ? '' : ` ${i.kind}`}`)
  }
  for (const f of t.foreignKeys) {
    keys.push(`  FOREIGN KEY ${f.name} (${f.columns.join(', ')}) -> ${f.referencedTable} (${f.referencedColumns.join(', ')}) ON DELETE ${f.onDelete} ON UPDATE ${f.onUpdate}`)
  }
  for (const c of t.checks) keys.push(`  CHECK ${c.name}: ${c.expression}`)
  return `${head}\n${cols}\n${keys.join('\n')}`
}

export function renderObjects(model: SchemaModel): string {
  const lines: string[] = []
  const list = (label: string, names: string[]): void => {
    lines.push(`${label}: ${names.length === 0 ? 'none' : names.join(', ')}`)
  }
  list('views', model.views.map((v) => v.name))
  list('procedures', model.routines.filter((r) => r.kind === 'procedure').map((r) => r.name))
  list('functions', model.routines.filter((r) => r.kind === 'function').map((r) => r.name))
  list('triggers', model.triggers.map((t) => `${t.name} (${t.timing} ${t.events.join('/')} ON ${t.table})`))
  list('events', model.events.map((e) => e.name))
  if (model.server.engine === 'sqlserver') list('sequences', model.sequences.map((s) => s.name))
  return lines.join('\n')
}

function qualified(t: TableModel): string {
  return t.schema && t.schema !== t.name ? `${t.schema}.${t.name}` : t.name
}

function extra(c: ColumnModel): string {
  const parts: string[] = []
  if (c.identity) parts.push(`identity(${c.identity.seed},${c.identity.increment})`)
  if (c.generated) parts.push(`${c.generated.stored ? 'stored' : 'virtual'} as ${c.generated.expression}`)
  if (c.serverMaintained) parts.push('server-maintained')
  if (c.sparse) parts.push('sparse')
  return parts.join(', ')
}
