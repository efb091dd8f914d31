/**
 * Reads the served OpenAPI document (GET /openapi.json) into a list of operations, and builds
 * minimal valid-looking values from its JSON Schemas, so the security tests cover every route
 * the document declares without a hand-kept list.
 */

export type Schema = Record<string, any>
export interface OpenApiDoc { paths: Record<string, Record<string, any>>, components?: { schemas?: Record<string, Schema> } }

export interface Param { name: string, in: 'path' | 'query' | 'header', required: boolean, schema: Schema }

export interface Operation {
  method: string
  /** OpenAPI path, e.g. /v1/contacts/{id} */
  path: string
  operationId: string
  /** The operation declares `security` (a bearer token is required). */
  secured: boolean
  pathParams: Param[]
  queryParams: Param[]
  /** JSON schema of an application/json request body. */
  body?: Schema
  bodyRequired: boolean
  label: string
}

const methods = ['get', 'post', 'put', 'patch', 'delete']

export function operations (doc: OpenApiDoc): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const op = item[method]
      if (!op) continue
      const params: Param[] = [...(item.parameters ?? []), ...(op.parameters ?? [])]
      const json = op.requestBody?.content?.['application/json']
      out.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        secured: Array.isArray(op.security) && op.security.length > 0,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: json?.schema,
        bodyRequired: Boolean(op.requestBody?.required),
        label: `${method.toUpperCase()} ${path}`
      })
    }
  }
  return out
}

/** Follows `$ref`s into components (unresolvable refs read as "any value"). */
export function deref (doc: OpenApiDoc, schema: Schema | undefined): Schema {
  let s = schema ?? {}
  for (let i = 0; i < 10 && typeof s.$ref === 'string'; i++) {
    const m = /^#\/components\/schemas\/([^#/]+)$/.exec(s.$ref)
    s = m ? doc.components?.schemas?.[m[1]] ?? {} : {}
  }
  return s
}

/** `/v1/contacts/{id}` → `/v1/contacts/:id` */
export const fastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1')

/**
 * The resource kind a path parameter names: `{id}` takes it from the collection before it
 * (contacts → contact, promise-suggestions → suggestion), `{identityId}` from its own name.
 */
export function idKindOf (path: string, param: string): string {
  if (param !== 'id') return param.replace(/Ids?$/, '').replace(/^.*([A-Z][a-z]+)$/, '$1').toLowerCase()
  const segments = path.split('/')
  const collection = segments[segments.indexOf(`{${param}}`) - 1] ?? ''
  const singular = collection.replace(/ies$/, 'y').replace(/s$/, '')
  return singular.split('-').at(-1)!
}

/** The resource kind a body field holding ids names: contactId → contact, madeInInteractionId → interaction, keepsPromiseIds → promise. */
export function idFieldKind (field: string): string | undefined {
  const m = /([A-Z]?[a-z]+)Ids?$/.exec(field)
  return m ? m[1].toLowerCase() : undefined
}

export const isIdField = (name: string) => /Ids?$/.test(name)

export function fillPath (path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (values[name] === undefined) throw new Error(`no value for path parameter {${name}} of ${path}`)
    return encodeURIComponent(values[name])
  })
}

export interface SampleHints {
  /** Real ids by resource kind (contact, channel, interaction, promise, ...). */
  ids: Record<string, string>
  /** Values by property name, applied wherever that name appears (e.g. `kind` of a channel). */
  byName?: Record<string, unknown>
}

const FUTURE = '2031-01-06T09:00:00.000Z'

/** A minimal value satisfying the schema (required properties only), steered by hints. */
export function sample (doc: OpenApiDoc, schema: Schema | undefined, hints: SampleHints, name = '', depth = 0): unknown {
  const s = deref(doc, schema)
  if (depth > 8) return {}
  if (name && hints.byName && name in hints.byName) return hints.byName[name]
  if (name && isIdField(name)) {
    const kind = idFieldKind(name)
    const id = kind ? hints.ids[kind] : undefined
    if (id !== undefined) return s.type === 'array' ? [id] : id
  }
  if (s.example !== undefined) return s.example
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0]
  if (s.const !== undefined) return s.const
  if (Array.isArray(s.enum)) return s.enum[0]
  const alternatives = s.anyOf ?? s.oneOf
  if (Array.isArray(alternatives)) {
    const pick = alternatives.find((a: Schema) => deref(doc, a).type !== 'null') ?? alternatives[0]
    return sample(doc, pick, hints, name, depth + 1)
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) return sample(doc, s.allOf[0], hints, name, depth + 1)
  const type = Array.isArray(s.type) ? s.type.find((x: string) => x !== 'null') : s.type
  switch (type) {
    case 'string':
      if (s.format === 'date-time') return FUTURE
      if (s.format === 'email') return 'someone@example.com'
      if (s.format === 'uri' || s.format === 'url') return 'https://example.com/'
      return 'x'.repeat(Math.max(1, s.minLength ?? 1))
    case 'integer':
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1)
    case 'boolean':
      return false
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => sample(doc, s.items, hints, '', depth + 1))
    case 'object':
    case undefined: {
      if (type === undefined && !s.properties) return s.additionalProperties === undefined && Object.keys(s).length === 0 ? 'x' : {}
      const out: Record<string, unknown> = {}
      for (const key of s.required ?? []) out[key] = sample(doc, s.properties?.[key], hints, key, depth + 1)
      return out
    }
    default:
      return null
  }
}

/** The top-level properties of a body schema that hold ids of other resources. */
export function idFields (doc: OpenApiDoc, schema: Schema | undefined): Array<{ name: string, kind: string, array: boolean, required: boolean }> {
  const s = deref(doc, schema)
  return Object.entries(s.properties ?? {}).flatMap(([name, prop]) => {
    const kind = idFieldKind(name)
    if (!isIdField(name) || !kind) return []
    const p = deref(doc, prop as Schema)
    return [{ name, kind, array: p.type === 'array', required: (s.required ?? []).includes(name) }]
  })
}

/** The property names a body schema accepts (for mass-assignment and fuzz tests). */
export function bodyProperties (doc: OpenApiDoc, schema: Schema | undefined): Record<string, Schema> {
  const s = deref(doc, schema)
  return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, deref(doc, v as Schema)]))
}
