import { sql } from 'drizzle-orm'
import { foreignKey, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { timestamps, tstz, version, workspaceId } from '../../db/columns.js'
import { workspaces } from '../workspaces/workspaces.table.js'

export const channels = pgTable('channels', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  kind: text('kind').notNull(),
  name: text('name').notNull(),
  status: text('status', { enum: ['active', 'paused'] }).notNull().default('active'),
  /** The adapter config without its secrets. */
  config: jsonb('config').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  /** The secret fields, AES-256-GCM encrypted with SECRETS_KEY; never returned by a read. */
  secrets: text('secrets'),
  ...timestamps(),
  deletedAt: tstz('deleted_at'),
  version: version()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade')
])

/**
 * Provider webhooks arrive with no token, only a channel id in the URL. This table (no RLS:
 * it holds nothing but the id pair) tells which workspace to open before the adapter verifies.
 */
export const inboundRoutes = pgTable('inbound_routes', {
  channelId: text('channel_id').primaryKey(),
  workspaceId: workspaceId()
})
