import { sql } from 'drizzle-orm'
import t from 'tap'
import { inWorkspace, readInWorkspace } from '../src/db/tenant.js'
import { build } from './helper.js'

t.test('another workspace\'s ids read as 404 and change nothing, REST and GraphQL', async (t) => {
  const { rest, gql, token } = await build(t)
  const acme = token({ workspace: 'acme' })
  const globex = token({ workspace: 'globex' })
  const mine = await rest('POST', '/v1/contacts', { token: acme, body: { displayName: 'Acme person', emails: ['p@acme.example'], externalId: 'a-1', tags: ['t'] } })
  const id = mine.data.id

  for (const [method, url, body] of [['GET', `/v1/contacts/${id}`], ['PATCH', `/v1/contacts/${id}`, { title: 'hacked' }], ['DELETE', `/v1/contacts/${id}`]] as const) {
    const res = await rest(method, url, { token: globex, body })
    t.equal(res.statusCode, 404, `${method} from another workspace`)
    t.equal(res.data.code, 'contact.not_found')
  }
  for (const filter of ['', '?email=p@acme.example', '?externalId=a-1', '?q=Acme', '?tag=t']) {
    t.same((await rest('GET', `/v1/contacts${filter}`, { token: globex })).data.data, [], `list${filter} shows nothing of acme`)
  }
  const g = await gql('query ($id: ID!) { contact(id: $id) { id displayName } }', { id }, { token: globex })
  t.equal(g.data.contact, null)
  t.equal(g.errors?.[0].extensions.code, 'contact.not_found')
  const gu = await gql('mutation ($id: ID!) { updateContact(input: { id: $id, title: "hacked" }) { contact { id } } }', { id }, { token: globex })
  t.equal(gu.errors?.[0].extensions.code, 'contact.not_found')
  const gd = await gql('mutation ($id: ID!) { deleteContact(input: { id: $id }) { deletedContactId } }', { id }, { token: globex })
  t.equal(gd.errors?.[0].extensions.code, 'contact.not_found')
  t.same((await gql('{ contacts(first: 10) { nodes { id } } }', {}, { token: globex })).data.contacts.nodes, [])

  const after = await rest('GET', `/v1/contacts/${id}`, { token: acme })
  t.equal(after.statusCode, 200)
  t.equal(after.data.title, null, 'unchanged')
  t.equal(after.data.version, 1, 'unchanged')
})

t.test('row-level security: a query without the workspace filter still leaks nothing', async (t) => {
  const { rest, token, database } = await build(t)
  await rest('POST', '/v1/contacts', { token: token({ workspace: 'acme' }), body: { displayName: 'A1', emails: ['a1@x.example'] } })
  await rest('POST', '/v1/contacts', { token: token({ workspace: 'acme' }), body: { displayName: 'A2' } })
  await rest('POST', '/v1/contacts', { token: token({ workspace: 'globex' }), body: { displayName: 'G1', emails: ['g1@x.example'] } })

  // Deliberately unfiltered queries, run the way every request runs them.
  const unfiltered = async (workspaceId: string, query: ReturnType<typeof sql>) =>
    inWorkspace(database.db, workspaceId, async (tx) => (await tx.execute(query)) as unknown as { rows?: unknown[] } & unknown[])
  const rowsOf = (r: any): any[] => Array.isArray(r) ? r : r.rows

  const acmeContacts = rowsOf(await unfiltered('acme', sql`select display_name, workspace_id from contacts order by display_name`))
  t.same(acmeContacts.map((r) => r.display_name), ['A1', 'A2'])
  const globexEmails = rowsOf(await unfiltered('globex', sql`select email from contact_emails`))
  t.same(globexEmails.map((r) => r.email), ['g1@x.example'])
  const nobody = rowsOf(await unfiltered('initech', sql`select * from contacts`))
  t.same(nobody, [], 'a workspace with no rows sees none')

  const updated = rowsOf(await unfiltered('globex', sql`update contacts set title = 'hacked' returning id`))
  t.equal(updated.length, 1, 'an unfiltered update touches only the own workspace')
  await t.rejects(unfiltered('globex', sql`insert into contacts (workspace_id, id, display_name) values ('acme', 'con_forged', 'Forged')`),
    'writing a row into another workspace is refused by the policy')
  const acmeTitles = rowsOf(await unfiltered('acme', sql`select title from contacts`))
  t.same(acmeTitles.map((r) => r.title), [null, null], 'acme rows untouched')
})

// Reads (every GET) run on the read pool on PostgreSQL: connections opened as the non-owner role,
// read only, the workspace set per use without a transaction (src/db/tenant.ts). The same
// guarantees must hold there, including when uses of one connection alternate between workspaces.
t.test('row-level security on the read path: unfiltered reads see one workspace, writes are refused', async (t) => {
  const { rest, token, database } = await build(t)
  await rest('POST', '/v1/contacts', { token: token({ workspace: 'acme' }), body: { displayName: 'A1' } })
  await rest('POST', '/v1/contacts', { token: token({ workspace: 'globex' }), body: { displayName: 'G1' } })
  const rowsOf = (r: any): any[] => Array.isArray(r) ? r : r.rows
  const read = async (workspaceId: string, query: ReturnType<typeof sql>) =>
    rowsOf(await readInWorkspace(database.db, workspaceId, async (tx) => tx.execute(query)))

  // Many alternating uses, concurrently, over the pool's few connections: no use sees another's rows.
  const seen = await Promise.all(Array.from({ length: 40 }, (_, i) => {
    const ws = ['acme', 'globex', 'initech'][i % 3]
    return read(ws, sql`select display_name from contacts`).then((rows) => ({ ws, names: rows.map((r) => r.display_name) }))
  }))
  const expected: Record<string, string[]> = { acme: ['A1'], globex: ['G1'], initech: [] }
  t.same(seen.filter((s) => JSON.stringify(s.names) !== JSON.stringify(expected[s.ws])), [], 'every read saw exactly its own workspace')
  await t.rejects(read('acme', sql`update contacts set title = 'hacked' returning id`), 'a write on the read path is refused')
  t.same(rowsOf(await read('acme', sql`select title from contacts`)).map((r) => r.title), [null], 'nothing was written')
  // A failing read leaves its connection fit for the next user.
  await t.rejects(read('acme', sql`select 1 / 0`))
  t.same((await read('globex', sql`select display_name from contacts`)).map((r) => r.display_name), ['G1'])
})
