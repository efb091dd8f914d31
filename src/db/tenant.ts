import { is, sql } from 'drizzle-orm'
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js/session'
import type { Sql } from 'postgres'
import { guarded } from './breaker.js'
import type { Db, Tx } from './client.js'

export const APP_ROLE = 'rapport_app'

const ENTER_WORKSPACE = "select set_config('role', $1, true), set_config('app.workspace_id', $2, true)"

/**
 * Runs fn in a transaction that PostgreSQL itself confines to one workspace: the non-owner role
 * makes the row-level security policies apply, and the workspace setting is what they compare.
 * Both settings are transaction-local, so a pooled connection never carries them to the next user.
 * Given an open transaction (a caller composing several steps), it joins that one instead.
 */
export async function inWorkspace<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
  if (tx) return fn(tx)
  return guarded(db, () => db.transaction(async (t) => {
    const entering = pipelineEnterWorkspace(t, workspaceId)
    if (!entering) {
      await enterWorkspace(t, workspaceId)
      return fn(t)
    }
    // The settings travel in the same round trip as fn's first query (pipelined on the
    // transaction's connection, in order); awaiting them afterwards surfaces their own error
    // rather than the "transaction aborted" of the query behind them.
    try {
      return await fn(t)
    } finally {
      await entering
    }
  }))
}

/**
 * Confines the rest of an open transaction to one workspace. Workers use it after claiming a
 * queue row as the owner; it may be called again in the same transaction for another workspace.
 */
export async function enterWorkspace (tx: Tx, workspaceId: string): Promise<void> {
  await tx.execute(sql`select set_config('role', ${APP_ROLE}, true), set_config('app.workspace_id', ${workspaceId}, true)`)
}

interface PostgresJsQuery extends Promise<unknown> { execute: () => PostgresJsQuery }
interface PipelinedSession { client?: { unsafe?: (query: string, params: unknown[]) => PostgresJsQuery }, logger?: { logQuery: (q: string, p: unknown[]) => void } }

/**
 * On postgres.js, queues the workspace settings on the transaction's connection now, before fn
 * can issue anything: postgres.js sends a transaction's queries in the order they were started,
 * so fn's queries run after them, and without waiting for their answer (one round trip fewer
 * per request). Returns undefined on other drivers (PGlite runs in-process: nothing to save).
 */
function pipelineEnterWorkspace (t: Tx, workspaceId: string): Promise<unknown> | undefined {
  const session = (t as unknown as { session?: PipelinedSession }).session
  const unsafe = session?.client?.unsafe
  if (!is(t, PostgresJsTransaction) || typeof unsafe !== 'function') return undefined
  const params = [APP_ROLE, workspaceId]
  session!.logger?.logQuery(ENTER_WORKSPACE, params)
  // execute() starts it at once (a postgres.js query is otherwise lazy until awaited).
  const query = unsafe.call(session!.client, ENTER_WORKSPACE, params).execute()
  // Awaited by the caller; this only keeps a failure from counting as unhandled meanwhile.
  query.catch(() => {})
  return query
}

const SET_WORKSPACE = "select set_config('app.workspace_id', $1, false)"
const readPools = new WeakMap<object, Sql>()

/** Gives readInWorkspace its pool: connections opened as the non-owner role, read only (client.ts). */
export function useReadPool (db: Db, pool: Sql): void {
  readPools.set(db, pool)
}

/**
 * Like inWorkspace, for work that only reads (gets, lists, loaders), and made cheap on PostgreSQL
 * because it is the hot path of every GET. Its connections come from a pool opened as the
 * non-owner role with default_transaction_read_only (client.ts), so row-level security applies
 * without a transaction around the read: the workspace setting and fn's first query leave in
 * one write and run as two statements, where inWorkspace needs BEGIN, the settings, the query and
 * COMMIT in three round trips. Safety rests on: every use of a read connection sets the workspace
 * first, on the same reserved connection (postgres.js runs a connection's queries in order); a
 * write fails (read only); every repository query also filters on the workspace, so a stale
 * setting could only hide rows, never show another workspace's. fn's statements are prepared
 * once per connection (PreparingSession). PGlite, in process, keeps inWorkspace's transaction.
 * Given an open transaction, it joins that one.
 */
export async function readInWorkspace<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
  if (tx) return fn(tx)
  const pool = readPools.get(db)
  const session = (db as unknown as { session?: unknown }).session
  if (!pool || !is(session, PostgresJsSession)) return inWorkspace(db, workspaceId, fn)
  const base = session as unknown as DrizzleSession
  return guarded(db, async () => {
    const connection = await pool.reserve()
    let failed = false
    const setting = connection.unsafe(SET_WORKSPACE, [workspaceId]).execute()
    base.logger.logQuery(SET_WORKSPACE, [workspaceId])
    // Awaited below; this only keeps a failure from counting as unhandled meanwhile.
    setting.catch(() => {})
    try {
      return await fn(new Transaction(base.dialect, new PreparingSession(connection, base.dialect, base.schema, base.options), base.schema))
    } catch (err) {
      failed = true
      // The setting's own error (it ran first) is the one to report.
      await setting
      throw err
    } finally {
      // postgres.js drops what a reserved connection still has queued when it is released: give
      // it back once its queries are done. After a failure fn may have left one in flight
      // (Promise.all): a marker query behind everything tells when it has run.
      const done = failed ? connection.unsafe('select 1').execute() : setting
      done.then(() => connection.release(), () => connection.release())
    }
  })
}

/** What readInWorkspace uses of drizzle's postgres.js session (its constructor's arguments). */
interface DrizzleSession { client: Sql, dialect: unknown, schema: unknown, options: unknown, logger: { logQuery: (q: string, p: unknown[]) => void } }
interface PrepareQuery { prepareQuery (...args: unknown[]): unknown }
const Session = PostgresJsSession as unknown as new (client: unknown, dialect: unknown, schema: unknown, options: unknown) => PrepareQuery
const Transaction = PostgresJsTransaction as unknown as new (dialect: unknown, session: unknown, schema: unknown) => Tx

class PreparingSession extends Session {
  override prepareQuery (...args: unknown[]) {
    args[2] ??= 'prepared'
    return super.prepareQuery(...args)
  }
}
