import { is, sql } from 'drizzle-orm'
import { PgDatabase } from 'drizzle-orm/pg-core'
import { PostgresJsSession, PostgresJsTransaction } from 'drizzle-orm/postgres-js/session'
import type { ReservedSql, Sql } from 'postgres'
import { guarded } from './breaker.js'
import type { Db, Tx } from './client.js'

export const APP_ROLE = 'rapport_app'

const ENTER_WORKSPACE = "select set_config('role', $1, true), set_config('app.workspace_id', $2, true)"
const SET_WORKSPACE = "select set_config('app.workspace_id', $1, false)"
const readPools = new WeakMap<object, Sql>()

/**
 * Runs fn in a transaction that PostgreSQL itself confines to one workspace: the non-owner role
 * makes the row-level security policies apply, and the workspace setting is what they compare.
 * Both settings are transaction-local, so a pooled connection never carries them to the next user.
 * Given an open transaction (a caller composing several steps), it joins that one instead.
 *
 * On postgres.js, BEGIN, the settings and fn's first query leave in one write on a reserved
 * connection (postgres.js sends a connection's queries in order and flushes what a tick queued
 * together), where drizzle's own transaction would await BEGIN alone first. A settings failure
 * aborts the transaction, so fn's queries fail rather than run unconfined.
 */
export async function inWorkspace<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
  if (tx) return fn(tx)
  const base = postgresJsSession(db)
  if (!base) return inDriverTransaction(db, workspaceId, fn)
  return guarded(db, async () => {
    const connection = await reserve(db, base.client)
    const { watch, closed } = closeWatcher()
    const preamble = [connection.unsafe('begin', [], internal({ onexecute: watch })).execute(), connection.unsafe(ENTER_WORKSPACE, [APP_ROLE, workspaceId], { prepare: true }).execute()]
    base.logger.logQuery(ENTER_WORKSPACE, [APP_ROLE, workspaceId])
    return onReserved(connection, preamble, closed, async () => {
      try {
        const tx = transactionOn(base, connection)
        const result = await fn(tx as unknown as Tx)
        // COMMIT leaves with the statements sent ahead (sendAhead), in the same write: their
        // answers and COMMIT's come back together, one round trip for all of them.
        const commit = connection.unsafe('commit').execute()
        commit.catch(() => {})
        await tx.settle()
        // An aborted transaction "commits" as ROLLBACK without an error: never report it as done.
        const committed = await commit as unknown as { command?: string }
        if (committed.command === 'ROLLBACK') throw new Error('The transaction was rolled back')
        return result
      } catch (err) {
        await connection.unsafe('rollback').execute().catch(() => {})
        throw err
      }
    })
  })
}

/** Gives readInWorkspace its pool: connections opened as the non-owner role, read only (client.ts). */
export function useReadPool (db: Db, pool: Sql): void {
  readPools.set(db, pool)
}

/**
 * Like inWorkspace, for work that only reads (gets, lists, loaders), and made cheap on PostgreSQL
 * because it is the hot path of every GET. Its connections come from a pool opened as the
 * non-owner role with default_transaction_read_only (client.ts), so row-level security applies
 * without a transaction around the read: the workspace setting and fn's first query leave in
 * one write and run as two statements, where inWorkspace needs BEGIN, the settings, the query and
 * COMMIT in two round trips. Safety rests on: every use of a read connection sets the workspace
 * first, on the same reserved connection (postgres.js runs a connection's queries in order); a
 * write fails (read only); every repository query also filters on the workspace, so a stale
 * setting could only hide rows, never show another workspace's. Statements are prepared once per
 * connection (nameEveryStatement, prepared.ts). On PGlite, in process, it is a read-only transaction.
 * Given an open transaction, it joins that one.
 */
export async function readInWorkspace<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
  if (tx) return fn(tx)
  const pool = readPools.get(db)
  const base = postgresJsSession(db)
  if (!pool || !base) return inDriverTransaction(db, workspaceId, fn, { accessMode: 'read only' })
  return guarded(db, async () => {
    const connection = await reserve(db, pool)
    const { watch, closed } = closeWatcher()
    const setting = connection.unsafe(SET_WORKSPACE, [workspaceId], internal({ prepare: true, onexecute: watch })).execute()
    base.logger.logQuery(SET_WORKSPACE, [workspaceId])
    return onReserved(connection, [setting], closed, () => fn(transactionOn(base, connection, { readOnly: true }) as unknown as Tx))
  })
}

/** drizzle's own transaction (PGlite runs in process: no round trips to save). */
function inDriverTransaction<T> (db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>, config?: { accessMode: 'read only' }): Promise<T> {
  return guarded(db, () => db.transaction(async (t) => {
    await enterWorkspace(t, workspaceId)
    return fn(t)
  }, config))
}

/**
 * Runs work on a reserved connection whose preamble (settings) is already queued, and gives the
 * connection back once nothing of this request is left on it: postgres.js drops what a reserved
 * connection still has queued when it is released, and would hand it over mid-exchange. After a
 * failure, work may have left a query in flight (Promise.all): a marker query queued behind
 * everything tells when it has run. The preamble's own error, if any, is the one reported: it
 * explains the "transaction is aborted" of the queries behind it.
 */
async function onReserved<T> (connection: ReservedSql, preamble: Promise<unknown>[], closed: Promise<never>, work: () => Promise<T>): Promise<T> {
  // Awaited below; this only keeps a failure from counting as unhandled meanwhile.
  for (const q of preamble) q.catch(() => {})
  let marker: Promise<unknown> | undefined
  try {
    // A query queued behind another on a connection that dies would wait forever: the
    // connection's close ends the work (as postgres.js's own begin() does).
    return await Promise.race([work(), closed])
  } catch (err) {
    marker = connection.unsafe('select 1').execute()
    await Promise.all(preamble)
    throw err
  } finally {
    const release = () => { try { connection.release() } catch {} }
    const settled = marker ?? Promise.all(preamble)
    settled.then(release, release)
  }
}

/** postgres.js query options its typings leave out (onexecute, used by its own begin()). */
const internal = (options: { prepare?: boolean, onexecute: unknown }) => options as { prepare?: boolean }

const closedDatabases = new WeakSet<object>()

/** Called when a database is closed: its pools would otherwise leave a reserve() waiting forever. */
export function markClosed (db: Db): void {
  closedDatabases.add(db)
}

async function reserve (db: Db, pool: Sql): Promise<ReservedSql> {
  if (closedDatabases.has(db)) throw Object.assign(new Error('The database connection pool is closed'), { code: 'CONNECTION_ENDED' })
  return pool.reserve()
}

/**
 * Learns which postgres.js connection a reserved use runs on (its first query's onexecute) and
 * turns that connection's close into a rejection. onexecute must return true, or postgres.js
 * stops pipelining after that query.
 */
function closeWatcher (): { watch: (c: { onclose?: (e: Error) => void }) => true, closed: Promise<never> } {
  let reject!: (e: Error) => void
  const closed = new Promise<never>((_resolve, r) => { reject = r })
  closed.catch(() => {})
  return { watch: (c) => { c.onclose = reject; return true }, closed }
}

/**
 * Confines the rest of an open transaction to one workspace. Workers use it after claiming a
 * queue row as the owner; it may be called again in the same transaction for another workspace.
 */
export async function enterWorkspace (tx: Tx, workspaceId: string): Promise<void> {
  await tx.execute(sql`select set_config('role', ${APP_ROLE}, true), set_config('app.workspace_id', ${workspaceId}, true)`)
}

/** What this file uses of drizzle's postgres.js session (its constructor's arguments). */
interface DrizzleSession { client: Sql, dialect: unknown, schema: unknown, options: unknown, logger: { logQuery: (q: string, p: unknown[]) => void } }
const Session = PostgresJsSession as unknown as new (client: unknown, dialect: unknown, schema: unknown, options: unknown) => object

/** Whether the database is a PostgreSQL server reached through postgres.js (not PGlite, in process). */
export const isServerDatabase = (db: Db): boolean => postgresJsSession(db) !== undefined

function postgresJsSession (db: Db): DrizzleSession | undefined {
  const session = (db as unknown as { session?: unknown }).session
  return is(session, PostgresJsSession) ? session as unknown as DrizzleSession : undefined
}

/**
 * A drizzle transaction object over a reserved connection on which BEGIN (or the read pool's
 * setting) was queued by the caller. Nested transactions are savepoints on the same connection.
 */
class ReservedTransaction extends (PostgresJsTransaction as unknown as new (dialect: unknown, session: unknown, schema: unknown) => { session: { client: ReservedSql }, dialect: unknown }) {
  private readonly fullSchema: unknown
  private relational?: unknown

  // drizzle's constructor builds a relational query builder (tx.query.<table>) for every table of
  // the schema: 5 % of a contact read's CPU, for a feature the repositories do not use.
  // Built on first use instead.
  constructor (dialect: unknown, session: unknown, schema: unknown) {
    super(dialect, session, undefined)
    this.fullSchema = schema
    delete (this as { query?: unknown }).query
  }

  get query (): unknown {
    return (this.relational ??= new PgDatabase(this.dialect as never, this.session as never, this.fullSchema as never).query)
  }

  /** A read pool's use (readInWorkspace): nothing may be sent ahead, no COMMIT would wait for it. */
  readOnly = false
  /** Statements sent without waiting for their answer (sendAhead); COMMIT waits for them. */
  private ahead: Promise<unknown>[] = []

  send (text: string, params: unknown[]): void {
    (this.session as unknown as DrizzleSession).logger.logQuery(text, params)
    this.track(this.session.client.unsafe(text, params as never[], { prepare: true }).execute())
  }

  /** A statement already started on this connection, whose answer COMMIT will wait for. */
  track (statement: Promise<unknown>): void {
    statement.catch(() => {})
    this.ahead.push(statement)
  }

  /**
   * Waits for the statements sent ahead; the first failure among them in the order they were sent
   * is the transaction's (those behind it only say the transaction is aborted, and may be answered
   * to us sooner: a drizzle query settles a few ticks after the driver's).
   */
  async settle (): Promise<void> {
    const ahead = this.ahead
    this.ahead = []
    const failed = (await Promise.allSettled(ahead)).find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
  }

  // drizzle's own savepoint() lives on postgres.js's transaction handle, which a reserved connection
  // lacks. A savepoint settles what was sent ahead inside it, so that a failure there is the
  // savepoint's (rolled back to, reported to its caller), never a surprise at COMMIT.
  async transaction<T> (fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = this.session.client
    const outer = this.ahead
    this.ahead = []
    await client.unsafe('savepoint rapport_sp')
    try {
      const result = await fn(this as unknown as Tx)
      await this.settle()
      await client.unsafe('release savepoint rapport_sp')
      return result
    } catch (err) {
      await Promise.allSettled(this.ahead)
      await client.unsafe('rollback to savepoint rapport_sp')
      throw err
    } finally {
      this.ahead = outer
    }
  }
}

function transactionOn (base: DrizzleSession, connection: ReservedSql, opts: { readOnly?: boolean } = {}): ReservedTransaction {
  const tx = new ReservedTransaction(base.dialect, new Session(connection, base.dialect, base.schema, base.options), base.schema)
  tx.readOnly = opts.readOnly ?? false
  return tx
}

/**
 * Sends a write in tx without waiting for its answer, when tx can (a write transaction of
 * inWorkspace on PostgreSQL): it travels with what follows, at the latest with COMMIT, which
 * waits for it and fails if it failed. For statements whose answer nobody reads (the event log's
 * appends): a round trip per write saved. Answers false where it cannot (PGlite, drizzle's own
 * transactions, the read pool): the caller runs the statement the usual way. The text must be a
 * fixed statement (prepared once per connection) with $n parameters given as text.
 */
export function sendAhead (tx: Tx, text: string, params: (string | null)[]): boolean {
  if (!(tx instanceof ReservedTransaction) || tx.readOnly) return false
  tx.send(text, params)
  return true
}

/**
 * sendAhead for a statement the caller has already started in tx (a prepared drizzle query: its
 * call queues it on the connection at once): where tx can, COMMIT waits for its answer and its
 * failure is the transaction's, and this gives back nothing to wait for; elsewhere it gives the
 * statement back, to be awaited as usual. `await answeredAtCommit(tx, insert(tx, row))` costs
 * no round trip on PostgreSQL and reads the same everywhere.
 */
export function answeredAtCommit (tx: Tx, started: Promise<unknown>): Promise<unknown> | undefined {
  if (!(tx instanceof ReservedTransaction) || tx.readOnly) return started
  tx.track(started)
  return undefined
}
