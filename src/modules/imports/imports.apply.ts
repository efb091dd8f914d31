import { TransactionRollbackError } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { allScopes, type RequestContext } from '../../lib/context.js'
import { DomainError, type FieldError } from '../../lib/errors.js'
import { zodIssuesToFieldErrors } from '../../lib/validation.js'
import { contactIdsByRef, upsertContacts, type ValidatedContacts } from '../contacts/contacts.upsert.js'
import type { InteractionsService } from '../interactions/interactions.service.js'
import type { InteractionLogInput } from '../interactions/interactions.schemas.js'
import type { PromiseCreateInput } from '../promises/promises.schemas.js'
import { newId } from '../../lib/ids.js'
import type { PromisesService, PromiseVerdict } from '../promises/promises.service.js'
import { InteractionImportRow, naturalKey, PromiseImportRow, termsOf, type InteractionImportInput, type PromiseImportInput } from './imports.records.js'
import * as repo from './imports.repository.js'

export interface Outcome { line: number, status: 'created' | 'updated' | 'unchanged' | 'failed', errors: Array<{ field: string, reason: string }> | null, key: string | null }
type Job = repo.ImportJobRow
type Row = Pick<repo.ImportRowRow, 'line' | 'data'>

const fieldOf = (pointer: string) => pointer.replace(/^\/(body\/)?/, '').replace(/\//g, '.')
const failed = (line: number, errors: FieldError[], message: string): Outcome =>
  ({ line, status: 'failed', key: null, errors: (errors.length ? errors : [{ pointer: '', message }]).map((e) => ({ field: fieldOf(e.pointer), reason: e.message })) })

/**
 * Contacts: one set-based upsert for the batch (contacts.upsert.ts). A dry run writes nothing, so
 * a key that an earlier batch of the same job "created" is found again by replaying those earlier
 * rows in front of this batch (import_rows.key): the counts are those the real run gives.
 * `validated`: the rows already checked against the schema (read ahead while the batch before was written).
 */
export async function applyContacts (tx: Tx, job: Job, rows: Row[], now: Date, validated?: ValidatedContacts): Promise<Outcome[]> {
  const records = rows.map((r) => r.data)
  let results = await upsertContacts(tx, job.workspaceId, job.upsertOn, records, { dryRun: job.dryRun, now, validated })
  if (job.dryRun) {
    const keys = results.flatMap((r) => (r.key === undefined ? [] : [r.key]))
    const earlier = await repo.appliedRowsWithKeys(tx, job.workspaceId, job.id, keys)
    if (earlier.length > 0) {
      results = (await upsertContacts(tx, job.workspaceId, job.upsertOn, [...earlier.map((e) => e.data), ...records], { dryRun: true, now })).slice(earlier.length)
    }
  }
  return results.map((r, i) => r.result === 'error'
    ? failed(rows[i].line, r.errors, r.message)
    : { line: rows[i].line, status: r.result, errors: null, key: r.key ?? null })
}

const DRY_RUN = '(dry run)'
/** A set-based way to create a batch's new records with the same rules as `create`, all or nothing. */
interface Bulk<T> { newId: () => string, createMany: (ctx: RequestContext, items: Array<{ id: string, input: T, contactId: string }>, sp: Tx) => Promise<void> }
interface Known { recordId: string, hash: string }
interface Valid<T> { line: number, input: T, key: string, hash: string, contactField: string }

/** Runs one row's service calls in a savepoint: a refused row leaves nothing behind; a dry run rolls back. */
async function attempt<T> (tx: Tx, dryRun: boolean, fn: (sp: Tx) => Promise<T>): Promise<{ value?: T, error?: DomainError | Error }> {
  let value: T | undefined
  try {
    await tx.transaction(async (sp) => {
      value = await fn(sp as unknown as Tx)
      if (dryRun) sp.rollback()
    })
  } catch (err) {
    if (!(err instanceof TransactionRollbackError)) return { error: err as Error }
  }
  return { value }
}

function rowError (line: number, err: Error, contactField: string): Outcome {
  if (!(err instanceof DomainError)) return failed(line, [], 'The row could not be stored')
  const details = err.details.errors as FieldError[] | undefined
  if (details?.length) return failed(line, details, err.message)
  const field = err.code === 'contact.not_found' ? contactField : err.code.startsWith('promise.') ? 'status' : err.code.startsWith('channel.') ? 'channelId' : ''
  return failed(line, [{ pointer: field, message: err.message }], err.message)
}

/**
 * Interactions and promises: each row validated with the single-record schema and applied through
 * the service (the same rules as the API: contact resolution, promise state machine, events): the
 * batch's new records in one set-based call (`bulk`: logMany, createMany), or, when that call
 * refuses any row, row by row in savepoints for a verdict per row. Contact references and natural
 * keys are looked up for the whole batch at once.
 */
export function createRecordAppliers (deps: { interactions: InteractionsService, promises: PromisesService }) {
  async function apply<T extends InteractionImportInput | PromiseImportInput> (
    tx: Tx, job: Job, rows: Row[],
    schema: typeof InteractionImportRow | typeof PromiseImportRow,
    create: (ctx: RequestContext, input: T, contactId: string, sp: Tx) => Promise<string>,
    transition?: (ctx: RequestContext, id: string, input: T, sp: Tx) => Promise<void>,
    bulk?: Bulk<T>
  ): Promise<Outcome[]> {
    const ws = job.workspaceId
    // One import of this kind at a time per workspace: two jobs with the same file never race to a
    // key (held until the batch commits).
    await repo.lockImportKind(tx, ws, job.type)
    const ctx = { workspaceId: ws, actor: job.actor, scopes: new Set<string>(job.scopes ?? allScopes), log: undefined } as unknown as RequestContext
    const outcomes = new Map<number, Outcome>()
    const valid: Valid<T>[] = []
    for (const row of rows) {
      const parsed = schema.safeParse(row.data)
      if (!parsed.success) {
        outcomes.set(row.line, failed(row.line, zodIssuesToFieldErrors(parsed.error.issues), 'The row is not valid'))
        continue
      }
      const input = parsed.data as T
      const contactField = input.contactId !== undefined ? 'contactId' : input.contactExternalId !== undefined ? 'contactExternalId' : 'contactEmail'
      valid.push({ line: row.line, input, contactField, ...naturalKey(input as Record<string, unknown>) })
    }
    const refs = await contactIdsByRef(tx, ws, {
      externalIds: valid.flatMap((v) => v.input.contactExternalId ?? []),
      emails: valid.flatMap((v) => v.input.contactEmail ?? [])
    })
    const known = new Map<string, Known>((await repo.findImportKeys(tx, ws, job.type, valid.map((v) => v.key))).map((k) => [k.key, k]))
    if (job.dryRun) {
      // What earlier batches of this dry run would have written.
      for (const e of await repo.appliedRowsWithKeys(tx, ws, job.id, valid.map((v) => v.key))) {
        const parsed = schema.safeParse(e.data)
        if (parsed.success && e.key) known.set(e.key, { recordId: DRY_RUN, hash: naturalKey(parsed.data as Record<string, unknown>).hash })
      }
    }
    const knownBefore = new Map(known)
    let written: Array<{ key: string, recordId: string, hash: string }> = []
    // Every row decided in file order (a key seen earlier in the file is known by then); a new
    // record is created at once (one savepoint per row), or, in bulk mode, given its id now and
    // created with the other new ones of the batch afterwards.
    // Returns false when bulk mode meets a row it cannot take (a transition: it would run at once,
    // before the records deferred ahead of it exist, and could not be taken back): nothing was
    // written yet, and the batch is decided again row by row.
    // `on`/`rollbackEach`: where each row's savepoint opens, and whether it is rolled back at once
    // (a dry run's rows are instead kept until the batch's own savepoint is rolled back: see below).
    const decide = async (deferred?: Array<{ id: string, input: T, contactId: string }>, on: Tx = tx, rollbackEach = job.dryRun): Promise<boolean> => {
      for (const v of valid) {
        const contactId = v.input.contactId ?? (v.input.contactExternalId !== undefined ? refs.byExternalId.get(v.input.contactExternalId) : refs.byEmail.get(v.input.contactEmail!))
        if (contactId === undefined) {
          outcomes.set(v.line, failed(v.line, [{ pointer: v.contactField, message: `No contact has this ${v.contactField === 'contactEmail' ? 'e-mail' : 'externalId'}` }], 'Contact not found'))
          continue
        }
        const before = known.get(v.key)
        const done = (status: Outcome['status'], recordId: string) => {
          outcomes.set(v.line, { line: v.line, status, errors: null, key: v.key })
          known.set(v.key, { recordId, hash: v.hash })
          if (status !== 'unchanged') written.push({ key: v.key, recordId, hash: v.hash })
        }
        if (before?.hash === v.hash) {
          done('unchanged', before.recordId)
        } else if (before && transition && termsOf(before.hash) === termsOf(v.hash)) {
          if (deferred) return false
          // In a dry run an earlier batch's record was never written: nothing to move yet.
          const { error } = before.recordId === DRY_RUN ? {} : await attempt(on, rollbackEach, (sp) => transition(ctx, before.recordId, v.input, sp))
          if (error) outcomes.set(v.line, rowError(v.line, error, v.contactField))
          else done('updated', before.recordId)
        } else if (before) {
          outcomes.set(v.line, failed(v.line, [{ pointer: v.input.externalId !== undefined ? 'externalId' : '', message: `Imported before (${before.recordId}) with other values; an import does not change it` }], 'Imported before'))
        } else if (deferred) {
          const id = bulk!.newId()
          deferred.push({ id, input: v.input, contactId })
          done('created', job.dryRun ? DRY_RUN : id)
        } else {
          const { value, error } = await attempt(on, rollbackEach, (sp) => create(ctx, v.input, contactId, sp))
          if (error) outcomes.set(v.line, rowError(v.line, error, v.contactField))
          else done('created', job.dryRun ? DRY_RUN : value!)
        }
      }
      return true
    }
    const deferred: Array<{ id: string, input: T, contactId: string }> = []
    let inBulk = bulk ? await decide(deferred) : false
    if (inBulk && deferred.length > 0) {
      // A row refused by a rule the set-based write cannot tell apart (a merged contact's old id,
      // a duplicate provider id, an unknown channel…) fails it all: nothing of it is kept.
      inBulk = !(await attempt(tx, job.dryRun, (sp) => bulk!.createMany(ctx, deferred, sp))).error
    }
    if (!inBulk) {
      // Row by row, each in its own savepoint, for a verdict per row.
      known.clear()
      for (const [k, v] of knownBefore) known.set(k, v)
      for (const v of valid) outcomes.delete(v.line)
      written = []
      if (job.dryRun) {
        // One savepoint for the batch, rolled back once every row is decided: each row sees what the
        // rows before it would have written (a provider message id twice in a file fails the second
        // row, as in the real run), and nothing stays.
        const { error } = await attempt(tx, true, async (batch) => { await decide(undefined, batch, false) })
        if (error) throw error
      } else {
        await decide()
      }
    }
    if (!job.dryRun) await repo.saveImportKeys(tx, ws, job.type, written)
    return rows.map((r) => outcomes.get(r.line)!)
  }

  const strip = <T extends Record<string, unknown>>(input: T, ...keys: string[]) =>
    Object.fromEntries(Object.entries(input).filter(([k]) => !keys.includes(k)))
  const logInput = (input: InteractionImportInput, contactId: string) =>
    ({ ...strip(input, 'contactExternalId', 'contactEmail', 'externalId'), contactId }) as unknown as InteractionLogInput

  return {
    interactions: (tx: Tx, job: Job, rows: Row[]) => apply<InteractionImportInput>(tx, job, rows, InteractionImportRow,
      async (ctx, input, contactId, sp) => {
        const dto = await deps.interactions.log(ctx, logInput(input, contactId), sp)
        return dto.id
      },
      undefined,
      {
        newId: () => newId('interaction'),
        createMany: async (ctx, items, sp) => { await deps.interactions.logMany(ctx, items.map((i) => ({ id: i.id, input: logInput(i.input, i.contactId) })), sp) }
      }),

    promises: (tx: Tx, job: Job, rows: Row[]) => apply<PromiseImportInput>(tx, job, rows, PromiseImportRow,
      async (ctx, input, contactId, sp) => {
        const dto = await deps.promises.create(ctx, createInput(input, contactId), sp)
        if (hasVerdict(input)) await verdict(ctx, dto.id, input, sp)
        return dto.id
      },
      (ctx, id, input, sp) => verdict(ctx, id, input, sp),
      {
        newId: () => newId('promise'),
        createMany: async (ctx, items, sp) => {
          // Verdicts through the promise service's state machine, as over HTTP (closed set-based there).
          await deps.promises.createMany(ctx, items.map((i) => ({ id: i.id, input: createInput(i.input, i.contactId), verdict: verdictOf(i.input) })), sp)
        }
      })
  }

  function createInput (input: PromiseImportInput, contactId: string): PromiseCreateInput {
    return { ...strip(input, 'contactExternalId', 'contactEmail', 'externalId', 'status', 'keptAt', 'reason'), contactId } as unknown as PromiseCreateInput
  }
  function hasVerdict (input: PromiseImportInput) { return input.status !== undefined && input.status !== 'open' }
  function verdictOf (input: PromiseImportInput): PromiseVerdict | undefined {
    if (input.status === 'kept') return { status: 'kept', keptAt: input.keptAt }
    if (input.status === 'broken' || input.status === 'cancelled') return { status: input.status, reason: input.reason }
    return undefined
  }

  /** The promise service's own transitions: its state machine refuses what it would refuse over HTTP. */
  async function verdict (ctx: RequestContext, id: string, input: PromiseImportInput, sp: Tx) {
    if (input.status === 'kept') await deps.promises.keep(ctx, id, input.keptAt ? { keptAt: input.keptAt } : {}, sp)
    else if (input.status === 'broken') await deps.promises.break(ctx, id, input.reason, sp)
    else if (input.status === 'cancelled') await deps.promises.cancel(ctx, id, input.reason, sp)
    else throw new DomainError('promise.invalid_transition', `Promise ${id} cannot be opened again by an import`)
  }
}
