import { integer, text, timestamp } from 'drizzle-orm/pg-core'

// Every table carries the tenant, and every key includes it (see docs/architecture.md: Citus-ready).
export const workspaceId = () => text('workspace_id').notNull()

export const timestamps = () => ({
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
})

export const version = () => integer('version').notNull().default(1)

export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })
