import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { ContactIdParams } from './contacts.schemas.js'
import { Merge, type MergesService } from './merges.service.js'

const tags = ['contacts']
const security = [{ bearerAuth: [] }]
const MergeBody = z.object({ contactId: z.string().min(1).max(100).describe('The contact folded into this one') }).strict().meta({ id: 'MergeRequest' })
const UnmergeBody = z.object({ mergeId: z.string().min(1).max(100) }).strict().meta({ id: 'UnmergeRequest' })

export const mergesRoutes: FastifyPluginAsyncZod<{ merges: MergesService }> = async (app, { merges }) => {
  app.post('/v1/contacts/:id/merge', {
    config: { scope: 'contacts:write' },
    schema: { operationId: 'mergeContacts', tags, security, summary: 'Fold another contact into this one (undoable)', params: ContactIdParams, body: MergeBody, response: { 200: Merge, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => merges.merge(request.ctx, request.params.id, request.body.contactId))

  app.post('/v1/contacts/:id/unmerge', {
    config: { scope: 'contacts:write' },
    schema: { operationId: 'unmergeContacts', tags, security, summary: 'Undo a merge: the merged contact returns with what moved', params: ContactIdParams, body: UnmergeBody, response: { 200: Merge, ...errorResponses([...bodyErrors, 404, 409]) } }
  }, async (request) => merges.unmerge(request.ctx, request.params.id, request.body.mergeId))

  app.get('/v1/contacts/:id/merges', {
    config: { scope: 'contacts:read' },
    schema: { operationId: 'listContactMerges', tags, security, summary: 'Merges this contact took part in', params: ContactIdParams, response: { 200: z.object({ data: z.array(Merge) }).meta({ id: 'ContactMergeList' }), ...errorResponses([404]) } }
  }, async (request) => ({ data: await merges.list(request.ctx, request.params.id) }))
}
