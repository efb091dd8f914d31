import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { DomainError, errorCatalog, problemType, validationError, type ErrorCode, type FieldError } from '../lib/errors.js'
import { toPointer } from '../lib/validation.js'
import { isDatabaseUnavailable } from '../db/client.js'

export const PROBLEM_JSON = 'application/problem+json'

// Fastify's own error codes, as the problem codes clients see.
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.malformed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed',
  FST_ERR_CTP_EMPTY_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_INVALID_TYPE: 'request.unsupported_media_type',
  FST_ERR_ASYNC_CONSTRAINT: 'request.malformed',
  FST_ERR_MAX_PARAM_LENGTH: 'request.uri_too_long'
}

// PostgreSQL data exceptions a client value can cause (a NUL byte, a date outside PostgreSQL's
// range such as year 0, a string JSON cannot hold): the client's fault, so a 400, never a 500.
const clientDataExceptions = new Set(['22021', '22P05', '22P02', '22008', '22007', '22003'])

function databaseDataException (err: unknown): boolean {
  for (let e = err as { code?: unknown, cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && clientDataExceptions.has(e.code)) return true
  }
  return false
}

/** Any thrown value, as a DomainError a client may see (5xx never carry internals). */
export function toDomainError (err: unknown): DomainError {
  if (err instanceof DomainError) return err
  const e = err as FastifyError & { validation?: unknown[], validationContext?: string }
  if (hasZodFastifySchemaValidationErrors(e)) return new DomainError('validation.failed', 'The request is not valid', { errors: fieldErrors(e) })
  if (e?.code && fastifyCodes[e.code]) return new DomainError(fastifyCodes[e.code], e.message)
  // The database is down, unreachable or out of connections: the client may retry (503, Retry-After).
  if (isDatabaseUnavailable(err)) return new DomainError('service.unavailable', 'The database does not answer; retry later')
  if (databaseDataException(err)) return new DomainError('validation.failed', 'A value in the request cannot be stored (e.g. a NUL character or a date out of range)')
  // A body Fastify could not parse (e.g. malformed JSON from the default parser) arrives as a 400.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 400) return new DomainError('request.malformed', e.message)
    if (e.statusCode === 413) return new DomainError('request.too_large', e.message)
    if (e.statusCode === 415) return new DomainError('request.unsupported_media_type', e.message)
  }
  return new DomainError('internal')
}

/** Deeper than any real input; far below what zod's recursive parsers survive (~5,000 levels). */
export const MAX_INPUT_DEPTH = 100
// A NUL (PostgreSQL text cannot hold it) or a lone UTF-16 surrogate (not Unicode: stored as U+FFFD, refused in jsonb).
const unstorableText = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

// Parsed JSON, query strings (fast-querystring's objects have a prototype without one) and params;
// never a Buffer (webhooks) or a stream (imports).
function isPlainContainer (v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

/**
 * Field errors for text no database column can hold and for nesting deeper than MAX_INPUT_DEPTH,
 * found without recursion (a hostile depth must not overflow the stack here either).
 */
export function unstorableInput (value: unknown, root: string, max = 20): FieldError[] {
  const errors: FieldError[] = []
  const stack: Array<[unknown, PropertyKey[], number]> = [[value, [], 0]]
  while (stack.length > 0 && errors.length < max) {
    const [v, path, depth] = stack.pop()!
    if (typeof v === 'string') {
      if (unstorableText.test(v)) errors.push({ pointer: toPointer(path, root), message: 'Must not contain NUL characters or unpaired surrogates', code: 'invalid_string' })
      continue
    }
    if (!isPlainContainer(v)) continue
    if (depth >= MAX_INPUT_DEPTH) {
      errors.push({ pointer: toPointer(path, root), message: `Nested deeper than ${MAX_INPUT_DEPTH} levels`, code: 'too_deep' })
      continue
    }
    for (const [k, child] of Object.entries(v)) {
      if (!Array.isArray(v) && unstorableText.test(k)) {
        errors.push({ pointer: toPointer([...path, k], root), message: 'Keys must not contain NUL characters or unpaired surrogates', code: 'invalid_key' })
        continue
      }
      stack.push([child, [...path, Array.isArray(v) ? Number(k) : k], depth + 1])
    }
  }
  return errors
}

function fieldErrors (e: { validation?: unknown[], validationContext?: string }): FieldError[] {
  const root = '/' + (e.validationContext ?? 'body')
  return (e.validation as Array<{ instancePath: string, message: string, keyword: string, params: Record<string, unknown> }>)
    .flatMap((v) => {
      const path = v.instancePath.split('/').filter(Boolean)
      if (v.keyword === 'unrecognized_keys' && Array.isArray(v.params.keys)) {
        return v.params.keys.map((k) => ({ pointer: toPointer([...path, String(k)], root), message: 'Unknown field', code: 'unknown_field' }))
      }
      return [{ pointer: toPointer(path, root), message: v.message, code: v.keyword }]
    })
}

export function problemBody (err: DomainError, instance: string) {
  return {
    type: problemType(err.code),
    title: errorCatalog[err.code].title,
    status: err.status,
    detail: err.message,
    instance,
    code: err.code,
    ...err.details,
    ...(Array.isArray(err.details.errors) ? { errors: (err.details.errors as FieldError[]).map(inRequest) } : {})
  }
}

const requestParts = /^\/(body|querystring|params|headers)(\/|$)/

/**
 * Services are shared by REST, GraphQL and imports, so their rules point into the input they were
 * given (`/displayName`); on REST that input is the body, and the schema's own errors say so
 * (`/body/displayName`): one form for a client to map onto its fields.
 */
function inRequest (e: FieldError): FieldError {
  return requestParts.test(e.pointer) ? e : { ...e, pointer: `/body${e.pointer}` }
}

export function sendProblem (reply: FastifyReply, request: FastifyRequest, err: DomainError) {
  if (err.status === 401) reply.header('www-authenticate', `Bearer realm="rapport", error="invalid_token", error_description="${err.message}"`)
  if (err.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
  if (err.status === 429 && typeof err.details.retryAfterSeconds === 'number' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(err.details.retryAfterSeconds))
  if (err.status === 403) reply.header('www-authenticate', `Bearer realm="rapport", error="insufficient_scope", scope="${String(err.details.requiredScope ?? '')}"`)
  // GraphQL clients expect GraphQL-shaped errors, even for a request refused before execution.
  if (request.url.startsWith('/graphql')) {
    return reply.code(err.status).type('application/json; charset=utf-8')
      .send({ data: null, errors: [{ message: err.message, extensions: { code: err.code, ...err.details } }] })
  }
  return reply.code(err.status).type(PROBLEM_JSON).send(problemBody(err, request.url))
}

async function problemPlugin (app: FastifyInstance) {
  // Bodies are JSON only: Fastify's built-in text/plain parser would hand a string to the route
  // schema (a 400 "expected object") where the contract promises a 415.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'))
  // Before any schema runs (REST and GraphQL variables alike): zod would recurse into hostile
  // nesting, and PostgreSQL would refuse NUL bytes with a 500.
  app.addHook('preValidation', async (request) => {
    const errors = [
      ...unstorableInput(request.params, '/params'),
      ...unstorableInput(request.query, '/querystring'),
      ...unstorableInput(request.body, '/body')
    ]
    if (errors.length > 0) throw validationError(errors)
  })
  app.setErrorHandler((error, request, reply) => {
    const err = toDomainError(error)
    if (err.status >= 500) request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, request, err)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new DomainError('route.not_found', `No route ${request.method} ${request.url.split('?')[0]}`)))
}

export default fp(problemPlugin, { name: 'problem' })
