/**
 * The GraphQL schema as served (introspection), and calls built from it: every Query and
 * Mutation field with variables for its arguments, so new fields are covered without a list.
 */
import type { TestApp } from '../../helper.js'
import { idFieldKind } from './openapi.js'

export interface TypeRef { kind: string, name: string | null, ofType: TypeRef | null }
export interface InputValue { name: string, type: TypeRef, defaultValue: string | null }
export interface GqlField { root: 'Query' | 'Mutation', name: string, args: InputValue[], type: TypeRef }
interface GqlType { kind: string, name: string, inputFields: InputValue[] | null, enumValues: Array<{ name: string }> | null }

export interface GqlSchema { fields: GqlField[], types: Map<string, GqlType> }

const typeRef = 'kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } }'
const introspection = `{
  __schema {
    queryType { name } mutationType { name }
    types {
      kind name
      fields { name type { ${typeRef} } args { name defaultValue type { ${typeRef} } } }
      inputFields { name defaultValue type { ${typeRef} } }
      enumValues { name }
    }
  }
}`

export async function introspect (gql: TestApp['gql'], token: string): Promise<GqlSchema> {
  const res = await gql(introspection, {}, { token })
  if (!res.data) throw new Error(`introspection failed: ${JSON.stringify(res.errors)}`)
  const schema = res.data.__schema
  const types = new Map<string, GqlType>(schema.types.map((t: GqlType) => [t.name, t]))
  const fields: GqlField[] = []
  for (const [root, name] of [['Query', schema.queryType?.name], ['Mutation', schema.mutationType?.name]] as const) {
    if (!name) continue
    for (const f of schema.types.find((t: { name: string }) => t.name === name).fields) fields.push({ root, name: f.name, args: f.args, type: f.type })
  }
  return { fields, types }
}

export const typeString = (t: TypeRef): string =>
  t.kind === 'NON_NULL' ? `${typeString(t.ofType!)}!` : t.kind === 'LIST' ? `[${typeString(t.ofType!)}]` : t.name!

export function namedType (t: TypeRef): TypeRef {
  let x = t
  while (x.ofType) x = x.ofType
  return x
}

const isRequired = (v: InputValue) => v.type.kind === 'NON_NULL' && v.defaultValue === null

/** Where an ID value goes in a field's arguments: ['id'], ['input', 'contactId'], ... */
export interface IdLocation { path: string[], kind: string, list: boolean, required: boolean }

const aliases: Record<string, string> = { survivor: 'contact', merged: 'contact' }
// World kinds (world.ts ids): webhookEndpoint → endpoint, apiKey → key.
const kindsInFieldNames = ['suggestion', 'promise', 'channel', 'interaction', 'identity', 'import', 'merge', 'contact', 'endpoint', 'delivery', 'key', 'node']

/** The resource kind an ID argument names: `id` from the field (keepPromise → promise), others from their own name. */
export function gqlIdKind (field: string, arg: string): string {
  if (arg === 'id' || arg === 'ids') return kindsInFieldNames.find((k) => field.toLowerCase().includes(k)) ?? 'node'
  const k = idFieldKind(arg) ?? arg
  return aliases[k] ?? k
}

function isIdType (t: TypeRef) { return namedType(t).name === 'ID' }
function isList (t: TypeRef) { return (t.kind === 'NON_NULL' ? t.ofType! : t).kind === 'LIST' }

export function idLocations (schema: GqlSchema, field: GqlField): IdLocation[] {
  const out: IdLocation[] = []
  for (const arg of field.args) {
    if (isIdType(arg.type)) out.push({ path: [arg.name], kind: gqlIdKind(field.name, arg.name), list: isList(arg.type), required: isRequired(arg) })
    const input = schema.types.get(namedType(arg.type).name!)
    if (input?.kind === 'INPUT_OBJECT' && !isList(arg.type)) {
      for (const f of input.inputFields ?? []) {
        if (isIdType(f.type)) out.push({ path: [arg.name, f.name], kind: gqlIdKind(field.name, f.name), list: isList(f.type), required: isRequired(arg) && isRequired(f) })
      }
    }
  }
  return out
}

export interface BuildOptions {
  /** An id for a location (return undefined to leave an optional one out). */
  id: (loc: IdLocation) => string | string[] | undefined
  /** Extra values by path (e.g. { 'input.kind': 'note' }), applied after the minimal value is built. */
  values?: Record<string, unknown>
}

const FUTURE = '2031-01-06T09:00:00.000Z'
const strings: Record<string, string> = { address: '+14155552679', text: 'Hello from a security test', reason: 'security test', description: 'security test', name: 'security test', kind: 'phone' }

function minimal (schema: GqlSchema, field: GqlField, t: TypeRef, path: string[], o: BuildOptions, depth = 0): unknown {
  if (t.kind === 'NON_NULL') return minimal(schema, field, t.ofType!, path, o, depth)
  if (t.kind === 'LIST') return [minimal(schema, field, t.ofType!, path, o, depth)]
  const name = path.at(-1) ?? ''
  const type = schema.types.get(t.name!)
  if (t.name === 'ID') {
    const v = o.id({ path, kind: gqlIdKind(field.name, name), list: false, required: true })
    return Array.isArray(v) ? v[0] : v ?? 'missing_id'
  }
  if (t.name === 'String') return strings[name] ?? 'x'
  if (t.name === 'Int') return 1
  if (t.name === 'Float') return 1
  if (t.name === 'Boolean') return false
  if (t.name === 'DateTime') return FUTURE
  if (t.name === 'JSON') return {}
  if (type?.kind === 'ENUM') {
    const values = type.enumValues!.map((e) => e.name)
    return values.includes('OUTBOUND') ? 'OUTBOUND' : values.includes('NOTE') ? 'NOTE' : values[0]
  }
  if (type?.kind === 'INPUT_OBJECT' && depth < 5) {
    const out: Record<string, unknown> = {}
    for (const f of type.inputFields ?? []) if (isRequired(f)) out[f.name] = minimal(schema, field, f.type, [...path, f.name], o, depth + 1)
    return out
  }
  return null
}

/** A call of one root field: `query ($id: ID!) { contact(id: $id) { __typename } }` with its variables. */
export function buildCall (schema: GqlSchema, field: GqlField, o: BuildOptions): { query: string, variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {}
  for (const arg of field.args) {
    if (isRequired(arg)) variables[arg.name] = minimal(schema, field, arg.type, [arg.name], o)
  }
  // Optional ID locations the caller wants filled, and ID locations inside required inputs.
  for (const loc of idLocations(schema, field)) {
    const value = o.id(loc)
    if (value === undefined) continue
    const v = loc.list ? (Array.isArray(value) ? value : [value]) : (Array.isArray(value) ? value[0] : value)
    if (loc.path.length === 1) variables[loc.path[0]] = v
    else {
      const parent = (variables[loc.path[0]] ??= {}) as Record<string, unknown>
      parent[loc.path[1]] = v
    }
  }
  for (const [path, value] of Object.entries(o.values ?? {})) {
    const [head, ...rest] = path.split('.')
    if (rest.length === 0) variables[head] = value
    else if (variables[head] && typeof variables[head] === 'object') (variables[head] as Record<string, unknown>)[rest.join('.')] = value
  }
  const used = field.args.filter((a) => a.name in variables)
  const decl = used.map((a) => `$${a.name}: ${typeString(a.type)}`).join(', ')
  const call = used.map((a) => `${a.name}: $${a.name}`).join(', ')
  const returns = schema.types.get(namedType(field.type).name!)
  const selection = returns && ['OBJECT', 'INTERFACE', 'UNION'].includes(returns.kind) ? ' { __typename }' : ''
  const op = field.root === 'Query' ? 'query' : 'mutation'
  return { query: `${op}${decl ? ` (${decl})` : ''} { ${field.name}${call ? `(${call})` : ''}${selection} }`, variables }
}
