import { Transform, type Readable } from 'node:stream'
import { is } from 'drizzle-orm'
import { PostgresJsDatabase } from 'drizzle-orm/postgres-js'
import { createGunzip } from 'node:zlib'
import type { Db, Tx } from '../../db/client.js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { enterWorkspace, inWorkspace, readInWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, toPage, type Page } from '../../lib/cursor.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import { isUniqueViolation } from '../contacts/contacts.duplicates.js'
import { emptyValidation, validateContacts, type ValidatedContacts } from '../contacts/contacts.upsert.js'
import type { InteractionsService } from '../interactions/interactions.service.js'
import type { PromisesService } from '../promises/promises.service.js'
import { applyContacts, createRecordAppliers } from './imports.apply.js'
import { csvRows, ndjsonRows, pipeInto, type StagedRow } from './imports.parse.js'
import * as repo from './imports.repository.js'
import type { ImportJobDto, ImportParams } from './imports.schemas.js'

// A staged batch is written once it holds IMPORT_BATCH_ROWS rows or this long after the last
// one (when a row comes in): a slow upload still shows signs of life within its lease.
const STAGE_FLUSH_MS = 1000
// Rows validated between two turns of the event loop when reading ahead: the batch being written
// meanwhile gets its answers handled promptly (its statements leave as soon as they are built).
const VALIDATE_SLICE = 250

/** The next batch of a contacts job, read and validated ahead (before the one before it committed). */
interface ReadAhead { rows: repo.ImportRowRow[], validated: ValidatedContacts }

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
  limits?: { maxBytes: number, uploadLeaseMs: number, batchRows?: number, batchBytes?: number }, onWork?: () => void
}) {
  const maxBytes = limits?.maxBytes ?? 2 * 1024 ** 3
  const uploadLeaseMs = limits?.uploadLeaseMs ?? 600_000
  // Rows per staging transaction (COPY on PostgreSQL) and per applied batch (one transaction with
  // a handful of set-based statements whatever its size; bench/README.md has the measurements).
  const batchRows = limits?.batchRows ?? 5000
  // ...and at most this many bytes of rows as uploaded (past a batch's first row): 5,000 rows of
  // 100 kB bodies would be half a gigabyte in memory at once, twice over as the statement's JSON.
  const batchBytes = limits?.batchBytes ?? 16 * 1024 * 1024
  const appliers: Appliers & { contacts: typeof applyContacts } = { ...createRecordAppliers({ interactions, promises }), contacts: applyContacts }
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  // The server validates a contacts batch (zod, libphonenumber) about as long as PostgreSQL takes
  // to write one: while batch N is written, batch N+1 is read (another connection) and validated
  // here, so neither waits for the other. Nothing is written ahead: batch N+1 is applied in its own
  // transaction as before, and only if its rows are still the job's next pending rows then
  // (isNextBatch); otherwise (batch N rolled back, another worker got there) it is read again.
  // PostgreSQL only: PGlite runs in this process, one statement at a time (nothing to overlap).
  const readsAhead = is(db, PostgresJsDatabase)
  const ahead = new Map<string, Promise<ReadAhead | undefined>>()
  function readAhead (job: repo.ImportJobRow, afterLine: number): Promise<ReadAhead | undefined> {
    return (async () => {
      const rows = await readInWorkspace(db, job.workspaceId, (t) => repo.pendingRows(t, job.workspaceId, job.id, batchRows, afterLine, batchBytes))
      const records = rows.map((r) => r.data)
      const validated = emptyValidation(records.length)
      for (let from = 0; from < records.length; from += VALIDATE_SLICE) {
        await nextTurn()
        validateContacts(job.upsertOn, records, validated, from, Math.min(from + VALIDATE_SLICE, records.length))
      }
      return { rows, validated }
    })().catch(() => undefined) // only an optimisation: the batch is read again
  }
  async function nextBatch (tx: Tx, job: repo.ImportJobRow): Promise<{ rows: repo.ImportRowRow[], validated?: ValidatedContacts }> {
    const early = ahead.get(job.id)
    ahead.delete(job.id)
    const read = early ? await early : undefined
    const batch = read && await repo.isNextBatch(tx, job.workspaceId, job.id, read.rows) ? read : { rows: await repo.pendingRows(tx, job.workspaceId, job.id, batchRows, undefined, batchBytes) }
    if (readsAhead && job.type === 'contacts' && batch.rows.length > 0) {
      // One read ahead per job, a few jobs at most (workspaces take turns between jobs).
      if (ahead.size >= 4) ahead.delete(ahead.keys().next().value!)
      ahead.set(job.id, readAhead(job, batch.rows[batch.rows.length - 1].line))
    }
    return batch
  }

  async function stage (ctx: RequestContext, jobId: string, rows: AsyncIterable<StagedRow>) {
    // A failed write is the server's problem, not a malformed upload: it must not become a 400
    // whose detail quotes the SQL.
    const write = (full: StagedRow[]) => ws(ctx, (tx) => repo.stageRows(tx, ctx.workspaceId, jobId, full)).catch((err) => { throw new StagingFailed(err) })
    // One batch is written while the next is parsed (the database and the parser each have a
    // core); at most two batches are in memory.
    let inflight: Promise<void> | undefined
    let batch: StagedRow[] = []
    let bytes = 0
    let flushed = Date.now()
    const flush = async () => {
      const full = batch
      batch = []
      bytes = 0
      await inflight
      inflight = write(full)
      inflight.catch(() => {}) // awaited before the next write or below; not unhandled meanwhile
      flushed = Date.now()
    }
    try {
      for await (const row of rows) {
        // Within the byte bound unless a single row is larger (then it is a batch of its own).
        if (batch.length > 0 && bytes + row.bytes > batchBytes) await flush()
        batch.push(row)
        bytes += row.bytes
        if (batch.length >= batchRows || Date.now() - flushed >= STAGE_FLUSH_MS) await flush()
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
          dryRun: params.dryRun, idempotencyKey: opts.idempotencyKey ?? null, actor: ctx.actor, scopes: [...ctx.scopes], createdAt: clock.now()
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
        const { rows, validated } = await nextBatch(tx, job)
        if (rows.length === 0) {
          await repo.updateJob(tx, job.workspaceId, job.id, { status: 'completed', finishedAt: clock.now() })
          // Only the failed rows stay: the errors report reads them.
          await repo.dropSettledRows(tx, job.workspaceId, job.id)
          return true
        }
        const outcomes = job.type === 'contacts' ? await applyContacts(tx, job, rows, clock.now(), validated) : await appliers[job.type](tx, job, rows)
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
