import { z } from 'zod'
import { Promise_, PromiseStatsRow } from '../promises/promises.schemas.js'

export const Relationship = z.object({
  contactId: z.string(),
  promises: PromiseStatsRow.describe('Reliability of the promises made to this contact'),
  responsiveness: z.object({
    medianReplySeconds: z.number().nullable().meta({ description: 'Median time from their inbound message to our next outbound one' }),
    unanswered: z.number().int().meta({ description: 'Inbound messages with no reply after them' }),
    oldestUnansweredAt: z.iso.datetime().nullable()
  }),
  balance: z.object({
    inbound: z.number().int(),
    outbound: z.number().int(),
    outboundShare: z.number().nullable().meta({ description: 'outbound / (inbound + outbound): how much we talk versus listen' })
  }),
  recency: z.object({
    lastInteractionAt: z.iso.datetime().nullable(),
    lastInboundAt: z.iso.datetime().nullable(),
    lastOutboundAt: z.iso.datetime().nullable(),
    daysSinceLastInteraction: z.number().nullable()
  }),
  frequency: z.object({
    last30Days: z.number().int(),
    last90Days: z.number().int(),
    perMonth: z.number().nullable().meta({ description: 'Average exchanges per 30 days since the first one' })
  })
}).meta({ id: 'Relationship' })
export type RelationshipDto = z.output<typeof Relationship>

export const AttentionQuery = z.object({
  unansweredForMinutes: z.coerce.number().int().min(0).max(525_600).default(1440),
  limit: z.coerce.number().int().min(1).max(100).default(50)
}).strict()

export const Attention = z.object({
  promises: z.array(Promise_).meta({ description: 'At risk, or past due' }),
  unanswered: z.array(z.object({ interactionId: z.string(), contactId: z.string(), occurredAt: z.iso.datetime(), waitingSeconds: z.number() }))
}).meta({ id: 'Attention' })
