import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm'
import type { Executor, Tx } from '../../db/client.js'
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

/** One committed transaction's events (the NOTIFY payload names it), in order. */
export async function listOfTransaction (tx: Executor, workspaceId: string, txid: string) {
  return tx.select(selection).from(events)
    .where(and(eq(events.workspaceId, workspaceId), eq(events.txid, sql`${txid}::xid8`)))
    .orderBy(asc(events.seq))
}

const insertOneText = 'insert into events (workspace_id, id, type, subject_id, data, occurred_at) values ($1, $2, $3, $4, $5::jsonb, $6::timestamptz)'

/**
 * One event sent without waiting for its answer, where the transaction allows it (sendAhead in
 * db/tenant.ts: it leaves with COMMIT, one round trip less per change); false where it does not.
 */
export function sendEventAhead (tx: Tx, row: NewEventRow): boolean {
  return sendAhead(tx, insertOneText, [row.workspaceId, row.id, row.type, row.subjectId, JSON.stringify(row.data), row.occurredAt.toISOString()])
}
