import type { Db, Tx } from '../../db/client.js'
import { inWorkspace, readInWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { notFound } from '../../lib/errors.js'
import { assertVersion } from '../../lib/etag.js'
import { newId } from '../../lib/ids.js'
import { appendEvent } from '../events/events.log.js'
import { inKeyOrder } from '../../lib/key-order.js'
import { mergePatch } from '../../lib/merge-patch.js'
import { assertNoDuplicates, isUniqueViolation, mapUniqueViolation } from './contacts.duplicates.js'
import { upsertContacts, type UpsertKey, type UpsertResult } from './contacts.upsert.js'
import { deriveDisplayName, normalizeEmails } from './contacts.rules.js'
import * as repo from './contacts.repository.js'
import type { ContactCreateInput, ContactDto, ContactListInput, ContactPatchInput } from './contacts.schemas.js'
import { isoTime } from '../../lib/iso-time.js'

export interface ContactsServiceDeps { db: Db, clock: Clock }

export function toContactDto (row: repo.ContactRow): ContactDto {
  return {
    id: row.id,
    displayName: row.displayName,
    givenName: row.givenName,
    familyName: row.familyName,
    emails: row.emails,
    phones: row.phones,
    company: row.company,
    title: row.title,
    tags: row.tags,
    attributes: row.attributes,
    externalId: row.externalId,
    createdAt: isoTime(row.createdAt),
    updatedAt: isoTime(row.updatedAt),
    version: row.version
  }
}

export function createContactsService ({ db, clock }: ContactsServiceDeps) {
  const ws = <T>(ctx: RequestContext, fn: (tx: Tx) => Promise<T>, tx?: Tx) => inWorkspace(db, ctx.workspaceId, fn, tx)
  const wsRead = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => readInWorkspace(db, ctx.workspaceId, fn, tx)
  // Recorded in the change's transaction: the event log (feed, subscriptions, webhooks) never disagrees with the data.
  const record = (tx: Tx, workspaceId: string, type: 'contact.created' | 'contact.updated' | 'contact.deleted', dto: ContactDto) =>
    appendEvent(tx, { workspaceId, type, subjectId: dto.id, data: dto, occurredAt: clock.now() })

  // A merged contact's id keeps working: it resolves to the survivor.
  async function requireRow (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, id: string, forUpdate = false) {
    const row = await repo.findLiveContact(tx, ctx.workspaceId, id, forUpdate)
    if (!row) throw notFound('contact.not_found', id)
    return row
  }

  return {
    /** The live id behind a contact id (itself, or its merge survivor); contact.not_found if none. */
    async resolveId (ctx: Pick<RequestContext, 'workspaceId'>, id: string, tx?: Tx): Promise<string> {
      return wsRead(ctx, async (t) => (await requireRow(t, ctx, id)).id, tx)
    },

    resolveIdIn: (tx: Tx, workspaceId: string, id: string) => repo.resolveAlias(tx, workspaceId, id),

    async findByAddress (tx: Tx, workspaceId: string, kind: 'email' | 'phone', address: string): Promise<string | undefined> {
      const id = await repo.findByEmailOrPhone(tx, workspaceId, kind, address)
      return id ? await repo.resolveAlias(tx, workspaceId, id) : undefined
    },

    /** The contact's own primary e-mail or first phone, when a channel sends to those kinds. */
    async defaultAddress (tx: Tx, workspaceId: string, contactId: string, kinds: string[]): Promise<string | undefined> {
      const row = await repo.getContact(tx, workspaceId, contactId)
      for (const kind of kinds) {
        if (kind === 'email' && row?.emails[0]) return row.emails[0].address
        if (kind === 'phone' && row?.phones[0]) return row.phones[0]
      }
      return undefined
    },

    /** A contact for an unknown inbound sender, named after what the provider told us. */
    async createFromSender (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, sender: { kind: string, address: string, name?: string }): Promise<string> {
      const emails = sender.kind === 'email' ? [{ address: sender.address, primary: true }] : []
      const row = await repo.insertContact(tx, {
        workspaceId: ctx.workspaceId,
        id: newId('contact'),
        displayName: sender.name?.trim() || sender.address,
        emails,
        phones: sender.kind === 'phone' ? [sender.address] : []
      })
      await repo.replaceEmails(tx, ctx.workspaceId, row.id, emails)
      await record(tx, ctx.workspaceId, 'contact.created', toContactDto(row))
      return row.id
    },

    async get (ctx: RequestContext, id: string, tx?: Tx): Promise<ContactDto> {
      return wsRead(ctx, async (t) => toContactDto(await requireRow(t, ctx, id)), tx)
    },

    /** For loaders: rows in the order of `ids`, null where absent (other workspace, deleted). */
    async getMany (ctx: RequestContext, ids: string[], tx?: Tx): Promise<(ContactDto | null)[]> {
      const rows = await wsRead(ctx, (t) => repo.getContacts(t, ctx.workspaceId, ids), tx)
      return inKeyOrder(ids, rows.map(toContactDto))
    },

    async list (ctx: RequestContext, query: ContactListInput & PageRequest, tx?: Tx): Promise<Page<ContactDto>> {
      const read = keysetRead(query, (c) => decodeCursor<{ id: string }>(c, ['id']).id)
      const rows = await wsRead(ctx, (t) => repo.listContacts(t, ctx.workspaceId, {
        ...contactFilter(query), beforeId: read.below, newerThanId: read.above, oldestFirst: read.lowFirst
      }, query.limit + 1), tx)
      const page = toDirectedPage(rows, query, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toContactDto) }
    },

    /** How many contacts match a list's filters (GraphQL totalCount). */
    async count (ctx: RequestContext, query: Omit<ContactListInput, 'limit'>): Promise<number> {
      return wsRead(ctx, (t) => repo.countContacts(t, ctx.workspaceId, contactFilter(query)))
    },

    async create (ctx: RequestContext, input: ContactCreateInput, tx?: Tx): Promise<ContactDto> {
      const emails = normalizeEmails(input.emails ?? [])
      const fields = {
        givenName: input.givenName ?? null,
        familyName: input.familyName ?? null,
        emails,
        phones: [...new Set(input.phones ?? [])],
        company: input.company ?? null,
        title: input.title ?? null,
        tags: [...new Set(input.tags ?? [])],
        attributes: (input.attributes ?? {}) as Record<string, unknown>,
        externalId: input.externalId ?? null
      }
      const displayName = input.displayName ?? deriveDisplayName(fields)
      return mapUniqueViolation(db, ctx, () => ws(ctx, async (t) => {
        await assertNoDuplicates(t, ctx.workspaceId, emails, fields.externalId)
        const row = await repo.insertContact(t, { workspaceId: ctx.workspaceId, id: newId('contact'), displayName, ...fields })
        await repo.replaceEmails(t, ctx.workspaceId, row.id, emails)
        const dto = toContactDto(row)
        await record(t, ctx.workspaceId, 'contact.created', dto)
        return dto
      }, tx), emails, fields.externalId)
    },

    async update (ctx: RequestContext, id: string, patch: ContactPatchInput, opts: { expectedVersion?: number } = {}, tx?: Tx): Promise<ContactDto> {
      return mapUniqueViolation(db, ctx, () => ws(ctx, async (t) => {
        const current = await requireRow(t, ctx, id, true)
        assertVersion(opts.expectedVersion, current.version)
        id = current.id
        const next = applyPatch(current, patch)
        const emailsChanged = patch.emails !== undefined
        await assertNoDuplicates(t, ctx.workspaceId, emailsChanged ? next.emails : [], patch.externalId ?? null, id)
        const row = await repo.updateContact(t, ctx.workspaceId, id, next)
        if (emailsChanged) await repo.replaceEmails(t, ctx.workspaceId, id, next.emails)
        const dto = toContactDto(row)
        await record(t, ctx.workspaceId, 'contact.updated', dto)
        return dto
      }, tx), patch.emails ? normalizeEmails(patch.emails) : [], patch.externalId ?? null, id)
    },

    /**
     * Batch upsert by a key, one result per record. A concurrent writer creating the same key
     * makes the whole batch retry (it then sees that contact and updates it): never a duplicate.
     */
    async upsertMany (ctx: RequestContext, key: UpsertKey, records: unknown[], opts: { dryRun?: boolean } = {}, tx?: Tx): Promise<UpsertResult[]> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await ws(ctx, (t) => upsertContacts(t, ctx.workspaceId, key, records, { ...opts, now: clock.now() }), tx)
        } catch (err) {
          if (tx || attempt >= 3 || !isUniqueViolation(err)) throw err
        }
      }
    },

    async remove (ctx: RequestContext, id: string, opts: { expectedVersion?: number } = {}, tx?: Tx): Promise<void> {
      await ws(ctx, async (t) => {
        const current = await requireRow(t, ctx, id, true)
        assertVersion(opts.expectedVersion, current.version)
        await repo.softDeleteContact(t, ctx.workspaceId, current.id)
        await record(t, ctx.workspaceId, 'contact.deleted', toContactDto(current))
      }, tx)
    }
  }
}

export type ContactsService = ReturnType<typeof createContactsService>

function applyPatch (current: repo.ContactRow, patch: ContactPatchInput) {
  const pick = <K extends keyof ContactPatchInput & keyof repo.ContactRow>(key: K, empty: repo.ContactRow[K]) =>
    patch[key] === undefined ? current[key] : (patch[key] ?? empty)
  const fields = {
    givenName: pick('givenName', null),
    familyName: pick('familyName', null),
    emails: patch.emails === undefined ? current.emails : normalizeEmails(patch.emails ?? []),
    phones: patch.phones === undefined ? current.phones : [...new Set(patch.phones ?? [])],
    company: pick('company', null),
    title: pick('title', null),
    tags: patch.tags === undefined ? current.tags : [...new Set(patch.tags ?? [])],
    attributes: patch.attributes === undefined
      ? current.attributes
      : (patch.attributes === null ? {} : mergePatch(current.attributes, patch.attributes) as Record<string, unknown>),
    externalId: pick('externalId', null)
  }
  // An explicit null asks for the derived name; absence keeps the current one.
  const displayName = patch.displayName === undefined ? current.displayName : (patch.displayName ?? deriveDisplayName(fields))
  return { ...fields, displayName }
}

function contactFilter (query: Omit<ContactListInput, 'limit'>): repo.ContactFilter {
  return {
    q: query.q,
    tag: query.tag,
    email: query.email,
    externalId: query.externalId,
    updatedSince: query.updatedSince ? new Date(query.updatedSince) : undefined
  }
}
