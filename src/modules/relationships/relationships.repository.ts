import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'

type Rows<T> = T[] | { rows: T[] }
const rowsOf = <T>(r: Rows<T>): T[] => Array.isArray(r) ? r : r.rows

export interface ExchangeFacts {
  inbound: number
  outbound: number
  last_at: Date | string | null
  last_inbound_at: Date | string | null
  last_outbound_at: Date | string | null
  last_30d: number
  last_90d: number
  first_at: Date | string | null
  median_reply_s: number | null
  unanswered: number
  oldest_unanswered_at: Date | string | null
}

/**
 * One pass over a contact's log: volumes both ways, recency, frequency, and for every inbound
 * message the first outbound after it (the reply), from which the median reply time and the
 * unanswered count follow. Notes and other internal kinds do not count as talking.
 */
export async function exchangeFacts (tx: Executor, workspaceId: string, contactId: string, now: Date): Promise<ExchangeFacts> {
  const result = await tx.execute(sql`
    with log as (
      select direction, occurred_at from interactions
      where workspace_id = ${workspaceId} and contact_id = ${contactId} and kind <> 'note'
    ), replies as (
      select i.occurred_at, (
        select min(o.occurred_at) from interactions o
        where o.workspace_id = ${workspaceId} and o.contact_id = ${contactId} and o.direction = 'outbound'
          and o.kind <> 'note' and o.occurred_at > i.occurred_at
      ) as replied_at
      from log i where i.direction = 'inbound'
    )
    select
      (select count(*) from log where direction = 'inbound')::int as inbound,
      (select count(*) from log where direction = 'outbound')::int as outbound,
      (select max(occurred_at) from log) as last_at,
      (select min(occurred_at) from log) as first_at,
      (select max(occurred_at) from log where direction = 'inbound') as last_inbound_at,
      (select max(occurred_at) from log where direction = 'outbound') as last_outbound_at,
      (select count(*) from log where occurred_at > ${now.toISOString()}::timestamptz - interval '30 days')::int as last_30d,
      (select count(*) from log where occurred_at > ${now.toISOString()}::timestamptz - interval '90 days')::int as last_90d,
      (select percentile_cont(0.5) within group (order by extract(epoch from replied_at - occurred_at)) from replies where replied_at is not null)::float8 as median_reply_s,
      (select count(*) from replies where replied_at is null)::int as unanswered,
      (select min(occurred_at) from replies where replied_at is null) as oldest_unanswered_at`)
  return rowsOf(result as unknown as Rows<ExchangeFacts>)[0]
}

export interface UnansweredRow { id: string, contact_id: string, occurred_at: Date | string }

export interface WaitingKey { occurredAt: Date, id: string }

const unanswered = (workspaceId: string, before: Date) => sql`
    from interactions i
    where i.workspace_id = ${workspaceId} and i.direction = 'inbound' and i.kind <> 'note'
      and i.occurred_at < ${before.toISOString()}::timestamptz
      and not exists (select 1 from interactions o where o.workspace_id = i.workspace_id and o.contact_id = i.contact_id
        and o.direction = 'outbound' and o.kind <> 'note' and o.occurred_at > i.occurred_at)`

/**
 * Inbound messages with no outbound after them, older than `before` (the attention queue), the
 * longest waiting first: keys strictly between `above` and `below` in (occurred_at, id) order.
 */
export async function unansweredBefore (tx: Executor, workspaceId: string, before: Date, limit: number, range: { above?: WaitingKey, below?: WaitingKey, lowFirst: boolean } = { lowFirst: true }): Promise<UnansweredRow[]> {
  const key = (k: WaitingKey) => sql`(${k.occurredAt.toISOString()}::timestamptz, ${k.id}::text)`
  const above = range.above ? sql` and (i.occurred_at, i.id) > ${key(range.above)}` : sql``
  const below = range.below ? sql` and (i.occurred_at, i.id) < ${key(range.below)}` : sql``
  const order = range.lowFirst ? sql`i.occurred_at asc, i.id asc` : sql`i.occurred_at desc, i.id desc`
  const result = await tx.execute(sql`select i.id, i.contact_id, i.occurred_at ${unanswered(workspaceId, before)}${above}${below} order by ${order} limit ${limit}`)
  return rowsOf(result as unknown as Rows<UnansweredRow>)
}

export async function countUnanswered (tx: Executor, workspaceId: string, before: Date): Promise<number> {
  const result = await tx.execute(sql`select count(*)::int as n ${unanswered(workspaceId, before)}`)
  return rowsOf(result as unknown as Rows<{ n: number }>)[0].n
}
