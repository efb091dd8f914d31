import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { errorResponses } from '../../lib/http-schemas.js'
import { setNextLink } from '../../lib/link-header.js'
import type { EventsService } from './events.service.js'
import { EventList, EventListQuery } from './events.schemas.js'

export const eventsRoutes: FastifyPluginAsyncZod<{ events: EventsService }> = async (app, { events }) => {
  app.get('/v1/events', {
    config: { scope: 'events:read' },
    schema: {
      operationId: 'listEvents', tags: ['events'], security: [{ bearerAuth: [] }],
      summary: 'The workspace change feed after a cursor, oldest first (nextCursor is always returned: poll with it)',
      querystring: EventListQuery, response: { 200: EventList, ...errorResponses([400]) }
    }
  }, async (request, reply) => {
    const page = await events.list(request.ctx, request.query)
    // rel="next" only while a full page suggests more is waiting; nextCursor is for polling.
    setNextLink(request, reply, page.items.length === request.query.limit ? page.nextCursor : null)
    return { data: page.items, nextCursor: page.nextCursor }
  })
}
