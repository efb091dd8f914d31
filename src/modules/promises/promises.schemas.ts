import { z } from 'zod'
import { promiseEventTypes, promiseStatuses, promisorTypes } from './promises.table.js'

const text = (max: number) => z.string().trim().min(1).max(max)
const Instant = z.iso.datetime({ offset: true }).max(40)

export const Promise_ = z.object({
  id: z.string(),
  contactId: z.string(),
  promisor: z.string(),
  promisorType: z.enum(promisorTypes),
  description: z.string(),
  kind: z.string().nullable(),
  dueAt: z.iso.datetime(),
  originalDueAt: z.iso.datetime(),
  madeInInteractionId: z.string().nullable(),
  channelId: z.string().nullable(),
  requiresEvidence: z.boolean(),
  status: z.enum(promiseStatuses),
  keptAt: z.iso.datetime().nullable(),
  keptByInteractionIds: z.array(z.string()),
  renegotiations: z.number().int(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int()
}).meta({ id: 'Promise' })
export type PromiseDto = z.output<typeof Promise_>

export const PromiseCreate = z.object({
  contactId: text(100),
  description: text(2000),
  kind: text(60).optional(),
  dueAt: Instant,
  promisor: text(200).optional().meta({ description: 'Default: the token subject; ignored for promisorType contact' }),
  promisorType: z.enum(promisorTypes).optional(),
  madeInInteractionId: text(100).optional(),
  requiresEvidence: z.boolean().optional()
}).strict().meta({ id: 'PromiseCreate' })
export type PromiseCreateInput = z.output<typeof PromiseCreate>

export const PromiseKeep = z.object({
  interactionIds: z.array(text(100)).max(20).optional().meta({ description: 'Evidence: outbound interactions to the contact after the promise was made' }),
  keptAt: Instant.optional()
}).strict().meta({ id: 'PromiseKeep' })
export const PromiseClose = z.object({ reason: text(2000).optional() }).strict().meta({ id: 'PromiseClose' })
export const PromiseRenegotiate = z.object({
  dueAt: Instant,
  reason: text(2000),
  interactionId: text(100).optional().meta({ description: 'Where the new terms were agreed' })
}).strict().meta({ id: 'PromiseRenegotiate' })
export type PromiseKeepInput = z.output<typeof PromiseKeep>
export type PromiseRenegotiateInput = z.output<typeof PromiseRenegotiate>

export const PromiseListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  status: z.enum(promiseStatuses).optional(),
  contactId: text(100).optional(),
  promisor: text(200).optional(),
  kind: text(60).optional(),
  dueBefore: Instant.optional(),
  dueAfter: Instant.optional(),
  updatedSince: Instant.optional()
}).strict()
export type PromiseListInput = z.output<typeof PromiseListQuery>
export const PromiseList = z.object({ data: z.array(Promise_), nextCursor: z.string().nullable() }).meta({ id: 'PromiseList' })

export const PromiseEvent = z.object({
  id: z.string().meta({ description: 'Position of the event in the feed' }),
  promiseId: z.string(),
  type: z.enum(promiseEventTypes),
  actor: z.string(),
  interactionId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  occurredAt: z.iso.datetime()
}).meta({ id: 'PromiseEvent' })
export type PromiseEventDto = z.output<typeof PromiseEvent>
export const PromiseEventList = z.object({ data: z.array(PromiseEvent), nextCursor: z.string().nullable() }).meta({ id: 'PromiseEventList' })
export const EventFeedQuery = z.object({
  after: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100)
}).strict()

export const StatsQuery = z.object({
  groupBy: z.enum(['none', 'contact', 'promisor', 'channel', 'kind']).default('none'),
  from: Instant.optional().meta({ description: 'Promises made at or after this instant' }),
  to: Instant.optional().meta({ description: 'Promises made before this instant' })
}).strict()
export type StatsInput = z.output<typeof StatsQuery>

export const PromiseStatsRow = z.object({
  key: z.string().nullable().meta({ description: 'The group: a contact id, promisor, channel id or kind (null: none)' }),
  made: z.number().int(),
  kept: z.number().int(),
  keptLate: z.number().int(),
  broken: z.number().int(),
  open: z.number().int(),
  cancelled: z.number().int(),
  keptOnOriginalTerms: z.number().int(),
  keptAfterRenegotiation: z.number().int(),
  keepRate: z.number().nullable().meta({ description: '(kept + keptLate) / (kept + keptLate + broken)' }),
  onTimeRate: z.number().nullable().meta({ description: 'kept / (kept + keptLate + broken)' }),
  meanLatenessSeconds: z.number().nullable().meta({ description: 'Mean of keptAt - dueAt over promises kept late' })
}).meta({ id: 'PromiseStatsRow' })
export const PromiseStats = z.object({ groupBy: z.string(), data: z.array(PromiseStatsRow) }).meta({ id: 'PromiseStats' })
export type PromiseStatsRowDto = z.output<typeof PromiseStatsRow>
export const PromiseIdParams = z.object({ id: z.string().min(1).max(100) })
