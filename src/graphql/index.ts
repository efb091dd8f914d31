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
import { DomainError } from '../lib/errors.js'
import type { Config } from '../config.js'
import type { Services } from '../services.js'
import type { GraphQLContext } from './context.js'
import { formatGraphQLErrors } from './errors.js'
import { aliasLimitRule, registerCostLimit } from './limits.js'
import { nodeResolvers } from './node.resolvers.js'
import { DateTime, JSONScalar } from './scalars.js'

export const schemaPath = new URL('../../schema.graphql', import.meta.url)

/** Merges the resolver maps of every module (one object per root type). */
export function mergeResolvers (...maps: IResolvers[]): IResolvers {
  const merged: Record<string, Record<string, unknown>> = {}
  for (const map of maps) {
    for (const [type, fields] of Object.entries(map)) merged[type] = { ...merged[type], ...(fields as object) }
  }
  return merged as IResolvers
}

const typeByPrefix: Record<string, string> = { con: 'Contact', chn: 'Channel', int: 'Interaction', idn: 'Identity', prm: 'Promise' }

/** Relay Node: an id's prefix names its type. */
function nodeType (obj: { id: string }): string | undefined {
  return typeByPrefix[obj.id.split('_')[0]]
}

async function graphqlPlugin (app: FastifyInstance, opts: { services: Services, graphiql: boolean, limits: Config['graphql'] }) {
  // mercurius takes a non-string `query` for a parsed document and then fails deep inside
  // validation; a query is text, anything else is the client's mistake.
  app.addHook('preValidation', async (request) => {
    if (!request.url.startsWith('/graphql')) return
    const source = request.method === 'GET' ? (request.query as Record<string, unknown>) : (request.body as Record<string, unknown> | undefined)
    const query = source?.query
    if (query !== undefined && query !== null && typeof query !== 'string') {
      throw new DomainError('graphql.invalid_query', 'The query must be a GraphQL document as a string')
    }
  })

  await app.register(mercurius, {
    schema: readFileSync(schemaPath, 'utf8'),
    resolvers: mergeResolvers(
      { DateTime, JSON: JSONScalar } as unknown as IResolvers,
      { Node: { resolveType: nodeType } } as unknown as IResolvers,
      contactsResolvers,
      identitiesResolvers,
      channelsResolvers,
      interactionsResolvers,
      promisesResolvers,
      suggestionsResolvers,
      nodeResolvers
    ),
    loaders: mergeResolvers(identitiesLoaders as IResolvers, interactionsLoaders as IResolvers, promisesLoaders as IResolvers) as never,
    context: (request): GraphQLContext => ({ ctx: request.ctx, services: opts.services }),
    errorFormatter: formatGraphQLErrors as never,
    graphiql: opts.graphiql,
    jit: 1,
    // Automatic persisted queries: a client sends the query's SHA-256 and the text only once.
    persistedQueryProvider: mercurius.persistedQueryDefaults.automatic(5000),
    // Deep enough for the standard introspection query (GraphiQL, codegen), which nests 15 levels.
    queryDepth: 15,
    validationRules: [aliasLimitRule(opts.limits.maxAliases)],
    path: '/graphql'
  })
  registerCostLimit(app, opts.limits.maxCost)
}

export default fp(graphqlPlugin, { name: 'graphql' })
