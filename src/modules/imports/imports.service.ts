import { Transform, type Readable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import type { Db, Tx } from '../../db/client.js'
import { enterWorkspace, inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, toPage, type Page } from '../../lib/cursor.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import { isUniqueViolation } from '../contacts/contacts.duplicates.js'
import type { InteractionsService } from '../interactions/interactions.service.js'
import type { PromisesService } from '../promises/promises.service.js'
import { applyContacts, createRecordAppliers } from './imports.apply.js'
import { csvRows, ndjsonRows, pipeInto, type StagedRow } from './imports.parse.js'
import * as repo from './imports.repository.js'
import type { ImportJobDto, ImportParams } from './imports.schemas.js'

// A staged batch is written once it holds IMPORT_BATCH_ROWS rows or this long after the last
// one (when a row comes in): a slow upload still shows signs of life within its lease.
const STAGE_FLUSH_MS = 1000

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

class UploadTooLarge extends Error {
  constructor (readonly maxBytes: number) { super(`The upload is larger than ${maxBytes} bytes`) }
}

/** Passes bytes through until `maxBytes`, then fails the stream (counted after gunzip: a zip bomb stops too). */
function byteLimit (maxBytes: number): Transform {
  let seen = 0
  return new Transform({
    transform (chunk: Buffer, _enc, done) {
      seen += chunk.length
      done(seen > maxBytes ? new UploadTooLarge(maxBytes) : null, seen > maxBytes ? undefined : chunk)
    }
  })
}

/**
 * What the uploader is told when the body cannot be read: the kind of failure and where, never the
 * parser's own message (it quotes the file's content) nor anything from the database.
 */
function uploadFailure (err: Error & { code?: string, lines?: number }, format: string): string {
  if (err.code?.startsWith('Z_') || /incorrect header check|unexpected end of file/.test(err.message)) return 'The body is not valid gzip'
  if (err.code?.startsWith('CSV_')) return `The ${format.toUpperCase()} could not be parsed (${err.code}${err.lines ? ` near line ${err.lines}` : ''}); rows before it were kept`
  if (err.code === 'ERR_STREAM_PREMATURE_CLOSE' || err.code === 'ECONNRESET' || /aborted/.test(err.message)) return 'The upload ended before the body was complete'
  return 'The upload could not be read'
}

type Appliers = ReturnType<typeof createRecordAppliers>

export function createImportsService ({ db, clock, interactions, promises, limits, onWork }: {
  db: Db, clock: Clock, interactions: InteractionsService, promises: PromisesService,
  limits?: { maxBytes: number, uploadLeaseMs: number, batchRows?: number }, onWork?: () => void
}) {
  const maxBytes = limits?.maxBytes ?? 2 * 1024 ** 3
  const uploadLeaseMs = limits?.uploadLeaseMs ?? 600_000
  // Rows per staging transaction (COPY on PostgreSQL) and per applied batch (one transaction with
  // a handful of set-based statements whatever its size; bench/README.md has the measurements).
  const batchRows = limits?.batchRows ?? 5000
  const appliers: Appliers & { contacts: typeof applyContacts } = { ...createRecordAppliers({ interactions, promises }), contacts: applyContacts }
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  async function stage (ctx: RequestContext, jobId: string, rows: AsyncIterable<StagedRow>) {
    // A failed write is the server's problem, not a malformed upload: it must not become a 400
    // whose detail quotes the SQL.
    const write = (full: StagedRow[]) => ws(ctx, (tx) => repo.stageRows(tx, ctx.workspaceId, jobId, full)).catch((err) => { throw new StagingFailed(err) })
    // One batch is written while the next is parsed (the database and the parser each have a
    // core); at most two batches are in memory.
    let inflight: Promise<void> | undefined
    let batch: StagedRow[] = []
    let flushed = Date.now()
    try {
      for await (const row of rows) {
        batch.push(row)
        if (batch.length >= batchRows || Date.now() - flushed >= STAGE_FLUSH_MS) {
          const full = batch
          batch = []
          await inflight
          inflight = write(full)
          inflight.catch(() => {}) // awaited before the next write or below; not unhandled meanwhile
          flushed = Date.now()
        }
      }
      await inflight
      inflight = undefined
      await write(batch)
    } finally {
      // The upload failed with a write under way: it ends before the job is marked failed.
      await inflight?.catch(() => {})
    }
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
      const source = pipeInto(opts.gzip ? pipeInto(body, createGunzip()) : body, byteLimit(maxBytes))
      try {
        await stage(ctx, job.id, params.format === 'csv' ? csvRows(source, { delimiter: params.delimiter, mapping: params.mapping, type: params.type }) : ndjsonRows(source))
      } catch (err) {
        const internal = err instanceof StagingFailed
        const tooLarge = err instanceof UploadTooLarge
        const message = internal ? 'The upload could not be stored' : tooLarge ? err.message : uploadFailure(err as Error, params.format)
        await ws(ctx, (tx) => repo.updateJob(tx, ctx.workspaceId, job.id, { status: 'failed', error: message, finishedAt: clock.now() }))
          .catch(() => {})
        if (internal) throw err.cause
        if (tooLarge) throw new DomainError('request.too_large', `${message} (IMPORT_MAX_BYTES); split the file`, { importId: job.id, maxBytes })
        throw new DomainError('import.malformed', message, { importId: job.id })
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
        const cancelled = await repo.updateJob(tx, ctx.workspaceId, id, { status: 'cancelled', finishedAt: clock.now() })
        await repo.dropSettledRows(tx, ctx.workspaceId, id)
        return toImportDto(cancelled, clock.now())
      })
    },

    /**
     * Worker step: one batch of one job, applied with its outcomes and counters in a single
     * transaction. A crash mid-batch rolls the whole batch back; the job resumes at that batch.
     */
    async processNext (): Promise<boolean> {
      return db.transaction(async (tx) => {
        await repo.failStaleUploads(tx, uploadLeaseMs, clock.now())
        const job = await repo.claimRunnableJob(tx)
        if (!job) return false
        await enterWorkspace(tx, job.workspaceId)
        if (job.status === 'queued') await repo.updateJob(tx, job.workspaceId, job.id, { status: 'running', startedAt: clock.now() })
        const rows = await repo.pendingRows(tx, job.workspaceId, job.id, batchRows)
        if (rows.length === 0) {
          await repo.updateJob(tx, job.workspaceId, job.id, { status: 'completed', finishedAt: clock.now() })
          // Only the failed rows stay: the errors report reads them.
          await repo.dropSettledRows(tx, job.workspaceId, job.id)
          return true
        }
        const outcomes = await appliers[job.type](tx, job, rows)
        const counts = { created: 0, updated: 0, unchanged: 0, failed: 0 }
        for (const o of outcomes) counts[o.status]++
        await repo.recordOutcomes(tx, job.workspaceId, job.id, outcomes, { keepApplied: job.dryRun })
        await repo.addCounts(tx, job.workspaceId, job.id, counts)
        return true
      })
    }
  }
}

export type ImportsService = ReturnType<typeof createImportsService>
