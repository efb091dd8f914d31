import { z } from 'zod'
import { eventTypes } from '../events/event-types.js'

export const WebhookEventType = z.enum([...eventTypes, '*']).meta({ description: 'An event type, or * for every type' })
export const WebhookEndpointStatus = z.enum(['enabled', 'disabled'])

const url = z.string().trim().min(1).max(2000).meta({ description: 'Where deliveries are POSTed (https, or http); private, loopback and link-local addresses are refused' })
const eventTypeList = z.array(WebhookEventType).min(1).max(eventTypes.length + 1)
  .transform((types) => (types.includes('*') ? ['*'] : [...new Set(types)].sort()) as Array<z.output<typeof WebhookEventType>>)

export const WebhookEndpointCreate = z.object({
  url,
  eventTypes: eventTypeList,
  description: z.string().trim().max(500).nullable().optional(),
  status: WebhookEndpointStatus.optional()
}).strict().meta({ id: 'WebhookEndpointCreate' })
export type WebhookEndpointCreateInput = z.output<typeof WebhookEndpointCreate>

export const WebhookEndpointPatch = z.object({
  url: url.optional(),
  eventTypes: eventTypeList.optional(),
  description: z.string().trim().max(500).nullable().optional(),
  status: WebhookEndpointStatus.optional().meta({ description: 'enabled re-enables an endpoint (and clears disabledReason); disabled cancels its pending deliveries' })
}).strict().meta({ id: 'WebhookEndpointPatch' })
export type WebhookEndpointPatchInput = z.output<typeof WebhookEndpointPatch>

export const WebhookEndpoint = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(WebhookEventType),
  status: WebhookEndpointStatus,
  disabledReason: z.string().nullable().meta({ description: 'Why the endpoint is disabled (410 Gone, retries exhausted, or by a user)' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int()
}).meta({ id: 'WebhookEndpoint' })
export type WebhookEndpointDto = z.output<typeof WebhookEndpoint>

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().meta({ description: 'The whsec_… signing secret: shown only in this answer, store it now' })
}).meta({ id: 'WebhookEndpointWithSecret' })

export const WebhookEndpointList = z.object({ data: z.array(WebhookEndpoint), nextCursor: z.string().nullable() }).meta({ id: 'WebhookEndpointList' })
export const WebhookEndpointListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional()
}).strict()
export type WebhookEndpointListInput = z.output<typeof WebhookEndpointListQuery>

export const WebhookEndpointIdParams = z.object({ id: z.string().min(1).max(100) })
export const WebhookDeliveryIdParams = z.object({ id: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) })

export const WebhookDeliveryStatus = z.enum(['pending', 'succeeded', 'failed', 'cancelled'])
export const WebhookDelivery = z.object({
  id: z.string(),
  endpointId: z.string(),
  eventId: z.string().meta({ description: 'The webhook-id header of every attempt' }),
  eventType: z.string(),
  status: WebhookDeliveryStatus,
  attempts: z.number().int().meta({ description: 'Attempts made so far in the current round (a redelivery starts a new round)' }),
  totalAttempts: z.number().int(),
  lastStatusCode: z.number().int().nullable().meta({ description: 'HTTP status of the last answer; null when none came (timeout, refused)' }),
  lastLatencyMs: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.iso.datetime().nullable(),
  nextAttemptAt: z.iso.datetime().nullable().meta({ description: 'When the next attempt is due; null once the delivery has ended' }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime()
}).meta({ id: 'WebhookDelivery' })
export type WebhookDeliveryDto = z.output<typeof WebhookDelivery>

export const WebhookDeliveryList = z.object({ data: z.array(WebhookDelivery), nextCursor: z.string().nullable() }).meta({ id: 'WebhookDeliveryList' })
export const WebhookDeliveryListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  status: WebhookDeliveryStatus.optional()
}).strict()
export type WebhookDeliveryListInput = z.output<typeof WebhookDeliveryListQuery>
