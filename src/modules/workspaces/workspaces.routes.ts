import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { Workspace, WorkspacePatch } from './workspaces.schemas.js'
import type { WorkspacesService } from './workspaces.service.js'

const tags = ['workspace']
const security = [{ bearerAuth: [] }]

export const workspacesRoutes: FastifyPluginAsyncZod<{ workspaces: WorkspacesService }> = async (app, { workspaces }) => {
  app.get('/v1/workspace', {
    schema: { operationId: 'getWorkspace', tags, security, summary: 'The workspace of the token', response: { 200: Workspace, ...errorResponses([]) } }
  }, async (request) => workspaces.get(request.ctx))

  app.patch('/v1/workspace', {
    config: { scope: 'admin' },
    schema: { operationId: 'updateWorkspace', tags, security, summary: 'Rename the workspace or set its time zone', body: WorkspacePatch, response: { 200: Workspace, ...errorResponses(bodyErrors) } }
  }, async (request) => workspaces.update(request.ctx, request.body))
}
