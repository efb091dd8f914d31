import t from 'tap'
import { build } from './helper.js'

// Nested fields go through loaders: the number of SQL statements for a page of contacts with
// their timelines, identities and promises (with their evidence and history) must not grow with the number of contacts.
t.test('a page of contacts with nested timelines, identities and promises: no N+1', async (t) => {
  let counting = false
  let statements = 0
  const { rest, gql } = await build(t, { config: { workers: false }, onQuery: () => { if (counting) statements++ } })
  const seed = async (n: number, prefix: string) => {
    for (let i = 0; i < n; i++) {
      const c = (await rest('POST', '/v1/contacts', { body: { displayName: `${prefix}${i}`, tags: [prefix] } })).data
      await rest('POST', `/v1/contacts/${c.id}/identities`, { body: { kind: 'phone', address: `+1415555${String(1000 + i + (prefix === 'b' ? 500 : 0))}` } })
      for (let k = 0; k < 3; k++) await rest('POST', '/v1/interactions', { body: { contactId: c.id, direction: k % 2 ? 'outbound' : 'inbound', kind: 'note', body: `${prefix}${i}-${k}`, occurredAt: new Date(Date.UTC(2026, 0, 1, i, k)).toISOString() } })
      await rest('POST', '/v1/promises', { body: { contactId: c.id, description: `p${i}`, dueAt: '2099-01-01T00:00:00Z' } })
    }
  }
  const query = `query ($tag: String) { contacts(first: 50, filter: { tag: $tag }) { nodes { id displayName
    timeline(first: 2) { totalCount nodes { id body contact { id } channel { id } promisesMade(first: 5) { nodes { id } } } pageInfo { hasNextPage } }
    identities { nodes { kind address } }
    merges(first: 3) { totalCount nodes { id } }
    promises(first: 5, status: OPEN) { totalCount nodes { id contact { id } keptBy(first: 2) { totalCount nodes { id } } events(first: 3) { totalCount nodes { type } } } } } } }`
  const measure = async (tag: string) => {
    statements = 0
    counting = true
    const res = await gql(query, { tag })
    counting = false
    t.same(res.errors, undefined)
    return { statements, nodes: res.data.contacts.nodes }
  }
  await seed(2, 'a')
  const small = await measure('a')
  await seed(12, 'b')
  const large = await measure('b')
  t.equal(small.nodes.length, 2)
  t.equal(large.nodes.length, 12)
  for (const n of large.nodes) {
    t.equal(n.timeline.nodes.length, 2, 'two latest interactions each')
    t.ok(n.timeline.pageInfo.hasNextPage, 'and a next page')
    t.ok(n.timeline.nodes.every((i: any) => i.contact.id === n.id), 'each under its own contact')
    t.equal(n.identities.nodes.length, 1)
    t.same(n.merges, { totalCount: 0, nodes: [] }, 'Contact.merges through its loader')
    t.equal(n.timeline.totalCount, 3, 'nested totalCount: one grouped COUNT for the page')
    t.equal(n.promises.totalCount, 1)
    t.same(n.promises.nodes[0].keptBy, { totalCount: 0, nodes: [] }, 'Promise.keptBy through its loader')
    t.same(n.promises.nodes[0].events, { totalCount: 1, nodes: [{ type: 'MADE' }] }, 'Promise.events: one statement for every promise of the page')
  }
  const rest3 = (await rest('GET', `/v1/contacts/${large.nodes[0].id}/timeline?limit=2`)).data.data.map((i: any) => i.id)
  t.same(large.nodes[0].timeline.nodes.map((i: any) => i.id), rest3, 'the same two as REST')
  t.comment(`statements: ${small.statements} for 2 contacts, ${large.statements} for 12`)
  t.ok(large.statements <= small.statements + 2, `statement count does not grow with contacts (${small.statements} → ${large.statements})`)
})
