import type { Executor, Tx } from '../../db/client.js'
import { decodeCursor, encodeCursor } from '../../lib/cursor.js'
import { DomainError } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { EventType } from './event-types.js'
import * as repo from './events.repository.js'

/** What a service records about a change, inside the change's own transaction. */
export interface NewEvent {
  workspaceId: string
  type: EventType
  subjectId: string
  /** The public REST representation of the subject after the change. */
  data: object
  /** From the service's injectable clock. */
  occurredAt: Date
}

/** An event as readers (feed, subscriptions, webhooks) see it. */
export interface LoggedEvent {
  id: string
  workspaceId: string
  type: EventType
  subjectId: string
  data: Record<string, unknown>
  occurredAt: string
  /** Opaque cursor of this event: resume a read after it. */
  position: string
}

/** Appends events in the caller's transaction: they commit, or vanish, with the change. */
export async function appendEvents (tx: Tx, list: NewEvent[]): Promise<void> {
  const rows = list.map((e) => ({
    workspaceId: e.workspaceId, id: newId('event'), type: e.type, subjectId: e.subjectId, data: e.data as Record<string, unknown>, occurredAt: e.occurredAt
  }))
  // Nobody reads an append's answer: one event (a single change) rides with what follows.
  if (rows.length === 1 && repo.sendEventAhead(tx, rows[0])) return
  await repo.insertEvents(tx, rows)
}

export const appendEvent = (tx: Tx, e: NewEvent) => appendEvents(tx, [e])

export function toLoggedEvent (r: { ev: repo.EventRow, txid: string }): LoggedEvent {
  return {
    id: r.ev.id, workspaceId: r.ev.workspaceId, type: r.ev.type as EventType, subjectId: r.ev.subjectId, data: r.ev.data,
    occurredAt: r.ev.occurredAt.toISOString(), position: encodeCursor({ x: r.txid, s: r.ev.seq })
  }
}

/** Decodes a position; only positions this log could have issued (xid8, non-negative seq). */
export function decodePosition (cursor: string): repo.LogPosition {
  const p = decodeCursor<{ x: string, s: number }>(cursor, ['x', 's'])
  if (!/^\d{1,20}$/.test(p.x) || BigInt(p.x) > 0xffffffffffffffffn || !Number.isSafeInteger(p.s) || p.s < 0) throw new DomainError('request.invalid_cursor')
  return { x: p.x, s: p.s }
}

export interface ListEventsQuery {
  /** One workspace (inside its transaction), or omitted: every workspace (owner connection only). */
  workspaceId?: string
  after?: string
  types?: readonly string[]
  limit: number
}

/**
 * Events after a cursor, in an order that never skips one: an event appears only once no
 * transaction that could commit before it is still running. `nextCursor` always advances to the
 * last event returned (or stays at `after`), so a poller keeps calling with it.
 */
export async function listEvents (tx: Executor, q: ListEventsQuery): Promise<{ items: LoggedEvent[], nextCursor: string | null }> {
  const rows = await repo.listAfter(tx, { workspaceId: q.workspaceId, after: q.after ? decodePosition(q.after) : undefined, types: q.types ? [...q.types] : undefined, limit: q.limit })
  const items = rows.map(toLoggedEvent)
  return { items, nextCursor: items.length ? items[items.length - 1].position : (q.after ?? null) }
}

/**
 * The events of some workspaces committed since `since` (a snapshot) and, when given, by `upTo`,
 * after `cursor`; with the snapshot of this read and whether `limit` cut the list short (then read
 * the rest up to this read's snapshot, from the last event's cursor, before moving on). For live
 * delivery, as the owner (every workspace's rows).
 */
export async function eventsCommittedSince (ex: Executor, workspaceIds: string[], range: { since: string, upTo?: string, cursor?: repo.LogPosition }, limit: number): Promise<{ snapshot: string, events: Array<{ event: LoggedEvent, at: repo.LogPosition, txid: string }>, more: boolean }> {
  const rows = await repo.listNewSince(ex, workspaceIds, range.since, range.upTo, range.cursor, limit)
  const events = rows.filter((r) => r.id !== null).map((r) => {
    const at = { x: r.txid!, s: Number(r.seq) }
    return {
      at,
      txid: r.txid!,
      event: { id: r.id!, workspaceId: r.workspace_id!, type: r.type as EventType, subjectId: r.subject_id!, data: JSON.parse(r.data!), occurredAt: r.occurred_at!, position: encodeCursor(at) }
    }
  })
  return { snapshot: rows[0].snapshot, events, more: events.length === limit }
}

export const currentSnapshot = repo.currentSnapshot
