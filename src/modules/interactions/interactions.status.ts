import type { Tx } from '../../db/client.js'
import { appendEvents } from '../events/events.log.js'
import * as repo from './interactions.repository.js'
import { toInteractionDto } from './interactions.service.js'

/**
 * Delivery status changes (provider receipts, the outbound worker) with their
 * `interaction.status_changed` events, in the caller's transaction. Only rows whose status moved
 * get an event: a repeated or out-of-order receipt changes nothing and says nothing.
 */
export async function changeStatus (tx: Tx, now: Date, workspaceId: string, where: Parameters<typeof repo.applyStatus>[2],
  status: Parameters<typeof repo.applyStatus>[3], reason?: string): Promise<void> {
  await record(tx, now, workspaceId, await repo.applyStatus(tx, workspaceId, where, status, reason))
}

export async function changeStatusUpTo (tx: Tx, now: Date, workspaceId: string, channelId: string, recipient: string, before: Date, status: 'delivered' | 'read'): Promise<void> {
  const moved = await repo.applyStatusWatermark(tx, workspaceId, channelId, recipient, before, status)
  if (moved.length) await record(tx, now, workspaceId, await repo.getInteractions(tx, workspaceId, moved.map((r) => r.id)))
}

async function record (tx: Tx, now: Date, workspaceId: string, rows: repo.InteractionRow[]) {
  await appendEvents(tx, rows.map((r) => ({ workspaceId, type: 'interaction.status_changed' as const, subjectId: r.id, data: toInteractionDto(r), occurredAt: now })))
}
