import type { MercuriusLoaders } from 'mercurius'
import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { pageOfList, pageRequest, toConnection } from '../../graphql/connection.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../lib/context.js'
import type { MergeDto } from '../contacts/merges.service.js'
import { IdentityCreate } from './identities.schemas.js'

const mergeOut = (m: MergeDto) => ({ ...m, movedIdentityIds: m.moved.identities, movedInteractionIds: m.moved.interactions })

export const identitiesResolvers: Resolvers = {
  Mutation: {
    addIdentity: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      const { contactId, ...identity } = input
      return { identity: await services.identities.add(ctx, contactId, parseInput(IdentityCreate, identity)) }
    },
    removeIdentity: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      await services.identities.remove(ctx, input.contactId, input.identityId)
      return { removedIdentityId: input.identityId }
    },
    mergeContacts: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      const merge = await services.merges.merge(ctx, input.survivorId, input.mergedId)
      return { merge: mergeOut(merge), contact: await services.contacts.get(ctx, merge.survivorId) }
    },
    unmergeContacts: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      const merge = await services.merges.unmerge(ctx, input.contactId, input.mergeId)
      return { merge: mergeOut(merge), contact: await services.contacts.get(ctx, merge.mergedId) }
    }
  }
}

// A page of contacts asks for all their identities in one query.
export const identitiesLoaders: MercuriusLoaders = {
  Contact: {
    identities: async (queries, { ctx, services }) => {
      const lists = await services.identities.listMany(ctx, queries.map((q) => q.obj.id))
      return lists.map((list, i) => toConnection(pageOfList(list, pageRequest(queries[i].params)), async () => list.length))
    },
    // A contact's merges are few: read whole for the page's contacts, paged in memory.
    merges: async (queries, { ctx, services }) => {
      const lists = await services.merges.listMany(ctx, queries.map((q) => q.obj.id))
      return lists.map((list, i) => toConnection(pageOfList(list.map(mergeOut), pageRequest(queries[i].params)), async () => list.length))
    }
  }
}
