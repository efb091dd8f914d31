import type { MercuriusLoaders } from 'mercurius'
import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { batchedCounts, orderIn, pageRequest, toConnection } from '../../graphql/connection.js'
import { enumIn, enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../plugins/auth.js'
import { AttentionQuery } from '../relationships/relationships.schemas.js'
import { EventFeedQuery, PromiseClose, PromiseCreate, PromiseKeep, PromiseListQuery, PromiseRenegotiate, StatsQuery } from './promises.schemas.js'

const eventOut = <E extends { type: string }>(e: E) => ({ ...e, type: enumOut(e.type) })

export const promisesResolvers: Resolvers = {
  Query: {
    promise: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      return services.promises.get(ctx, id)
    },
    promises: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const page = pageRequest(args)
      const filter = parseInput(PromiseListQuery, enumsIn(withoutNulls(args.filter), ['status']))
      return toConnection(await services.promises.list(ctx, { ...filter, ...page, ...orderIn(args.orderBy) }), () => services.promises.count(ctx, filter))
    },
    promiseStats: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      return services.promises.stats(ctx, parseInput(StatsQuery, enumsIn(withoutNulls(args), ['groupBy'])))
    },
    promiseEvents: async (_root, { after, first }, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const page = await services.promises.feed(ctx, parseInput(EventFeedQuery, withoutNulls({ after, limit: first }), { limit: 'first' }))
      return { events: page.items.map(eventOut), nextCursor: page.nextCursor }
    },
    attention: async (_root, { unansweredForMinutes, first }, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      return services.relationships.attention(ctx, parseInput(AttentionQuery, withoutNulls({ unansweredForMinutes, limit: first }), { limit: 'first' }))
    }
  },
  Mutation: {
    createPromise: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      return { promise: await services.promises.create(ctx, parseInput(PromiseCreate, enumsIn(withoutNulls(input), ['promisorType']))) }
    },
    keepPromise: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      const { id, ...rest } = withoutNulls(input)
      return { promise: await services.promises.keep(ctx, String(id), parseInput(PromiseKeep, rest)) }
    },
    breakPromise: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      const { id, ...rest } = withoutNulls(input)
      return { promise: await services.promises.break(ctx, String(id), parseInput(PromiseClose, rest).reason) }
    },
    cancelPromise: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      const { id, ...rest } = withoutNulls(input)
      return { promise: await services.promises.cancel(ctx, String(id), parseInput(PromiseClose, rest).reason) }
    },
    renegotiatePromise: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      const { id, ...rest } = withoutNulls(input)
      return { promise: await services.promises.renegotiate(ctx, String(id), parseInput(PromiseRenegotiate, rest)) }
    }
  },
  Promise: {
    status: (p) => enumOut(p.status),
    promisorType: (p) => enumOut(p.promisorType),
    events: async (p, _args, { ctx, services }) => (await services.promises.events(ctx, p.id)).map(eventOut)
  },
  Contact: {
    relationship: async (contact, _args, { ctx, services }) => services.relationships.of(ctx, contact.id)
  }
}

export const promisesLoaders: MercuriusLoaders = {
  Contact: {
    // First pages for a whole page of contacts in one statement; a page after a cursor reads alone.
    promises: async (queries, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const parsed = queries.map((q) => ({
        ...parseInput(PromiseListQuery, withoutNulls({ status: enumIn(q.params.status), contactId: q.obj.id })),
        ...pageRequest(q.params)
      }))
      const groups = new Map<string, number[]>()
      parsed.forEach((p, i) => { if (!p.after && !p.before && !p.backward) groups.set(`${p.status}:${p.limit}`, [...(groups.get(`${p.status}:${p.limit}`) ?? []), i]) })
      const pages = new Map<number, Awaited<ReturnType<typeof services.promises.list>>>()
      for (const idx of groups.values()) {
        const { status, limit } = parsed[idx[0]]
        const found = await services.promises.firstPages(ctx, idx.map((i) => queries[i].obj.id), { status, limit })
        idx.forEach((i, k) => pages.set(i, found[k]))
      }
      // One grouped COUNT per status asked for, run only if some totalCount is selected.
      const countsByStatus = new Map<string | undefined, ReturnType<typeof batchedCounts>>()
      for (const status of new Set(parsed.map((p) => p.status))) {
        countsByStatus.set(status, batchedCounts(queries.map((q) => q.obj.id), (ids) => services.promises.countByContact(ctx, ids, status)))
      }
      return Promise.all(parsed.map(async (p, i) => toConnection(pages.get(i) ?? await services.promises.list(ctx, p),
        () => countsByStatus.get(p.status)!(queries[i].obj.id))))
    }
  },
  Promise: {
    contact: async (queries, { ctx, services }) => services.contacts.getMany(ctx, queries.map((q) => q.obj.contactId)),
    madeIn: async (queries, { ctx, services }) => services.interactions.getMany(ctx, queries.map((q) => q.obj.madeInInteractionId as string | null)),
    keptBy: async (queries, { ctx, services }) => {
      const lists = queries.map((q) => q.obj.keptByInteractionIds as string[])
      const found = await services.interactions.getMany(ctx, lists.flat())
      const byId = new Map(found.filter((i) => i !== null).map((i) => [i!.id, i]))
      return lists.map((ids) => ids.map((id) => byId.get(id)).filter(Boolean))
    }
  },
  Interaction: {
    promisesMade: async (queries, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      return services.promises.madeIn(ctx, queries.map((q) => q.obj.id))
    }
  }
}
