import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { channels, inboundRoutes } from './channels.table.js'

export type ChannelRow = typeof channels.$inferSelect

const live = (workspaceId: string) => and(eq(channels.workspaceId, workspaceId), isNull(channels.deletedAt))

export async function getChannel (tx: Executor, workspaceId: string, id: string): Promise<ChannelRow | undefined> {
  const [row] = await tx.select().from(channels).where(and(live(workspaceId), eq(channels.id, id))).limit(1)
  return row
}

export async function insertChannel (tx: Executor, row: typeof channels.$inferInsert): Promise<ChannelRow> {
  const [created] = await tx.insert(channels).values(row).returning()
  await tx.insert(inboundRoutes).values({ channelId: created.id, workspaceId: created.workspaceId })
  return created
}

export async function updateChannel (tx: Executor, workspaceId: string, id: string, fields: Partial<typeof channels.$inferInsert>): Promise<ChannelRow> {
  const [row] = await tx.update(channels).set({ ...fields, updatedAt: databaseNow(channels.createdAt) }).where(and(live(workspaceId), eq(channels.id, id))).returning()
  return row
}

export async function deleteChannel (tx: Executor, workspaceId: string, id: string): Promise<boolean> {
  const rows = await tx.update(channels).set({ deletedAt: databaseNow() }).where(and(live(workspaceId), eq(channels.id, id))).returning({ id: channels.id })
  if (rows.length > 0) await tx.delete(inboundRoutes).where(eq(inboundRoutes.channelId, id))
  return rows.length > 0
}

export interface ChannelFilter { kind?: string, status?: string, updatedSince?: Date }

/** Keyset: ids below `beforeId` and above `newerThanId`, read from the newest end unless `oldestFirst`. */
export async function listChannels (tx: Executor, workspaceId: string, f: ChannelFilter & { beforeId?: string, newerThanId?: string, oldestFirst?: boolean }, limit: number) {
  const where = channelConditions(workspaceId, f)
  if (f.beforeId) where.push(lt(channels.id, f.beforeId))
  if (f.newerThanId) where.push(gt(channels.id, f.newerThanId))
  return tx.select().from(channels).where(and(...where)).orderBy(f.oldestFirst ? asc(channels.id) : desc(channels.id)).limit(limit)
}

export async function countChannels (tx: Executor, workspaceId: string, f: ChannelFilter): Promise<number> {
  return tx.$count(channels, and(...channelConditions(workspaceId, f)))
}

function channelConditions (workspaceId: string, f: ChannelFilter): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [live(workspaceId)]
  if (f.kind) where.push(eq(channels.kind, f.kind))
  if (f.status) where.push(eq(channels.status, f.status as 'active'))
  if (f.updatedSince) where.push(gte(channels.updatedAt, f.updatedSince))
  return where
}

/** The workspace of a channel id, read before any workspace is known (provider webhooks). */
export async function findInboundRoute (tx: Executor, channelId: string): Promise<string | undefined> {
  const [row] = await tx.select().from(inboundRoutes).where(eq(inboundRoutes.channelId, channelId)).limit(1)
  return row?.workspaceId
}

export async function getChannels (tx: Executor, workspaceId: string, ids: string[]): Promise<ChannelRow[]> {
  if (ids.length === 0) return []
  return tx.select().from(channels).where(and(live(workspaceId), inArray(channels.id, ids)))
}
