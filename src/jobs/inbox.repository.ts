import { and, asc, eq, lte, sql } from 'drizzle-orm'
import type { Db, Executor, Tx } from '../db/client.js'
import { enterWorkspace } from '../db/tenant.js'
import { newId } from '../lib/ids.js'
import { inboundInbox } from '../modules/interactions/interactions.table.js'

export type InboxRow = typeof inboundInbox.$inferSelect

/** What became of one try at an inbox row. */
export type InboxOutcome =
  | { status: 'processed' }
  | { status: 'pending', error: string, retryInMs: number }
  | { status: 'failed', error: string }

/** What a claim found: a try to run, or a row given up on (its tries all spent). */
export type InboxClaim =
  | { kind: 'try', row: InboxRow }
  | { kind: 'gave-up', row: InboxRow }

export async function insertInbox (tx: Executor, item: Omit<typeof inboundInbox.$inferInsert, 'id'>): Promise<string> {
  const id = newId('inbox')
  await tx.insert(inboundInbox).values({ ...item, id })
  return id
}

const interval = (ms: number) => `${Math.round(ms)} milliseconds`

/**
 * Claims the pending inbox row that has been due longest (any workspace, as the owner) and commits
 * the try before it runs, as the outbox and webhook deliveries do: attempts + 1, claimed_at, and
 * next_attempt_at pushed out by the backoff that try would get (`leaseMs(attempt)`). A try that
 * never finishes (its process killed, out of memory, a native crash, its connection cut: its own
 * transaction rolls back) is thus counted all the same, and its row comes back after that backoff
 * rather than at once, crash-looping every process that claims it.
 *
 * A row whose tries are spent (`maxAttempts`) is not tried again: a try that finished would have
 * failed it, so with claimed_at still set its last try died, and it is failed here, with that said.
 * (With claimed_at null its last try did finish: INBOX_MAX_ATTEMPTS was lowered since; it is
 * failed with that try's error.)
 *
 * The status is written as a literal, not a parameter, so that even a generic plan of this named
 * statement matches the partial index `inbound_inbox_due_idx`: a range scan of the due rows.
 * SKIP LOCKED passes over a row another process is trying (see lockClaimed).
 */
export async function claimInbox (db: Db, opts: { maxAttempts: number, leaseMs: (attempt: number) => number }): Promise<InboxClaim | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(inboundInbox)
      .where(and(sql`${inboundInbox.status} = 'pending'`, lte(inboundInbox.nextAttemptAt, sql`now()`)))
      .orderBy(asc(inboundInbox.nextAttemptAt)).limit(1).for('update', { skipLocked: true })
    if (!row) return undefined
    const key = and(eq(inboundInbox.workspaceId, row.workspaceId), eq(inboundInbox.id, row.id))
    if (row.attempts >= opts.maxAttempts) {
      const error = row.claimedAt
        ? `gave up after ${row.attempts} tries: the last, claimed at ${row.claimedAt.toISOString()}, did not finish ` +
          '(the process or its database connection died during it: killed, out of memory, crashed)' +
          (row.error ? `; the last error recorded: ${row.error}` : '')
        : row.error ?? `gave up after ${row.attempts} tries`
      const [failed] = await tx.update(inboundInbox).set({ status: 'failed', error, claimedAt: null }).where(key).returning()
      return { kind: 'gave-up', row: failed }
    }
    const [claimed] = await tx.update(inboundInbox).set({
      attempts: sql`${inboundInbox.attempts} + 1`,
      claimedAt: sql`clock_timestamp()`,
      nextAttemptAt: sql`clock_timestamp() + ${interval(opts.leaseMs(row.attempts + 1))}::interval`
    }).where(key).returning()
    return { kind: 'try', row: claimed }
  })
}

/**
 * In the try's own transaction, locks the row claimed by `claimInbox` and confines the rest of the
 * transaction to its workspace exactly as a request would be. Undefined when the claim is no longer
 * this process's: its backoff ran out before this lock (a stalled process) and another process
 * claimed it again (attempts moved on), or holds it now (SKIP LOCKED), or it was settled. Once
 * locked here, no claim can take it until this transaction ends, however long it takes.
 */
export async function lockClaimed (tx: Tx, claimed: InboxRow): Promise<InboxRow | undefined> {
  const [row] = await tx.select().from(inboundInbox)
    .where(and(eq(inboundInbox.workspaceId, claimed.workspaceId), eq(inboundInbox.id, claimed.id),
      sql`${inboundInbox.status} = 'pending'`, eq(inboundInbox.attempts, claimed.attempts)))
    .for('update', { skipLocked: true })
  if (row) await enterWorkspace(tx, row.workspaceId)
  return row
}

/**
 * Records the outcome of the try the claim already counted. A row to retry waits `retryInMs` from
 * the moment of the failure (the clock, not the transaction's start: a try may have waited on a
 * lock for a while).
 */
export async function finishInbox (tx: Executor, row: InboxRow, outcome: InboxOutcome) {
  await tx.update(inboundInbox).set({
    status: outcome.status,
    claimedAt: null,
    error: outcome.status === 'processed' ? null : outcome.error,
    processedAt: outcome.status === 'processed' ? sql`now()` : null,
    ...(outcome.status === 'pending' ? { nextAttemptAt: sql`clock_timestamp() + ${interval(outcome.retryInMs)}::interval` } : {})
  }).where(and(eq(inboundInbox.workspaceId, row.workspaceId), eq(inboundInbox.id, row.id)))
}
