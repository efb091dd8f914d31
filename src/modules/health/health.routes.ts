import { sql } from 'drizzle-orm'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { probe } from '../../db/breaker.js'
import type { Db } from '../../db/client.js'
import { errorResponses } from '../../lib/http-schemas.js'
import { DomainError } from '../../lib/errors.js'

const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' })

export const healthRoutes: FastifyPluginAsyncZod<{ db: Db }> = async (app, { db }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: { operationId: 'getHealth', tags: ['system'], summary: 'The process is up', response: { 200: Health } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    config: { public: true },
    schema: {
      operationId: 'getReadiness', tags: ['system'], summary: 'The database answers',
      response: { 200: Health, ...errorResponses([503], { authenticated: false }) }
    }
  }, async () => {
    try {
      await probe(db, () => db.execute(sql`select 1`))
    } catch {
      throw new DomainError('service.unavailable', 'The database does not answer')
    }
    return { status: 'ok' as const }
  })
}
