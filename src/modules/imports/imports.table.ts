import { sql } from 'drizzle-orm'
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core'
import { tstz, workspaceId } from '../../db/columns.js'

export const importStatuses = ['receiving', 'queued', 'running', 'completed', 'failed', 'cancelled'] as const
export const importTypes = ['contacts', 'interactions', 'promises'] as const

export const importJobs = pgTable('import_jobs', {
  workspaceId: workspaceId(),
  id: text('id').notNull(),
  type: text('type', { enum: importTypes }).notNull(),
  format: text('format', { enum: ['csv', 'ndjson'] }).notNull(),
  upsertOn: text('upsert_on', { enum: ['externalId', 'email', 'phone'] }).notNull(),
  dryRun: boolean('dry_run').notNull().default(false),
  idempotencyKey: text('idempotency_key'),
  actor: text('actor').notNull(),
  /**
   * The uploader's scopes: rows run through the services with them, so an import can do no more
   * than its token could one record at a time (an interaction keeping promises needs
   * promises:write). Null on jobs from before they were recorded: those keep every right.
   */
  scopes: text('scopes').array(),
  status: text('status', { enum: importStatuses }).notNull().default('receiving'),
  rowsRead: integer('rows_read').notNull().default(0),
  created: integer('created').notNull().default(0),
  updated: integer('updated').notNull().default(0),
  unchanged: integer('unchanged').notNull().default(0),
  failed: integer('failed').notNull().default(0),
  error: text('error'),
  createdAt: tstz('created_at').notNull().defaultNow(),
  startedAt: tstz('started_at'),
  finishedAt: tstz('finished_at'),
  /**
   * Last sign of life: each staged batch while receiving (a job whose server died mid-upload is
   * failed once this is older than the lease), each applied batch while running (the worker
   * serves the workspace it served least recently first).
   */
  heartbeatAt: tstz('heartbeat_at').notNull().defaultNow()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.id] }),
  uniqueIndex('import_jobs_idempotency_key').on(t.workspaceId, t.idempotencyKey).where(sql`idempotency_key is not null`),
  index('import_jobs_runnable_idx').on(t.createdAt).where(sql`status in ('queued', 'running')`)
])

/**
 * Every row of an upload, staged durably while the body streams in. The worker turns batches of
 * pending rows into contacts, and marks them with their outcome in the same transaction: a crash
 * loses nothing and never leaves half a batch written.
 */
export const importRows = pgTable('import_rows', {
  workspaceId: workspaceId(),
  jobId: text('job_id').notNull(),
  line: integer('line').notNull(),
  data: jsonb('data').$type<Record<string, unknown> | null>(),
  status: text('status', { enum: ['pending', 'created', 'updated', 'unchanged', 'failed'] }).notNull().default('pending'),
  errors: jsonb('errors').$type<Array<{ field: string, reason: string }>>(),
  /** The row's natural key once applied (a dry run finds keys of its own earlier batches by it). */
  key: text('key'),
  /** Size of the row as uploaded (its text), so that a batch is bounded in bytes as well as rows. */
  bytes: integer('bytes').notNull().default(0)
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.jobId, t.line] }),
  index('import_rows_pending_idx').on(t.workspaceId, t.jobId, t.line).where(sql`status = 'pending'`),
  index('import_rows_key_idx').on(t.workspaceId, t.jobId, t.key).where(sql`key is not null`)
])

/**
 * What imported interactions and promises are known by, so that running the same file again
 * creates nothing: the row's own `externalId` when it has one ("x:..."), else a hash of its
 * content ("h:..."). `hash` is the content hash either way: same key, same hash = unchanged.
 */
export const importKeys = pgTable('import_keys', {
  workspaceId: workspaceId(),
  type: text('type', { enum: importTypes }).notNull(),
  key: text('key').notNull(),
  recordId: text('record_id').notNull(),
  hash: text('hash').notNull()
}, (t) => [
  primaryKey({ columns: [t.workspaceId, t.type, t.key] })
])
