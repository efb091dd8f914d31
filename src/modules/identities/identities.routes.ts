import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { ContactIdParams } from '../contacts/contacts.schemas.js'
import type { IdentitiesService } from './identities.service.js'
import { Identity, IdentityCreate, IdentityList, IdentityParams } from './identities.schemas.js'

const tags = ['contacts']
const security = [{ bearerAuth: [] }]

export const identitiesRoutes: FastifyPluginAsyncZod<{ identities: IdentitiesService }> = async (app, { identities }) => {
  app.get('/v1/contacts/:id/identities', {
    config: { scope: 'contacts:read' },
    schema: { operationId: 'listContactIdentities', tags, security, summary: 'Channel identities of a contact', params: ContactIdParams, response: { 200: IdentityList, ...errorResponses([404]) } }
  }, async (request) => ({ data: await identities.list(request.ctx, request.params.id) }))

  app.post('/v1/contacts/:id/identities', {
    config: { scope: 'contacts:write' },
    schema: { operationId: 'addContactIdentity', tags, security, summary: 'Attach an identity (kind + address) to a contact', params: ContactIdParams, body: IdentityCreate, response: { 201: Identity, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request, reply) => reply.code(201).send(await identities.add(request.ctx, request.params.id, request.body)))

  app.delete('/v1/contacts/:id/identities/:identityId', {
    config: { scope: 'contacts:write' },
    schema: { operationId: 'removeContactIdentity', tags, security, summary: 'Detach an identity', params: IdentityParams, response: { 204: z.null().describe('Removed'), ...errorResponses([404]) } }
  }, async (request, reply) => {
    await identities.remove(request.ctx, request.params.id, request.params.identityId)
    return reply.code(204).send(null)
  })
}
