import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import type { ContactsService } from '../contacts/contacts.service.js'
import type { PromisesService } from '../promises/promises.service.js'
import { exchangeFacts, unansweredBefore } from './relationships.repository.js'
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
        const waiting = await unansweredBefore(tx, ctx.workspaceId, new Date(now.getTime() - q.unansweredForMinutes * 60_000), q.limit)
        return {
          promises: await promises.needingAttention(tx, ctx.workspaceId, q.limit),
          unanswered: waiting.map((w) => ({
            interactionId: w.id,
            contactId: w.contact_id,
            occurredAt: new Date(w.occurred_at).toISOString(),
            waitingSeconds: (now.getTime() - new Date(w.occurred_at).getTime()) / 1000
          }))
        }
      })
    }
  }
}

export type RelationshipsService = ReturnType<typeof createRelationshipsService>
