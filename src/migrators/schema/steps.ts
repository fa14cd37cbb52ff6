/**
 * The engine-neutral steps between a source schema and the target's DDL (drizzle-kit's pipeline:
 * model -> steps -> per-engine SQL). A converted table is a TableModel in the target's own types,
 * so provision can compare it with what it introspects on the target, field by field.
 * A renderer that meets a step it cannot render throws; it never renders an empty string.
 */
import type {ForeignKeyModel, IndexModel, MysqlFlavor, ServerVersion, TableModel} from '../../engines/model.js'

export interface TargetSpec {
  flavor: MysqlFlavor
  /** The target's version when known (live target); decides e.g. TiDB foreign keys (>= 6.6). */
  version: ServerVersion | null
  database: string
  charset: string
  collation: string
}

export type SchemaStep =
  | {kind: 'create-database'; database: string; charset: string; collation: string}
  /** The table with its columns, primary key, unique keys and checks; secondary indexes and FKs are separate steps. */
  | {kind: 'create-table'; table: TableModel}
  | {kind: 'create-index'; table: string; index: IndexModel}
  | {kind: 'add-foreign-key'; table: string; foreignKey: ForeignKeyModel}

/** Why a column, key or table came out as it did: one per decision that is not a plain copy. */
export interface ConversionNote {
  /** table, table.column, table.index or table.fk */
  object: string
  severity: 'blocker' | 'needs-change' | 'info'
  /** Stable id of the rule that decided it (a row of the type-mapping table, or a structural rule). */
  rule: string
  /** "datetimeoffset(7) -> DATETIME(6)" */
  mapping: string
  reason: string
}

export interface ConversionResult {
  target: TargetSpec
  /** In dependency order: database, tables, indexes, then foreign keys. */
  steps: SchemaStep[]
  /** The converted tables (the same ones as in the create-table steps, with their indexes and FKs filled in). */
  tables: TableModel[]
  notes: ConversionNote[]
  /** Where each converted source table went (schema.table on SQL Server becomes one name in one database). */
  tableNames: TableNameMapping[]
}

export interface TableNameMapping {
  sourceSchema: string
  sourceTable: string
  targetTable: string
}
