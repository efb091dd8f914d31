import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import type { MercuriusLoaders } from 'mercurius'
import type { FieldQuery } from '../../graphql/batch.js'
import { batchedCounts, pageRequest, toConnection } from '../../graphql/connection.js'
import { enumIn, enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { holdsSecret } from '../../graphql/secrets.js'
import { requireScope } from '../../lib/context.js'
import type { Page, PageRequest } from '../../lib/cursor.js'
import { parseInput } from '../../lib/validation.js'
import { WebhookDeliveryListQuery, WebhookEndpointCreate, WebhookEndpointPatch, WebhookSecretRotation, type WebhookDeliveryDto } from './webhooks.schemas.js'
import { attemptKey } from './webhooks.service.js'

// The same service calls, scopes and zod schemas as webhooks.routes.ts; If-Match is expectedVersion.
export const webhooksResolvers: Resolvers = {
  Query: {
    webhookEndpoints: async (_root, args, { ctx, services }) => {
      requireScope(ctx, 'webhooks:read')
      return toConnection(await services.webhooks.list(ctx, pageRequest(args)), () => services.webhooks.count(ctx))
    },
    webhookEndpoint: async (_root, { id }, { ctx, services }) => {
      requireScope(ctx, 'webhooks:read')
      return services.webhooks.get(ctx, id)
    }
  },
  Mutation: {
    createWebhookEndpoint: async (_root, { input }, context) => {
      const { ctx, services } = context
      requireScope(ctx, 'webhooks:write')
      const { secret, ...webhookEndpoint } = await services.webhooks.create(ctx, parseInput(WebhookEndpointCreate, enumsIn(withoutNulls(input), ['status'])))
      holdsSecret(context)
      return { webhookEndpoint, secret }
    },
    updateWebhookEndpoint: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'webhooks:write')
      const { id, expectedVersion, ...patch } = input
      const fields = parseInput(WebhookEndpointPatch, enumsIn(patch, ['status']))
      return { webhookEndpoint: await services.webhooks.update(ctx, id, fields, { expectedVersion: expectedVersion ?? undefined }) }
    },
    deleteWebhookEndpoint: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'webhooks:write')
      await services.webhooks.remove(ctx, input.id, { expectedVersion: input.expectedVersion ?? undefined })
      return { deletedWebhookEndpointId: input.id }
    },
    rotateWebhookEndpointSecret: async (_root, { input }, context) => {
      const { ctx, services } = context
      requireScope(ctx, 'webhooks:write')
      const { id, ...rotation } = input
      const { secret, ...webhookEndpoint } = await services.webhooks.rotateSecret(ctx, id, parseInput(WebhookSecretRotation, withoutNulls(rotation)))
      holdsSecret(context)
      return { webhookEndpoint, secret }
    },
    testWebhookEndpoint: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'webhooks:write')
      return { delivery: await services.webhooks.sendTest(ctx, input.id) }
    },
    redeliverWebhookDelivery: async (_root, { input }, { ctx, services }) => {
      requireScope(ctx, 'webhooks:write')
      return { delivery: await services.webhooks.redeliver(ctx, input.endpointId, input.deliveryId) }
    }
  },
  WebhookEndpoint: {
    status: (endpoint) => enumOut(endpoint.status)
  },
  WebhookDelivery: {
    status: (delivery) => enumOut(delivery.status),
    roundAttempts: (delivery) => delivery.attempts,
    attempts: async (delivery, args, { ctx, services }) => {
      requireScope(ctx, 'webhooks:read')
      const page = await services.webhooks.attempts(ctx, delivery.endpointId, delivery.id, pageRequest(args))
      return toConnection(page, () => services.webhooks.countAttempts(ctx, delivery.id), attemptKey)
    }
  },
  WebhookDeliveryAttempt: {
    outcome: (attempt) => enumOut(attempt.outcome),
    errorKind: (attempt) => enumOut(attempt.errorKind)
  }
}

const DeliveryStatusFilter = WebhookDeliveryListQuery.pick({ status: true })

// Nested lists of a page of endpoints: one statement for every first page, one grouped COUNT.
export const webhooksLoaders: MercuriusLoaders = {
  WebhookEndpoint: {
    deliveries: async (queries: FieldQuery[], { ctx, services }) => {
      // Also reached through mutation payloads: the log is read data.
      requireScope(ctx, 'webhooks:read')
      const asked = queries.map((q) => ({
        endpointId: q.obj.id as string,
        page: pageRequest(q.params),
        status: parseInput(DeliveryStatusFilter, withoutNulls({ status: enumIn(q.params.status) })).status
      }))
      const isFirstPage = (p: PageRequest) => !p.after && !p.before && !p.backward
      const pages = new Map<number, Page<WebhookDeliveryDto>>()
      for (const shape of new Set(asked.filter((a) => isFirstPage(a.page)).map((a) => `${a.page.limit}:${a.status ?? ''}`))) {
        const idx = asked.map((a, i) => (isFirstPage(a.page) && `${a.page.limit}:${a.status ?? ''}` === shape ? i : -1)).filter((i) => i >= 0)
        const { page, status } = asked[idx[0]]
        const read = await services.webhooks.firstDeliveryPages(ctx, idx.map((i) => asked[i].endpointId), { limit: page.limit, status })
        idx.forEach((i, k) => pages.set(i, read[k]))
      }
      const counts = new Map<string, (endpointId: string) => Promise<number>>()
      const countOf = (status: typeof asked[number]['status']) => {
        const key = status ?? ''
        if (!counts.has(key)) counts.set(key, batchedCounts(asked.filter((a) => a.status === status).map((a) => a.endpointId), (ids) => services.webhooks.countDeliveriesByEndpoint(ctx, ids, { status })))
        return counts.get(key)!
      }
      return Promise.all(asked.map(async ({ endpointId, page, status }, i) => {
        const read = pages.get(i) ?? await services.webhooks.deliveries(ctx, endpointId, { ...page, status })
        return toConnection(read, () => countOf(status)(endpointId))
      }))
    }
  }
}
