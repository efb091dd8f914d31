import { z } from 'zod'
import { errorCatalog } from './errors.js'

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.enum(Object.keys(errorCatalog) as [keyof typeof errorCatalog]),
  errors: z.array(z.object({ pointer: z.string(), message: z.string(), code: z.string().optional() })).optional()
}).catchall(z.unknown()).meta({ id: 'Problem', description: 'RFC 9457 problem details' })

export const descriptions: Record<number, string> = {
  400: 'Invalid request (validation errors list each field with a JSON pointer)',
  401: 'Missing, invalid or expired bearer token',
  403: 'The token lacks the required scope',
  404: 'Not found (also for ids of another workspace)',
  409: 'Conflict with the current state',
  412: 'Precondition failed (If-Match)',
  413: 'Request body too large',
  414: 'Request URL too long',
  415: 'Unsupported content type',
  422: 'Unprocessable request',
  429: 'Too many requests: wait Retry-After seconds',
  500: 'Internal error',
  503: 'Service unavailable'
}

const problemResponse = (status: number) => ({
  description: descriptions[status],
  content: { 'application/problem+json': { schema: Problem } }
})

/** The error responses of a route, each an RFC 9457 problem; auth errors added for token routes. */
export function errorResponses (statuses: number[], opts: { authenticated?: boolean } = { authenticated: true }) {
  const all = new Set([...statuses, 500, ...(opts.authenticated === false ? [] : [401, 403])])
  return Object.fromEntries([...all].sort().map((s) => [s, problemResponse(s)]))
}

export const bodyErrors = [400, 413, 415]

/**
 * A route whose JSON body may be left out because every field has a default: spread into the
 * route options. The hook gives the schema `{}` to fill in (Fastify validates a missing body as
 * null), and the marker makes the OpenAPI conventions declare `requestBody.required: false`.
 */
export const OPTIONAL_BODY_MARKER = 'x-optional-body'
export const optionalBody = {
  preValidation: async (request: { body: unknown }) => {
    if (request.body === undefined) request.body = {}
  }
}
