import { stdSerializers } from 'pino'

type Serialized = Record<string, unknown> & { type: string, message: string, stack: string }

// PostgreSQL's details of constraint errors quote the row or the key: `Failing row contains (…)`,
// `Key (email)=(…) already exists`.
const rowValues = /Failing row contains|Key \(.*\)=\(/

/**
 * The logger's `err` serializer: pino's own, minus the values of a query that failed. drizzle's
 * query error says `Failed query: <sql>\nparams: <values>` in its message and keeps the values in
 * `params`; pino joins the messages and stacks of the whole cause chain, so that text can sit
 * anywhere in them. The SQL and the database's reason are what an operator needs; the values are
 * customers' data (names, e-mails, message bodies) and must not reach the log. Every error the
 * server logs (a 500, a worker's failed step) passes here.
 */
export function errorForLog (err: Error): Serialized {
  const out = stdSerializers.err(err) as Serialized
  if (!out || typeof out !== 'object') return out // not an Error: pino passes it through
  const texts = paramTexts(err)
  const rowDetail = typeof out.detail === 'string' && rowValues.test(out.detail)
  if (texts.length === 0 && !('params' in out) && !rowDetail) return out
  const copy: Serialized = { ...out }
  for (const key of ['message', 'stack'] as const) {
    if (typeof copy[key] === 'string') for (const text of texts) copy[key] = copy[key].split(text).join('')
  }
  delete copy.params
  if (rowDetail) copy.detail = '[values not logged]'
  return copy
}

/** The exact `\nparams: …` text of each query error in the cause chain (values may hold newlines). */
function paramTexts (err: unknown): string[] {
  const texts: string[] = []
  for (let e = err as { params?: unknown, query?: unknown, cause?: unknown } | undefined, depth = 0; e && typeof e === 'object' && depth < 10; e = e.cause as typeof e, depth++) {
    if ('params' in e && typeof e.query === 'string') texts.push(`\nparams: ${String(e.params)}`)
  }
  return texts
}
