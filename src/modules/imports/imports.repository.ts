import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { and, getTableColumns, asc, desc, eq, gt, inArray, is, lt, sql } from 'drizzle-orm'
import { PostgresJsTransaction } from 'drizzle-orm/postgres-js/session'
import type { Sql } from 'postgres'
import type { StagedRow } from './imports.parse.js'
import type { Executor } from '../../db/client.js'
import { perKey, rowsOf, textList } from '../../db/key-lists.js'
import { importJobs, importRows } from './imports.table.js'

export type ImportJobRow = typeof importJobs.$inferSelect
export type ImportRowRow = typeof importRows.$inferSelect
type RowOutcome = { line: number, status: ImportRowRow['status'], errors: Array<{ field: string, reason: string }> | null, key: string | null }

const job = (workspaceId: string, id: string) => and(eq(importJobs.workspaceId, workspaceId), eq(importJobs.id, id))

export async function getJob (tx: Executor, workspaceId: string, id: string, forUpdate = false) {
  const q = tx.select().from(importJobs).where(job(workspaceId, id)).limit(1)
  const [row] = forUpdate ? await q.for('update') : await q
  return row
}

export async function findByIdempotencyKey (tx: Executor, workspaceId: string, key: string) {
  const [row] = await tx.select().from(importJobs).where(and(eq(importJobs.workspaceId, workspaceId), eq(importJobs.idempotencyKey, key))).limit(1)
  return row
}

export async function insertJob (tx: Executor, row: typeof importJobs.$inferInsert) {
  const [created] = await tx.insert(importJobs).values(row).returning()
  return created
}

export async function updateJob (tx: Executor, workspaceId: string, id: string, fields: Partial<typeof importJobs.$inferInsert>) {
  const [row] = await tx.update(importJobs).set(fields).where(job(workspaceId, id)).returning()
  return row
}

export async function addCounts (tx: Executor, workspaceId: string, id: string, c: { created: number, updated: number, unchanged: number, failed: number }) {
  await tx.update(importJobs).set({
    created: sql`${importJobs.created} + ${c.created}`,
    updated: sql`${importJobs.updated} + ${c.updated}`,
    unchanged: sql`${importJobs.unchanged} + ${c.unchanged}`,
    failed: sql`${importJobs.failed} + ${c.failed}`,
    heartbeatAt: sql`clock_timestamp()`
  }).where(job(workspaceId, id))
}


/** The postgres.js connection of an open transaction (COPY needs it), or undefined on PGlite. */
function copyConnection (tx: Executor): Sql | undefined {
  return is(tx, PostgresJsTransaction) ? (tx as unknown as { session: { client: Sql } }).session.client : undefined
}

// COPY's text format: tab-separated, \N for NULL, backslash escaped. JSON text carries no raw
// tabs or line breaks (JSON.stringify escapes them), so only its backslashes need doubling.
const copyText = (value: string | null) => value === null ? '\\N' : value.replace(/\\/g, '\\\\')

/**
 * Stages a batch of parsed rows. On PostgreSQL with COPY, PostgreSQL's fastest path, into a
 * temporary table of the session (COPY FROM cannot write a table under row-level security),
 * then one INSERT ... SELECT into import_rows, which the tenant policy checks. On PGlite one
 * INSERT with the batch as a JSON parameter. Either way in the caller's transaction.
 */
export async function stageRows (tx: Executor, workspaceId: string, jobId: string, rows: StagedRow[]) {
  if (rows.length === 0) return
  const errorsOf = (r: StagedRow) => r.error ? [{ field: r.field ?? '', reason: r.error }] : null
  const pg = copyConnection(tx)
  if (pg) {
    // Named for its columns: a session that staged before the bytes column keeps its old table.
    await tx.execute(sql`create temporary table if not exists import_stage_v2 (line int, data jsonb, status text, errors jsonb, bytes int) on commit delete rows`)
    const text = rows.map((r) => `${r.line}\t${copyText(r.data === null ? null : JSON.stringify(r.data))}\t${r.error ? 'failed' : 'pending'}\t${copyText(r.error ? JSON.stringify(errorsOf(r)) : null)}\t${r.bytes}\n`).join('')
    const into = await pg`copy import_stage_v2 (line, data, status, errors, bytes) from stdin`.writable()
    await pipeline(async function * () { yield Buffer.from(text) }, into as Writable)
    await tx.execute(sql`insert into import_rows (workspace_id, job_id, line, data, status, errors, bytes)
      select ${workspaceId}, ${jobId}, line, data, status, errors, bytes from import_stage_v2`)
  } else {
    const json = JSON.stringify(rows.map((r) => ({ line: r.line, data: r.data, status: r.error ? 'failed' : 'pending', errors: errorsOf(r), bytes: r.bytes })))
    await tx.execute(sql`insert into import_rows (workspace_id, job_id, line, data, status, errors, bytes)
      select ${workspaceId}, ${jobId}, r.line, r.data, r.status, r.errors, r.bytes from jsonb_to_recordset(${json}::jsonb) as r(line int, data jsonb, status text, errors jsonb, bytes int)`)
  }
  await tx.update(importJobs).set({
    heartbeatAt: sql`clock_timestamp()`,
    rowsRead: sql`${importJobs.rowsRead} + ${rows.length}`,
    failed: sql`${importJobs.failed} + ${rows.filter((r) => r.error).length}`
  }).where(job(workspaceId, jobId))
}

/**
 * The next batch: the first pending rows in file order (after `afterLine`: the batch after one not
 * yet committed), at most `limit` rows and at most `maxBytes` of them as uploaded (the first row
 * whatever its size): a file of long rows (100 kB bodies) comes in smaller batches, so memory stays bounded.
 */
export async function pendingRows (tx: Executor, workspaceId: string, jobId: string, limit: number, afterLine?: number, maxBytes = Number.MAX_SAFE_INTEGER) {
  const head = tx.select({ ...getTableColumns(importRows), upTo: sql<number>`sum(${importRows.bytes}) over (order by ${importRows.line})`.as('up_to') })
    .from(importRows)
    .where(and(eq(importRows.workspaceId, workspaceId), eq(importRows.jobId, jobId), eq(importRows.status, 'pending'),
      afterLine === undefined ? undefined : gt(importRows.line, afterLine)))
    .orderBy(asc(importRows.line)).limit(limit).as('head')
  const { upTo, ...columns } = head._.selectedFields
  // The first row always (a row larger than the bound is a batch of its own), then up to the bound.
  return tx.select(columns).from(head).where(sql`(${upTo} <= ${maxBytes} or ${upTo} = ${head.bytes})`).orderBy(asc(head.line)) as unknown as Promise<ImportRowRow[]>
}

/**
 * True when `rows` (read earlier, in file order) are still exactly the next batch. Pending rows only
 * ever leave that state, so the first pending rows having the same count, first and last line
 * means they are the same rows.
 */
export async function isNextBatch (tx: Executor, workspaceId: string, jobId: string, rows: Array<{ line: number }>) {
  if (rows.length === 0) return false
  const result = await tx.execute(sql`select count(*)::int as n, min(line) as first, max(line) as last from (
    select line from import_rows where workspace_id = ${workspaceId} and job_id = ${jobId} and status = 'pending' order by line limit ${rows.length}) as head`)
  const [head] = rowsOf<{ n: number, first: number, last: number }>(result)
  return Number(head.n) === rows.length && Number(head.first) === rows[0].line && Number(head.last) === rows[rows.length - 1].line
}

/**
 * Every outcome of a batch, set-based. Rows that failed keep their errors (the errors report);
 * the others are done with and deleted, unless `keepApplied` (a dry run finds its earlier batches'
 * keys in them).
 */
export async function recordOutcomes (tx: Executor, workspaceId: string, jobId: string, outcomes: RowOutcome[], opts: { keepApplied: boolean }) {
  const kept = opts.keepApplied ? outcomes : outcomes.filter((o) => o.status === 'failed')
  const done = opts.keepApplied ? [] : outcomes.filter((o) => o.status !== 'failed')
  if (kept.length > 0) {
    await tx.execute(sql`update import_rows r set status = v.status, errors = v.errors, key = v.key
      from jsonb_to_recordset(${JSON.stringify(kept)}::jsonb) as v(line int, status text, errors jsonb, key text)
      where r.workspace_id = ${workspaceId} and r.job_id = ${jobId} and r.line = v.line`)
  }
  if (done.length > 0) {
    // The batch is every pending row from its first line to its last (pendingRows, under the job's
    // lock), and its failed rows are no longer pending (above): what is left pending in that range
    // is what was applied. A range on the primary key, where `line in (select unnest(lines))` got a
    // nested loop from the stale statistics of a table just bulk-loaded (seconds per batch).
    let first = done[0].line
    let last = first
    for (const o of done) { first = Math.min(first, o.line); last = Math.max(last, o.line) }
    await tx.execute(sql`delete from import_rows where workspace_id = ${workspaceId} and job_id = ${jobId}
      and line between ${first} and ${last} and status = 'pending'`)
  }
}

export async function failedRows (tx: Executor, workspaceId: string, jobId: string, afterLine: number, limit: number) {
  return tx.select({ line: importRows.line, errors: importRows.errors }).from(importRows)
    .where(and(eq(importRows.workspaceId, workspaceId), eq(importRows.jobId, jobId), eq(importRows.status, 'failed'), gt(importRows.line, afterLine)))
    .orderBy(asc(importRows.line)).limit(limit)
}

export async function listJobs (tx: Executor, workspaceId: string, beforeId: string | undefined, limit: number) {
  return tx.select().from(importJobs).where(and(eq(importJobs.workspaceId, workspaceId), beforeId ? lt(importJobs.id, beforeId) : undefined))
    .orderBy(desc(importJobs.id)).limit(limit)
}

/**
 * A runnable job, locked (owner connection; see migration 0008). Workspaces take turns: the one
 * whose jobs were served least recently goes first (a big import never starves the others'),
 * and within a workspace the oldest job first.
 */
export async function claimRunnableJob (tx: Executor) {
  const [row] = await tx.select().from(importJobs).where(inArray(importJobs.status, ['queued', 'running']))
    .orderBy(sql`(select max(w.heartbeat_at) from import_jobs w where w.workspace_id = ${importJobs.workspaceId} and w.status in ('queued', 'running'))`, asc(importJobs.createdAt))
    .limit(1).for('update', { skipLocked: true })
  return row
}

/** Uploads that stopped sending signs of life (their server died mid-upload) end as failed. */
export async function failStaleUploads (tx: Executor, leaseMs: number, now: Date) {
  return tx.update(importJobs).set({ status: 'failed', error: 'The upload stopped before it ended (the server receiving it went away); upload the file again', finishedAt: now })
    .where(and(eq(importJobs.status, 'receiving'), lt(importJobs.heartbeatAt, sql`clock_timestamp() - ${`${leaseMs} milliseconds`}::interval`)))
    .returning({ id: importJobs.id })
}

/** Staged rows an ended job no longer needs: all but the failed ones (the errors report). */
export async function dropSettledRows (tx: Executor, workspaceId: string, jobId: string) {
  await tx.delete(importRows).where(and(eq(importRows.workspaceId, workspaceId), eq(importRows.jobId, jobId), sql`${importRows.status} <> 'failed'`))
}

/** Rows of this job already applied with any of these keys, in file order (a dry run replays them). */
export async function appliedRowsWithKeys (tx: Executor, workspaceId: string, jobId: string, keys: string[]) {
  const unique = [...new Set(keys)]
  if (unique.length === 0) return []
  return tx.select({ line: importRows.line, data: importRows.data, key: importRows.key }).from(importRows)
    .where(and(eq(importRows.workspaceId, workspaceId), eq(importRows.jobId, jobId), inArray(importRows.key, unique), inArray(importRows.status, ['created', 'updated'])))
    .orderBy(asc(importRows.line))
}

export async function lockImportKind (tx: Executor, workspaceId: string, type: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`import:${workspaceId}:${type}`}, 0))`)
}

/**
 * The known keys among `keys`: one primary-key probe per key, the list as one array parameter (a
 * drizzle `inArray` of 5,000 keys built 5,000 parameters, a profile's largest cost of an import).
 */
export async function findImportKeys (tx: Executor, workspaceId: string, type: ImportJobRow['type'], keys: string[]): Promise<Array<{ key: string, recordId: string, hash: string }>> {
  const unique = [...new Set(keys)]
  if (unique.length === 0) return []
  return rowsOf<{ key: string, recordId: string, hash: string }>(await tx.execute(sql`select c.key, c.record_id as "recordId", c.hash
    ${perKey(unique, sql`select key, record_id, hash from import_keys c where c.workspace_id = ${workspaceId} and c.type = ${type} and c.key = k.v`)}`))
}

/** The batch's keys in one statement, as three array parameters (not a parameter per value). */
export async function saveImportKeys (tx: Executor, workspaceId: string, type: ImportJobRow['type'], rows: Array<{ key: string, recordId: string, hash: string }>) {
  const last = new Map(rows.map((r) => [r.key, r])) // one row per key (a later row of the batch wins)
  if (last.size === 0) return
  const list = [...last.values()]
  await tx.execute(sql`insert into import_keys (workspace_id, type, key, record_id, hash)
    select ${workspaceId}, ${type}, u.key, u.record_id, u.hash
    from unnest(${textList(list.map((r) => r.key))}, ${textList(list.map((r) => r.recordId))}, ${textList(list.map((r) => r.hash))}) as u(key, record_id, hash)
    on conflict (workspace_id, type, key) do update set record_id = excluded.record_id, hash = excluded.hash`)
}
