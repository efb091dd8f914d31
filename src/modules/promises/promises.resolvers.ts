import type { MercuriusLoaders } from 'mercurius'
import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { batchedCounts, orderIn, pageOfList, pageRequest, toConnection, type PageArgs } from '../../graphql/connection.js'
import { decodeCursor } from '../../lib/cursor.js'
import { enumIn, enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../lib/context.js'
import { AttentionQuery } from '../relationships/relationships.schemas.js'
import { dueKey } from './promises.service.js'
import { PromiseClose, PromiseCreate, PromiseKeep, PromiseListQuery, PromiseRenegotiate, StatsQuery } from './promises.schemas.js'

/** A connection over a list read whole (a promise's evidence or history: a handful of rows). */
const inPages = <T extends { id: string }>(list: T[], args: PageArgs) => toConnection(pageOfList(list, pageRequest(args)), async () => list.length)

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
    promiseEvents: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const page = await services.promises.feedPage(ctx, pageRequest(args))
      // An event's id is its feed cursor (see PromisesService.feed).
      return toConnection({ ...page, items: page.items.map(eventOut) }, () => services.promises.feedCount(ctx), (e: { id: string }) => decodeCursor<{ x: string, s: number }>(e.id, ['x', 's']))
    },
    attention: async (_root, { unansweredForMinutes }, { ctx }) => {
      requireScope(ctx, 'promises:read')
      return { unansweredForMinutes: parseInput(AttentionQuery, withoutNulls({ unansweredForMinutes })).unansweredForMinutes }
    }
  },
  Attention: {
    promises: async (_queue, args, { ctx, services }) => {
      const page = await services.promises.needingAttentionPage(ctx, pageRequest(args))
      return toConnection(page, () => services.promises.countNeedingAttention(ctx), dueKey)
    },
    unanswered: async (queue, args, { ctx, services }) => {
      const page = await services.relationships.unansweredPage(ctx, queue.unansweredForMinutes, pageRequest(args))
      return toConnection(page, () => services.relationships.countUnanswered(ctx, queue.unansweredForMinutes), (w) => ({ t: w.occurredAt, id: w.interactionId }))
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
    promisorType: (p) => enumOut(p.promisorType)
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
      // The arguments are the same for most parents: validated once per status asked for.
      const filters = new Map<unknown, ReturnType<typeof parseInput<typeof PromiseListQuery>>>()
      const filterFor = (status: unknown) => {
        let filter = filters.get(status)
        if (!filter) filters.set(status, (filter = parseInput(PromiseListQuery, withoutNulls({ status: enumIn(status as string | null | undefined) }))))
        return filter
      }
      const parsed = queries.map((q) => ({ ...filterFor(q.params.status), contactId: q.obj.id as string, ...pageRequest(q.params) }))
      const groups = new Map<string, number[]>()
      parsed.forEach((p, i) => {
        if (p.after || p.before || p.backward) return
        const key = `${p.status}:${p.limit}`
        const group = groups.get(key)
        if (group) group.push(i)
        else groups.set(key, [i])
      })
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
    // Short lists read whole for every parent in one statement, then paged in memory.
    keptBy: async (queries, { ctx, services }) => {
      const lists = queries.map((q) => q.obj.keptByInteractionIds as string[])
      const found = await services.interactions.getMany(ctx, lists.flat())
      const byId = new Map(found.filter((i) => i !== null).map((i) => [i!.id, i!]))
      return lists.map((ids, i) => inPages(ids.flatMap((id) => byId.get(id) ?? []), queries[i].params))
    },
    events: async (queries, { ctx, services }) => {
      const lists = await services.promises.eventsOfMany(ctx, queries.map((q) => q.obj.id))
      return lists.map((list, i) => inPages(list.map(eventOut), queries[i].params))
    }
  },
  Interaction: {
    promisesMade: async (queries, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const lists = await services.promises.madeIn(ctx, queries.map((q) => q.obj.id))
      return lists.map((list, i) => inPages(list, queries[i].params))
    }
  }
}
