import t from 'tap'
import { GraphQLRequestError, run, execute, NewestContacts } from '../examples/graphql-client/client.js'
import { build } from './helper.js'

t.test('the typed GraphQL client example runs its query and mutation against a live server', async (t) => {
  const { app, token } = await build(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const endpoint = { url: `http://127.0.0.1:${port}`, token: token() }

  const out = await run(endpoint)
  t.match(out.contactId, /^con_/)
  t.equal(out.primaryEmail, 'grace@example.com')
  t.same(out.listedIds, [out.contactId], 'the created contact is listed under its tag')
  t.equal(out.totalCount, 1)
  t.same(out.cost, { requested: 10 + 10 * 3, limit: 50_000 }, 'the cost the server reported')

  const refused = await execute(endpoint, NewestContacts, { first: 101 }).catch((err: unknown) => err)
  t.ok(refused instanceof GraphQLRequestError, 'server errors come back typed')
  t.equal((refused as GraphQLRequestError).errors[0].extensions?.code, 'validation.failed')

  const other = await execute({ ...endpoint, token: token({ workspace: 'globex' }) }, NewestContacts, { first: 10, tag: 'typed-client' })
  t.equal(other.data.contacts.totalCount, 0, 'another workspace sees none of it')
})
