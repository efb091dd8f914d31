import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { applyConventions } from './openapi-conventions.js'
import { webhookDocument } from './openapi-webhooks.js'

export const openapiInfo = {
  title: 'Rapport API',
  version: '0.1.0',
  description: 'Headless CRM: contacts, channels, interactions and promises. Errors are RFC 9457 problem+json.'
}

// The document is generated from the zod route schemas; `npm run openapi` writes it to openapi.yaml.
async function openapiPlugin (app: FastifyInstance) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: openapiInfo,
      // The same origin that serves the document; partners decide whether it is internet-facing.
      servers: [{ url: '/', 'x-internal': false } as { url: string }],
      tags: [
        { name: 'contacts', description: 'People, their organizations, identities and merges' },
        { name: 'channels', description: 'Configured channel adapters and their provider webhooks' },
        { name: 'interactions', description: 'The two-way log of every exchange, and outbound messages' },
        { name: 'promises', description: 'Commitments to contacts, their lifecycle, events and reliability' },
        { name: 'imports', description: 'Bulk imports: streaming CSV/NDJSON jobs' },
        { name: 'workspace', description: 'The tenant: name and time zone' },
        { name: 'api-keys', description: 'Workspace API keys and their exchange for short-lived tokens' },
        { name: 'events', description: 'The global change feed: every event, in order, to catch up after downtime' },
        { name: 'system', description: 'Health and contracts' },
        { name: 'webhooks', description: 'Events Rapport sends to your webhook endpoints (Standard Webhooks)' }
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A JWT (HS256 only, exp, iss and aud checked, following the RFC8725 best practices) or an API key, as `Authorization: Bearer <token>`'
          }
        }
      }
    },
    // GraphQL has its own contract (schema.graphql); only REST routes belong in this document.
    transform: createJsonSchemaTransform({ skipList: ['/graphql', '/graphiql', '/graphiql/main.js', '/graphiql/sw.js', '/graphiql/config.js'] }),
    transformObject: (input) => {
      const doc = jsonSchemaTransformObject(input) as Record<string, any>
      const { webhooks, payloads } = webhookDocument(doc.components?.schemas ?? {})
      doc.components.schemas = { ...doc.components.schemas, ...payloads }
      return applyConventions(doc, { webhooks }) as typeof doc
    }
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
}

export default fp(openapiPlugin, { name: 'openapi' })
