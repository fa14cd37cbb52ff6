/**
 * payctl verify's vocabulary: what a run compares, how it reports a difference, and the result a
 * CI reads (--json is this object). Engines provide the reads (src/engines/*-verify*.ts); the
 * validators compare; commands render.
 */
import type {CapturePosition} from '../engines/replication.js'

/** How a table's chunks were compared. */
export type HashMethod =
  /** Both servers computed the chunk hash in SQL over the same canonical text (MySQL family on both sides, same column types). */
  | 'pushdown'
  /** Rows streamed in key order from both sides and hashed here over the canonical encoding (cross-engine, or types that render differently). */
  | 'client'
  /** --count-only: row counts per table, no hashing. */
  | 'count'

export type DiffKind = 'missing-in-target' | 'missing-in-source' | 'different'

export interface ColumnDiff {
  column: string
  /** Canonical text of each side (masked when card-like or secret); null for SQL NULL. */
  source: string | null
  target: string | null
}

export interface RowDiff {
  table: string
  /** Primary key values by column, as canonical text. */
  key: Record<string, string | null>
  kind: DiffKind
  /** For 'different': the columns that differ. */
  columns: ColumnDiff[]
}

export interface TableVerifyResult {
  table: string
  method: HashMethod
  /** Why this method (e.g. "JSON column metadata: MySQL and MariaDB render JSON differently"). */
  methodReason: string
  chunks: number
  /** Chunks that differed at first and matched on a re-check after replication caught up. */
  rechecked: number
  /**
   * Ranges whose server-side hash was not comparable (their text did not fit the servers' hash
   * buffer, verify.hashMaxBytes or max_allowed_packet, or a server warned of rows left out), and
   * that were compared in parts or row by row instead.
   */
  splits: number
  sourceRows: number
  targetRows: number
  status: 'equal' | 'different' | 'error' | 'skipped'
  /** Differing rows found (capped by maxRowDiffs; diffsTruncated says so). */
  diffs: RowDiff[]
  diffsTruncated: boolean
  seconds: number
  error?: string
  /** Repairs written for this table (with --repair). */
  repaired?: number
}

export interface VerifyResult {
  /** equal: no difference; different: at least one (exit 4). */
  status: 'equal' | 'different'
  tables: TableVerifyResult[]
  totals: {tables: number; equal: number; different: number; rowsCompared: number; rowDiffs: number; seconds: number}
  /** The replication position each re-check waited for, when verify ran online. */
  online: {replicationRunning: boolean; waitedFor: CapturePosition | null}
  /** Where --repair logged its statements. */
  repairLog: string | null
}
