import { Column, DrizzleQueryError, is, Param, Placeholder, SQL, sql, Subquery } from 'drizzle-orm'
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
  const templates = new WeakMap<object, { template: Prepared<R>, direct?: DirectQuery }>()
  return (ex: Executor, values: Record<string, unknown>): Promise<R> => {
    const session = (ex as unknown as { session: Session }).session
    const key = session.options ?? session
    let entry = templates.get(key)
    if (!entry) {
      const template = build(ex).prepare(name)
      templates.set(key, entry = { template, direct: directQuery(template) })
    }
    const client = session.client as Partial<PostgresJsClient>
    if (entry.direct && typeof client.unsafe === 'function') return entry.direct(client as PostgresJsClient, values) as Promise<R>
    const query = Object.create(entry.template) as Prepared<R> & { client: unknown }
    query.client = session.client
    return query.execute(values)
  }
}

interface PostgresJsClient { unsafe: (q: string, p: unknown[], o: { prepare: boolean }) => { values: () => Promise<unknown[][]> } }
type DirectQuery = (client: PostgresJsClient, values: Record<string, unknown>) => Promise<unknown[]>

/** What a drizzle prepared select (or insert … returning) knows of itself. */
interface DrizzlePrepared {
  queryString: string
  params: unknown[]
  fields?: Array<{ path: string[], field: unknown }>
  customResultMapper?: unknown
  joinsNotNullableMap?: Record<string, boolean>
  logger: { logQuery: (q: string, p: unknown[]) => void }
}
interface Decoder { mapFromDriverValue: (v: unknown) => unknown }

/**
 * The same query run straight on postgres.js, its rows mapped by decoders looked up once: drizzle's
 * own execute wraps each call in tracing spans and a cache check, and maps every column of every
 * row through a chain of `is()` prototype walks to find its decoder again (a tenth of the server's
 * CPU on a page of 50 contacts). Same statement, same values, same decoders, same error wrapping.
 * Undefined for the shapes this does not cover (no rows selected, a custom mapper, outer joins whose
 * missing side drizzle turns into null): those keep drizzle's execute.
 */
function directQuery (prepared: unknown): DirectQuery | undefined {
  const q = prepared as DrizzlePrepared
  if (!q.fields || q.customResultMapper || Object.values(q.joinsNotNullableMap ?? {}).some((v) => v !== true)) return undefined
  const paths = q.fields.map((f) => f.path)
  const decoders = q.fields.map((f) => decoderOf(f.field))
  const fill = q.params.map(paramFiller)
  const flat = paths.every((p) => p.length === 1)
  const keys = paths.map((p) => p[0])
  const mapRow = (row: unknown[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {}
    for (let i = 0; i < row.length; i++) {
      const raw = row[i]
      const value = raw === null ? null : decoders[i].mapFromDriverValue(raw)
      if (flat) { out[keys[i]] = value; continue }
      let node = out
      const path = paths[i]
      for (let k = 0; k < path.length - 1; k++) node = (node[path[k]] ??= {}) as Record<string, unknown>
      node[path[path.length - 1]] = value
    }
    return out
  }
  return async (client, values) => {
    const params = fill.map((f) => f(values))
    q.logger.logQuery(q.queryString, params)
    let rows: unknown[][]
    try {
      rows = await client.unsafe(q.queryString, params, { prepare: true }).values()
    } catch (err) {
      throw new DrizzleQueryError(q.queryString, params, err as Error)
    }
    return rows.map(mapRow)
  }
}

// drizzle's choice of decoder for a selected field (utils.js mapResultRow), made once per query.
function decoderOf (field: unknown): Decoder {
  if (is(field, Column)) return field as unknown as Decoder
  if (is(field, SQL)) return (field as unknown as { decoder: Decoder }).decoder
  if (is(field, Subquery)) return (field as unknown as { _: { sql: { decoder: Decoder } } })._.sql.decoder
  return (field as { sql: { decoder: Decoder } }).sql.decoder
}

// drizzle's fillPlaceholders for one parameter, with the kind of parameter decided once.
function paramFiller (p: unknown): (values: Record<string, unknown>) => unknown {
  const named = (name: string) => (values: Record<string, unknown>) => {
    if (!(name in values)) throw new Error(`No value for placeholder "${name}" was provided`)
    return values[name]
  }
  if (is(p, Placeholder)) return named((p as unknown as { name: string }).name)
  if (is(p, Param) && is((p as Param).value, Placeholder)) {
    const get = named(((p as Param).value as { name: string }).name)
    const encoder = (p as Param).encoder as { mapToDriverValue: (v: unknown) => unknown }
    return (values) => encoder.mapToDriverValue(get(values))
  }
  return () => p
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
