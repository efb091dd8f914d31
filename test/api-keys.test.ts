import { sql } from 'drizzle-orm'
import t from 'tap'
import { build } from './helper.js'

/** A clock the test moves by hand (key expiry). */
function movableClock (start = new Date('2026-03-01T10:00:00Z')) {
  let now = start.getTime()
  return { now: () => new Date(now), advance: (ms: number) => { now += ms } }
}

const bearer = (secret: string) => ({ token: secret })

t.test('create, list, get and revoke; the secret is shown once and stored only as a hash', async (t) => {
  const { rest, database } = await build(t)
  const created = await rest('POST', '/v1/api-keys', { body: { name: 'CI', scopes: ['contacts:read', 'contacts:write'] } })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.data.secret, /^rpk_live_[A-Za-z0-9_-]{43}$/)
  t.equal(created.headers['cache-control'], 'no-store')
  t.equal(created.headers.location, `/v1/api-keys/${created.data.id}`)
  t.ok(created.data.secret.startsWith(created.data.prefix), 'the prefix is the start of the secret')
  t.ok(created.data.prefix.length < 20, 'the prefix is short')
  t.same(created.data.scopes, ['contacts:read', 'contacts:write'])
  t.equal(created.data.revokedAt, null)
  t.equal(created.data.lastUsedAt, null)
  const secret: string = created.data.secret
  const id: string = created.data.id

  const read = await rest('GET', `/v1/api-keys/${id}`)
  t.equal(read.statusCode, 200)
  t.notOk('secret' in read.data, 'never shown again')
  t.notOk(read.body.includes(secret.slice(20)), 'no part beyond the prefix either')
  const list = await rest('GET', '/v1/api-keys')
  t.equal(list.data.data.length, 1)
  t.notOk(list.body.includes(secret), 'lists never show secrets')

  const rows = await database.db.execute(sql`select * from api_keys`)
  const stored = JSON.stringify((rows as unknown as { rows?: unknown[] }).rows ?? rows)
  t.notOk(stored.includes(secret), 'the secret is not in the row')
  t.notOk(stored.includes(secret.slice(created.data.prefix.length)), 'not even the part after the prefix')
  t.match(stored, /[0-9a-f]{64}/, 'a SHA-256 is kept')

  // The key works directly as a bearer token.
  const asKey = await rest('POST', '/v1/contacts', { ...bearer(secret), body: { displayName: 'Made by a key' } })
  t.equal(asKey.statusCode, 201, asKey.body)
  const used = await rest('GET', `/v1/api-keys/${id}`)
  t.ok(used.data.lastUsedAt, 'lastUsedAt is set by use')

  const revoked = await rest('DELETE', `/v1/api-keys/${id}`)
  t.equal(revoked.statusCode, 204)
  const after = await rest('GET', '/v1/contacts', bearer(secret))
  t.equal(after.statusCode, 401, 'a revoked key fails at once')
  t.equal(after.data.code, 'auth.unauthenticated')
  t.ok((await rest('GET', `/v1/api-keys/${id}`)).data.revokedAt)
  t.equal((await rest('DELETE', `/v1/api-keys/${id}`)).statusCode, 204, 'revoking twice is harmless')
  t.equal((await rest('DELETE', '/v1/api-keys/key_01jn0000000000000000000000')).statusCode, 404)
})

t.test('a key carries only its scopes, and never more than its creator', async (t) => {
  const { rest, token } = await build(t)
  const readOnly = await rest('POST', '/v1/api-keys', { body: { name: 'reader', scopes: ['contacts:read'] } })
  const secret: string = readOnly.data.secret
  t.equal((await rest('GET', '/v1/contacts', bearer(secret))).statusCode, 200)
  const write = await rest('POST', '/v1/contacts', { ...bearer(secret), body: { displayName: 'x' } })
  t.equal(write.statusCode, 403)
  t.equal(write.data.code, 'auth.forbidden')
  t.equal((await rest('GET', '/v1/api-keys', bearer(secret))).statusCode, 403, 'managing keys needs admin')

  const noAdmin = token({ scopes: ['contacts:read'] })
  t.equal((await rest('POST', '/v1/api-keys', { token: noAdmin, body: { name: 'x', scopes: ['contacts:read'] } })).statusCode, 403)
  const admin = token({ scopes: ['admin', 'contacts:read'] })
  const wider = await rest('POST', '/v1/api-keys', { token: admin, body: { name: 'x', scopes: ['contacts:read', 'contacts:write'] } })
  t.equal(wider.statusCode, 403, 'a key cannot get a scope its creator lacks')
  t.equal(wider.data.requiredScope, 'contacts:write')

  const bad = await rest('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['everything'] } })
  t.equal(bad.statusCode, 400)
  t.equal((await rest('POST', '/v1/api-keys', { body: { name: 'x', scopes: [] } })).statusCode, 400)
  t.equal((await rest('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['admin'], secret: 'mine' } })).statusCode, 400, 'no mass assignment of the secret')
  const past = await rest('POST', '/v1/api-keys', { body: { name: 'x', scopes: ['admin'], expiresAt: '2001-01-01T00:00:00Z' } })
  t.equal(past.statusCode, 400)
  t.equal(past.data.errors[0].pointer, '/body/expiresAt')
  t.equal((await rest('GET', '/v1/contacts', bearer('rpk_live_' + 'x'.repeat(43)))).statusCode, 401, 'an unknown key is refused')
})

t.test('an expired key is refused', async (t) => {
  const clock = movableClock()
  const { rest } = await build(t, { clock })
  const created = await rest('POST', '/v1/api-keys', { body: { name: 'short', scopes: ['contacts:read'], expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() } })
  t.equal(created.statusCode, 201, created.body)
  t.equal((await rest('GET', '/v1/contacts', bearer(created.data.secret))).statusCode, 200)
  clock.advance(61_000)
  const expired = await rest('GET', '/v1/contacts', bearer(created.data.secret))
  t.equal(expired.statusCode, 401)
  t.equal(expired.data.code, 'auth.unauthenticated')
  const exchange = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'client_credentials', client_secret: created.data.secret } })
  t.equal(exchange.statusCode, 401)
  t.equal(exchange.data.error, 'invalid_client')
})

t.test('keys belong to their workspace', async (t) => {
  const { rest, token } = await build(t)
  const acme = await rest('POST', '/v1/api-keys', { body: { name: 'acme key', scopes: ['contacts:read', 'contacts:write'] } })
  await rest('POST', '/v1/contacts', { body: { displayName: 'Acme only' } })
  const globex = token({ workspace: 'globex' })
  t.equal((await rest('GET', `/v1/api-keys/${acme.data.id}`, { token: globex })).statusCode, 404)
  t.equal((await rest('DELETE', `/v1/api-keys/${acme.data.id}`, { token: globex })).statusCode, 404)
  t.equal((await rest('GET', '/v1/api-keys', { token: globex })).data.data.length, 0)
  t.equal((await rest('GET', '/v1/contacts', bearer(acme.data.secret))).statusCode, 200, 'not revoked by the other workspace')

  const globexKey = await rest('POST', '/v1/api-keys', { token: globex, body: { name: 'globex key', scopes: ['contacts:read'] } })
  const seen = await rest('GET', '/v1/contacts', bearer(globexKey.data.secret))
  t.equal(seen.statusCode, 200)
  t.equal(seen.data.data.length, 0, "a globex key sees none of acme's contacts")
  const mine = await rest('GET', '/v1/contacts', bearer(acme.data.secret))
  t.equal(mine.data.data.length, 1)
})

t.test('POST /v1/auth/token: client credentials for a short-lived token', async (t) => {
  const { rest } = await build(t)
  const key = await rest('POST', '/v1/api-keys', { body: { name: 'partner', scopes: ['contacts:read', 'contacts:write'] } })
  const secret: string = key.data.secret

  const form = await rest('POST', '/v1/auth/token', {
    token: null,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ grant_type: 'client_credentials', client_secret: secret }).toString()
  })
  t.equal(form.statusCode, 200, form.body)
  t.equal(form.data.token_type, 'Bearer')
  t.equal(form.data.expires_in, 900)
  t.equal(form.data.scope, 'contacts:read contacts:write')
  t.equal(form.headers['cache-control'], 'no-store')
  const access: string = form.data.access_token
  t.notOk(access.startsWith('rpk_'), 'a JWT, not the key')
  const made = await rest('POST', '/v1/contacts', { token: access, body: { displayName: 'Via token' } })
  t.equal(made.statusCode, 201)

  const basic = await rest('POST', '/v1/auth/token', {
    token: null,
    headers: { authorization: 'Basic ' + Buffer.from(`${key.data.id}:${secret}`).toString('base64') },
    body: { grant_type: 'client_credentials', scope: 'contacts:read' }
  })
  t.equal(basic.statusCode, 200, basic.body)
  t.equal(basic.data.scope, 'contacts:read')
  t.equal((await rest('POST', '/v1/contacts', { token: basic.data.access_token, body: { displayName: 'x' } })).statusCode, 403, 'narrowed scope holds')

  const wrongGrant = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'password', client_secret: secret } })
  t.equal(wrongGrant.statusCode, 400)
  t.equal(wrongGrant.data.error, 'unsupported_grant_type')
  const noGrant = await rest('POST', '/v1/auth/token', { token: null, body: { client_secret: secret } })
  t.equal(noGrant.statusCode, 400)
  t.equal(noGrant.data.error, 'invalid_request')
  const wrongSecret = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'client_credentials', client_secret: 'rpk_live_nope' } })
  t.equal(wrongSecret.statusCode, 401)
  t.equal(wrongSecret.data.error, 'invalid_client')
  const badBasic = await rest('POST', '/v1/auth/token', {
    token: null,
    headers: { authorization: 'Basic ' + Buffer.from(`${key.data.id}:wrong`).toString('base64') },
    body: { grant_type: 'client_credentials' }
  })
  t.equal(badBasic.statusCode, 401)
  t.match(badBasic.headers['www-authenticate'], /^Basic/)
  const wrongId = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'client_credentials', client_id: 'key_other', client_secret: secret } })
  t.equal(wrongId.statusCode, 401, 'a client_id must name the key')
  const wider = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'client_credentials', client_secret: secret, scope: 'admin' } })
  t.equal(wider.statusCode, 400)
  t.equal(wider.data.error, 'invalid_scope')
  const notJson = await rest('POST', '/v1/auth/token', { token: null, headers: { 'content-type': 'application/json' }, payload: '[1,2]' })
  t.equal(notJson.statusCode, 400)
  t.equal(notJson.data.error, 'invalid_request')

  // Revoking the key ends the tokens exchanged for it too.
  await rest('DELETE', `/v1/api-keys/${key.data.id}`)
  const revoked = await rest('GET', '/v1/contacts', { token: access })
  t.equal(revoked.statusCode, 401)
  const again = await rest('POST', '/v1/auth/token', { token: null, body: { grant_type: 'client_credentials', client_secret: secret } })
  t.equal(again.statusCode, 401)
})

t.test('ETag and If-Match on keys', async (t) => {
  const { rest } = await build(t)
  const key = await rest('POST', '/v1/api-keys', { body: { name: 'tagged', scopes: ['contacts:read'] } })
  const url = `/v1/api-keys/${key.data.id}`
  const read = await rest('GET', url)
  t.equal(read.headers.etag, '"v1"')
  t.equal((await rest('GET', url, { headers: { 'if-none-match': '"v1"' } })).statusCode, 304)
  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v2"' } })).statusCode, 412)
  t.equal((await rest('GET', '/v1/contacts', bearer(key.data.secret))).statusCode, 200, 'a refused revoke leaves the key working')
  t.equal((await rest('DELETE', url, { headers: { 'if-match': '"v1"' } })).statusCode, 204)
  t.equal((await rest('GET', url)).headers.etag, '"v2"', 'revoking is a new version')
})
