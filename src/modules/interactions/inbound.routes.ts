import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorResponses } from '../../lib/http-schemas.js'
import type { RawInboundRequest } from '../channels/adapters/channel-adapter.js'
import type { InboundService } from './inbound.service.js'

/** The URL the provider called, as it saw it: PUBLIC_URL when set (behind a proxy), else Host. */
function publicUrl (request: FastifyRequest, base?: string): string {
  const origin = base ?? `${request.protocol}://${request.host}`
  return origin.replace(/\/$/, '') + request.url
}

function toRaw (request: FastifyRequest, publicBase?: string): RawInboundRequest {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(request.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  return {
    method: request.method as 'GET' | 'POST',
    url: publicUrl(request, publicBase),
    headers,
    query: Object.fromEntries(new URL(request.url, 'http://x').searchParams),
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
  }
}

// Provider webhooks carry no token: the channel's adapter authenticates them from the raw bytes,
// so this scope keeps every body as a Buffer, whatever its content type.
export const inboundRoutes: FastifyPluginAsyncZod<{ inbound: InboundService, publicUrl?: string }> = async (app, opts) => {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  const schema = {
    operationId: 'receiveChannelWebhook',
    tags: ['channels'],
    summary: 'Public webhook URL of a channel, called by its provider (verified by the channel adapter)',
    description: 'No bearer token: the adapter verifies the provider signature over the raw body. ' +
      'Handshakes (Meta hub.challenge, X CRC, Slack url_verification) are answered here. 401 stores nothing.',
    params: z.object({ id: z.string().min(1).max(100) }),
    // The body is what the provider expects, already written by the adapter (Fastify sends a
    // string as is): JSON for most, TwiML for Twilio, the bare challenge for handshakes.
    response: {
      200: {
        description: 'Accepted (stored durably before this answer), or the handshake answer',
        content: {
          'application/json': { schema: z.record(z.string(), z.unknown()) },
          'text/plain': { schema: z.string() },
          'text/xml': { schema: z.string() }
        }
      },
      403: { description: 'Handshake refused (Meta: wrong verify token)', content: { 'text/plain': { schema: z.string() } } },
      ...errorResponses([400, 401, 404], { authenticated: false })
    }
  }
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/v1/channels/:id/inbound',
      config: { public: true },
      schema: { ...schema, operationId: method === 'GET' ? 'verifyChannelWebhook' : 'receiveChannelWebhook' },
      handler: async (request, reply) => {
        const result = await opts.inbound.receive(request.params.id, toRaw(request, opts.publicUrl))
        if (result.unreadable) request.log.error({ err: result.unreadable, channelId: request.params.id }, 'channel adapter failed on a verified request; kept in the inbox')
        return reply.code(result.status as 200).type(result.contentType).send(result.body)
      }
    })
  }
}
