import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { expectedVersion, sendWithETag } from '../../lib/etag.js'
import { bodyErrors, errorResponses, OPTIONAL_BODY_MARKER, optionalBody } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import type { WebhooksService } from './webhooks.service.js'
import {
  WebhookDelivery, WebhookDeliveryAttemptList, WebhookDeliveryAttemptListQuery, WebhookDeliveryIdParams, WebhookDeliveryList, WebhookDeliveryListQuery,
  WebhookEndpoint, WebhookEndpointCreate, WebhookEndpointIdParams, WebhookEndpointList, WebhookEndpointListQuery, WebhookEndpointPatch,
  WebhookEndpointWithSecret, WebhookSecretRotation
} from './webhooks.schemas.js'

const tags = ['webhooks']
const security = [{ bearerAuth: [] }]
const read = { scope: 'webhooks:read' as const }
const write = { scope: 'webhooks:write' as const }

export const webhooksRoutes: FastifyPluginAsyncZod<{ webhooks: WebhooksService }> = async (app, { webhooks }) => {
  app.post('/v1/webhook-endpoints', {
    config: write,
    schema: {
      operationId: 'createWebhookEndpoint', tags, security,
      summary: 'Register a webhook endpoint; the answer holds its signing secret, shown only this once',
      body: WebhookEndpointCreate, response: { 201: WebhookEndpointWithSecret, ...errorResponses(bodyErrors) }
    }
  }, async (request, reply) => {
    const endpoint = await webhooks.create(request.ctx, request.body)
    return reply.code(201).header('location', `/v1/webhook-endpoints/${endpoint.id}`).header('etag', `"v${endpoint.version}"`).send(endpoint)
  })

  app.get('/v1/webhook-endpoints', {
    config: read,
    schema: { operationId: 'listWebhookEndpoints', tags, security, summary: 'List webhook endpoints, newest first', querystring: WebhookEndpointListQuery, response: { 200: WebhookEndpointList, ...errorResponses([400]) } }
  }, async (request, reply) => sendPage(request, reply, await webhooks.list(request.ctx, request.query)))

  app.get('/v1/webhook-endpoints/:id', {
    config: read,
    schema: {
      operationId: 'getWebhookEndpoint', tags, security, summary: 'Get a webhook endpoint (never its secret)', params: WebhookEndpointIdParams,
      response: { 200: WebhookEndpoint, 304: z.null().describe('Not modified (If-None-Match)'), ...errorResponses([404]) }
    }
  }, async (request, reply) => sendWithETag(request, reply, await webhooks.get(request.ctx, request.params.id)))

  app.patch('/v1/webhook-endpoints/:id', {
    config: write,
    schema: {
      operationId: 'updateWebhookEndpoint', tags, security, summary: 'Change the URL, event types or description; enable or disable',
      params: WebhookEndpointIdParams, body: WebhookEndpointPatch, response: { 200: WebhookEndpoint, ...errorResponses([...bodyErrors, 404, 412]) }
    }
  }, async (request, reply) => sendWithETag(request, reply, await webhooks.update(request.ctx, request.params.id, request.body, { expectedVersion: expectedVersion(request) })))

  app.delete('/v1/webhook-endpoints/:id', {
    config: write,
    schema: {
      operationId: 'deleteWebhookEndpoint', tags, security, summary: 'Delete a webhook endpoint and its delivery log',
      params: WebhookEndpointIdParams, response: { 204: z.null().describe('Deleted'), ...errorResponses([404, 412]) }
    }
  }, async (request, reply) => {
    await webhooks.remove(request.ctx, request.params.id, { expectedVersion: expectedVersion(request) })
    return reply.code(204).send(null)
  })

  app.post('/v1/webhook-endpoints/:id/rotate-secret', {
    config: write,
    ...optionalBody,
    schema: {
      [OPTIONAL_BODY_MARKER]: true,
      operationId: 'rotateWebhookEndpointSecret', tags, security,
      summary: 'Replace the signing secret (shown once); the previous one also signs until previousSecretExpiresAt (a day unless the body says otherwise)',
      params: WebhookEndpointIdParams, body: WebhookSecretRotation, response: { 200: WebhookEndpointWithSecret, ...errorResponses([...bodyErrors, 404]) }
    }
  }, async (request) => webhooks.rotateSecret(request.ctx, request.params.id, request.body))

  app.post('/v1/webhook-endpoints/:id/test', {
    config: write,
    schema: {
      operationId: 'testWebhookEndpoint', tags, security, summary: 'Send a signed webhook.test ping to this endpoint (it appears in the delivery log)',
      params: WebhookEndpointIdParams, response: { 202: WebhookDelivery, ...errorResponses([404, 409]) }
    }
  }, async (request, reply) => reply.code(202).send(await webhooks.sendTest(request.ctx, request.params.id)))

  app.get('/v1/webhook-endpoints/:id/deliveries', {
    config: read,
    schema: {
      operationId: 'listWebhookDeliveries', tags, security, summary: 'The delivery log of an endpoint, newest first',
      params: WebhookEndpointIdParams, querystring: WebhookDeliveryListQuery, response: { 200: WebhookDeliveryList, ...errorResponses([400, 404]) }
    }
  }, async (request, reply) => sendPage(request, reply, await webhooks.deliveries(request.ctx, request.params.id, request.query)))

  app.get('/v1/webhook-endpoints/:id/deliveries/:deliveryId/attempts', {
    config: read,
    schema: {
      operationId: 'listWebhookDeliveryAttempts', tags, security, summary: 'Every attempt of a delivery, oldest first',
      params: WebhookDeliveryIdParams, querystring: WebhookDeliveryAttemptListQuery, response: { 200: WebhookDeliveryAttemptList, ...errorResponses([400, 404]) }
    }
  }, async (request, reply) => sendPage(request, reply, await webhooks.attempts(request.ctx, request.params.id, request.params.deliveryId, request.query)))

  app.post('/v1/webhook-endpoints/:id/deliveries/:deliveryId/redeliver', {
    config: write,
    schema: {
      operationId: 'redeliverWebhook', tags, security, summary: 'Send a delivery again (same webhook-id, a fresh retry schedule)',
      params: WebhookDeliveryIdParams, response: { 202: WebhookDelivery, ...errorResponses([404, 409]) }
    }
  }, async (request, reply) => reply.code(202).send(await webhooks.redeliver(request.ctx, request.params.id, request.params.deliveryId)))
}
