import type { Db, Tx } from '../../db/client.js'
import { inWorkspace, readInWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import { requireScope, type RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, toPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { DomainError, notFound } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import { inKeyOrder } from '../../lib/key-order.js'
import type { ChannelsService } from '../channels/channels.service.js'
import type { ContactDto } from '../contacts/contacts.schemas.js'
import type { ContactsService } from '../contacts/contacts.service.js'
import type { IdentitiesService } from '../identities/identities.service.js'
import { enqueueOutbox, listAttempts } from '../../jobs/outbox.repository.js'
import type { InboundEditEvent, InboundEvent, InboundMessageEvent, OutboundEchoEvent } from '../channels/adapters/channel-adapter.js'
import * as repo from './interactions.repository.js'
import { appendEvent, appendEvents } from '../events/events.log.js'
import { changeStatus, changeStatusUpTo } from './interactions.status.js'
import type { InteractionDto, InteractionListInput, InteractionLogInput, MessageSendInput } from './interactions.schemas.js'
import { isoTime } from '../../lib/iso-time.js'

export const SEND_TOPIC = 'message.send'

export function toInteractionDto (r: repo.InteractionRow & { raw?: unknown }, includeRaw = false): InteractionDto {
  return {
    id: r.id,
    contactId: r.contactId,
    channelId: r.channelId,
    direction: r.direction,
    kind: r.kind,
    subject: r.subject,
    body: r.body,
    threadId: r.threadId,
    providerMessageId: r.providerMessageId,
    status: r.status,
    statusReason: r.statusReason,
    counterpart: r.counterpart,
    attachments: r.attachments as Record<string, unknown>[],
    occurredAt: isoTime(r.occurredAt),
    authorId: r.authorId,
    ...(includeRaw ? { raw: r.raw ?? null } : {}),
    // Rows built for writes that do not read back (writtenRow) have no editedAt: never edited.
    editedAt: r.editedAt ? isoTime(r.editedAt) : null,
    createdAt: isoTime(r.createdAt),
    updatedAt: isoTime(r.updatedAt)
  }
}

interface Deps { db: Db, clock: Clock, contacts: ContactsService, channels: ChannelsService, identities: IdentitiesService, onOutboxWork?: () => void }

// Which interaction kind a message sent through a channel kind becomes.
const sentKind = (channelKind: string): repo.InteractionRow['kind'] => channelKind === 'email' ? 'email' : channelKind === 'sms' ? 'sms' : 'message'

/**
 * What the promises module does inside an interaction's transaction (wired in services.ts, since
 * promises themselves depend on interactions): keep the promises it proves, and suggest the
 * commitments its text makes.
 */
export interface PromiseHooks {
  keep: (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, promiseIds: string[], interactionId: string, at: Date) => Promise<void>
  suggest: (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, sent: repo.InteractionRow[]) => Promise<void>
}


/**
 * An entry that is only a row and its event: inbound (an outbound one may suggest promises), on no
 * channel (nothing to check, no provider id to deduplicate), keeping no promise.
 */
const isPlainEntry = (input: InteractionLogInput): boolean =>
  input.direction === 'inbound' && !input.channelId && !input.providerMessageId && !input.keepsPromiseIds?.length

/** The row log() and logMany() write for an entry (one rule for both). */
function loggedRow (ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, id: string, contactId: string, input: InteractionLogInput, now: Date): repo.NewInteractionRow {
  return {
    workspaceId: ctx.workspaceId,
    id,
    contactId,
    channelId: input.channelId ?? null,
    direction: input.direction,
    kind: input.kind,
    subject: input.subject ?? null,
    body: input.body ?? null,
    threadId: input.threadId ?? null,
    providerMessageId: input.providerMessageId ?? null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : now,
    authorId: input.direction === 'outbound' ? ctx.actor : null
  }
}

/**
 * The whole row as the database will hold it, for writes that do not read it back: the timestamps
 * are set here, from the service clock, which follows the database's clock in production
 * (src/db/database-clock.ts), so they agree with rows the database stamps itself.
 */
function writtenRow (row: repo.NewInteractionRow, now: Date): repo.InteractionRow {
  return {
    channelId: null, subject: null, body: null, threadId: null, providerMessageId: null, authorId: null,
    status: null, statusReason: null, counterpart: null, attachments: [], createdAt: now, updatedAt: now, ...row
  } as repo.InteractionRow
}

const duplicateProviderId = () => new DomainError('validation.failed', 'This channel already logged that provider message id', { errors: [{ pointer: '/providerMessageId', message: 'Already logged', code: 'duplicate' }] })

/** One contact's first timeline page out of rows read for several contacts (newest first). */
function firstTimelinePage (rows: repo.InteractionRow[], contactId: string, limit: number): Page<InteractionDto> {
  const p = toPage(rows.filter((r) => r.contactId === contactId), limit, (r) => ({ t: isoTime(r.occurredAt), id: r.id }))
  return { items: p.items.map((r) => toInteractionDto(r)), nextCursor: p.nextCursor }
}
export function createInteractionsService (deps: Deps) {
  const { db, clock, contacts, channels, identities } = deps
  let hooks: PromiseHooks | undefined
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => inWorkspace(db, ctx.workspaceId, fn, tx)
  const wsRead = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => readInWorkspace(db, ctx.workspaceId, fn, tx)

  async function page (tx: Tx, ctx: RequestContext, filter: repo.InteractionFilter, q: PageRequest): Promise<Page<InteractionDto>> {
    const read = keysetRead(q, (c) => {
      const key = decodeCursor<{ t: string, id: string }>(c, ['t', 'id'])
      return { occurredAt: new Date(key.t), id: key.id }
    })
    const rows = await repo.listInteractions(tx, ctx.workspaceId, { ...filter, before: read.below, newerThan: read.above, oldestFirst: read.lowFirst }, q.limit + 1)
    const p = toDirectedPage(rows, q, (r) => ({ t: isoTime(r.occurredAt), id: r.id }))
    return { ...p, items: p.items.map((r) => toInteractionDto(r)) }
  }

  async function listFilter (t: Tx, ctx: RequestContext, q: Omit<InteractionListInput, 'limit'>): Promise<repo.InteractionFilter> {
    return {
      contactId: q.contactId ? await contacts.resolveIdIn(t, ctx.workspaceId, q.contactId) ?? q.contactId : undefined,
      channelId: q.channelId,
      direction: q.direction,
      kind: q.kind,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined
    }
  }

  // interaction.received for what a contact sent us, interaction.created for what we sent or logged.
  const newEvent = (row: repo.InteractionRow) => ({
    workspaceId: row.workspaceId, type: row.direction === 'inbound' ? 'interaction.received' : 'interaction.created', subjectId: row.id, data: toInteractionDto(row), occurredAt: clock.now()
  } as const)
  const recordNew = (tx: Tx, row: repo.InteractionRow) => appendEvent(tx, newEvent(row))

  /**
   * A message a contact sent us, logged once with its event (interaction.received). Undefined when
   * the channel already logged that provider message id: a redelivery. An edit logged this way (its
   * original unknown) keeps its edit time, so an older edit arriving later does not overwrite it.
   */
  async function logReceived (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, channelId: string, event: InboundMessageEvent | InboundEditEvent, raw: unknown) {
    const contactId = await identities.resolveSender(tx, ctx, { kind: event.identityKind, address: event.sender.handle, name: event.sender.name, seenAt: event.sentAt })
    const row = await repo.insertInteraction(tx, {
      workspaceId: ctx.workspaceId, id: newId('interaction'), contactId, channelId, direction: 'inbound', kind: event.interactionKind,
      subject: event.subject ?? null, body: event.text ?? null, threadId: event.threadId ?? null, providerMessageId: event.providerMessageId,
      counterpart: event.sender.handle, attachments: event.attachments as unknown[], occurredAt: event.sentAt, raw,
      editedAt: event.type === 'edit' ? event.editedAt : null
    })
    if (row) await recordNew(tx, row)
    return row
  }

  /**
   * A contact edited a message they sent: the one rule for every provider. The interaction the
   * channel logged under the original's provider id (this workspace's, this channel's) takes the
   * new text, and interaction.updated says so. Its `raw` stays the payload of the message as first
   * received, so the original text is still there; each version is in the event log (the
   * interaction.received and interaction.updated events carry the interaction as it then read).
   *
   * An edit not newer than the last one applied (a redelivery, or an older edit delivered late)
   * changes nothing; one that leaves the text as it was (Slack re-sends a message when it unfurls a
   * link) only moves the edit time. An edit whose original is unknown (sent before the channel
   * existed, or lost) is logged as a new inbound message under the original's id: nothing is lost,
   * later edits apply to it, and the original, should it still arrive, is then a duplicate.
   */
  async function recordEdit (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, channelId: string, edit: InboundEditEvent, raw: unknown): Promise<void> {
    // Twice at most: the original may be logged by another worker between the look-up and the insert.
    for (let attempt = 0; attempt < 2; attempt++) {
      const found = await repo.lockByProviderMessageId(tx, ctx.workspaceId, channelId, edit.providerMessageId)
      if (!found) {
        if (await logReceived(tx, ctx, channelId, edit, raw)) return
        continue
      }
      // Only what a contact sent is theirs to edit; stale and redelivered edits change nothing.
      if (found.direction !== 'inbound' || (found.editedAt && found.editedAt >= edit.editedAt)) return
      const subject = edit.subject ?? found.subject
      const body = edit.text ?? null
      const changed = subject !== found.subject || body !== found.body
      const row = await repo.setEdited(tx, ctx.workspaceId, found.id, { subject, body, editedAt: edit.editedAt, touched: changed })
      if (changed) await appendEvent(tx, { workspaceId: ctx.workspaceId, type: 'interaction.updated', subjectId: row.id, data: toInteractionDto(row), occurredAt: clock.now() })
      return
    }
  }

  /**
   * A message our own account sent outside Rapport (an echo): an outbound interaction with the
   * contact it went to, so the log shows the whole exchange. An echo whose id the channel already
   * logged changes nothing: a redelivery, or a message Rapport sent, whose send job saved the id
   * the provider answered. An echo processed before that job saved it (provider's answer and echo
   * at about the same time) takes the place of the id on the send still waiting for it, to that
   * contact with that very text (repo.claimPendingSend): one interaction either way.
   * Its author is not known (someone in the provider's app); it is sent, and the provider's
   * delivery and read receipts move it on like any outbound message.
   */
  async function recordEcho (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, channelId: string, echo: OutboundEchoEvent, raw: unknown): Promise<void> {
    if (await repo.lockByProviderMessageId(tx, ctx.workspaceId, channelId, echo.providerMessageId)) return
    const body = echo.text ?? null
    if (await repo.claimPendingSend(tx, ctx.workspaceId, channelId, { counterpart: echo.to.handle, body, providerMessageId: echo.providerMessageId })) return
    const contactId = await identities.resolveSender(tx, ctx, { kind: echo.identityKind, address: echo.to.handle, name: echo.to.name, seenAt: echo.sentAt })
    const row = await repo.insertInteraction(tx, {
      workspaceId: ctx.workspaceId, id: newId('interaction'), contactId, channelId, direction: 'outbound', kind: echo.interactionKind,
      subject: echo.subject ?? null, body, threadId: echo.threadId ?? null, providerMessageId: echo.providerMessageId, status: 'sent',
      counterpart: echo.to.handle, attachments: echo.attachments as unknown[], occurredAt: echo.sentAt, raw
    })
    // Undefined: another worker logged that id meanwhile (a redelivery processed in parallel).
    if (!row) return
    await recordNew(tx, row)
    // What we wrote may promise something, wherever it was written.
    await hooks?.suggest(tx, ctx, [row])
  }

  /**
   * An inbound entry for a live contact id, in one write on PostgreSQL: BEGIN, the settings, the
   * insert (which fails unless the id is a live contact: insertForLiveContact), its event and COMMIT
   * leave together, since nothing in between needs an answer; the row's timestamps are set here for
   * the same reason, as status changes set updatedAt. Undefined when the id is not a live contact
   * (nothing written): log() then resolves a merged id or answers not found, the usual way.
   */
  async function logPlainEntry (ctx: RequestContext, input: InteractionLogInput): Promise<InteractionDto | undefined> {
    const now = clock.now()
    const row = writtenRow(loggedRow(ctx, newId('interaction'), input.contactId, input, now), now)
    try {
      await ws(ctx, async (t) => {
        await repo.insertForLiveContact(t, row)
        await recordNew(t, row)
      })
    } catch (err) {
      if (repo.isNotLiveContact(err)) return undefined
      throw err
    }
    return toInteractionDto(row)
  }

  return {
    async get (ctx: RequestContext, id: string, opts: { includeRaw?: boolean } = {}, tx?: Tx): Promise<InteractionDto> {
      return wsRead(ctx, async (t) => {
        const row = await repo.getInteraction(t, ctx.workspaceId, id)
        if (!row) throw notFound('interaction.not_found', id)
        return toInteractionDto(row, opts.includeRaw)
      }, tx)
    },

    async list (ctx: RequestContext, q: InteractionListInput & PageRequest): Promise<Page<InteractionDto>> {
      return wsRead(ctx, async (t) => page(t, ctx, await listFilter(t, ctx, q), q))
    },

    /** Each contact's number of interactions, in the order of `contactIds` (nested totalCount). */
    async countByContact (ctx: RequestContext, contactIds: string[]): Promise<number[]> {
      const rows = await wsRead(ctx, (t) => repo.countByContact(t, ctx.workspaceId, contactIds))
      const byId = new Map(rows.map((r) => [r.contactId, r.n]))
      return contactIds.map((id) => byId.get(id) ?? 0)
    },

    /** How many interactions match a list's filters (GraphQL totalCount). */
    async count (ctx: RequestContext, q: Omit<InteractionListInput, 'limit'>): Promise<number> {
      return wsRead(ctx, async (t) => repo.countInteractions(t, ctx.workspaceId, await listFilter(t, ctx, q)))
    },

    /** Every exchange with one contact, on every channel, newest first. */
    async timeline (ctx: RequestContext, contactId: string, q: PageRequest): Promise<Page<InteractionDto>> {
      return wsRead(ctx, async (t) => {
        // Read as if the id were live while resolving it, both in one round trip; only a merged
        // contact's old id (resolving elsewhere) costs a second read.
        const [resolved, speculative] = await Promise.all([contacts.resolveId(ctx, contactId, t), page(t, ctx, { contactId }, q)])
        return resolved === contactId ? speculative : page(t, ctx, { contactId: resolved }, q)
      })
    },

    /** First timeline pages of many contacts at once (GraphQL loader), in the order of `contactIds`. */
    async timelines (ctx: RequestContext, contactIds: string[], limit: number): Promise<Page<InteractionDto>[]> {
      const rows = await wsRead(ctx, (t) => repo.latestForContacts(t, ctx.workspaceId, contactIds, limit))
      return contactIds.map((id) => firstTimelinePage(rows, id, limit))
    },

    /**
     * A contact and the first page of its timeline in one read (GraphQL look-ahead: a query that
     * asks for both would otherwise read twice, one after the other). The page is read for the id
     * as given, in the same round trip; a merged contact's old id resolves to another contact,
     * whose timeline that page is not: then no page comes back and the caller reads it as usual.
     */
    async contactWithTimeline (ctx: RequestContext, contactId: string, limit: number): Promise<{ contact: ContactDto, timeline?: Page<InteractionDto> }> {
      return wsRead(ctx, async (t) => {
        const [contact, rows] = await Promise.all([contacts.get(ctx, contactId, t), repo.latestForContacts(t, ctx.workspaceId, [contactId], limit)])
        return contact.id === contactId ? { contact, timeline: firstTimelinePage(rows, contactId, limit) } : { contact }
      })
    },

    async log (ctx: RequestContext, input: InteractionLogInput, tx?: Tx): Promise<InteractionDto> {
      // Keeping promises changes them: the same right as POST /v1/promises/{id}/keep.
      if (input.keepsPromiseIds?.length) requireScope(ctx, 'promises:write')
      // Alone (no caller's transaction to abort), the common entry goes in one round trip.
      if (!tx && isPlainEntry(input)) {
        const logged = await logPlainEntry(ctx, input)
        if (logged) return logged
      }
      return ws(ctx, async (t) => {
        const contactId = await contacts.resolveId(ctx, input.contactId, t)
        if (input.channelId) await channels.runtime(ctx, input.channelId, t)
        const row = await repo.insertInteraction(t, loggedRow(ctx, newId('interaction'), contactId, input, clock.now()))
        if (!row) throw duplicateProviderId()
        await recordNew(t, row)
        if (input.keepsPromiseIds?.length) await hooks?.keep(t, ctx, input.keepsPromiseIds, row.id, row.occurredAt)
        if (row.direction === 'outbound') await hooks?.suggest(t, ctx, [row])
        return toInteractionDto(row)
      }, tx)
    },

    /**
     * Many entries in one transaction with the rules of log(), set-based (an import batch): the
     * channels are checked once each, the rows go in one statement that checks every contact id is
     * live, the events in one, promises kept row by row, suggestions read from all outbound text at
     * once. All or nothing: any row a rule refuses fails the call (a merged contact's old id
     * included), and a caller that needs a verdict per row then logs them one by one with log().
     */
    async logMany (ctx: RequestContext, entries: Array<{ id: string, input: InteractionLogInput }>, tx: Tx): Promise<InteractionDto[]> {
      if (entries.some((e) => e.input.keepsPromiseIds?.length)) requireScope(ctx, 'promises:write')
      for (const channelId of new Set(entries.flatMap((e) => e.input.channelId ?? []))) await channels.runtime(ctx, channelId, tx)
      const now = clock.now()
      const rows = entries.map((e) => writtenRow(loggedRow(ctx, e.id, e.input.contactId, e.input, now), now))
      let written: string[]
      try {
        written = await repo.insertManyForLiveContacts(tx, rows)
      } catch (err) {
        if (repo.isNotLiveContact(err)) throw new DomainError('contact.not_found', 'A row names a contact that is not live (missing, deleted or merged)')
        throw err
      }
      if (written.length !== rows.length) throw duplicateProviderId()
      await appendEvents(tx, rows.map((row) => newEvent(row)))
      for (const [i, e] of entries.entries()) {
        if (e.input.keepsPromiseIds?.length) await hooks?.keep(tx, ctx, e.input.keepsPromiseIds, rows[i].id, rows[i].occurredAt)
      }
      await hooks?.suggest(tx, ctx, rows.filter((r) => r.direction === 'outbound'))
      return rows.map((r) => toInteractionDto(r))
    },

    /**
     * Queues a message: the interaction (status queued) and its outbox row commit together, so an
     * accepted send is never lost; the outbox worker delivers it.
     */
    async send (ctx: RequestContext, contactId: string, input: MessageSendInput, tx?: Tx): Promise<InteractionDto> {
      const dto = await ws(ctx, async (t) => {
        const resolved = await contacts.resolveId(ctx, contactId, t)
        const { channel, adapter } = await channels.runtime(ctx, input.channelId, t)
        if (!adapter.capabilities.send || !adapter.send) throw new DomainError('channel.cannot_send', `A ${channel.kind} channel cannot send messages`)
        if (channel.status === 'paused') throw new DomainError('channel.paused', `Channel ${channel.id} is paused`)
        const to = input.to ?? await identities.addressFor(t, ctx.workspaceId, resolved, adapter.addressKinds ?? [channel.kind]) ??
          await contacts.defaultAddress(t, ctx.workspaceId, resolved, adapter.addressKinds ?? [])
        if (!to) throw new DomainError('message.no_recipient', `Contact ${resolved} has no address for a ${channel.kind} channel; pass "to"`)
        const id = newId('interaction')
        const row = await repo.insertInteraction(t, {
          workspaceId: ctx.workspaceId, id, contactId: resolved, channelId: channel.id, direction: 'outbound', kind: sentKind(channel.kind),
          subject: input.subject ?? null, body: input.text, threadId: input.threadId ?? null, status: 'queued', counterpart: to,
          occurredAt: clock.now(), authorId: ctx.actor
        })
        await recordNew(t, row!)
        await enqueueOutbox(t, { workspaceId: ctx.workspaceId, topic: SEND_TOPIC, idempotencyKey: id, payload: { interactionId: id } })
        await hooks?.suggest(t, ctx, [row!])
        return toInteractionDto(row!)
      }, tx)
      deps.onOutboxWork?.()
      return dto
    },

    /** Applies a provider's normalized events inside the inbox row's transaction. */
    async recordInbound (tx: Tx, ctx: Pick<RequestContext, 'workspaceId' | 'actor'>, channelId: string, events: InboundEvent[], raw: unknown): Promise<void> {
      for (const event of events) {
        if (event.type === 'status') {
          if (event.watermark) {
            if (event.status === 'delivered' || event.status === 'read') await changeStatusUpTo(tx, clock.now(), ctx.workspaceId, channelId, event.watermark.recipient, event.watermark.before, event.status)
          } else {
            await changeStatus(tx, clock.now(), ctx.workspaceId, { channelId, providerMessageId: event.providerMessageId }, event.status, event.error)
          }
          continue
        }
        if (event.type === 'edit') await recordEdit(tx, ctx, channelId, event, raw)
        else if (event.type === 'echo') await recordEcho(tx, ctx, channelId, event, raw)
        else await logReceived(tx, ctx, channelId, event, raw)
      }
    },

    async attempts (ctx: RequestContext, id: string) {
      return wsRead(ctx, async (t) => {
        if ((await repo.getInteractions(t, ctx.workspaceId, [id])).length === 0) throw notFound('interaction.not_found', id)
        const rows = await listAttempts(t, ctx.workspaceId, id)
        return rows.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt.toISOString() }))
      })
    },

    /** For loaders: interactions in the order of `ids`, null where absent or where no id was given. */
    async getMany (ctx: RequestContext, ids: ReadonlyArray<string | null>): Promise<(InteractionDto | null)[]> {
      const rows = await wsRead(ctx, (t) => repo.getInteractions(t, ctx.workspaceId, [...new Set(ids.filter((id) => id !== null))]))
      return inKeyOrder(ids, rows.map((r) => toInteractionDto(r)))
    },

    /** The provider payloads of interactions, in the order of `ids` (null where none or absent). */
    async raws (ctx: RequestContext, ids: readonly string[]): Promise<unknown[]> {
      const rows = await wsRead(ctx, (t) => repo.rawsOf(t, ctx.workspaceId, [...new Set(ids)]))
      return inKeyOrder(ids, rows).map((r) => r?.raw ?? null)
    },

    /** Contact and channel of many interactions, for other modules' checks (promises made in them). */
    contactsOf: (tx: Tx, workspaceId: string, ids: string[]) => repo.contactsOfInteractions(tx, workspaceId, ids),

    /** Raw rows for other modules' checks (promise evidence), inside their transaction. */
    async rowsForEvidence (tx: Tx, workspaceId: string, ids: string[]) {
      return repo.getInteractions(tx, workspaceId, ids)
    },

    setPromiseHooks (h: PromiseHooks) { hooks = h },

    moveAll: repo.moveInteractions
  }
}

export type InteractionsService = ReturnType<typeof createInteractionsService>
