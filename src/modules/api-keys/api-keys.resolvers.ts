import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { pageRequest, toConnection } from '../../graphql/connection.js'
import { withoutNulls } from '../../graphql/enums.js'
import { holdsSecret } from '../../graphql/secrets.js'
import { requireScope } from '../../lib/context.js'
import { parseInput } from '../../lib/validation.js'
import { ApiKeyCreate } from './api-keys.schemas.js'

// The same service calls, scope (admin) and zod schema as api-keys.routes.ts; If-Match is expectedVersion.
export const apiKeysResolvers: Resolvers = {
  Query: {
    apiKeys: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'admin')
      return toConnection(await services.apiKeys.list(ctx, pageRequest(args)), () => services.apiKeys.count(ctx))
    },
    apiKey: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'admin')
      return services.apiKeys.get(ctx, id)
    }
  },
  Mutation: {
    createApiKey: async (_root, { input }, context) => {
      const { ctx, services } = context
      requireScope(ctx, 'admin')
      const { secret, ...apiKey } = await services.apiKeys.create(ctx, parseInput(ApiKeyCreate, withoutNulls(input)))
      holdsSecret(context)
      return { apiKey, secret }
    },
    revokeApiKey: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'admin')
      await services.apiKeys.revoke(ctx, input.id, { expectedVersion: input.expectedVersion ?? undefined })
      return { apiKey: await services.apiKeys.get(ctx, input.id) }
    }
  }
}
