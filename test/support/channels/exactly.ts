import type { TapTest } from '../tap.js'

/**
 * Like t.match, but strings must be equal (t.match passes a substring: 'whatsapp:+1415…' would
 * match '+1415…') and arrays must have the pattern's length. RegExp leaves are tested; keys absent
 * from the pattern are not checked. Reports the first difference by its path.
 */
export function matchExactly (t: Pick<TapTest, 'fail' | 'pass'>, actual: unknown, pattern: unknown, label = 'matches exactly'): void {
  const problem = differs(actual, pattern, '')
  if (problem === undefined) t.pass(label)
  else t.fail(`${label}: ${problem}`)
}

function differs (actual: unknown, pattern: unknown, path: string): string | undefined {
  const at = path === '' ? 'value' : path
  if (pattern instanceof RegExp) return typeof actual === 'string' && pattern.test(actual) ? undefined : `${at} is ${JSON.stringify(actual)}, expected ${String(pattern)}`
  if (Array.isArray(pattern)) {
    if (!Array.isArray(actual) || actual.length !== pattern.length) return `${at} is ${JSON.stringify(actual)}, expected ${pattern.length} item(s)`
    for (let i = 0; i < pattern.length; i++) {
      const d = differs(actual[i], pattern[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  if (pattern !== null && typeof pattern === 'object') {
    if (actual === null || typeof actual !== 'object') return `${at} is ${JSON.stringify(actual)}, expected an object`
    for (const [k, v] of Object.entries(pattern)) {
      const d = differs((actual as Record<string, unknown>)[k], v, path === '' ? k : `${path}.${k}`)
      if (d !== undefined) return d
    }
    return undefined
  }
  return Object.is(actual, pattern) ? undefined : `${at} is ${JSON.stringify(actual)}, expected ${JSON.stringify(pattern)}`
}
