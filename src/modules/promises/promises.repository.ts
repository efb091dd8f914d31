import { and, asc, count, desc, eq, getTableColumns, gt, gte, inArray, lt, lte, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { databaseNow } from '../../db/columns.js'
import { jsonRows } from '../../db/json-rows.js'
import { promiseDeadlines, promiseEvents, promises } from './promises.table.js'

export type PromiseRow = typeof promises.$inferSelect
export type PromiseEventRow = typeof promiseEvents.$inferSelect

const inWs = (workspaceId: string) => eq(promises.workspaceId, workspaceId)

export async function getPromise (tx: Executor, workspaceId: string, id: string, forUpdate = false): Promise<PromiseRow | undefined> {
  const q = tx.select().from(promises).where(and(inWs(workspaceId), eq(promises.id, id))).limit(1)
  const [row] = forUpdate ? await q.for('update') : await q
  return row
}

/**
 * Locks a promise for a change, taking its scheduler row first. The scheduler holds the deadline
 * rows it claimed while it locks their promises; taking the two in the same order here is what
 * keeps a request (keep, break, cancel, renegotiate) and the scheduler from deadlocking.
 */
export async function getPromiseForChange (tx: Executor, workspaceId: string, id: string): Promise<PromiseRow | undefined> {
  await tx.select({ promiseId: promiseDeadlines.promiseId }).from(promiseDeadlines)
    .where(and(eq(promiseDeadlines.workspaceId, workspaceId), eq(promiseDeadlines.promiseId, id))).for('update')
  return getPromise(tx, workspaceId, id, true)
}

export async function insertPromise (tx: Executor, row: typeof promises.$inferInsert): Promise<PromiseRow> {
  const [created] = await tx.insert(promises).values(row).returning()
  return created
}

const promiseFields = ['workspaceId', 'id', 'contactId', 'description', 'kind', 'promisor', 'promisorType', 'dueAt', 'originalDueAt',
  'madeInInteractionId', 'channelId', 'requiresEvidence', 'createdAt', 'updatedAt'] as const

/**
 * Many promises (an import batch), each only if its contact id is a live contact of the workspace:
 * the id goes through a scalar subquery, so a missing, deleted or merged one gives null and the
 * NOT NULL of contact_id fails the whole statement (isNotLiveContact). Rows in the order given.
 * One statement, the same text whatever the number of rows (jsonRows).
 */
export async function insertPromisesForLiveContacts (tx: Executor, workspaceId: string, rows: Array<typeof promises.$inferInsert>): Promise<PromiseRow[]> {
  if (rows.length === 0) return []
  const r = jsonRows(promises, promiseFields, rows)
  const liveContact = sql`(select c.id from contacts c where c.workspace_id = ${workspaceId} and c.id = ${r.field('contactId')} and c.deleted_at is null and c.merged_into is null)`
  const written = await tx.insert(promises)
    .select(sql`select ${r.allFields({ workspaceId: sql`${workspaceId}::text`, contactId: liveContact })} from ${r.from}`)
    .returning()
  const byId = new Map(written.map((w) => [w.id, w]))
  return rows.map((row) => byId.get(row.id!)!)
}

export async function updatePromise (tx: Executor, workspaceId: string, id: string, fields: Partial<typeof promises.$inferInsert>): Promise<PromiseRow> {
  const [row] = await tx.update(promises).set({ ...fields, version: sql`${promises.version} + 1`, updatedAt: databaseNow(promises.createdAt) })
    .where(and(inWs(workspaceId), eq(promises.id, id))).returning()
  return row
}

export async function appendEvent (tx: Executor, e: Omit<typeof promiseEvents.$inferInsert, 'seq' | 'txid'>): Promise<void> {
  await appendEvents(tx, [e])
}

const historyFields = ['workspaceId', 'promiseId', 'type', 'actor', 'interactionId', 'data', 'occurredAt'] as const

/** Histories of one workspace's promises, in one statement whatever their number (jsonRows). */
export async function appendEvents (tx: Executor, list: Array<Omit<typeof promiseEvents.$inferInsert, 'seq' | 'txid'>>): Promise<void> {
  if (list.length === 0) return
  const r = jsonRows(promiseEvents, historyFields, list.map((e) => ({ ...e, data: e.data ?? {} })))
  await tx.execute(sql`insert into ${promiseEvents} (${r.columns}) select ${r.fields} from ${r.from}`)
}

export async function scheduleCheck (tx: Executor, workspaceId: string, promiseId: string, nextAt: Date | null): Promise<void> {
  if (nextAt === null) {
    await tx.delete(promiseDeadlines).where(and(eq(promiseDeadlines.workspaceId, workspaceId), eq(promiseDeadlines.promiseId, promiseId)))
    return
  }
  await tx.insert(promiseDeadlines).values({ workspaceId, promiseId, nextAt })
    .onConflictDoUpdate({ target: [promiseDeadlines.workspaceId, promiseDeadlines.promiseId], set: { nextAt } })
}

/**
 * Closes promises (kept, kept late, broken, cancelled), each with its own status and keptAt and
 * evidence (null: unchanged), in one statement; the rows as written, in the order given.
 */
export async function closePromises (tx: Executor, workspaceId: string, changes: Array<{ id: string, status: PromiseRow['status'], keptAt: Date | null, evidence: string[] | null }>, closedAt: Date): Promise<PromiseRow[]> {
  const json = JSON.stringify(changes.map((c) => ({ id: c.id, status: c.status, kept_at: c.keptAt, evidence: c.evidence })))
  const written = await tx.update(promises).set({
    status: sql`v.status`,
    closedAt,
    keptAt: sql`coalesce(v.kept_at, ${promises.keptAt})`,
    keptByInteractionIds: sql`coalesce(v.evidence, ${promises.keptByInteractionIds})`,
    version: sql`${promises.version} + 1`,
    updatedAt: databaseNow(promises.createdAt)
  }).from(sql`jsonb_to_recordset(${json}::jsonb) as v(id text, status text, kept_at timestamptz, evidence text[])`)
    .where(and(inWs(workspaceId), sql`${promises.id} = v.id`)).returning(getTableColumns(promises))
  const byId = new Map(written.map((r) => [r.id, r as PromiseRow]))
  return changes.map((c) => byId.get(c.id)!)
}

/** Closed promises need no more checks. */
export async function unscheduleChecks (tx: Executor, workspaceId: string, promiseIds: string[]): Promise<void> {
  if (promiseIds.length === 0) return
  const r = jsonRows(promiseDeadlines, ['promiseId'], promiseIds.map((promiseId) => ({ promiseId })))
  await tx.execute(sql`delete from ${promiseDeadlines} d using ${r.from} where d.workspace_id = ${workspaceId} and d.promise_id = ${r.field('promiseId')}`)
}

/** First checks of one workspace's promises just made (no deadline row yet). */
export async function scheduleFirstChecks (tx: Executor, workspaceId: string, list: Array<{ promiseId: string, nextAt: Date }>): Promise<void> {
  if (list.length === 0) return
  const r = jsonRows(promiseDeadlines, ['promiseId', 'nextAt'], list)
  await tx.execute(sql`insert into ${promiseDeadlines} (workspace_id, ${r.columns}) select ${workspaceId}, ${r.fields} from ${r.from}`)
}

export interface PromiseFilter {
  status?: PromiseRow['status']
  contactId?: string
  promisor?: string
  kind?: string
  dueBefore?: Date
  dueAfter?: Date
  updatedSince?: Date
}

/** Keyset: ids below `beforeId` and above `newerThanId`, read from the newest end unless `oldestFirst`. */
export async function listPromises (tx: Executor, workspaceId: string, f: PromiseFilter & { beforeId?: string, newerThanId?: string, oldestFirst?: boolean }, limit: number) {
  const where = promiseConditions(workspaceId, f)
  if (f.beforeId) where.push(lt(promises.id, f.beforeId))
  if (f.newerThanId) where.push(gt(promises.id, f.newerThanId))
  return tx.select().from(promises).where(and(...where)).orderBy(f.oldestFirst ? asc(promises.id) : desc(promises.id)).limit(limit)
}

/** Promises per contact (optionally of one status), for many contacts in one statement. */
export async function countByContact (tx: Executor, workspaceId: string, contactIds: string[], status?: PromiseRow['status']): Promise<Array<{ contactId: string, n: number }>> {
  if (contactIds.length === 0) return []
  const where = [inWs(workspaceId), inArray(promises.contactId, contactIds), status ? eq(promises.status, status) : undefined]
  return tx.select({ contactId: promises.contactId, n: count() }).from(promises).where(and(...where)).groupBy(promises.contactId)
}

export async function countPromises (tx: Executor, workspaceId: string, f: PromiseFilter): Promise<number> {
  return tx.$count(promises, and(...promiseConditions(workspaceId, f)))
}

function promiseConditions (workspaceId: string, f: PromiseFilter): (SQL | undefined)[] {
  const where: (SQL | undefined)[] = [inWs(workspaceId)]
  if (f.status) where.push(eq(promises.status, f.status))
  if (f.contactId) where.push(eq(promises.contactId, f.contactId))
  if (f.promisor) where.push(eq(promises.promisor, f.promisor))
  if (f.kind) where.push(eq(promises.kind, f.kind))
  if (f.dueBefore) where.push(lt(promises.dueAt, f.dueBefore))
  if (f.dueAfter) where.push(gte(promises.dueAt, f.dueAfter))
  if (f.updatedSince) where.push(gte(promises.updatedAt, f.updatedSince))
  return where
}

export async function listEventsOf (tx: Executor, workspaceId: string, promiseId: string) {
  return tx.select().from(promiseEvents).where(and(eq(promiseEvents.workspaceId, workspaceId), eq(promiseEvents.promiseId, promiseId))).orderBy(asc(promiseEvents.seq))
}

/**
 * The event feed in commit-safe order: (txid, seq), only from transactions older than every
 * transaction still running, so an event can never appear behind a cursor already handed out.
 */
export type FeedKey = { x: string, s: number }
const feedAfter = (k: FeedKey) => or(gt(promiseEvents.txid, sql`${k.x}::xid8`), and(eq(promiseEvents.txid, sql`${k.x}::xid8`), gt(promiseEvents.seq, k.s)))
const feedBefore = (k: FeedKey) => or(lt(promiseEvents.txid, sql`${k.x}::xid8`), and(eq(promiseEvents.txid, sql`${k.x}::xid8`), lt(promiseEvents.seq, k.s)))
const feedVisible = (workspaceId: string) => [
  eq(promiseEvents.workspaceId, workspaceId),
  sql`${promiseEvents.txid} < pg_snapshot_xmin(pg_current_snapshot())`
]

/** Events strictly between two feed keys, read from the oldest (`lowFirst`) or the newest end. */
export async function listEventFeed (tx: Executor, workspaceId: string, range: { above?: FeedKey, below?: FeedKey, lowFirst: boolean }, limit: number) {
  const where: (SQL | undefined)[] = feedVisible(workspaceId)
  if (range.above) where.push(feedAfter(range.above))
  if (range.below) where.push(feedBefore(range.below))
  const order = range.lowFirst ? [asc(promiseEvents.txid), asc(promiseEvents.seq)] : [desc(promiseEvents.txid), desc(promiseEvents.seq)]
  return tx.select({ ev: promiseEvents, txidText: sql<string>`${promiseEvents.txid}::text` }).from(promiseEvents)
    .where(and(...where)).orderBy(...order).limit(limit)
}

export async function countEventFeed (tx: Executor, workspaceId: string): Promise<number> {
  return tx.$count(promiseEvents, and(...feedVisible(workspaceId)))
}

/** Events of many promises in one statement, each promise's in the order they happened. */
export async function listEventsOfMany (tx: Executor, workspaceId: string, promiseIds: string[]) {
  if (promiseIds.length === 0) return []
  return tx.select().from(promiseEvents).where(and(eq(promiseEvents.workspaceId, workspaceId), inArray(promiseEvents.promiseId, promiseIds))).orderBy(asc(promiseEvents.seq))
}

export async function movePromises (tx: Executor, workspaceId: string, fromContactId: string, toContactId: string, onlyIds?: string[]): Promise<string[]> {
  if (onlyIds && onlyIds.length === 0) return []
  const rows = await tx.update(promises).set({ contactId: toContactId })
    .where(and(inWs(workspaceId), eq(promises.contactId, fromContactId), onlyIds ? inArray(promises.id, onlyIds) : undefined))
    .returning({ id: promises.id })
  return rows.map((r) => r.id)
}

/** Claims due scheduler rows across workspaces (owner connection; see migration 0005). */
export async function claimDeadlines (tx: Executor, now: Date, limit: number) {
  return tx.select().from(promiseDeadlines).where(lte(promiseDeadlines.nextAt, now))
    .orderBy(asc(promiseDeadlines.nextAt)).limit(limit).for('update', { skipLocked: true })
}

export async function statsRows (tx: Executor, workspaceId: string, groupBy: string, from?: Date, to?: Date, contactId?: string) {
  const key = {
    none: sql`null::text`,
    contact: sql`${promises.contactId}`,
    promisor: sql`${promises.promisor}`,
    channel: sql`${promises.channelId}`,
    kind: sql`${promises.kind}`
  }[groupBy] ?? sql`null::text`
  const where: (SQL | undefined)[] = [inWs(workspaceId)]
  if (contactId) where.push(eq(promises.contactId, contactId))
  if (from) where.push(gte(promises.createdAt, from))
  if (to) where.push(lt(promises.createdAt, to))
  const count = (cond: SQL) => sql<number>`(count(*) filter (where ${cond}))::int`
  return tx.select({
    key: sql<string | null>`${key}`,
    made: sql<number>`count(*)::int`,
    kept: count(sql`${promises.status} = 'kept'`),
    keptLate: count(sql`${promises.status} = 'kept_late'`),
    broken: count(sql`${promises.status} = 'broken'`),
    open: count(sql`${promises.status} in ('open', 'at_risk')`),
    cancelled: count(sql`${promises.status} = 'cancelled'`),
    keptOnOriginalTerms: count(sql`${promises.status} in ('kept', 'kept_late') and ${promises.renegotiations} = 0`),
    keptAfterRenegotiation: count(sql`${promises.status} in ('kept', 'kept_late') and ${promises.renegotiations} > 0`),
    meanLatenessSeconds: sql<number | null>`(avg(extract(epoch from ${promises.keptAt} - ${promises.dueAt})) filter (where ${promises.status} = 'kept_late'))::float8`
  }).from(promises).where(and(...where)).groupBy(sql`1`).orderBy(sql`1`)
}

export interface DueKey { dueAt: Date, id: string }
const needsAttention = (workspaceId: string, now: Date) => and(inWs(workspaceId), or(eq(promises.status, 'at_risk'), and(eq(promises.status, 'open'), lte(promises.dueAt, now))))

/**
 * Live promises needing attention (at risk, or past due before the scheduler got to them), most
 * overdue first: keys strictly between `above` and `below` in (dueAt, id) order.
 */
export async function needingAttention (tx: Executor, workspaceId: string, now: Date, limit: number, range: { above?: DueKey, below?: DueKey, lowFirst: boolean } = { lowFirst: true }) {
  const where: (SQL | undefined)[] = [needsAttention(workspaceId, now)]
  if (range.above) where.push(or(gt(promises.dueAt, range.above.dueAt), and(eq(promises.dueAt, range.above.dueAt), gt(promises.id, range.above.id))))
  if (range.below) where.push(or(lt(promises.dueAt, range.below.dueAt), and(eq(promises.dueAt, range.below.dueAt), lt(promises.id, range.below.id))))
  const order = range.lowFirst ? [asc(promises.dueAt), asc(promises.id)] : [desc(promises.dueAt), desc(promises.id)]
  return tx.select().from(promises).where(and(...where)).orderBy(...order).limit(limit)
}

export async function countNeedingAttention (tx: Executor, workspaceId: string, now: Date): Promise<number> {
  return tx.$count(promises, needsAttention(workspaceId, now))
}

export async function promisesMadeIn (tx: Executor, workspaceId: string, interactionIds: string[]) {
  if (interactionIds.length === 0) return []
  return tx.select().from(promises).where(and(inWs(workspaceId), inArray(promises.madeInInteractionId, interactionIds))).orderBy(asc(promises.id))
}

/** The newest `limit` + 1 promises of each contact (optionally of one status), in one statement. */
export async function latestForContacts (tx: Executor, workspaceId: string, contactIds: string[], status: PromiseRow['status'] | undefined, limit: number) {
  if (contactIds.length === 0) return []
  const ids = sql.join(contactIds.map((id) => sql`${id}`), sql`, `)
  const statusFilter = status ? sql`and p.status = ${status}` : sql``
  return tx.select().from(promises).where(and(inWs(workspaceId), sql`${promises.id} in (
    select l.id from unnest(array[${ids}]::text[]) as c(contact_id)
    cross join lateral (select p.id from promises p where p.workspace_id = ${workspaceId} and p.contact_id = c.contact_id ${statusFilter}
      order by p.id desc limit ${limit + 1}) l)`)).orderBy(desc(promises.id))
}
