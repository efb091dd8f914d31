import { z } from 'zod'
import { eventTypes } from './event-types.js'

export const Event = z.object({
  id: z.string().meta({ description: 'evt_… id, stable across reads (webhook deliveries carry it too)' }),
  type: z.enum(eventTypes),
  subjectId: z.string().meta({ description: 'The contact, interaction, promise or channel the event is about' }),
  data: z.record(z.string(), z.unknown()).meta({ description: 'The subject as GET returns it, after the change (contact.merged: the merge record; *.deleted: the last representation)' }),
  occurredAt: z.iso.datetime(),
  position: z.string().meta({ description: 'Cursor of this event: pass it as `after` to resume after it' })
}).meta({ id: 'Event' })

export const EventList = z.object({
  data: z.array(Event),
  nextCursor: z.string().nullable().meta({ description: 'Where to resume; always returned once an event was read (poll with it), null only before the first event' })
}).meta({ id: 'EventList' })

const typeList = z.string().max(2000).transform((s, ctx) => {
  const types = s.split(',').map((t) => t.trim()).filter(Boolean)
  const unknown = types.filter((t) => !(eventTypes as readonly string[]).includes(t))
  if (unknown.length) ctx.addIssue({ code: 'custom', message: `Unknown event types: ${unknown.join(', ')}` })
  return types
})

export const EventListQuery = z.object({
  after: z.string().min(1).max(500).optional().meta({ description: 'A position or nextCursor from an earlier read' }),
  types: typeList.optional().meta({ description: 'Comma-separated event types, e.g. contact.created,promise.broken' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100)
}).strict()
export type EventListInput = z.output<typeof EventListQuery>
