import { sql } from 'drizzle-orm'
import { PostgresJsSession } from 'drizzle-orm/postgres-js/session'
import type { Executor } from './client.js'

interface Prepared<R> { execute: (values?: Record<string, unknown>) => Promise<R> }
interface Session { client: unknown, options?: object }

/**
 * A hot query built once per database instead of on every call: `build` writes it with drizzle's
 * `sql.placeholder()` for what varies, and each call runs the same prepared query with its values
 * on whichever executor it is given (the database, a transaction, a reserved connection). Building
 * a query in drizzle costs more than running it on a warm connection (a quarter of the server's
 * CPU on a contact read, bench/README.md); the database also parses and plans it once per
 * connection, as a named statement.
 *
 * drizzle binds a prepared query to the connection it was prepared on; the copy made per call
 * (Object.create, so nothing is rebuilt) swaps in the executor's own. Templates are kept per
 * drizzle instance (its session options), so two databases in one process never share one.
 */
export function preparedQuery<R> (name: string, build: (ex: Executor) => { prepare: (name: string) => Prepared<R> }) {
  const templates = new WeakMap<object, Prepared<R>>()
  return (ex: Executor, values: Record<string, unknown>): Promise<R> => {
    const session = (ex as unknown as { session: Session }).session
    const key = session.options ?? session
    const template = templates.get(key)
    if (!template) {
      const created = build(ex).prepare(name)
      templates.set(key, created)
      return created.execute(values)
    }
    const query = Object.create(template) as Prepared<R> & { client: unknown }
    query.client = session.client
    return query.execute(values)
  }
}

/**
 * preparedQuery for a query that comes in a few shapes (which optional filters are present, the
 * sort direction): one prepared query per shape, built the first time that shape is asked for.
 */
export function preparedShapes<S extends string, R> (name: string, build: (ex: Executor, shape: S) => { prepare: (name: string) => Prepared<R> }) {
  const byShape = new Map<S, (ex: Executor, values: Record<string, unknown>) => Promise<R>>()
  return (ex: Executor, shape: S, values: Record<string, unknown>): Promise<R> => {
    let query = byShape.get(shape)
    if (!query) byShape.set(shape, query = preparedQuery(`${name}_${shape}`, (e) => build(e, shape)))
    return query(ex, values)
  }
}

/**
 * The shape key of a filter for preparedShapes: which of `keys` it sets, plus flags. A query built
 * for one shape reads the flags back with JSON.parse.
 */
export function shapeKey (filter: object, keys: readonly string[], flags: Record<string, boolean | undefined> = {}): string {
  const has: Record<string, true> = {}
  for (const k of keys) if ((filter as Record<string, unknown>)[k] !== undefined) has[k] = true
  for (const [k, v] of Object.entries(flags)) if (v) has[k] = true
  return JSON.stringify(has)
}

/** A named value of a prepared query (drizzle's sql.placeholder), bound per call. */
export const placeholder = (name: string) => sql.placeholder(name)

/** Bound values skip drizzle's column encoders: a timestamp goes as ISO text, typed by the statement. */
export const isoOrUndefined = (d: Date | undefined): string | undefined => d?.toISOString()

let statementsNamed = false

/**
 * Makes drizzle send every statement through postgres.js as a named prepared statement. postgres.js
 * sends an unnamed one (drizzle's default for any query not prepared by name) with a Describe
 * round trip of its own before the query whenever it has parameters: two round trips per query,
 * and the pipeline stalls behind it. A named statement is described once per connection, then
 * costs one message. The set of statements is bounded by the code's query shapes; a connection's
 * cache goes with it (postgres.js recycles connections every 30-60 minutes). Needs a direct or
 * session-pooled connection (already true for LISTEN). Applied once per process, to drizzle's
 * postgres.js session class, because drizzle builds a transaction's session itself.
 */
export function nameEveryStatement (): void {
  if (statementsNamed) return
  statementsNamed = true
  const proto = PostgresJsSession.prototype as unknown as {
    prepareQuery: (...args: unknown[]) => unknown
    query: (query: string, params: unknown[]) => unknown
    queryObjects: (query: string, params: unknown[]) => unknown
  }
  const prepareQuery = proto.prepareQuery
  proto.prepareQuery = function (this: unknown, ...args: unknown[]) {
    args[2] ??= 'named'
    return prepareQuery.apply(this, args)
  }
  type Self = { client: { unsafe: (q: string, p: unknown[], o: object) => { values: () => unknown } }, logger: { logQuery: (q: string, p: unknown[]) => void } }
  proto.query = function (this: Self, query: string, params: unknown[]) {
    this.logger.logQuery(query, params)
    return this.client.unsafe(query, params, { prepare: true }).values()
  }
  proto.queryObjects = function (this: Self, query: string, params: unknown[]) {
    return this.client.unsafe(query, params, { prepare: true })
  }
}

/**
 * A one-row INSERT prepared once per set of columns given: each value is a placeholder (drizzle
 * still encodes it with its column's encoder), a null is written into the statement (a column's
 * encoder is not made for null). `build` finishes the statement (ON CONFLICT, RETURNING).
 */
export function preparedInsert<R> (name: string, build: (ex: Executor, values: Record<string, unknown>) => { prepare: (name: string) => Prepared<R> }) {
  const byShape = preparedShapes<string, R>(name, (ex, shape) => {
    const { given, nulls } = JSON.parse(shape) as { given: string[], nulls: string[] }
    const values: Record<string, unknown> = {}
    for (const k of given) values[k] = sql.placeholder(k)
    for (const k of nulls) values[k] = null
    return build(ex, values)
  })
  return (ex: Executor, row: object): Promise<R> => {
    const given: string[] = []
    const nulls: string[] = []
    for (const [k, v] of Object.entries(row)) {
      if (v === null) nulls.push(k)
      else if (v !== undefined) given.push(k)
    }
    return byShape(ex, JSON.stringify({ given, nulls }), row as Record<string, unknown>)
  }
}
