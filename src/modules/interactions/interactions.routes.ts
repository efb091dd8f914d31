import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import { ContactIdParams } from '../contacts/contacts.schemas.js'
import type { InteractionsService } from './interactions.service.js'
import { IncludeQuery, Interaction, InteractionIdParams, InteractionList, InteractionListQuery, InteractionLog, MessageSend, TimelineQuery } from './interactions.schemas.js'

const tags = ['interactions']
const security = [{ bearerAuth: [] }]

const Attempt = z.object({ attempt: z.number().int(), outcome: z.enum(['ok', 'retry', 'failed']), error: z.string().nullable(), startedAt: z.iso.datetime(), finishedAt: z.iso.datetime() })
const AttemptList = z.object({ data: z.array(Attempt) }).meta({ id: 'DeliveryAttemptList' })

export const interactionsRoutes: FastifyPluginAsyncZod<{ interactions: InteractionsService }> = async (app, { interactions }) => {
  app.get('/v1/interactions', {
    config: { scope: 'interactions:read' },
    schema: { operationId: 'listInteractions', tags, security, summary: 'The two-way log, newest first', querystring: InteractionListQuery, response: { 200: InteractionList, ...errorResponses([400]) } }
  }, async (request, reply) => {
    const page = await interactions.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.get('/v1/interactions/:id', {
    config: { scope: 'interactions:read' },
    schema: { operationId: 'getInteraction', tags, security, summary: 'One interaction; ?include=raw adds the provider payload', params: InteractionIdParams, querystring: IncludeQuery, response: { 200: Interaction, ...errorResponses([400, 404]) } }
  }, async (request) => interactions.get(request.ctx, request.params.id, { includeRaw: request.query.include === 'raw' }))

  app.get('/v1/interactions/:id/attempts', {
    config: { scope: 'interactions:read' },
    schema: { operationId: 'listDeliveryAttempts', tags, security, summary: 'Every send attempt of an outbound message', params: InteractionIdParams, response: { 200: AttemptList, ...errorResponses([404]) } }
  }, async (request) => ({ data: await interactions.attempts(request.ctx, request.params.id) }))

  app.post('/v1/interactions', {
    config: { scope: 'interactions:write' },
    schema: { operationId: 'logInteraction', tags, security, summary: 'Log a call, meeting, note, letter or an exchange that happened elsewhere', body: InteractionLog, response: { 201: Interaction, ...errorResponses([...bodyErrors, 404]) } }
  }, async (request, reply) => {
    const created = await interactions.log(request.ctx, request.body)
    return reply.code(201).header('location', `/v1/interactions/${created.id}`).send(created)
  })

  app.get('/v1/contacts/:id/timeline', {
    config: { scope: 'interactions:read' },
    schema: { operationId: 'getContactTimeline', tags, security, summary: 'Every exchange with a contact, on every channel, newest first', params: ContactIdParams, querystring: TimelineQuery, response: { 200: InteractionList, ...errorResponses([400, 404]) } }
  }, async (request, reply) => {
    const page = await interactions.timeline(request.ctx, request.params.id, request.query)
    return sendPage(request, reply, page)
  })

  app.post('/v1/contacts/:id/messages', {
    config: { scope: 'messages:send' },
    schema: { operationId: 'sendMessage', tags, security, summary: 'Send a message through a channel: 202 with the queued interaction', params: ContactIdParams, body: MessageSend, response: { 202: Interaction, ...errorResponses([...bodyErrors, 404, 409, 422]) } }
  }, async (request, reply) => {
    const queued = await interactions.send(request.ctx, request.params.id, request.body)
    return reply.code(202).header('location', `/v1/interactions/${queued.id}`).send(queued)
  })
}
