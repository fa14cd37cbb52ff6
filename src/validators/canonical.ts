/**
 * The canonical row encoding payctl verify hashes and compares on the client side (HashMethod
 * 'client'): every value, whichever engine and driver read it, becomes one canonical text per
 * type family; a row becomes an unambiguous byte string; a row's digest is SHA-256 over it; a
 * chunk's digest is an order-independent sum of its rows' digests. Never XOR of CRC32: CRC32 is
 * linear, so XOR-folding cancels equal deltas on an even number of rows (sync-diff #703, #344).
 *
 * SPECIFICATION (the README quotes this section)
 *
 * Type families (typeFamily). The family is chosen from the column's base type (dataType):
 * - integer:  tinyint smallint mediumint int integer bigint (also unsigned).
 * - decimal:  decimal numeric (fixed, dec); SQL Server money smallmoney (scale 4).
 * - float:    single precision: MySQL float; SQL Server real and float(1..24).
 * - double:   MySQL double / real / double precision; SQL Server float(25..53).
 * - date:     date.
 * - datetime: datetime timestamp (MySQL), datetime datetime2 smalldatetime datetimeoffset (SQL Server).
 * - time:     time.   year: year.
 * - string:   char varchar tinytext text mediumtext longtext enum set (MySQL); char varchar text
 *             nchar nvarchar ntext uniqueidentifier xml sql_variant (SQL Server); MariaDB uuid inet4 inet6.
 * - binary:   binary varbinary tinyblob blob mediumblob longblob (MySQL); binary varbinary image
 *             rowversion/timestamp (SQL Server).
 * - bit:      bit (both engines).
 * - json:     json (both engines).
 * - other:    anything else (spatial types, hierarchyid, vector, CLR types): the driver's text, or hex of its bytes.
 * When the two sides' columns are of different families (a SQL Server bit copied to a MySQL
 * tinyint(1)), the caller hashes both sides with one family per column (the source's): every
 * family accepts every input form below, so the same value gives the same text either way.
 *
 * Canonical text per family (canonicalValue); SQL NULL (null or undefined) is null, never text:
 * - integer: base 10, no leading zeros, no '+', '-0' -> '0'. Numbers, bigints, numeric strings
 *   ('007', '+5', '12.000'), booleans (1/0) and Buffers (big-endian unsigned) alike.
 * - decimal: fixed point at the column's declared scale, by exact string arithmetic, never through
 *   a float: '1.5' and '1.50' at scale 4 are both '1.5000'; no exponent ('1.5e3' -> '1500.0000');
 *   no leading zeros ('0.5000', not '.5000'); '-0.0000' -> '0.0000'. Extra fraction digits beyond
 *   the scale are rounded half away from zero (as MySQL stores them). Without a declared scale the
 *   value keeps its own digits, trailing fraction zeros dropped.
 * - float: 6 significant digits; double: 15 significant digits (sync-diff-inspector's rule: TiDB,
 *   MySQL and SQL Server print floating point differently beyond these). Rendered as
 *   String(Number(x.toPrecision(n))): no trailing zeros, no exponent for |x| in [1e-6, 1e21),
 *   JavaScript's exponent form otherwise ('1.5e-7', '1e+21'); -0 -> '0'; 'NaN', 'Infinity', '-Infinity'.
 * - date: 'YYYY-MM-DD'.
 * - datetime: 'YYYY-MM-DD HH:MM:SS.ffffff', always 6 fraction digits: fewer are padded with zeros,
 *   more are cut (not rounded: SQL Server datetime2(7) is cut to 6, as the target datetime(6) keeps
 *   it). In UTC: the inputs already are (TIMESTAMP is read in UTC, datetimeoffset is shifted to
 *   +00:00 by the read); a value that still carries an offset suffix ('Z', '+05:30', ' -0800') is
 *   converted to UTC. A 'T' separator is accepted. MySQL zero dates ('0000-00-00 00:00:00') keep
 *   their digits. A Date object is taken as its UTC time (millisecond precision).
 * - time: '[-]HH:MM:SS.ffffff', 6 fraction digits as for datetime; hours at least 2 digits and may
 *   exceed 24 (MySQL TIME is -838:59:59..838:59:59); a negative zero loses its sign.
 * - year: 4 digits ('2024', 0 -> '0000').
 * - string: the exact characters (encoded as UTF-8 in the row): no case folding, no trimming, no
 *   Unicode normalisation. A case-only change ('abc' vs 'ABC') and a trailing space ('a' vs 'a ')
 *   ARE differences. A PAD SPACE or case-insensitive collation compares such values equal, but payctl
 *   reports them, because the bytes the application reads back differ. (SQL Server char/nchar are
 *   read right-trimmed, as MySQL CHAR drops trailing spaces; that happens in the read, not here.) A
 *   Buffer in a string column is decoded as UTF-8; bytes that are not valid UTF-8 give '\x' + hex.
 * - binary: lower-case hex of the bytes ('' for zero bytes).
 * - bit: lower-case hex of the value's bytes at minimal length: leading zero bytes are dropped, so
 *   MySQL's b'1' (Buffer 0x0001 for BIT(9)) and SQL Server's bit 1 (the number 1) are both '01';
 *   zero is '00'. Numbers, bigints, booleans and numeric strings give their big-endian bytes.
 * - json: parsed and re-serialised with object keys sorted by Unicode code point and no whitespace;
 *   strings as JSON.stringify escapes them; numbers as JavaScript prints them (1.0 -> 1, 1e2 -> 100).
 *   So key order, spacing and number spelling are not differences (MariaDB keeps JSON as written,
 *   MySQL prints its normalised form) but any value change is. Numbers are IEEE doubles: integers
 *   beyond 2^53 and decimals beyond 17 significant digits may lose their last digits, so a change
 *   only there is not seen. Text that is not valid JSON is compared as a string (it cannot equal a
 *   canonical JSON text, which is always valid JSON). A value the driver handed over parsed is
 *   serialised the same way.
 * - other: a Buffer as lower-case hex; a Date as its ISO text; a plain object or array as canonical
 *   JSON (as above); anything else String(value).
 *
 * Row encoding (canonicalRow): a 4-byte big-endian field count, then per field either the single
 * byte 0x00 (SQL NULL) or 0x01, a 4-byte big-endian byte length, and the canonical text's UTF-8
 * bytes. Length prefixes leave nothing to collide: NULL, '' and 'NULL' differ, and ('a|', 'b')
 * differs from ('a', '|b').
 *
 * Row digest (rowDigest): SHA-256 of the encoding (HMAC-SHA-256 with a per-run key when one is
 * given, so nobody can construct colliding rows in advance), truncated to its first 16 bytes (128
 * bits). Chunk digest (ChunkHasher): the row count and the sum of the row digests read as unsigned
 * 128-bit big-endian integers, modulo 2^128. The sum does not depend on row order; unlike XOR, two
 * equal rows do not cancel (d + d = 2d, not 0), and the digests of SHA-256 have no linear structure
 * for equal deltas to cancel in. digestHex() is the sum as 32 lower-case hex digits; compare the
 * count as well.
 *
 * Masking (maskValue), for reports only: whole values of columns whose name is a secret's
 * (password, passwd, pwd, secret, token, cvv, cvc, pan, card_number, api_key, as a word of the name
 * in snake_case or camelCase) become MASK; elsewhere, runs of 13-19 digits (contiguous, or in groups
 * split by single spaces or dashes) that pass the Luhn check become MASK + their last 4 digits,
 * as src/cli/redact.ts masks card numbers in logs.
 */
import {createHash, createHmac} from 'node:crypto'
import {luhnValid, MASK} from '../cli/redact.js'
import type {ColumnModel} from '../engines/model.js'

export type TypeFamily =
  | 'integer'
  | 'decimal'
  | 'float'
  | 'double'
  | 'date'
  | 'datetime'
  | 'time'
  | 'year'
  | 'string'
  | 'binary'
  | 'bit'
  | 'json'
  | 'other'

/** What typeFamily and canonicalValue read of a column. */
export type CanonicalColumn = Pick<ColumnModel, 'name' | 'dataType' | 'columnType' | 'precision' | 'scale'>

/** Bytes of a row digest (SHA-256 truncated). */
export const ROW_DIGEST_BYTES = 16
const FRACTION_DIGITS = 6
const FLOAT_DIGITS = 6
const DOUBLE_DIGITS = 15

// ---------------------------------------------------------------------------------------------
// Families

const COMMON: Record<string, TypeFamily> = {
  tinyint: 'integer',
  smallint: 'integer',
  int: 'integer',
  integer: 'integer',
  bigint: 'integer',
  decimal: 'decimal',
  numeric: 'decimal',
  date: 'date',
  datetime: 'datetime',
  time: 'time',
  char: 'string',
  varchar: 'string',
  text: 'string',
  binary: 'binary',
  varbinary: 'binary',
  bit: 'bit',
  json: 'json',
}

const MYSQL: Record<string, TypeFamily> = {
  mediumint: 'integer',
  dec: 'decimal',
  fixed: 'decimal',
  float: 'float',
  double: 'double',
  real: 'double',
  'double precision': 'double',
  timestamp: 'datetime',
  year: 'year',
  tinytext: 'string',
  mediumtext: 'string',
  longtext: 'string',
  enum: 'string',
  set: 'string',
  // MariaDB
  uuid: 'string',
  inet4: 'string',
  inet6: 'string',
  tinyblob: 'binary',
  blob: 'binary',
  mediumblob: 'binary',
  longblob: 'binary',
}

const SQLSERVER: Record<string, TypeFamily> = {
  money: 'decimal',
  smallmoney: 'decimal',
  real: 'float',
  datetime2: 'datetime',
  smalldatetime: 'datetime',
  datetimeoffset: 'datetime',
  nchar: 'string',
  nvarchar: 'string',
  ntext: 'string',
  uniqueidentifier: 'string',
  xml: 'string',
  sql_variant: 'string',
  image: 'binary',
  rowversion: 'binary',
  // the deprecated name of rowversion (the introspector already maps it)
  timestamp: 'binary',
}

/** The type family a column's values are compared in; see the specification above. */
export function typeFamily(column: CanonicalColumn, engine: 'mysql' | 'sqlserver'): TypeFamily {
  const t = column.dataType.trim().toLowerCase()
  if (engine === 'sqlserver' && t === 'float') {
    // float(n): n <= 24 is stored as real (4 bytes); the catalog states n as the precision
    return column.precision !== null && column.precision <= 24 ? 'float' : 'double'
  }
  const specific = engine === 'mysql' ? MYSQL[t] : SQLSERVER[t]
  return specific ?? COMMON[t] ?? 'other'
}

// ---------------------------------------------------------------------------------------------
// Values

/** The canonical text of one value (null for SQL NULL); see the specification above. */
export function canonicalValue(value: unknown, column: CanonicalColumn, family: TypeFamily): string | null {
  if (value === null || value === undefined) return null
  switch (family) {
    case 'integer':
      return canonicalInteger(value)
    case 'decimal':
      return canonicalDecimal(value, column.dataType === 'money' || column.dataType === 'smallmoney' ? (column.scale ?? 4) : column.scale)
    case 'float':
      return canonicalFloat(value, FLOAT_DIGITS)
    case 'double':
      return canonicalFloat(value, DOUBLE_DIGITS)
    case 'date':
      return canonicalDate(value)
    case 'datetime':
      return canonicalDatetime(value)
    case 'time':
      return canonicalTime(value)
    case 'year':
      return canonicalYear(value)
    case 'string':
      return canonicalString(value)
    case 'binary':
      return canonicalBinary(value)
    case 'bit':
      return canonicalBit(value)
    case 'json':
      return canonicalJsonValue(value)
    case 'other':
      return canonicalOther(value)
  }
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`)
}

/** Fallback text for a value of a form a family does not expect: deterministic, never throws. */
function fallbackText(value: unknown): string {
  if (isBytes(value)) return bytesToHex(value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  if (typeof value === 'object' && value !== null) return canonicalJson(value)
  return String(value)
}

/** '-007' -> '-7', '+0' -> '0', '' stays ''. Digits only. */
function stripIntegerDigits(sign: string, digits: string): string {
  const d = digits.replace(/^0+(?=\d)/, '')
  return sign === '-' && d !== '0' ? `-${d}` : d
}

function canonicalInteger(value: unknown): string {
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return BigInt(value).toString()
    return Number.isFinite(value) ? canonicalDecimal(value, null) : String(value)
  }
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (isBytes(value)) return bytesToBigInt(value).toString()
  if (typeof value === 'string') {
    const m = /^\s*([+-]?)(\d+)(?:\.0*)?\s*$/.exec(value)
    if (m) return stripIntegerDigits(m[1] ?? '', m[2] ?? '0')
    const d = parseDecimal(value)
    return d ? canonicalDecimal(value, null) : value
  }
  return fallbackText(value)
}

interface ParsedDecimal {
  negative: boolean
  /** Integer digits, no leading zeros ('' for zero). */
  int: string
  /** Fraction digits, as many as written. */
  frac: string
}

/** Parses '[+-]digits[.digits][e[+-]digits]' exactly, shifting the point by the exponent. */
function parseDecimal(text: string): ParsedDecimal | null {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text)
  if (!m) return null
  let int = m[2] ?? ''
  let frac = m[3] ?? ''
  if (int === '' && frac === '') return null
  const exp = m[4] === undefined ? 0 : Number.parseInt(m[4], 10)
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100_000) return null
  if (exp > 0) {
    const moved = frac.padEnd(exp, '0')
    int += moved.slice(0, exp)
    frac = moved.slice(exp)
  } else if (exp < 0) {
    const moved = int.padStart(-exp, '0')
    frac = moved.slice(moved.length + exp) + frac
    int = moved.slice(0, moved.length + exp)
  }
  return {negative: m[1] === '-', int: int.replace(/^0+/, ''), frac}
}

/** Adds one unit in the last place to a string of digits ('199' -> '200', '99' -> '100'). */
function incrementDigits(digits: string): string {
  const out = digits.split('')
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] === '9') {
      out[i] = '0'
    } else {
      out[i] = String.fromCharCode((out[i] ?? '0').charCodeAt(0) + 1)
      return out.join('')
    }
  }
  return `1${out.join('')}`
}

function canonicalDecimal(value: unknown, scale: number | null): string {
  let text: string
  if (typeof value === 'string') text = value
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value)
    text = String(value)
  } else if (typeof value === 'bigint') text = value.toString()
  else if (typeof value === 'boolean') text = value ? '1' : '0'
  else return fallbackText(value)
  const d = parseDecimal(text)
  if (!d) return text
  let {int, frac} = d
  if (scale === null || scale < 0) {
    frac = frac.replace(/0+$/, '')
  } else if (frac.length > scale) {
    // round half away from zero on the first dropped digit
    const roundUp = (frac.charCodeAt(scale) - 48) >= 5
    frac = frac.slice(0, scale)
    if (roundUp) {
      const bumped = incrementDigits(int + frac)
      int = bumped.slice(0, bumped.length - scale)
      frac = bumped.slice(bumped.length - scale)
    }
  } else {
    frac = frac.padEnd(scale, '0')
  }
  int = int.replace(/^0+/, '')
  if (int === '') int = '0'
  const zero = /^0*$/.test(int) && /^0*$/.test(frac)
  const body = frac === '' ? int : `${int}.${frac}`
  return d.negative && !zero ? `-${body}` : body
}

function canonicalFloat(value: unknown, digits: number): string {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'bigint') n = Number(value)
  else if (typeof value === 'boolean') n = value ? 1 : 0
  else if (typeof value === 'string') {
    const t = value.trim()
    n = /^[+-]?(?:inf|infinity)$/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : Number(t)
    if (t === '' || (Number.isNaN(n) && !/^nan$/i.test(t))) return value
  } else return fallbackText(value)
  if (Number.isNaN(n)) return 'NaN'
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity'
  // String() of a decimal with <= 15 significant digits prints exactly those digits, trailing zeros dropped; -0 prints '0'
  return String(Number(n.toPrecision(digits)))
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function fraction(digits: string | undefined): string {
  return (digits ?? '').slice(0, FRACTION_DIGITS).padEnd(FRACTION_DIGITS, '0')
}

function dateOf(value: Date): {date: string; time: string; frac: string} | null {
  const ms = value.getTime()
  if (Number.isNaN(ms)) return null
  const year = value.getUTCFullYear()
  return {
    date: `${pad(year, 4)}-${pad(value.getUTCMonth() + 1, 2)}-${pad(value.getUTCDate(), 2)}`,
    time: `${pad(value.getUTCHours(), 2)}:${pad(value.getUTCMinutes(), 2)}:${pad(value.getUTCSeconds(), 2)}`,
    frac: pad(value.getUTCMilliseconds(), 3),
  }
}

function canonicalDate(value: unknown): string {
  if (value instanceof Date) return dateOf(value)?.date ?? fallbackText(value)
  if (typeof value === 'string') {
    const m = /^\s*(\d{4}-\d{2}-\d{2})(?:$|[ T])/.exec(value)
    // a datetime text in a date column: its (UTC) date
    if (m && value.trim().length > 10) {
      const dt = canonicalDatetime(value)
      return /^\d{4}-\d{2}-\d{2} /.test(dt) ? dt.slice(0, 10) : (m[1] ?? value)
    }
    return m?.[1] ?? value
  }
  return fallbackText(value)
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y
  const era = Math.floor(yy / 400)
  const yoe = yy - era * 400
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function civilFromDays(z0: number): [number, number, number] {
  const z = z0 + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [m <= 2 ? era * 400 + yoe + 1 : era * 400 + yoe, m, d]
}

const DATETIME_RE =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?\s*$/i

function canonicalDatetime(value: unknown): string {
  if (value instanceof Date) {
    const p = dateOf(value)
    return p ? `${p.date} ${p.time}.${fraction(p.frac)}` : fallbackText(value)
  }
  if (typeof value !== 'string') return fallbackText(value)
  const m = DATETIME_RE.exec(value)
  if (!m) return value
  let y = Number(m[1])
  let mo = Number(m[2])
  let d = Number(m[3])
  let h = Number(m[4] ?? 0)
  let mi = Number(m[5] ?? 0)
  const s = Number(m[6] ?? 0)
  const offset = m[8]
  if (offset !== undefined && offset.toUpperCase() !== 'Z' && mo >= 1 && d >= 1) {
    const sign = offset.startsWith('-') ? -1 : 1
    const digits = offset.slice(1).replace(':', '')
    const offMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0))
    // local = UTC + offset, so UTC = local - offset
    const total = daysFromCivil(y, mo, d) * 1440 + h * 60 + mi - offMinutes
    const days = Math.floor(total / 1440)
    const minutes = total - days * 1440
    ;[y, mo, d] = civilFromDays(days)
    h = Math.floor(minutes / 60)
    mi = minutes % 60
  }
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${fraction(m[7])}`
}

function canonicalTime(value: unknown): string {
  if (value instanceof Date) {
    const p = dateOf(value)
    return p ? `${p.time}.${fraction(p.frac)}` : fallbackText(value)
  }
  if (typeof value !== 'string') return fallbackText(value)
  const m = /^\s*([+-]?)(\d+):(\d{2})(?::(\d{2})(?:\.(\d*))?)?\s*$/.exec(value)
  if (!m) return value
  const hours = (m[2] ?? '0').replace(/^0+/, '').padStart(2, '0')
  const body = `${hours}:${m[3] ?? '00'}:${m[4] ?? '00'}.${fraction(m[5])}`
  return m[1] === '-' && !/^[0:.]*$/.test(body) ? `-${body}` : body
}

function canonicalYear(value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return pad(value, 4)
  if (typeof value === 'string' && /^\s*\d{1,4}\s*$/.test(value)) return pad(Number(value), 4)
  if (value instanceof Date) return dateOf(value)?.date.slice(0, 4) ?? fallbackText(value)
  return fallbackText(value)
}

const UTF8 = new TextDecoder('utf-8', {fatal: true, ignoreBOM: true})

function canonicalString(value: unknown): string {
  if (typeof value === 'string') return value
  if (isBytes(value)) {
    try {
      return UTF8.decode(value)
    } catch {
      return `\\x${bytesToHex(value)}`
    }
  }
  return fallbackText(value)
}

function canonicalBinary(value: unknown): string {
  if (isBytes(value)) return bytesToHex(value)
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('hex')
  return fallbackText(value)
}

function bigIntToMinimalHex(n: bigint): string {
  const hex = n.toString(16)
  return hex.length % 2 === 0 ? hex : `0${hex}`
}

function canonicalBit(value: unknown): string {
  if (isBytes(value)) return bigIntToMinimalHex(bytesToBigInt(value))
  if (typeof value === 'boolean') return value ? '01' : '00'
  if (typeof value === 'bigint' && value >= 0n) return bigIntToMinimalHex(value)
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return bigIntToMinimalHex(BigInt(value))
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value)) return bigIntToMinimalHex(BigInt(value.trim()))
  return fallbackText(value)
}

/** Compares two strings by Unicode code point (JavaScript's < compares UTF-16 code units). */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const ca = ia.next()
    const cb = ib.next()
    if (ca.done === true) return cb.done === true ? 0 : -1
    if (cb.done === true) return 1
    const pa = ca.value.codePointAt(0) ?? 0
    const pb = cb.value.codePointAt(0) ?? 0
    if (pa !== pb) return pa - pb
  }
}

/** JSON with object keys sorted by code point and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null'
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value)
  if (isBytes(value)) return JSON.stringify(bytesToHex(value))
  if (value instanceof Date) return JSON.stringify(fallbackText(value))
  if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v)).join(',')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => compareCodePoints(a, b))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  // symbols and functions, which JSON has no form for
  return 'null'
}

function canonicalJsonValue(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = value
  else if (isBytes(value)) text = canonicalString(value)
  else return canonicalJson(value)
  let parsed: unknown
  try {
    parsed = JSON.parse(text) as unknown
  } catch {
    return text
  }
  return canonicalJson(parsed)
}

function canonicalOther(value: unknown): string {
  return fallbackText(value)
}

// ---------------------------------------------------------------------------------------------
// Rows and chunks

const NULL_MARKER = 0x00
const VALUE_MARKER = 0x01

/** The unambiguous encoding of a row's canonical values; see the specification above. */
export function canonicalRow(
  values: readonly unknown[],
  columns: readonly CanonicalColumn[],
  families: readonly TypeFamily[],
): Buffer {
  if (values.length !== columns.length || families.length !== columns.length) {
    throw new RangeError(`canonicalRow: ${values.length} values, ${columns.length} columns, ${families.length} families.`)
  }
  const parts: Buffer[] = []
  const head = Buffer.alloc(4)
  head.writeUInt32BE(values.length)
  parts.push(head)
  for (let i = 0; i < values.length; i++) {
    const column = columns[i] as CanonicalColumn
    const text = canonicalValue(values[i], column, families[i] as TypeFamily)
    if (text === null) {
      parts.push(Buffer.of(NULL_MARKER))
      continue
    }
    const bytes = Buffer.from(text, 'utf8')
    const prefix = Buffer.alloc(5)
    prefix.writeUInt8(VALUE_MARKER, 0)
    prefix.writeUInt32BE(bytes.length, 1)
    parts.push(prefix, bytes)
  }
  return Buffer.concat(parts)
}

/** SHA-256 (HMAC-SHA-256 with `key`) of an encoded row, truncated to ROW_DIGEST_BYTES (16) bytes. */
export function rowDigest(buf: Uint8Array, key?: Uint8Array): Buffer {
  const h = key === undefined ? createHash('sha256') : createHmac('sha256', key)
  return h.update(buf).digest().subarray(0, ROW_DIGEST_BYTES)
}

const LIMBS = ROW_DIGEST_BYTES / 4
const LIMB = 0x1_0000_0000

/**
 * Folds a chunk's row digests into an order-independent value: the count of rows and the sum of
 * their digests as unsigned 128-bit big-endian integers, modulo 2^128 (not XOR: equal digests do
 * not cancel pairwise).
 */
export class ChunkHasher {
  /** 32-bit limbs, most significant first. */
  private readonly limbs: number[] = new Array<number>(LIMBS).fill(0)
  private rows = 0

  /** Adds one row's digest (ROW_DIGEST_BYTES bytes, as rowDigest returns). */
  add(digest: Uint8Array): this {
    if (digest.length !== ROW_DIGEST_BYTES) throw new RangeError(`A row digest has ${ROW_DIGEST_BYTES} bytes; got ${digest.length}.`)
    const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength)
    let carry = 0
    for (let i = LIMBS - 1; i >= 0; i--) {
      const sum = (this.limbs[i] ?? 0) + view.getUint32(i * 4, false) + carry
      carry = sum >= LIMB ? 1 : 0
      this.limbs[i] = sum - carry * LIMB
    }
    this.rows++
    return this
  }

  /** Encodes, digests and adds one row. */
  addRow(values: readonly unknown[], columns: readonly CanonicalColumn[], families: readonly TypeFamily[], key?: Uint8Array): this {
    return this.add(rowDigest(canonicalRow(values, columns, families), key))
  }

  /** Adds another chunk's rows (the sum of two sub-chunks is the chunk's sum). */
  merge(other: ChunkHasher): this {
    this.add(other.digest())
    this.rows += other.rows - 1
    return this
  }

  get count(): number {
    return this.rows
  }

  /** The sum, ROW_DIGEST_BYTES bytes big-endian. */
  digest(): Buffer {
    const out = Buffer.alloc(ROW_DIGEST_BYTES)
    for (let i = 0; i < LIMBS; i++) out.writeUInt32BE(this.limbs[i] ?? 0, i * 4)
    return out
  }

  /** The sum as 32 lower-case hex digits (all zeros for an empty chunk). */
  digestHex(): string {
    return this.digest().toString('hex')
  }

  /** Same count and same sum. */
  equals(other: ChunkHasher): boolean {
    return this.rows === other.rows && this.digestHex() === other.digestHex()
  }

  toJSON(): {count: number; digest: string} {
    return {count: this.rows, digest: this.digestHex()}
  }
}

// ---------------------------------------------------------------------------------------------
// Masking

const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'cvv', 'cvv2', 'cvc', 'cvc2', 'pan'])
const SECRET_PAIRS = new Set(['card_number', 'cardnumber', 'card_no', 'api_key', 'apikey'])

/** Whether a column's name marks its values as secret (password, token, cvv, pan, card_number, api_key ...). */
export function isSecretColumn(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '')
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string
    if (SECRET_WORDS.has(w) || SECRET_PAIRS.has(w)) return true
    if (i + 1 < words.length && SECRET_PAIRS.has(`${w}_${words[i + 1] ?? ''}`)) return true
  }
  return false
}

/** 13-19 digits, contiguous or in groups split by one space or dash, not part of a longer number or a decimal's integer part. */
const CARD_RUN = /(?<![\d.])(?<!\d[ -])\d(?:[ -]?\d){12,18}(?![\d]|[ -]\d|\.\d)/g

/** Masks a canonical value for a report; see the specification above. */
export function maskValue(text: string | null, column: Pick<ColumnModel, 'name'>): string | null {
  if (text === null) return null
  if (isSecretColumn(column.name)) return MASK
  return text.replace(CARD_RUN, (run) => {
    const digits = run.replace(/[ -]/g, '')
    return luhnValid(digits) ? `${MASK}${digits.slice(-4)}` : run
  })
}
