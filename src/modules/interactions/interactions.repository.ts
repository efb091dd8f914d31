import { and, asc, count, desc, eq, getTableColumns, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import { isViolation, type Executor, type Tx } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { answeredAtCommit } from '../../db/tenant.js'
import { isoOrUndefined, placeholder, preparedInsert, preparedQuery, preparedShapes, shapeKey } from '../../db/prepared.js'
import { contacts } from '../contacts/contacts.table.js'
import { rowsOf, textList } from '../../db/key-lists.js'
import { interactions } from './interactions.table.js'

/**
 * Every column but `raw`, the provider's payload as received: a whole inbound email or webhook body,
 * often tens of kilobytes, which only `GET /v1/interactions/{id}?include=raw` and the GraphQL `raw`
 * field show. Lists, timelines and answers to writes read these columns, so that a page of 20
 * emails does not bring 20 payloads from PostgreSQL and parse them, only to drop them.
 */
const { raw: _raw, ...summaryColumns } = getTableColumns(interactions)
export const interactionColumns = summaryColumns

export type InteractionRow = Omit<typeof interactions.$inferSelect, 'raw'>
export type NewInteractionRow = typeof interactions.$inferInsert

export interface InteractionFilter {
  contactId?: string
  channelId?: string
  direction?: 'inbound' | 'outbound'
  kind?: InteractionRow['kind']
  since?: Date
  until?: Date
  updatedSince?: Date
  /** Keyset: rows strictly older than (occurredAt, id). */
  before?: { occurredAt: Date, id: string }
  /** Keyset, the other bound: rows strictly newer than (occurredAt, id) (GraphQL `before`). */
  newerThan?: { occurredAt: Date, id: string }
  /** Read from the oldest end (GraphQL `last`); the caller reverses the rows. */
  oldestFirst?: boolean
}

// A deleted contact takes its log with it from every read (the rows stay, for an undelete).
const contactIsLive = sql`exists (select 1 from ${contacts} c where c.workspace_id = ${interactions.workspaceId}
  and c.id = ${interactions.contactId} and c.deleted_at is null)`

/** One interaction with its provider payload (`raw`). */
export async function getInteraction (tx: Executor, workspaceId: string, id: string): Promise<InteractionRow & { raw: unknown } | undefined> {
  const [row] = await tx.select().from(interactions).where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.id, id), contactIsLive)).limit(1)
  return row
}

export async function getInteractions (tx: Executor, workspaceId: string, ids: string[]): Promise<InteractionRow[]> {
  if (ids.length === 0) return []
  return tx.select(interactionColumns).from(interactions).where(and(eq(interactions.workspaceId, workspaceId), inArray(interactions.id, ids), contactIsLive))
}

/** The provider payloads of many interactions (the GraphQL `raw` field of a list), live contacts only. */
export async function rawsOf (tx: Executor, workspaceId: string, ids: string[]): Promise<Array<{ id: string, raw: unknown }>> {
  if (ids.length === 0) return []
  return tx.select({ id: interactions.id, raw: interactions.raw }).from(interactions)
    .where(and(eq(interactions.workspaceId, workspaceId), inArray(interactions.id, ids), contactIsLive))
}

// A provider's retry hits the unique (channel, provider message id) index: keep the first.
const insertRow = preparedInsert('interactions_insert', (ex, values) => ex.insert(interactions).values(values as NewInteractionRow).onConflictDoNothing().returning(interactionColumns))

export async function insertInteraction (tx: Executor, row: NewInteractionRow): Promise<InteractionRow | undefined> {
  const [created] = await insertRow(tx, row)
  return created
}

/**
 * An interaction for a contact id only if that id is a live contact of the workspace, in one
 * statement that needs no answer before COMMIT: the id goes through a scalar subquery, which gives
 * null for a missing, deleted or merged contact, and the NOT NULL of contact_id then fails the
 * statement (23502 on contact_id: isNotLiveContact), and with it the whole transaction.
 */
const insertForLive = preparedQuery('interactions_insert_live', (ex) => ex.insert(interactions).values({
  workspaceId: placeholder('workspaceId'),
  id: placeholder('id'),
  contactId: sql`(select c.id from ${contacts} c where c.workspace_id = ${placeholder('workspaceId')} and c.id = ${placeholder('contactId')} and c.deleted_at is null and c.merged_into is null)`,
  direction: placeholder('direction'),
  kind: placeholder('kind'),
  subject: placeholder('subject'),
  body: placeholder('body'),
  threadId: placeholder('threadId'),
  occurredAt: placeholder('occurredAt'),
  createdAt: placeholder('createdAt'),
  updatedAt: placeholder('updatedAt')
} as unknown as NewInteractionRow))

export type LiveContactInteraction = Pick<InteractionRow, 'workspaceId' | 'id' | 'contactId' | 'direction' | 'kind' | 'subject' | 'body' | 'threadId' | 'occurredAt' | 'createdAt' | 'updatedAt'>

export function insertForLiveContact (tx: Tx, row: LiveContactInteraction): Promise<unknown> | undefined {
  return answeredAtCommit(tx, insertForLive(tx, row as unknown as Record<string, unknown>))
}

export const isNotLiveContact = (err: unknown): boolean => isViolation(err, '23502', 'contact_id')

/**
 * Many entries in one statement (an import batch): the rows travel as one JSON parameter, each
 * contact id goes through the same live-contact subquery as insertForLiveContact (a missing,
 * deleted or merged one fails the whole statement: isNotLiveContact), and a provider message id
 * already logged is skipped. Returns the ids written; fewer than given means duplicates.
 */
export async function insertManyForLiveContacts (tx: Executor, rows: InteractionRow[]): Promise<string[]> {
  if (rows.length === 0) return []
  const json = JSON.stringify(rows.map((r) => ({
    id: r.id, contact_id: r.contactId, channel_id: r.channelId, direction: r.direction, kind: r.kind, subject: r.subject, body: r.body,
    thread_id: r.threadId, provider_message_id: r.providerMessageId, occurred_at: r.occurredAt, author_id: r.authorId, created_at: r.createdAt, updated_at: r.updatedAt
  })))
  const workspaceId = rows[0].workspaceId
  const written = await tx.execute(sql`insert into interactions (workspace_id, id, contact_id, channel_id, direction, kind, subject, body, thread_id,
      provider_message_id, occurred_at, author_id, created_at, updated_at)
    select ${workspaceId}, r.id,
      (select c.id from contacts c where c.workspace_id = ${workspaceId} and c.id = r.contact_id and c.deleted_at is null and c.merged_into is null),
      r.channel_id, r.direction, r.kind, r.subject, r.body, r.thread_id, r.provider_message_id, r.occurred_at, r.author_id, r.created_at, r.updated_at
    from jsonb_to_recordset(${json}::jsonb) as r(id text, contact_id text, channel_id text, direction text, kind text, subject text, body text, thread_id text,
      provider_message_id text, occurred_at timestamptz, author_id text, created_at timestamptz, updated_at timestamptz)
    on conflict do nothing
    returning id`)
  return rowsOf<{ id: string }>(written).map((r) => r.id)
}

/**
 * Which contact and channel each of many interactions belongs to (live contacts only, like every
 * read), one index probe per id: the list travels as one array parameter, so the statement text is
 * the same whatever its length (a named prepared statement per list length would pile up).
 */
export async function contactsOfInteractions (tx: Executor, workspaceId: string, ids: string[]): Promise<Array<{ id: string, contactId: string, channelId: string | null }>> {
  if (ids.length === 0) return []
  const result = await tx.execute(sql`select i.id, i.contact_id as "contactId", i.channel_id as "channelId"
    from unnest(${textList(ids)}) as k(v) cross join lateral (
      select x.id, x.contact_id, x.channel_id from interactions x
      where x.workspace_id = ${workspaceId} and x.id = k.v
        and exists (select 1 from contacts c where c.workspace_id = x.workspace_id and c.id = x.contact_id and c.deleted_at is null)
      limit 1) as i`)
  return rowsOf<{ id: string, contactId: string, channelId: string | null }>(result)
}

const filterKeys = ['contactId', 'channelId', 'direction', 'kind', 'since', 'until', 'updatedSince', 'before', 'newerThan'] as const
type Has = Partial<Record<typeof filterKeys[number] | 'oldestFirst', boolean>>
const p = placeholder

// Each shape of list (filters present, direction) is built and prepared once (src/db/prepared.ts).
const interactionPage = preparedShapes('interactions_page', (ex, shape: string) => {
  const has: Has = JSON.parse(shape)
  const where = interactionConditions(has)
  if (has.before) where.push(or(lt(interactions.occurredAt, p('beforeAt')), and(eq(interactions.occurredAt, p('beforeAt')), lt(interactions.id, p('beforeId')))))
  if (has.newerThan) where.push(or(gt(interactions.occurredAt, p('newerAt')), and(eq(interactions.occurredAt, p('newerAt')), gt(interactions.id, p('newerId')))))
  const order = has.oldestFirst ? [asc(interactions.occurredAt), asc(interactions.id)] : [desc(interactions.occurredAt), desc(interactions.id)]
  return ex.select(interactionColumns).from(interactions).where(and(...where)).orderBy(...order).limit(p('limit'))
})

const interactionCount = preparedShapes('interactions_count', (ex, shape: string) =>
  ex.select({ n: count() }).from(interactions).where(and(...interactionConditions(JSON.parse(shape)))))

function shapeOf (workspaceId: string, f: InteractionFilter) {
  return {
    shape: shapeKey(f, filterKeys, { oldestFirst: f.oldestFirst }),
    values: {
      ...f, workspaceId, since: isoOrUndefined(f.since), until: isoOrUndefined(f.until), updatedSince: isoOrUndefined(f.updatedSince),
      beforeAt: isoOrUndefined(f.before?.occurredAt), beforeId: f.before?.id, newerAt: isoOrUndefined(f.newerThan?.occurredAt), newerId: f.newerThan?.id
    }
  }
}

export async function listInteractions (tx: Executor, workspaceId: string, f: InteractionFilter, limit: number): Promise<InteractionRow[]> {
  const { shape, values } = shapeOf(workspaceId, f)
  return interactionPage(tx, shape, { ...values, limit })
}

/** Interactions per contact, for many contacts in one statement (nested GraphQL totalCount). */
export async function countByContact (tx: Executor, workspaceId: string, contactIds: string[]): Promise<Array<{ contactId: string, n: number }>> {
  if (contactIds.length === 0) return []
  return tx.select({ contactId: interactions.contactId, n: count() }).from(interactions)
    .where(and(eq(interactions.workspaceId, workspaceId), inArray(interactions.contactId, contactIds), contactIsLive))
    .groupBy(interactions.contactId)
}

export async function countInteractions (tx: Executor, workspaceId: string, f: InteractionFilter): Promise<number> {
  const { shape, values } = shapeOf(workspaceId, f)
  const [row] = await interactionCount(tx, shape, values)
  return row.n
}

function interactionConditions (has: Has): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [eq(interactions.workspaceId, p('workspaceId')), contactIsLive]
  if (has.contactId) where.push(eq(interactions.contactId, p('contactId')))
  if (has.channelId) where.push(eq(interactions.channelId, p('channelId')))
  if (has.direction) where.push(eq(interactions.direction, p('direction')))
  if (has.kind) where.push(eq(interactions.kind, p('kind')))
  if (has.since) where.push(gte(interactions.occurredAt, p('since')))
  if (has.until) where.push(lte(interactions.occurredAt, p('until')))
  if (has.updatedSince) where.push(gte(interactions.updatedAt, p('updatedSince')))
  return where
}

const statusRank = sql`array_position(array['queued','sent','delivered','read']::text[], ${interactions.status})`

/**
 * Delivery statuses only move forward (a late "sent" never undoes "delivered"); "failed" ends it
 * unless the provider later reports delivery after all.
 */
export async function applyStatus (tx: Executor, workspaceId: string, where: { channelId: string, providerMessageId: string } | { id: string },
  status: NonNullable<InteractionRow['status']>, reason?: string): Promise<InteractionRow[]> {
  const target = 'id' in where
    ? eq(interactions.id, where.id)
    : and(eq(interactions.channelId, where.channelId), eq(interactions.providerMessageId, where.providerMessageId))
  const forward = status === 'failed'
    ? sql`${interactions.status} in ('queued','sent')`
    : sql`(${interactions.status} is null or ${interactions.status} = 'failed' or coalesce(${statusRank}, 0) < array_position(array['queued','sent','delivered','read']::text[], ${status}))`
  return tx.update(interactions).set({ status, statusReason: reason ?? null, updatedAt: databaseNow(interactions.createdAt) })
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.direction, 'outbound'), target, forward)).returning(interactionColumns)
}

/** Messenger-style watermarks: every outbound message to `recipient` up to `before`. */
export async function applyStatusWatermark (tx: Executor, workspaceId: string, channelId: string, recipient: string, before: Date, status: 'delivered' | 'read') {
  return tx.update(interactions).set({ status, updatedAt: databaseNow(interactions.createdAt) })
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.channelId, channelId), eq(interactions.direction, 'outbound'),
      eq(interactions.counterpart, recipient), lte(interactions.occurredAt, before),
      status === 'read' ? sql`${interactions.status} in ('sent','delivered')` : sql`${interactions.status} = 'sent'`))
    .returning({ id: interactions.id })
}

/**
 * The interaction a provider message id names on a channel, locked until the caller's transaction
 * ends, for an edit: two deliveries of edits of one message then apply one after the other.
 */
export async function lockByProviderMessageId (tx: Executor, workspaceId: string, channelId: string, providerMessageId: string):
Promise<Pick<InteractionRow, 'id' | 'direction' | 'subject' | 'body' | 'editedAt'> | undefined> {
  const [row] = await tx.select({ id: interactions.id, direction: interactions.direction, subject: interactions.subject, body: interactions.body, editedAt: interactions.editedAt })
    .from(interactions)
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.channelId, channelId), eq(interactions.providerMessageId, providerMessageId)))
    .limit(1).for('update')
  return row
}

/** An edit's new content (updatedAt only when the content changed, since no event says so otherwise). */
export async function setEdited (tx: Executor, workspaceId: string, id: string, { touched, ...fields }: Pick<InteractionRow, 'subject' | 'body' | 'editedAt'> & { touched: boolean }): Promise<InteractionRow> {
  const [row] = await tx.update(interactions).set(touched ? { ...fields, updatedAt: databaseNow(interactions.createdAt) } : fields)
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.id, id))).returning(interactionColumns)
  return row
}

export async function setProviderMessageId (tx: Executor, workspaceId: string, id: string, providerMessageId: string) {
  await tx.update(interactions).set({ providerMessageId, updatedAt: databaseNow(interactions.createdAt) })
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.id, id)))
}

/**
 * A send of ours still waiting for its outcome (queued, no provider id yet) to `counterpart` with
 * this very text, given the provider id of its echo: the echo can arrive and be processed before
 * the send job saves that id (the provider answers the send and posts the echo at about the same
 * time). Locked first, so that a send job's outcome saving the id meanwhile wins and this claims
 * nothing (the echo is then a known id and skipped). The outcome then writes the same id on the
 * same row, and marks it sent (which moves updatedAt). Returns the claimed interaction's id.
 */
export async function claimPendingSend (tx: Executor, workspaceId: string, channelId: string, sent: { counterpart: string, body: string | null, providerMessageId: string }): Promise<string | undefined> {
  const [pending] = await tx.select({ id: interactions.id }).from(interactions)
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.channelId, channelId), eq(interactions.direction, 'outbound'),
      eq(interactions.status, 'queued'), sql`${interactions.providerMessageId} is null`, sql`${interactions.authorId} is not null`,
      eq(interactions.counterpart, sent.counterpart), sent.body === null ? sql`${interactions.body} is null` : eq(interactions.body, sent.body)))
    .orderBy(asc(interactions.occurredAt), asc(interactions.id)).limit(1).for('update')
  if (!pending) return undefined
  const [claimed] = await tx.update(interactions).set({ providerMessageId: sent.providerMessageId })
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.id, pending.id), sql`${interactions.providerMessageId} is null`))
    .returning({ id: interactions.id })
  return claimed?.id
}

export async function moveInteractions (tx: Executor, workspaceId: string, fromContactId: string, toContactId: string, onlyIds?: string[]): Promise<string[]> {
  if (onlyIds && onlyIds.length === 0) return []
  const rows = await tx.update(interactions).set({ contactId: toContactId })
    .where(and(eq(interactions.workspaceId, workspaceId), eq(interactions.contactId, fromContactId), onlyIds ? inArray(interactions.id, onlyIds) : undefined))
    .returning({ id: interactions.id })
  return rows.map((r) => r.id)
}

/**
 * The latest `limit` + 1 interactions of each contact, for a page of contacts in one statement
 * (a lateral join per contact id, each served by the (contact, occurred_at) index).
 */
// The contact ids travel as one array parameter, so the statement is the same for any page size.
const latestPerContact = preparedQuery('interactions_latest', (ex) => ex.select(interactionColumns).from(interactions)
  .where(and(eq(interactions.workspaceId, p('workspaceId')), sql`${interactions.id} in (
    select l.id from unnest(${p('contactIds')}::text[]) as c(contact_id)
    cross join lateral (select i.id from interactions i where i.workspace_id = ${p('workspaceId')} and i.contact_id = c.contact_id
      order by i.occurred_at desc, i.id desc limit ${p('perContact')}) l)`))
  .orderBy(desc(interactions.occurredAt), desc(interactions.id)))

export async function latestForContacts (tx: Executor, workspaceId: string, contactIds: string[], limit: number): Promise<InteractionRow[]> {
  if (contactIds.length === 0) return []
  return latestPerContact(tx, { workspaceId, contactIds, perContact: limit + 1 })
}
