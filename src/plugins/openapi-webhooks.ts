// The outbound webhooks a partner's endpoint receives, as the OpenAPI 3.1 `webhooks` section:
// one entry per event type, payload `{ type, timestamp, data }` signed per Standard Webhooks.
import { eventTypes } from '../modules/events/event-types.js'

type Json = Record<string, any>

// The schema of `data` for each event type: the subject as GET returns it after the change.
const dataSchemaOf = (type: string): string => {
  if (type === 'contact.merged') return 'ContactMerge'
  const resource = type.slice(0, type.indexOf('.'))
  return resource.charAt(0).toUpperCase() + resource.slice(1)
}

const payloadName = (type: string) =>
  'WebhookEvent_' + type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')

const operationId = (type: string) =>
  'on' + type.split(/[._]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')

const signatureHeaders = [
  { name: 'webhook-id', description: 'Unique message id (the event id): use it to drop duplicate deliveries', schema: { type: 'string', maxLength: 100 } },
  { name: 'webhook-timestamp', description: 'Unix seconds when this attempt was signed: refuse old ones to stop replays', schema: { type: 'string', maxLength: 20, pattern: '^[0-9]+$' } },
  {
    name: 'webhook-signature',
    description: 'Space-separated `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` signatures (Standard Webhooks): one with the endpoint secret, and during a rotation\'s grace one with the previous secret too; verify with the standardwebhooks package',
    schema: { type: 'string', maxLength: 1000 }
  }
].map((h) => ({ ...h, in: 'header', required: true }))

/** Components (payload schemas) and the `webhooks` section; `schemas` tells which data schemas exist. */
export function webhookDocument (schemas: Json): { webhooks: Json, payloads: Json } {
  const payloads: Json = {}
  const webhooks: Json = {}
  // webhook.test: the ping `POST /v1/webhook-endpoints/{id}/test` sends to one endpoint.
  const pingData = {
    type: 'object',
    properties: { endpointId: { type: 'string', maxLength: 100 }, eventId: { type: 'string', maxLength: 100 } },
    required: ['endpointId', 'eventId']
  }
  for (const type of [...eventTypes, 'webhook.test']) {
    const dataName = dataSchemaOf(type)
    payloads[payloadName(type)] = {
      type: 'object',
      description: `Body of a \`${type}\` delivery`,
      properties: {
        type: { type: 'string', const: type },
        timestamp: { type: 'string', format: 'date-time', maxLength: 40, description: 'When the event happened' },
        data: type === 'webhook.test'
          ? pingData
          : schemas[dataName] ? { $ref: `#/components/schemas/${dataName}` } : { type: 'object', description: 'The subject of the event' }
      },
      required: ['type', 'timestamp', 'data']
    }
    webhooks[type] = {
      post: {
        operationId: operationId(type),
        summary: `${type} event`,
        description: 'Sent to every webhook endpoint subscribed to this type. Answer 2xx quickly; any other answer ' +
          'or a timeout is retried with exponential backoff and jitter for about three days (Retry-After honoured); ' +
          '410 Gone disables the endpoint.',
        tags: ['webhooks'],
        // Rapport authenticates to the receiver by signing the body (webhook-signature), not by a scheme.
        security: [],
        parameters: signatureHeaders,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${payloadName(type)}` } } } },
        responses: {
          200: { description: 'Received: the delivery is done' },
          410: { description: 'Gone: disables the endpoint, no more deliveries' }
        }
      }
    }
  }
  return { webhooks, payloads }
}
