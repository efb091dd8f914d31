import { foreignKey, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { tstz, workspaceId } from '../db/columns.js'
import { workspaces } from '../modules/workspaces/workspaces.table.js'

/**
 * One row per Idempotency-Key a workspace sent with a POST. The primary key is what makes the key
 * hold across processes: two servers racing on the same key, only one insert wins.
 */
export const idempotencyKeys = pgTable('idempotency_keys', {
  workspaceId: workspaceId(),
  key: text('key').notNull(),
  /** SHA-256 of method, path and body: the same key with another request is refused (422). */
  fingerprint: text('fingerprint').notNull(),
  status: text('status', { enum: ['running', 'done'] }).notNull(),
  responseStatus: integer('response_status'),
  responseHeaders: jsonb('response_headers').$type<Record<string, string>>(),
  responseBody: text('response_body'),
  /** When the running request claimed the key; a claim older than the lease is abandoned (crash). */
  lockedAt: tstz('locked_at').notNull(),
  expiresAt: tstz('expires_at').notNull()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.key] }),
  index('idempotency_keys_expiry').on(t.workspaceId, t.expiresAt),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade')
])
