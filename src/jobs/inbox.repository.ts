import { and, asc, eq, sql } from 'drizzle-orm'
import type { Executor, Tx } from '../db/client.js'
import { enterWorkspace } from '../db/tenant.js'
import { newId } from '../lib/ids.js'
import { inboundInbox } from '../modules/interactions/interactions.table.js'

export type InboxRow = typeof inboundInbox.$inferSelect

export async function insertInbox (tx: Executor, item: Omit<typeof inboundInbox.$inferInsert, 'id'>): Promise<string> {
  const id = newId('inbox')
  await tx.insert(inboundInbox).values({ ...item, id })
  return id
}

/**
 * Locks the oldest pending inbox row (any workspace, as the owner), then confines the rest of
 * the transaction to that row's workspace exactly as a request would be.
 */
export async function claimInbox (tx: Tx): Promise<InboxRow | undefined> {
  const [row] = await tx.select().from(inboundInbox).where(eq(inboundInbox.status, 'pending'))
    .orderBy(asc(inboundInbox.receivedAt)).limit(1).for('update', { skipLocked: true })
  if (row) await enterWorkspace(tx, row.workspaceId)
  return row
}

export async function finishInbox (tx: Executor, row: InboxRow, outcome: { status: 'processed' | 'pending' | 'failed', error?: string }) {
  await tx.update(inboundInbox).set({
    status: outcome.status,
    attempts: sql`${inboundInbox.attempts} + 1`,
    error: outcome.error ?? null,
    processedAt: outcome.status === 'processed' ? sql`now()` : null
  }).where(and(eq(inboundInbox.workspaceId, row.workspaceId), eq(inboundInbox.id, row.id)))
}
