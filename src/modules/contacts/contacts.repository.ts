import { and, asc, count, desc, eq, gt, gte, inArray, isNull, lt, ne, sql, type SQL, type SQLWrapper } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { isoOrUndefined, placeholder, preparedQuery, preparedShapes, shapeKey } from '../../db/prepared.js'
import { contactEmails, contacts, type EmailEntry } from './contacts.table.js'

export type ContactRow = typeof contacts.$inferSelect
export type NewContactRow = typeof contacts.$inferInsert

// Every function takes the workspace and filters on it; row-level security repeats the rule.
// Live = not deleted and not merged into another contact (merged ids resolve through resolveAlias).
const live = (workspaceId: string | SQLWrapper) => and(eq(contacts.workspaceId, workspaceId), isNull(contacts.deletedAt), isNull(contacts.mergedInto))

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

const contactByIdEvenMerged = preparedQuery('contact_by_id', (ex) => ex.select().from(contacts)
  .where(and(eq(contacts.workspaceId, placeholder('workspaceId')), eq(contacts.id, placeholder('id')), isNull(contacts.deletedAt))).limit(1))

/**
 * A live contact by id or by the id of a contact merged into it: one statement in the common
 * case (the id is live), the merge chain followed only when the row found was merged.
 */
export async function findLiveContact (tx: Executor, workspaceId: string, id: string, forUpdate = false): Promise<ContactRow | undefined> {
  const [row] = forUpdate
    ? await tx.select().from(contacts).where(and(eq(contacts.workspaceId, workspaceId), eq(contacts.id, id), isNull(contacts.deletedAt))).limit(1).for('update')
    : await contactByIdEvenMerged(tx, { workspaceId, id })
  if (!row?.mergedInto) return row
  const resolved = await resolveAlias(tx, workspaceId, row.mergedInto)
  return resolved ? getContact(tx, workspaceId, resolved, forUpdate) : undefined
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

// A list's filters as a shape (which are present, which way it reads) and their values: each
// shape is built and prepared once (src/db/prepared.ts), its values bound per call.
const filterKeys = ['q', 'tag', 'email', 'externalId', 'updatedSince', 'beforeId', 'newerThanId'] as const
type FilterKey = typeof filterKeys[number]
type Presence = Partial<Record<FilterKey | 'oldestFirst' | 'digits', boolean>>

const contactPage = preparedShapes('contacts_page', (ex, shape: string) => {
  const has: Presence = JSON.parse(shape)
  const where = contactConditions(has)
  if (has.beforeId) where.push(lt(contacts.id, placeholder('beforeId')))
  if (has.newerThanId) where.push(gt(contacts.id, placeholder('newerThanId')))
  return ex.select().from(contacts).where(and(...where)).orderBy(has.oldestFirst ? asc(contacts.id) : desc(contacts.id)).limit(placeholder('limit'))
})

const contactCount = preparedShapes('contacts_count', (ex, shape: string) =>
  ex.select({ n: count() }).from(contacts).where(and(...contactConditions(JSON.parse(shape)))))

function shapeOf (f: ContactFilter): { shape: string, values: Record<string, unknown> } {
  const digits = f.q?.replace(/[^\d]/g, '') ?? ''
  const pattern = f.q === undefined ? undefined : '%' + f.q.replace(/[\\%_]/g, (c) => '\\' + c) + '%'
  // A phone number matches on its digits only when there are enough of them to mean something.
  const shape = shapeKey(f, filterKeys, { oldestFirst: f.oldestFirst, digits: digits.length >= 4 })
  return { shape, values: { ...f, updatedSince: isoOrUndefined(f.updatedSince), pattern, digits: '%' + digits + '%' } }
}

export async function listContacts (tx: Executor, workspaceId: string, f: ContactFilter, limit: number): Promise<ContactRow[]> {
  const { shape, values } = shapeOf(f)
  return contactPage(tx, shape, { ...values, workspaceId, limit })
}

export async function countContacts (tx: Executor, workspaceId: string, f: ContactFilter): Promise<number> {
  const { shape, values } = shapeOf(f)
  const [row] = await contactCount(tx, shape, { ...values, workspaceId })
  return row.n
}

function contactConditions (has: Presence): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [live(placeholder('workspaceId'))]
  if (has.tag) where.push(sql`${contacts.tags} @> array[${placeholder('tag')}]::text[]`)
  if (has.externalId) where.push(eq(contacts.externalId, placeholder('externalId')))
  if (has.updatedSince) where.push(gte(contacts.updatedAt, placeholder('updatedSince')))
  if (has.email) {
    where.push(sql`exists (select 1 from ${contactEmails} e where e.workspace_id = ${contacts.workspaceId}
      and e.contact_id = ${contacts.id} and e.email = ${placeholder('email')})`)
  }
  if (has.q) {
    const phoneMatch = has.digits ? sql` or array_to_string(${contacts.phones}, ' ') like ${placeholder('digits')}` : sql``
    const pattern = placeholder('pattern')
    where.push(sql`(${contacts.displayName} ilike ${pattern} or ${contacts.givenName} ilike ${pattern}
      or ${contacts.familyName} ilike ${pattern} or ${contacts.company} ilike ${pattern}
      or ${contacts.emails}::text ilike ${pattern}${phoneMatch})`)
  }
  return where
}
