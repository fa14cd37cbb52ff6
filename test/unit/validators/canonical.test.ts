import {describe, expect, test} from 'vitest'
import {MASK} from '../../../src/cli/redact.js'
import type {ColumnModel} from '../../../src/engines/model.js'
import {
  canonicalJson,
  canonicalRow,
  canonicalValue,
  ChunkHasher,
  isSecretColumn,
  maskValue,
  ROW_DIGEST_BYTES,
  rowDigest,
  type TypeFamily,
  typeFamily,
} from '../../../src/validators/canonical.js'

function col(dataType: string, overrides: Partial<ColumnModel> = {}): ColumnModel {
  return {
    name: 'c',
    ordinal: 1,
    dataType,
    columnType: dataType,
    length: null,
    precision: null,
    scale: null,
    unsigned: false,
    charset: null,
    collation: null,
    nullable: true,
    default: null,
    identity: null,
    generated: null,
    enumValues: null,
    sparse: false,
    serverMaintained: false,
    comment: null,
    ...overrides,
  }
}

/** Canonical text of a value in a column, family from the column's engine. */
function canon(value: unknown, column: ColumnModel, engine: 'mysql' | 'sqlserver' = 'mysql'): string | null {
  return canonicalValue(value, column, typeFamily(column, engine))
}

describe('typeFamily', () => {
  test.each([
    ['tinyint', 'integer'], ['smallint', 'integer'], ['mediumint', 'integer'], ['int', 'integer'], ['bigint', 'integer'],
    ['decimal', 'decimal'], ['numeric', 'decimal'], ['float', 'float'], ['double', 'double'], ['real', 'double'],
    ['date', 'date'], ['datetime', 'datetime'], ['timestamp', 'datetime'], ['time', 'time'], ['year', 'year'],
    ['char', 'string'], ['varchar', 'string'], ['text', 'string'], ['longtext', 'string'], ['enum', 'string'], ['set', 'string'],
    ['binary', 'binary'], ['varbinary', 'binary'], ['blob', 'binary'], ['longblob', 'binary'],
    ['bit', 'bit'], ['json', 'json'], ['geometry', 'other'], ['point', 'other'], ['uuid', 'string'],
  ] as const)('mysql %s -> %s', (dataType, family) => {
    expect(typeFamily(col(dataType), 'mysql')).toBe(family)
  })

  test.each([
    ['tinyint', 'integer'], ['int', 'integer'], ['bigint', 'integer'], ['decimal', 'decimal'], ['numeric', 'decimal'],
    ['money', 'decimal'], ['smallmoney', 'decimal'], ['real', 'float'], ['date', 'date'], ['datetime', 'datetime'],
    ['datetime2', 'datetime'], ['smalldatetime', 'datetime'], ['datetimeoffset', 'datetime'], ['time', 'time'],
    ['char', 'string'], ['nchar', 'string'], ['nvarchar', 'string'], ['ntext', 'string'], ['uniqueidentifier', 'string'],
    ['xml', 'string'], ['binary', 'binary'], ['varbinary', 'binary'], ['image', 'binary'], ['rowversion', 'binary'],
    ['timestamp', 'binary'], ['bit', 'bit'], ['json', 'json'], ['geography', 'other'], ['hierarchyid', 'other'],
  ] as const)('sqlserver %s -> %s', (dataType, family) => {
    expect(typeFamily(col(dataType), 'sqlserver')).toBe(family)
  })

  test('SQL Server float(n): single precision up to 24, double above', () => {
    expect(typeFamily(col('float', {precision: 53}), 'sqlserver')).toBe('double')
    expect(typeFamily(col('float', {precision: 24}), 'sqlserver')).toBe('float')
    expect(typeFamily(col('float'), 'sqlserver')).toBe('double')
  })
})

describe('integer', () => {
  const int = col('bigint')
  test('base 10, no leading zeros or plus, -0 is 0', () => {
    expect(canon(42, int)).toBe('42')
    expect(canon('0042', int)).toBe('42')
    expect(canon('+7', int)).toBe('7')
    expect(canon('-0', int)).toBe('0')
    expect(canon(-0, int)).toBe('0')
    expect(canon('-000', int)).toBe('0')
    expect(canon('-12', int)).toBe('-12')
  })
  test('numbers, bigints and strings alike, exact beyond 2^53', () => {
    expect(canon(9007199254740993n, int)).toBe('9007199254740993')
    expect(canon('9007199254740993', int)).toBe('9007199254740993')
    expect(canon('18446744073709551615', col('bigint', {unsigned: true}))).toBe('18446744073709551615')
    expect(canon(123, int)).toBe(canon('123', int))
    expect(canon(123n, int)).toBe(canon(123, int))
  })
  test('booleans and bytes', () => {
    expect(canon(true, int)).toBe('1')
    expect(canon(Buffer.from([0x01, 0x00]), int)).toBe('256')
  })
})

describe('decimal', () => {
  const d4 = col('decimal', {precision: 19, scale: 4, columnType: 'decimal(19,4)'})
  test('pads to the declared scale', () => {
    expect(canon('1.5', d4)).toBe('1.5000')
    expect(canon('1.50', d4)).toBe('1.5000')
    expect(canon('12.5000', d4)).toBe('12.5000')
    expect(canon('12', d4)).toBe('12.0000')
    expect(canon(12, d4)).toBe('12.0000')
    expect(canon(12n, d4)).toBe('12.0000')
  })
  test('negative zero, leading zeros, exponent', () => {
    expect(canon('-0.0000', d4)).toBe('0.0000')
    expect(canon('-0', d4)).toBe('0.0000')
    expect(canon('000.25', d4)).toBe('0.2500')
    expect(canon('.25', d4)).toBe('0.2500')
    expect(canon('-.25', d4)).toBe('-0.2500')
    expect(canon('1.5e3', d4)).toBe('1500.0000')
    expect(canon('1.5E-3', d4)).toBe('0.0015')
    expect(canon(1e21, d4)).toBe('1000000000000000000000.0000')
    expect(canon('+3.1', d4)).toBe('3.1000')
  })
  test('exact: no float on the way', () => {
    const big = col('decimal', {precision: 38, scale: 10})
    expect(canon('12345678901234567890123456.1234567891', big)).toBe('12345678901234567890123456.1234567891')
    expect(canon('0.1', big)).toBe('0.1000000000')
  })
  test('extra digits round half away from zero', () => {
    expect(canon('1.23455', d4)).toBe('1.2346')
    expect(canon('1.23454', d4)).toBe('1.2345')
    expect(canon('-1.99995', d4)).toBe('-2.0000')
    expect(canon('9.99995', d4)).toBe('10.0000')
    expect(canon('-0.00001', d4)).toBe('0.0000')
    expect(canon('0.5', col('decimal', {scale: 0}))).toBe('1')
  })
  test('without a scale: its own digits, trailing zeros dropped', () => {
    expect(canon('1.2300', col('decimal'))).toBe('1.23')
    expect(canon('5.000', col('decimal'))).toBe('5')
  })
  test('SQL Server money and MySQL decimal(19,4) agree', () => {
    const money = col('money', {precision: 19, scale: 4})
    expect(canon('12.3400', money, 'sqlserver')).toBe(canon('12.34', d4, 'mysql'))
    expect(canon('12.34', col('money'), 'sqlserver')).toBe('12.3400')
  })
  test('a change in the last digit is a difference', () => {
    expect(canon('12.3401', d4)).not.toBe(canon('12.3400', d4))
  })
})

describe('float and double', () => {
  const f = col('float')
  const d = col('double')
  test('float: 6 significant digits', () => {
    expect(canon(0.1, f)).toBe('0.1')
    // a 32-bit 0.1 widened to a double
    expect(canon(Math.fround(0.1), f)).toBe('0.1')
    expect(canon(3.14159265, f)).toBe('3.14159')
    expect(canon(123456789, f)).toBe('123457000')
    expect(canon(1.5, f)).toBe('1.5')
  })
  test('double: 15 significant digits', () => {
    expect(canon(0.1 + 0.2, d)).toBe('0.3')
    expect(canon(1 / 3, d)).toBe('0.333333333333333')
    expect(canon(123456789.1234567, d)).toBe('123456789.123457')
    expect(canon(2 ** 53 + 1, d)).toBe('9007199254740990')
  })
  test('exponent only outside [1e-6, 1e21); -0, NaN and Infinity', () => {
    expect(canon(1e-6, d)).toBe('0.000001')
    expect(canon(1.5e-7, d)).toBe('1.5e-7')
    expect(canon(1e20, d)).toBe('100000000000000000000')
    expect(canon(1e21, d)).toBe('1e+21')
    expect(canon(-0, d)).toBe('0')
    expect(canon(Number.NaN, d)).toBe('NaN')
    expect(canon(Infinity, d)).toBe('Infinity')
    expect(canon(-Infinity, f)).toBe('-Infinity')
  })
  test('numbers and their text agree; SQL Server real and float(53) match MySQL float and double', () => {
    expect(canon('0.30000000000000004', d)).toBe('0.3')
    expect(canon(Math.fround(2.675), col('real'), 'sqlserver')).toBe(canon(2.675, f, 'mysql'))
    expect(canon(1 / 3, col('float', {precision: 53}), 'sqlserver')).toBe(canon(1 / 3, d, 'mysql'))
  })
  test('a change within the digits kept is a difference', () => {
    expect(canon(1.00001, f)).not.toBe(canon(1.00002, f))
    expect(canon(1.00000001, f)).toBe(canon(1.00000002, f))
  })
})

describe('date and time', () => {
  const dt6 = col('datetime', {scale: 6})
  test('date', () => {
    expect(canon('2024-01-02', col('date'))).toBe('2024-01-02')
    expect(canon('2024-01-02', col('date'), 'sqlserver')).toBe('2024-01-02')
    expect(canon(new Date(Date.UTC(2024, 0, 2)), col('date'))).toBe('2024-01-02')
  })
  test('datetime: always 6 fraction digits, padded', () => {
    expect(canon('2024-01-02 03:04:05', dt6)).toBe('2024-01-02 03:04:05.000000')
    expect(canon('2024-01-02 03:04:05.123', dt6)).toBe('2024-01-02 03:04:05.123000')
    expect(canon('2024-01-02 03:04:05.123400', dt6)).toBe('2024-01-02 03:04:05.123400')
    expect(canon('2024-01-02T03:04:05.1', dt6)).toBe('2024-01-02 03:04:05.100000')
  })
  test('datetime: more than 6 digits are cut, not rounded (datetime2(7))', () => {
    expect(canon('2024-01-02 03:04:05.1234567', col('datetime2', {scale: 7}), 'sqlserver')).toBe('2024-01-02 03:04:05.123456')
    expect(canon('2024-01-02 03:04:05.9999999', col('datetime2', {scale: 7}), 'sqlserver')).toBe('2024-01-02 03:04:05.999999')
  })
  test('both engines: datetime(3) vs datetime, datetime2(0) vs datetime, smalldatetime, datetimeoffset vs timestamp', () => {
    expect(canon('2024-01-02 03:04:05.997', col('datetime'), 'sqlserver')).toBe(canon('2024-01-02 03:04:05.997', col('datetime', {scale: 3})))
    expect(canon('2024-01-02 03:04:05', col('datetime2', {scale: 0}), 'sqlserver')).toBe(canon('2024-01-02 03:04:05', col('datetime')))
    expect(canon('2024-01-02 03:04:00', col('smalldatetime'), 'sqlserver')).toBe('2024-01-02 03:04:00.000000')
    expect(canon('2024-01-02 01:04:05.123400', col('datetimeoffset', {scale: 4}), 'sqlserver')).toBe(
      canon('2024-01-02 01:04:05.1234', col('timestamp', {scale: 4})),
    )
  })
  test('an offset suffix is converted to UTC', () => {
    expect(canon('2024-01-02 03:04:05.5 +05:30', dt6)).toBe('2024-01-01 21:34:05.500000')
    expect(canon('2024-01-01 23:30:00-0100', dt6)).toBe('2024-01-02 00:30:00.000000')
    expect(canon('2024-02-28 23:00:00-02:00', dt6)).toBe('2024-02-29 01:00:00.000000')
    expect(canon('2024-01-02T03:04:05Z', dt6)).toBe('2024-01-02 03:04:05.000000')
    expect(canon(new Date('2024-01-02T03:04:05.123Z'), dt6)).toBe('2024-01-02 03:04:05.123000')
  })
  test('zero date keeps its digits', () => {
    expect(canon('0000-00-00 00:00:00', dt6)).toBe('0000-00-00 00:00:00.000000')
  })
  test('a one-microsecond change is a difference', () => {
    expect(canon('2024-01-02 03:04:05.000001', dt6)).not.toBe(canon('2024-01-02 03:04:05', dt6))
  })
  test('time', () => {
    expect(canon('03:04:05', col('time'))).toBe('03:04:05.000000')
    expect(canon('03:04:05.1234567', col('time', {scale: 7}), 'sqlserver')).toBe('03:04:05.123456')
    expect(canon('03:04:05.123456', col('time', {scale: 6}), 'sqlserver')).toBe(canon('03:04:05.123456', col('time', {scale: 6})))
    expect(canon('838:59:59', col('time'))).toBe('838:59:59.000000')
    expect(canon('-12:00:00.5', col('time'))).toBe('-12:00:00.500000')
    expect(canon('-00:00:00', col('time'))).toBe('00:00:00.000000')
    expect(canon('003:04:05', col('time'))).toBe('03:04:05.000000')
  })
  test('year', () => {
    expect(canon(2024, col('year'))).toBe('2024')
    expect(canon('2024', col('year'))).toBe('2024')
    expect(canon(0, col('year'))).toBe('0000')
  })
})

describe('string', () => {
  const s = col('varchar', {collation: 'utf8mb4_0900_ai_ci'})
  test('exact characters: case-only and trailing-space changes are differences', () => {
    expect(canon('abc', s)).toBe('abc')
    expect(canon('ABC', s)).not.toBe(canon('abc', s))
    expect(canon('a ', s)).not.toBe(canon('a', s))
    expect(canon(' a', s)).not.toBe(canon('a', s))
    expect(canon('é', s)).toBe('é')
  })
  test('empty string and the text NULL are not SQL NULL', () => {
    expect(canon(null, s)).toBeNull()
    expect(canon(undefined, s)).toBeNull()
    expect(canon('', s)).toBe('')
    expect(canon('NULL', s)).toBe('NULL')
  })
  test('both engines: nvarchar and varchar, uniqueidentifier and char(36), enum', () => {
    expect(canon('Zürich', col('nvarchar'), 'sqlserver')).toBe(canon('Zürich', s))
    const guid = '6F9619FF-8B86-D011-B42D-00C04FC964FF'
    expect(canon(guid, col('uniqueidentifier'), 'sqlserver')).toBe(canon(guid, col('char', {length: 36})))
    expect(canon(guid.toLowerCase(), col('char'))).not.toBe(canon(guid, col('uniqueidentifier'), 'sqlserver'))
    expect(canon('captured', col('enum'))).toBe('captured')
  })
  test('bytes in a string column: UTF-8, else hex', () => {
    expect(canon(Buffer.from('héllo', 'utf8'), s)).toBe('héllo')
    expect(canon(Buffer.from([0xff, 0x00]), s)).toBe('\\xff00')
  })
})

describe('binary and bit', () => {
  test('binary: lower-case hex, both engines', () => {
    expect(canon(Buffer.from([0xde, 0xad, 0xbe, 0xef]), col('varbinary'))).toBe('deadbeef')
    expect(canon(Buffer.from([0xde, 0xad, 0xbe, 0xef]), col('varbinary'), 'sqlserver')).toBe('deadbeef')
    expect(canon(Buffer.alloc(0), col('blob'))).toBe('')
    expect(canon(Buffer.from([0, 1]), col('binary'))).toBe('0001')
    expect(canon(Buffer.from([0, 0, 0, 0, 0, 0, 0x07, 0xd1]), col('rowversion'), 'sqlserver')).toBe(
      canon(Buffer.from([0, 0, 0, 0, 0, 0, 0x07, 0xd1]), col('binary', {length: 8})),
    )
    expect(canon(new Uint8Array([0xab]), col('blob'))).toBe('ab')
  })
  test('bit: minimal bytes, so b\'1\' from either engine matches', () => {
    expect(canon(Buffer.from([0x01]), col('bit', {precision: 1}))).toBe('01')
    expect(canon(Buffer.from([0x00, 0x01]), col('bit', {precision: 9}))).toBe('01')
    expect(canon(1, col('bit'), 'sqlserver')).toBe('01')
    expect(canon(0, col('bit'), 'sqlserver')).toBe('00')
    expect(canon(Buffer.from([0x00]), col('bit'))).toBe('00')
    expect(canon(Buffer.from([0x00, 0x00]), col('bit'))).toBe('00')
    expect(canon(true, col('bit'))).toBe('01')
    expect(canon(Buffer.from([0x01, 0x02]), col('bit', {precision: 16}))).toBe('0102')
    expect(canon(258, col('bit'))).toBe('0102')
  })
  test('SQL Server bit into MySQL tinyint(1): one family for both sides gives one text', () => {
    const source = col('bit')
    const target = col('tinyint', {columnType: 'tinyint(1)'})
    const family = typeFamily(source, 'sqlserver')
    expect(canonicalValue(1, source, family)).toBe(canonicalValue(1, target, family))
    expect(canonicalValue(0, target, family)).toBe('00')
    // and the other way round
    expect(canonicalValue(Buffer.from([1]), source, 'integer')).toBe(canonicalValue(1, target, 'integer'))
  })
})

describe('json', () => {
  const j = col('json')
  test('key order and whitespace are not differences', () => {
    const mariadb = '{ "b" : 1, "a" : [1, 2, {"y": true, "x": null}] }'
    const mysql = '{"a": [1, 2, {"x": null, "y": true}], "b": 1}'
    expect(canon(mariadb, j)).toBe(canon(mysql, j))
    expect(canon(mysql, j)).toBe('{"a":[1,2,{"x":null,"y":true}],"b":1}')
  })
  test('a value change is a difference', () => {
    expect(canon('{"a": 1, "b": 2}', j)).not.toBe(canon('{"a": 1, "b": 3}', j))
    expect(canon('{"a": "1"}', j)).not.toBe(canon('{"a": 1}', j))
    expect(canon('{"a": "X"}', j)).not.toBe(canon('{"a": "x"}', j))
    expect(canon('[1, 2]', j)).not.toBe(canon('[2, 1]', j))
  })
  test('numbers as JavaScript prints them, beyond 2^53 lossy', () => {
    expect(canon('{"n": 1.0}', j)).toBe('{"n":1}')
    expect(canon('{"n": 1e2}', j)).toBe('{"n":100}')
    expect(canon('9007199254740993', j)).toBe('9007199254740992')
  })
  test('keys sorted by code point, not UTF-16 unit', () => {
    // U+FF5E (one unit 0xFF5E) sorts before U+1F600 (surrogates 0xD83D...) by code point, after it by UTF-16 unit
    expect(canonicalJson({'😀': 1, '～': 2})).toBe('{"～":2,"😀":1}')
  })
  test('unicode escapes and the parsed form agree', () => {
    expect(canon('{"s": "\\u00e9"}', j)).toBe(canon('{"s": "é"}', j))
    expect(canon({b: 1, a: 'x'}, j)).toBe('{"a":"x","b":1}')
  })
  test('invalid JSON is compared as a string', () => {
    expect(canon('{not json', j)).toBe('{not json')
    expect(canon('{not  json', j)).not.toBe(canon('{not json', j))
  })
  test('SQL Server json/nvarchar text and MySQL JSON', () => {
    expect(canon('{"b":1,"a":2}', col('json'), 'sqlserver')).toBe(canon('{"a": 2, "b": 1}', j))
  })
})

describe('other', () => {
  test('hex of bytes or the text', () => {
    expect(canon(Buffer.from([0xe6, 0x10]), col('geometry'))).toBe('e610')
    expect(canon('POINT(1 2)', col('geometry'))).toBe('POINT(1 2)')
    expect(canon({y: 2, x: 1}, col('point'))).toBe('{"x":1,"y":2}')
    expect(canon(Buffer.from([0x58]), col('hierarchyid'), 'sqlserver')).toBe('58')
  })
})

describe('canonicalRow', () => {
  const cols = [col('varchar'), col('varchar')]
  const fams: TypeFamily[] = ['string', 'string']
  test('NULL, empty string and the text NULL encode differently', () => {
    const a = canonicalRow([null, 'x'], cols, fams)
    const b = canonicalRow(['', 'x'], cols, fams)
    const c = canonicalRow(['NULL', 'x'], cols, fams)
    expect(a.equals(b)).toBe(false)
    expect(a.equals(c)).toBe(false)
    expect(b.equals(c)).toBe(false)
    expect(canonicalRow([undefined, 'x'], cols, fams).equals(a)).toBe(true)
  })
  test('no separator collision', () => {
    expect(canonicalRow(['a|', 'b'], cols, fams).equals(canonicalRow(['a', '|b'], cols, fams))).toBe(false)
    expect(canonicalRow(['a,', 'b'], cols, fams).equals(canonicalRow(['a', ',b'], cols, fams))).toBe(false)
    expect(canonicalRow(['a\u0000\u0001', 'b'], cols, fams).equals(canonicalRow(['a', '\u0000\u0001b'], cols, fams))).toBe(false)
    expect(canonicalRow([null, ''], cols, fams).equals(canonicalRow(['', null], cols, fams))).toBe(false)
  })
  test('the layout: count, then NULL marker or marker + length + UTF-8', () => {
    expect(canonicalRow([null, 'é'], cols, fams).toString('hex')).toBe('00000002' + '00' + '01' + '00000002' + 'c3a9')
  })
  test('the same row from both engines encodes the same', () => {
    const src = [col('bigint'), col('money', {scale: 4}), col('datetime2', {scale: 7}), col('bit'), col('nvarchar'), col('uniqueidentifier')]
    const tgt = [col('bigint'), col('decimal', {scale: 4}), col('datetime', {scale: 6}), col('tinyint'), col('varchar'), col('char')]
    const fams = src.map((c) => typeFamily(c, 'sqlserver'))
    const a = canonicalRow(['9007199254740993', '10.5000', '2024-01-02 03:04:05.1234567', 1, 'Ünïcode', 'AB-CD'], src, fams)
    const b = canonicalRow(['9007199254740993', '10.5000', '2024-01-02 03:04:05.123456', 1, 'Ünïcode', 'AB-CD'], tgt, fams)
    expect(a.equals(b)).toBe(true)
  })
  test('refuses mismatched lengths', () => {
    expect(() => canonicalRow(['a'], cols, fams)).toThrow(RangeError)
  })
})

describe('rowDigest and ChunkHasher', () => {
  const cols = [col('int'), col('varchar')]
  const fams: TypeFamily[] = ['integer', 'string']
  const row = (id: number, s: string): Buffer => rowDigest(canonicalRow([id, s], cols, fams))

  test('rowDigest: 16 bytes of SHA-256, keyed with HMAC when a key is given', () => {
    const buf = canonicalRow([1, 'a'], cols, fams)
    expect(rowDigest(buf)).toHaveLength(ROW_DIGEST_BYTES)
    expect(rowDigest(buf).equals(rowDigest(Buffer.from(buf)))).toBe(true)
    expect(rowDigest(buf, Buffer.from('run-1')).equals(rowDigest(buf))).toBe(false)
    expect(rowDigest(buf, Buffer.from('run-1')).equals(rowDigest(buf, Buffer.from('run-1')))).toBe(true)
  })

  test('order-independent, with a count', () => {
    const a = new ChunkHasher()
    const b = new ChunkHasher()
    for (const r of [row(1, 'a'), row(2, 'b'), row(3, 'c')]) a.add(r)
    for (const r of [row(3, 'c'), row(1, 'a'), row(2, 'b')]) b.add(r)
    expect(a.digestHex()).toBe(b.digestHex())
    expect(a.digestHex()).toMatch(/^[0-9a-f]{32}$/)
    expect(a.count).toBe(3)
    expect(a.equals(b)).toBe(true)
    expect(new ChunkHasher().digestHex()).toBe('0'.repeat(32))
  })

  test('a changed row changes the digest', () => {
    const a = new ChunkHasher().add(row(1, 'a')).add(row(2, 'b'))
    const b = new ChunkHasher().add(row(1, 'a')).add(row(2, 'B'))
    expect(a.digestHex()).not.toBe(b.digestHex())
  })

  test('equal rows do not cancel (XOR would give zero)', () => {
    const d = row(1, 'a')
    const twice = new ChunkHasher().add(d).add(d)
    expect(twice.digestHex()).not.toBe('0'.repeat(32))
    const none = new ChunkHasher()
    expect(twice.digestHex()).not.toBe(none.digestHex())
  })

  test('equal deltas on an even number of rows do not cancel (sync-diff #703)', () => {
    const times = ['11:22', '11:22', '11:22', '11:22']
    const source = new ChunkHasher()
    const target = new ChunkHasher()
    times.forEach((t, i) => source.add(row(i, `2024-01-01 ${t}`)))
    times.forEach((_t, i) => target.add(row(i, '2024-01-01 11:32')))
    expect(source.digestHex()).not.toBe(target.digestHex())
  })

  test('sums modulo 2^128 with carries', () => {
    const h = new ChunkHasher()
    const ones = Buffer.alloc(16, 0xff)
    h.add(ones).add(Buffer.from('00000000000000000000000000000002', 'hex'))
    expect(h.digestHex()).toBe('00000000000000000000000000000001')
    const big = new ChunkHasher()
    const ds = [row(1, 'a'), row(2, 'b'), row(3, 'c')]
    for (const d of ds) big.add(d)
    const expected = ds.reduce((s, d) => (s + BigInt(`0x${d.toString('hex')}`)) % 2n ** 128n, 0n)
    expect(big.digestHex()).toBe(expected.toString(16).padStart(32, '0'))
  })

  test('merge of sub-chunks equals the whole; addRow', () => {
    const whole = new ChunkHasher().addRow([1, 'a'], cols, fams).addRow([2, 'b'], cols, fams).addRow([3, 'c'], cols, fams)
    const left = new ChunkHasher().addRow([1, 'a'], cols, fams)
    const right = new ChunkHasher().addRow([3, 'c'], cols, fams).addRow([2, 'b'], cols, fams)
    left.merge(right)
    expect(left.equals(whole)).toBe(true)
    expect(left.toJSON()).toEqual({count: 3, digest: whole.digestHex()})
  })

  test('refuses a digest of the wrong size', () => {
    expect(() => new ChunkHasher().add(Buffer.alloc(32))).toThrow(RangeError)
  })
})

describe('maskValue', () => {
  const note = col('varchar', {name: 'note'})
  test('NULL stays NULL', () => {
    expect(maskValue(null, note)).toBeNull()
    expect(maskValue(null, col('varchar', {name: 'password'}))).toBeNull()
  })
  test('Luhn-valid card numbers keep their last 4 digits', () => {
    expect(maskValue('4242424242424242', note)).toBe(`${MASK}4242`)
    expect(maskValue('paid with 4111111111111111 today', note)).toBe(`paid with ${MASK}1111 today`)
    expect(maskValue('4111 1111 1111 1111', note)).toBe(`${MASK}1111`)
    expect(maskValue('5555-5555-5555-4444', note)).toBe(`${MASK}4444`)
    expect(maskValue('378282246310005', note)).toBe(`${MASK}0005`)
  })
  test('other digit runs stay', () => {
    expect(maskValue('4242424242424241', note)).toBe('4242424242424241')
    expect(maskValue('1234567', note)).toBe('1234567')
    // 20 digits: longer than a card number
    expect(maskValue('42424242424242424242', note)).toBe('42424242424242424242')
    expect(maskValue('2024-01-02 03:04:05.123456', note)).toBe('2024-01-02 03:04:05.123456')
    // the integer part of a decimal amount is not a card number
    expect(maskValue('4242424242424242.0000', col('decimal', {name: 'amount'}))).toBe('4242424242424242.0000')
  })
  test('secret columns are masked whole', () => {
    for (const name of ['password', 'password_hash', 'client_secret', 'access_token', 'cvv', 'CVC', 'pan', 'card_number', 'cardNumber', 'api_key', 'apiKey']) {
      expect(maskValue('anything', col('varchar', {name}))).toBe(MASK)
    }
  })
  test('names that only contain a secret word as letters are not secret', () => {
    for (const name of ['company', 'expand', 'span_id', 'card_brand', 'tokenized_at']) {
      expect(isSecretColumn(name)).toBe(false)
    }
    expect(maskValue('Acme', col('varchar', {name: 'company'}))).toBe('Acme')
  })
})
