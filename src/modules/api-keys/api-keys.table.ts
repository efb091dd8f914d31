import { foreignKey, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { tstz, version, workspaceId } from '../../db/columns.js'
import { workspaces } from '../workspaces/workspaces.table.js'

/**
 * Workspace API keys. The secret itself is never stored: only its SHA-256 (the secret has 256 bits
 * of entropy, so a fast hash is safe here, unlike for passwords). Authentication looks a key up by
 * that hash before any workspace is known, which is why RLS on this table is ENABLEd but not
 * FORCEd (see the migration): the owner connection reads across workspaces for that one lookup.
 */
export const apiKeys = pgTable('api_keys', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  name: text('name').notNull(),
  /** The first characters of the secret, shown in lists so people can tell keys apart. */
  prefix: text('prefix').notNull(),
  secretHash: text('secret_hash').notNull(),
  scopes: text('scopes').array().notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  updatedAt: tstz('updated_at').notNull().defaultNow(),
  lastUsedAt: tstz('last_used_at'),
  expiresAt: tstz('expires_at'),
  revokedAt: tstz('revoked_at'),
  version: version()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  uniqueIndex('api_keys_secret_hash').on(t.secretHash),
  uniqueIndex('api_keys_id').on(t.id),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade')
])

