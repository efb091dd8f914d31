import type { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorResponses } from '../../lib/http-schemas.js'
import { sendPage, setNextLink } from '../../lib/link-header.js'
import { validationError } from '../../lib/errors.js'
import { requireScope } from '../../lib/context.js'
import { ImportError, ImportErrorsQuery, ImportIdParams, ImportJob, ImportQuery } from './imports.schemas.js'
import type { ImportsService } from './imports.service.js'

const tags = ['imports']
const security = [{ bearerAuth: [] }]
const streamTypes = ['text/csv', 'application/x-ndjson', 'application/gzip', 'application/octet-stream']

function formatOf (contentType: string, asked?: 'csv' | 'ndjson'): 'csv' | 'ndjson' {
  if (asked) return asked
  if (contentType.startsWith('text/csv')) return 'csv'
  if (contentType.startsWith('application/x-ndjson')) return 'ndjson'
  throw validationError([{ pointer: '/querystring/format', message: 'Say format=csv or format=ndjson for this content type', code: 'required' }])
}

export const importsRoutes: FastifyPluginAsyncZod<{ imports: ImportsService }> = async (app, { imports }) => {
  // Uploads stream straight through: the body is never buffered, whatever its size.
  for (const type of streamTypes) app.addContentTypeParser(type, (_request, payload, done) => done(null, payload))

  app.post('/v1/imports', {
    config: { scope: 'imports:write' },
    bodyLimit: Number.MAX_SAFE_INTEGER,
    schema: {
      operationId: 'createImport', tags, security,
      summary: 'Stream a CSV or NDJSON file (gzip accepted) into an import job; 202 with the job',
      description: 'Body: text/csv or application/x-ndjson (Content-Encoding: gzip or application/gzip accepted). ' +
        'An Idempotency-Key header makes a retried upload return the first job.',
      querystring: ImportQuery,
      headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }).passthrough(),
      response: { 202: ImportJob, ...errorResponses([400, 413, 415]) }
    }
  }, async (request, reply) => {
    const contentType = String(request.headers['content-type'] ?? '')
    const gzip = request.headers['content-encoding'] === 'gzip' || contentType.startsWith('application/gzip')
    const { format, upsertOn, ...rest } = request.query
    // Rows become interactions or promises: the token must be allowed to write those too.
    if (rest.type !== 'contacts') requireScope(request.ctx, `${rest.type}:write`)
    if (rest.type !== 'contacts' && upsertOn !== undefined && upsertOn !== 'externalId') {
      throw validationError([{ pointer: '/querystring/upsertOn', message: `${rest.type} are found by their externalId (or their content); upsertOn must be externalId or absent`, code: 'invalid_value' }])
    }
    const params = { ...rest, upsertOn: upsertOn ?? (rest.type === 'contacts' ? 'email' : 'externalId'), mapping: rest.mapping ?? {}, format: formatOf(contentType, format) }
    const { job, replayed } = await imports.start(request.ctx, params, request.body as Readable, {
      gzip, idempotencyKey: request.headers['idempotency-key'] as string | undefined
    })
    if (replayed) reply.header('idempotent-replayed', 'true')
    return reply.code(202).header('location', `/v1/imports/${job.id}`).send(job)
  })

  app.get('/v1/imports', {
    config: { scope: 'imports:read' },
    schema: { operationId: 'listImports', tags, security, summary: 'Import jobs, newest first', querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(25), after: z.string().min(1).max(500).optional() }).strict(), response: { 200: z.object({ data: z.array(ImportJob), nextCursor: z.string().nullable() }).meta({ id: 'ImportJobList' }), ...errorResponses([400]) } }
  }, async (request, reply) => {
    const page = await imports.list(request.ctx, request.query)
    return sendPage(request, reply, page)
  })

  app.get('/v1/imports/:id', {
    config: { scope: 'imports:read' },
    schema: { operationId: 'getImport', tags, security, summary: 'Status, counters, timings and throughput of an import', params: ImportIdParams, response: { 200: ImportJob, ...errorResponses([404]) } }
  }, async (request) => imports.get(request.ctx, request.params.id))

  app.get('/v1/imports/:id/errors', {
    config: { scope: 'imports:read' },
    schema: { operationId: 'listImportErrors', tags, security, summary: 'Failed rows with line, field and reason (JSON, or CSV ready to fix)', params: ImportIdParams, querystring: ImportErrorsQuery, response: {
        200: {
          description: 'The failed rows: JSON pages, or CSV with `format=csv` or `Accept: text/csv`',
          content: {
            'application/json': { schema: z.object({ data: z.array(ImportError), nextCursor: z.string().nullable() }).meta({ id: 'ImportErrorList' }) },
            'text/csv': { schema: z.string().describe('line,field,reason with a header row') }
          }
        },
        ...errorResponses([400, 404])
      }
    }
  }, async (request, reply) => {
    const page = await imports.errors(request.ctx, request.params.id, request.query)
    setNextLink(request, reply, page.nextCursor)
    const wantsCsv = request.query.format === 'csv' || (request.query.format === undefined && /text\/csv/.test(request.headers.accept ?? ''))
    if (wantsCsv) {
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${request.params.id}-errors.csv"`)
        .send(stringify(page.items, { header: true, columns: ['line', 'field', 'reason'] }) as never)
    }
    return { data: page.items, nextCursor: page.nextCursor }
  })

  app.post('/v1/imports/:id/cancel', {
    config: { scope: 'imports:write' },
    schema: { operationId: 'cancelImport', tags, security, summary: 'Stop an import; rows already applied stay applied', params: ImportIdParams, response: { 200: ImportJob, ...errorResponses([404, 409]) } }
  }, async (request) => imports.cancel(request.ctx, request.params.id))
}
