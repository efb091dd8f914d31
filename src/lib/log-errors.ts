import { stdSerializers } from 'pino'

type Serialized = Record<string, unknown> & { type: string, message: string, stack: string, cause?: unknown }

// drizzle's query error says `Failed query: <sql>\nparams: <values>` in its message (and so in its
// stack) and keeps the values in `params`; the SQL is what an operator needs, the values are
// customers' data (names, e-mails, message bodies) and must not reach the log.
const paramsLine = /\nparams: [\s\S]*?(?=\n {4}at |$)/g
// PostgreSQL's details of constraint errors quote the row or key: `Failing row contains (…)`,
// `Key (email)=(…) already exists`.
const rowValues = /Failing row contains|Key \(.*\)=\(/

/**
 * The logger's `err` serializer: pino's own, minus the values of the query that failed, at every
 * level of the cause chain. Every error the server logs (a 500, a worker's failed step) passes here.
 */
export function errorForLog (err: Error): Serialized {
  return withoutValues(stdSerializers.err(err) as Serialized, 0)
}

function withoutValues (e: Serialized, depth: number): Serialized {
  const copy: Serialized = { ...e }
  if (typeof copy.message === 'string') copy.message = copy.message.replace(paramsLine, '')
  if (typeof copy.stack === 'string') copy.stack = copy.stack.replace(paramsLine, '')
  delete copy.params
  delete copy.parameters
  if (typeof copy.detail === 'string' && rowValues.test(copy.detail)) copy.detail = '[values not logged]'
  if (copy.cause && typeof copy.cause === 'object' && depth < 5) copy.cause = withoutValues(copy.cause as Serialized, depth + 1)
  return copy
}
