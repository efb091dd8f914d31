// Conventions every REST operation shares (errors, rate-limit headers, Idempotency-Key, ETag
// preconditions), added to the generated document in one place: a new route is documented
// completely from its own schema, without repeating them.
import { descriptions, OPTIONAL_BODY_MARKER } from '../lib/http-schemas.js'

type Json = Record<string, any>

const httpMethods = ['get', 'put', 'post', 'patch', 'delete'] as const
const problemRef = { $ref: '#/components/schemas/Problem' }
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` })
const parameterRef = (name: string) => ({ $ref: `#/components/parameters/${name}` })

const rateLimitHeaderNames = ['RateLimit', 'RateLimit-Policy', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']

const headers: Json = {
  RateLimit: {
    description: 'IETF RateLimit header: the quota left in the current window, e.g. `"default";r=998;t=42` (r: requests remaining, t: seconds until the window resets)',
    schema: { type: 'string', maxLength: 200 }
  },
  'RateLimit-Policy': {
    description: 'IETF RateLimit-Policy header: the quota and its window, e.g. `"default";q=1000;w=60`. Limits apply per API key or token subject, per IP on public routes',
    schema: { type: 'string', maxLength: 200 }
  },
  'X-RateLimit-Limit': { description: 'Requests allowed in the current window', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 1_000_000_000 } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current window', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 1_000_000_000 } },
  'X-RateLimit-Reset': { description: 'Seconds until the current window resets', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', format: 'int32', minimum: 0, maximum: 86_400 } },
  'Idempotent-Replayed': { description: '`true` when this answer is the stored first response to the same Idempotency-Key, replayed', schema: { type: 'string', enum: ['true'] } },
  ETag: { description: 'Strong entity tag of this version of the resource, e.g. `"v3"`: send it back in If-None-Match or If-Match', schema: { type: 'string', maxLength: 64 } }
}

const parameters: Json = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description: 'Makes a POST safe to retry: the first response is stored for 24 h and replayed for the same key; ' +
      'a request with the key while the first is still running gets 409, the key reused with another body gets 422',
    schema: { type: 'string', minLength: 1, maxLength: 255 }
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    required: false,
    description: 'Change only if the resource is still at this ETag (optimistic concurrency); otherwise 412',
    schema: { type: 'string', minLength: 1, maxLength: 1000 }
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'Answer 304 without a body when the resource is still at one of these ETags',
    schema: { type: 'string', minLength: 1, maxLength: 1000 }
  }
}

function problemResponse (status: number, description = descriptions[status]): Json {
  return { description, content: { 'application/problem+json': { schema: problemRef } } }
}

/** The responses a route does not declare itself but can give all the same. */
function commonResponses (path: string, method: string, op: Json): Record<number, Json> {
  const secured = Array.isArray(op.security) && op.security.length > 0
  const out: Record<number, Json> = {
    // Any query string can be refused (unstorable text, hostile nesting), on every route.
    400: problemResponse(400),
    429: problemResponse(429),
    500: problemResponse(500),
    503: problemResponse(503, 'Overloaded or the database is unreachable: retry after Retry-After')
  }
  if (path.includes('{')) out[414] = problemResponse(414, 'A path parameter is too long')
  if (secured) {
    out[401] = problemResponse(401)
    out[403] = problemResponse(403)
  }
  if (method === 'post' && secured) {
    out[409] = problemResponse(409, 'Conflict with the current state, or a request with the same Idempotency-Key is still running')
    out[422] = problemResponse(422, 'The Idempotency-Key was already used with another request body')
  }
  return out
}

function addParameter (op: Json, ref: Json, name: string) {
  op.parameters ??= []
  const has = op.parameters.some((p: Json) => p.$ref === ref.$ref || (p.in === 'header' && String(p.name).toLowerCase() === name.toLowerCase()))
  if (!has) op.parameters.push(ref)
}

function completeOperation (path: string, method: string, op: Json) {
  // An operation without security is public on purpose (health, provider webhooks): say so.
  op.security ??= []
  op.responses ??= {}
  if (op[OPTIONAL_BODY_MARKER]) {
    if (op.requestBody) op.requestBody.required = false
    delete op[OPTIONAL_BODY_MARKER]
  }
  for (const [status, response] of Object.entries(commonResponses(path, method, op))) {
    op.responses[status] ??= response
  }
  const statuses = Object.keys(op.responses)
  const conditionalRead = statuses.includes('304')
  const conditionalWrite = statuses.includes('412')
  if (method === 'post' && op.security.length > 0) addParameter(op, parameterRef('IdempotencyKey'), 'Idempotency-Key')
  if (conditionalRead) addParameter(op, parameterRef('IfNoneMatch'), 'If-None-Match')
  if (conditionalWrite) addParameter(op, parameterRef('IfMatch'), 'If-Match')

  for (const [status, response] of Object.entries(op.responses) as Array<[string, Json]>) {
    response.headers ??= {}
    for (const name of rateLimitHeaderNames) response.headers[name] ??= headerRef(name)
    if (status === '429' || status === '503') response.headers['Retry-After'] ??= headerRef('Retry-After')
    if (method === 'post' && op.security.length > 0 && /^[24]\d\d$/.test(status)) response.headers['Idempotent-Replayed'] ??= headerRef('Idempotent-Replayed')
    if ((conditionalRead || conditionalWrite) && /^2\d\d$|^304$/.test(status) && status !== '204') response.headers.ETag ??= headerRef('ETag')
  }
}

/** JSON Schema integers get the format OpenAPI tools expect, from their declared bounds. */
function addIntegerFormats (node: unknown) {
  if (Array.isArray(node)) { node.forEach(addIntegerFormats); return }
  if (!node || typeof node !== 'object') return
  const n = node as Json
  const isInteger = n.type === 'integer' || (Array.isArray(n.type) && n.type.includes('integer'))
  if (isInteger && n.format === undefined) {
    const int32 = typeof n.minimum === 'number' && typeof n.maximum === 'number' && n.minimum >= -(2 ** 31) && n.maximum <= 2 ** 31 - 1
    n.format = int32 ? 'int32' : 'int64'
  }
  for (const value of Object.values(n)) addIntegerFormats(value)
}

// fastify-type-provider-zod puts schemas shared by several components (z.json()'s recursive
// value) under a `__shared` pseudo-schema and points at it with a ref no resolver can follow.
const sharedRef = /^#\/components\/schemas\/__shared#\/\$defs\/(.+)$/
const sharedName = (def: string) => def === 'schema0' ? 'JsonValue' : `JsonValue_${def}`

function rewriteSharedRefs (node: unknown) {
  if (Array.isArray(node)) { node.forEach(rewriteSharedRefs); return }
  if (!node || typeof node !== 'object') return
  const n = node as Json
  if (typeof n.$ref === 'string') {
    const m = sharedRef.exec(n.$ref)
    if (m) n.$ref = `#/components/schemas/${sharedName(m[1])}`
  }
  for (const value of Object.values(n)) rewriteSharedRefs(value)
}

function liftSharedSchemas (doc: Json) {
  const schemas = doc.components?.schemas
  const shared = schemas?.__shared?.$defs as Json | undefined
  if (!shared) return
  delete schemas.__shared
  for (const [def, schema] of Object.entries(shared)) schemas[sharedName(def)] = schema
  rewriteSharedRefs(doc)
}

function collectRefs (node: unknown, out: Set<string>) {
  if (Array.isArray(node)) { for (const v of node) collectRefs(v, out); return }
  if (!node || typeof node !== 'object') return
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') out.add(v)
    else collectRefs(v, out)
  }
}

/** Component schemas nothing refers to (zod registers an input and an output form of each). */
function pruneUnusedSchemas (doc: Json) {
  const schemas = doc.components?.schemas as Json | undefined
  if (!schemas) return
  const { schemas: _, ...otherComponents } = doc.components
  const used = new Set<string>()
  collectRefs([doc.paths, doc.webhooks, otherComponents], used)
  const prefix = '#/components/schemas/'
  const queue = [...used].filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length))
  const keep = new Set<string>()
  while (queue.length > 0) {
    const name = queue.pop()!
    if (keep.has(name) || !schemas[name]) continue
    keep.add(name)
    const inner = new Set<string>()
    collectRefs(schemas[name], inner)
    for (const r of inner) if (r.startsWith(prefix)) queue.push(r.slice(prefix.length))
  }
  for (const name of Object.keys(schemas)) if (!keep.has(name)) delete schemas[name]
}

/** A tag an operation uses but the document does not declare (a new module) is declared, last. */
function declareUsedTags (doc: Json) {
  doc.tags ??= []
  const declared = new Set(doc.tags.map((t: Json) => t.name))
  for (const item of [...Object.values(doc.paths ?? {}), ...Object.values(doc.webhooks ?? {})] as Json[]) {
    for (const method of httpMethods) {
      for (const tag of item[method]?.tags ?? []) {
        if (!declared.has(tag)) { declared.add(tag); doc.tags.push({ name: tag }) }
      }
    }
  }
}

/** The finished REST contract: every operation complete, every reference resolvable. */
export function applyConventions (doc: Json, extras: { webhooks?: Json } = {}): Json {
  doc.components ??= {}
  doc.components.headers = { ...headers, ...doc.components.headers }
  doc.components.parameters = { ...parameters, ...doc.components.parameters }
  for (const [path, item] of Object.entries(doc.paths ?? {}) as Array<[string, Json]>) {
    for (const method of httpMethods) if (item[method]) completeOperation(path, method, item[method])
  }
  if (extras.webhooks) doc.webhooks = extras.webhooks
  declareUsedTags(doc)
  liftSharedSchemas(doc)
  pruneUnusedSchemas(doc)
  addIntegerFormats(doc)
  return doc
}
