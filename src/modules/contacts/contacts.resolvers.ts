import type { GqlResolvers as Resolvers, GqlUpsertOutcome } from '../../graphql/generated.js'
import { requireScope } from '../../lib/context.js'
import { orderIn, pageRequest, toConnection } from '../../graphql/connection.js'
import { firstPageSelected, keepPageAhead } from '../../graphql/lookahead.js'
import { parseInput } from '../../lib/validation.js'
import { ContactBatch, ContactCreate, ContactListQuery, ContactPatch } from './contacts.schemas.js'
import { summarize } from './contacts.upsert.js'

// Resolvers stay thin: scope, the same zod schema as REST, one service call.
export const contactsResolvers: Resolvers = {
  Query: {
    contact: async (_root, { id }, context, info) => {
      const { ctx, services } = context
      requireScope(ctx, 'contacts:read')
      // Asked with its timeline's first page (and allowed to see it): both in one read.
      const limit = ctx.scopes.has('interactions:read') ? firstPageSelected(info, 'timeline') : undefined
      if (limit === undefined) return services.contacts.get(ctx, id)
      const { contact, timeline } = await services.interactions.contactWithTimeline(ctx, id, limit)
      if (timeline) keepPageAhead(context, contact.id, 'timeline', limit, timeline)
      return contact
    },
    contacts: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'contacts:read')
      const page = pageRequest(args)
      const filter = parseInput(ContactListQuery, stripNulls(args.filter))
      return toConnection(await services.contacts.list(ctx, { ...filter, ...page, ...orderIn(args.orderBy) }), () => services.contacts.count(ctx, filter))
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
      return { summary: out.summary, results: out.results.map((r) => ({ ...r, result: r.result.toUpperCase() as GqlUpsertOutcome })) }
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
