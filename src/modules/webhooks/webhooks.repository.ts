import { and, asc, desc, eq, gt, inArray, lt, lte, ne, sql } from 'drizzle-orm'
import type { Db, Executor } from '../../db/client.js'
import { eventConsumers, webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from './webhooks.table.js'

export type EndpointRow = typeof webhookEndpoints.$inferSelect
export type DeliveryRow = typeof webhookDeliveries.$inferSelect
export type NewDelivery = typeof webhookDeliveries.$inferInsert
export type AttemptRow = typeof webhookDeliveryAttempts.$inferSelect

const endpointKey = (workspaceId: string, id: string) => and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id))

export async function insertEndpoint (tx: Executor, row: typeof webhookEndpoints.$inferInsert): Promise<EndpointRow> {
  const [created] = await tx.insert(webhookEndpoints).values(row).returning()
  return created
}

export async function getEndpoint (tx: Executor, workspaceId: string, id: string): Promise<EndpointRow | undefined> {
  const [row] = await tx.select().from(webhookEndpoints).where(endpointKey(workspaceId, id)).limit(1)
  return row
}

/** A keyset read on ids: below and above bound the range, lowFirst reads it from its low end. */
export interface IdRange<K = string> { below?: K, above?: K, lowFirst?: boolean }

export async function listEndpoints (tx: Executor, workspaceId: string, r: IdRange, limit: number) {
  return tx.select().from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.workspaceId, workspaceId),
      r.below ? lt(webhookEndpoints.id, r.below) : undefined, r.above ? gt(webhookEndpoints.id, r.above) : undefined))
    .orderBy(r.lowFirst ? asc(webhookEndpoints.id) : desc(webhookEndpoints.id)).limit(limit)
}

export async function countEndpoints (tx: Executor, workspaceId: string): Promise<number> {
  return tx.$count(webhookEndpoints, eq(webhookEndpoints.workspaceId, workspaceId))
}

export async function enabledEndpoints (tx: Executor, workspaceId: string): Promise<EndpointRow[]> {
  return tx.select().from(webhookEndpoints).where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.status, 'enabled')))
}

export async function updateEndpoint (tx: Executor, workspaceId: string, id: string, fields: Partial<typeof webhookEndpoints.$inferInsert>): Promise<EndpointRow> {
  const [row] = await tx.update(webhookEndpoints).set(fields).where(endpointKey(workspaceId, id)).returning()
  return row
}

/** Disables an enabled endpoint (a worker's decision: the version moves on from whatever it is now). */
export async function disableEndpoint (tx: Executor, workspaceId: string, id: string, reason: string, now: Date): Promise<void> {
  await tx.update(webhookEndpoints)
    .set({ status: 'disabled', disabledReason: reason, version: sql`${webhookEndpoints.version} + 1`, updatedAt: now })
    .where(and(endpointKey(workspaceId, id), eq(webhookEndpoints.status, 'enabled')))
}

export async function deleteEndpoint (tx: Executor, workspaceId: string, id: string): Promise<void> {
  await tx.delete(webhookEndpoints).where(endpointKey(workspaceId, id))
}

/** Inserts deliveries, skipping any (endpoint, event) pair already queued. */
export async function insertDeliveries (tx: Executor, rows: NewDelivery[]): Promise<number> {
  if (rows.length === 0) return 0
  const inserted = await tx.insert(webhookDeliveries).values(rows).onConflictDoNothing().returning({ id: webhookDeliveries.id })
  return inserted.length
}

/** Ends every pending delivery of an endpoint that was just disabled. */
export async function cancelPending (tx: Executor, workspaceId: string, endpointId: string, reason: string, now: Date): Promise<void> {
  await tx.update(webhookDeliveries).set({ status: 'cancelled', nextAttemptAt: null, lastError: reason, updatedAt: now })
    .where(and(eq(webhookDeliveries.workspaceId, workspaceId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, 'pending')))
}

export async function listDeliveries (tx: Executor, workspaceId: string, endpointId: string, f: IdRange & { status?: DeliveryRow['status'] }, limit: number) {
  return tx.select().from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.workspaceId, workspaceId), eq(webhookDeliveries.endpointId, endpointId), f.status ? eq(webhookDeliveries.status, f.status) : undefined,
      f.below ? lt(webhookDeliveries.id, f.below) : undefined, f.above ? gt(webhookDeliveries.id, f.above) : undefined))
    .orderBy(f.lowFirst ? asc(webhookDeliveries.id) : desc(webhookDeliveries.id)).limit(limit)
}

/**
 * The newest `limit` + 1 deliveries of each endpoint (of one status if given) in one statement: a
 * lateral read per endpoint on the (workspace, endpoint, id) index. For a page of endpoints.
 */
export async function latestForEndpoints (tx: Executor, workspaceId: string, endpointIds: string[], status: DeliveryRow['status'] | undefined, limit: number): Promise<DeliveryRow[]> {
  if (endpointIds.length === 0) return []
  const ids = sql.join(endpointIds.map((id) => sql`${id}`), sql`, `)
  return tx.select().from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.workspaceId, workspaceId), sql`${webhookDeliveries.id} in (
      select l.id from unnest(array[${ids}]::text[]) as e(endpoint_id)
      cross join lateral (select d.id from webhook_deliveries d where d.workspace_id = ${workspaceId} and d.endpoint_id = e.endpoint_id
        ${status ? sql`and d.status = ${status}` : sql``} order by d.id desc limit ${limit + 1}) l)`))
    .orderBy(desc(webhookDeliveries.id))
}

/** How many deliveries each endpoint has (of one status if given), in one grouped COUNT. */
export async function countByEndpoint (tx: Executor, workspaceId: string, endpointIds: string[], status?: DeliveryRow['status']) {
  return tx.select({ endpointId: webhookDeliveries.endpointId, n: sql<number>`count(*)::int` }).from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.workspaceId, workspaceId), inArray(webhookDeliveries.endpointId, endpointIds), status ? eq(webhookDeliveries.status, status) : undefined))
    .groupBy(webhookDeliveries.endpointId)
}

export async function getDelivery (tx: Executor, workspaceId: string, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await tx.select().from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.workspaceId, workspaceId), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.id, id))).limit(1)
  return row
}

export async function updateDelivery (tx: Executor, row: Pick<DeliveryRow, 'workspaceId' | 'id'>, fields: Partial<NewDelivery>): Promise<DeliveryRow> {
  const [updated] = await tx.update(webhookDeliveries).set(fields)
    .where(and(eq(webhookDeliveries.workspaceId, row.workspaceId), eq(webhookDeliveries.id, row.id))).returning()
  return updated
}

export async function insertAttempt (tx: Executor, row: AttemptRow): Promise<void> {
  await tx.insert(webhookDeliveryAttempts).values(row)
}

const attemptsOf = (workspaceId: string, deliveryId: string) =>
  and(eq(webhookDeliveryAttempts.workspaceId, workspaceId), eq(webhookDeliveryAttempts.deliveryId, deliveryId))

/** A delivery's attempts by number within a range (oldest first unless read from the high end). */
export async function listAttempts (tx: Executor, workspaceId: string, deliveryId: string, r: IdRange<number>, limit: number): Promise<AttemptRow[]> {
  return tx.select().from(webhookDeliveryAttempts)
    .where(and(attemptsOf(workspaceId, deliveryId),
      r.above !== undefined ? gt(webhookDeliveryAttempts.attempt, r.above) : undefined, r.below !== undefined ? lt(webhookDeliveryAttempts.attempt, r.below) : undefined))
    .orderBy(r.lowFirst === false ? desc(webhookDeliveryAttempts.attempt) : asc(webhookDeliveryAttempts.attempt)).limit(limit)
}

export async function countAttempts (tx: Executor, workspaceId: string, deliveryId: string): Promise<number> {
  return tx.$count(webhookDeliveryAttempts, attemptsOf(workspaceId, deliveryId))
}

/**
 * Deletes up to `batch` finished deliveries (anything but pending) last changed before `cutoff`,
 * across workspaces (as the owner, like the claim: the table's RLS is not forced); their attempts
 * go with them by the foreign key's cascade. SKIP LOCKED leaves a row being redelivered alone,
 * and the outer statement checks the status again, so a pending delivery is never deleted.
 */
export async function deleteFinishedDeliveries (db: Db, cutoff: Date, batch: number): Promise<number> {
  const finished = and(ne(webhookDeliveries.status, 'pending'), lt(webhookDeliveries.updatedAt, cutoff))
  const due = db.select({ workspaceId: webhookDeliveries.workspaceId, id: webhookDeliveries.id }).from(webhookDeliveries)
    .where(finished).limit(batch).for('update', { skipLocked: true })
  const deleted = await db.delete(webhookDeliveries)
    .where(and(finished, sql`(${webhookDeliveries.workspaceId}, ${webhookDeliveries.id}) in (${due})`))
    .returning({ id: webhookDeliveries.id })
  return deleted.length
}

/**
 * Claims one due delivery across workspaces (as the owner: the table's RLS is not forced, see
 * migration 0016). The claim counts the attempt and pushes nextAttemptAt out by a lease, then
 * commits, so the HTTP request runs outside any transaction; a worker killed mid-request leaves
 * the row to be claimed again when the lease ends, with the same webhook-id.
 */
export async function claimDueDelivery (db: Db, now: Date, leaseMs: number): Promise<DeliveryRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt)).limit(1).for('update', { skipLocked: true })
    if (!row) return undefined
    const [claimed] = await tx.update(webhookDeliveries).set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      totalAttempts: sql`${webhookDeliveries.totalAttempts} + 1`,
      nextAttemptAt: new Date(now.getTime() + leaseMs),
      updatedAt: now
    }).where(and(eq(webhookDeliveries.workspaceId, row.workspaceId), eq(webhookDeliveries.id, row.id))).returning()
    return claimed
  })
}

/**
 * Locks a log consumer's cursor for the rest of the transaction (SKIP LOCKED: a second process
 * fanning out at the same moment gets nothing and tries again later). Owner connection only.
 */
export async function lockConsumer (tx: Executor, name: string): Promise<{ position: string | null } | undefined> {
  await tx.insert(eventConsumers).values({ name }).onConflictDoNothing()
  const [row] = await tx.select({ position: eventConsumers.position }).from(eventConsumers)
    .where(eq(eventConsumers.name, name)).limit(1).for('update', { skipLocked: true })
  return row
}

export async function moveConsumer (tx: Executor, name: string, position: string): Promise<void> {
  await tx.update(eventConsumers).set({ position, updatedAt: sql`now()` }).where(eq(eventConsumers.name, name))
}
