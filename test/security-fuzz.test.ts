import fc from 'fast-check'
import t from 'tap'
import { errorCatalog } from '../src/lib/errors.js'
import { build } from './helper.js'
import { gqlIdKind, introspect, type TypeRef } from './support/security/graphql.js'
import { describe, Entries, hostileKey, hostileNumber, hostileString, hostileStructure, hostileValue, percentEncode, Raw, rawQueryValue, tainted, toJson } from './support/security/hostile.js'
import { listAll } from './support/security/lists.js'
import { bodyProperties, fillPath, idKindOf, operations, sample, type OpenApiDoc, type Operation } from './support/security/openapi.js'
import { createWorld } from './support/security/world.js'

/**
 * Property tests over every REST operation of the served document that takes a JSON body or
 * query parameters, and over the GraphQL inputs: random and hostile values never give a 5xx,
 * a 4xx is always a problem+json with a catalogued code (GraphQL: every error carries
 * extensions.code), and a refused write leaves the workspace exactly as it was.
 * FUZZ_RUNS=<n> multiplies the number of runs (default 1: about 700 cases).
 */

const scale = Number(process.env.FUZZ_RUNS ?? 1)
const runs = { read: Math.round(15 * scale), write: Math.round(18 * scale), graphql: Math.round(36 * scale), imports: Math.round(12 * scale) }

const ctx = await build(t)
const { rest, gql } = ctx
const doc: OpenApiDoc = (await rest('GET', '/openapi.json', { token: null })).data
const world = await createWorld(ctx, 'fuzz')
const me = world.token
const schema = await introspect(gql, me)
const targets = operations(doc).filter((op) => op.secured && (op.body || op.queryParams.length > 0))
const codes = new Set(Object.keys(errorCatalog))
let cases = 0

// What a refused write must leave untouched. Promises are compared by id only: the scheduler may
// move a fuzz-made promise to at_risk or broken in the background.
async function state () {
  const brief = (items: any[]) => items.map((i) => `${i.id}@${i.version}`).sort()
  return {
    contacts: brief(await listAll(rest, me, '/v1/contacts')),
    channels: brief(await listAll(rest, me, '/v1/channels')),
    promises: (await listAll(rest, me, '/v1/promises')).map((p) => p.id).sort(),
    interactions: (await listAll(rest, me, '/v1/interactions')).length
  }
}
let known = await state()

const byOperation: Record<string, Record<string, unknown>> = {
  createChannel: { kind: 'note', name: 'fuzz', config: {} },
  logInteraction: { direction: 'outbound' }
}
const validBody = (op: Operation) => ({ ...(sample(doc, op.body, { ids: world.ids, byName: { direction: 'outbound' } }) as object), ...byOperation[op.operationId] }) as Record<string, unknown>

/**
 * A value for a field: its valid value with a hostile fragment slipped in (so it passes validation
 * and reaches storage), an outright hostile value, or an object holding a hostile key and value.
 */
function fieldValue (valid: unknown): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 5, arbitrary: tainted(valid) },
    { weight: 4, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.tuple(hostileKey, hostileValue).map(([k, v]) => new Entries([[k, v]])) }
  )
}

/** The valid body with 1-3 fields replaced or added, or an entirely hostile body. */
function bodyArbitrary (fields: Record<string, unknown>, base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const names = Object.keys(fields)
  const change = fc.oneof(
    ...(names.length > 0 ? [{ weight: 5, arbitrary: fc.constantFrom(...names).chain((name) => fieldValue(fields[name]).map((v) => [name, v] as [string, unknown])) }] : []),
    { weight: 1, arbitrary: fc.tuple(hostileKey, hostileValue) }
  )
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => new Entries([...Object.entries(base).filter(([k]) => !changes.some(([c]) => c === k)), ...changes])) },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant([base]) }
  )
}

/** A valid value for every field of a body schema (the field's own schema, required or not). */
function validFields (op: Operation, base: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(bodyProperties(doc, op.body)).map(([name, schema]) =>
    [name, name in base ? base[name] : sample(doc, schema, { ids: world.ids, byName: { direction: 'outbound' } }, name)]))
}

function queryArbitrary (op: Operation): fc.Arbitrary<Array<[string, unknown]>> {
  const names = op.queryParams.map((p) => p.name)
  const valid = Object.fromEntries(op.queryParams.map((p) => [p.name, String(sample(doc, p.schema, { ids: world.ids }, p.name))]))
  const value = (name: string) => fc.oneof(
    { weight: 2, arbitrary: fc.constant(valid[name] ?? 'x') },
    { weight: 4, arbitrary: tainted(valid[name] ?? 'x') },
    { weight: 3, arbitrary: hostileString.filter((s) => s.length < 5000) },
    { weight: 1, arbitrary: rawQueryValue },
    { weight: 1, arbitrary: hostileNumber }
  )
  const pair = fc.oneof(
    ...(names.length > 0 ? [{ weight: 5, arbitrary: fc.constantFrom(...names).chain((name) => value(name).map((v) => [name, v] as [string, unknown])) }] : []),
    { weight: 1, arbitrary: fc.tuple(hostileKey.filter((k) => k.length < 200), value('')) }
  )
  return fc.array(pair, { maxLength: 4 })
}

const queryString = (pairs: Array<[string, unknown]>) => pairs.length === 0
  ? ''
  : '?' + pairs.map(([k, v]) => `${percentEncode(k)}=${v instanceof Raw ? v.json : percentEncode(String(v))}`).join('&')

type Res = Awaited<ReturnType<typeof rest>>

/** fast-check's report, shortened: the seed and path to replay it, then our own description of the case. */
function failure (err: unknown): string {
  const message = (err as Error).message
  const replay = /\{ seed: [^}]*\}/.exec(message)?.[0] ?? ''
  const cause = (err as { cause?: { message?: string } }).cause?.message
  const at = message.indexOf('Got error:')
  return `${replay} ${cause ?? (at >= 0 ? message.slice(at) : message)}`.slice(0, 2500)
}

/** Why a response breaks the contract, or null. */
function violation (res: Res): string | null {
  if (res.statusCode >= 500) return `a ${res.statusCode}`
  if (res.statusCode >= 400) {
    if (String(res.headers['content-type']).split(';')[0] !== 'application/problem+json') return `a ${res.statusCode} that is not problem+json`
    if (!codes.has(res.data?.code) || res.data.code === 'internal') return `a ${res.statusCode} without a catalogued code (${res.data?.code})`
    if (leaks.test(JSON.stringify(res.data))) return `a ${res.statusCode} whose problem shows internals`
  }
  return null
}

// Internals a client must never read in a problem: SQL from the driver, stack frames, file paths.
const leaks = /Failed query|\bparams: |node_modules|\bat \S+ \(\S+:\d+:\d+\)|\.ts:\d+:\d+/

async function refusedWritesNothing (what: string, failed: boolean): Promise<string | null> {
  const now = await state()
  if (failed && JSON.stringify(now) !== JSON.stringify(known)) {
    const diff = Object.keys(now).filter((k) => JSON.stringify((now as any)[k]) !== JSON.stringify((known as any)[k]))
    known = now
    return `${what} was refused but changed ${diff.join(', ')}`
  }
  known = now
  return null
}

t.test('REST: hostile bodies and query parameters', async (t) => {
  t.ok(targets.length >= 30, `${targets.length} operations take a JSON body or query parameters`)
  for (const op of targets) {
    const base = op.body ? validBody(op) : undefined
    const fields = base ? validFields(op, base) : {}
    const realPath = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, world.ids[idKindOf(op.path, p.name)] ?? 'x'])))
    const write = op.method !== 'GET'
    // POST /v1/imports streams its body: a CSV with a header and no rows (so no job ever writes contacts).
    const stream = op.operationId === 'createImport'
    const arbitrary = fc.record({
      path: op.pathParams.length > 0 ? fc.option(fc.oneof(tainted(world.ids[idKindOf(op.path, op.pathParams[0].name)] ?? 'x'), hostileString.filter((s) => s.length > 0 && s.length < 300)), { freq: 5 }) : fc.constant(null),
      query: op.queryParams.length > 0 ? queryArbitrary(op) : fc.constant([] as Array<[string, unknown]>),
      body: op.body ? bodyArbitrary(fields, base!) : fc.constant(undefined)
    })
    let n = 0
    try {
      await fc.assert(fc.asyncProperty(arbitrary, async ({ path, query, body }) => {
        n++
        const url = (path === null ? realPath : op.path.replace(/\{[^}]+\}/g, percentEncode(String(path)))) + queryString(query)
        const headers: Record<string, string> = stream ? { 'content-type': 'text/csv' } : op.body ? { 'content-type': 'application/json' } : {}
        const payload = stream ? 'displayName\n' : body === undefined ? undefined : toJson(body)
        const res = await rest(op.method, url, { token: me, headers, ...(payload !== undefined ? { payload } : {}) })
        const problem = violation(res) ?? (write ? await refusedWritesNothing(op.label, res.statusCode >= 400) : null)
        if (problem) throw new Error(`${op.label}: ${problem}\n  url: ${url.slice(0, 300)}\n  body: ${describe(body).slice(0, 500)}\n  response: ${res.statusCode} ${res.body.slice(0, 300)}`)
      }), { numRuns: write ? runs.write : runs.read, endOnFailure: true })
      t.pass(`${op.label}: ${n} cases`)
    } catch (err) {
      t.fail(failure(err))
    }
    cases += n
  }
})

t.test('GraphQL: hostile input variables', async (t) => {
  const FUTURE = '2031-01-06T09:00:00.000Z'
  const mutations: Record<string, { input: string, base: Record<string, unknown> }> = {
    createContact: { input: 'CreateContactInput', base: { displayName: 'Fuzz' } },
    updateContact: { input: 'UpdateContactInput', base: { id: world.ids.contact, title: 'Fuzzed' } },
    createChannel: { input: 'CreateChannelInput', base: { kind: 'note', name: 'Fuzz notes' } },
    createPromise: { input: 'CreatePromiseInput', base: { contactId: world.ids.contact, description: 'Fuzz promise', dueAt: FUTURE } },
    logInteraction: { input: 'LogInteractionInput', base: { contactId: world.ids.contact, direction: 'OUTBOUND', kind: 'NOTE' } }
  }
  const allowed = new Set([...codes, 'graphql.invalid_query'])
  for (const [name, { input, base }] of Object.entries(mutations)) {
    const names = (schema.types.get(input)?.inputFields ?? []).map((f) => f.name)
    t.ok(names.length > 0, `${input} has fields`)
    const fields = Object.fromEntries((schema.types.get(input)?.inputFields ?? []).map((f) => [f.name, f.name in base ? base[f.name] : gqlValid(f.type, f.name)]))
    const query = `mutation ($input: ${input}!) { ${name}(input: $input) { __typename } }`
    let n = 0
    try {
      await fc.assert(fc.asyncProperty(bodyArbitrary(fields, base), async (variables) => {
        n++
        const payload = `{"query":${JSON.stringify(query)},"variables":{"input":${toJson(variables)}}}`
        const res = await rest('POST', '/graphql', { token: me, payload, headers: { 'content-type': 'application/json' } })
        const errors = res.data?.errors as Array<{ extensions?: { code?: unknown } }> | undefined
        let problem: string | null = null
        if (res.statusCode >= 500) problem = `a ${res.statusCode}`
        else if (!res.data) problem = `a ${res.statusCode} that is not JSON`
        else if (errors?.some((e) => typeof e.extensions?.code !== 'string' || !allowed.has(e.extensions.code as string) || e.extensions.code === 'internal')) problem = `an error without a proper extensions.code: ${JSON.stringify(errors).slice(0, 300)}`
        problem ??= await refusedWritesNothing(name, !res.data?.data?.[name])
        if (problem) throw new Error(`${name}: ${problem}\n  input: ${describe(variables).slice(0, 500)}\n  response: ${res.statusCode} ${res.body.slice(0, 300)}`)
      }), { numRuns: runs.graphql, endOnFailure: true })
      t.pass(`${name}: ${n} cases`)
    } catch (err) {
      t.fail(failure(err))
    }
    cases += n
  }
})

/** A valid-looking value of a GraphQL input type (so a tainted version of it passes coercion). */
function gqlValid (type: TypeRef, name: string, depth = 0): unknown {
  if (type.kind === 'NON_NULL') return gqlValid(type.ofType!, name, depth)
  if (type.kind === 'LIST') return [gqlValid(type.ofType!, name, depth)]
  const named = schema.types.get(type.name!)
  if (type.name === 'ID') return world.ids[gqlIdKind('', name)] ?? world.ids.contact
  if (type.name === 'DateTime') return '2031-01-06T09:00:00.000Z'
  if (type.name === 'JSON') return { note: 'x' }
  if (type.name === 'Int' || type.name === 'Float') return 1
  if (type.name === 'Boolean') return true
  if (named?.kind === 'ENUM') return named.enumValues![0].name
  if (named?.kind === 'INPUT_OBJECT' && depth < 3) {
    return Object.fromEntries((named.inputFields ?? []).filter((f) => f.type.kind === 'NON_NULL').map((f) => [f.name, gqlValid(f.type, f.name, depth + 1)]))
  }
  if (name === 'address') return 'someone@example.com'
  return 'x'
}

// Upload bodies are CSV/NDJSON streams, not JSON: fuzzed here on their own. Hostile rows (NUL
// characters, lines nested thousands deep) must end as failed rows or as a problem that shows no
// internals, never a 5xx.
t.test('import uploads: hostile rows are reported per row or as a problem that shows no internals', async (t) => {
  const cell = fc.oneof(tainted('Jane Doe'), hostileString.filter((s) => s.length < 2000))
  const upload = fc.oneof(
    fc.array(fc.tuple(cell, cell), { minLength: 1, maxLength: 4 }).map((rows) => ({
      format: 'csv',
      type: 'text/csv',
      payload: 'displayName,externalId\n' + rows.map((r) => r.map((c) => `"${String(c).replace(/"/g, '""')}"`).join(',')).join('\n') + '\n'
    })),
    fc.array(fc.oneof(fc.tuple(cell, cell).map(([d, e]) => toJson(new Entries([['displayName', d], ['externalId', e]]))), hostileStructure.map(toJson)), { minLength: 1, maxLength: 4 }).map((lines) => ({
      format: 'ndjson',
      type: 'application/x-ndjson',
      payload: lines.join('\n') + '\n'
    }))
  )
  let n = 0
  try {
    await fc.assert(fc.asyncProperty(upload, async ({ format, type, payload }) => {
      n++
      const res = await rest('POST', `/v1/imports?format=${format}&upsertOn=externalId&dryRun=true`, { token: me, payload, headers: { 'content-type': type } })
      let problem = violation(res)
      if (!problem && res.statusCode === 202) {
        await ctx.app.jobs.imports.drain()
        const job = await rest('GET', `/v1/imports/${res.data.id}`, { token: me })
        const errors = await rest('GET', `/v1/imports/${res.data.id}/errors`, { token: me })
        problem = violation(job) ?? violation(errors) ?? (['completed', 'failed', 'cancelled'].includes(job.data?.status) ? null : `the job ended ${job.data?.status}`)
      }
      if (problem) throw new Error(`POST /v1/imports (${format}): ${problem}\n  payload: ${describe(payload)}\n  response: ${res.statusCode} ${res.body.slice(0, 400)}`)
    }), { numRuns: runs.imports, endOnFailure: true })
    t.pass(`${n} uploads`)
  } catch (err) {
    t.fail(failure(err))
  }
  cases += n
})

t.test('summary', async (t) => {
  t.comment(`${cases} cases`)
  t.ok(cases >= 500 * scale, `${cases} cases ran`)
})
