import { and, asc, eq, lte, sql } from 'drizzle-orm'
import type { Executor, Tx } from '../db/client.js'
import { enterWorkspace } from '../db/tenant.js'
import { newId } from '../lib/ids.js'
import { inboundInbox } from '../modules/interactions/interactions.table.js'

export type InboxRow = typeof inboundInbox.$inferSelect

/** What became of one try at an inbox row. */
export type InboxOutcome =
  | { status: 'processed' }
  | { status: 'pending', error: string, retryInMs: number }
  | { status: 'failed', error: string }

export async function insertInbox (tx: Executor, item: Omit<typeof inboundInbox.$inferInsert, 'id'>): Promise<string> {
  const id = newId('inbox')
  await tx.insert(inboundInbox).values({ ...item, id })
  return id
}

/**
 * Locks the pending inbox row that has been due longest (any workspace, as the owner), then
 * confines the rest of the transaction to that row's workspace exactly as a request would be.
 * The status is written as a literal, not a parameter, so that even a generic plan of this named
 * statement matches the partial index `inbound_inbox_due_idx`: a range scan of the due rows.
 * A row waiting out its backoff is skipped until its time comes.
 */
export async function claimInbox (tx: Tx): Promise<InboxRow | undefined> {
  const [row] = await tx.select().from(inboundInbox)
    .where(and(sql`${inboundInbox.status} = 'pending'`, lte(inboundInbox.nextAttemptAt, sql`now()`)))
    .orderBy(asc(inboundInbox.nextAttemptAt)).limit(1).for('update', { skipLocked: true })
  if (row) await enterWorkspace(tx, row.workspaceId)
  return row
}

/**
 * Counts the try and records its outcome. A row to retry waits `retryInMs` from the moment of the
 * failure (the clock, not the transaction's start: a try may have waited on a lock for a while).
 */
export async function finishInbox (tx: Executor, row: InboxRow, outcome: InboxOutcome) {
  await tx.update(inboundInbox).set({
    status: outcome.status,
    attempts: sql`${inboundInbox.attempts} + 1`,
    error: outcome.status === 'processed' ? null : outcome.error,
    processedAt: outcome.status === 'processed' ? sql`now()` : null,
    ...(outcome.status === 'pending' ? { nextAttemptAt: sql`clock_timestamp() + ${`${Math.round(outcome.retryInMs)} milliseconds`}::interval` } : {})
  }).where(and(eq(inboundInbox.workspaceId, row.workspaceId), eq(inboundInbox.id, row.id)))
}
