import t from 'tap'
import { build } from './helper.js'
import { asWorkspace } from './support/channels/index.js'

// API keys through GraphQL: the REST service behind another transport (scope admin), each answer
// compared with what REST returns for the same key.

const ctx = await build(t)
const keyFields = 'id name prefix scopes createdBy createdAt lastUsedAt expiresAt revokedAt version'
const CREATE = `mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${keyFields} } } }`
const REVOKE = `mutation ($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { ${keyFields} } } }`
const codeOf = (res: { errors?: Array<{ extensions: Record<string, any> }> }) => res.errors?.[0]?.extensions.code
const pointersOf = (res: { errors?: Array<{ extensions: Record<string, any> }> }) => (res.errors?.[0]?.extensions.errors ?? []).map((e: any) => e.pointer)

t.test('create (the secret once, usable), read, list, revoke with expectedVersion: as REST', async (t) => {
  const w = asWorkspace(ctx, 'gak1')
  const created = await w.gql(CREATE, { input: { name: 'ERP sync', scopes: ['contacts:read', 'contacts:write'], expiresAt: '2031-01-01T00:00:00+02:00' } })
  t.notOk(created.errors, JSON.stringify(created.errors))
  t.equal(created.res.headers['cache-control'], 'no-store', 'the answer holding the secret is not cached')
  const { secret, apiKey } = created.data.createApiKey
  t.match(secret, /^rpk_live_[A-Za-z0-9_-]{43}$/)
  t.ok(secret.startsWith(apiKey.prefix))
  t.match(apiKey, { name: 'ERP sync', scopes: ['contacts:read', 'contacts:write'], expiresAt: '2030-12-31T22:00:00.000Z', revokedAt: null, lastUsedAt: null, version: 1 })
  const id = apiKey.id
  t.match(id, /^key_/)

  const rest = await w.rest('GET', `/v1/api-keys/${id}`)
  t.same(apiKey, rest.data, 'the created key is what REST reads')
  const read = await w.gql(`query ($id: ID!) { apiKey(id: $id) { ${keyFields} } node(id: $id) { __typename id } }`, { id })
  t.same(read.data.apiKey, rest.data, 'apiKey(id) is what REST reads')
  t.same(read.data.node, { __typename: 'ApiKey', id })

  // The key works, as a bearer token.
  t.equal((await ctx.rest('GET', '/v1/contacts', { token: secret })).statusCode, 200, 'the secret authenticates')
  const second = await w.gql(CREATE, { input: { name: 'second', scopes: ['webhooks:read'] } })
  t.equal(second.data.createApiKey.apiKey.expiresAt, null)
  const restList = await w.rest('GET', '/v1/api-keys')
  const list = await w.gql(`{ apiKeys { totalCount nodes { ${keyFields} } } }`)
  t.same(list.data.apiKeys.nodes, restList.data.data, 'the connection lists what REST lists (lastUsedAt included), newest first')
  t.equal(list.data.apiKeys.totalCount, 2)
  const last = await w.gql('{ apiKeys(last: 1) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }')
  t.same(last.data.apiKeys.nodes, [{ id }])
  t.match(last.data.apiKeys.pageInfo, { hasPreviousPage: true, hasNextPage: false })
  const page = await w.gql('{ apiKeys(first: 1) { nodes { id } pageInfo { endCursor } } }')
  const rest2 = await w.gql('query ($a: String) { apiKeys(first: 1, after: $a) { nodes { id } } }', { a: page.data.apiKeys.pageInfo.endCursor })
  t.same(rest2.data.apiKeys.nodes, [{ id }])

  const stale = await w.gql(REVOKE, { input: { id, expectedVersion: 5 } })
  t.equal(codeOf(stale), 'precondition.failed')
  t.equal(stale.errors?.[0].extensions.currentVersion, 1)
  const revoked = await w.gql(REVOKE, { input: { id, expectedVersion: 1 } })
  t.notOk(revoked.errors, JSON.stringify(revoked.errors))
  t.match(revoked.data.revokeApiKey.apiKey, { id, version: 2 })
  t.ok(revoked.data.revokeApiKey.apiKey.revokedAt)
  t.same(revoked.data.revokeApiKey.apiKey, (await w.rest('GET', `/v1/api-keys/${id}`)).data, 'the revoked key is what REST reads')
  t.equal((await ctx.rest('GET', '/v1/contacts', { token: secret })).statusCode, 401, 'the key fails from the next request')
  const again = await w.gql(REVOKE, { input: { id } })
  t.equal(again.data.revokeApiKey.apiKey.version, 2, 'revoking a revoked key changes nothing (as REST)')
})

t.test('the secret is never readable later, nor stored by Idempotency-Key', async (t) => {
  const w = asWorkspace(ctx, 'gak2')
  const asked = await w.gql('{ apiKeys { nodes { id secret } } }')
  t.equal(codeOf(asked), 'graphql.invalid_query')
  const body = { query: CREATE, variables: { input: { name: 'retry', scopes: ['contacts:read'] } } }
  const a = await w.rest('POST', '/graphql', { body, headers: { 'idempotency-key': 'gql-key-1' } })
  const b = await w.rest('POST', '/graphql', { body, headers: { 'idempotency-key': 'gql-key-1' } })
  t.equal(a.statusCode, 200)
  t.not(b.headers['idempotent-replayed'], 'true', 'no stored answer replays the secret')
  t.not(a.data.data.createApiKey.secret, b.data.data.createApiKey.secret, 'the retry ran again')
})

t.test('validation: the REST schema and rules, with field pointers', async (t) => {
  const w = asWorkspace(ctx, 'gak3')
  const cases: Array<[Record<string, unknown>, string[]]> = [
    [{ name: '', scopes: ['contacts:read'] }, ['/name']],
    [{ name: 'x', scopes: [] }, ['/scopes']],
    [{ name: 'x', scopes: ['contacts:read', 'everything'] }, ['/scopes/1']],
    [{ name: 'x', scopes: ['contacts:read'], expiresAt: '2001-01-01T00:00:00Z' }, ['/expiresAt']]
  ]
  for (const [input, pointers] of cases) {
    const res = await w.gql(CREATE, { input })
    t.equal(codeOf(res), 'validation.failed', JSON.stringify(input))
    t.same(pointersOf(res), pointers, `${JSON.stringify(input)}: ${pointers}`)
  }
  const bad = await w.gql('{ apiKeys(first: 0) { totalCount } }')
  t.same(pointersOf(bad), ['/first'])
  t.equal((await w.rest('GET', '/v1/api-keys')).data.data.length, 0, 'nothing was created')
})

t.test('scopes: admin for every field, and no key wider than its creator', async (t) => {
  const w = asWorkspace(ctx, 'gak4')
  const { data } = await w.gql(CREATE, { input: { name: 'k', scopes: ['contacts:read'] } })
  const id = data.createApiKey.apiKey.id
  const notAdmin = w.token({ scopes: ['contacts:read', 'webhooks:read', 'webhooks:write'] })
  const calls: Array<[string, Record<string, unknown>]> = [
    ['{ apiKeys { totalCount } }', {}],
    ['query ($id: ID!) { apiKey(id: $id) { id } }', { id }],
    ['query ($id: ID!) { node(id: $id) { id } }', { id }],
    [CREATE, { input: { name: 'x', scopes: ['contacts:read'] } }],
    [REVOKE, { input: { id } }]
  ]
  for (const [query, variables] of calls) {
    const res = await w.gql(query, variables, { token: notAdmin })
    t.match(res.errors?.[0]?.extensions, { code: 'auth.forbidden', requiredScope: 'admin' }, `${query.slice(0, 50)}…`)
  }
  const narrow = w.token({ scopes: ['admin', 'contacts:read'] })
  const wider = await w.gql(CREATE, { input: { name: 'wider', scopes: ['contacts:write'] } }, { token: narrow })
  t.match(wider.errors?.[0]?.extensions, { code: 'auth.forbidden', requiredScope: 'contacts:write' }, 'a key never gets a scope its creator lacks')
  t.equal((await w.rest('GET', `/v1/api-keys/${id}`)).data.revokedAt, null, 'nothing revoked')
})

t.test('tenancy: another workspace\'s key is not found', async (t) => {
  const victim = asWorkspace(ctx, 'gak5')
  const attacker = asWorkspace(ctx, 'gak6')
  const { data } = await victim.gql(CREATE, { input: { name: 'victim', scopes: ['contacts:read'] } })
  const id = data.createApiKey.apiKey.id
  t.equal(codeOf(await attacker.gql('query ($id: ID!) { apiKey(id: $id) { id } }', { id })), 'apikey.not_found')
  t.equal(codeOf(await attacker.gql(REVOKE, { input: { id } })), 'apikey.not_found')
  t.same((await attacker.gql('query ($id: ID!) { node(id: $id) { id } }', { id })).data, { node: null })
  t.same((await attacker.gql('{ apiKeys { totalCount nodes { id } } }')).data.apiKeys, { totalCount: 0, nodes: [] })
  t.match((await victim.rest('GET', `/v1/api-keys/${id}`)).data, { revokedAt: null, version: 1 }, 'the victim\'s key is unchanged')
})
