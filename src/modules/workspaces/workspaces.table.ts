import { pgTable, text } from 'drizzle-orm/pg-core'
import { timestamps } from '../../db/columns.js'

// A workspace is a tenant. Its id is the slug that tokens carry, so a token can be minted without
// a database round trip (`npm run token` works while the embedded server holds the data dir).
export const workspaces = pgTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** IANA zone for reading dates in what people write ("by Friday"). */
  timeZone: text('time_zone').notNull().default('UTC'),
  ...timestamps()
})
