import type { Db, Tx } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import type { RequestContext } from '../../lib/context.js'
import { decodeCursor, keysetRead, toDirectedPage, type Page, type PageRequest } from '../../lib/cursor.js'
import { assertVersion } from '../../lib/etag.js'
import { DomainError, notFound, validationError } from '../../lib/errors.js'
import { newId } from '../../lib/ids.js'
import type { SecretBox } from '../../lib/secrets.js'
import { eventTypes, readScopeOf } from '../events/event-types.js'
import * as repo from './webhooks.repository.js'
import type {
  WebhookDeliveryAttemptDto, WebhookDeliveryAttemptListInput, WebhookDeliveryDto, WebhookDeliveryListInput, WebhookEndpointCreateInput,
  WebhookEndpointDto, WebhookEndpointListInput, WebhookEndpointPatchInput, WebhookSecretRotationInput
} from './webhooks.schemas.js'
import { newSigningSecret } from './webhooks.signing.js'
import { UrlRefusedError, type UrlPolicy } from './url-policy.js'

export interface WebhooksDeps { db: Db, clock: Clock, secrets: SecretBox, urlPolicy: UrlPolicy, onWork?: () => void }

export function createWebhooksService ({ db, clock, secrets, urlPolicy, onWork }: WebhooksDeps) {
  const ws = <T>(ctx: Pick<RequestContext, 'workspaceId'>, fn: (tx: Tx) => Promise<T>) => inWorkspace(db, ctx.workspaceId, fn)

  async function checkUrl (url: string): Promise<void> {
    try {
      await urlPolicy.assertAllowed(url)
    } catch (err) {
      if (err instanceof UrlRefusedError) throw validationError([{ pointer: '/url', message: err.message, code: 'url_refused' }], 'The webhook URL is not allowed')
      throw err
    }
  }

  // An endpoint receives the data of its events: subscribing needs the scope that reads them,
  // or webhooks:write alone would be a way around contacts:read.
  function checkReadable (ctx: RequestContext, types: readonly string[]): void {
    const wanted = types.includes('*') ? eventTypes : types
    const missing = [...new Set(wanted.map(readScopeOf))].filter((s) => !ctx.scopes.has(s))
    if (missing.length) throw new DomainError('auth.forbidden', `Subscribing to these events needs the scope ${missing[0]}`, { requiredScope: missing[0] })
  }

  async function requireEndpoint (tx: Tx, workspaceId: string, id: string) {
    const row = await repo.getEndpoint(tx, workspaceId, id)
    if (!row) throw notFound('webhook.not_found', id)
    return row
  }

  async function requireDelivery (tx: Tx, workspaceId: string, endpointId: string, id: string) {
    const row = await repo.getDelivery(tx, workspaceId, endpointId, id)
    if (!row) throw notFound('delivery.not_found', id)
    return row
  }

  return {
    /**
     * For the delivery worker: the URL guard, and the secrets an endpoint's deliveries are signed
     * with now, in clear: the current one, then the previous one while its grace lasts.
     */
    urlPolicy,
    signingSecrets (row: repo.EndpointRow, now: Date): string[] {
      const current = secrets.open<string>(row.secret)
      const graceLasts = row.previousSecret !== null && row.previousSecretExpiresAt !== null && now < row.previousSecretExpiresAt
      return graceLasts ? [current, secrets.open<string>(row.previousSecret!)] : [current]
    },

    async create (ctx: RequestContext, input: WebhookEndpointCreateInput): Promise<WebhookEndpointDto & { secret: string }> {
      checkReadable(ctx, input.eventTypes)
      await checkUrl(input.url)
      const secret = newSigningSecret()
      const now = clock.now()
      const row = await ws(ctx, (tx) => repo.insertEndpoint(tx, {
        workspaceId: ctx.workspaceId,
        id: newId('webhookEndpoint'),
        url: input.url,
        description: input.description ?? null,
        eventTypes: input.eventTypes,
        status: input.status ?? 'enabled',
        disabledReason: input.status === 'disabled' ? 'created disabled' : null,
        secret: secrets.seal(secret),
        createdAt: now,
        updatedAt: now
      }))
      return { ...toEndpointDto(row), secret }
    },

    async get (ctx: RequestContext, id: string): Promise<WebhookEndpointDto> {
      return ws(ctx, async (tx) => toEndpointDto(await requireEndpoint(tx, ctx.workspaceId, id)))
    },

    /** Newest first; REST reads forward with `after`, GraphQL also backward (`last`/`before`). */
    async list (ctx: RequestContext, q: WebhookEndpointListInput & PageRequest): Promise<Page<WebhookEndpointDto>> {
      const rows = await ws(ctx, (tx) => repo.listEndpoints(tx, ctx.workspaceId, keysetRead(q, idOfCursor), q.limit + 1))
      const page = toDirectedPage(rows, q, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toEndpointDto) }
    },

    /** How many endpoints the workspace has (GraphQL totalCount). */
    async count (ctx: RequestContext): Promise<number> {
      return ws(ctx, (tx) => repo.countEndpoints(tx, ctx.workspaceId))
    },

    async update (ctx: RequestContext, id: string, patch: WebhookEndpointPatchInput, opts: { expectedVersion?: number } = {}): Promise<WebhookEndpointDto> {
      if (patch.eventTypes) checkReadable(ctx, patch.eventTypes)
      if (patch.url !== undefined) await checkUrl(patch.url)
      return ws(ctx, async (tx) => {
        const row = await requireEndpoint(tx, ctx.workspaceId, id)
        assertVersion(opts.expectedVersion, row.version)
        const now = clock.now()
        const fields: Partial<repo.EndpointRow> = { version: row.version + 1, updatedAt: now }
        if (patch.url !== undefined) fields.url = patch.url
        if (patch.eventTypes !== undefined) fields.eventTypes = patch.eventTypes
        if (patch.description !== undefined) fields.description = patch.description
        if (patch.status === 'enabled') Object.assign(fields, { status: 'enabled', disabledReason: null })
        if (patch.status === 'disabled' && row.status === 'enabled') {
          Object.assign(fields, { status: 'disabled', disabledReason: `disabled by ${ctx.actor}` })
          await repo.cancelPending(tx, ctx.workspaceId, id, 'the endpoint was disabled', now)
        }
        return toEndpointDto(await repo.updateEndpoint(tx, ctx.workspaceId, id, fields))
      })
    },

    async remove (ctx: RequestContext, id: string, opts: { expectedVersion?: number } = {}): Promise<void> {
      await ws(ctx, async (tx) => {
        const row = await requireEndpoint(tx, ctx.workspaceId, id)
        assertVersion(opts.expectedVersion, row.version)
        // Its deliveries go with it (foreign key on delete cascade).
        await repo.deleteEndpoint(tx, ctx.workspaceId, id)
      })
    },

    /**
     * A new signing secret, shown once. The replaced one keeps signing alongside it for the
     * grace asked for (none with 0); it moves over still sealed, and any older one is dropped.
     */
    async rotateSecret (ctx: RequestContext, id: string, input: WebhookSecretRotationInput): Promise<WebhookEndpointDto & { secret: string }> {
      const secret = newSigningSecret()
      const row = await ws(ctx, async (tx) => {
        const current = await requireEndpoint(tx, ctx.workspaceId, id)
        const now = clock.now()
        const grace = input.previousSecretExpiresInSeconds
        return repo.updateEndpoint(tx, ctx.workspaceId, id, {
          secret: secrets.seal(secret),
          previousSecret: grace > 0 ? current.secret : null,
          previousSecretExpiresAt: grace > 0 ? new Date(now.getTime() + grace * 1000) : null,
          version: current.version + 1,
          updatedAt: now
        })
      })
      return { ...toEndpointDto(row), secret }
    },

    async deliveries (ctx: RequestContext, endpointId: string, q: WebhookDeliveryListInput & PageRequest): Promise<Page<WebhookDeliveryDto>> {
      const rows = await ws(ctx, async (tx) => {
        await requireEndpoint(tx, ctx.workspaceId, endpointId)
        return repo.listDeliveries(tx, ctx.workspaceId, endpointId, { ...keysetRead(q, idOfCursor), status: q.status }, q.limit + 1)
      })
      const page = toDirectedPage(rows, q, (r) => ({ id: r.id }))
      return { ...page, items: page.items.map(toDeliveryDto) }
    },

    /** The first page of each endpoint's delivery log in one read (a page of endpoints, GraphQL). */
    async firstDeliveryPages (ctx: RequestContext, endpointIds: string[], q: Pick<WebhookDeliveryListInput, 'limit' | 'status'>): Promise<Page<WebhookDeliveryDto>[]> {
      const rows = await ws(ctx, (tx) => repo.latestForEndpoints(tx, ctx.workspaceId, endpointIds, q.status, q.limit))
      return endpointIds.map((id) => {
        const page = toDirectedPage(rows.filter((r) => r.endpointId === id), q, (r) => ({ id: r.id }))
        return { ...page, items: page.items.map(toDeliveryDto) }
      })
    },

    /** How many deliveries each endpoint's log holds, in the order of `endpointIds` (one grouped COUNT). */
    async countDeliveriesByEndpoint (ctx: RequestContext, endpointIds: string[], q: Pick<WebhookDeliveryListInput, 'status'> = {}): Promise<number[]> {
      const rows = await ws(ctx, (tx) => repo.countByEndpoint(tx, ctx.workspaceId, endpointIds, q.status))
      const byId = new Map(rows.map((r) => [r.endpointId, Number(r.n)]))
      return endpointIds.map((id) => byId.get(id) ?? 0)
    },

    /** Every recorded attempt of a delivery, oldest first. */
    async attempts (ctx: RequestContext, endpointId: string, deliveryId: string, q: WebhookDeliveryAttemptListInput & PageRequest): Promise<Page<WebhookDeliveryAttemptDto>> {
      const rows = await ws(ctx, async (tx) => {
        await requireEndpoint(tx, ctx.workspaceId, endpointId)
        await requireDelivery(tx, ctx.workspaceId, endpointId, deliveryId)
        return repo.listAttempts(tx, ctx.workspaceId, deliveryId, keysetRead({ ...q, ascending: true }, attemptOfCursor), q.limit + 1)
      })
      const page = toDirectedPage(rows, q, attemptKey)
      return { ...page, items: page.items.map(toAttemptDto) }
    },

    async countAttempts (ctx: RequestContext, deliveryId: string): Promise<number> {
      return ws(ctx, (tx) => repo.countAttempts(tx, ctx.workspaceId, deliveryId))
    },

    /** Queues a `webhook.test` ping to this endpoint alone, signed and retried like any delivery. */
    async sendTest (ctx: RequestContext, endpointId: string): Promise<WebhookDeliveryDto> {
      const dto = await ws(ctx, async (tx) => {
        const endpoint = await requireEndpoint(tx, ctx.workspaceId, endpointId)
        if (endpoint.status !== 'enabled') throw new DomainError('webhook.disabled', `Webhook endpoint ${endpointId} is disabled; enable it before testing`)
        const now = clock.now()
        const eventId = newId('event')
        const payload = JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data: { endpointId, eventId } })
        await repo.insertDeliveries(tx, [{ workspaceId: ctx.workspaceId, id: newId('webhookDelivery'), endpointId, eventId, eventType: 'webhook.test', payload, nextAttemptAt: now, createdAt: now, updatedAt: now }])
        const [row] = await repo.listDeliveries(tx, ctx.workspaceId, endpointId, {}, 1)
        return toDeliveryDto(row)
      })
      onWork?.()
      return dto
    },

    /** Sends a delivery again from its first attempt (same webhook-id, fresh retry schedule). */
    async redeliver (ctx: RequestContext, endpointId: string, deliveryId: string): Promise<WebhookDeliveryDto> {
      const dto = await ws(ctx, async (tx) => {
        const endpoint = await requireEndpoint(tx, ctx.workspaceId, endpointId)
        const row = await requireDelivery(tx, ctx.workspaceId, endpointId, deliveryId)
        if (endpoint.status !== 'enabled') throw new DomainError('webhook.disabled', `Webhook endpoint ${endpointId} is disabled; enable it before redelivering`)
        const now = clock.now()
        return toDeliveryDto(await repo.updateDelivery(tx, row, { status: 'pending', attempts: 0, nextAttemptAt: now, lastError: null, updatedAt: now }))
      })
      onWork?.()
      return dto
    }
  }
}

export type WebhooksService = ReturnType<typeof createWebhooksService>

const idOfCursor = (cursor: string) => decodeCursor<{ id: string }>(cursor, ['id']).id
const attemptOfCursor = (cursor: string) => decodeCursor<{ attempt: number }>(cursor, ['attempt']).attempt
/** The cursor key of an attempt (REST nextCursor, GraphQL edges): its number within the delivery. */
export const attemptKey = (a: { attempt: number }) => ({ attempt: a.attempt })

export function toEndpointDto (row: repo.EndpointRow): WebhookEndpointDto {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes as WebhookEndpointDto['eventTypes'],
    status: row.status,
    disabledReason: row.disabledReason,
    previousSecretExpiresAt: row.previousSecretExpiresAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version
  }
}

export function toDeliveryDto (row: repo.DeliveryRow): WebhookDeliveryDto {
  return {
    id: row.id,
    endpointId: row.endpointId,
    eventId: row.eventId,
    eventType: row.eventType,
    status: row.status,
    attempts: row.attempts,
    totalAttempts: row.totalAttempts,
    lastStatusCode: row.lastStatusCode,
    lastLatencyMs: row.lastLatencyMs,
    lastError: row.lastError,
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: row.status === 'pending' ? (row.nextAttemptAt?.toISOString() ?? null) : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString()
  }
}

export function toAttemptDto (row: repo.AttemptRow): WebhookDeliveryAttemptDto {
  return {
    attempt: row.attempt,
    startedAt: row.startedAt.toISOString(),
    durationMs: row.durationMs,
    outcome: row.outcome,
    statusCode: row.statusCode,
    errorKind: row.errorKind,
    error: row.error,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null
  }
}
