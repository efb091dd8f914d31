import type { IResolvers, MercuriusLoaders } from 'mercurius'
import { toConnection } from '../../graphql/connection.js'
import { enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../plugins/auth.js'
import { InteractionListQuery, InteractionLog, MessageSend, TimelineQuery } from './interactions.schemas.js'

const enumFields = ['direction', 'kind']

export const interactionsResolvers: IResolvers = {
  Query: {
    interaction: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      return services.interactions.get(ctx, id, { includeRaw: true })
    },
    interactions: async (_root, { first, after, filter }, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      const query = parseInput(InteractionListQuery, { limit: first, after: after ?? undefined, ...enumsIn(withoutNulls(filter), enumFields) }, { limit: 'first' })
      return toConnection(await services.interactions.list(ctx, query), Boolean(after), (i) => ({ t: i.occurredAt, id: i.id }))
    }
  },
  Mutation: {
    logInteraction: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'interactions:write')
      return { interaction: await services.interactions.log(ctx, parseInput(InteractionLog, enumsIn(withoutNulls(input), enumFields))) }
    },
    sendMessage: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'messages:send')
      const { contactId, ...message } = withoutNulls(input)
      return { interaction: await services.interactions.send(ctx, String(contactId), parseInput(MessageSend, message)) }
    }
  },
  Interaction: {
    direction: (i) => enumOut(i.direction),
    kind: (i) => enumOut(i.kind),
    status: (i) => enumOut(i.status),
    raw: (i) => i.raw ?? null
  },
  Contact: {
    timeline: async (contact, { first, after }, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      const q = parseInput(TimelineQuery, { limit: first, after: after ?? undefined }, { limit: 'first' })
      return toConnection(await services.interactions.timeline(ctx, contact.id, q), Boolean(after), (i) => ({ t: i.occurredAt, id: i.id }))
    }
  }
}

// Nested objects load in one query per request and type, whatever the number of parents.
export const interactionsLoaders: MercuriusLoaders = {
  Interaction: {
    contact: async (queries, { ctx, services }) => services.contacts.getMany(ctx, queries.map((q) => q.obj.contactId)),
    channel: async (queries, { ctx, services }) => {
      const ids = queries.map((q) => q.obj.channelId as string | null)
      const found = await services.channels.getMany(ctx, ids.filter((id): id is string => id !== null))
      const byId = new Map(found.filter((c) => c !== null).map((c) => [c!.id, c]))
      return ids.map((id) => (id ? byId.get(id) ?? null : null))
    }
  }
}
