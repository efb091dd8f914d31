import { and, eq, getTableColumns, isNull, sql, type SQL } from 'drizzle-orm'
import type { Tx } from '../../db/client.js'
import { perKey, rowsOf, textList } from '../../db/key-lists.js'
import type { FieldError } from '../../lib/errors.js'
import { DomainError } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import { zodIssuesToFieldErrors } from '../../lib/validation.js'
import { deriveDisplayName, normalizeEmails } from './contacts.rules.js'
import { ContactCreate, type ContactCreateInput } from './contacts.schemas.js'
import { contacts, type EmailEntry } from './contacts.table.js'
import { recordUpserts } from './contacts.upsert-events.js'

export const upsertKeys = ['externalId', 'email', 'phone'] as const
export type UpsertKey = (typeof upsertKeys)[number]

export type UpsertResult =
  | { index: number, result: 'created' | 'updated' | 'unchanged', id: string, key?: string }
  | { index: number, result: 'error', code: string, message: string, errors: FieldError[], key?: string }

type Row = typeof contacts.$inferSelect
interface Fields { displayName: string, givenName: string | null, familyName: string | null, emails: EmailEntry[], phones: string[], company: string | null, title: string | null, tags: string[], attributes: Record<string, unknown>, externalId: string | null }

const fail = (index: number, code: string, message: string, errors: FieldError[] = []): UpsertResult => ({ index, result: 'error', code, message, errors })

/** The fields a record sets, normalized; absent fields keep the existing contact's values. */
function merged (input: ContactCreateInput, current?: Row): Fields {
  const pick = <T>(value: T | undefined, fallback: T) => (value === undefined ? fallback : value)
  const emails = input.emails === undefined ? (current?.emails ?? []) : normalizeEmails(input.emails ?? [])
  const base = {
    givenName: pick(input.givenName, current?.givenName ?? null),
    familyName: pick(input.familyName, current?.familyName ?? null),
    emails,
    phones: input.phones === undefined ? (current?.phones ?? []) : [...new Set(input.phones ?? [])],
    company: pick(input.company, current?.company ?? null),
    title: pick(input.title, current?.title ?? null),
    tags: input.tags === undefined ? (current?.tags ?? []) : [...new Set(input.tags ?? [])],
    attributes: input.attributes === undefined ? (current?.attributes ?? {}) : { ...(current?.attributes ?? {}), ...(input.attributes as Record<string, unknown> ?? {}) },
    externalId: pick(input.externalId, current?.externalId ?? null)
  }
  return { ...base, displayName: input.displayName ?? current?.displayName ?? deriveDisplayName(base) }
}

const same = (a: Fields, b: Row) => JSON.stringify([a.displayName, a.givenName, a.familyName, a.emails, a.phones, a.company, a.title, a.tags, a.attributes, a.externalId]) ===
  JSON.stringify([b.displayName, b.givenName, b.familyName, b.emails, b.phones, b.company, b.title, b.tags, b.attributes, b.externalId])

function keyOf (input: ContactCreateInput, key: UpsertKey): string | undefined {
  if (key === 'externalId') return input.externalId ?? undefined
  if (key === 'email') {
    const first = input.emails?.[0]
    return first === undefined ? undefined : (typeof first === 'string' ? first : first.address)
  }
  return input.phones?.[0] ?? undefined
}

/** A batch's records checked against the single-record schema: the valid ones with their key, the others' results. */
export interface ValidatedContacts { results: UpsertResult[], valid: Array<{ index: number, input: ContactCreateInput, key: string }> }

export const emptyValidation = (count: number): ValidatedContacts => ({ results: new Array(count), valid: [] })

/** Validates records[from, to) into `into` (a caller may validate a batch in slices, between other work). */
export function validateContacts (key: UpsertKey, records: unknown[], into: ValidatedContacts = emptyValidation(records.length), from = 0, to = records.length): ValidatedContacts {
  for (let index = from; index < to; index++) {
    const parsed = ContactCreate.safeParse(records[index])
    if (!parsed.success) {
      into.results[index] = fail(index, 'validation.failed', 'The record is not valid', zodIssuesToFieldErrors(parsed.error.issues))
      continue
    }
    const k = keyOf(parsed.data, key)
    if (k === undefined) {
      into.results[index] = fail(index, 'validation.failed', `The record has no ${key} to upsert on`, [{ pointer: `/${key === 'externalId' ? 'externalId' : key === 'email' ? 'emails' : 'phones'}`, message: 'Required for this upsert key', code: 'required' }])
      continue
    }
    into.valid.push({ index, input: parsed.data, key: k })
  }
  return into
}

/**
 * Upserts up to a batch of contact records in one transaction with a few set-based statements:
 * one lookup of existing contacts by key, one lookup of e-mail owners, one multi-row insert for
 * the new contacts (and their e-mails), and an update only for rows whose values changed.
 * Each record gets its own result: a bad one never fails the others. Within the batch, a later
 * record with the same key updates what an earlier one created, never duplicates it.
 * `opts.validated`: the records already validated (validateContacts), e.g. while the previous
 * batch was being written.
 */
export async function upsertContacts (tx: Tx, workspaceId: string, key: UpsertKey, records: unknown[], opts: { dryRun?: boolean, now: Date, validated?: ValidatedContacts }): Promise<UpsertResult[]> {
  const { results, valid } = opts.validated ?? validateContacts(key, records)
  // Owners first, then the contacts by key: each statement sees what committed before it, so a
  // contact a concurrent batch commits in between is found by its key (not taken for a clash).
  // Phones have no unique index (an array column cannot carry one): batches creating the same new
  // phone would each miss the other's. A transaction-scoped lock per phone, taken in one sorted
  // order (no deadlock), makes the second batch look only after the first committed.
  if (key === 'phone' && !opts.dryRun) await lockKeys(tx, workspaceId, 'phone', valid.map((v) => v.key))
  const owners = await emailOwners(tx, workspaceId, valid.flatMap((v) => (v.input.emails ?? []).map((e) => typeof e === 'string' ? e : e.address)))
  let externalOwners: Map<string, string>
  let existing: Map<string, Row>
  if (key === 'externalId') {
    // The keys are the externalIds: who holds each (merged contacts included, as the unique index
    // sees them) and the live contacts among them, from one statement.
    const holders = await externalIdHolders(tx, workspaceId, valid.map((v) => v.key))
    externalOwners = new Map([...holders].map(([k, r]) => [k, r.id]))
    existing = new Map([...holders].filter(([, r]) => r.mergedInto === null))
  } else {
    externalOwners = await externalIdOwners(tx, workspaceId, valid.flatMap((v) => v.input.externalId ? [v.input.externalId] : []))
    existing = await findByKeys(tx, workspaceId, key, valid.map((v) => v.key))
  }

  const creates: Row[] = []
  const created = new Set<Row>() // the rows of `creates` (a Set: batches run to thousands)
  const touched = new Map<string, Row>()
  for (const v of valid) {
    try {
      const current = touched.get(v.key) ?? existing.get(v.key)
      const fields = merged(v.input, current)
      const id = current?.id ?? newId('contact')
      const clash = fields.emails.find((e) => owners.has(e.address) && owners.get(e.address) !== id)
      if (clash) {
        results[v.index] = fail(v.index, 'contact.duplicate', `Another contact already has the e-mail ${clash.address}`, [{ pointer: '/emails', message: `Owned by ${owners.get(clash.address)}`, code: 'duplicate' }])
        continue
      }
      // The unique index would refuse it and abort the whole batch (an import would retry it forever).
      if (fields.externalId !== null && externalOwners.has(fields.externalId) && externalOwners.get(fields.externalId) !== id) {
        results[v.index] = fail(v.index, 'contact.duplicate', `Another contact already has the externalId ${fields.externalId}`, [{ pointer: '/externalId', message: `Owned by ${externalOwners.get(fields.externalId)}`, code: 'duplicate' }])
        continue
      }
      if (current && same(fields, current)) {
        results[v.index] = { index: v.index, result: 'unchanged', id, key: v.key }
        continue
      }
      const row = { ...(current ?? {}), ...fields, id, workspaceId } as Row
      for (const e of fields.emails) owners.set(e.address, id)
      if (fields.externalId !== null) externalOwners.set(fields.externalId, id)
      if (!current || created.has(current)) {
        if (current) {
          creates[creates.indexOf(current)] = row
          created.delete(current)
        } else creates.push(row)
        created.add(row)
        results[v.index] = { index: v.index, result: current ? 'updated' : 'created', id, key: v.key }
      } else {
        results[v.index] = { index: v.index, result: 'updated', id, key: v.key }
      }
      touched.set(v.key, row)
    } catch (err) {
      if (!(err instanceof DomainError)) throw err
      results[v.index] = fail(v.index, err.code, err.message, (err.details.errors as FieldError[] | undefined) ?? [])
    }
  }
  if (opts.dryRun) return results
  const written = await writeCreates(tx, workspaceId, creates)
  for (const [id, row] of await writeUpdates(tx, workspaceId, [...touched.values()].filter((r) => !created.has(r)))) written.set(id, row)
  // Every path that upserts (batch route, GraphQL, import jobs) logs its events here, in its transaction.
  await recordUpserts(tx, workspaceId, results, opts.now, written)
  return results
}


// Full contacts read by raw SQL, mapped as the query builder maps them (the same column types).
const contactFields = Object.entries(getTableColumns(contacts))
function toContactRow (raw: Record<string, unknown>): Row {
  const row: Record<string, unknown> = {}
  for (const [key, column] of contactFields) {
    const value = raw[column.name]
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value)
  }
  return row as Row
}
const live = (workspaceId: string) => sql`c.workspace_id = ${workspaceId} and c.deleted_at is null and c.merged_into is null`

async function lockKeys (tx: Tx, workspaceId: string, kind: string, keys: string[]) {
  const unique = [...new Set(keys)]
  if (unique.length === 0) return
  await tx.execute(sql`select count(pg_advisory_xact_lock(k)) from (
    select distinct hashtextextended(${workspaceId + ':' + kind + ':'} || p, 0) as k
    from unnest(${textList(unique)}) as p order by 1) as keys`)
}

/**
 * Contact ids for rows that name their contact by externalId or e-mail (interaction and promise
 * imports), in one query each for the whole batch. Live contacts only; a merged contact's e-mail
 * row points at it, so callers resolve the id (the services follow merges).
 */
export async function contactIdsByRef (tx: Tx, workspaceId: string, refs: { externalIds: string[], emails: string[] }) {
  const byExternalId = new Map<string, string>()
  const byEmail = new Map<string, string>()
  const externalIds = [...new Set(refs.externalIds)]
  const emails = [...new Set(refs.emails)]
  if (externalIds.length > 0) {
    const rows = rowsOf<{ id: string, external_id: string }>(await tx.execute(sql`select c.id, c.external_id
      ${perKey(externalIds, sql`select id, external_id from contacts c where ${live(workspaceId)} and c.external_id = k.v`)}`))
    for (const r of rows) byExternalId.set(r.external_id, r.id)
  }
  if (emails.length > 0) {
    for (const [email, contactId] of await emailOwners(tx, workspaceId, emails)) byEmail.set(email, contactId)
  }
  return { byExternalId, byEmail }
}

async function findByKeys (tx: Tx, workspaceId: string, key: UpsertKey, keys: string[]): Promise<Map<string, Row>> {
  const map = new Map<string, Row>()
  if (keys.length === 0) return map
  const unique = [...new Set(keys)]
  if (key === 'externalId') {
    const rows = rowsOf<Record<string, unknown>>(await tx.execute(sql`select c.* ${perKey(unique, sql`select * from contacts c where ${live(workspaceId)} and c.external_id = k.v`)}`))
    for (const r of rows.map(toContactRow)) map.set(r.externalId!, r)
  } else if (key === 'email') {
    const rows = rowsOf<Record<string, unknown>>(await tx.execute(sql`select k.v as key_email, c.*
      ${perKey(unique, sql`select c.* from contact_emails e join contacts c on c.workspace_id = e.workspace_id and c.id = e.contact_id
        where e.workspace_id = ${workspaceId} and e.email = k.v and c.merged_into is null`)}`))
    for (const r of rows) map.set(r.key_email as string, toContactRow(r))
  } else {
    const rows = await tx.select().from(contacts).where(and(eq(contacts.workspaceId, workspaceId), isNull(contacts.deletedAt), isNull(contacts.mergedInto), sql`${contacts.phones} && ${textList(keys)}`))
    const wanted = new Set(keys)
    for (const r of rows) for (const p of r.phones) if (wanted.has(p) && !map.has(p)) map.set(p, r)
  }
  return map
}

async function emailOwners (tx: Tx, workspaceId: string, emails: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(emails)]
  if (unique.length === 0) return new Map()
  const rows = rowsOf<{ email: string, contact_id: string }>(await tx.execute(sql`select c.email, c.contact_id
    ${perKey(unique, sql`select email, contact_id from contact_emails c where c.workspace_id = ${workspaceId} and c.email = k.v`)}`))
  return new Map(rows.map((r) => [r.email, r.contact_id]))
}

/** The contacts holding these externalIds, as the unique index sees them (every contact not deleted). */
async function externalIdHolders (tx: Tx, workspaceId: string, externalIds: string[]): Promise<Map<string, Row>> {
  const unique = [...new Set(externalIds)]
  if (unique.length === 0) return new Map()
  const rows = rowsOf<Record<string, unknown>>(await tx.execute(sql`select c.*
    ${perKey(unique, sql`select * from contacts c where c.workspace_id = ${workspaceId} and c.deleted_at is null and c.external_id = k.v`)}`))
  return new Map(rows.map(toContactRow).map((r) => [r.externalId!, r]))
}

/** Who holds each externalId, as the unique index sees it (every contact not deleted). */
async function externalIdOwners (tx: Tx, workspaceId: string, externalIds: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(externalIds)]
  if (unique.length === 0) return new Map()
  const rows = rowsOf<{ id: string, external_id: string }>(await tx.execute(sql`select c.id, c.external_id
    ${perKey(unique, sql`select id, external_id from contacts c where c.workspace_id = ${workspaceId} and c.deleted_at is null and c.external_id = k.v`)}`))
  return new Map(rows.map((r) => [r.external_id, r.id]))
}

// The batch's rows travel as one JSON parameter, unpacked by jsonb_to_recordset: one statement
// per table whatever the batch size, cheap to build and to plan.
const contactColumns = 'id text, display_name text, given_name text, family_name text, emails jsonb, phones text[], company text, title text, tags text[], attributes jsonb, external_id text'
const contactJson = (rows: Row[]) => JSON.stringify(rows.map((r) => ({
  id: r.id, display_name: r.displayName, given_name: r.givenName, family_name: r.familyName, emails: r.emails, phones: r.phones,
  company: r.company, title: r.title, tags: r.tags, attributes: r.attributes, external_id: r.externalId
})))

async function insertEmails (tx: Tx, workspaceId: string, rows: Row[]) {
  const emails = rows.flatMap((r) => r.emails.map((e) => ({ email: e.address, contact_id: r.id, is_primary: e.primary })))
  if (emails.length === 0) return
  await tx.execute(sql`insert into contact_emails (workspace_id, email, contact_id, is_primary)
    select ${workspaceId}, r.email, r.contact_id, r.is_primary from jsonb_to_recordset(${JSON.stringify(emails)}::jsonb) as r(email text, contact_id text, is_primary boolean)`)
}

// What the database set on each written row (timestamps, version), read back by RETURNING: with
// the values written, the contacts as they now stand, for their events without reading them again.
// Timestamps come back as text and become Dates as the query builder makes them (new Date(text)).
const stamps = (t: string) => sql.raw(`returning ${t}.id, ${t}.version, ${t}.created_at::text as created_at, ${t}.updated_at::text as updated_at`)
type Stamp = { id: string, version: number, created_at: string, updated_at: string }
function stamped (rows: Row[], result: unknown): Map<string, Row> {
  const byId = new Map(rows.map((r) => [r.id, r]))
  const out = new Map<string, Row>()
  // A batch's rows share their timestamps (now(): the transaction's start), and parsing this text
  // form is slow (V8's fallback date parser; 3 % of an import's server time): once per distinct text.
  const parsed = new Map<string, number>()
  const date = (text: string) => {
    let ms = parsed.get(text)
    if (ms === undefined) parsed.set(text, ms = new Date(text).getTime())
    return new Date(ms)
  }
  for (const s of rowsOf<Stamp>(result)) {
    // Completed in place, not copied: the row objects are this batch's own (built by the merge loop).
    const row = byId.get(s.id)!
    row.mergedInto = null
    row.deletedAt = null
    row.version = Number(s.version)
    row.createdAt = date(s.created_at)
    row.updatedAt = date(s.updated_at)
    out.set(s.id, row)
  }
  return out
}

async function writeCreates (tx: Tx, workspaceId: string, rows: Row[]): Promise<Map<string, Row>> {
  if (rows.length === 0) return new Map()
  const result = await tx.execute(sql`insert into contacts (workspace_id, id, display_name, given_name, family_name, emails, phones, company, title, tags, attributes, external_id)
    select ${workspaceId}, r.id, r.display_name, r.given_name, r.family_name, r.emails, r.phones, r.company, r.title, r.tags, r.attributes, r.external_id
    from jsonb_to_recordset(${contactJson(rows)}::jsonb) as r(${sql.raw(contactColumns)}) ${stamps('contacts')}`)
  await insertEmails(tx, workspaceId, rows)
  return stamped(rows, result)
}

/**
 * The changed contacts in three statements: their values, then their e-mail rows replaced. Within
 * a batch no e-mail moves between contacts (a clash fails the record), so deleting every updated
 * contact's e-mail rows before inserting the new ones never trips the unique key.
 */
async function writeUpdates (tx: Tx, workspaceId: string, rows: Row[]): Promise<Map<string, Row>> {
  if (rows.length === 0) return new Map()
  const result = await tx.execute(sql`update contacts c set display_name = r.display_name, given_name = r.given_name, family_name = r.family_name,
      emails = r.emails, phones = r.phones, company = r.company, title = r.title, tags = r.tags, attributes = r.attributes,
      external_id = r.external_id, version = c.version + 1, updated_at = now()
    from jsonb_to_recordset(${contactJson(rows)}::jsonb) as r(${sql.raw(contactColumns)})
    where c.workspace_id = ${workspaceId} and c.id = r.id ${stamps('c')}`)
  await tx.execute(sql`delete from contact_emails where workspace_id = ${workspaceId} and contact_id in (select unnest(${textList(rows.map((r) => r.id))}))`)
  await insertEmails(tx, workspaceId, rows)
  return stamped(rows, result)
}

/** Results with their tally (REST and GraphQL answer the same shape). */
export function summarize (results: UpsertResult[]) {
  const summary = { created: 0, updated: 0, unchanged: 0, failed: 0 }
  for (const r of results) summary[r.result === 'error' ? 'failed' : r.result]++
  return { summary, results }
}
