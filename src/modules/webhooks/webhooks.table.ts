import { sql } from 'drizzle-orm'
import { foreignKey, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { timestamps, tstz, version, workspaceId } from '../../db/columns.js'
import { workspaces } from '../workspaces/workspaces.table.js'

/** A partner's receiver: which event types it wants, and the secret its deliveries are signed with. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  url: text('url').notNull(),
  description: text('description'),
  /** Event types (`contact.created`, ...) or `*` for all of them. */
  eventTypes: jsonb('event_types').$type<string[]>().notNull(),
  status: text('status', { enum: ['enabled', 'disabled'] }).notNull().default('enabled'),
  disabledReason: text('disabled_reason'),
  /** `whsec_…` signing secret, AES-256-GCM sealed with SECRETS_KEY (shown once, never read back). */
  secret: text('secret').notNull(),
  /**
   * The secret a rotation replaced, sealed like `secret` (copied as sealed, never opened to be
   * shown): deliveries are signed with both until `previousSecretExpiresAt`, so a receiver
   * deploys the new secret without rejecting anything meanwhile. Only the last one is kept.
   */
  previousSecret: text('previous_secret'),
  previousSecretExpiresAt: tstz('previous_secret_expires_at'),
  ...timestamps(),
  version: version()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade')
])

/**
 * The webhook outbox: one row per (endpoint, event), written by the fan-out worker in the
 * transaction that advances its cursor, claimed by the delivery worker with SKIP LOCKED.
 */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  endpointId: text('endpoint_id').notNull(),
  /** The event id: the `webhook-id` header, the same on every attempt so receivers can deduplicate. */
  eventId: text('event_id').notNull(),
  eventType: text('event_type').notNull(),
  /** The exact `{type, timestamp, data}` body, fixed at fan-out so every attempt signs the same bytes. */
  payload: text('payload').notNull(),
  status: text('status', { enum: ['pending', 'succeeded', 'failed', 'cancelled'] }).notNull().default('pending'),
  /** Attempts in the current round (a redelivery starts a new round). */
  attempts: integer('attempts').notNull().default(0),
  totalAttempts: integer('total_attempts').notNull().default(0),
  nextAttemptAt: tstz('next_attempt_at'),
  lastAttemptAt: tstz('last_attempt_at'),
  lastStatusCode: integer('last_status_code'),
  lastLatencyMs: integer('last_latency_ms'),
  lastError: text('last_error'),
  ...timestamps()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  // A fan-out that runs twice over one event inserts nothing the second time.
  uniqueIndex('webhook_deliveries_event_idx').on(t.workspaceId, t.endpointId, t.eventId),
  index('webhook_deliveries_endpoint_idx').on(t.workspaceId, t.endpointId, t.id),
  index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`status = 'pending'`),
  // Retention finds finished deliveries by age without reading the pending ones.
  index('webhook_deliveries_finished_idx').on(t.updatedAt).where(sql`status <> 'pending'`),
  foreignKey({ columns: [t.workspaceId, t.endpointId], foreignColumns: [webhookEndpoints.workspaceId, webhookEndpoints.id] }).onDelete('cascade')
])

/**
 * One row per attempt of a delivery, written in the transaction that records the attempt's
 * outcome on the delivery (so neither exists without the other). Tenant data: RLS forced.
 */
export const webhookDeliveryAttempts = pgTable('webhook_delivery_attempts', {
  workspaceId: workspaceId(),
  deliveryId: text('delivery_id').notNull(),
  /** The delivery's totalAttempts when it was claimed: 1, 2, ... across redeliveries. */
  attempt: integer('attempt').notNull(),
  startedAt: tstz('started_at').notNull(),
  durationMs: integer('duration_ms').notNull(),
  outcome: text('outcome', { enum: ['succeeded', 'retry_scheduled', 'failed'] }).notNull(),
  statusCode: integer('status_code'),
  errorKind: text('error_kind', { enum: ['http_status', 'timeout', 'network', 'refused'] }),
  error: text('error'),
  nextAttemptAt: tstz('next_attempt_at')
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.deliveryId, t.attempt] }),
  foreignKey({ columns: [t.workspaceId, t.deliveryId], foreignColumns: [webhookDeliveries.workspaceId, webhookDeliveries.id] }).onDelete('cascade')
])

/** Where a cross-workspace reader of the event log stands: one row per consumer (no tenant: it spans them all). */
export const eventConsumers = pgTable('event_consumers', {
  name: text('name').primaryKey(),
  position: text('position'),
  ...timestamps()
})
