import t from 'tap'
import { allScopes } from '../src/lib/context.js'
import { build } from './helper.js'

// GraphQL look-ahead (src/graphql/lookahead.ts): a contact asked with the first page of its
// timeline is read with that page in one read scope (one workspace setting, one round trip on
// PostgreSQL) instead of two, one after the other, and the answer is the same as without it.
t.test('a contact with its first timeline page: one read, the same answer as REST', async (t) => {
  let counting = false
  const statements: string[] = []
  const { rest, gql, token } = await build(t, { config: { workers: false }, onQuery: (q) => { if (counting) statements.push(q) } })
  const contact = async (name: string, bodies: string[]) => {
    const c = (await rest('POST', '/v1/contacts', { body: { displayName: name } })).data
    for (const [k, body] of bodies.entries()) {
      await rest('POST', '/v1/interactions', { body: { contactId: c.id, direction: 'inbound', kind: 'note', body, occurredAt: new Date(Date.UTC(2026, 0, 1, k)).toISOString() } })
    }
    return c
  }
  const ann = await contact('Ann', ['a0', 'a1', 'a2'])
  const bob = await contact('Bob', ['b0'])
  const restPage = async (id: string, limit: number) => (await rest('GET', `/v1/contacts/${id}/timeline?limit=${limit}`)).data
  const query = 'query ($id: ID!, $n: Int) { contact(id: $id) { id displayName timeline(first: $n) { totalCount nodes { id body } pageInfo { hasNextPage endCursor } } } }'
  const readScopes = () => statements.filter((s) => /set_config\('app\.workspace_id'|set_config\('role'/.test(s)).length
  const ask = async (variables: Record<string, unknown>, o: { token?: string } = {}) => {
    statements.length = 0
    counting = true
    const res = await gql(query, variables, o)
    counting = false
    return res
  }

  const res = await ask({ id: ann.id, n: 2 })
  t.same(res.errors, undefined)
  const expected = await restPage(ann.id, 2)
  t.same(res.data.contact.timeline.nodes.map((i: any) => i.id), expected.data.map((i: any) => i.id), 'the same two interactions as REST, newest first')
  t.equal(res.data.contact.timeline.pageInfo.hasNextPage, true)
  t.equal(res.data.contact.timeline.totalCount, 3)
  const withCount = readScopes()
  const plain = await ask({ id: ann.id, n: 2 })
  t.same(plain.data, res.data, 'asked again: the same answer')

  // Without totalCount: the contact and its page are one read.
  const noCount = 'query ($id: ID!) { contact(id: $id) { id timeline(first: 5) { nodes { id } } } }'
  statements.length = 0
  counting = true
  const one = await gql(noCount, { id: bob.id })
  counting = false
  t.same(one.data.contact.timeline.nodes.map((i: any) => i.id), (await restPage(bob.id, 5)).data.map((i: any) => i.id))
  t.equal(readScopes(), 1, `a contact and its timeline page: one read scope (${statements.length} statements)`)
  t.comment(`with totalCount: ${withCount} read scopes`)

  // A later page (after a cursor) is not read ahead, and still right.
  const after = 'query ($id: ID!, $c: String) { contact(id: $id) { timeline(first: 2, after: $c) { nodes { id } } } }'
  const next = await gql(after, { id: ann.id, c: res.data.contact.timeline.pageInfo.endCursor })
  t.same(next.data.contact.timeline.nodes.map((i: any) => i.id), (await restPage(ann.id, 3)).data.slice(2).map((i: any) => i.id), 'the page after the cursor')

  // Two aliases with different sizes: each gets its own page.
  const two = await gql('query ($id: ID!) { contact(id: $id) { a: timeline(first: 1) { nodes { id } } b: timeline(first: 3) { nodes { id } } } }', { id: ann.id })
  t.same(two.errors, undefined)
  t.equal(two.data.contact.a.nodes.length, 1)
  t.equal(two.data.contact.b.nodes.length, 3)

  // A merged contact's old id resolves to the survivor: its page is the survivor's timeline.
  t.equal((await rest('POST', `/v1/contacts/${ann.id}/merge`, { body: { contactId: bob.id } })).statusCode, 200)
  const merged = await gql(noCount, { id: bob.id })
  t.same(merged.errors, undefined)
  t.equal(merged.data.contact.id, ann.id, 'the old id resolves to the survivor')
  t.same(merged.data.contact.timeline.nodes.map((i: any) => i.id), (await restPage(ann.id, 5)).data.map((i: any) => i.id), 'with the survivor\'s whole timeline, not the page read for the old id')
  t.equal(merged.data.contact.timeline.nodes.length, 4)

  // A token without interactions:read gets the contact and a forbidden timeline, nothing read ahead.
  const contactsOnly = token({ scopes: allScopes.filter((s) => s !== 'interactions:read') })
  const denied = await ask({ id: ann.id, n: 2 }, { token: contactsOnly })
  t.equal(denied.data?.contact ?? null, null, 'the non-null timeline field fails its contact')
  t.equal(denied.errors?.[0]?.extensions?.code, 'auth.forbidden', 'the same code as REST')
  t.notOk(statements.some((s) => /from "interactions"|from interactions/i.test(s)), 'no interaction was read')
})
