import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import { Promise_ } from './promises.schemas.js'
import { Suggestion, type SuggestionsService } from './suggestions.service.js'

const tags = ['promises']
const security = [{ bearerAuth: [] }]
const Params = z.object({ id: z.string().min(1).max(100) })
export const SuggestionListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  after: z.string().min(1).max(500).optional(),
  status: z.enum(['pending', 'accepted', 'dismissed']).optional(),
  contactId: z.string().min(1).max(100).optional()
}).strict()
export const SuggestionAccept = z.object({
  description: z.string().trim().min(1).max(2000).optional(),
  dueAt: z.iso.datetime({ offset: true }).max(40).optional(),
  kind: z.string().trim().min(1).max(60).optional()
}).strict().meta({ id: 'PromiseSuggestionAccept', description: 'Corrections to apply before the promise is made' })

export const suggestionsRoutes: FastifyPluginAsyncZod<{ suggestions: SuggestionsService }> = async (app, { suggestions }) => {
  app.get('/v1/promise-suggestions', {
    config: { scope: 'promises:read' },
    schema: { operationId: 'listPromiseSuggestions', tags, security, summary: 'Commitments found in outbound messages, waiting to be accepted or dismissed', querystring: SuggestionListQuery, response: { 200: z.object({ data: z.array(Suggestion), nextCursor: z.string().nullable() }).meta({ id: 'PromiseSuggestionList' }), ...errorResponses([400]) } }
  }, async (request, reply) => {
    const page = await suggestions.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.post('/v1/promise-suggestions/:id/accept', {
    config: { scope: 'promises:write' },
    schema: { operationId: 'acceptPromiseSuggestion', tags, security, summary: 'Make the suggested promise (with corrections)', params: Params, body: SuggestionAccept, response: { 201: z.object({ suggestion: Suggestion, promise: Promise_ }).meta({ id: 'PromiseSuggestionAccepted' }), ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request, reply) => reply.code(201).send(await suggestions.accept(request.ctx, request.params.id, request.body)))

  app.post('/v1/promise-suggestions/:id/dismiss', {
    config: { scope: 'promises:write' },
    schema: { operationId: 'dismissPromiseSuggestion', tags, security, summary: 'Dismiss a suggestion', params: Params, response: { 200: Suggestion, ...errorResponses([404, 409]) } }
  }, async (request) => suggestions.dismiss(request.ctx, request.params.id))
}
