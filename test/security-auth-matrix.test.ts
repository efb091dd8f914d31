import t from 'tap'
import { allScopes } from '../src/lib/context.js'
import { build } from './helper.js'
import { buildCall, idLocations, introspect, type IdLocation } from './support/security/graphql.js'
import { ghostId } from './support/security/ids.js'
import { fillPath, idFields, idKindOf, operations, sample, type OpenApiDoc, type Operation } from './support/security/openapi.js'
import { badTokens, controlToken } from './support/security/tokens.js'
import { createWorld, snapshot } from './support/security/world.js'

/**
 * The authentication / authorization / tenancy matrix, generated from what the server serves:
 * every operation of GET /openapi.json that declares `security`, and every Query and Mutation
 * field of the introspected GraphQL schema. A new route or field is covered without editing this.
 */

// Routes that may be called without a token: a new public route must be added here on purpose.
const publicOperations = new Set([
  'GET /healthz', 'GET /readyz',
  'GET /v1/channels/{id}/inbound', 'POST /v1/channels/{id}/inbound',
  // OAuth client credentials: the API key in the body or HTTP Basic is the credential.
  'POST /v1/auth/token',
  'GET /graphiql', 'GET /graphiql/main.js', 'GET /graphiql/sw.js', 'GET /graphiql/config.js'
])
// Routes and fields any valid token may call, whatever its scopes.
const unscopedOperations = ['GET /v1/workspace']
const unscopedFields = ['workspace']
// Queries that need admin rather than a read scope, as their REST routes do (GET /v1/api-keys...).
const adminReads = new Set(['apiKeys', 'apiKey'])
// Body fields named like ids that hold the client's own strings, not references to resources.
const clientChosenIds = ['externalId', 'threadId', 'providerMessageId']

const ctx = await build(t)
const { rest, gql, token, config } = ctx
const doc: OpenApiDoc = (await rest('GET', '/openapi.json', { token: null })).data
const all = operations(doc)
const secured = all.filter((op) => op.secured)
const bad = badTokens(config.jwtSecret, 'attacker')
const counts: Record<string, number> = {}
const ran = (matrix: string, n = 1) => { counts[matrix] = (counts[matrix] ?? 0) + n }

// Request bodies only need to look valid (so a request that passes auth reaches its handler).
const byName = { direction: 'outbound' }
const byOperation: Record<string, Record<string, unknown>> = { createChannel: { kind: 'note', name: 'security test', config: {} } }
const bodyFor = (op: Operation, ids: Record<string, string>) =>
  op.body ? { ...(sample(doc, op.body, { ids, byName }) as object), ...byOperation[op.operationId] } : undefined
const placeholderIds = new Proxy({} as Record<string, string>, { get: (_, kind) => `${String(kind).slice(0, 3)}_01placeholder0000000000000` })
const placeholderPath = (op: Operation) => fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, placeholderIds[idKindOf(op.path, p.name)]])))

const call = (op: Operation, url: string, tok: string | null, body?: unknown) =>
  rest(op.method, url, { token: tok, ...(body !== undefined ? { body } : {}) })

// Two workspaces with one real resource of every kind; all set up before the first test runs.
const victim = await createWorld(ctx, 'victim', 1)
const attacker = await createWorld(ctx, 'attacker', 2)
const victimBefore = await snapshot(ctx, doc, victim)

type Res = Awaited<ReturnType<typeof rest>>
const problemJson = (res: Res) => String(res.headers['content-type']).split(';')[0] === 'application/problem+json'

t.test('the served document: every operation is secured but a known few public ones', async (t) => {
  t.ok(secured.length >= 40, `${secured.length} secured operations in the document`)
  for (const op of all.filter((o) => !o.secured)) {
    t.ok(publicOperations.has(op.label), `${op.label} is public on purpose`)
  }
  for (const op of all.filter((o) => !o.secured && o.method === 'GET' && !o.path.includes('{'))) {
    const res = await rest('GET', op.path, { token: null })
    t.not(res.statusCode, 401, `${op.label} answers without a token`)
  }
})

t.test('(a) 401 for no token, a bad signature, an expired token, alg none, another audience', async (t) => {
  const control = controlToken(config.jwtSecret, 'attacker', 'contacts:read')
  t.equal((await rest('GET', '/v1/contacts', { token: control })).statusCode, 200, 'the hand-made control token is accepted')
  for (const op of secured) {
    const url = placeholderPath(op)
    const body = bodyFor(op, placeholderIds)
    for (const [name, tok] of Object.entries(bad)) {
      const res = await call(op, url, tok, body)
      ran('REST 401')
      const ok = res.statusCode === 401 && problemJson(res) && res.data?.code === 'auth.unauthenticated' && /^Bearer /.test(String(res.headers['www-authenticate']))
      t.ok(ok, `${op.label} with ${name}: 401 problem+json auth.unauthenticated, WWW-Authenticate: Bearer (got ${res.statusCode} ${res.headers['www-authenticate']} ${res.body.slice(0, 200)})`)
    }
  }
})

t.test('(b) 403 without the scope the route needs; all scopes pass the gate', async (t) => {
  const ws = 'scopes'
  const none = token({ workspace: ws, scopes: [] })
  const everything = token({ workspace: ws })
  const unscoped: string[] = []
  for (const op of secured) {
    const url = placeholderPath(op)
    const body = bodyFor(op, placeholderIds)
    const res = await call(op, url, none, body)
    ran('REST scopes')
    if (res.statusCode !== 403) {
      unscoped.push(op.label)
      t.not(res.statusCode, 401, `${op.label}: a valid token without scopes is not a 401`)
      continue
    }
    const needed = res.data?.requiredScope
    t.ok(problemJson(res) && res.data.code === 'auth.forbidden', `${op.label}: no scopes → 403 auth.forbidden problem+json`)
    t.match(res.headers['www-authenticate'], /^Bearer .*error="insufficient_scope"/, `${op.label}: the 403 challenges with insufficient_scope`)
    t.ok((allScopes as readonly string[]).includes(needed), `${op.label} needs ${needed}, a known scope`)
    // Reading API keys is workspace administration, like managing them.
    if (op.method === 'GET') t.match(needed, /:read$|^admin$/, `${op.label}: a read needs a read scope (or admin)`)
    else t.notMatch(needed, /:read$/, `${op.label}: a write never passes with a read scope`)

    const allBut = await call(op, url, token({ workspace: ws, scopes: allScopes.filter((s) => s !== needed) }), body)
    ran('REST scopes')
    t.ok(allBut.statusCode === 403 && allBut.data?.requiredScope === needed, `${op.label}: every scope but ${needed} → 403 (got ${allBut.statusCode})`)
    const full = await call(op, url, everything, body)
    ran('REST scopes')
    t.notOk([401, 403].includes(full.statusCode), `${op.label}: all scopes pass (got ${full.statusCode} ${full.body.slice(0, 200)})`)
  }
  t.same(unscoped, unscopedOperations, 'only these routes need no scope')
})


function kindsOf (op: Operation): string[] {
  return op.pathParams.map((p) => idKindOf(op.path, p.name))
}

t.test('the fixtures hold a real id for every kind of id a path names', async (t) => {
  for (const op of secured) {
    for (const kind of kindsOf(op)) t.ok(victim.ids[kind], `${op.label}: a ${kind} fixture exists (add one to test/support/security/world.ts)`)
  }
  t.ok(Object.keys(victimBefore).length >= 10, `${Object.keys(victimBefore).length} reads in the victim snapshot`)
})

t.test('(c) another workspace\'s real ids in the path: 404, and nothing changed', async (t) => {
  for (const op of secured.filter((o) => o.pathParams.length > 0)) {
    const kinds = kindsOf(op)
    // Every parameter the victim's; and with several, each one alone the victim's (the others the caller's own).
    const combos = [kinds.map(() => true), ...(kinds.length > 1 ? kinds.map((_, i) => kinds.map((__, j) => i === j)) : [])]
    for (const combo of combos) {
      const values = Object.fromEntries(op.pathParams.map((p, i) => [p.name, (combo[i] ? victim : attacker).ids[kinds[i]]]))
      const res = await call(op, fillPath(op.path, values), attacker.token, bodyFor(op, attacker.ids))
      ran('REST foreign path ids')
      const label = `${op.label} with ${op.pathParams.map((p, i) => `${p.name}=${combo[i] ? 'victim' : 'own'}`).join(', ')}`
      t.ok(res.statusCode === 404 && problemJson(res) && /\.not_found$/.test(res.data?.code), `${label}: 404 *.not_found (got ${res.statusCode} ${res.body.slice(0, 200)})`)
    }
  }
  t.same(await snapshot(ctx, doc, victim), victimBefore, 'the victim\'s workspace reads exactly as before')
})

t.test('(d) another workspace\'s real ids in a body: refused exactly like ids that do not exist', async (t) => {
  for (const op of secured.filter((o) => o.body)) {
    const fields = idFields(doc, op.body).filter((f) => !clientChosenIds.includes(f.name))
    if (fields.length === 0) continue
    const url = fillPath(op.path, Object.fromEntries(op.pathParams.map((p) => [p.name, attacker.ids[idKindOf(op.path, p.name)]])))
    for (const f of fields) {
      const real = victim.ids[f.kind]
      if (!t.ok(real, `${op.label}: a ${f.kind} fixture exists for body field ${f.name}`)) continue
      const withId = (id: string) => ({ ...(bodyFor(op, attacker.ids) as object), [f.name]: f.array ? [id] : id })
      const foreign = await call(op, url, attacker.token, withId(real))
      const ghost = await call(op, url, attacker.token, withId(ghostId(real)))
      ran('REST foreign body ids', 2)
      const label = `${op.label} with ${f.name} = the victim's ${f.kind}`
      t.ok(foreign.statusCode >= 400 && foreign.statusCode < 500, `${label}: refused (got ${foreign.statusCode} ${foreign.body.slice(0, 200)})`)
      const shape = (r: Res) => ({ status: r.statusCode, code: r.data?.code, errors: (r.data?.errors ?? []).map((e: any) => [e.pointer, e.code]) })
      t.same(shape(foreign), shape(ghost), `${label}: indistinguishable from an id that does not exist`)
    }
  }
  t.same(await snapshot(ctx, doc, victim), victimBefore, 'the victim\'s workspace reads exactly as before')
})

t.test('public provider webhooks: an unknown or deleted channel id is a 404', async (t) => {
  const gone = (await rest('POST', '/v1/channels', { token: attacker.token, body: { kind: 'note', name: 'to delete', config: {} } })).data.id
  t.equal((await rest('DELETE', `/v1/channels/${gone}`, { token: attacker.token })).statusCode, 204)
  for (const op of all.filter((o) => !o.secured && o.pathParams.length > 0)) {
    for (const [what, id] of [['unknown', ghostId(victim.ids.channel)], ['deleted', gone], ['garbage', 'not-a-channel']]) {
      const res = await rest(op.method, fillPath(op.path, { id }), { token: null, payload: op.method === 'POST' ? '{"update_id":1}' : undefined, headers: op.method === 'POST' ? { 'content-type': 'application/json' } : {} })
      ran('public webhook ids')
      t.ok(res.statusCode === 404 && problemJson(res) && res.data?.code === 'channel.not_found', `${op.label} with an ${what} channel: 404 channel.not_found (got ${res.statusCode} ${res.body.slice(0, 200)})`)
    }
  }
})

t.test('GraphQL: every Query and Mutation field', async (t) => {
  const schema = await introspect(gql, attacker.token)
  t.ok(schema.fields.length >= 30, `${schema.fields.length} root fields`)
  const own = (loc: IdLocation) => loc.kind === 'node' ? attacker.ids.contact : attacker.ids[loc.kind]
  const requiredOwn = (loc: IdLocation) => loc.required ? own(loc) : undefined

  t.test('401 for every bad token, on every field', async (t) => {
    for (const field of schema.fields) {
      const { query, variables } = buildCall(schema, field, { id: requiredOwn })
      for (const [name, tok] of Object.entries(bad)) {
        const res = await gql(query, variables, { token: tok })
        ran('GraphQL 401')
        t.ok(res.status === 401 && res.errors?.[0]?.extensions?.code === 'auth.unauthenticated' && /^Bearer /.test(String(res.res.headers['www-authenticate'])),
          `${field.root}.${field.name} with ${name}: 401 auth.unauthenticated (got ${res.status} ${JSON.stringify(res.errors)?.slice(0, 200)})`)
      }
    }
  })

  t.test('a token without scopes is forbidden on every field but the unscoped ones; all scopes pass', async (t) => {
    const none = token({ workspace: 'attacker', scopes: [] })
    const unscoped: string[] = []
    for (const field of schema.fields) {
      const { query, variables } = buildCall(schema, field, { id: requiredOwn })
      const res = await gql(query, variables, { token: none })
      ran('GraphQL scopes')
      const code = res.errors?.[0]?.extensions?.code
      if (code !== 'auth.forbidden') {
        unscoped.push(field.name)
        continue
      }
      t.ok((allScopes as readonly string[]).includes(res.errors![0].extensions.requiredScope), `${field.name}: names the scope it needs`)
      // admin: what REST also reads only with admin (API keys).
      if (field.root === 'Query') t.match(res.errors![0].extensions.requiredScope, adminReads.has(field.name) ? /^admin$/ : /:read$/, `${field.name}: a query needs a read scope`)
      else t.notMatch(res.errors![0].extensions.requiredScope, /:read$/, `${field.name}: a mutation never passes with a read scope`)
    }
    t.same(unscoped, unscopedFields, 'only these fields need no scope')
    for (const field of schema.fields.filter((f) => f.root === 'Query')) {
      const { query, variables } = buildCall(schema, field, { id: requiredOwn })
      const res = await gql(query, variables, { token: token({ workspace: 'attacker' }) })
      ran('GraphQL scopes')
      t.notOk(res.errors?.some((e) => String(e.extensions?.code).startsWith('auth.')), `${field.name}: all scopes pass (${JSON.stringify(res.errors)?.slice(0, 200)})`)
    }
  })

  t.test('another workspace\'s ids: not found (null for node/nodes), refused like ids that do not exist, nothing changed', async (t) => {
    const victimIds = (loc: IdLocation): string | string[] => {
      if (loc.kind === 'node') return loc.list ? ['contact', 'channel', 'interaction', 'promise', 'identity', 'endpoint', 'key'].map((k) => victim.ids[k]) : victim.ids.contact
      return victim.ids[loc.kind]
    }
    const same = (a: IdLocation, b: IdLocation) => a.path.join('.') === b.path.join('.')
    const fieldsWithIds = schema.fields.filter((f) => idLocations(schema, f).some((l) => l.required))
    t.ok(fieldsWithIds.length >= 20, `${fieldsWithIds.length} fields take a required id`)
    for (const field of fieldsWithIds) {
      const locs = idLocations(schema, field)
      for (const loc of locs) t.ok(loc.kind === 'node' || victim.ids[loc.kind], `${field.name}.${loc.path.join('.')}: a ${loc.kind} fixture exists`)
      const name = `${field.root}.${field.name}`

      // Every required id the victim's.
      const { query, variables } = buildCall(schema, field, { id: (loc) => loc.required ? victimIds(loc) : undefined })
      const res = await gql(query, variables, { token: attacker.token })
      ran('GraphQL foreign ids')
      if (field.name === 'node' || field.name === 'nodes') {
        const value = res.data?.[field.name]
        t.ok(!res.errors && (value === null || (Array.isArray(value) && value.length > 0 && value.every((v: unknown) => v === null))), `${name}: the victim's ids read as null (${JSON.stringify(res.data)} ${JSON.stringify(res.errors)})`)
      } else {
        t.ok(res.data?.[field.name] == null && /\.not_found$/.test(res.errors?.[0]?.extensions?.code), `${name} with the victim's ids: *.not_found (got ${JSON.stringify(res.errors)?.slice(0, 300)})`)
      }

      // One id at a time the victim's (the others the caller's own), compared with an id that does not exist.
      if (locs.length < 2) continue
      for (const target of locs) {
        const pick = (real: (l: IdLocation) => string | string[]) => (loc: IdLocation) => same(loc, target) ? real(loc) : requiredOwn(loc)
        const asGhost = (loc: IdLocation) => { const v = victimIds(loc); return Array.isArray(v) ? v.map(ghostId) : ghostId(v) }
        const foreign = buildCall(schema, field, { id: pick(victimIds) })
        const ghost = buildCall(schema, field, { id: pick(asGhost) })
        const a = await gql(foreign.query, foreign.variables, { token: attacker.token })
        const b = await gql(ghost.query, ghost.variables, { token: attacker.token })
        ran('GraphQL foreign ids', 2)
        const label = `${name} with ${target.path.join('.')} = the victim's ${target.kind}`
        t.ok(a.data?.[field.name] == null && a.errors?.length, `${label}: refused (${JSON.stringify(a.errors)?.slice(0, 200)})`)
        const shape = (r: typeof a) => ({ status: r.status, codes: (r.errors ?? []).map((e) => [e.extensions?.code, (e.extensions?.errors ?? []).map((x: any) => x.pointer)]) })
        t.same(shape(a), shape(b), `${label}: indistinguishable from an id that does not exist`)
      }
    }
    t.same(await snapshot(ctx, doc, victim), victimBefore, 'the victim\'s workspace reads exactly as before')
  })
})

t.test('summary', async (t) => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0)
  for (const [matrix, n] of Object.entries(counts)) t.comment(`${matrix}: ${n} (route or field, case) pairs`)
  t.comment(`${total} (route or field, case) pairs in all, from ${secured.length} secured REST operations`)
  t.ok(total > 500, `${total} pairs ran`)
})

