import type { MercuriusLoaders } from 'mercurius'
import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { batchedCounts, orderIn, pageRequest, toConnection } from '../../graphql/connection.js'
import { pageReadAhead } from '../../graphql/lookahead.js'
import type { Page, PageRequest } from '../../lib/cursor.js'
import { enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../lib/context.js'
import { InteractionListQuery, InteractionLog, MessageSend, type InteractionDto } from './interactions.schemas.js'

const enumFields = ['direction', 'kind']

export const interactionsResolvers: Resolvers = {
  Query: {
    interaction: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      return services.interactions.get(ctx, id, { includeRaw: true })
    },
    interactions: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'interactions:read')
      const page = pageRequest(args)
      const filter = parseInput(InteractionListQuery, enumsIn(withoutNulls(args.filter), enumFields))
      const list = await services.interactions.list(ctx, { ...filter, ...page, ...orderIn(args.orderBy) })
      return toConnection(list, () => services.interactions.count(ctx, filter), timelineKey)
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
    status: (i) => enumOut(i.status)
  }
}

const timelineKey = (i: { occurredAt: string, id: string }) => ({ t: i.occurredAt, id: i.id })

// Nested objects load in one query per request and type, whatever the number of parents.
export const interactionsLoaders: MercuriusLoaders = {
  Contact: {
    // First pages of every contact's timeline in one statement; any other page reads alone.
    timeline: async (queries, context) => {
      const { ctx, services } = context
      requireScope(ctx, 'interactions:read')
      const parsed = queries.map((q) => pageRequest(q.params))
      const isFirstPage = (p: PageRequest) => !p.after && !p.before && !p.backward
      const firstPages = new Map<number, Page<InteractionDto>>()
      // Pages the contact's resolver read along with it (src/graphql/lookahead.ts).
      parsed.forEach((p, i) => {
        const ahead = isFirstPage(p) ? pageReadAhead<InteractionDto>(context, queries[i].obj.id, 'timeline', p.limit) : undefined
        if (ahead) firstPages.set(i, ahead)
      })
      for (const limit of new Set(parsed.filter((p, i) => isFirstPage(p) && !firstPages.has(i)).map((p) => p.limit))) {
        const idx = parsed.map((p, i) => (isFirstPage(p) && p.limit === limit && !firstPages.has(i) ? i : -1)).filter((i) => i >= 0)
        const pages = await services.interactions.timelines(ctx, idx.map((i) => queries[i].obj.id), limit)
        idx.forEach((i, k) => firstPages.set(i, pages[k]))
      }
      const countOf = batchedCounts(queries.map((q) => q.obj.id), (ids) => services.interactions.countByContact(ctx, ids))
      return Promise.all(parsed.map(async (p, i) => {
        const contactId = queries[i].obj.id
        const page = firstPages.get(i) ?? await services.interactions.timeline(ctx, contactId, p)
        return toConnection(page, () => countOf(contactId), timelineKey)
      }))
    }
  },
  Interaction: {
    contact: async (queries, { ctx, services }) => services.contacts.getMany(ctx, queries.map((q) => q.obj.contactId)),
    channel: async (queries, { ctx, services }) => services.channels.getMany(ctx, queries.map((q) => q.obj.channelId as string | null)),
    // Lists and timelines leave the provider payload in the database (interactions.repository.ts
    // interactionColumns); the parents whose query selects it get theirs in one read.
    raw: async (queries, { ctx, services }) => {
      const missing = queries.filter((q) => !('raw' in q.obj)).map((q) => q.obj.id as string)
      const loaded = new Map(missing.length ? (await services.interactions.raws(ctx, missing)).map((raw, k) => [missing[k], raw]) : [])
      return queries.map((q) => ('raw' in q.obj ? q.obj.raw ?? null : loaded.get(q.obj.id) ?? null))
    }
  }
}
