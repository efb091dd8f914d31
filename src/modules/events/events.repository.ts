import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
import { rowsOf, textList } from '../../db/key-lists.js'
import { preparedInsert } from '../../db/prepared.js'
import { sendAhead } from '../../db/tenant.js'
import { events } from './events.table.js'

export type EventRow = typeof events.$inferSelect
export type NewEventRow = Omit<typeof events.$inferInsert, 'seq' | 'txid'>
/** A position in the log: the writing transaction's xid8 (as text) and the row's seq. */
export interface LogPosition { x: string, s: number }

/**
 * One event is a plain insert; many (a batch upsert, an import batch: thousands) travel as one JSON
 * parameter unpacked by jsonb_to_recordset (read in array order): one short statement to build and plan
 * instead of one parameter per value.
 */
const insertOne = preparedInsert('events_insert', (ex, values) => ex.insert(events).values(values as NewEventRow))

export async function insertEvents (tx: Executor, rows: NewEventRow[]): Promise<void> {
  if (rows.length === 0) return
  if (rows.length === 1) return void await insertOne(tx, rows[0])
  const json = JSON.stringify(rows.map((r) => ({ workspace_id: r.workspaceId, id: r.id, type: r.type, subject_id: r.subjectId, data: r.data, occurred_at: r.occurredAt })))
  await tx.execute(sql`insert into events (workspace_id, id, type, subject_id, data, occurred_at)
    select r.workspace_id, r.id, r.type, r.subject_id, r.data, r.occurred_at
    from jsonb_to_recordset(${json}::jsonb) as r(workspace_id text, id text, type text, subject_id text, data jsonb, occurred_at timestamptz)`)
}

const selection = { ev: events, txid: sql<string>`${events.txid}::text` }

// A row comparison, not `txid > x or (txid = x and seq > s)`: PostgreSQL seeks the (txid, seq)
// indexes to it, where the OR form was only a filter and every read scanned the log from its start
// (the webhook fan-out's step took 50 ms at 100,000 events, quadratic over an import).
function after (p: LogPosition | undefined): SQL | undefined {
  if (!p) return undefined
  return sql`(${events.txid}, ${events.seq}) > (${p.x}::xid8, ${p.s}::bigint)`
}

// Events of transactions that may still commit below this snapshot's xmin are left for later.
const committedBelowXmin = sql`${events.txid} < pg_snapshot_xmin(pg_current_snapshot())`

/**
 * Events after a position in commit-safe order. With a workspace id, that workspace only;
 * without, every workspace (owner connection only: see migration 0010 and docs/event-log.md).
 */
export async function listAfter (tx: Executor, q: { workspaceId?: string, after?: LogPosition, types?: string[], limit: number }) {
  return tx.select(selection).from(events)
    .where(and(q.workspaceId ? eq(events.workspaceId, q.workspaceId) : undefined, committedBelowXmin, after(q.after),
      q.types?.length ? inArray(events.type, q.types) : undefined))
    .orderBy(asc(events.txid), asc(events.seq)).limit(q.limit)
}

/** A row of `newSince`: the statement's snapshot, and an event (absent when there is none). */
export interface NewSinceRow {
  snapshot: string
  id: string | null, workspace_id: string | null, type: string | null, subject_id: string | null, data: string | null, occurred_at: string | null, seq: string | null, txid: string | null
}

/**
 * The events of some workspaces written by the transactions that `since` (a pg_snapshot, as text)
 * did not see and that have committed now (or, given `upTo`, had committed by that later snapshot:
 * the pages of one read that the limit cut), in (txid, seq) order after `cursor`, with the
 * snapshot this statement saw them in. Snapshot and rows come from one statement, so the next read
 * asks for what this one could not see, exactly: nothing is read twice or skipped, whatever order
 * transactions commit in. For live delivery (events.relay.ts), as the owner: one statement for every
 * workspace with subscribers. The range starts at the snapshot's xmin on the (txid, seq) index
 * (events_global_idx; events_feed_idx for a single workspace); a long transaction elsewhere in the
 * cluster widens the range scanned, not the result.
 */
export async function listNewSince (ex: Executor, workspaceIds: string[], since: string, upTo: string | undefined, cursor: LogPosition | undefined, limit: number): Promise<NewSinceRow[]> {
  const result = await ex.execute(sql`select s.snap::text as snapshot, e.id, e.workspace_id, e.type, e.subject_id, e.data::text as data,
      to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at, e.seq::text as seq, e.txid::text as txid
    from (select pg_current_snapshot() as snap) s
    left join lateral (
      select * from ${events} x
      where x.workspace_id = any(${textList(workspaceIds)}) and x.txid >= pg_snapshot_xmin(${since}::pg_snapshot)
        and not pg_visible_in_snapshot(x.txid, ${since}::pg_snapshot)
        ${upTo ? sql`and pg_visible_in_snapshot(x.txid, ${upTo}::pg_snapshot)` : sql``}
        ${cursor ? sql`and (x.txid, x.seq) > (${cursor.x}::xid8, ${cursor.s}::bigint)` : sql``}
      order by x.txid, x.seq limit ${limit}) e on true`)
  return rowsOf<NewSinceRow>(result)
}

/** The current snapshot, as text: live delivery starts with what it does not see. */
export async function currentSnapshot (tx: Executor): Promise<string> {
  const result = await tx.execute(sql`select pg_current_snapshot()::text as snapshot`)
  const [row] = rowsOf<{ snapshot: string }>(result)
  return row.snapshot
}

const insertOneText = 'insert into events (workspace_id, id, type, subject_id, data, occurred_at) values ($1, $2, $3, $4, $5::jsonb, $6::timestamptz)'

/**
 * One event sent without waiting for its answer, where the transaction allows it (sendAhead in
 * db/tenant.ts: it leaves with COMMIT, one round trip less per change); false where it does not.
 */
export function sendEventAhead (tx: Tx, row: NewEventRow): boolean {
  return sendAhead(tx, insertOneText, [row.workspaceId, row.id, row.type, row.subjectId, JSON.stringify(row.data), row.occurredAt.toISOString()])
}
