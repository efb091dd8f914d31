// Applies pending migrations and exits: npm run migrate (the server also does it at start).
import { loadConfig } from '../src/config.js'
import { openDatabase } from '../src/db/client.js'
import { runMigrations } from '../src/db/migrate.js'

const config = loadConfig()
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir + '/pglite', poolMax: 1 })
await runMigrations(database)
await database.close()
console.log(`migrations applied (${database.kind})`)
