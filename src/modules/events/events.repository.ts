import { and, asc, eq, gt, inArray, or, sql, type SQL } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { events } from './events.table.js'

export type EventRow = typeof events.$inferSelect
export type NewEventRow = Omit<typeof events.$inferInsert, 'seq' | 'txid'>
/** A position in the log: the writing transaction's xid8 (as text) and the row's seq. */
export interface LogPosition { x: string, s: number }

export async function insertEvents (tx: Executor, rows: NewEventRow[]): Promise<void> {
  if (rows.length) await tx.insert(events).values(rows)
}

const selection = { ev: events, txid: sql<string>`${events.txid}::text` }

function after (p: LogPosition | undefined): SQL | undefined {
  if (!p) return undefined
  return or(gt(events.txid, sql`${p.x}::xid8`), and(eq(events.txid, sql`${p.x}::xid8`), gt(events.seq, p.s)))
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
