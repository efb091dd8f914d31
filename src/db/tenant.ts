import { is, sql } from 'drizzle-orm'
import { PostgresJsTransaction } from 'drizzle-orm/postgres-js/session'
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
