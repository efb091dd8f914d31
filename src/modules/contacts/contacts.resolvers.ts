import type { IResolvers } from 'mercurius'
import { requireScope } from '../../plugins/auth.js'
import { toConnection } from '../../graphql/connection.js'
import { parseInput } from '../../lib/validation.js'
import { ContactBatch, ContactCreate, ContactListQuery, ContactPatch } from './contacts.schemas.js'
import { summarize } from './contacts.upsert.js'

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
    upsertContacts: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'contacts:write')
      const upsertOn = ({ EXTERNAL_ID: 'externalId', EMAIL: 'email', PHONE: 'phone' } as const)[input.upsertOn as 'EMAIL']
      const batch = parseInput(ContactBatch, stripNulls({ ...input, upsertOn, records: input.records.map(stripNulls) }))
      const out = summarize(await services.contacts.upsertMany(ctx, batch.upsertOn, batch.records, { dryRun: batch.dryRun }))
      return { summary: out.summary, results: out.results.map((r) => ({ ...r, result: r.result.toUpperCase() })) }
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
