import t from 'tap'
import { build } from './helper.js'

t.test('smoke', async (t) => {
  const { rest, gql } = await build(t)
  const res = await rest('POST', '/v1/contacts', { body: { givenName: 'Ada', familyName: 'Lovelace', emails: ['ADA@example.com'], phones: ['+1 (415) 555-2671'] } })
  t.equal(res.statusCode, 201, res.body)
  const g = await gql('{ contacts(first: 5) { edges { node { id displayName emails { address primary } phones } } } }')
  t.same(g.errors, undefined)
  console.log(JSON.stringify(g.data))
})
