import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { expectedVersion, sendWithETag } from '../../lib/etag.js'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import { ApiKey, ApiKeyCreate, ApiKeyIdParams, ApiKeyList, ApiKeyListQuery, ApiKeyWithSecret } from './api-keys.schemas.js'
import type { ApiKeysService } from './api-keys.service.js'

const tags = ['api-keys']
const security = [{ bearerAuth: [] }]

export const apiKeysRoutes: FastifyPluginAsyncZod<{ apiKeys: ApiKeysService }> = async (app, { apiKeys }) => {
  app.post('/v1/api-keys', {
    // No Idempotency-Key: a stored answer would keep the secret, which Rapport never keeps.
    config: { scope: 'admin', idempotency: false },
    schema: {
      operationId: 'createApiKey', tags, security,
      summary: 'Create an API key; the answer holds its secret, shown this once only',
      body: ApiKeyCreate,
      response: { 201: ApiKeyWithSecret, ...errorResponses(bodyErrors) }
    }
  }, async (request, reply) => {
    const key = await apiKeys.create(request.ctx, request.body)
    // The secret must not linger in any cache between the server and the client.
    return reply.code(201).header('location', `/v1/api-keys/${key.id}`).header('cache-control', 'no-store').send(key)
  })

  app.get('/v1/api-keys', {
    config: { scope: 'admin' },
    schema: { operationId: 'listApiKeys', tags, security, summary: 'List API keys, newest first (never their secrets)', querystring: ApiKeyListQuery, response: { 200: ApiKeyList, ...errorResponses([400]) } }
  }, async (request, reply) => sendPage(request, reply, await apiKeys.list(request.ctx, request.query)))

  app.get('/v1/api-keys/:id', {
    config: { scope: 'admin' },
    schema: { operationId: 'getApiKey', tags, security, summary: 'Get an API key (never its secret)', params: ApiKeyIdParams, response: { 200: ApiKey, 304: z.null().describe('Not modified (If-None-Match)'), ...errorResponses([404]) } }
  }, async (request, reply) => sendWithETag(request, reply, await apiKeys.get(request.ctx, request.params.id)))

  app.delete('/v1/api-keys/:id', {
    config: { scope: 'admin' },
    schema: { operationId: 'revokeApiKey', tags, security, summary: 'Revoke an API key: it and the tokens exchanged for it fail from the next request', params: ApiKeyIdParams, response: { 204: z.null().describe('Revoked'), ...errorResponses([404, 412]) } }
  }, async (request, reply) => {
    await apiKeys.revoke(request.ctx, request.params.id, { expectedVersion: expectedVersion(request) })
    return reply.code(204).send(null)
  })
}
