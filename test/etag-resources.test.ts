import t from 'tap'
import { build } from './helper.js'

const sms = { kind: 'sms', name: 'Support SMS', config: { accountSid: 'AC' + '0'.repeat(32), authToken: 'secret-0001', from: '+14155550100' } }

t.test('channels: ETag from the version, If-None-Match → 304, If-Match on PATCH/DELETE → 412', async (t) => {
  const { rest, token } = await build(t)
  const created = await rest('POST', '/v1/channels', { body: sms })
  t.equal(created.statusCode, 201, created.body)
  const url = `/v1/channels/${created.data.id}`

  const read = await rest('GET', url)
  t.equal(read.headers.etag, '"v1"')
  t.equal((await rest('GET', url, { headers: { 'if-none-match': '"v1"' } })).statusCode, 304)
  t.equal((await rest('GET', url, { headers: { 'if-none-match': '"v2"' } })).statusCode, 200)

  const stale = await rest('PATCH', url, { body: { name: 'Renamed' }, headers: { 'if-match': '"v5"' } })
  t.equal(stale.statusCode, 412)
  t.equal(stale.data.code, 'precondition.failed')
  t.equal(stale.data.currentVersion, 1)
  t.equal((await rest('GET', url)).data.name, 'Support SMS', 'a refused PATCH changes nothing')
  const fresh = await rest('PATCH', url, { body: { name: 'Renamed' }, headers: { 'if-match': '"v1"' } })
  t.equal(fresh.statusCode, 200)
  t.equal(fresh.headers.etag, '"v2"')
  t.equal((await rest('PATCH', url, { body: { name: 'No condition' } })).statusCode, 200, 'If-Match is optional')

  t.equal((await rest('GET', url, { token: token({ workspace: 'globex' }), headers: { 'if-none-match': '"v3"' } })).statusCode, 404, 'another workspace learns nothing, not even a 304')
  t.equal((await rest('PATCH', url, { token: token({ workspace: 'globex' }), body: { name: 'x' }, headers: { 'if-match': '"v3"' } })).statusCode, 404)

  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v2"' } })).statusCode, 412)
  t.equal((await rest('GET', url)).statusCode, 200, 'still there')
  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v3"' } })).statusCode, 204)
  t.equal((await rest('GET', url)).statusCode, 404)
})

t.test('promises: ETag and If-None-Match; the ETag moves with each transition', async (t) => {
  const { rest, token } = await build(t)
  const contact = await rest('POST', '/v1/contacts', { body: { displayName: 'Owed' } })
  const created = await rest('POST', '/v1/promises', {
    body: { contactId: contact.data.id, description: 'Send the deck', dueAt: new Date(Date.now() + 7 * 86_400_000).toISOString(), requiresEvidence: false }
  })
  t.equal(created.statusCode, 201, created.body)
  const url = `/v1/promises/${created.data.id}`
  const read = await rest('GET', url)
  const etag = read.headers.etag as string
  t.equal(etag, `"v${read.data.version}"`)
  t.equal((await rest('GET', url, { headers: { 'if-none-match': etag } })).statusCode, 304)
  const cancelled = await rest('POST', `${url}/cancel`, { body: { reason: 'No longer needed' } })
  t.equal(cancelled.statusCode, 200, cancelled.body)
  const after = await rest('GET', url, { headers: { 'if-none-match': etag } })
  t.equal(after.statusCode, 200, 'a transition is a new version')
  t.not(after.headers.etag, etag)
  t.equal((await rest('GET', url, { token: token({ workspace: 'globex' }), headers: { 'if-none-match': after.headers.etag as string } })).statusCode, 404)
})
