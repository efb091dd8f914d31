import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import mercurius, { type IResolvers } from 'mercurius'
import { channelsResolvers } from '../modules/channels/channels.resolvers.js'
import { contactsResolvers } from '../modules/contacts/contacts.resolvers.js'
import { identitiesLoaders, identitiesResolvers } from '../modules/identities/identities.resolvers.js'
import { interactionsLoaders, interactionsResolvers } from '../modules/interactions/interactions.resolvers.js'
import { promisesLoaders, promisesResolvers } from '../modules/promises/promises.resolvers.js'
import { suggestionsResolvers } from '../modules/promises/suggestions.resolvers.js'
import { webhooksLoaders, webhooksResolvers } from '../modules/webhooks/webhooks.resolvers.js'
import { apiKeysResolvers } from '../modules/api-keys/api-keys.resolvers.js'
import type { Config } from '../config.js'
import type { Services } from '../services.js'
import type { GraphQLContext } from './context.js'
import { batchedResolvers } from './batch.js'
import { connectionResolvers } from './connection.js'
import { formatGraphQLErrors } from './errors.js'
import { registerGraphQLOverHttp } from './http.js'
import { aliasLimitRule, registerCostLimit } from './limits.js'
import { nodeResolvers } from './node.resolvers.js'
import { DateTime, JSONScalar } from './scalars.js'
import { setupSubscriptions } from './subscriptions.js'
import type { Db } from '../db/client.js'

export const schemaPath = new URL('../../schema.graphql', import.meta.url)

/** Merges the resolver maps of every module (one object per root type). */
// Takes the generated GqlResolvers maps as well as mercurius' own (their index signatures differ).
export function mergeResolvers (...maps: object[]): IResolvers {
  const merged: Record<string, Record<string, unknown>> = {}
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) merged[type] = { ...merged[type], ...(fields as object) }
  }
  return merged as IResolvers
}

const typeByPrefix: Record<string, string> = { con: 'Contact', chn: 'Channel', int: 'Interaction', idn: 'Identity', prm: 'Promise', whe: 'WebhookEndpoint', key: 'ApiKey' }

/** Relay Node: an id's prefix names its type. */
function nodeType (obj: { id: string }): string | undefined {
  return typeByPrefix[obj.id.split('_')[0]]
}

async function graphqlPlugin (app: FastifyInstance, opts: { services: Services, db: Db, graphiql: boolean, limits: Config['graphql'] }) {
  const subscriptions = setupSubscriptions(app, { db: opts.db, services: opts.services, workspaces: opts.services.workspaces, apiKeys: opts.services.apiKeys, pollMs: opts.limits.subscriptionPollMs })
  registerGraphQLOverHttp(app)

  await app.register(mercurius, {
    schema: readFileSync(schemaPath, 'utf8'),
    resolvers: mergeResolvers(
      { DateTime, JSON: JSONScalar } as unknown as IResolvers,
      { Node: { resolveType: nodeType } } as unknown as IResolvers,
      connectionResolvers(['Contact', 'Channel', 'Identity', 'Interaction', 'Promise', 'PromiseSuggestion', 'ContactMerge', 'PromiseEvent', 'UnansweredMessage',
        'WebhookEndpoint', 'WebhookDelivery', 'WebhookDeliveryAttempt', 'ApiKey'].map((t) => `${t}Connection`)) as unknown as IResolvers,
      contactsResolvers,
      identitiesResolvers,
      channelsResolvers,
      interactionsResolvers,
      promisesResolvers,
      suggestionsResolvers,
      webhooksResolvers,
      apiKeysResolvers,
      nodeResolvers,
      subscriptions.resolvers,
      // Nested fields batched per request (batch.ts), after the plain resolvers as mercurius' loaders were.
      batchedResolvers(mergeResolvers(identitiesLoaders, interactionsLoaders, promisesLoaders, webhooksLoaders) as never)
    ),
    context: (request): GraphQLContext => ({ ctx: request.ctx, services: opts.services }),
    errorFormatter: formatGraphQLErrors as never,
    graphiql: opts.graphiql,
    jit: 1,
    // Automatic persisted queries: a client sends the query's SHA-256 and the text only once.
    persistedQueryProvider: mercurius.persistedQueryDefaults.automatic(5000),
    // Deep enough for the standard introspection query (GraphiQL, codegen), which nests 15 levels.
    queryDepth: 15,
    validationRules: [aliasLimitRule(opts.limits.maxAliases)],
    path: '/graphql',
    // Live updates over WebSocket on the same path (graphql-transport-ws); see subscriptions.ts.
    subscription: subscriptions.options as never
  })
  registerCostLimit(app, opts.limits.maxCost)
}

export default fp(graphqlPlugin, { name: 'graphql' })
