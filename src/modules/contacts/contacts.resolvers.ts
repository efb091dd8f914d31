import type { IResolvers } from 'mercurius'
import { requireScope } from '../../plugins/auth.js'
import { toConnection } from '../../graphql/connection.js'
import { parseInput } from '../../lib/validation.js'
import { ContactCreate, ContactListQuery, ContactPatch } from './contacts.schemas.js'

// Resolvers stay thin: scope, the same zod schema as REST, one service call.
export const contactsResolvers: IResolvers = {
  Query: {
    contact: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'contacts:read')
      return services.contacts.get(ctx, id)
    },
    contacts: async (_root, { first, after, filter }, { ctx, services }) => {
      requireScope(ctx, 'contacts:read')
      const query = parseInput(ContactListQuery, { limit: first, after: after ?? undefined, ...stripNulls(filter) }, { limit: 'first' })
      return toConnection(await services.contacts.list(ctx, query), Boolean(after))
    }
  },
  Mutation: {
    createContact: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      return { contact: await services.contacts.create(ctx, parseInput(ContactCreate, input)) }
    },
    updateContact: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      const { id, ...patch } = input
      return { contact: await services.contacts.update(ctx, id, parseInput(ContactPatch, patch)) }
    },
    deleteContact: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      await services.contacts.remove(ctx, input.id)
      return { deletedContactId: input.id }
    }
  }
}

function stripNulls (value: Record<string, unknown> | null | undefined) {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== null))
}
