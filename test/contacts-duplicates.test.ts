import t from 'tap'
import { build } from './helper.js'

t.test('duplicate e-mail or externalId: 409 naming the existing contact, REST and GraphQL', async (t) => {
  const { rest, gql } = await build(t)
  const first = await rest('POST', '/v1/contacts', { body: { displayName: 'First', emails: ['dup@example.com'], externalId: 'ext-1' } })
  t.equal(first.statusCode, 201)
  const id = first.data.id

  const byEmail = await rest('POST', '/v1/contacts', { body: { displayName: 'Second', emails: ['DUP@example.com'] } })
  t.equal(byEmail.statusCode, 409)
  t.equal(byEmail.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(byEmail.data.code, 'contact.duplicate')
  t.equal(byEmail.data.existingContactId, id)
  t.equal(byEmail.data.field, 'email')

  const byExternal = await rest('POST', '/v1/contacts', { body: { displayName: 'Third', externalId: 'ext-1' } })
  t.equal(byExternal.statusCode, 409)
  t.equal(byExternal.data.existingContactId, id)
  t.equal(byExternal.data.field, 'externalId')

  const other = await rest('POST', '/v1/contacts', { body: { displayName: 'Other', emails: ['other@example.com'] } })
  const patch = await rest('PATCH', `/v1/contacts/${other.data.id}`, { body: { emails: ['dup@example.com'] } })
  t.equal(patch.statusCode, 409)
  t.equal(patch.data.existingContactId, id)
  const selfPatch = await rest('PATCH', `/v1/contacts/${id}`, { body: { emails: ['dup@example.com', 'more@example.com'], externalId: 'ext-1' } })
  t.equal(selfPatch.statusCode, 200, 'keeping its own e-mail is not a duplicate')

  const g = await gql('mutation { createContact(input: { displayName: "G", emails: [{ address: "dup@example.com" }] }) { contact { id } } }')
  t.equal(g.errors?.[0].extensions.code, 'contact.duplicate')
  t.equal(g.errors?.[0].extensions.existingContactId, id)

  const list = await rest('GET', '/v1/contacts')
  t.equal(list.data.data.length, 2, 'no refused write left a row')
})

t.test('concurrent creates with one e-mail: exactly one wins, the rest get 409', async (t) => {
  const { rest } = await build(t)
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    rest('POST', '/v1/contacts', { body: { displayName: `Racer ${i}`, emails: ['race@example.com'] } })))
  const codes = results.map((r) => r.statusCode).sort()
  t.same(codes, [201, 409, 409, 409, 409, 409, 409, 409])
  const winner = results.find((r) => r.statusCode === 201)!.data.id
  for (const r of results.filter((r) => r.statusCode === 409)) t.equal(r.data.existingContactId, winner)
  t.equal((await rest('GET', '/v1/contacts')).data.data.length, 1)
})

t.test('the same e-mail in two workspaces is not a duplicate', async (t) => {
  const { rest, token } = await build(t)
  t.equal((await rest('POST', '/v1/contacts', { body: { emails: ['shared@example.com'] } })).statusCode, 201)
  t.equal((await rest('POST', '/v1/contacts', { token: token({ workspace: 'globex' }), body: { emails: ['shared@example.com'] } })).statusCode, 201)
})
