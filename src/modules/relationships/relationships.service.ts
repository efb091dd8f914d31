import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import type { ContactsService } from '../contacts/contacts.service.js'
import type { PromisesService } from '../promises/promises.service.js'
import { cursorDate, decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { countUnanswered, exchangeFacts, unansweredBefore, type UnansweredRow } from './relationships.repository.js'
import type { RelationshipDto } from './relationships.schemas.js'

const DAY = 86_400_000
const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString())

/**
 * The measures of a relationship: promises kept toward the contact, how fast we answer, whether
 * we listen as much as we talk, how recent and how frequent the exchanges are.
 */
export function createRelationshipsService ({ db, clock, contacts, promises }: { db: Db, clock: Clock, contacts: ContactsService, promises: PromisesService }) {
  return {
    async of (ctx: RequestContext, contactId: string): Promise<RelationshipDto> {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const id = await contacts.resolveId(ctx, contactId, tx)
        const now = clock.now()
        const f = await exchangeFacts(tx, ctx.workspaceId, id, now)
        const total = f.inbound + f.outbound
        const first = f.first_at ? new Date(f.first_at).getTime() : null
        return {
          contactId: id,
          promises: await promises.reliabilityToward(tx, ctx.workspaceId, id),
          responsiveness: { medianReplySeconds: f.median_reply_s, unanswered: f.unanswered, oldestUnansweredAt: iso(f.oldest_unanswered_at) },
          balance: { inbound: f.inbound, outbound: f.outbound, outboundShare: total ? f.outbound / total : null },
          recency: {
            lastInteractionAt: iso(f.last_at),
            lastInboundAt: iso(f.last_inbound_at),
            lastOutboundAt: iso(f.last_outbound_at),
            daysSinceLastInteraction: f.last_at ? (now.getTime() - new Date(f.last_at).getTime()) / DAY : null
          },
          frequency: {
            last30Days: f.last_30d,
            last90Days: f.last_90d,
            perMonth: first === null ? null : total / Math.max(1, (now.getTime() - first) / (30 * DAY))
          }
        }
      })
    },

    /** What needs someone now: promises at risk or overdue, and messages waiting for a reply. */
    async attention (ctx: RequestContext, q: { unansweredForMinutes: number, limit: number }) {
      return inWorkspace(db, ctx.workspaceId, async (tx) => {
        const now = clock.now()
        const waiting = await unansweredBefore(tx, ctx.workspaceId, waitedSince(now, q.unansweredForMinutes), q.limit)
        return {
          promises: await promises.needingAttention(tx, ctx.workspaceId, q.limit),
          unanswered: waiting.map((w) => waitingOut(w, now))
        }
      })
    },

    /** The attention queue's unanswered messages as a directed page on (occurredAt, id), longest waiting first. */
    async unansweredPage (ctx: RequestContext, unansweredForMinutes: number, q: PageRequest): Promise<Page<UnansweredDto>> {
      const read = keysetRead({ ...q, ascending: true }, (c) => {
        const key = decodeCursor<{ t: string, id: string }>(c, ['t', 'id'])
        return { occurredAt: cursorDate(key.t), id: key.id }
      })
      const now = clock.now()
      const rows = await inWorkspace(db, ctx.workspaceId, (tx) => unansweredBefore(tx, ctx.workspaceId, waitedSince(now, unansweredForMinutes), q.limit + 1, read))
      const page = toDirectedPage(rows, q, (w) => ({ t: new Date(w.occurred_at).toISOString(), id: w.id }))
      return { ...page, items: page.items.map((w) => waitingOut(w, now)) }
    },

    async countUnanswered (ctx: RequestContext, unansweredForMinutes: number): Promise<number> {
      return inWorkspace(db, ctx.workspaceId, (tx) => countUnanswered(tx, ctx.workspaceId, waitedSince(clock.now(), unansweredForMinutes)))
    }
  }
}

/** The root `attention` field: its lists are read when selected, with their own page arguments. */
export interface AttentionQueue { unansweredForMinutes: number }

export interface UnansweredDto { interactionId: string, contactId: string, occurredAt: string, waitingSeconds: number }

const waitedSince = (now: Date, minutes: number) => new Date(now.getTime() - minutes * 60_000)

function waitingOut (w: UnansweredRow, now: Date): UnansweredDto {
  return {
    interactionId: w.id,
    contactId: w.contact_id,
    occurredAt: new Date(w.occurred_at).toISOString(),
    waitingSeconds: (now.getTime() - new Date(w.occurred_at).getTime()) / 1000
  }
}

export type RelationshipsService = ReturnType<typeof createRelationshipsService>
