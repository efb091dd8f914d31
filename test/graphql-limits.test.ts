import t from 'tap'
import { build } from './helper.js'

// One server for the whole file: a small budget and few aliases make every limit easy to reach.
const { gql, rest } = await build(t, { config: { graphql: { maxCost: 100, maxAliases: 3 } } })

t.test('extensions.cost: GitHub-style node count, page sizes multiplied down nested connections', async (t) => {

  const flat = await gql('{ contacts(first: 10) { nodes { id } } }')
  t.same(flat.errors, undefined)
  t.same(flat.res.data.extensions.cost, { requested: 10, limit: 100 })

  const defaults = await gql('{ contacts { nodes { id } } }')
  t.same(defaults.res.data.extensions.cost, { requested: 25, limit: 100 }, 'an omitted first counts at its schema default')

  const nested = await gql(`query ($n: Int) { contacts(first: $n) { nodes { timeline(first: 5) { nodes { id } } promises(last: 3) { nodes { id } } } } }`, { n: 10 })
  t.same(nested.errors, undefined)
  t.same(nested.res.data.extensions.cost, { requested: 10 + 10 * 5 + 10 * 3, limit: 100 }, 'variables, first and last down nested connections')

  const fragments = await gql(`{ contacts(first: 4) { ...C } } fragment C on ContactConnection { nodes { ... on Contact { timeline(first: 2) { nodes { id } } } } }`)
  t.same(fragments.res.data.extensions.cost, { requested: 4 + 8, limit: 100 }, 'named and inline fragments count')

  const plain = await gql('{ workspace { id } }')
  t.same(plain.res.data.extensions.cost, { requested: 0, limit: 100 }, 'no connection, no nodes')

  const byIds = await gql(`query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Contact { timeline(first: 5) { nodes { id } } } } }`,
    { ids: ['con_01h455vb4pex5vsknk084sn02q', 'con_01h455vb4pex5vsknk084sn02r', 'con_01h455vb4pex5vsknk084sn02s'] })
  t.same(byIds.errors, undefined)
  t.same(byIds.res.data.extensions.cost, { requested: 3 + 3 * 5, limit: 100 }, 'nodes(ids:) counts each id, and its nested pages once per id')
  const literalIds = await gql(`{ nodes(ids: ["con_01h455vb4pex5vsknk084sn02q", "con_01h455vb4pex5vsknk084sn02r"]) { id } }`)
  t.same(literalIds.res.data.extensions.cost, { requested: 2, limit: 100 })
})

t.test('an over-budget query is refused before anything runs', async (t) => {
  const over = await gql('{ contacts(first: 100) { nodes { timeline(first: 2) { nodes { id } } } } }')
  t.equal(over.status, 400)
  t.notOk('data' in over.res.data, 'nothing ran: no data entry')
  t.equal(over.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded')
  t.same(over.errors?.[0].extensions.cost, { requested: 300, limit: 100 })
  t.match(over.errors?.[0].message, /300 nodes.*limit is 100/)

  const mutation = await gql(`mutation { createContact(input: { displayName: "Never" }) { contact { timeline(first: 100) { nodes { id } } promises(first: 100) { nodes { id } } } } }`)
  t.equal(mutation.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded')
  t.same((await rest('GET', '/v1/contacts')).data.data, [], 'the refused mutation did not run')

  const byVariable = await gql('query ($n: Int) { contacts(first: $n) { nodes { id } } }', { n: 101 })
  t.equal(byVariable.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded', 'page sizes in variables count too')

  const manyIds = await gql('query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Contact { timeline(first: 20) { nodes { id } } } } }',
    { ids: Array.from({ length: 10 }, () => 'con_01h455vb4pex5vsknk084sn02q') })
  t.equal(manyIds.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded', 'a page nested under many ids is paid for per id')
  t.same(manyIds.errors?.[0].extensions.cost, { requested: 10 + 10 * 20, limit: 100 })

  const byDefault = await gql('query ($n: Int = 101) { contacts(first: $n) { nodes { id } } }')
  t.equal(byDefault.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded', "a variable left out counts at the operation's default value")
  t.same(byDefault.errors?.[0].extensions.cost, { requested: 101, limit: 100 })
  const manyIdsByDefault = await gql(`query ($ids: [ID!]! = [${Array.from({ length: 10 }, () => '"con_01h455vb4pex5vsknk084sn02q"').join(', ')}]) { nodes(ids: $ids) { ... on Contact { timeline(first: 20) { nodes { id } } } } }`)
  t.equal(manyIdsByDefault.errors?.[0].extensions.code, 'graphql.cost_limit_exceeded', "ids given by the operation's default value are paid for per id too")
  t.same(manyIdsByDefault.errors?.[0].extensions.cost, { requested: 10 + 10 * 20, limit: 100 })

  const atLimit = await gql('{ contacts(first: 50) { nodes { timeline(first: 1) { nodes { id } } } } }')
  t.same(atLimit.errors, undefined, 'exactly the limit runs')
  t.same(atLimit.res.data.extensions.cost, { requested: 100, limit: 100 })
})

t.test('alias limit: a document with too many aliased fields is refused', async (t) => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: workspace { id }`).join(' ')
  const ok = await gql(`{ ${fields(3)} }`)
  t.same(ok.errors, undefined)
  t.ok(ok.data.a2.id)
  const over = await gql(`{ ${fields(4)} }`)
  t.equal(over.status, 400)
  t.equal(over.errors?.length, 1, 'one error, not one per alias')
  t.equal(over.errors?.[0].extensions.code, 'graphql.alias_limit_exceeded')
  t.equal(over.errors?.[0].extensions.limit, 3)
  const inFragment = await gql(`{ ...F } fragment F on Query { ${fields(4)} }`)
  t.equal(inFragment.errors?.[0].extensions.code, 'graphql.alias_limit_exceeded', 'aliases inside fragments count')
})

t.test('the standard introspection query stays within the limits', async (t) => {
  const { getIntrospectionQuery } = await import('graphql')
  const res = await gql(getIntrospectionQuery())
  t.same(res.errors, undefined)
  t.ok(res.data.__schema.types.length > 10)
})
