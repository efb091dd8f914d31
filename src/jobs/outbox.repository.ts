import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm'
import type { Db, Executor } from '../db/client.js'
import { newId } from '../lib/ids.js'
import { outbox, outboxAttempts } from '../modules/interactions/interactions.table.js'

export type OutboxRow = typeof outbox.$inferSelect

export async function enqueueOutbox (tx: Executor, item: { workspaceId: string, topic: string, idempotencyKey: string, payload: Record<string, unknown> }) {
  await tx.insert(outbox).values({ ...item, id: newId('outbox') })
}

/**
 * Claims one due row across workspaces (the worker connects as the owner; see migration 0003):
 * the claim pushes next_attempt_at out by a lease and commits at once, so the send itself runs
 * outside any transaction. A worker killed mid-send leaves the row to be claimed again when
 * the lease ends, with the same idempotency key.
 */
export async function claimDue (db: Db, topics: string[], leaseMs: number): Promise<OutboxRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(outbox)
      .where(and(eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, sql`now()`), inArray(outbox.topic, topics)))
      .orderBy(asc(outbox.nextAttemptAt)).limit(1).for('update', { skipLocked: true })
    if (!row) return undefined
    const [claimed] = await tx.update(outbox)
      .set({ attempts: sql`${outbox.attempts} + 1`, nextAttemptAt: sql`now() + ${`${leaseMs} milliseconds`}::interval`, updatedAt: sql`now()` })
      .where(and(eq(outbox.workspaceId, row.workspaceId), eq(outbox.id, row.id))).returning()
    return claimed
  })
}

export async function recordAttempt (tx: Executor, row: OutboxRow, times: { startedAt: Date, finishedAt: Date }, outcome: 'ok' | 'retry' | 'failed', error?: string, result?: unknown) {
  await tx.insert(outboxAttempts).values({
    workspaceId: row.workspaceId, id: newId('attempt'), outboxId: row.id, attempt: row.attempts,
    startedAt: times.startedAt, finishedAt: times.finishedAt, outcome, error: error ?? null, result: result ?? null
  })
}

export async function finishOutbox (tx: Executor, row: OutboxRow, status: 'done' | 'failed', error?: string) {
  await tx.update(outbox).set({ status, lastError: error ?? null, updatedAt: sql`now()` })
    .where(and(eq(outbox.workspaceId, row.workspaceId), eq(outbox.id, row.id)))
}

export async function retryOutboxLater (tx: Executor, row: OutboxRow, delayMs: number, error: string) {
  await tx.update(outbox).set({ nextAttemptAt: sql`now() + ${`${Math.round(delayMs)} milliseconds`}::interval`, lastError: error, updatedAt: sql`now()` })
    .where(and(eq(outbox.workspaceId, row.workspaceId), eq(outbox.id, row.id)))
}

export async function listAttempts (tx: Executor, workspaceId: string, idempotencyKey: string) {
  return tx.select({ attempt: outboxAttempts.attempt, outcome: outboxAttempts.outcome, error: outboxAttempts.error, startedAt: outboxAttempts.startedAt, finishedAt: outboxAttempts.finishedAt })
    .from(outboxAttempts).innerJoin(outbox, and(eq(outbox.workspaceId, outboxAttempts.workspaceId), eq(outbox.id, outboxAttempts.outboxId)))
    .where(and(eq(outbox.workspaceId, workspaceId), eq(outbox.idempotencyKey, idempotencyKey)))
    .orderBy(asc(outboxAttempts.attempt))
}

/** Puts a claimed row back without counting the claim as an attempt (a paused channel waits). */
export async function holdOutbox (tx: Executor, row: OutboxRow, delayMs: number) {
  await tx.update(outbox).set({ attempts: sql`greatest(${outbox.attempts} - 1, 0)`, nextAttemptAt: sql`now() + ${`${Math.round(delayMs)} milliseconds`}::interval`, updatedAt: sql`now()` })
    .where(and(eq(outbox.workspaceId, row.workspaceId), eq(outbox.id, row.id)))
}
