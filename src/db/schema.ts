// Every table, for drizzle-kit (migrations) and the typed query builder.
export * from '../modules/workspaces/workspaces.table.js'
export * from '../modules/contacts/contacts.table.js'
export * from '../modules/contacts/merges.table.js'
export * from '../modules/channels/channels.table.js'
export * from '../modules/identities/identities.table.js'
export * from '../modules/interactions/interactions.table.js'
export * from '../modules/promises/promises.table.js'
export * from '../modules/imports/imports.table.js'
