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
  /** How long opening a connection may take before the query fails (PostgreSQL only). */
  connectTimeoutMs?: number
  /** Server-side cap on one statement, so a stuck query frees its connection (PostgreSQL only). */
  statementTimeoutMs?: number
  /** Sees every statement the query builder sends (tests count them to catch N+1 queries). */
  onQuery?: (query: string) => void
}

export async function openDatabase (opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const client = postgres(opts.databaseUrl, {
      max: opts.poolMax ?? 10,
      onnotice: () => {},
      // Fail fast instead of queueing forever when the server is gone (see /readyz); postgres.js
      // takes seconds (fractions work). A dead connection is dropped and the next query opens a fresh one, which
      // is how the pool recovers by itself when the database comes back.
      connect_timeout: (opts.connectTimeoutMs ?? 5000) / 1000,
      connection: {
        application_name: 'rapport',
        ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {})
      }
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

// postgres.js connection failures, Node socket errors and PostgreSQL's own "not now" answers:
// admin shutdown, cannot connect now, too many connections, connection exceptions (class 08),
// and a statement cancelled by statement_timeout.
const unavailableCodes = new Set([
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300', '57014'
])

/**
 * Whether an error (or one of its causes: drizzle wraps the driver's) means the database cannot
 * answer right now, as opposed to a bug or a bad value: the client should retry later (503).
 */
export function isDatabaseUnavailable (err: unknown): boolean {
  for (let e = err as { code?: unknown, cause?: unknown, message?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && (unavailableCodes.has(e.code) || e.code.startsWith('08'))) return true
    // PGlite after close (tests simulate an outage that way).
    if (typeof e.message === 'string' && /PGlite is closed/i.test(e.message)) return true
  }
  return false
}
