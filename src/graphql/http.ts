import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import Negotiator from 'negotiator'
import { DomainError } from '../lib/errors.js'
import { addRouteHooks } from '../plugins/route-hooks.js'

const graphqlResponse = 'application/graphql-response+json'

/**
 * GraphQL-over-HTTP details that mercurius leaves to the application: the
 * `application/graphql-response+json` media type when the client prefers it (plain
 * `application/json` stays the default for clients that name neither), and `null` accepted
 * for every absent optional parameter.
 */
export function registerGraphQLOverHttp (app: FastifyInstance) {
  const preValidation = async (request: FastifyRequest) => {
    const source = request.method === 'GET' ? (request.query as Record<string, unknown>) : (request.body as Record<string, unknown> | undefined)
    // mercurius takes a non-string `query` for a parsed document and then fails deep inside
    // validation; a query is text, anything else is the client's mistake.
    const query = source?.query
    if (query !== undefined && query !== null && typeof query !== 'string') {
      throw new DomainError('graphql.invalid_query', 'The query must be a GraphQL document as a string')
    }
    if (source && typeof source === 'object' && source.extensions === null) delete source.extensions
  }

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (!String(reply.getHeader('content-type') ?? '').startsWith('application/json')) return payload
    const preferred = new Negotiator(request.raw).mediaType(['application/json', graphqlResponse])
    if (preferred === graphqlResponse) reply.header('content-type', `${graphqlResponse}; charset=utf-8`)
    return payload
  }
  // On the GraphQL endpoint's routes only (mercurius registers them after this call).
  addRouteHooks(app, (route) => route.url === '/graphql', { preValidation, onSend })
}
