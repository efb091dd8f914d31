// Every table, for drizzle-kit (migrations) and the typed query builder.
export * from '../modules/workspaces/workspaces.table.js'
export * from '../modules/contacts/contacts.table.js'
