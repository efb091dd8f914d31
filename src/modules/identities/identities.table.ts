import { foreignKey, index, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { timestamps, tstz, workspaceId } from '../../db/columns.js'
import { contacts } from '../contacts/contacts.table.js'

/** A (kind, address) a contact is reached at: 'email', 'phone', or an adapter's own handle kind. */
export const contactIdentities = pgTable('contact_identities', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  contactId: text('contact_id').notNull(),
  kind: text('kind').notNull(),
  address: text('address').notNull(),
  firstSeenAt: tstz('first_seen_at'),
  lastSeenAt: tstz('last_seen_at'),
  ...timestamps()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  uniqueIndex('contact_identities_address_key').on(t.workspaceId, t.kind, t.address),
  index('contact_identities_contact_idx').on(t.workspaceId, t.contactId),
  foreignKey({ columns: [t.workspaceId, t.contactId], foreignColumns: [contacts.workspaceId, contacts.id] }).onDelete('cascade')
])
