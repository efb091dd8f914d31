import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import WebSocket from 'ws'
import type { LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { build } from './helper.js'
import { basicAuth, sample } from './support/channels/index.js'
import { subscribe, wsClient } from './support/subscriptions.js'

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function redisAnswers (): Promise<boolean> {
  const url = new URL(REDIS_URL)
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname)
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

/** How many answers of each status code a burst got, e.g. `{ 401: 3, 429: 6 }`. */
const statusCounts = (answers: Array<{ statusCode: number }>) =>
  answers.reduce<Record<number, number>>((counts, a) => ({ ...counts, [a.statusCode]: (counts[a.statusCode] ?? 0) + 1 }), {})

t.test('per-subject limits with RateLimit, RateLimit-Policy and X-RateLimit headers; 429 problem with Retry-After', async (t) => {
  const { rest, token } = await build(t, { config: { rateLimit: { max: 3, windowMs: 60_000 } } })
  const first = await rest('GET', '/v1/contacts')
  t.equal(first.statusCode, 200)
  t.equal(first.headers['x-ratelimit-limit'], '3')
  t.equal(first.headers['x-ratelimit-remaining'], '2')
  t.equal(first.headers['x-ratelimit-reset'], '60')
  t.equal(first.headers['ratelimit-policy'], '"default";q=3;w=60')
  t.equal(first.headers.ratelimit, '"default";r=2;t=60')
  await rest('GET', '/v1/contacts')
  t.equal((await rest('POST', '/v1/contacts', { body: { displayName: 'third' } })).headers['x-ratelimit-remaining'], '0', 'every method counts')

  const limited = await rest('GET', '/v1/contacts')
  t.equal(limited.statusCode, 429)
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.equal(limited.data.code, 'request.rate_limited')
  t.equal(limited.data.status, 429)
  t.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60, 'Retry-After in seconds')
  t.equal(limited.headers['x-ratelimit-remaining'], '0')
  t.match(limited.headers.ratelimit, /^"default";r=0;t=\d+$/)
  t.equal(limited.data.retryAfterSeconds, Number(limited.headers['retry-after']))

  const other = await rest('GET', '/v1/contacts', { token: token({ sub: 'someone-else' }) })
  t.equal(other.statusCode, 200, 'another subject has its own budget')
  const otherWorkspace = await rest('GET', '/v1/contacts', { token: token({ workspace: 'globex' }) })
  t.equal(otherWorkspace.statusCode, 200, 'the same subject name in another workspace too')

  const gql = await rest('POST', '/graphql', { body: { query: '{ __typename }' } })
  t.equal(gql.statusCode, 429, 'GraphQL shares the budget')
  t.equal(gql.data.errors[0].extensions.code, 'request.rate_limited')

  t.equal((await rest('GET', '/healthz', { token: null })).statusCode, 200, 'health probes are never limited')
  t.notOk((await rest('GET', '/healthz', { token: null })).headers['x-ratelimit-limit'])
})

t.test('API keys are limited per key; public routes per client IP', async (t) => {
  const { rest, app } = await build(t, { config: { rateLimit: { max: 2, windowMs: 60_000 } } })
  const key = await rest('POST', '/v1/api-keys', { body: { name: 'k', scopes: ['contacts:read'] } })
  t.equal(key.statusCode, 201)
  t.equal((await rest('GET', '/v1/contacts', { token: key.data.secret })).headers['x-ratelimit-remaining'], '1', "the key's own budget, not its creator's")
  await rest('GET', '/v1/contacts', { token: key.data.secret })
  t.equal((await rest('GET', '/v1/contacts', { token: key.data.secret })).statusCode, 429)

  const exchange = (ip: string) => app.inject({
    method: 'POST', url: '/v1/auth/token', remoteAddress: ip, payload: { grant_type: 'client_credentials', client_secret: 'rpk_live_wrong' }
  })
  t.equal((await exchange('10.0.0.1')).statusCode, 401)
  t.equal((await exchange('10.0.0.1')).statusCode, 401)
  const blocked = await exchange('10.0.0.1')
  t.equal(blocked.statusCode, 429, 'guessing keys at the token endpoint is throttled per IP')
  t.ok(blocked.headers['retry-after'])
  t.equal((await exchange('10.0.0.2')).statusCode, 401, 'another IP is not')
})

// Like CI's PostgreSQL run: skipped (and reported as skipped) when no Redis answers.
const redisUp = await redisAnswers()
t.test('with REDIS_URL the budget is shared by every server process', { skip: redisUp ? false : `no Redis at ${REDIS_URL}` }, async (t) => {
  const namespace = `rapport-test-${randomBytes(6).toString('hex')}`
  const config = { rateLimit: { max: 3, windowMs: 60_000, namespace, authFailuresMax: 2 }, redisUrl: REDIS_URL }
  const one = await build(t, { config })
  const two = await build(t, { config })
  t.equal((await one.rest('GET', '/v1/contacts')).headers['x-ratelimit-remaining'], '2')
  t.equal((await two.rest('GET', '/v1/contacts')).headers['x-ratelimit-remaining'], '1', 'the second process sees the first one\'s request')
  t.equal((await one.rest('GET', '/v1/contacts')).statusCode, 200)
  const limited = await two.rest('GET', '/v1/contacts')
  t.equal(limited.statusCode, 429)
  t.equal(limited.data.code, 'request.rate_limited')

  const guess = (app: typeof one.app) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: '10.2.0.1', headers: { authorization: 'Bearer wrong' } })
  t.equal((await guess(one.app)).statusCode, 401)
  t.equal((await guess(two.app)).statusCode, 401)
  t.equal((await guess(one.app)).statusCode, 429, 'failed authentications are counted across processes too')

  // The store answers asynchronously here: a parallel burst to one process still gets 2 keys looked at.
  const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => two.app.inject({
    method: 'GET', url: '/v1/contacts', remoteAddress: '10.2.0.2', headers: { authorization: `Bearer rpk_live_guess${i}${randomBytes(8).toString('hex')}` }
  })))
  t.same(statusCounts(burst), { 401: 2, 429: 4 }, 'a parallel burst of guesses: as many looked at as the pause allows, the rest 429')
})

t.test('limits are off with RATE_LIMIT_MAX=0 (the test default)', async (t) => {
  const { rest } = await build(t)
  const res = await rest('GET', '/v1/contacts')
  t.equal(res.statusCode, 200)
  t.notOk(res.headers['x-ratelimit-limit'])
  t.notOk(res.headers.ratelimit)
})

t.test('an address that keeps failing authentication is paused, even for a right token; others are not', async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 1000, authFailuresMax: 3 } } })
  const call = (ip: string, bearer: string, url = '/v1/contacts') => app.inject({ method: 'GET', url, remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` } })
  const gql = (ip: string, bearer: string) => app.inject({ method: 'POST', url: '/graphql', remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` }, payload: { query: '{ __typename }' } })
  const good = token()
  const forged = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA')

  for (let i = 0; i < 10; i++) t.equal((await call('10.1.0.1', good)).statusCode, 200, 'successes never count')
  t.equal((await call('10.1.0.1', 'not-a-token')).statusCode, 401)
  t.equal((await call('10.1.0.1', forged)).statusCode, 401)
  t.equal((await gql('10.1.0.1', forged)).statusCode, 401, 'GraphQL failures count too')
  const paused = await call('10.1.0.1', forged)
  t.equal(paused.statusCode, 429, 'the fourth guess is not looked at')
  t.match(paused.headers['content-type'], /^application\/problem\+json/)
  t.equal(paused.json().code, 'request.rate_limited')
  t.ok(Number(paused.headers['retry-after']) >= 1 && Number(paused.headers['retry-after']) <= 1, 'Retry-After: the rest of the window, in seconds')
  t.equal((await call('10.1.0.1', good)).statusCode, 429, 'a right token from the paused address too: the answer must not tell a right guess from a wrong one')
  const pausedGql = await gql('10.1.0.1', good)
  t.equal(pausedGql.statusCode, 429)
  t.equal(pausedGql.json().errors[0].extensions.code, 'request.rate_limited')
  t.equal((await call('10.1.0.1', good, '/healthz')).statusCode, 200, 'health probes are never paused')

  t.equal((await call('10.1.0.2', good)).statusCode, 200, 'another address is not paused')
  t.equal((await call('10.1.0.2', forged)).statusCode, 401, 'and gets 401s, not 429s, for its own first failures')

  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.equal((await call('10.1.0.1', good)).statusCode, 200, 'the pause ends with the window')
})

t.test("a provider's failed webhook signatures do not pause its address: other workspaces' webhooks from it still arrive", async (t) => {
  const { app, rest, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 2 } } })
  const postmark = async (workspace: string, user: string, password: string) => {
    const res = await rest('POST', '/v1/channels', { token: token({ workspace }), body: { kind: 'email', name: 'Mail', config: { inboundFormat: 'postmark', basicAuthUser: user, basicAuthPassword: password } } })
    t.equal(res.statusCode, 201, res.body)
    return res.data.id as string
  }
  const misconfigured = await postmark('tenant-wrong-secret', 'pm-user', 'stale-password')
  const healthy = await postmark('tenant-fine', 'pm-user', 'pm-pass-SECRET')
  const providerIp = '10.4.0.1' // one of the provider's shared sending addresses
  const deliver = (channelId: string) => app.inject({
    method: 'POST', url: `/v1/channels/${channelId}/inbound`, remoteAddress: providerIp,
    headers: { 'content-type': 'application/json', authorization: basicAuth('pm-user', 'pm-pass-SECRET') }, payload: sample('postmark-inbound.json')
  })
  for (let i = 0; i < 4; i++) t.equal((await deliver(misconfigured)).statusCode, 401, 'a channel whose secret does not match: 401, never 429')
  t.equal((await deliver(healthy)).statusCode, 200, "another workspace's webhook from the same provider address is accepted")
  t.equal((await app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: providerIp, headers: { authorization: `Bearer ${token()}` } })).statusCode, 200,
    'nor is the address paused for the API')
})

t.test('tokens refused in a GraphQL subscription connection_init count as failed authentications too', async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 2 } } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/graphql`
  const refusedInit = async (bearer: string) => {
    const client = wsClient(url, { authorization: `Bearer ${bearer}` })
    const sub = subscribe(client, 'subscription { contactChanged { id } }')
    await sub.until(() => false, 5_000)
    await client.dispose()
    return sub.failure !== undefined && sub.results.length === 0
  }
  for (let i = 0; i < 3; i++) t.ok(await refusedInit(`guess-${i}`), 'a wrong token in connection_init is refused')
  const next = await app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: '127.0.0.1', headers: { authorization: `Bearer ${token()}` } })
  t.equal(next.statusCode, 429, 'the address that guessed over WebSocket is paused like one guessing over HTTP')
  const right = wsClient(url, { authorization: `Bearer ${token()}` })
  const sub = subscribe(right, 'subscription { contactChanged { id } }')
  await sub.until(() => false, 2_000)
  await right.dispose()
  t.ok(sub.failure !== undefined || sub.completed, 'a right token over WebSocket from the paused address is refused too (the upgrade is paused)')
})

t.test('IPv6 clients are counted per /64 (one host holds the whole prefix), IPv4-mapped addresses as IPv4', async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 3 } } })
  const call = (ip: string, bearer: string) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` } })
  for (const ip of ['2001:db8:1:1::1', '2001:db8:1:1::2', '2001:db8:1:1:abcd:0:0:3']) t.equal((await call(ip, 'wrong')).statusCode, 401)
  t.equal((await call('2001:db8:1:1:ffff::9', token())).statusCode, 429, 'another address of the same /64 is paused')
  t.equal((await call('2001:db8:1:2::1', token())).statusCode, 200, 'the next /64 is not')

  for (const ip of ['::ffff:10.9.0.1', '::ffff:10.9.0.1', '::ffff:10.9.0.1']) t.equal((await call(ip, 'wrong')).statusCode, 401)
  t.equal((await call('10.9.0.1', token())).statusCode, 429, 'an IPv4-mapped address is its IPv4 address')
})

t.test("failures from thousands of other addresses do not push a paused address's count out of the in-memory store", async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 2 } } })
  const call = (ip: string, bearer: string) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` } })
  t.equal((await call('10.5.0.1', 'wrong')).statusCode, 401)
  t.equal((await call('10.5.0.1', 'wrong')).statusCode, 401)
  t.equal((await call('10.5.0.1', token())).statusCode, 429)
  for (let i = 0; i < 5_100; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => call(`10.6.${(i + j) >> 8}.${(i + j) & 255}`, 'wrong')))
  }
  t.equal((await call('10.5.0.1', token())).statusCode, 429, 'still paused')
})

t.test('a fresh address sending guesses in parallel gets at most RATE_LIMIT_AUTH_FAILURES_MAX of them looked at; the rest get 429', async (t) => {
  const max = 3
  const { app } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: max } } })
  const bursts: Array<[string, string, (i: number) => Promise<LightMyRequestResponse>]> = [
    ['wrong bearer tokens', '10.7.0.1', (i) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: '10.7.0.1', headers: { authorization: `Bearer guess-${i}` } })],
    // An API key is looked up in the database: these checks really are under way at the same time.
    ['wrong API keys', '10.7.0.2', (i) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: '10.7.0.2', headers: { authorization: `Bearer rpk_live_guess${i}${randomBytes(8).toString('hex')}` } })],
    ['wrong client secrets at the token endpoint', '10.7.0.3', (i) => app.inject({
      method: 'POST', url: '/v1/auth/token', remoteAddress: '10.7.0.3', payload: { grant_type: 'client_credentials', client_secret: `rpk_live_guess${i}${randomBytes(8).toString('hex')}` }
    })]
  ]
  for (const [what, ip, guess] of bursts) {
    const answers = await Promise.all(Array.from({ length: 3 * max }, (_, i) => guess(i)))
    const counts = statusCounts(answers)
    t.comment(`${what} from ${ip}: ${JSON.stringify(counts)}`)
    t.ok((counts[401] ?? 0) <= max, `${what}: at most ${max} looked at (401)`)
    t.equal(counts[401], max, `${what}: the first ${max} are looked at: the address was not paused before it failed`)
    t.equal(counts[429], 2 * max, `${what}: the rest get 429`)
    for (const paused of answers.filter((a) => a.statusCode === 429)) {
      const retryAfter = Number(paused.headers['retry-after'])
      t.ok(retryAfter >= 1 && retryAfter <= 60, `${what}: Retry-After ${paused.headers['retry-after']}`)
    }
  }
})

t.test('a parallel burst of right credentials larger than RATE_LIMIT_AUTH_FAILURES_MAX from one address all go through', async (t) => {
  const max = 3
  const { app, rest, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: max } } })
  const key = await rest('POST', '/v1/api-keys', { body: { name: 'burst', scopes: ['contacts:read'] } })
  t.equal(key.statusCode, 201)
  const call = (ip: string, bearer: string) => app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` } })
  const good = token()

  t.same(statusCounts(await Promise.all(Array.from({ length: 10 * max }, () => call('10.8.0.1', good)))), { 200: 10 * max }, 'right tokens: all 200')
  t.same(statusCounts(await Promise.all(Array.from({ length: 10 * max }, () => call('10.8.0.2', key.data.secret)))), { 200: 10 * max }, 'a right API key (looked up in the database): all 200')
  t.equal((await call('10.8.0.2', 'wrong')).statusCode, 401, 'successes did not count: a first failure afterwards is a 401')

  // One failure short of the pause: one check at a time, and still none refused.
  for (let i = 0; i < max - 1; i++) t.equal((await call('10.8.0.3', 'wrong')).statusCode, 401)
  t.same(statusCounts(await Promise.all(Array.from({ length: 10 * max }, () => call('10.8.0.3', key.data.secret)))), { 200: 10 * max }, `${max - 1} failures known: a burst of right keys still all 200`)
  t.equal((await call('10.8.0.3', 'wrong')).statusCode, 401, 'the last failure before the pause')
  t.equal((await call('10.8.0.3', good)).statusCode, 429, 'then the pause')
})

t.test('connection_init in parallel from a fresh address: at most RATE_LIMIT_AUTH_FAILURES_MAX keys looked up; right ones all accepted', async (t) => {
  const max = 2
  let lookups = 0
  const { app, rest } = await build(t, {
    config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: max } },
    onQuery: (query) => { if (/"secret_hash"\s*=/.test(query)) lookups++ }
  })
  const key = await rest('POST', '/v1/api-keys', { body: { name: 'subscriber', scopes: ['contacts:read'] } })
  t.equal(key.statusCode, 201)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/graphql`
  // Every socket is open (upgraded) before any connection_init is sent: the inits are all under way at once.
  const inits = async (bearers: string[]) => {
    const sockets = await Promise.all(bearers.map(() => new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, 'graphql-transport-ws')
      ws.once('open', () => resolve(ws))
      ws.once('error', reject)
    })))
    const outcomes = await Promise.all(sockets.map((ws, i) => new Promise<string>((resolve) => {
      ws.on('message', (data) => { if (JSON.parse(String(data)).type === 'connection_ack') resolve('acknowledged') })
      ws.once('close', () => resolve('refused'))
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bearers[i]}` } }))
    })))
    for (const ws of sockets) ws.close()
    return outcomes.reduce<Record<string, number>>((counts, o) => ({ ...counts, [o]: (counts[o] ?? 0) + 1 }), {})
  }
  const right = await inits(Array.from({ length: 5 * max }, () => key.data.secret as string))
  t.same(right, { acknowledged: 5 * max }, 'right keys: every connection_init is acknowledged')
  lookups = 0
  const wrong = await inits(Array.from({ length: 3 * max }, (_, i) => `rpk_live_guess${i}${randomBytes(8).toString('hex')}`))
  t.comment(`wrong keys: ${JSON.stringify(wrong)}, ${lookups} looked up`)
  t.same(wrong, { refused: 3 * max }, 'wrong keys: every connection_init is refused')
  t.ok(lookups <= max, `at most ${max} keys looked up (saw ${lookups})`)
})
