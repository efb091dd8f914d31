import t from 'tap'
import { build } from './helper.js'

// Behind a load balancer every request comes from its address: without TRUST_PROXY one client's
// failed authentications would pause every client behind it (and share one rate-limit budget).
// With it, the client address is taken from X-Forwarded-For as far as the trusted proxies go.

const fail = (app: Awaited<ReturnType<typeof build>>['app'], forwardedFor: string, bearer = 'wrong') =>
  app.inject({ method: 'GET', url: '/v1/contacts', remoteAddress: '10.9.0.1', headers: { authorization: `Bearer ${bearer}`, 'x-forwarded-for': forwardedFor } })

t.test('with the proxy trusted, clients behind it are counted apart', async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 2 }, trustProxy: ['10.9.0.0/16'] } })
  t.equal((await fail(app, '203.0.113.1')).statusCode, 401)
  t.equal((await fail(app, '203.0.113.1')).statusCode, 401)
  t.equal((await fail(app, '203.0.113.1')).statusCode, 429, 'the guessing client is paused')
  t.equal((await fail(app, '203.0.113.2', token())).statusCode, 200, 'another client behind the same proxy is not')
  t.equal((await fail(app, '198.51.100.7, 203.0.113.1', token())).statusCode, 429, 'the address the trusted proxy saw counts, not one the client wrote before it')
})

t.test('without it, the proxy is the client (the default: a forged X-Forwarded-For is no way out of a pause)', async (t) => {
  const { app, token } = await build(t, { config: { rateLimit: { max: 0, windowMs: 60_000, authFailuresMax: 2 } } })
  await fail(app, '203.0.113.1')
  await fail(app, '203.0.113.1')
  t.equal((await fail(app, '203.0.113.9', token())).statusCode, 429, 'the header is ignored: the TCP peer is paused')
})
