import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { openDatabase } from './db/client.js'
import { runMigrations } from './db/migrate.js'

// Process concerns only: configuration, database, migrations, listen, graceful close.
let config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(1)
  }
  throw err
}

const database = await openDatabase({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir + '/pglite',
  poolMax: config.databasePoolMax,
  readPoolMax: config.databaseReadPoolMax,
  connectTimeoutMs: config.databaseConnectTimeoutMs,
  statementTimeoutMs: config.databaseStatementTimeoutMs,
  answerTimeoutMs: config.databaseAnswerTimeoutMs
})
await runMigrations(database)
const app = await buildApp({ config, db: database.db })
for (const note of config.notes) app.log.info(note)
app.log.info({ database: database.kind }, database.kind === 'pglite' ? `embedded database in ${config.dataDir}/pglite` : 'PostgreSQL through DATABASE_URL')

// SIGTERM/SIGINT: app.close() stops accepting connections (requests arriving on an open
// keep-alive connection get 503, so a balancer moves on), waits for the requests in flight,
// then stops the workers (each finishes the row it holds; a claim cut short by the deadline is
// retried by any process after its lease or transaction ends), and the pool closes last.
// Past SHUTDOWN_GRACE_MS the process exits anyway.
closeWithGrace({ delay: config.shutdownGraceMs }, async ({ err, signal }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
  await database.close()
  app.log.info('closed')
})

await app.listen({ port: config.port, host: config.host })
