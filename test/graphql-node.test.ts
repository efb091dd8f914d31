import { createHash } from 'node:crypto'
import t from 'tap'
import { build } from './helper.js'

t.test('node(id) and nodes(ids): Relay lookup that honours the workspace and the scopes', async (t) => {
  const { rest, gql, token } = await build(t)
  const contact = (await rest('POST', '/v1/contacts', { body: { displayName: 'Node person' } })).data
  const channel = (await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'Notes' } })).data
  const interaction = (await rest('POST', '/v1/interactions', { body: { contactId: contact.id, channelId: channel.id, direction: 'outbound', kind: 'note', body: 'hi' } })).data
  const promise = (await rest('POST', '/v1/promises', { body: { contactId: contact.id, description: 'call', dueAt: '2099-01-01T00:00:00Z' } })).data

  const query = `query ($id: ID!) { node(id: $id) { __typename id
    ... on Contact { displayName } ... on Channel { name } ... on Interaction { body } ... on Promise { description } } }`
  const expected: Array<[string, string, string, string]> = [
    [contact.id, 'Contact', 'displayName', 'Node person'],
    [channel.id, 'Channel', 'name', 'Notes'],
    [interaction.id, 'Interaction', 'body', 'hi'],
    [promise.id, 'Promise', 'description', 'call']
  ]
  for (const [id, type, field, value] of expected) {
    const res = await gql(query, { id })
    t.same(res.errors, undefined)
    t.equal(res.data.node.__typename, type)
    t.equal(res.data.node[field], value)
  }
  const unknown = await gql(query, { id: 'con_01h455vb4pex5vsknk084sn02q' })
  t.equal(unknown.data.node, null, 'an unknown id is null')
  const garbage = await gql(query, { id: 'nonsense' })
  t.equal(garbage.data.node, null)

  const globex = token({ workspace: 'globex' })
  for (const [id] of expected) t.equal((await gql(query, { id }, { token: globex })).data.node, null, 'another workspace reads null')

  const many = await gql('query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }', { ids: [promise.id, 'con_01h455vb4pex5vsknk084sn02q', contact.id, channel.id] })
  t.same(many.data.nodes.map((n: any) => n && n.__typename), ['Promise', null, 'Contact', 'Channel'], 'in the order asked')

  const noScope = await gql(query, { id: contact.id }, { token: token({ scopes: ['channels:read'] }) })
  t.equal(noScope.errors?.[0].extensions.code, 'auth.forbidden')
  const tooMany = await gql('query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids: Array.from({ length: 101 }, () => contact.id) })
  t.equal(tooMany.errors?.[0].extensions.code, 'validation.failed')
})

t.test('automatic persisted queries: the hash alone runs a query sent once', async (t) => {
  const { rest } = await build(t)
  await rest('POST', '/v1/contacts', { body: { displayName: 'Persisted' } })
  const query = '{ contacts(first: 5) { nodes { displayName } } }'
  const sha256Hash = createHash('sha256').update(query).digest('hex')
  const extensions = { persistedQuery: { version: 1, sha256Hash } }

  const unknown = await rest('POST', '/graphql', { body: { extensions } })
  t.match(unknown.data.errors[0].message, /PersistedQueryNotFound/, 'an unknown hash asks for the text')
  const first = await rest('POST', '/graphql', { body: { query, extensions } })
  t.same(first.data.data.contacts.nodes, [{ displayName: 'Persisted' }])
  const byHash = await rest('POST', '/graphql', { body: { extensions } })
  t.same(byHash.data.data.contacts.nodes, [{ displayName: 'Persisted' }], 'later calls send only the hash')
  const wrong = await rest('POST', '/graphql', { body: { query: '{ __typename }', extensions } })
  t.ok(wrong.data.errors, 'a text that does not match its hash is refused')
})

t.test('a query that is not a string is the client\'s mistake, not an internal error', async (t) => {
  const { rest } = await build(t)
  for (const query of [1, true, { kind: 'Document', definitions: [] }, ['x']]) {
    const res = await rest('POST', '/graphql', { body: { query } })
    t.equal(res.statusCode, 400, `query ${JSON.stringify(query)}`)
    t.equal(res.data.errors[0].extensions.code, 'graphql.invalid_query')
  }
  const viaGet = await rest('GET', '/graphql?query=%7B__typename%7D')
  t.equal(viaGet.statusCode, 200, 'a string query over GET still works')
})
