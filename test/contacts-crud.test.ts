import t from 'tap'
import { build } from './helper.js'

const CONTACT_FIELDS = 'id displayName givenName familyName emails { address primary } phones company title tags attributes externalId createdAt updatedAt version'

t.test('contacts CRUD over REST', async (t) => {
  const { rest } = await build(t)

  const created = await rest('POST', '/v1/contacts', {
    body: {
      givenName: 'Ada', familyName: 'Lovelace', emails: ['Ada@Example.COM', { address: 'ada@work.example', primary: true }],
      phones: ['+44 20 7946 0958'], company: 'Analytical Engines', title: 'Countess', tags: ['vip', 'vip', 'math'],
      attributes: { tier: 'gold', score: 9, nested: { a: 1 } }, externalId: 'crm-1'
    }
  })
  t.equal(created.statusCode, 201, created.body)
  const c = created.data
  t.match(c.id, /^con_[0-9a-z]{26}$/)
  t.equal(created.headers.location, `/v1/contacts/${c.id}`)
  t.equal(c.displayName, 'Ada Lovelace', 'derived from the names')
  t.same(c.emails, [{ address: 'ada@work.example', primary: true }, { address: 'ada@example.com', primary: false }], 'lower-cased, primary first')
  t.same(c.phones, ['+442079460958'], 'E.164')
  t.same(c.tags, ['vip', 'math'], 'tags deduplicated')
  t.equal(c.version, 1)
  t.ok(Date.parse(c.createdAt))

  const read = await rest('GET', `/v1/contacts/${c.id}`)
  t.equal(read.statusCode, 200)
  t.same(read.data, c)

  const patched = await rest('PATCH', `/v1/contacts/${c.id}`, {
    body: { title: null, attributes: { score: null, nested: { b: 2 }, added: true }, tags: ['math'] },
    headers: { 'content-type': 'application/merge-patch+json' }
  })
  t.equal(patched.statusCode, 200, patched.body)
  t.equal(patched.data.title, null, 'null removes')
  t.equal(patched.data.company, 'Analytical Engines', 'absent is unchanged')
  t.same(patched.data.attributes, { tier: 'gold', nested: { a: 1, b: 2 }, added: true }, 'attributes merge per RFC 7396')
  t.same(patched.data.tags, ['math'])
  t.equal(patched.data.version, 2)
  t.ok(Date.parse(patched.data.updatedAt) >= Date.parse(c.updatedAt))

  const renamed = await rest('PATCH', `/v1/contacts/${c.id}`, { body: { displayName: 'Countess Lovelace', emails: ['ada@new.example'] } })
  t.equal(renamed.data.displayName, 'Countess Lovelace')
  t.same(renamed.data.emails, [{ address: 'ada@new.example', primary: true }])
  t.equal(renamed.data.version, 3)

  const byOldEmail = await rest('GET', '/v1/contacts?email=ada@example.com')
  t.same(byOldEmail.data.data, [], 'replaced e-mails no longer match')

  const del = await rest('DELETE', `/v1/contacts/${c.id}`)
  t.equal(del.statusCode, 204)
  t.equal(del.body, '')
  const gone = await rest('GET', `/v1/contacts/${c.id}`)
  t.equal(gone.statusCode, 404)
  t.equal(gone.data.code, 'contact.not_found')
  t.equal((await rest('DELETE', `/v1/contacts/${c.id}`)).statusCode, 404, 'deleting twice is a 404')
  t.equal((await rest('PATCH', `/v1/contacts/${c.id}`, { body: { title: 'x' } })).statusCode, 404)
  t.same((await rest('GET', '/v1/contacts')).data.data, [], 'gone from lists')

  const reuse = await rest('POST', '/v1/contacts', { body: { emails: ['ada@new.example'], externalId: 'crm-1' } })
  t.equal(reuse.statusCode, 201, 'a deleted contact frees its e-mail and externalId')
  t.equal(reuse.data.displayName, 'ada@new.example', 'display name falls back to the e-mail')
})

t.test('contacts CRUD over GraphQL, same rules', async (t) => {
  const { gql, rest } = await build(t)
  const created = await gql(`mutation ($input: CreateContactInput!) { createContact(input: $input) { contact { ${CONTACT_FIELDS} } } }`, {
    input: { givenName: 'Grace', familyName: 'Hopper', emails: [{ address: 'GRACE@navy.example' }], phones: ['+1 202-555-0143'], attributes: { rank: 'admiral' } }
  })
  t.same(created.errors, undefined)
  const c = created.data.createContact.contact
  t.equal(c.displayName, 'Grace Hopper')
  t.same(c.emails, [{ address: 'grace@navy.example', primary: true }])
  t.same(c.phones, ['+12025550143'])

  const viaRest = await rest('GET', `/v1/contacts/${c.id}`)
  t.same(viaRest.data, c, 'GraphQL and REST serve the same contact')

  const read = await gql(`query ($id: ID!) { contact(id: $id) { ${CONTACT_FIELDS} } }`, { id: c.id })
  t.same(read.data.contact, c)

  const updated = await gql(`mutation ($input: UpdateContactInput!) { updateContact(input: $input) { contact { ${CONTACT_FIELDS} } } }`, {
    input: { id: c.id, company: 'US Navy', attributes: { rank: null, ship: 'USS' } }
  })
  t.same(updated.errors, undefined)
  t.equal(updated.data.updateContact.contact.company, 'US Navy')
  t.same(updated.data.updateContact.contact.attributes, { ship: 'USS' })
  t.equal(updated.data.updateContact.contact.givenName, 'Grace', 'absent input fields unchanged')
  t.equal(updated.data.updateContact.contact.version, 2)

  const deleted = await gql('mutation ($id: ID!) { deleteContact(input: { id: $id }) { deletedContactId } }', { id: c.id })
  t.equal(deleted.data.deleteContact.deletedContactId, c.id)
  const missing = await gql('query ($id: ID!) { contact(id: $id) { id } }', { id: c.id })
  t.equal(missing.data.contact, null)
  t.equal(missing.errors?.[0].extensions.code, 'contact.not_found')
  const again = await gql('mutation ($id: ID!) { deleteContact(input: { id: $id }) { deletedContactId } }', { id: c.id })
  t.equal(again.errors?.[0].extensions.code, 'contact.not_found')
})
