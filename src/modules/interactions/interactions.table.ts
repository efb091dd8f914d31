import { sql } from 'drizzle-orm'
import { customType, foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { timestamps, tstz, workspaceId } from '../../db/columns.js'
import { contacts } from '../contacts/contacts.table.js'

export const interactionKinds = ['message', 'email', 'sms', 'call', 'meeting', 'note', 'mail', 'post', 'mention'] as const
export const directions = ['inbound', 'outbound'] as const
export const deliveryStatuses = ['queued', 'sent', 'delivered', 'read', 'failed'] as const

export const interactions = pgTable('interactions', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  contactId: text('contact_id').notNull(),
  channelId: text('channel_id'),
  direction: text('direction', { enum: directions }).notNull(),
  kind: text('kind', { enum: interactionKinds }).notNull(),
  subject: text('subject'),
  body: text('body'),
  threadId: text('thread_id'),
  providerMessageId: text('provider_message_id'),
  status: text('status', { enum: deliveryStatuses }),
  statusReason: text('status_reason'),
  occurredAt: tstz('occurred_at').notNull(),
  authorId: text('author_id'),
  /** Who (which identity address) the message came from or went to. */
  counterpart: text('counterpart'),
  attachments: jsonb('attachments').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
  raw: jsonb('raw'),
  /**
   * When the contact last edited this inbound message, by the provider's clock (null: never). An
   * edit older than this one is stale (providers deliver out of order) and a redelivered one is
   * not newer: neither changes the row.
   */
  editedAt: tstz('edited_at'),
  ...timestamps()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId, t.contactId], foreignColumns: [contacts.workspaceId, contacts.id] }).onDelete('cascade'),
  // A provider's retry of one message never becomes a second interaction.
  uniqueIndex('interactions_provider_message_key').on(t.workspaceId, t.channelId, t.providerMessageId).where(sql`provider_message_id is not null`),
  index('interactions_contact_time_idx').on(t.workspaceId, t.contactId, t.occurredAt.desc(), t.id.desc()),
  index('interactions_time_idx').on(t.workspaceId, t.occurredAt.desc(), t.id.desc())
])

const bytea = customType<{ data: Buffer, driverData: Buffer }>({ dataType: () => 'bytea' })

/** Verified provider requests, stored before the 2xx and processed after: none is lost. */
export const inboundInbox = pgTable('inbound_inbox', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  channelId: text('channel_id').notNull(),
  request: jsonb('request').$type<{ method: string, url: string, headers: Record<string, string>, query: Record<string, string> }>().notNull(),
  rawBody: bytea('raw_body').notNull(),
  status: text('status', { enum: ['pending', 'processed', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  error: text('error'),
  receivedAt: tstz('received_at').notNull().defaultNow(),
  /** When a pending row is due: its arrival, then later after each try, from its claim on (backoff). */
  nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
  /**
   * When the try under way was claimed; null once it finished (whatever its outcome). Still set on
   * a claimable row, it means that row's last try died with its process or connection.
   */
  claimedAt: tstz('claimed_at'),
  processedAt: tstz('processed_at')
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  // The worker's claim: pending rows due now, earliest first (an index range scan; see claimInbox).
  index('inbound_inbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`)
])

/** Outbound work (sends, later webhook deliveries), written with the change that caused it. */
export const outbox = pgTable('outbox', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  topic: text('topic').notNull(),
  /** Stable across retries: providers deduplicate on it. */
  idempotencyKey: text('idempotency_key').notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
  status: text('status', { enum: ['pending', 'done', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: tstz('next_attempt_at').notNull().defaultNow(),
  lastError: text('last_error'),
  ...timestamps()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  index('outbox_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`)
])

export const outboxAttempts = pgTable('outbox_attempts', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  outboxId: text('outbox_id').notNull(),
  attempt: integer('attempt').notNull(),
  startedAt: tstz('started_at').notNull(),
  finishedAt: tstz('finished_at').notNull(),
  outcome: text('outcome', { enum: ['ok', 'retry', 'failed'] }).notNull(),
  error: text('error'),
  result: jsonb('result')
}, (t) => [primaryKey({ columns: [t.workspaceId, t.id] })])
