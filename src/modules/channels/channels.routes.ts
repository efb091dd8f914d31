import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { expectedVersion, sendWithETag } from '../../lib/etag.js'
import { bodyErrors, errorResponses } from '../../lib/http-schemas.js'
import { sendPage } from '../../lib/link-header.js'
import type { ChannelsService } from './channels.service.js'
import { Channel, ChannelCreate, ChannelIdParams, ChannelKindList, ChannelList, ChannelListQuery, ChannelPatch } from './channels.schemas.js'

const tags = ['channels']
const security = [{ bearerAuth: [] }]

export const channelsRoutes: FastifyPluginAsyncZod<{ channels: ChannelsService }> = async (app, { channels }) => {
  app.get('/v1/channel-kinds', {
    config: { scope: 'channels:read' },
    schema: { operationId: 'listChannelKinds', tags, security, summary: 'Adapter kinds, their capabilities and config schemas', response: { 200: ChannelKindList, ...errorResponses([]) } }
  }, async () => ({ data: channels.kinds() }))

  app.post('/v1/channels', {
    config: { scope: 'channels:write' },
    schema: { operationId: 'createChannel', tags, security, summary: 'Configure a channel', body: ChannelCreate, response: { 201: Channel, ...errorResponses(bodyErrors) } }
  }, async (request, reply) => {
    const channel = await channels.create(request.ctx, request.body)
    return reply.code(201).header('location', `/v1/channels/${channel.id}`).send(channel)
  })

  app.get('/v1/channels', {
    config: { scope: 'channels:read' },
    schema: { operationId: 'listChannels', tags, security, summary: 'List channels', querystring: ChannelListQuery, response: { 200: ChannelList, ...errorResponses([400]) } }
  }, async (request, reply) => {
    const page = await channels.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.get('/v1/channels/:id', {
    config: { scope: 'channels:read' },
    schema: { operationId: 'getChannel', tags, security, summary: 'Get a channel (secrets are never returned)', params: ChannelIdParams, response: { 200: Channel, 304: z.null().describe('Not modified (If-None-Match)'), ...errorResponses([404]) } }
  }, async (request, reply) => sendWithETag(request, reply, await channels.get(request.ctx, request.params.id)))

  app.patch('/v1/channels/:id', {
    config: { scope: 'channels:write' },
    schema: { operationId: 'updateChannel', tags, security, summary: 'Rename, pause or reconfigure a channel', params: ChannelIdParams, body: ChannelPatch, response: { 200: Channel, ...errorResponses([...bodyErrors, 404, 412]) } }
  }, async (request, reply) => sendWithETag(request, reply, await channels.update(request.ctx, request.params.id, request.body, undefined, { expectedVersion: expectedVersion(request) })))

  app.delete('/v1/channels/:id', {
    config: { scope: 'channels:write' },
    schema: { operationId: 'deleteChannel', tags, security, summary: 'Delete a channel (its webhook URL stops answering)', params: ChannelIdParams, response: { 204: z.null().describe('Deleted'), ...errorResponses([404, 412]) } }
  }, async (request, reply) => {
    await channels.remove(request.ctx, request.params.id, { expectedVersion: expectedVersion(request) })
    return reply.code(204).send(null)
  })
}
