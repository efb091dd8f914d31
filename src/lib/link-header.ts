import type { FastifyReply, FastifyRequest } from 'fastify'

/** RFC 8288 `Link: <…>; rel="next"` built from the request's own query, with `after` replaced. */
export function setNextLink (request: FastifyRequest, reply: FastifyReply, nextCursor: string | null): void {
  if (!nextCursor) return
  const url = new URL(request.url, 'http://placeholder')
  url.searchParams.set('after', nextCursor)
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`)
}
