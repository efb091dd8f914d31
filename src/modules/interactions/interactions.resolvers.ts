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
      return toConnection(await services.interactions.list(ctx, query), Boolean(after), timelineKey)
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
  }
}

const timelineKey = (i: { occurredAt: string, id: string }) => ({ t: i.occurredAt, id: i.id })

// Nested objects load in one query per request and type, whatever the number of parents.
export const interactionsLoaders: MercuriusLoaders = {
  Contact: {
    // First pages of every contact's timeline in one statement; later pages (after) page alone.
    timeline: async (queries, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      const parsed = queries.map((q) => parseInput(TimelineQuery, withoutNulls({ limit: q.params.first, after: q.params.after }), { limit: 'first' }))
      const firstPages = new Map<number, Awaited<ReturnType<typeof services.interactions.timelines>>>()
      for (const limit of new Set(parsed.filter((p) => !p.after).map((p) => p.limit))) {
        const idx = parsed.map((p, i) => (!p.after && p.limit === limit ? i : -1)).filter((i) => i >= 0)
        const pages = await services.interactions.timelines(ctx, idx.map((i) => queries[i].obj.id), limit)
        idx.forEach((i, k) => firstPages.set(i, [pages[k]]))
      }
      return Promise.all(parsed.map(async (p, i) => {
        const page = firstPages.get(i)?.[0] ?? await services.interactions.timeline(ctx, queries[i].obj.id, p)
        return toConnection(page, Boolean(p.after), timelineKey)
      }))
    }
  },
  Interaction: {
    contact: async (queries, { ctx, services }) => services.contacts.getMany(ctx, queries.map((q) => q.obj.contactId)),
    channel: async (queries, { ctx, services }) => services.channels.getMany(ctx, queries.map((q) => q.obj.channelId as string | null))
  }
}
