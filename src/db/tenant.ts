import { sql } from 'drizzle-orm'
import type { Db, Tx } from './client.js'

export const APP_ROLE = 'rapport_app'

/**
 * Runs fn in a transaction that PostgreSQL itself confines to one workspace: the non-owner role
 * makes the row-level security policies apply, and the workspace setting is what they compare.
 * Both settings are transaction-local, so a pooled connection never carries them to the next user.
 * Given an open transaction (a caller composing several steps), it joins that one instead.
 */
export async function inWorkspace<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
  if (tx) return fn(tx)
  return db.transaction(async (t) => {
    await enterWorkspace(t, workspaceId)
    return fn(t)
  })
}

/**
 * Confines the rest of an open transaction to one workspace. Workers use it after claiming a
 * queue row as the owner; it may be called again in the same transaction for another workspace.
 */
export async function enterWorkspace (tx: Tx, workspaceId: string): Promise<void> {
  await tx.execute(sql`select set_config('role', ${APP_ROLE}, true), set_config('app.workspace_id', ${workspaceId}, true)`)
}
