import { and, asc, desc, eq, gt, lt, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { apiKeys } from './api-keys.table.js'

export type ApiKeyRow = typeof apiKeys.$inferSelect

export async function insert (tx: Executor, row: typeof apiKeys.$inferInsert): Promise<ApiKeyRow> {
  const [created] = await tx.insert(apiKeys).values(row).returning()
  return created
}

export async function find (tx: Executor, workspaceId: string, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await tx.select().from(apiKeys).where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)))
  return row
}

/** A keyset read on ids: below and above bound the range, lowFirst reads it from its low end. */
export async function list (tx: Executor, workspaceId: string, limit: number, r: { below?: string, above?: string, lowFirst?: boolean } = {}): Promise<ApiKeyRow[]> {
  return tx.select().from(apiKeys)
    .where(and(eq(apiKeys.workspaceId, workspaceId), r.below ? lt(apiKeys.id, r.below) : undefined, r.above ? gt(apiKeys.id, r.above) : undefined))
    .orderBy(r.lowFirst ? asc(apiKeys.id) : desc(apiKeys.id)).limit(limit)
}

export async function count (tx: Executor, workspaceId: string): Promise<number> {
  return tx.$count(apiKeys, eq(apiKeys.workspaceId, workspaceId))
}

export async function revoke (tx: Executor, workspaceId: string, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  const [row] = await tx.update(apiKeys)
    .set({ revokedAt: at, updatedAt: at, version: sql`${apiKeys.version} + 1` })
    .where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)))
    .returning()
  return row
}

// Owner-level lookups: authentication runs before a workspace is known (see the table comment).

export async function findBySecretHash (db: Executor, secretHash: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.secretHash, secretHash))
  return row
}

export async function findById (db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id))
  return row
}

export async function touch (db: Executor, workspaceId: string, id: string, at: Date): Promise<void> {
  await db.update(apiKeys).set({ lastUsedAt: at }).where(and(eq(apiKeys.workspaceId, workspaceId), eq(apiKeys.id, id)))
}
