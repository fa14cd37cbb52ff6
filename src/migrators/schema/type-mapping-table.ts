/**
 * The one table of type and collation mappings: what every source column type becomes on each
 * MySQL-family target, how bad the change is, and what the application must know. assess prints
 * these rows as findings, convert applies them (through mapColumnType in type-mapping.ts), and the
 * README prints them (scripts/print-type-mappings.ts), so the three cannot disagree.
 *
 * Templates: n = length, p,s = precision and scale, f = fractional-seconds digits (at most 6 on
 * the MySQL family), "same" = the source type unchanged.
 */
import type {EngineName, MysqlFlavor} from '../../engines/model.js'
import type {MappingSeverity, TypeMappingRule} from './type-mapping-types.js'

const SQLSERVER_ROWS: TypeMappingRule[] = [
  {id: 'mssql.tinyint', source: 'sqlserver', sourceTypes: ['tinyint'], target: 'tinyint unsigned', severity: 'none',
    caveat: 'SQL Server tinyint is 0..255 (unsigned); a signed tinyint would reject 128..255.'},
  {id: 'mssql.integer', source: 'sqlserver', sourceTypes: ['smallint', 'int', 'bigint'], target: 'same', severity: 'none',
    caveat: 'Same range.'},
  {id: 'mssql.bit', source: 'sqlserver', sourceTypes: ['bit'], target: 'tinyint(1)', severity: 'none',
    caveat: 'tinyint(1) rather than bit(1): drivers (mysql2, JDBC) return it as a number and ORMs read it as a boolean, while bit(1) comes back as a Buffer and needs b\'1\' literals. It accepts 2..127 too; SQL Server turned any non-zero into 1.'},
  {id: 'mssql.decimal', source: 'sqlserver', sourceTypes: ['decimal', 'numeric'], target: 'decimal(p,s)', severity: 'none',
    caveat: 'Exact; SQL Server allows p <= 38, MySQL p <= 65 and s <= 30.'},
  {id: 'mssql.decimal-wide', source: 'sqlserver', sourceTypes: ['decimal', 'numeric'], target: 'decimal(65,s)', severity: 'blocker',
    caveat: 'Precision above 65 does not exist on the MySQL family; values could overflow.'},
  {id: 'mssql.money', source: 'sqlserver', sourceTypes: ['money'], target: 'decimal(19,4)', severity: 'none',
    caveat: 'Same range and 4 decimal places; arithmetic is exact decimal on both sides.'},
  {id: 'mssql.smallmoney', source: 'sqlserver', sourceTypes: ['smallmoney'], target: 'decimal(10,4)', severity: 'none',
    caveat: 'Same range and 4 decimal places.'},
  {id: 'mssql.float', source: 'sqlserver', sourceTypes: ['float'], target: 'double', severity: 'none',
    caveat: 'float(53) is an IEEE double on both sides; verify compares floats to 15 significant digits.'},
  {id: 'mssql.real', source: 'sqlserver', sourceTypes: ['real'], target: 'float', severity: 'info',
    caveat: 'real/float(24) is an IEEE single; text renderings differ between engines, so verify compares floats to 6 significant digits, never byte for byte.'},
  {id: 'mssql.char', source: 'sqlserver', sourceTypes: ['char', 'varchar', 'nchar', 'nvarchar'], target: 'char(n) / varchar(n), utf8mb4', severity: 'none',
    caveat: 'n stays a count of characters (MySQL counts characters; SQL Server counts bytes for char/varchar, byte pairs for nchar/nvarchar, so the value always fits). Code-page data (cp1252, latin1) is re-encoded as utf8mb4, which holds every character. MySQL CHAR strips trailing spaces on read where SQL Server pads them.'},
  {id: 'mssql.char-long', source: 'sqlserver', sourceTypes: ['char', 'nchar'], target: 'varchar(n), utf8mb4', severity: 'info',
    caveat: 'MySQL CHAR holds at most 255 characters; VARCHAR keeps the value but not the blank padding.'},
  {id: 'mssql.varchar-long', source: 'sqlserver', sourceTypes: ['varchar', 'nvarchar'], target: 'mediumtext', severity: 'needs-change',
    caveat: 'A varchar over 16383 characters exceeds the 65535-byte row limit in utf8mb4; mediumtext is stored off-row, cannot be a full index key and (before MySQL 8.0.13) cannot have a default.'},
  {id: 'mssql.lob-text', source: 'sqlserver', sourceTypes: ['varchar(max)', 'nvarchar(max)'], target: 'longtext', severity: 'none',
    caveat: 'Up to 4 GB on both sides; not indexable without a prefix; a default needs MySQL 8.0.13+ (expression default) and is not allowed on TiDB.'},
  {id: 'mssql.text', source: 'sqlserver', sourceTypes: ['text', 'ntext'], target: 'longtext', severity: 'info',
    caveat: 'text and ntext are deprecated in SQL Server; longtext holds the same data.'},
  {id: 'mssql.binary', source: 'sqlserver', sourceTypes: ['binary', 'varbinary'], target: 'binary(n) / varbinary(n)', severity: 'none',
    caveat: 'Byte for byte. binary(n) over 255 bytes becomes varbinary(n) (MySQL BINARY is at most 255), which does not pad with zeros.'},
  {id: 'mssql.lob-binary', source: 'sqlserver', sourceTypes: ['varbinary(max)'], target: 'longblob', severity: 'none',
    caveat: 'Up to 4 GB; the copier streams it; max_allowed_packet on the target must exceed the largest value.'},
  {id: 'mssql.image', source: 'sqlserver', sourceTypes: ['image'], target: 'longblob', severity: 'info',
    caveat: 'image is deprecated in SQL Server; longblob holds the same bytes.'},
  {id: 'mssql.date', source: 'sqlserver', sourceTypes: ['date'], target: 'date', severity: 'none',
    caveat: 'Same range (0001-01-01 to 9999-12-31 on SQL Server; MySQL accepts 1000-01-01 and later as supported, earlier values work but are not guaranteed).'},
  {id: 'mssql.time', source: 'sqlserver', sourceTypes: ['time'], target: 'time(f)', severity: 'none',
    caveat: 'f <= 6: exact.'},
  {id: 'mssql.time-7', source: 'sqlserver', sourceTypes: ['time(7)'], target: 'time(6)', severity: 'info',
    caveat: '100 ns precision is truncated to microseconds.'},
  {id: 'mssql.datetime2', source: 'sqlserver', sourceTypes: ['datetime2'], target: 'datetime(f)', severity: 'none',
    caveat: 'f <= 6: exact. MySQL datetime has no time zone, like datetime2.'},
  {id: 'mssql.datetime2-7', source: 'sqlserver', sourceTypes: ['datetime2(7)'], target: 'datetime(6)', severity: 'info',
    caveat: '100 ns precision is truncated to microseconds; two values that differ only in the 7th digit become equal (watch unique keys on such columns).'},
  {id: 'mssql.datetime', source: 'sqlserver', sourceTypes: ['datetime'], target: 'datetime(3)', severity: 'info',
    caveat: 'SQL Server datetime ticks are 1/300 s (.000, .003, .007); datetime(3) keeps each value exactly, but new values are no longer rounded to ticks.'},
  {id: 'mssql.smalldatetime', source: 'sqlserver', sourceTypes: ['smalldatetime'], target: 'datetime', severity: 'none',
    caveat: 'Minute precision on SQL Server; datetime keeps seconds, so new values are no longer rounded to the minute.'},
  {id: 'mssql.datetimeoffset', source: 'sqlserver', sourceTypes: ['datetimeoffset'], target: 'datetime(f)', severity: 'needs-change',
    caveat: 'No type stores an offset: payctl converts each value to UTC and the offset is lost. Keep the offset in an extra column if the application needs it, and read the column as UTC.'},
  {id: 'mssql.uniqueidentifier', source: 'sqlserver', sourceTypes: ['uniqueidentifier'], target: 'char(36) ascii',
    severity: 'info', caveat: 'Stored as the 36-character text SQL Server prints (upper case), compared case-insensitively (ascii_general_ci; TiDB has only ascii_bin: case-sensitive). binary(16) is smaller but SQL Server\'s mixed-endian byte order makes it hard to read and to compare with the source.'},
  {id: 'mssql.rowversion', source: 'sqlserver', sourceTypes: ['rowversion', 'timestamp'], target: 'binary(8)', severity: 'needs-change',
    caveat: 'The MySQL family has no row version: the copied values stay, but nothing updates them. Optimistic locking must move to an application-maintained version column (bigint).'},
  {id: 'mssql.xml', source: 'sqlserver', sourceTypes: ['xml'], target: 'longtext', severity: 'needs-change',
    caveat: 'No XML type, no XML schema collections, no XML indexes, no .value()/.query(): the text is kept, the queries must change.'},
  {id: 'mssql.spatial', source: 'sqlserver', sourceTypes: ['geography', 'geometry'], target: 'geometry', targetByFlavor: {tidb: 'longblob'},
    severity: 'needs-change', severityByFlavor: {tidb: 'blocker'},
    caveat: 'Values are copied as WKB with their SRID; geography\'s round-earth methods (STDistance in metres) become ST_Distance_Sphere and friends. TiDB has no spatial types: only the bytes can be kept.'},
  {id: 'mssql.hierarchyid', source: 'sqlserver', sourceTypes: ['hierarchyid'], target: 'varbinary(892)', severity: 'needs-change',
    caveat: 'The bytes are kept and sort in the same depth-first order, but GetAncestor/IsDescendantOf and the other methods are gone: tree queries must change (or store a materialised path).'},
  {id: 'mssql.sql_variant', source: 'sqlserver', sourceTypes: ['sql_variant'], target: 'varchar(8000)', severity: 'blocker',
    caveat: 'No equivalent: a column that holds values of different types. Proposal: varchar(8000) for the value plus a column naming its type, written by the application.'},
  {id: 'mssql.json', source: 'sqlserver', sourceTypes: ['json'], target: 'json', severity: 'none',
    caveat: 'SQL Server 2025 json; MariaDB stores json as longtext with a json_valid check.'},
  {id: 'mssql.unknown', source: 'sqlserver', sourceTypes: ['(any other, e.g. CLR types)'], target: 'longblob', severity: 'blocker',
    caveat: 'A type payctl does not know: only its bytes could be kept. Convert it in the source or map it by hand.'},
]

const MYSQL_ROWS: TypeMappingRule[] = [
  {id: 'mysql.integer', source: 'mysql', sourceTypes: ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'], target: 'same', severity: 'none',
    caveat: 'Display widths (int(11)) are dropped on MySQL 8 and Aurora MySQL 3, which deprecate them; tinyint(1) and zerofill keep theirs.'},
  {id: 'mysql.decimal', source: 'mysql', sourceTypes: ['decimal', 'numeric'], target: 'same', severity: 'none', caveat: 'Exact, unchanged.'},
  {id: 'mysql.float', source: 'mysql', sourceTypes: ['float', 'double'], target: 'same', severity: 'none',
    caveat: 'verify compares floats to 6 (float) or 15 (double) significant digits.'},
  {id: 'mysql.float-md', source: 'mysql', sourceTypes: ['float(m,d)', 'double(m,d)'], target: 'same', severity: 'info',
    caveat: 'float(m,d) is deprecated since MySQL 8.0.17 and rounds on write; prefer decimal(m,d) for exact values.'},
  {id: 'mysql.bit', source: 'mysql', sourceTypes: ['bit'], target: 'same', severity: 'none', caveat: 'bit(n) is read as a Buffer by drivers.'},
  {id: 'mysql.string', source: 'mysql', sourceTypes: ['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext'], target: 'same', severity: 'none',
    caveat: 'Character set and collation follow the collation table.'},
  {id: 'mysql.binary', source: 'mysql', sourceTypes: ['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'], target: 'same', severity: 'none',
    caveat: 'Byte for byte.'},
  {id: 'mysql.temporal', source: 'mysql', sourceTypes: ['date', 'datetime', 'timestamp', 'time', 'year'], target: 'same', severity: 'none',
    caveat: 'timestamp converts through the session time zone and ends in 2038; payctl copies with time_zone = \'+00:00\' on both sides.'},
  {id: 'mysql.enum', source: 'mysql', sourceTypes: ['enum', 'set'], target: 'same', severity: 'none',
    caveat: 'Members and their order are kept (the order is the sort order and the stored index).'},
  {id: 'mysql.json', source: 'mysql', sourceTypes: ['json'], target: 'json', severity: 'info', severityByFlavor: {mariadb: 'none'},
    caveat: 'MySQL and TiDB store JSON in binary form (key order and whitespace normalised); MariaDB stores the text (longtext with a json_valid check). verify compares JSON values, not their text.'},
  {id: 'mysql.spatial', source: 'mysql',
    sourceTypes: ['geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection'],
    target: 'same', targetByFlavor: {tidb: 'longblob'}, severity: 'none', severityByFlavor: {tidb: 'blocker'},
    caveat: 'TiDB has no spatial types or spatial indexes: only the bytes can be kept.'},
  {id: 'mysql.mariadb-types', source: 'mysql', sourceTypes: ['uuid', 'inet4', 'inet6'], target: 'char(36) / varchar(15) / varchar(39)', targetByFlavor: {mariadb: 'same'},
    severity: 'needs-change', severityByFlavor: {mariadb: 'none'},
    caveat: 'MariaDB 10.7+ types with no equivalent elsewhere: stored as their text form, compared as text.'},
  {id: 'mysql.unknown', source: 'mysql', sourceTypes: ['(any other)'], target: 'same', severity: 'blocker',
    caveat: 'A type payctl does not know; check that the target accepts it.'},
]

export const TYPE_MAPPINGS: readonly TypeMappingRule[] = [...SQLSERVER_ROWS, ...MYSQL_ROWS]

/** One row of the collation table. */
export interface CollationMappingRule {
  id: string
  source: EngineName
  /** Which source collations the row covers, for the README. */
  sourceCollations: string
  /** The target collation ("same" where unchanged); per flavor where flavors differ. */
  target: string
  targetByFlavor?: Partial<Record<MysqlFlavor, string>>
  severity: MappingSeverity
  severityByFlavor?: Partial<Record<MysqlFlavor, MappingSeverity>>
  caveat: string
}

/**
 * SQL Server collations are chosen by their sensitivity flags, not their names: a _CI_AS source
 * maps to an accent-sensitive case-insensitive collation where one exists (MySQL 8's
 * utf8mb4_0900_as_ci), because an accent-insensitive target could make a unique key that held on
 * the source ("José" and "Jose") fail during the copy.
 */
export const COLLATION_MAPPINGS: readonly CollationMappingRule[] = [
  {id: 'mssql.collation-ci-as', source: 'sqlserver', sourceCollations: '*_CI_AS* (e.g. SQL_Latin1_General_CP1_CI_AS)', target: 'utf8mb4_0900_as_ci',
    targetByFlavor: {tidb: 'utf8mb4_general_ci', mariadb: 'utf8mb4_unicode_ci'}, severity: 'info', severityByFlavor: {tidb: 'needs-change', mariadb: 'needs-change'},
    caveat: 'Case-insensitive on every flavor. TiDB and MariaDB have no accent-sensitive case-insensitive utf8mb4 collation, so there "e" = "é": a unique key can reject rows the source accepted. TiDB needs new_collations_enabled_on_first_bootstrap (default since v4.0). utf8mb4_0900_* collations are NO PAD: trailing spaces count, unlike SQL Server.'},
  {id: 'mssql.collation-ci-ai', source: 'sqlserver', sourceCollations: '*_CI_AI*', target: 'utf8mb4_0900_ai_ci',
    targetByFlavor: {tidb: 'utf8mb4_general_ci', mariadb: 'utf8mb4_unicode_ci'}, severity: 'info',
    caveat: 'Case- and accent-insensitive on every flavor; sort order of some letters differs.'},
  {id: 'mssql.collation-cs', source: 'sqlserver', sourceCollations: '*_CS_*', target: 'utf8mb4_0900_as_cs',
    targetByFlavor: {tidb: 'utf8mb4_bin', mariadb: 'utf8mb4_bin'}, severity: 'info',
    caveat: 'Case-sensitive; utf8mb4_bin also sorts by code point instead of linguistically.'},
  {id: 'mssql.collation-bin', source: 'sqlserver', sourceCollations: '*_BIN, *_BIN2', target: 'utf8mb4_bin', severity: 'none',
    caveat: 'Code-point order on both sides.'},
  {id: 'mssql.collation-other', source: 'sqlserver', sourceCollations: 'any other (no _CI/_CS flag)', target: 'the target database collation', severity: 'info',
    caveat: 'The sensitivity could not be read from the name; check it by hand.'},
  {id: 'mysql.collation-same', source: 'mysql', sourceCollations: 'any collation the target has', target: 'same', severity: 'none',
    caveat: 'Unchanged.'},
  {id: 'mysql.collation-tidb-bin', source: 'mysql', sourceCollations: 'a collation TiDB lacks (ascii_general_ci, latin1_swedish_ci, ...)', target: 'same',
    targetByFlavor: {tidb: '<charset>_bin (utf8mb4_general_ci for utf8mb4)'}, severity: 'none', severityByFlavor: {tidb: 'needs-change'},
    caveat: 'TiDB supports only _bin collations for ascii and latin1: comparisons there become case-sensitive ("usd" <> "USD").'},
  {id: 'mysql.collation-0900', source: 'mysql', sourceCollations: 'utf8mb4_0900_* (MySQL 8)', target: 'same',
    targetByFlavor: {mariadb: 'utf8mb4_unicode_ci (ai_ci) / utf8mb4_bin (as_cs, bin)'}, severity: 'none', severityByFlavor: {mariadb: 'info'},
    caveat: 'MariaDB before 11.4.5 does not know the 0900 names; utf8mb4_unicode_ci is PAD SPACE and sorts a few letters differently.'},
  {id: 'mysql.collation-mariadb-only', source: 'mysql', sourceCollations: 'utf8mb4_uca1400_*, *_nopad_* (MariaDB)', target: 'utf8mb4_0900_ai_ci (ci) / utf8mb4_bin',
    targetByFlavor: {mariadb: 'same', tidb: 'utf8mb4_unicode_ci (ci) / utf8mb4_bin'}, severity: 'info', severityByFlavor: {mariadb: 'none'},
    caveat: 'MariaDB-only collations; the closest equivalent keeps case-insensitivity.'},
]
