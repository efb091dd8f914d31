import { sql } from 'drizzle-orm'
import { bigserial, boolean, customType, foreignKey, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { timestamps, tstz, version, workspaceId } from '../../db/columns.js'
import { contacts } from '../contacts/contacts.table.js'

export const promiseStatuses = ['open', 'at_risk', 'kept', 'kept_late', 'broken', 'cancelled'] as const
export const promisorTypes = ['member', 'team', 'contact'] as const
export const promiseEventTypes = ['made', 'at_risk', 'renegotiated', 'kept', 'kept_late', 'broken', 'cancelled'] as const

export const promises = pgTable('promises', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  contactId: text('contact_id').notNull(),
  /** Who gave it: a member (token subject), a named team, or the contact itself. */
  promisor: text('promisor').notNull(),
  promisorType: text('promisor_type', { enum: promisorTypes }).notNull(),
  description: text('description').notNull(),
  kind: text('kind'),
  dueAt: tstz('due_at').notNull(),
  originalDueAt: tstz('original_due_at').notNull(),
  madeInInteractionId: text('made_in_interaction_id'),
  /** Follows from the interaction it was made in; kept here so stats group without a join. */
  channelId: text('channel_id'),
  requiresEvidence: boolean('requires_evidence').notNull().default(false),
  status: text('status', { enum: promiseStatuses }).notNull().default('open'),
  keptAt: tstz('kept_at'),
  keptByInteractionIds: text('kept_by_interaction_ids').array().notNull().default(sql`'{}'::text[]`),
  renegotiations: integer('renegotiations').notNull().default(0),
  closedAt: tstz('closed_at'),
  ...timestamps(),
  version: version()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId, t.contactId], foreignColumns: [contacts.workspaceId, contacts.id] }).onDelete('cascade'),
  index('promises_contact_idx').on(t.workspaceId, t.contactId),
  index('promises_status_due_idx').on(t.workspaceId, t.status, t.dueAt)
])

// xid8 of the writing transaction: readers only take events of transactions that can no longer
// commit behind them (below the snapshot's xmin), so a cursor never skips a late commit.
const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' })

/** Append-only history of every promise: analytics read it incrementally from a cursor. */
export const promiseEvents = pgTable('promise_events', {
  workspaceId: workspaceId(),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  txid: xid8('txid').notNull().default(sql`pg_current_xact_id()`),
  promiseId: text('promise_id').notNull(),
  type: text('type', { enum: promiseEventTypes }).notNull(),
  actor: text('actor').notNull(),
  interactionId: text('interaction_id'),
  data: jsonb('data').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  occurredAt: tstz('occurred_at').notNull()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.seq] }),
  index('promise_events_promise_idx').on(t.workspaceId, t.promiseId, t.seq),
  index('promise_events_feed_idx').on(t.workspaceId, t.txid, t.seq)
])

/**
 * The scheduler's queue: when each open promise next needs a look (at-risk warning, then due).
 * Not FORCEd under RLS, like the other queues, so the scheduler can claim due rows across
 * workspaces and then act inside the promise's own workspace.
 */
export const promiseDeadlines = pgTable('promise_deadlines', {
  workspaceId: workspaceId(),
  promiseId: text('promise_id').notNull(),
  nextAt: tstz('next_at').notNull()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.promiseId] }),
  index('promise_deadlines_next_idx').on(t.nextAt)
])

export const promiseSuggestions = pgTable('promise_suggestions', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  contactId: text('contact_id').notNull(),
  interactionId: text('interaction_id').notNull(),
  description: text('description').notNull(),
  kind: text('kind').notNull(),
  dueAt: tstz('due_at').notNull(),
  dueText: text('due_text').notNull(),
  status: text('status', { enum: ['pending', 'accepted', 'dismissed'] }).notNull().default('pending'),
  promiseId: text('promise_id'),
  ...timestamps()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId, t.contactId], foreignColumns: [contacts.workspaceId, contacts.id] }).onDelete('cascade'),
  index('promise_suggestions_status_idx').on(t.workspaceId, t.status)
])
