import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { signedHeaders } from '../src/modules/webhooks/webhooks.signing.js'
import { eventConsumers, webhookDeliveries, webhookEndpoints } from '../src/modules/webhooks/webhooks.table.js'
import { sample } from './support/channels/index.js'
import { assertProblem } from './support/problem.js'
import { webhookTestbed } from './support/webhooks.js'

// A shared PostgreSQL cluster can hold the log back for a while (long transactions of other suites).
t.setTimeout(400_000)

// One app for the file (retry schedule 1 s, 2 s, 4 s from testConfig), each test in its own workspace.
const { time, shared, fresh, receiver, setup, drain } = await webhookTestbed(t, 'wh')
const { app, database } = shared

t.test('endpoint CRUD: the secret is shown once, ETag/If-Match, scopes on event types', async (t) => {
  const { rest, endpoint, token, target } = await setup()
  t.match(endpoint, { id: /^whe_/, url: target.url, eventTypes: ['contact.created'], status: 'enabled', disabledReason: null, description: 'test receiver', version: 1 })
  t.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'a Standard Webhooks secret (32 random bytes)')

  const got = await rest('GET', `/v1/webhook-endpoints/${endpoint.id}`)
  t.equal(got.statusCode, 200)
  t.equal(got.data.secret, undefined, 'a read never returns the secret')
  t.equal(got.headers.etag, '"v1"')
  t.equal((await rest('GET', `/v1/webhook-endpoints/${endpoint.id}`, { headers: { 'if-none-match': '"v1"' } })).statusCode, 304)
  const row = (await database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id)))[0]
  t.notOk(row.secret.includes(endpoint.secret.slice(6)), 'the secret is stored encrypted')

  const list = await rest('GET', '/v1/webhook-endpoints')
  t.same(list.data.data.map((e: any) => e.id), [endpoint.id])

  assertProblem(t, await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { description: 'x' }, headers: { 'if-match': '"v7"' } }), 412, 'precondition.failed')
  const patched = await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { eventTypes: ['promise.broken', 'contact.created', 'promise.broken'], description: null }, headers: { 'if-match': '"v1"' } })
  t.equal(patched.statusCode, 200, patched.body)
  t.match(patched.data, { eventTypes: ['contact.created', 'promise.broken'], description: null, version: 2 })
  t.equal(patched.headers.etag, '"v2"')

  const bad = assertProblem(t, await rest('POST', '/v1/webhook-endpoints', { body: { url: target.url, eventTypes: ['contact.exploded'] } }), 400, 'validation.failed')
  t.match(bad.errors, [{ pointer: /eventTypes/ }])
  assertProblem(t, await rest('POST', '/v1/webhook-endpoints', { body: { url: target.url, eventTypes: [] } }), 400, 'validation.failed')
  // webhooks:write alone must not become a way to read contacts.
  const writer = token({ scopes: ['webhooks:write', 'promises:read'] })
  const forbidden = assertProblem(t, await rest('POST', '/v1/webhook-endpoints', { token: writer, body: { url: target.url, eventTypes: ['contact.created'] } }), 403, 'auth.forbidden')
  t.equal(forbidden.requiredScope, 'contacts:read')
  assertProblem(t, await rest('POST', '/v1/webhook-endpoints', { token: writer, body: { url: target.url, eventTypes: ['*'] } }), 403, 'auth.forbidden')
  t.equal((await rest('POST', '/v1/webhook-endpoints', { token: writer, body: { url: target.url, eventTypes: ['promise.broken'] } })).statusCode, 201)
  assertProblem(t, await rest('GET', '/v1/webhook-endpoints', { token: token({ scopes: ['webhooks:write'] }) }), 403, 'auth.forbidden')

  assertProblem(t, await rest('DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { headers: { 'if-match': '"v1"' } }), 412, 'precondition.failed')
  t.equal((await rest('DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { headers: { 'if-match': '"v2"' } })).statusCode, 204)
  assertProblem(t, await rest('GET', `/v1/webhook-endpoints/${endpoint.id}`), 404, 'webhook.not_found')
})

t.test('a delivery verifies with the standardwebhooks package; webhook-id is the event id', async (t) => {
  const { rest, endpoint, contact, deliveries, target } = await setup()
  const ada = await contact('Ada')
  await drain()
  const hits = target.hits()
  t.equal(hits.length, 1, 'one POST')
  const [hit] = hits
  t.equal(hit.headers['content-type'], 'application/json')
  const verified = new Webhook(endpoint.secret).verify(hit.body, hit.headers as Record<string, string>) as any
  t.equal(verified.type, 'contact.created')
  t.same(verified.data, ada, 'data is the contact as GET returns it')
  t.match(hit.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/)
  t.throws(() => new Webhook(endpoint.secret).verify(hit.body.replace('Ada', 'Eve'), hit.headers as Record<string, string>), 'a changed body does not verify')

  const events = (await rest('GET', '/v1/events?types=contact.created')).data.data
  t.equal(hit.headers['webhook-id'], events[0].id, 'webhook-id is the event id')
  t.equal(verified.timestamp, events[0].occurredAt, 'timestamp is when the event happened')

  const [d] = await deliveries()
  t.match(d, { id: /^whd_/, endpointId: endpoint.id, eventId: events[0].id, eventType: 'contact.created', status: 'succeeded', attempts: 1, totalAttempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null })
  t.type(d.lastLatencyMs, 'number')
  t.ok(d.lastAttemptAt)
})

t.test('our signer reproduces the Standard Webhooks sample signature', async (t) => {
  const body = sample('standard-webhooks-outbound.json').toString('utf8')
  const headers = signedHeaders(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', new Date(1674087231 * 1000), body)
  t.same(headers, {
    'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    'webhook-timestamp': '1674087231',
    'webhook-signature': 'v1,ARw42xaAApl/nxRo+iPGYwSaMQaOwMo2eyH5JBRA+bQ='
  })
})

t.test('event types filter what an endpoint receives; * receives everything', async (t) => {
  const { rest, contact, target } = await setup(undefined, ['promise.broken'])
  const all = receiver.endpoint()
  t.equal((await rest('POST', '/v1/webhook-endpoints', { body: { url: all.url, eventTypes: ['*'] } })).statusCode, 201)
  const c = await contact('Grace')
  await rest('PATCH', `/v1/contacts/${c.id}`, { body: { displayName: 'Grace H.' } })
  await drain()
  t.equal(target.hits().length, 0, 'promise.broken only: nothing for contact events')
  t.same(all.hits().map((h) => JSON.parse(h.body).type).sort(), ['contact.created', 'contact.updated'])
})

t.test('a 500 is retried after the schedule with the same webhook-id, then succeeds', async (t) => {
  const { contact, deliveries, target, endpoint } = await setup([{ status: 500 }, { status: 200 }])
  await contact()
  await drain()
  t.equal(target.hits().length, 1)
  let [d] = await deliveries()
  t.match(d, { status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' })
  const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt)
  t.ok(wait >= 800 && wait <= 1200, `first retry after 1 s ± 20 % jitter (${wait} ms)`)

  await drain()
  t.equal(target.hits().length, 1, 'not retried before it is due')
  time.advance(1500)
  await drain()
  const hits = target.hits()
  t.equal(hits.length, 2, 'retried once due')
  t.equal(hits[1].headers['webhook-id'], hits[0].headers['webhook-id'], 'the same webhook-id on every attempt')
  t.ok(new Webhook(endpoint.secret).verify(hits[1].body, hits[1].headers as Record<string, string>))
  ;[d] = await deliveries()
  t.match(d, { status: 'succeeded', attempts: 2, lastStatusCode: 200, lastError: null, nextAttemptAt: null })
})

t.test('Retry-After decides when the next attempt is due', async (t) => {
  const { contact, deliveries, target } = await setup([{ status: 503, headers: { 'retry-after': '3' } }, { status: 200 }])
  await contact()
  await drain()
  const [d] = await deliveries()
  const wait = Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt)
  t.equal(wait, 3000, `next attempt after the 3 s asked for (${wait} ms)`)
  time.advance(2000)
  await drain()
  t.equal(target.hits().length, 1, 'still waiting at +2 s')
  time.advance(1500)
  await drain()
  t.equal(target.hits().length, 2, 'sent at +3.5 s')
})

t.test('410 Gone disables the endpoint with its reason; nothing more is delivered', async (t) => {
  const { contact, deliveries, target, getEndpoint } = await setup([{ status: 410 }])
  await contact()
  await drain()
  const ep = await getEndpoint()
  t.equal(ep.status, 'disabled')
  t.match(ep.disabledReason, /410 Gone/)
  t.match((await deliveries())[0], { status: 'failed', lastStatusCode: 410 })
  await contact('later')
  await drain()
  t.equal(target.hits().length, 1, 'a disabled endpoint gets no new deliveries')
  t.equal((await deliveries()).length, 1)
})

t.test('a delivery that fails every attempt disables the endpoint, and redelivery after re-enabling', async (t) => {
  const { rest, contact, deliveries, target, endpoint, getEndpoint } = await setup([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 200 }])
  await contact()
  await drain()
  // Each step passes its delay plus the most jitter can add (+20 %).
  for (const step of [1500, 2500, 5000]) {
    time.advance(step)
    await drain()
  }
  t.equal(target.hits().length, 4, 'the first attempt and three retries')
  const [d] = await deliveries()
  t.match(d, { status: 'failed', attempts: 4, lastStatusCode: 500, nextAttemptAt: null })
  const ep = await getEndpoint()
  t.equal(ep.status, 'disabled')
  t.match(ep.disabledReason, new RegExp(`${d.id} failed 4 attempts`))

  assertProblem(t, await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${d.id}/redeliver`), 409, 'webhook.disabled')
  const enabled = await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { status: 'enabled' } })
  t.match(enabled.data, { status: 'enabled', disabledReason: null })
  const again = await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${d.id}/redeliver`)
  t.equal(again.statusCode, 202, again.body)
  t.match(again.data, { id: d.id, status: 'pending', attempts: 0, totalAttempts: 4 })
  await drain()
  const hits = target.hits()
  t.equal(hits.length, 5)
  t.equal(hits[4].headers['webhook-id'], hits[0].headers['webhook-id'], 'redelivery keeps the webhook-id')
  t.equal(hits[4].body, hits[0].body, 'and the body')
  t.match((await deliveries())[0], { status: 'succeeded', attempts: 1, totalAttempts: 5 })
  assertProblem(t, await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/whd_01kaaaaaaaaaaaaaaaaaaaaaaa/redeliver`), 404, 'delivery.not_found')
})

t.test('disabling an endpoint cancels its pending deliveries', async (t) => {
  const { rest, contact, deliveries, endpoint } = await setup([{ status: 500 }])
  await contact()
  await drain()
  t.equal((await deliveries())[0].status, 'pending')
  const off = await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { status: 'disabled' } })
  t.match(off.data, { status: 'disabled', disabledReason: /disabled by/ })
  t.match((await deliveries())[0], { status: 'cancelled', nextAttemptAt: null })
})

t.test('rotating the secret with no grace: shown once, later deliveries sign with the new one only', async (t) => {
  const { rest, contact, target, endpoint } = await setup()
  const rotated = await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: { previousSecretExpiresInSeconds: 0 } })
  t.equal(rotated.statusCode, 200)
  t.not(rotated.data.secret, endpoint.secret)
  t.equal(rotated.data.previousSecretExpiresAt, null, 'no grace: the previous secret is not kept')
  await contact()
  await drain()
  const [hit] = target.hits()
  t.ok(new Webhook(rotated.data.secret).verify(hit.body, hit.headers as Record<string, string>))
  t.throws(() => new Webhook(endpoint.secret).verify(hit.body, hit.headers as Record<string, string>), 'the old secret no longer verifies')
})

t.test('a URL re-pointed at a private address is refused at delivery time (DNS rebinding)', async (t) => {
  const { contact, deliveries, endpoint, target } = await setup()
  // As if its DNS changed after the check at creation: the name now leads to loopback.
  await database.db.update(webhookEndpoints).set({ url: `http://localhost:${receiver.port}${target.path}` }).where(eq(webhookEndpoints.id, endpoint.id))
  await contact()
  await drain()
  t.equal(target.hits().length, 0, 'nothing reached the receiver')
  t.match((await deliveries())[0], { status: 'pending', lastStatusCode: null, lastError: /loopback/ })
})

t.test('workspaces: endpoints and deliveries of another workspace are 404 and never fed', async (t) => {
  const a = await setup()
  const b = fresh()
  await a.contact()
  await drain()
  const [d] = await a.deliveries()
  for (const [method, url] of [
    ['GET', `/v1/webhook-endpoints/${a.endpoint.id}`], ['PATCH', `/v1/webhook-endpoints/${a.endpoint.id}`], ['DELETE', `/v1/webhook-endpoints/${a.endpoint.id}`],
    ['POST', `/v1/webhook-endpoints/${a.endpoint.id}/rotate-secret`], ['GET', `/v1/webhook-endpoints/${a.endpoint.id}/deliveries`],
    ['POST', `/v1/webhook-endpoints/${a.endpoint.id}/deliveries/${d.id}/redeliver`]
  ]) {
    const res = await b.rest(method, url, method === 'PATCH' ? { body: { description: 'mine now' } } : {})
    t.equal(res.statusCode, 404, `${method} ${url} from another workspace: 404`)
  }
  t.same((await b.rest('GET', '/v1/webhook-endpoints')).data.data, [])
  await b.rest('POST', '/v1/contacts', { body: { displayName: 'B person' } })
  await drain()
  t.equal(a.target.hits().length, 1, 'B\'s events never reach A\'s endpoint')
  t.equal((await a.getEndpoint()).description, 'test receiver', 'A\'s endpoint unchanged')
})

t.test('a fan-out that runs over the same events again delivers nothing twice', async (t) => {
  const { contact, target, deliveries } = await setup()
  await contact('one')
  await contact('two')
  await drain()
  t.equal(target.hits().length, 2)
  // Rewind the cursor to the start of the log, as a crash before commit would leave it.
  await database.db.update(eventConsumers).set({ position: null })
  await drain()
  t.equal(target.hits().length, 2, 'no second POST')
  t.equal((await deliveries()).length, 2, 'no second delivery row')
  const rows = await database.db.select().from(webhookDeliveries)
  t.equal(new Set(rows.map((r) => `${r.endpointId}/${r.eventId}`)).size, rows.length, 'one row per (endpoint, event) in the whole table')
})

t.test('a test ping: signed webhook.test to this endpoint only, in its delivery log', async (t) => {
  const { rest, endpoint, target, deliveries } = await setup(undefined, ['promise.broken'])
  const res = await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/test`)
  t.equal(res.statusCode, 202, res.body)
  t.match(res.data, { id: /^whd_/, eventType: 'webhook.test', status: 'pending' })
  await drain()
  const [hit] = target.hits()
  const verified = new Webhook(endpoint.secret).verify(hit.body, hit.headers as Record<string, string>) as any
  t.match(verified, { type: 'webhook.test', data: { endpointId: endpoint.id } })
  t.match(await deliveries(), [{ id: res.data.id, status: 'succeeded' }])
  await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { status: 'disabled' } })
  assertProblem(t, await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/test`), 409, 'webhook.disabled')
})

t.test('a receiver that does not answer in time: the attempt ends at the timeout and is retried', async (t) => {
  const { contact, deliveries, target } = await setup([{ status: 200, delayMs: 10_000 }, { status: 200 }])
  await contact()
  const started = Date.now()
  await drain()
  t.ok(Date.now() - started < 8000, 'the worker did not wait for the slow answer')
  const [d] = await deliveries()
  t.match(d, { status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'no answer within 2000 ms' })
  t.ok(d.lastLatencyMs >= 1900, `latency is the time waited (${d.lastLatencyMs} ms)`)
  time.advance(1500)
  await drain()
  t.equal(target.hits().length, 2)
  t.match((await deliveries())[0], { status: 'succeeded', attempts: 2 })
})
