import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { sendWithETag } from '../../lib/etag.js'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import type { PromisesService } from './promises.service.js'
import {
  EventFeedQuery, Promise_, PromiseClose, PromiseCreate, PromiseEventList, PromiseIdParams, PromiseKeep, PromiseList,
  PromiseListQuery, PromiseRenegotiate, PromiseStats, StatsQuery
} from './promises.schemas.js'

const tags = ['promises']
const security = [{ bearerAuth: [] }]
const read = { scope: 'promises:read' as const }
const write = { scope: 'promises:write' as const }

export const promisesRoutes: FastifyPluginAsyncZod<{ promises: PromisesService }> = async (app, { promises }) => {
  app.post('/v1/promises', {
    config: write,
    schema: { operationId: 'createPromise', tags, security, summary: 'Record a commitment made to a contact', body: PromiseCreate, response: { 201: Promise_, ...errorResponses([...bodyErrors, 404]) } }
  }, async (request, reply) => {
    const created = await promises.create(request.ctx, request.body)
    return reply.code(201).header('location', `/v1/promises/${created.id}`).send(created)
  })

  app.get('/v1/promises', {
    config: read,
    schema: { operationId: 'listPromises', tags, security, summary: 'List promises, newest first', querystring: PromiseListQuery, response: { 200: PromiseList, ...errorResponses([400]) } }
  }, async (request, reply) => {
    const page = await promises.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.get('/v1/promises/stats', {
    config: read,
    schema: { operationId: 'getPromiseStats', tags, security, summary: 'Made, kept, kept late, broken, open; keep and on-time rates, mean lateness', querystring: StatsQuery, response: { 200: PromiseStats, ...errorResponses([400]) } }
  }, async (request) => ({ groupBy: request.query.groupBy, data: await promises.stats(request.ctx, request.query) }))

  app.get('/v1/promises/:id', {
    config: read,
    schema: { operationId: 'getPromise', tags, security, summary: 'Get a promise', params: PromiseIdParams, response: { 200: Promise_, 304: z.null().describe('Not modified (If-None-Match)'), ...errorResponses([404]) } }
  }, async (request, reply) => sendWithETag(request, reply, await promises.get(request.ctx, request.params.id)))

  app.post('/v1/promises/:id/keep', {
    config: write,
    schema: { operationId: 'keepPromise', tags, security, summary: 'Mark kept (kept_late after dueAt), with evidence interactions', params: PromiseIdParams, body: PromiseKeep, response: { 200: Promise_, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => promises.keep(request.ctx, request.params.id, request.body))

  app.post('/v1/promises/:id/break', {
    config: write,
    schema: { operationId: 'breakPromise', tags, security, summary: 'Mark broken', params: PromiseIdParams, body: PromiseClose, response: { 200: Promise_, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => promises.break(request.ctx, request.params.id, request.body.reason))

  app.post('/v1/promises/:id/cancel', {
    config: write,
    schema: { operationId: 'cancelPromise', tags, security, summary: 'Cancel (no longer owed)', params: PromiseIdParams, body: PromiseClose, response: { 200: Promise_, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => promises.cancel(request.ctx, request.params.id, request.body.reason))

  app.post('/v1/promises/:id/renegotiate', {
    config: write,
    schema: { operationId: 'renegotiatePromise', tags, security, summary: 'New due date, keeping the history of terms', params: PromiseIdParams, body: PromiseRenegotiate, response: { 200: Promise_, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => promises.renegotiate(request.ctx, request.params.id, request.body))

  app.get('/v1/promises/:id/events', {
    config: read,
    schema: { operationId: 'listPromiseEvents', tags, security, summary: 'The history of one promise', params: PromiseIdParams, response: { 200: PromiseEventList, ...errorResponses([404]) } }
  }, async (request) => ({ data: await promises.events(request.ctx, request.params.id), nextCursor: null }))

  app.get('/v1/promise-events', {
    config: read,
    schema: {
      operationId: 'listPromiseEventFeed', tags, security,
      summary: 'Every promise event after a cursor (nextCursor is always returned: poll with it)',
      querystring: EventFeedQuery, response: { 200: PromiseEventList, ...errorResponses([400]) }
    }
  }, async (request) => {
    const page = await promises.feed(request.ctx, request.query)
    return { data: page.items, nextCursor: page.nextCursor }
  })
}

