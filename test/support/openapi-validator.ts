// Checks REST responses against the committed openapi.yaml: the status is documented for the
// route, the content type is one the document names, and the body matches its JSON Schema
// (OpenAPI 3.1 schemas are JSON Schema 2020-12, so ajv's 2020 dialect). test/helper.ts runs every
// response of every test through it, so the whole suite's REST traffic checks the contract.
import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { parse } from 'yaml'

type Json = Record<string, any>

// ajv-formats is CommonJS: its default export arrives wrapped under tsx/ESM.
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (ajv: Ajv2020) => void

const systemPaths = ['/healthz', '/readyz']
export const isRestPath = (path: string) => path.startsWith('/v1/') || systemPaths.includes(path)

/** Fastify's `/v1/contacts/:id` as the document's `/v1/contacts/{id}`. */
export const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')

export interface CheckedResponse {
  method: string
  /** The route's URL template (request.routeOptions.url); undefined when no route matched. */
  route?: string
  url: string
  status: number
  contentType?: string
  /** The raw body; undefined when it was a stream (only status and content type are checked). */
  body?: string
}

const ID = 'openapi.yaml'
// JSON pointer segments, percent-encoded for use in a URI fragment ({id}, application/json).
const pointer = (...parts: string[]) => parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/')

export function createResponseValidator (document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false })
  addFormats(ajv)
  ajv.addSchema({ ...document, $id: ID })
  const compiled = new Map<string, ValidateFunction>()

  function schemaValidator (ref: string): ValidateFunction {
    let fn = compiled.get(ref)
    if (!fn) {
      fn = ajv.compile({ $ref: `${ID}#/${ref}` })
      compiled.set(ref, fn)
    }
    return fn
  }

  function responseOf (op: Json, status: number): [string, Json] | undefined {
    for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
      const r = op.responses?.[key]
      if (r) return [key, r.$ref ? resolve(r.$ref) : r]
    }
    return undefined
  }

  function resolve (ref: string): Json {
    return ref.slice(2).split('/').reduce((node: Json, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], document)
  }

  /** What is wrong with this response, or an empty list. */
  function check (res: CheckedResponse): string[] {
    const path = res.url.split('?')[0]
    if (!isRestPath(path)) return []
    const method = res.method.toLowerCase()
    if (method === 'options') return []
    const where = `${res.method} ${res.url} → ${res.status}`

    let bodyRef: string
    let content: Json | undefined
    if (res.route === undefined) {
      // No route matched: the answer is a route.not_found problem.
      if (res.status !== 404) return [`${where}: no route matched, yet the status is not 404`]
      content = { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }
      bodyRef = pointer('components', 'schemas', 'Problem')
    } else {
      const templ = toOpenApiPath(res.route)
      const op = document.paths?.[templ]?.[method === 'head' ? 'get' : method]
      if (!op) return [`${where}: ${res.method} ${templ} is not in openapi.yaml (give the route a schema, then \`npm run openapi\`)`]
      const found = responseOf(op, res.status)
      if (!found) return [`${where}: status ${res.status} is not documented for ${res.method} ${templ} (documented: ${Object.keys(op.responses ?? {}).join(', ')})`]
      content = found[1].content
      bodyRef = pointer('paths', templ, method === 'head' ? 'get' : method, 'responses', found[0], 'content')
    }

    // Fastify drops the body of a HEAD, 204 or 304 answer after onSend, whatever the handler sent.
    if (method === 'head' || res.status === 204 || res.status === 304) return []
    const empty = res.body === undefined ? false : res.body.length === 0
    if (!content || Object.keys(content).length === 0) {
      return empty ? [] : [`${where}: the document declares no body for this response, but one was sent`]
    }
    const mediaType = (res.contentType ?? '').split(';')[0].trim().toLowerCase()
    const mediaKey = Object.keys(content).find((k) => k.toLowerCase() === mediaType) ??
      Object.keys(content).find((k) => k === '*/*' || (k.endsWith('/*') && mediaType.startsWith(k.slice(0, -1))))
    if (!mediaKey) return [`${where}: content type ${mediaType || '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`]
    if (res.body === undefined || !/[/+]json$/.test(mediaType)) return []
    if (empty) return [`${where}: the document declares a ${mediaKey} body, but none was sent`]

    let data: unknown
    try { data = JSON.parse(res.body) } catch { return [`${where}: the ${mediaType} body is not JSON`] }
    const ref = res.route === undefined ? bodyRef : `${bodyRef}/${pointer(mediaKey)}/schema`
    const validate = schemaValidator(ref)
    if (validate(data)) return []
    return (validate.errors ?? []).slice(0, 10).map((e) =>
      `${where}: body${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params ? ' ' + JSON.stringify(e.params) : ''} (schema ${e.schemaPath})`)
  }

  return { check }
}

let shared: ReturnType<typeof createResponseValidator> | undefined

/** One validator per test process, from the committed openapi.yaml. */
export function openApiValidator () {
  shared ??= createResponseValidator(parse(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')))
  return shared
}
