import { sql } from 'drizzle-orm'
import { foreignKey, index, jsonb, pgTable, primaryKey, text, uniqueIndex, boolean } from 'drizzle-orm/pg-core'
import { timestamps, tstz, version, workspaceId } from '../../db/columns.js'
import { workspaces } from '../workspaces/workspaces.table.js'

export interface EmailEntry { address: string, primary: boolean }

export const contacts = pgTable('contacts', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  displayName: text('display_name').notNull(),
  givenName: text('given_name'),
  familyName: text('family_name'),
  emails: jsonb('emails').$type<EmailEntry[]>().notNull().default(sql`'[]'::jsonb`),
  phones: text('phones').array().notNull().default(sql`'{}'::text[]`),
  company: text('company'),
  title: text('title'),
  tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
  attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  externalId: text('external_id'),
  /** Set when merged into another contact: this id then resolves to that survivor. */
  mergedInto: text('merged_into'),
  ...timestamps(),
  deletedAt: tstz('deleted_at'),
  version: version()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  foreignKey({ columns: [t.workspaceId], foreignColumns: [workspaces.id] }).onDelete('cascade'),
  uniqueIndex('contacts_external_id_key').on(t.workspaceId, t.externalId).where(sql`deleted_at is null and external_id is not null`),
  index('contacts_tags_idx').using('gin', t.tags),
  index('contacts_updated_at_idx').on(t.workspaceId, t.updatedAt)
])

// The uniqueness index for e-mail addresses across a workspace's live contacts: an array column
// cannot carry a unique constraint, this table can (and later serves identity matching).
export const contactEmails = pgTable('contact_emails', {
  workspaceId: workspaceId(),
  email: text('email').notNull(),
  contactId: text('contact_id').notNull(),
  primary: boolean('is_primary').notNull().default(false)
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.email] }),
  foreignKey({ columns: [t.workspaceId, t.contactId], foreignColumns: [contacts.workspaceId, contacts.id] }).onDelete('cascade'),
  index('contact_emails_contact_idx').on(t.workspaceId, t.contactId)
])
