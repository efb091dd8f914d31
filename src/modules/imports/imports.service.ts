import type { Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { Db, Tx } from '../../db/client.js'
import { enterWorkspace, inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, toPage, type Page } from '../../lib/cursor.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import { isUniqueViolation } from '../contacts/contacts.duplicates.js'
import { upsertContacts } from '../contacts/contacts.upsert.js'
import { csvRows, ndjsonRows, pipeInto, type StagedRow } from './imports.parse.js'
import * as repo from './imports.repository.js'
import type { ImportJobDto, ImportParams } from './imports.schemas.js'

const STAGE_BATCH = 1000
const APPLY_BATCH = 1000

export function toImportDto (j: repo.ImportJobRow, now: Date): ImportJobDto {
  const processed = j.created + j.updated + j.unchanged + j.failed
  const end = j.finishedAt ?? now
  const seconds = j.startedAt ? Math.max(0.001, (end.getTime() - j.startedAt.getTime()) / 1000) : null
  return {
    id: j.id, type: j.type, format: j.format, upsertOn: j.upsertOn, dryRun: j.dryRun, status: j.status, error: j.error,
    counts: { rowsRead: j.rowsRead, processed, created: j.created, updated: j.updated, unchanged: j.unchanged, failed: j.failed },
    createdAt: j.createdAt.toISOString(), startedAt: j.startedAt?.toISOString() ?? null, finishedAt: j.finishedAt?.toISOString() ?? null,
    durationSeconds: seconds,
    rowsPerSecond: seconds ? Math.round(processed / seconds) : null,
    errorsUrl: `/v1/imports/${j.id}/errors`
  }
}

class StagingFailed extends Error {
  constructor (cause: unknown) { super('staging failed', { cause }) }
}

const fieldOf = (pointer: string) => pointer.replace(/^\//, '').replace(/\//g, '.')

export function createImportsService ({ db, clock, onWork }: { db: Db, clock: Clock, onWork?: () => void }) {
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  async function stage (ctx: RequestContext, jobId: string, rows: AsyncIterable<StagedRow>) {
    // A failed write is the server's problem, not a malformed upload: it must not become a 400
    // whose detail quotes the SQL.
    const write = (full: StagedRow[]) => ws(ctx, (tx) => repo.stageRows(tx, ctx.workspaceId, jobId, full)).catch((err) => { throw new StagingFailed(err) })
    let batch: StagedRow[] = []
    for await (const row of rows) {
      batch.push(row)
      if (batch.length >= STAGE_BATCH) {
        const full = batch
        batch = []
        await write(full)
      }
    }
    await write(batch)
  }

  return {
    /**
     * Streams an upload into durable staged rows (memory stays flat: rows are written as they
     * are parsed), then queues the job. A retried upload with the same Idempotency-Key returns
     * the first job instead of starting another.
     */
    async start (ctx: RequestContext, params: ImportParams, body: Readable, opts: { gzip: boolean, idempotencyKey?: string }): Promise<{ job: ImportJobDto, replayed: boolean }> {
      if (opts.idempotencyKey) {
        const existing = await ws(ctx, (tx) => repo.findByIdempotencyKey(tx, ctx.workspaceId, opts.idempotencyKey!))
        if (existing) {
          body.resume()
          return { job: toImportDto(existing, clock.now()), replayed: true }
        }
      }
      let job: repo.ImportJobRow
      try {
        job = await ws(ctx, (tx) => repo.insertJob(tx, {
          workspaceId: ctx.workspaceId, id: newId('import'), type: params.type, format: params.format, upsertOn: params.upsertOn,
          dryRun: params.dryRun, idempotencyKey: opts.idempotencyKey ?? null, actor: ctx.actor, createdAt: clock.now()
        }))
      } catch (err) {
        // The same key sent twice at once: the unique index lets one in; the other replays it.
        const first = opts.idempotencyKey && isUniqueViolation(err) ? await ws(ctx, (tx) => repo.findByIdempotencyKey(tx, ctx.workspaceId, opts.idempotencyKey!)) : undefined
        if (!first) throw err
        body.resume()
        return { job: toImportDto(first, clock.now()), replayed: true }
      }
      // A body that errors or stops short fails the gunzip stream too.
      const source = opts.gzip ? pipeInto(body, createGunzip()) : body
      try {
        await stage(ctx, job.id, params.format === 'csv' ? csvRows(source, { delimiter: params.delimiter, mapping: params.mapping }) : ndjsonRows(source))
      } catch (err) {
        const internal = err instanceof StagingFailed
        await ws(ctx, (tx) => repo.updateJob(tx, ctx.workspaceId, job.id, { status: 'failed', error: internal ? 'The upload could not be stored' : (err as Error).message, finishedAt: clock.now() }))
          .catch(() => {})
        if (internal) throw err.cause
        throw new DomainError('import.malformed', `The upload could not be read: ${(err as Error).message}`, { importId: job.id })
      }
      // A job cancelled while its body was still streaming in stays cancelled.
      const queued = await ws(ctx, async (tx) => {
        const current = await repo.getJob(tx, ctx.workspaceId, job.id, true)
        return current.status === 'receiving' ? repo.updateJob(tx, ctx.workspaceId, job.id, { status: 'queued' }) : current
      })
      if (queued.status === 'queued') onWork?.()
      return { job: toImportDto(queued, clock.now()), replayed: false }
    },

    async get (ctx: RequestContext, id: string): Promise<ImportJobDto> {
      const row = await ws(ctx, (tx) => repo.getJob(tx, ctx.workspaceId, id))
      if (!row) throw notFound('import.not_found', id)
      return toImportDto(row, clock.now())
    },

    async list (ctx: RequestContext, q: { limit: number, after?: string }): Promise<Page<ImportJobDto>> {
      const beforeId = q.after ? decodeCursor<{ id: string }>(q.after, ['id']).id : undefined
      const rows = await ws(ctx, (tx) => repo.listJobs(tx, ctx.workspaceId, beforeId, q.limit + 1))
      const page = toPage(rows, q.limit, (r) => ({ id: r.id }))
      return { items: page.items.map((r) => toImportDto(r, clock.now())), nextCursor: page.nextCursor }
    },

    /** Failed rows with line, field and reason, in file order. */
    async errors (ctx: RequestContext, id: string, q: { limit: number, after?: string }) {
      const afterLine = q.after ? Number(decodeCursor<{ line: number }>(q.after, ['line']).line) : 0
      return ws(ctx, async (tx) => {
        if (!await repo.getJob(tx, ctx.workspaceId, id)) throw notFound('import.not_found', id)
        const rows = await repo.failedRows(tx, ctx.workspaceId, id, afterLine, q.limit + 1)
        const page = toPage(rows, q.limit, (r) => ({ line: r.line }))
        return { items: page.items.flatMap((r) => (r.errors ?? [{ field: '', reason: 'failed' }]).map((e) => ({ line: r.line, field: e.field, reason: e.reason }))), nextCursor: page.nextCursor }
      })
    },

    async cancel (ctx: RequestContext, id: string): Promise<ImportJobDto> {
      return ws(ctx, async (tx) => {
        const row = await repo.getJob(tx, ctx.workspaceId, id, true)
        if (!row) throw notFound('import.not_found', id)
        if (!['receiving', 'queued', 'running'].includes(row.status)) throw new DomainError('import.not_cancellable', `Import ${id} is ${row.status}`)
        return toImportDto(await repo.updateJob(tx, ctx.workspaceId, id, { status: 'cancelled', finishedAt: clock.now() }), clock.now())
      })
    },

    /**
     * Worker step: one batch of one job, applied with its outcomes and counters in a single
     * transaction. A crash mid-batch rolls the whole batch back; the job resumes at that batch.
     */
    async processNext (): Promise<boolean> {
      return db.transaction(async (tx) => {
        const job = await repo.claimRunnableJob(tx)
        if (!job) return false
        await enterWorkspace(tx, job.workspaceId)
        if (job.status === 'queued') await repo.updateJob(tx, job.workspaceId, job.id, { status: 'running', startedAt: clock.now() })
        const rows = await repo.pendingRows(tx, job.workspaceId, job.id, APPLY_BATCH)
        if (rows.length === 0) {
          await repo.updateJob(tx, job.workspaceId, job.id, { status: 'completed', finishedAt: clock.now() })
          return true
        }
        const results = await upsertContacts(tx, job.workspaceId, job.upsertOn, rows.map((r) => r.data), { dryRun: job.dryRun })
        const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 }
        await repo.recordOutcomes(tx, job.workspaceId, job.id, results.map((r, i) => {
          counts[r.result === 'error' ? 'failed' : r.result]++
          return r.result === 'error'
            ? { line: rows[i].line, status: 'failed' as const, errors: (r.errors.length ? r.errors : [{ pointer: '', message: r.message }]).map((e) => ({ field: fieldOf(e.pointer), reason: e.message })) }
            : { line: rows[i].line, status: r.result, errors: null }
        }))
        await repo.addCounts(tx, job.workspaceId, job.id, counts)
        return true
      })
    }
  }
}

export type ImportsService = ReturnType<typeof createImportsService>
