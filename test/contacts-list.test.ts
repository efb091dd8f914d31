import t from 'tap'
import { build, type TestApp } from './helper.js'

async function seed (rest: TestApp['rest'], n: number, make: (i: number) => Record<string, unknown> = (i) => ({ displayName: `Person ${i}` })) {
  const ids: string[] = []
  for (let i = 0; i < n; i++) ids.push((await rest('POST', '/v1/contacts', { body: make(i) })).data.id)
  return ids
}

t.test('REST pagination: limit, opaque cursor, Link header, no row lost or repeated under concurrent inserts', async (t) => {
  const { rest } = await build(t)
  const ids = await seed(rest, 23)
  const first = await rest('GET', '/v1/contacts')
  t.equal(first.data.data.length, 23, 'default limit 25 holds them all')
  t.equal(first.data.nextCursor, null)
  t.notOk(first.headers.link)
  t.same(first.data.data.map((c: any) => c.id), [...ids].reverse(), 'newest first')

  const seen: string[] = []
  const inserted: string[] = []
  let url: string | null = '/v1/contacts?limit=5'
  let pages = 0
  while (url) {
    const page: any = await rest('GET', url)
    t.equal(page.statusCode, 200)
    t.ok(page.data.data.length <= 5)
    seen.push(...page.data.data.map((c: any) => c.id))
    pages++
    if (pages === 2) inserted.push(...await seed(rest, 3, (i) => ({ displayName: `Late ${i}` })))
    if (page.data.nextCursor) {
      t.equal(page.headers.link, `</v1/contacts?limit=5&after=${page.data.nextCursor}>; rel="next"`)
      url = page.headers.link.slice(1, page.headers.link.indexOf('>'))
    } else {
      t.notOk(page.headers.link)
      url = null
    }
  }
  t.equal(pages, 5)
  t.same(seen, [...ids].reverse(), 'every row that existed when paging began, once, in order')
  t.equal(new Set(seen).size, seen.length, 'no repeats')
  t.notOk(inserted.some((id) => seen.includes(id)), 'rows inserted meanwhile sort before the cursor and do not shift pages')

  const bad = await rest('GET', '/v1/contacts?after=bm9wZQ')
  t.equal(bad.statusCode, 400)
  t.equal(bad.data.code, 'request.invalid_cursor')
})

t.test('filters and search: q, tag, email, externalId, updatedSince', async (t) => {
  const { rest } = await build(t)
  await seed(rest, 4, (i) => [
    { givenName: 'Marie', familyName: 'Curie', emails: ['marie@radium.example'], company: 'Sorbonne', tags: ['science', 'nobel'] },
    { displayName: 'Pierre Curie', phones: ['+33 1 42 34 56 78'], tags: ['science'], externalId: 'pc-1' },
    { displayName: 'Ada', company: 'Engines 100% Ltd', emails: ['ada@engines.example'] },
    { displayName: 'Alan', attributes: { curie: true } }
  ][i])
  const names = async (query: string) => (await rest('GET', `/v1/contacts${query}`)).data.data.map((c: any) => c.displayName).sort()
  t.same(await names('?q=curie'), ['Marie Curie', 'Pierre Curie'], 'by name, case-insensitive')
  t.same(await names('?q=RADIUM'), ['Marie Curie'], 'by e-mail')
  t.same(await names('?q=sorbonne'), ['Marie Curie'], 'by company')
  t.same(await names('?q=42%2034%2056'), ['Pierre Curie'], 'by phone digits, whatever the formatting')
  t.same(await names('?q=100%25'), ['Ada'], 'LIKE wildcards are matched literally')
  t.same(await names('?q=_'), [], 'an underscore is not a wildcard')
  t.same(await names('?tag=science'), ['Marie Curie', 'Pierre Curie'])
  t.same(await names('?tag=nobel&q=curie'), ['Marie Curie'], 'filters combine')
  t.same(await names('?email=ADA@engines.example'), ['Ada'], 'email filter normalizes case')
  t.same(await names('?externalId=pc-1'), ['Pierre Curie'])
  t.same(await names('?externalId=none'), [])

  const all = (await rest('GET', '/v1/contacts')).data.data
  const alan = all.find((c: any) => c.displayName === 'Alan')
  const since = new Date(Date.parse(all[0].updatedAt) + 1).toISOString()
  await new Promise((resolve) => setTimeout(resolve, 5))
  await rest('PATCH', `/v1/contacts/${alan.id}`, { body: { title: 'Dr' } })
  t.same(await names(`?updatedSince=${encodeURIComponent(since)}`), ['Alan'], 'only what changed since')
})

t.test('GraphQL connection: first/after, pageInfo, filter, same order as REST', async (t) => {
  const { rest, gql } = await build(t)
  const ids = await seed(rest, 7, (i) => ({ displayName: `P${i}`, tags: i % 2 ? ['odd'] : [] }))
  const query = `query ($after: String, $filter: ContactFilter) { contacts(first: 3, after: $after, filter: $filter) {
    edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
  const seen: string[] = []
  let after: string | null = null
  let hasNext = true
  while (hasNext) {
    const res: any = await gql(query, { after })
    t.same(res.errors, undefined)
    const conn = res.data.contacts
    t.same(conn.edges.map((e: any) => e.node.id), conn.nodes.map((n: any) => n.id))
    t.equal(conn.pageInfo.hasPreviousPage, after !== null)
    t.equal(conn.pageInfo.endCursor, conn.edges[conn.edges.length - 1].cursor)
    seen.push(...conn.nodes.map((n: any) => n.id))
    hasNext = conn.pageInfo.hasNextPage
    after = conn.pageInfo.endCursor
  }
  t.same(seen, [...ids].reverse())
  const rest2 = await rest('GET', '/v1/contacts?limit=3')
  const g2 = await gql(query, {})
  t.equal(g2.data.contacts.pageInfo.endCursor, rest2.data.nextCursor, 'one cursor format for both transports')

  const odd = await gql(query, { filter: { tag: 'odd' } })
  t.equal(odd.data.contacts.nodes.length, 3)
  const tooMany = await gql('{ contacts(first: 101) { nodes { id } } }')
  t.equal(tooMany.errors?.[0].extensions.code, 'validation.failed')
  t.equal(tooMany.errors?.[0].extensions.errors[0].pointer, '/first')
})
