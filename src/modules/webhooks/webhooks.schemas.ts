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
  previousSecretExpiresAt: z.iso.datetime().nullable().meta({
    description: 'After a rotation with a grace period: until when deliveries are also signed with the previous secret (a past time: no longer). Null when never rotated or rotated with no grace'
  }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  version: z.number().int()
}).meta({ id: 'WebhookEndpoint' })
export type WebhookEndpointDto = z.output<typeof WebhookEndpoint>

export const WebhookEndpointWithSecret = WebhookEndpoint.extend({
  secret: z.string().meta({ description: 'The whsec_… signing secret: shown only in this answer, store it now' })
}).meta({ id: 'WebhookEndpointWithSecret' })

/** Seven days: the longest a replaced secret may keep signing. */
export const MAX_SECRET_GRACE_SECONDS = 604_800

export const WebhookSecretRotation = z.object({
  previousSecretExpiresInSeconds: z.number().int().min(0).max(MAX_SECRET_GRACE_SECONDS).default(86_400).meta({
    description: 'How long the replaced secret keeps signing alongside the new one (0..604800 s, default 86400: one day); 0 stops it at once. ' +
      'A second rotation within this time keeps only the secret it replaces'
  })
}).strict().meta({ id: 'WebhookSecretRotation' })
export type WebhookSecretRotationInput = z.output<typeof WebhookSecretRotation>

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
export const WebhookDeliveryAttempt = z.object({
  attempt: z.number().int().meta({ description: 'Attempt number: 1, 2, ... across redeliveries; a missing number is an attempt whose worker stopped before recording it (it was sent again)' }),
  startedAt: z.iso.datetime(),
  durationMs: z.number().int(),
  outcome: z.enum(['succeeded', 'retry_scheduled', 'failed']).meta({ description: 'failed: the delivery ended with this attempt (410 Gone, or the retries were spent)' }),
  statusCode: z.number().int().nullable().meta({ description: 'HTTP status of the answer; null when none came' }),
  errorKind: z.enum(['http_status', 'timeout', 'network', 'refused']).nullable()
    .meta({ description: 'http_status: a non-2xx answer; timeout: no answer in time; network: the connection failed; refused: the URL policy refused the address. Null on success' }),
  error: z.string().nullable(),
  nextAttemptAt: z.iso.datetime().nullable().meta({ description: 'When the retry this attempt scheduled is due; null when it scheduled none' })
}).meta({ id: 'WebhookDeliveryAttempt' })
export type WebhookDeliveryAttemptDto = z.output<typeof WebhookDeliveryAttempt>
export const WebhookDeliveryAttemptList = z.object({ data: z.array(WebhookDeliveryAttempt), nextCursor: z.string().nullable() }).meta({ id: 'WebhookDeliveryAttemptList' })
/** Attempts are listed oldest first, paged like the other lists. */
export const WebhookDeliveryAttemptListQuery = WebhookEndpointListQuery
export type WebhookDeliveryAttemptListInput = WebhookEndpointListInput

export const WebhookDeliveryListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  status: WebhookDeliveryStatus.optional()
}).strict()
export type WebhookDeliveryListInput = z.output<typeof WebhookDeliveryListQuery>
