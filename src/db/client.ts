import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import type { ExtractTablesWithRelations } from 'drizzle-orm'
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import * as schema from './schema.js'
import { nameEveryStatement } from './prepared.js'
import { APP_ROLE, markClosed, useReadPool } from './tenant.js'

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
  /** Connections of the read pool (readInWorkspace); defaults to poolMax (PostgreSQL only). */
  readPoolMax?: number
  /** How long opening a connection may take before the query fails (PostgreSQL only). */
  connectTimeoutMs?: number
  /** Server-side cap on one statement, so a stuck query frees its connection (PostgreSQL only). */
  statementTimeoutMs?: number
  /**
   * Client-side: a connection owing answers that receives nothing for this long is dropped and its
   * queries fail (ANSWER_TIMEOUT), for a server that went silent without closing (PostgreSQL only;
   * the driver option comes from scripts/patch-postgres.mjs, fix 10).
   */
  answerTimeoutMs?: number
  /** Sees every statement the query builder sends (tests count them to catch N+1 queries). */
  onQuery?: (query: string) => void
}

export async function openDatabase (opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    nameEveryStatement()
    const client = postgres(opts.databaseUrl, {
      max: opts.poolMax ?? 10,
      onnotice: () => {},
      // Fail fast instead of queueing forever when the server is gone (see /readyz); postgres.js
      // takes seconds (fractions work). A dead connection is dropped and the next query opens a fresh one, which
      // is how the pool recovers by itself when the database comes back.
      connect_timeout: (opts.connectTimeoutMs ?? 5000) / 1000,
      ...answerTimeout(opts),
      connection: {
        application_name: 'rapport',
        ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {})
      }
    })
    const db = drizzlePostgres({ client, schema, logger: queryLogger(opts) }) as unknown as Db
    // Connections that can only read, as the non-owner role, for readInWorkspace (tenant.ts): the
    // role and read-only mode come with the connection, so a read needs no transaction around it.
    const reads = postgres(opts.databaseUrl, {
      max: opts.readPoolMax ?? opts.poolMax ?? 10,
      onnotice: () => {},
      connect_timeout: (opts.connectTimeoutMs ?? 5000) / 1000,
      ...answerTimeout(opts),
      connection: {
        application_name: 'rapport-read',
        options: `-c role=${APP_ROLE} -c default_transaction_read_only=on`,
        ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {})
      }
    })
    useReadPool(db, reads)
    return { db, kind: 'postgres', close: once(async () => { markClosed(db); await Promise.all([client.end({ timeout: 5 }), reads.end({ timeout: 5 })]) }) }
  }
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true })
  const client = await PGlite.create(opts.dataDir)
  const db = drizzlePglite({ client, schema, logger: queryLogger(opts) }) as unknown as Db
  return { db, kind: 'pglite', close: once(() => client.close()) }
}

/** The patched driver's option (milliseconds), which its typings do not know. */
const answerTimeout = (opts: DatabaseOptions) => (opts.answerTimeoutMs ? { answer_timeout: opts.answerTimeoutMs } : {}) as Record<string, never>

const queryLogger = (opts: DatabaseOptions) => opts.onQuery ? { logQuery: (query: string) => opts.onQuery!(query) } : undefined

/** Closing twice (a test's outage, then its teardown; a signal during shutdown) is harmless. */
function once (fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined
  return () => (done ??= fn())
}

// The database is gone: postgres.js connection failures, Node socket errors, PostgreSQL shutting
// down or not accepting connections yet (57P0x), connection exceptions (class 08).
const goneCodes = new Set([
  'CONNECT_TIMEOUT', 'ANSWER_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECTION_ENDED',
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  '57P01', '57P02', '57P03'
])
// Not now, though the database is there: too many connections, a statement cancelled by
// statement_timeout.
const busyCodes = new Set(['53300', '57014'])

type ErrorChain = { code?: unknown, cause?: unknown, message?: unknown } | undefined

/** Whether the error or one of its causes (drizzle wraps the driver's) passes the test. */
function inChain (err: unknown, test: (e: NonNullable<ErrorChain>) => boolean): boolean {
  for (let e = err as ErrorChain, depth = 0; e && depth < 5; e = e.cause as ErrorChain, depth++) if (test(e)) return true
  return false
}

/** A constraint violation of the given SQLSTATE (23505 unique, 23502 not null, ...), on `column` if named. */
export function isViolation (err: unknown, code: string, column?: string): boolean {
  // postgres.js names the column column_name; PGlite (pg-protocol) names it column.
  return inChain(err, (e) => e.code === code && (column === undefined || (e as { column_name?: unknown }).column_name === column || (e as { column?: unknown }).column === column))
}

/** The database cannot be reached at all (the circuit breaker in breaker.ts opens on these). */
export function isDatabaseGone (err: unknown): boolean {
  return inChain(err, (e) => typeof e.code === 'string' && (goneCodes.has(e.code) || e.code.startsWith('08')))
}

/**
 * Whether an error means the database cannot answer right now, as opposed to a bug or a bad
 * value: the client should retry later (503).
 */
export function isDatabaseUnavailable (err: unknown): boolean {
  return isDatabaseGone(err) || inChain(err, (e) =>
    (typeof e.code === 'string' && busyCodes.has(e.code)) ||
    // PGlite after close (tests simulate an outage that way).
    (typeof e.message === 'string' && /PGlite is closed/i.test(e.message)))
}
