import { foreignKey, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core'
import { tstz, workspaceId } from '../../db/columns.js'
import { workspaces } from '../workspaces/workspaces.table.js'

/** A merge records exactly what moved, so that it can be undone. */
export const contactMerges = pgTable('contact_merges', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  survivorId: text('survivor_id').notNull(),
  mergedId: text('merged_id').notNull(),
  moved: jsonb('moved').$type<{ identities: string[], interactions: string[], promises: string[] }>().notNull(),
  actor: text('actor').notNull(),
  mergedAt: tstz('merged_at').notNull().defaultNow(),
  undoneAt: tstz('undone_at')
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade')
])
