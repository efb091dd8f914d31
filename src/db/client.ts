import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'

export type Schema = typeof schema
/** One database type for both drivers: services and repositories never know which one runs. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>
/** Anything that can run a query: the database or an open transaction. */
export type Executor = Db | Tx

export interface Database {
  db: Db
  kind: 'pglite' | 'postgres'
  close: () => Promise<void>
}

export interface DatabaseOptions {
  databaseUrl?: string
  /** Directory for the embedded database; undefined keeps it in memory (tests). */
  dataDir?: string
  poolMax?: number
  /** Sees every statement the query builder sends (tests count them to catch N+1 queries). */
  onQuery?: (query: string) => void
}

export async function openDatabase (opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const client = postgres(opts.databaseUrl, {
      max: opts.poolMax ?? 10,
      onnotice: () => {},
      // Fail fast instead of queueing forever when the server is gone (see /readyz).
      connect_timeout: 5,
      connection: { application_name: 'rapport' }
    })
    const db = drizzlePostgres({ client, schema, logger: queryLogger(opts) }) as unknown as Db
    return { db, kind: 'postgres', close: once(() => client.end({ timeout: 5 })) }
  }
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true })
  const client = await PGlite.create(opts.dataDir)
  const db = drizzlePglite({ client, schema, logger: queryLogger(opts) }) as unknown as Db
  return { db, kind: 'pglite', close: once(() => client.close()) }
}

const queryLogger = (opts: DatabaseOptions) => opts.onQuery ? { logQuery: (query: string) => opts.onQuery!(query) } : undefined

/** Closing twice (a test's outage, then its teardown; a signal during shutdown) is harmless. */
function once (fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => (done ??= fn())
}
