import type { Database } from '../../src/db/client.js'

/**
 * Closes the database under a running app to simulate an outage. helper.ts closes it again at
 * teardown and PGlite throws on a second close, so later calls become no-ops.
 */
export async function closeDatabase (database: Database): Promise<void> {
  await database.close()
  database.close = async () => {}
}
