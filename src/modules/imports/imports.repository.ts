import { and, asc, desc, eq, gt, inArray, lt, sql } from 'drizzle-orm'
import type { Executor } from '../../db/client.js'
import { importJobs, importRows } from './imports.table.js'

export type ImportJobRow = typeof importJobs.$inferSelect
export type ImportRowRow = typeof importRows.$inferSelect
type RowOutcome = { line: number, status: ImportRowRow['status'], errors: Array<{ field: string, reason: string }> | null }

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
    failed: sql`${importJobs.failed} + ${c.failed}`
  }).where(job(workspaceId, id))
}

export async function stageRows (tx: Executor, workspaceId: string, jobId: string, rows: Array<{ line: number, data: Record<string, unknown> | null, error?: string, field?: string }>) {
  if (rows.length === 0) return
  await tx.insert(importRows).values(rows.map((r) => ({
    workspaceId, jobId, line: r.line, data: r.data,
    ...(r.error ? { status: 'failed' as const, errors: [{ field: r.field ?? '', reason: r.error }] } : {})
  })))
  await tx.update(importJobs).set({
    rowsRead: sql`${importJobs.rowsRead} + ${rows.length}`,
    failed: sql`${importJobs.failed} + ${rows.filter((r) => r.error).length}`
  }).where(job(workspaceId, jobId))
}

export async function pendingRows (tx: Executor, workspaceId: string, jobId: string, limit: number) {
  return tx.select().from(importRows)
    .where(and(eq(importRows.workspaceId, workspaceId), eq(importRows.jobId, jobId), eq(importRows.status, 'pending')))
    .orderBy(asc(importRows.line)).limit(limit)
}

/** Every outcome of a batch in one statement. */
export async function recordOutcomes (tx: Executor, workspaceId: string, jobId: string, outcomes: RowOutcome[]) {
  if (outcomes.length === 0) return
  const values = sql.join(outcomes.map((o) => sql`(${o.line}::int, ${o.status}::text, ${o.errors ? JSON.stringify(o.errors) : null}::jsonb)`), sql`, `)
  await tx.execute(sql`update import_rows r set status = v.status, errors = v.errors
    from (values ${values}) as v(line, status, errors)
    where r.workspace_id = ${workspaceId} and r.job_id = ${jobId} and r.line = v.line`)
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

/** The oldest runnable job of any workspace, locked (owner connection; see migration 0008). */
export async function claimRunnableJob (tx: Executor) {
  const [row] = await tx.select().from(importJobs).where(inArray(importJobs.status, ['queued', 'running']))
    .orderBy(asc(importJobs.createdAt)).limit(1).for('update', { skipLocked: true })
  return row
}
