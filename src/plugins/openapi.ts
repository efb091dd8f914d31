import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'

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
      servers: [{ url: '/' }],
      tags: [
        { name: 'contacts', description: 'People, their organizations, identities and merges' },
        { name: 'channels', description: 'Configured channel adapters and their provider webhooks' },
        { name: 'interactions', description: 'The two-way log of every exchange, and outbound messages' },
        { name: 'promises', description: 'Commitments to contacts, their lifecycle, events and reliability' },
        { name: 'imports', description: 'Bulk imports: streaming CSV/NDJSON jobs' },
        { name: 'workspace', description: 'The tenant: name and time zone' },
        { name: 'system', description: 'Health and contracts' }
      ],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } }
      }
    },
    // GraphQL has its own contract (schema.graphql); only REST routes belong in this document.
    transform: createJsonSchemaTransform({ skipList: ['/graphql', '/graphiql', '/graphiql/main.js', '/graphiql/sw.js', '/graphiql/config.js'] }),
    transformObject: jsonSchemaTransformObject
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger())
}

export default fp(openapiPlugin, { name: 'openapi' })
