import { sql } from 'drizzle-orm'
import { integer, text, timestamp, type AnyPgColumn } from 'drizzle-orm/pg-core'

// Every table carries the tenant, and every key includes it (see docs/architecture.md: Citus-ready).
export const workspaceId = () => text('workspace_id').notNull()

export const timestamps = () => ({
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow()
})

export const version = () => integer('version').notNull().default(1)

export const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })

/**
 * The database's clock for a row's timestamp (transaction time, as column defaults use): every
 * `updatedAt` of an update that reads its row back takes it, so that rows stamped by any app
 * server agree with the database's own defaults and an `updatedSince` sync sees one clock. Never
 * before `notBefore` (the row's createdAt): a row created in the same transaction by the service
 * clock (moments after the transaction began) is not updated before it was created.
 */
export const databaseNow = (notBefore?: AnyPgColumn) => (notBefore ? sql<Date>`greatest(now(), ${notBefore})` : sql<Date>`now()`)
