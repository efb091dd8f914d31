import type { GqlResolvers as Resolvers } from '../../graphql/generated.js'
import { pageRequest, toConnection } from '../../graphql/connection.js'
import { enumIn, enumOut, enumsIn, withoutNulls } from '../../graphql/enums.js'
import { holdsSecret } from '../../graphql/secrets.js'
import { requireScope } from '../../lib/context.js'
import { parseInput } from '../../lib/validation.js'
import { WebhookDeliveryListQuery, WebhookEndpointCreate, WebhookEndpointPatch, WebhookSecretRotation } from './webhooks.schemas.js'
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
    status: (endpoint) => enumOut(endpoint.status),
    deliveries: async (endpoint, args, { ctx, services }) => {
      const { status } = parseInput(WebhookDeliveryListQuery.pick({ status: true }), withoutNulls({ status: enumIn(args.status) }))
      const page = await services.webhooks.deliveries(ctx, endpoint.id, { ...pageRequest(args), status })
      return toConnection(page, () => services.webhooks.countDeliveries(ctx, endpoint.id, { status }))
    }
  },
  WebhookDelivery: {
    status: (delivery) => enumOut(delivery.status),
    roundAttempts: (delivery) => delivery.attempts,
    attempts: async (delivery, args, { ctx, services }) => {
      const page = await services.webhooks.attempts(ctx, delivery.endpointId, delivery.id, pageRequest(args))
      return toConnection(page, () => services.webhooks.countAttempts(ctx, delivery.id), attemptKey)
    }
  },
  WebhookDeliveryAttempt: {
    outcome: (attempt) => enumOut(attempt.outcome),
    errorKind: (attempt) => enumOut(attempt.errorKind)
  }
}
