/**
 * Offline schema sources: a DDL script (SQL Server "Generate Scripts", mysqldump) read into the
 * same SchemaModel a live introspection produces, so `payctl assess --from-ddl` runs every rule
 * without a server. What a reader does not understand is reported, never guessed or dropped.
 */
import type {SchemaModel} from './model.js'

export interface NotAssessed {
  /** 1-based line of the statement's first line in the script. */
  line: number
  /** The statement's first line (trimmed, at most 200 characters). */
  text: string
  /** Why it was not assessed ("CREATE PARTITION FUNCTION is not read", "cannot parse column list"). */
  reason: string
}

export interface DdlReadResult {
  /** server: engine and flavor of the script; version 0.0.0 and nulls where a script cannot tell. */
  model: SchemaModel
  notAssessed: NotAssessed[]
  /** Statements (batches) seen, assessed or not. */
  statements: number
}

export type DdlReader = (script: string, options: {database?: string; fileName?: string}) => DdlReadResult
