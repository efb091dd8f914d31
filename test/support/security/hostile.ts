import fc from 'fast-check'

/**
 * Hostile values for property tests, and a serializer that can write what JSON.stringify cannot
 * produce from a JS value: 1e309, -0, 1e-400, 30-digit integers, duplicate and __proto__ keys,
 * nesting deep enough to overflow a recursive stringify.
 */

/** JSON text inserted as is. */
export class Raw {
  constructor (readonly json: string) {}
  toString () { return `Raw(${this.json.length > 60 ? `${this.json.slice(0, 60)}…(${this.json.length} chars)` : this.json})` }
}
/** An object as ordered entries, so keys such as __proto__ and duplicates survive. */
export class Entries {
  constructor (readonly entries: Array<[string, unknown]>) {}
  toString () { return `Entries(${this.entries.map(([k, v]) => `${JSON.stringify(k)}: ${describe(v)}`).join(', ')})` }
}

export function toJson (value: unknown): string {
  if (value instanceof Raw) return value.json
  if (value instanceof Entries) return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(',')}}`
  if (value === undefined) return 'null'
  return JSON.stringify(value)
}

/** A short human description of a (possibly huge) value, for failure messages. */
export function describe (value: unknown): string {
  if (value instanceof Raw || value instanceof Entries) return String(value)
  if (typeof value === 'string') return value.length > 80 ? `${JSON.stringify(value.slice(0, 40))}…(${value.length} chars)` : JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${describe(v)}`).join(', ')}}`
  return String(value)
}

// Built once: fast-check picks among them.
const huge = {
  ascii: 'A'.repeat(900_000),
  emoji: '😀'.repeat(200_000), // 800,000 UTF-8 bytes
  sqlish: "' OR 1=1 --".repeat(80_000),
  overLimit: 'x'.repeat(1_100_000) // over the 1 MiB body limit: a 413
}

const fixedStrings = [
  "' OR 1=1 --", "'; DROP TABLE contacts; --", '" OR ""="', "%' OR '%'='", "1' UNION SELECT password FROM users --", '\\', '\\\\\'', '$1', '${7*7}', '{{7*7}}',
  '<script>alert(1)</script>', '../../etc/passwd', '%00', '\u0000', 'a\u0000b', '\ud800', '\udfff', 'x\ud800y', '\udc00\ud800', '\u202e\u200fevil\u202c',
  '\ufeff', '\u200b', '👩‍👩‍👧‍👦', 'e\u0301'.repeat(60), 'NaN', 'Infinity', '-Infinity', '-0', '1e309', 'null', 'undefined', 'true', '[]', '{}',
  '__proto__', 'constructor', 'prototype', '', ' ', '\n\r\t', '\u0085\u2028\u2029', '𝕏'.repeat(50), 'ﷺ', 'İ', 'ß', '0x10', '1,5', '2031-02-30T25:61:61Z',
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2031-01-06T09:00:00+25:00', 'con_', 'con_\u0000', 'chn_01' + 'z'.repeat(24)
]

/** Strings an attacker or a broken client sends. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...fixedStrings) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  // Random text with lone surrogates and NULs sprinkled in.
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), fc.constant('\u0000')), { maxLength: 6 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.constantFrom(huge.ascii, huge.emoji, huge.sqlish, huge.overLimit) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((n) => 'x'.repeat(n)) }
)

export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(new Raw('1e309'), new Raw('-1e309'), new Raw('-0'), new Raw('1e-400'), new Raw('123456789012345678901234567890'), new Raw('0.1e1'), -1, 0, 2 ** 31, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1.5),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)

const deepJson = (n: number, kind: 'array' | 'object') => new Raw(kind === 'array' ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n))

export const hostileStructure: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.integer({ min: 20, max: 20_000 }), fc.constantFrom('array' as const, 'object' as const)).map(([n, kind]) => deepJson(n, kind)),
  fc.constantFrom(
    new Raw('{"__proto__":{"polluted":true}}'),
    new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
    new Raw('{"prototype":{"polluted":true}}'),
    new Entries([['toString', 'x'], ['hasOwnProperty', 1], ['valueOf', null]]),
    new Entries([['a', 1], ['a', 2]])
  ),
  fc.array(fc.constantFrom(...fixedStrings), { maxLength: 5 }),
  fc.dictionary(fc.constantFrom(...fixedStrings), fc.constantFrom(...fixedStrings), { maxKeys: 4 }),
  fc.jsonValue({ maxDepth: 4 })
)

export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 2, arbitrary: hostileStructure },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) }
)

/** Hostile object keys, including the prototype ones. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '\u0000', '\ud800', 'a'.repeat(10_000), "' OR 1=1 --", 'workspaceId', 'id'),
  fc.string({ maxLength: 12 })
)

/** Percent-encodes a string byte by byte (lone surrogates become U+FFFD, as a browser would send). */
export function percentEncode (s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('')
}

/** Query-string fragments written verbatim: broken percent-encodings, encoded NUL and surrogates. */
export const rawQueryValue: fc.Arbitrary<Raw> = fc.constantFrom('%00', '%E0%A4%A', '%ED%A0%80', '%FF%FE', '%', '%%', '%2', 'a%00b', '%C0%AF', '+', '%2B%20').map((s) => new Raw(s))

/** Small fragments that keep a valid value valid-looking: they must survive validation to reach storage. */
export const fragments = ['\u0000', '\ud800', '\udfff', "' OR 1=1 --", '\u202e', '\u200f', '😀', '\\', '%00', '${7*7}', '\u0301', '\ufeff', '"', "'", '\n']

/**
 * A valid value with a hostile fragment slipped in: a string gets one inserted; an array gets one
 * element tainted; an object gets a tainted key and value; a number becomes an edge case.
 */
export function tainted (valid: unknown): fc.Arbitrary<unknown> {
  const fragment = fc.constantFrom(...fragments)
  if (typeof valid === 'string') {
    return fc.tuple(fragment, fc.nat({ max: valid.length })).map(([f, i]) => valid.slice(0, i) + f + valid.slice(i))
  }
  if (Array.isArray(valid)) {
    return valid.length === 0
      ? fc.tuple(fragment).map(([f]) => [`x${f}`])
      : fc.tuple(fc.nat({ max: valid.length - 1 }), tainted(valid[0])).map(([i, v]) => valid.map((x, j) => (j === i ? v : x)))
  }
  if (valid && typeof valid === 'object') {
    return fc.tuple(fragment, fragment).map(([k, v]) => new Entries([...Object.entries(valid), [`k${k}`, `v${v}`]]))
  }
  if (typeof valid === 'number') return fc.constantFrom(new Raw('1e309'), new Raw('-0'), new Raw('1e-400'), valid + 0.5, -valid, 2 ** 31)
  return fc.oneof(fragment, hostileValue)
}
