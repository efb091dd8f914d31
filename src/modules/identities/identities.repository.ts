import { and, asc, eq, inArray, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { contactIdentities } from './identities.table.js'

export type IdentityRow = typeof contactIdentities.$inferSelect

export async function listIdentities (tx: Executor, workspaceId: string, contactIds: string[]): Promise<IdentityRow[]> {
  if (contactIds.length === 0) return []
  return tx.select().from(contactIdentities)
    .where(and(eq(contactIdentities.workspaceId, workspaceId), inArray(contactIdentities.contactId, contactIds)))
    .orderBy(asc(contactIdentities.kind), asc(contactIdentities.address))
}

export async function findIdentity (tx: Executor, workspaceId: string, kind: string, address: string): Promise<IdentityRow | undefined> {
  const [row] = await tx.select().from(contactIdentities)
    .where(and(eq(contactIdentities.workspaceId, workspaceId), eq(contactIdentities.kind, kind), eq(contactIdentities.address, address))).limit(1)
  return row
}

export async function insertIdentity (tx: Executor, row: typeof contactIdentities.$inferInsert): Promise<IdentityRow> {
  const [created] = await tx.insert(contactIdentities).values(row).returning()
  return created
}

export async function deleteIdentity (tx: Executor, workspaceId: string, contactId: string, id: string): Promise<boolean> {
  const rows = await tx.delete(contactIdentities)
    .where(and(eq(contactIdentities.workspaceId, workspaceId), eq(contactIdentities.contactId, contactId), eq(contactIdentities.id, id)))
    .returning({ id: contactIdentities.id })
  return rows.length > 0
}

export async function touchIdentity (tx: Executor, workspaceId: string, id: string, seenAt: Date): Promise<void> {
  await tx.update(contactIdentities).set({
    lastSeenAt: sql`greatest(${contactIdentities.lastSeenAt}, ${seenAt.toISOString()}::timestamptz)`,
    firstSeenAt: sql`least(coalesce(${contactIdentities.firstSeenAt}, ${seenAt.toISOString()}::timestamptz), ${seenAt.toISOString()}::timestamptz)`
  }).where(and(eq(contactIdentities.workspaceId, workspaceId), eq(contactIdentities.id, id)))
}

/** Moves identities between contacts (merge and unmerge); returns the ids moved. */
export async function moveIdentities (tx: Executor, workspaceId: string, fromContactId: string, toContactId: string, onlyIds?: string[]): Promise<string[]> {
  if (onlyIds && onlyIds.length === 0) return []
  const rows = await tx.update(contactIdentities).set({ contactId: toContactId, updatedAt: databaseNow(contactIdentities.createdAt) })
    .where(and(eq(contactIdentities.workspaceId, workspaceId), eq(contactIdentities.contactId, fromContactId),
      onlyIds ? inArray(contactIdentities.id, onlyIds) : undefined))
    .returning({ id: contactIdentities.id })
  return rows.map((r) => r.id)
}
