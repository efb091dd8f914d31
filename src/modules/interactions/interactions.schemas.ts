import { z } from 'zod'
import { deliveryStatuses, directions, interactionKinds } from './interactions.table.js'

export const Interaction = z.object({
  id: z.string(),
  contactId: z.string(),
  channelId: z.string().nullable(),
  direction: z.enum(directions),
  kind: z.enum(interactionKinds),
  subject: z.string().nullable(),
  body: z.string().nullable(),
  threadId: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  status: z.enum(deliveryStatuses).nullable().meta({ description: 'Delivery status of an outbound message' }),
  statusReason: z.string().nullable(),
  counterpart: z.string().nullable().meta({ description: 'The contact address the message came from or went to' }),
  attachments: z.array(z.record(z.string(), z.unknown())),
  occurredAt: z.iso.datetime(),
  authorId: z.string().nullable(),
  raw: z.unknown().optional().meta({ description: 'The provider payload, only with ?include=raw' }),
  editedAt: z.iso.datetime().nullable().meta({ description: 'When the contact last edited this message in the provider\'s app, by the provider\'s clock; null if never edited' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
}).meta({ id: 'Interaction' })
export type InteractionDto = z.output<typeof Interaction>

export const InteractionList = z.object({ data: z.array(Interaction), nextCursor: z.string().nullable() }).meta({ id: 'InteractionList' })

const text = (max: number) => z.string().trim().min(1).max(max)

export const InteractionLog = z.object({
  contactId: text(100),
  channelId: text(100).optional(),
  direction: z.enum(directions),
  kind: z.enum(interactionKinds),
  subject: text(998).optional(),
  body: z.string().max(100_000).optional(),
  threadId: text(500).optional(),
  providerMessageId: text(500).optional(),
  occurredAt: z.iso.datetime({ offset: true }).max(40).optional(),
  keepsPromiseIds: z.array(text(100)).max(20).optional()
    .meta({ description: 'Promises this (outbound) interaction keeps, as their evidence, in the same transaction; needs the promises:write scope as well' })
}).strict().meta({ id: 'InteractionLog', description: 'A call, meeting, note, letter, or an exchange that happened elsewhere' })
export type InteractionLogInput = z.output<typeof InteractionLog>

export const MessageSend = z.object({
  channelId: text(100),
  text: z.string().min(1).max(100_000),
  subject: text(998).optional(),
  to: text(320).optional().meta({ description: 'Address or handle; default: the contact\'s identity on the channel' }),
  threadId: text(500).optional()
}).strict().meta({ id: 'MessageSend' })
export type MessageSendInput = z.output<typeof MessageSend>

const Cursor = z.string().min(1).max(500)
export const InteractionListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: Cursor.optional(),
  contactId: text(100).optional(),
  channelId: text(100).optional(),
  direction: z.enum(directions).optional(),
  kind: z.enum(interactionKinds).optional(),
  since: z.iso.datetime({ offset: true }).max(40).optional(),
  until: z.iso.datetime({ offset: true }).max(40).optional(),
  updatedSince: z.iso.datetime({ offset: true }).max(40).optional()
}).strict()
export type InteractionListInput = z.output<typeof InteractionListQuery>

export const TimelineQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: Cursor.optional()
}).strict()

export const IncludeQuery = z.object({ include: z.enum(['raw']).optional() }).strict()
export const InteractionIdParams = z.object({ id: z.string().min(1).max(100) })
