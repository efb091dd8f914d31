import { createHmac } from 'node:crypto'
import t from 'tap'
import { build } from './helper.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
function handMade (header: object, claims: object, secret: string | null): string {
  const body = `${b64(header)}.${b64(claims)}`
  return secret === null ? `${body}.` : `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

t.test('401 matrix: every bad token is refused with WWW-Authenticate: Bearer, REST and GraphQL', async (t) => {
  const { rest, gql, token, config } = await build(t)
  const now = Math.floor(Date.now() / 1000)
  const good = { sub: 'u', wid: 'acme', scope: 'contacts:read', iss: 'rapport', aud: 'rapport-api', iat: now, exp: now + 600 }
  const cases: Record<string, string | null> = {
    'no token': null,
    'garbage': 'not-a-jwt',
    'bad signature': handMade({ alg: 'HS256', typ: 'JWT' }, good, 'another-secret-another-secret-12345'),
    'alg none': handMade({ alg: 'none', typ: 'JWT' }, good, null),
    'alg HS512 with the right secret': (() => {
      const body = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(good)}`
      return `${body}.${createHmac('sha512', config.jwtSecret).update(body).digest('base64url')}`
    })(),
    'expired': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, exp: now - 10 }, config.jwtSecret),
    'no exp': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, exp: undefined }, config.jwtSecret),
    'other audience': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, aud: 'someone-else' }, config.jwtSecret),
    'other issuer': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, iss: 'evil' }, config.jwtSecret),
    'no workspace': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, wid: undefined }, config.jwtSecret),
    'bad workspace id': handMade({ alg: 'HS256', typ: 'JWT' }, { ...good, wid: "x'; drop table contacts; --" }, config.jwtSecret)
  }
  const control = handMade({ alg: 'HS256', typ: 'JWT' }, good, config.jwtSecret)
  t.equal((await rest('GET', '/v1/contacts', { token: control })).statusCode, 200, 'the hand-made control token is accepted')

  for (const [name, bad] of Object.entries(cases)) {
    const res = await rest('GET', '/v1/contacts', { token: bad })
    t.equal(res.statusCode, 401, `REST: ${name}`)
    t.match(res.headers['www-authenticate'], /^Bearer /, `REST: ${name} challenges`)
    t.equal(res.data.code, 'auth.unauthenticated')
    t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    const g = await gql('{ contacts(first: 1) { nodes { id } } }', {}, { token: bad })
    t.equal(g.status, 401, `GraphQL: ${name}`)
    t.equal(g.errors?.[0].extensions.code, 'auth.unauthenticated')
  }
  t.equal((await rest('POST', '/v1/contacts', { token: null, body: { displayName: 'x' } })).statusCode, 401, 'writes too')
  t.same((await rest('GET', '/v1/contacts', { token: token() })).data.data, [], 'no refused request wrote anything')
})

t.test('a token accepted before is still refused once it expires, and its near-copies never ride on it', async (t) => {
  const { rest, gql, config } = await build(t)
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: 'u', wid: 'acme', scope: 'contacts:read', iss: 'rapport', aud: 'rapport-api', iat: now, exp: now + 2 }
  const shortLived = handMade({ alg: 'HS256', typ: 'JWT' }, claims, config.jwtSecret)
  for (let i = 0; i < 3; i++) t.equal((await rest('GET', '/v1/contacts', { token: shortLived })).statusCode, 200, `accepted while valid (${i + 1})`)
  const tampered = shortLived.slice(0, -2) + (shortLived.endsWith('AA') ? 'BB' : 'AA')
  t.equal((await rest('GET', '/v1/contacts', { token: tampered })).statusCode, 401, 'a changed signature of an accepted token is refused')
  const otherWorkspace = handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, wid: 'evil' }, 'another-secret-another-secret-12345')
  t.equal((await rest('GET', '/v1/contacts', { token: otherWorkspace })).statusCode, 401, 'claims signed with another secret are refused')
  const notYet = handMade({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now + 600, nbf: now + 300 }, config.jwtSecret)
  t.equal((await rest('GET', '/v1/contacts', { token: notYet })).statusCode, 401, 'not valid before nbf')
  t.equal((await rest('GET', '/v1/contacts', { token: notYet })).statusCode, 401, 'and still not on the second try')

  await new Promise((resolve) => setTimeout(resolve, (claims.exp + 1) * 1000 - Date.now()))
  const res = await rest('GET', '/v1/contacts', { token: shortLived })
  t.equal(res.statusCode, 401, 'REST: refused after exp, though accepted before')
  t.equal(res.data.code, 'auth.unauthenticated')
  const g = await gql('{ contacts(first: 1) { nodes { id } } }', {}, { token: shortLived })
  t.equal(g.errors?.[0].extensions.code, 'auth.unauthenticated', 'GraphQL: refused after exp too')
})

t.test('403 names the missing scope, REST and GraphQL', async (t) => {
  const { rest, gql, token } = await build(t)
  const readOnly = token({ scopes: ['contacts:read'] })
  const writeOnly = token({ scopes: ['contacts:write'] })
  const res = await rest('POST', '/v1/contacts', { token: readOnly, body: { displayName: 'Nope' } })
  t.equal(res.statusCode, 403)
  t.equal(res.data.code, 'auth.forbidden')
  t.equal(res.data.requiredScope, 'contacts:write')
  t.match(res.data.detail, /contacts:write/)
  t.match(res.headers['www-authenticate'], /insufficient_scope/)

  const created = await rest('POST', '/v1/contacts', { token: writeOnly, body: { displayName: 'Yes' } })
  t.equal(created.statusCode, 201)
  for (const [method, url] of [['GET', '/v1/contacts'], ['GET', `/v1/contacts/${created.data.id}`]]) {
    const r = await rest(method, url, { token: writeOnly })
    t.equal(r.statusCode, 403, `${method} ${url} needs contacts:read`)
    t.equal(r.data.requiredScope, 'contacts:read')
  }
  for (const [method, url] of [['PATCH', `/v1/contacts/${created.data.id}`], ['DELETE', `/v1/contacts/${created.data.id}`]]) {
    const r = await rest(method, url, { token: readOnly, body: method === 'PATCH' ? { title: 'x' } : undefined })
    t.equal(r.statusCode, 403, `${method} needs contacts:write`)
  }
  const none = token({ scopes: [] })
  t.equal((await rest('GET', '/v1/contacts', { token: none })).statusCode, 403)

  const q = await gql('{ contacts(first: 1) { nodes { id } } }', {}, { token: writeOnly })
  t.equal(q.errors?.[0].extensions.code, 'auth.forbidden')
  t.equal(q.errors?.[0].extensions.requiredScope, 'contacts:read')
  const m = await gql('mutation { createContact(input: { displayName: "x" }) { contact { id } } }', {}, { token: readOnly })
  t.equal(m.errors?.[0].extensions.code, 'auth.forbidden')
  t.equal(m.errors?.[0].extensions.requiredScope, 'contacts:write')
  t.equal((await rest('GET', '/v1/contacts', { token: readOnly })).data.data.length, 1, 'the refused mutation wrote nothing')
})

t.test('health, readiness, docs and the contract need no token', async (t) => {
  const { rest } = await build(t)
  for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
    const res = await rest('GET', url, { token: null })
    t.ok(res.statusCode < 400, `${url} answers ${res.statusCode}`)
  }
})
