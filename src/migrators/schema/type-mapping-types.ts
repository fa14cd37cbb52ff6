/** The shape of one row of the type-mapping table and of one column's mapping (see type-mapping.ts). */
import type {EngineName, MysqlFlavor} from '../../engines/model.js'

export type MappingSeverity = 'none' | 'info' | 'needs-change' | 'blocker'

export interface TypeMappingRule {
  /** Stable id, e.g. "mssql.datetimeoffset". */
  id: string
  source: EngineName
  /** Source types this row covers, lower case ("datetimeoffset", "money"). */
  sourceTypes: string[]
  /** The target type as a template, e.g. "DATETIME(6)", "DECIMAL(19,4)", "CHAR(36)" ("same" where unchanged). */
  target: string
  /** Per-flavor overrides of the target type, when a flavor differs. */
  targetByFlavor?: Partial<Record<MysqlFlavor, string>>
  severity: MappingSeverity
  /** Per-flavor overrides of the severity (e.g. geography: needs-change, but a blocker on TiDB, which has no spatial types). */
  severityByFlavor?: Partial<Record<MysqlFlavor, MappingSeverity>>
  /** What changes and what the application must know; printed in the README and in assess findings. */
  caveat: string
}

export interface ColumnTypeMapping {
  rule: string
  /** The target column type, rendered ("datetime(6)", "decimal(19,4)", "varchar(255)"). */
  targetType: string
  severity: MappingSeverity
  caveat: string | null
  /** A character set the rule imposes (uniqueidentifier -> ascii); absent where the column's collation decides. */
  charset?: string
}
