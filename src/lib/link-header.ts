import type { FastifyReply, FastifyRequest } from 'fastify'

/** RFC 8288 `Link: <…>; rel="next"` built from the request's own query, with `after` replaced. */
export function setNextLink (request: FastifyRequest, reply: FastifyReply, nextCursor: string | null): void {
  if (!nextCursor) return
  const url = new URL(request.url, 'http://placeholder')
  url.searchParams.set('after', nextCursor)
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`)
}

/** A list answer: the Link header for the next page, and `{ data, nextCursor }`. */
export function sendPage<T> (request: FastifyRequest, reply: FastifyReply, page: { items: T[], nextCursor: string | null }) {
  setNextLink(request, reply, page.nextCursor)
  return { data: page.items, nextCursor: page.nextCursor }
}
