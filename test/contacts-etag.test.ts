import t from 'tap'
import { build } from './helper.js'

t.test('strong ETag from the version; If-None-Match → 304; If-Match on PATCH/DELETE → 412 on mismatch', async (t) => {
  const { rest } = await build(t)
  const created = await rest('POST', '/v1/contacts', { body: { displayName: 'Etag' } })
  const url = `/v1/contacts/${created.data.id}`

  const read = await rest('GET', url)
  t.equal(read.headers.etag, '"v1"')
  const cached = await rest('GET', url, { headers: { 'if-none-match': '"v1"' } })
  t.equal(cached.statusCode, 304)
  t.equal(cached.body, '')
  t.equal((await rest('GET', url, { headers: { 'if-none-match': 'W/"v1"' } })).statusCode, 304, 'a weak comparison matches too')
  t.equal((await rest('GET', url, { headers: { 'if-none-match': '"v9"' } })).statusCode, 200)

  const stale = await rest('PATCH', url, { body: { title: 'x' }, headers: { 'if-match': '"v7"' } })
  t.equal(stale.statusCode, 412)
  t.equal(stale.data.code, 'precondition.failed')
  t.equal(stale.data.currentVersion, 1)
  t.equal((await rest('GET', url)).data.title, null, 'a refused PATCH changes nothing')

  const fresh = await rest('PATCH', url, { body: { title: 'Dr' }, headers: { 'if-match': '"v1"' } })
  t.equal(fresh.statusCode, 200)
  t.equal(fresh.headers.etag, '"v2"')
  t.equal((await rest('GET', url, { headers: { 'if-none-match': '"v1"' } })).statusCode, 200, 'the old ETag no longer matches')

  const garbage = await rest('PATCH', url, { body: { title: 'x' }, headers: { 'if-match': 'nonsense' } })
  t.equal(garbage.statusCode, 412)
  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v1"' } })).statusCode, 412, 'DELETE checks too')
  t.equal((await rest('GET', url)).statusCode, 200, 'still there')
  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v2"' } })).statusCode, 204)
  t.equal((await rest('GET', url)).statusCode, 404)
})
