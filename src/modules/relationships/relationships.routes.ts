import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { errorResponses } from '../../lib/http-schemas.js'
import { ContactIdParams } from '../contacts/contacts.schemas.js'
import type { RelationshipsService } from './relationships.service.js'
import { Attention, AttentionQuery, Relationship } from './relationships.schemas.js'

const security = [{ bearerAuth: [] }]

export const relationshipsRoutes: FastifyPluginAsyncZod<{ relationships: RelationshipsService }> = async (app, { relationships }) => {
  app.get('/v1/contacts/:id/relationship', {
    config: { scope: 'contacts:read' },
    schema: { operationId: 'getContactRelationship', tags: ['contacts'], security, summary: 'Promise reliability, responsiveness, balance, recency and frequency toward a contact', params: ContactIdParams, response: { 200: Relationship, ...errorResponses([404]) } }
  }, async (request) => relationships.of(request.ctx, request.params.id))

  app.get('/v1/attention', {
    config: { scope: 'promises:read' },
    schema: { operationId: 'getAttentionQueue', tags: ['promises'], security, summary: 'Promises at risk or overdue, and inbound messages unanswered past a threshold', querystring: AttentionQuery, response: { 200: Attention, ...errorResponses([400]) } }
  }, async (request) => relationships.attention(request.ctx, request.query))
}
