import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { pageRequest, toConnection } from '../../graphql/connection.js'
import { enumIn, enumOut, withoutNulls } from '../../graphql/enums.js'
import { parseInput } from '../../lib/validation.js'
import { requireScope } from '../../lib/context.js'
import { WorkspacePatch } from '../workspaces/workspaces.schemas.js'
import { SuggestionAccept, SuggestionListQuery } from './suggestions.routes.js'

export const suggestionsResolvers: Resolvers = {
  Query: {
    workspace: async (_root, _args, { ctx, services }) => services.workspaces.get(ctx),
    promiseSuggestions: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'promises:read')
      const page = pageRequest(args)
      const filter = parseInput(SuggestionListQuery, withoutNulls({ status: enumIn(args.status), contactId: args.contactId }))
      return toConnection(await services.suggestions.list(ctx, { ...filter, ...page }), () => services.suggestions.count(ctx, filter))
    }
  },
  Mutation: {
    acceptPromiseSuggestion: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      const { id, ...overrides } = withoutNulls(input)
      return services.suggestions.accept(ctx, String(id), parseInput(SuggestionAccept, overrides))
    },
    dismissPromiseSuggestion: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'promises:write')
      return { suggestion: await services.suggestions.dismiss(ctx, input.id) }
    },
    updateWorkspace: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'admin')
      return { workspace: await services.workspaces.update(ctx, parseInput(WorkspacePatch, withoutNulls(input))) }
    }
  },
  PromiseSuggestion: {
    status: (s) => enumOut(s.status)
  }
}
