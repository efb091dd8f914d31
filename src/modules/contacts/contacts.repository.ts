import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, ne, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { contactEmails, contacts, type EmailEntry } from './contacts.table.js'

export type ContactRow = typeof contacts.$inferSelect
export type NewContactRow = typeof contacts.$inferInsert

// Every function takes the workspace and filters on it; row-level security repeats the rule.
// Live = not deleted and not merged into another contact (merged ids resolve through resolveAlias).
const live = (workspaceId: string) => and(eq(contacts.workspaceId, workspaceId), isNull(contacts.deletedAt), isNull(contacts.mergedInto))

/** Follows merges: the id a (possibly merged) contact id now lives under, or undefined. */
export async function resolveAlias (tx: Executor, workspaceId: string, id: string): Promise<string | undefined> {
  let current = id
  for (let hop = 0; hop < 10; hop++) {
    const [row] = await tx.select({ id: contacts.id, mergedInto: contacts.mergedInto }).from(contacts)
      .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.id, current), isNull(contacts.deletedAt))).limit(1)
    if (!row) return undefined
    if (!row.mergedInto) return row.id
    current = row.mergedInto
  }
  return undefined
}

export async function setMergedInto (tx: Executor, workspaceId: string, id: string, survivorId: string | null): Promise<void> {
  await tx.update(contacts).set({ mergedInto: survivorId, updatedAt: sql`now()`, version: sql`${contacts.version} + 1` })
    .where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.id, id)))
}

/**
 * Contacts owning an address among their e-mails or phones (identity matching of inbound senders).
 * Merged contacts count (a live one first), as their e-mail rows do: callers resolve the id to the
 * survivor, so a number known only to a merged contact still finds the person.
 */
export async function findByEmailOrPhone (tx: Executor, workspaceId: string, kind: 'email' | 'phone', address: string): Promise<string | undefined> {
  const [row] = kind === 'email'
    ? await tx.select({ id: contactEmails.contactId }).from(contactEmails)
      .where(and(eq(contactEmails.workspaceId, workspaceId), eq(contactEmails.email, address))).limit(1)
    : await tx.select({ id: contacts.id }).from(contacts)
      .where(and(eq(contacts.workspaceId, workspaceId), isNull(contacts.deletedAt), sql`${contacts.phones} @> array[${address}]::text[]`))
      .orderBy(sql`${contacts.mergedInto} is not null`, contacts.id).limit(1)
  return row?.id
}

export async function getContact (tx: Executor, workspaceId: string, id: string, forUpdate = false): Promise<ContactRow | undefined> {
  const q = tx.select().from(contacts).where(and(live(workspaceId), eq(contacts.id, id))).limit(1)
  const [row] = forUpdate ? await q.for('update') : await q
  return row
}

export async function getContacts (tx: Executor, workspaceId: string, ids: string[]): Promise<ContactRow[]> {
  if (ids.length === 0) return []
  return tx.select().from(contacts).where(and(live(workspaceId), inArray(contacts.id, ids)))
}

export async function insertContact (tx: Executor, row: NewContactRow): Promise<ContactRow> {
  const [created] = await tx.insert(contacts).values(row).returning()
  return created
}

export async function updateContact (tx: Executor, workspaceId: string, id: string, fields: Partial<NewContactRow>): Promise<ContactRow> {
  const [updated] = await tx.update(contacts)
    .set({ ...fields, version: sql`${contacts.version} + 1`, updatedAt: sql`now()` })
    .where(and(live(workspaceId), eq(contacts.id, id)))
    .returning()
  return updated
}

export async function softDeleteContact (tx: Executor, workspaceId: string, id: string): Promise<boolean> {
  const rows = await tx.update(contacts)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()`, version: sql`${contacts.version} + 1` })
    .where(and(live(workspaceId), eq(contacts.id, id)))
    .returning({ id: contacts.id })
  if (rows.length > 0) await tx.delete(contactEmails).where(and(eq(contactEmails.workspaceId, workspaceId), eq(contactEmails.contactId, id)))
  return rows.length > 0
}

/** Live contacts owning any of these addresses, other than `exceptId`. */
export async function findEmailOwners (tx: Executor, workspaceId: string, emails: string[], exceptId?: string) {
  if (emails.length === 0) return []
  return tx.select({ email: contactEmails.email, contactId: contactEmails.contactId }).from(contactEmails)
    .where(and(eq(contactEmails.workspaceId, workspaceId), inArray(contactEmails.email, emails),
      exceptId ? ne(contactEmails.contactId, exceptId) : undefined))
}

export async function findByExternalId (tx: Executor, workspaceId: string, externalId: string, exceptId?: string) {
  const [row] = await tx.select({ id: contacts.id }).from(contacts)
    .where(and(live(workspaceId), eq(contacts.externalId, externalId), exceptId ? ne(contacts.id, exceptId) : undefined))
    .limit(1)
  return row
}

export async function replaceEmails (tx: Executor, workspaceId: string, contactId: string, emails: EmailEntry[]): Promise<void> {
  await tx.delete(contactEmails).where(and(eq(contactEmails.workspaceId, workspaceId), eq(contactEmails.contactId, contactId)))
  if (emails.length === 0) return
  await tx.insert(contactEmails).values(emails.map((e) => ({ workspaceId, contactId, email: e.address, primary: e.primary })))
}

export interface ContactFilter {
  q?: string
  tag?: string
  email?: string
  externalId?: string
  updatedSince?: Date
  /** Keyset: only ids before this one (the list runs newest first). */
  beforeId?: string
  /** Keyset, the other bound: only ids after this one (GraphQL `before`). */
  newerThanId?: string
  /** Read from the oldest end (GraphQL `last`); the caller reverses the rows. */
  oldestFirst?: boolean
}

export async function listContacts (tx: Executor, workspaceId: string, f: ContactFilter, limit: number): Promise<ContactRow[]> {
  const where = contactConditions(workspaceId, f)
  if (f.beforeId) where.push(lt(contacts.id, f.beforeId))
  if (f.newerThanId) where.push(gt(contacts.id, f.newerThanId))
  return tx.select().from(contacts).where(and(...where)).orderBy(f.oldestFirst ? asc(contacts.id) : desc(contacts.id)).limit(limit)
}

export async function countContacts (tx: Executor, workspaceId: string, f: ContactFilter): Promise<number> {
  return tx.$count(contacts, and(...contactConditions(workspaceId, f)))
}

function contactConditions (workspaceId: string, f: ContactFilter): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [live(workspaceId)]
  if (f.tag) where.push(sql`${contacts.tags} @> array[${f.tag}]::text[]`)
  if (f.externalId) where.push(eq(contacts.externalId, f.externalId))
  if (f.updatedSince) where.push(gte(contacts.updatedAt, f.updatedSince))
  if (f.email) {
    where.push(sql`exists (select 1 from ${contactEmails} e where e.workspace_id = ${contacts.workspaceId}
      and e.contact_id = ${contacts.id} and e.email = ${f.email})`)
  }
  if (f.q) where.push(searchCondition(f.q))
  return where
}

function searchCondition (q: string): SQL {
  const pattern = '%' + q.replace(/[\\%_]/g, (c) => '\\' + c) + '%'
  const digits = q.replace(/[^\d]/g, '')
  const phoneMatch = digits.length >= 4 ? sql` or array_to_string(${contacts.phones}, ' ') like ${'%' + digits + '%'}` : sql``
  return sql`(${contacts.displayName} ilike ${pattern} or ${contacts.givenName} ilike ${pattern}
    or ${contacts.familyName} ilike ${pattern} or ${contacts.company} ilike ${pattern}
    or ${contacts.emails}::text ilike ${pattern}${phoneMatch})`
}
