import type { Db, Tx } from '../../db/client.js'
import { enterWorkspace, inWorkspace, readInWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { cursorDate, decodeCursor, encodeCursor, keysetRead, toDirectedPage, toPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { DomainError, notFound, validationError, type FieldError } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { ChannelsService } from '../channels/channels.service.js'
import type { ContactsService } from '../contacts/contacts.service.js'
import type { InteractionsService } from '../interactions/interactions.service.js'
import * as repo from './promises.repository.js'
import { appendEvent, appendEvents, type NewEvent } from '../events/events.log.js'
import { isNotLiveContact } from '../interactions/interactions.repository.js'
import { assertTransition, keptStatus, nextCheck, standing } from './promises.rules.js'
import type { PromiseCreateInput, PromiseDto, PromiseEventDto, PromiseKeepInput, PromiseListInput, PromiseRenegotiateInput, PromiseStatsRowDto, StatsInput } from './promises.schemas.js'
import { isoTime } from '../../lib/iso-time.js'
import { groupedInKeyOrder } from '../../lib/key-order.js'

export function toPromiseDto (r: repo.PromiseRow): PromiseDto {
  return {
    id: r.id, contactId: r.contactId, promisor: r.promisor, promisorType: r.promisorType, description: r.description, kind: r.kind,
    dueAt: isoTime(r.dueAt), originalDueAt: isoTime(r.originalDueAt), madeInInteractionId: r.madeInInteractionId,
    channelId: r.channelId, requiresEvidence: r.requiresEvidence, status: r.status, keptAt: (r.keptAt ? isoTime(r.keptAt) : null),
    keptByInteractionIds: r.keptByInteractionIds, renegotiations: r.renegotiations,
    createdAt: isoTime(r.createdAt), updatedAt: isoTime(r.updatedAt), version: r.version
  }
}

/** A feed cursor this feed could have issued: an xid8 (unsigned 64-bit) and a non-negative seq. */
function feedKey (cursor: string): repo.FeedKey {
  const key = decodeCursor<repo.FeedKey>(cursor, ['x', 's'])
  if (!/^\d{1,20}$/.test(key.x) || BigInt(key.x) > 0xffffffffffffffffn || !Number.isSafeInteger(key.s) || key.s < 0) throw new DomainError('request.invalid_cursor')
  return key
}

export const dueKey = (r: { dueAt: Date | string, id: string }) => ({ d: new Date(r.dueAt).toISOString(), id: r.id })

const toEventDto = (e: repo.PromiseEventRow, position: string): PromiseEventDto => ({
  id: position, promiseId: e.promiseId, type: e.type, actor: e.actor, interactionId: e.interactionId, data: e.data, occurredAt: e.occurredAt.toISOString()
})

interface Deps { db: Db, clock: Clock, riskWindowMs: number, contacts: ContactsService, interactions: InteractionsService, channels: ChannelsService }
type Actor = Pick<RequestContext, 'workspaceId' | 'actor'>
/** A promise about to close: to which status, with what. */
interface Closing { row: repo.PromiseRow, to: 'kept' | 'kept_late' | 'broken' | 'cancelled', extra: { keptAt?: Date, evidence?: string[], reason?: string, interactionId?: string } }
/** A verdict a promise arrives with (an import of a history): applied through the state machine. */
export type PromiseVerdict = { status: 'kept', keptAt?: string } | { status: 'broken' | 'cancelled', reason?: string }

type StatsRow = Omit<PromiseStatsRowDto, 'keepRate' | 'onTimeRate'>
function withRates (r: StatsRow): PromiseStatsRowDto {
  const decided = r.kept + r.keptLate + r.broken
  return { ...r, keepRate: decided ? (r.kept + r.keptLate) / decided : null, onTimeRate: decided ? r.kept / decided : null }
}

export function createPromisesService (deps: Deps) {
  const { db, clock, riskWindowMs, contacts, interactions } = deps
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>, tx?: Tx) => inWorkspace(db, ctx.workspaceId, fn, tx)
  // Reads only (no feed: its commit-safe cursor keeps the transaction of ws).
  const wsRead = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => readInWorkspace(db, ctx.workspaceId, fn)

  // The workspace event log (feed, subscriptions, webhooks), next to the promise's own history.
  type Change = 'made' | 'at_risk' | 'renegotiated' | 'kept' | 'kept_late' | 'broken' | 'cancelled'
  const changeEvent = (type: Change, row: repo.PromiseRow): NewEvent => ({
    workspaceId: row.workspaceId, type: `promise.${type === 'kept_late' ? 'kept' : type}`, subjectId: row.id, data: toPromiseDto(row), occurredAt: clock.now()
  })
  const madeEvent = (row: repo.PromiseRow) => changeEvent('made', row)
  const record = (tx: Tx, type: Change, row: repo.PromiseRow) => appendEvent(tx, changeEvent(type, row))

  /**
   * The channel of the interaction each promise was made in (null when none is named); refused
   * when that interaction is not the same contact's. One read for all of them.
   */
  async function madeInChannels (t: Tx, ctx: RequestContext, list: Array<{ contactId: string, input: PromiseCreateInput }>): Promise<Array<string | null>> {
    const ids = [...new Set(list.flatMap((e) => e.input.madeInInteractionId ?? []))]
    const made = new Map((await interactions.contactsOf(t, ctx.workspaceId, ids)).map((r) => [r.id, r]))
    return list.map(({ contactId, input }) => {
      if (!input.madeInInteractionId) return null
      const row = made.get(input.madeInInteractionId)
      if (!row || row.contactId !== contactId) throw validationError([{ pointer: '/madeInInteractionId', message: 'No interaction with this contact has this id', code: 'invalid_reference' }])
      return row.channelId
    })
  }

  function newPromiseRow (ctx: RequestContext, id: string, contactId: string, input: PromiseCreateInput, channelId: string | null) {
    const dueAt = new Date(input.dueAt)
    const type = input.promisorType ?? 'member'
    return {
      workspaceId: ctx.workspaceId, id, contactId, description: input.description, kind: input.kind ?? null,
      promisor: type === 'contact' ? contactId : (input.promisor ?? ctx.actor), promisorType: type, dueAt, originalDueAt: dueAt,
      madeInInteractionId: input.madeInInteractionId ?? null, channelId, requiresEvidence: input.requiresEvidence ?? false,
      // The injected clock, not the database's: evidence and the scheduler compare against it.
      createdAt: clock.now(), updatedAt: clock.now()
    }
  }

  /** What making promises writes besides them: the workspace events, their histories, their first checks. */
  async function recordMade (t: Tx, ctx: Actor, rows: repo.PromiseRow[]) {
    const now = clock.now()
    await appendEvents(t, rows.map((row) => madeEvent(row)))
    await repo.appendEvents(t, rows.map((row) => ({ workspaceId: ctx.workspaceId, promiseId: row.id, type: 'made' as const, actor: ctx.actor, interactionId: row.madeInInteractionId, data: { dueAt: row.dueAt.toISOString() }, occurredAt: now })))
    // Made already inside the warning window: the scheduler looks at once (it turns at_risk).
    const checks = rows.map((row) => ({ promiseId: row.id, nextAt: standing(row.dueAt, now, riskWindowMs) === 'at_risk' ? now : nextCheck(row.dueAt, now, riskWindowMs) }))
    await repo.scheduleFirstChecks(t, ctx.workspaceId, checks.filter((c): c is typeof c & { nextAt: Date } => c.nextAt !== null))
  }

  /** A list's filters as the repository takes them; a merged contact's id lists the survivor's. */
  async function promiseFilter (t: Tx, ctx: RequestContext, q: Omit<PromiseListInput, 'limit'>): Promise<repo.PromiseFilter> {
    return {
      status: q.status,
      contactId: q.contactId ? await contacts.resolveIdIn(t, ctx.workspaceId, q.contactId) ?? q.contactId : undefined,
      promisor: q.promisor,
      kind: q.kind,
      dueBefore: q.dueBefore ? new Date(q.dueBefore) : undefined,
      dueAfter: q.dueAfter ? new Date(q.dueAfter) : undefined,
      updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined
    }
  }

  async function requireRow (tx: Tx, ctx: Pick<RequestContext, 'workspaceId'>, id: string) {
    const row = await repo.getPromiseForChange(tx, ctx.workspaceId, id)
    if (!row) throw notFound('promise.not_found', id)
    return row
  }

  /** Evidence of keeping: outbound to this contact, after the promise, delivered where the channel tells. */
  async function checkEvidence (tx: Tx, ctx: Actor, promise: repo.PromiseRow, ids: string[]) {
    const rows = await interactions.rowsForEvidence(tx, ctx.workspaceId, ids)
    for (const [i, id] of ids.entries()) {
      const row = rows.find((r) => r.id === id)
      const fail = (message: string) => validationError([{ pointer: `/interactionIds/${i}`, message, code: 'invalid_evidence' }])
      if (!row) throw fail(`No interaction ${id}`)
      if (row.contactId !== promise.contactId) throw fail('The interaction is with another contact')
      if (row.direction !== 'outbound') throw fail('Evidence must be an outbound interaction')
      if (row.occurredAt < promise.createdAt) throw fail('The interaction happened before the promise was made')
      if (row.status === 'failed' || row.status === 'queued') throw fail(`The message was not sent (status ${row.status})`)
      if (row.channelId && row.status === 'sent') {
        const { adapter } = await deps.channels.runtime(ctx, row.channelId, tx)
        if (adapter.capabilities.deliveryReceipts) throw fail('The channel reports delivery and this message is not delivered yet')
      }
    }
  }

  /**
   * Closes promises, each through the state machine (assertTransition), in a few statements
   * whatever their number: the rows, their histories, the workspace events, their checks dropped.
   */
  async function closeMany (tx: Tx, ctx: Actor, list: Closing[]): Promise<repo.PromiseRow[]> {
    for (const c of list) assertTransition(c.row.id, c.row.status, c.to)
    const now = clock.now()
    const updated = await repo.closePromises(tx, ctx.workspaceId, list.map((c) => ({
      id: c.row.id, status: c.to, keptAt: c.extra.keptAt ?? null, evidence: c.extra.keptAt ? c.extra.evidence ?? [] : null
    })), now)
    await repo.appendEvents(tx, list.map(({ row, to, extra }) => ({
      workspaceId: ctx.workspaceId, promiseId: row.id, type: to, actor: ctx.actor, occurredAt: now,
      interactionId: extra.interactionId ?? extra.evidence?.[0] ?? null,
      data: { ...(extra.reason ? { reason: extra.reason } : {}), ...(extra.keptAt ? { keptAt: extra.keptAt.toISOString(), dueAt: row.dueAt.toISOString() } : {}) }
    })))
    await appendEvents(tx, updated.map((row, i) => changeEvent(list[i].to, row)))
    await repo.unscheduleChecks(tx, ctx.workspaceId, list.map((c) => c.row.id))
    return updated
  }

  async function close (tx: Tx, ctx: Actor, row: repo.PromiseRow, to: Closing['to'], extra: Closing['extra']) {
    const [updated] = await closeMany(tx, ctx, [{ row, to, extra }])
    return updated
  }

  /** What keeping a promise would be (its checks passed), for close or closeMany. */
  async function keeping (tx: Tx, ctx: Actor, row: repo.PromiseRow, input: PromiseKeepInput): Promise<Closing> {
    const keptAt = input.keptAt ? new Date(input.keptAt) : clock.now()
    const to = keptStatus(keptAt, row.dueAt)
    // A closed promise says so before any question of evidence.
    assertTransition(row.id, row.status, to)
    const evidence = input.interactionIds ?? []
    if (row.requiresEvidence && evidence.length === 0) throw new DomainError('promise.evidence_required')
    await checkEvidence(tx, ctx, row, evidence)
    return { row, to, extra: { keptAt, evidence } }
  }

  async function keep (tx: Tx, ctx: Actor, row: repo.PromiseRow, input: PromiseKeepInput) {
    const { to, extra } = await keeping(tx, ctx, row, input)
    return close(tx, ctx, row, to, extra)
  }

  return {
    async create (ctx: RequestContext, input: PromiseCreateInput, tx?: Tx): Promise<PromiseDto> {
      return ws(ctx, async (t) => {
        const contactId = await contacts.resolveId(ctx, input.contactId, t)
        const [channelId] = await madeInChannels(t, ctx, [{ contactId, input }])
        const row = await repo.insertPromise(t, newPromiseRow(ctx, newId('promise'), contactId, input, channelId))
        await recordMade(t, ctx, [row])
        return toPromiseDto(row)
      }, tx)
    },

    /**
     * Many promises in one transaction with the rules of create(), set-based (an import batch).
     * All or nothing: a contact id that is not live (a merged contact's old id included) or an
     * interaction of another contact fails the call; a caller that needs a verdict per row then
     * creates them one by one with create().
     */
    async createMany (ctx: RequestContext, entries: Array<{ id: string, input: PromiseCreateInput, verdict?: PromiseVerdict }>, tx: Tx): Promise<PromiseDto[]> {
      const channelIds = await madeInChannels(tx, ctx, entries.map((e) => ({ contactId: e.input.contactId, input: e.input })))
      let rows: repo.PromiseRow[]
      try {
        rows = await repo.insertPromisesForLiveContacts(tx, ctx.workspaceId, entries.map((e, i) => newPromiseRow(ctx, e.id, e.input.contactId, e.input, channelIds[i])))
      } catch (err) {
        if (isNotLiveContact(err)) throw new DomainError('contact.not_found', 'A row names a contact that is not live (missing, deleted or merged)')
        throw err
      }
      await recordMade(tx, ctx, rows)
      const closing: Closing[] = []
      for (const [i, { verdict }] of entries.entries()) {
        if (verdict?.status === 'kept') closing.push(await keeping(tx, ctx, rows[i], { keptAt: verdict.keptAt }))
        else if (verdict) closing.push({ row: rows[i], to: verdict.status, extra: { reason: verdict.reason } })
      }
      const closed = new Map((closing.length ? await closeMany(tx, ctx, closing) : []).map((r) => [r.id, r]))
      return rows.map((r) => toPromiseDto(closed.get(r.id) ?? r))
    },

    async get (ctx: RequestContext, id: string): Promise<PromiseDto> {
      return wsRead(ctx, async (t) => {
        const row = await repo.getPromise(t, ctx.workspaceId, id)
        if (!row) throw notFound('promise.not_found', id)
        return toPromiseDto(row)
      })
    },

    async list (ctx: RequestContext, q: PromiseListInput & PageRequest): Promise<Page<PromiseDto>> {
      const read = keysetRead(q, (c) => decodeCursor<{ id: string }>(c, ['id']).id)
      return wsRead(ctx, async (t) => {
        const rows = await repo.listPromises(t, ctx.workspaceId, {
          ...await promiseFilter(t, ctx, q), beforeId: read.below, newerThanId: read.above, oldestFirst: read.lowFirst
        }, q.limit + 1)
        const page = toDirectedPage(rows, q, (r) => ({ id: r.id }))
        return { ...page, items: page.items.map(toPromiseDto) }
      })
    },

    /** Each contact's number of promises (of one status), in the order of `contactIds` (nested totalCount). */
    async countByContact (ctx: RequestContext, contactIds: string[], status?: PromiseDto['status']): Promise<number[]> {
      const rows = await wsRead(ctx, (t) => repo.countByContact(t, ctx.workspaceId, contactIds, status))
      const byId = new Map(rows.map((r) => [r.contactId, r.n]))
      return contactIds.map((id) => byId.get(id) ?? 0)
    },

    /** How many promises match a list's filters (GraphQL totalCount). */
    async count (ctx: RequestContext, q: Omit<PromiseListInput, 'limit'>): Promise<number> {
      return wsRead(ctx, async (t) => repo.countPromises(t, ctx.workspaceId, await promiseFilter(t, ctx, q)))
    },

    async keep (ctx: RequestContext, id: string, input: PromiseKeepInput, tx?: Tx): Promise<PromiseDto> {
      return ws(ctx, async (t) => toPromiseDto(await keep(t, ctx, await requireRow(t, ctx, id), input)), tx)
    },

    async break (ctx: RequestContext, id: string, reason?: string, tx?: Tx): Promise<PromiseDto> {
      return ws(ctx, async (t) => toPromiseDto(await close(t, ctx, await requireRow(t, ctx, id), 'broken', { reason })), tx)
    },

    async cancel (ctx: RequestContext, id: string, reason?: string, tx?: Tx): Promise<PromiseDto> {
      return ws(ctx, async (t) => toPromiseDto(await close(t, ctx, await requireRow(t, ctx, id), 'cancelled', { reason })), tx)
    },

    /** New terms without erasing the old: the event keeps who, when, why, and through which interaction. */
    async renegotiate (ctx: RequestContext, id: string, input: PromiseRenegotiateInput): Promise<PromiseDto> {
      return ws(ctx, async (t) => {
        const row = await requireRow(t, ctx, id)
        assertTransition(row.id, row.status, 'renegotiated')
        const dueAt = new Date(input.dueAt)
        const now = clock.now()
        if (dueAt <= now) throw validationError([{ pointer: '/dueAt', message: 'The new due date must be in the future', code: 'too_small' }])
        if (input.interactionId) {
          const [agreed] = await interactions.rowsForEvidence(t, ctx.workspaceId, [input.interactionId])
          if (!agreed || agreed.contactId !== row.contactId) throw validationError([{ pointer: '/interactionId', message: 'No interaction with this contact has this id', code: 'invalid_reference' }])
        }
        const status = standing(dueAt, now, riskWindowMs) === 'at_risk' ? 'at_risk' : 'open'
        const updated = await repo.updatePromise(t, ctx.workspaceId, id, { dueAt, status, renegotiations: row.renegotiations + 1 })
        await repo.appendEvent(t, {
          workspaceId: ctx.workspaceId, promiseId: id, type: 'renegotiated', actor: ctx.actor, interactionId: input.interactionId ?? null, occurredAt: now,
          data: { fromDueAt: row.dueAt.toISOString(), toDueAt: dueAt.toISOString(), reason: input.reason, fromStatus: row.status, toStatus: status }
        })
        await record(t, 'renegotiated', updated)
        await repo.scheduleCheck(t, ctx.workspaceId, id, nextCheck(dueAt, now, riskWindowMs))
        return toPromiseDto(updated)
      })
    },

    async events (ctx: RequestContext, id: string): Promise<PromiseEventDto[]> {
      return wsRead(ctx, async (t) => {
        if (!await repo.getPromise(t, ctx.workspaceId, id)) throw notFound('promise.not_found', id)
        return (await repo.listEventsOf(t, ctx.workspaceId, id)).map((e) => toEventDto(e, String(e.seq)))
      })
    },

    /** Every promise event of the workspace after a cursor, in an order that never skips one. */
    async feed (ctx: RequestContext, q: { after?: string, limit: number }): Promise<Page<PromiseEventDto>> {
      const after = q.after ? feedKey(q.after) : undefined
      const rows = await ws(ctx, (t) => repo.listEventFeed(t, ctx.workspaceId, { above: after, lowFirst: true }, q.limit))
      const items = rows.map((r) => toEventDto(r.ev, encodeCursor({ x: r.txidText, s: r.ev.seq })))
      const last = rows[rows.length - 1]
      // The cursor always advances to the last event read, so polling resumes there even when empty.
      return { items, nextCursor: last ? encodeCursor({ x: last.txidText, s: last.ev.seq }) : (q.after ?? null) }
    },

    /** The same feed read in either direction (GraphQL first/after, last/before); an event's id is its cursor. */
    async feedPage (ctx: RequestContext, q: PageRequest): Promise<Page<PromiseEventDto>> {
      const read = keysetRead({ ...q, ascending: true }, feedKey)
      const rows = await ws(ctx, (t) => repo.listEventFeed(t, ctx.workspaceId, read, q.limit + 1))
      const page = toDirectedPage(rows, q, (r) => ({ x: r.txidText, s: r.ev.seq }))
      return { ...page, items: page.items.map((r) => toEventDto(r.ev, encodeCursor({ x: r.txidText, s: r.ev.seq }))) }
    },

    async feedCount (ctx: RequestContext): Promise<number> {
      return ws(ctx, (t) => repo.countEventFeed(t, ctx.workspaceId))
    },

    /** The histories of many promises in one statement (GraphQL `Promise.events` loader). */
    async eventsOfMany (ctx: RequestContext, promiseIds: string[]): Promise<PromiseEventDto[][]> {
      const rows = await wsRead(ctx, (t) => repo.listEventsOfMany(t, ctx.workspaceId, promiseIds))
      return groupedInKeyOrder(promiseIds, rows, (e) => e.promiseId).map((group) => group.map((e) => toEventDto(e, String(e.seq))))
    },

    async stats (ctx: RequestContext, q: StatsInput): Promise<PromiseStatsRowDto[]> {
      const rows = await wsRead(ctx, (t) => repo.statsRows(t, ctx.workspaceId, q.groupBy, q.from ? new Date(q.from) : undefined, q.to ? new Date(q.to) : undefined))
      return rows.map(withRates)
    },

    /** Reliability toward one contact (the relationship view), inside the caller's transaction. */
    async reliabilityToward (tx: Tx, workspaceId: string, contactId: string): Promise<PromiseStatsRowDto> {
      const [row] = await repo.statsRows(tx, workspaceId, 'contact', undefined, undefined, contactId)
      return withRates(row ?? { key: contactId, made: 0, kept: 0, keptLate: 0, broken: 0, open: 0, cancelled: 0, keptOnOriginalTerms: 0, keptAfterRenegotiation: 0, meanLatenessSeconds: null })
    },

    async needingAttention (tx: Tx, workspaceId: string, limit: number): Promise<PromiseDto[]> {
      return (await repo.needingAttention(tx, workspaceId, clock.now(), limit)).map(toPromiseDto)
    },

    /** The attention queue's promises as a directed page on (dueAt, id), most overdue first. */
    async needingAttentionPage (ctx: RequestContext, q: PageRequest): Promise<Page<PromiseDto>> {
      const read = keysetRead({ ...q, ascending: true }, (c) => {
        const key = decodeCursor<{ d: string, id: string }>(c, ['d', 'id'])
        return { dueAt: cursorDate(key.d), id: key.id }
      })
      const rows = await ws(ctx, (t) => repo.needingAttention(t, ctx.workspaceId, clock.now(), q.limit + 1, read))
      const page = toDirectedPage(rows, q, dueKey)
      return { ...page, items: page.items.map(toPromiseDto) }
    },

    async countNeedingAttention (ctx: RequestContext): Promise<number> {
      return ws(ctx, (t) => repo.countNeedingAttention(t, ctx.workspaceId, clock.now()))
    },

    /** Keeps promises in the transaction of the interaction that proves it (keepsPromiseIds). */
    async keepWith (tx: Tx, ctx: Actor, promiseIds: string[], interactionId: string, at: Date): Promise<void> {
      for (const [i, id] of promiseIds.entries()) {
        const row = await repo.getPromiseForChange(tx, ctx.workspaceId, id)
        if (!row) throw validationError([{ pointer: `/keepsPromiseIds/${i}`, message: `No promise ${id}`, code: 'invalid_reference' }])
        try {
          await keep(tx, ctx, row, { interactionIds: [interactionId], keptAt: at.toISOString() })
        } catch (err) {
          // The evidence is the interaction being logged: point at the promise that refused it.
          if (err instanceof DomainError && err.code === 'validation.failed') {
            throw validationError((err.details.errors as FieldError[]).map((e) => ({ ...e, pointer: `/keepsPromiseIds/${i}` })))
          }
          throw err
        }
      }
    },

    /**
     * Scheduler step: claims due deadline rows (any workspace), and in each promise's workspace
     * marks it at_risk or broken. The row lock and the status check make each change happen once,
     * whatever the number of processes; after downtime it simply finds everything overdue.
     */
    async tick (batch = 100): Promise<number> {
      return db.transaction(async (tx) => {
        const now = clock.now()
        const due = await repo.claimDeadlines(tx, now, batch)
        for (const d of due) {
          await enterWorkspace(tx, d.workspaceId)
          await (async (t: Tx) => {
            const row = await repo.getPromise(t, d.workspaceId, d.promiseId, true)
            const actor = { workspaceId: d.workspaceId, actor: 'scheduler' }
            if (!row || (row.status !== 'open' && row.status !== 'at_risk')) return repo.scheduleCheck(t, d.workspaceId, d.promiseId, null)
            const where = standing(row.dueAt, now, riskWindowMs)
            if (where === 'due') {
              await close(t, actor, row, 'broken', { reason: 'due date passed' })
              return
            }
            if (where === 'at_risk' && row.status === 'open') {
              await record(t, 'at_risk', await repo.updatePromise(t, d.workspaceId, row.id, { status: 'at_risk' }))
              await repo.appendEvent(t, { workspaceId: d.workspaceId, promiseId: row.id, type: 'at_risk', actor: 'scheduler', interactionId: null, occurredAt: now, data: { dueAt: row.dueAt.toISOString() } })
            }
            await repo.scheduleCheck(t, d.workspaceId, row.id, nextCheck(row.dueAt, now, riskWindowMs))
          })(tx)
        }
        return due.length
      })
    },

    /** First pages of many contacts' promises at once (GraphQL loader), in the order of `contactIds`. */
    async firstPages (ctx: RequestContext, contactIds: string[], q: { status?: PromiseDto['status'], limit: number }): Promise<Page<PromiseDto>[]> {
      const rows = await wsRead(ctx, (t) => repo.latestForContacts(t, ctx.workspaceId, contactIds, q.status, q.limit))
      return groupedInKeyOrder(contactIds, rows, (r) => r.contactId).map((group) => {
        const page = toPage(group, q.limit, (r) => ({ id: r.id }))
        return { items: page.items.map(toPromiseDto), nextCursor: page.nextCursor }
      })
    },

    /** For loaders: the promises made in each interaction, in the order of `interactionIds`. */
    async madeIn (ctx: RequestContext, interactionIds: string[]): Promise<PromiseDto[][]> {
      const rows = await wsRead(ctx, (t) => repo.promisesMadeIn(t, ctx.workspaceId, interactionIds))
      return groupedInKeyOrder(interactionIds, rows, (r) => [r.madeInInteractionId]).map((group) => group.map(toPromiseDto))
    },

    moveAll: repo.movePromises
  }
}

export type PromisesService = ReturnType<typeof createPromisesService>
