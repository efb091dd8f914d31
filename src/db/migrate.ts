import { fileURLToPath } from 'node:url'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator'
import type { Database } from './client.js'

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url))

/** Applies every pending migration in order; safe to call at each start. */
export async function runMigrations (database: Database): Promise<void> {
  const config = { migrationsFolder }
  if (database.kind === 'pglite') await migratePglite(database.db as never, config)
  else await migratePostgres(database.db as never, config)
}
