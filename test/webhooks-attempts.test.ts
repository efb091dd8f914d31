import { eq, sql } from 'drizzle-orm'
import t from 'tap'
import { inWorkspace } from '../src/db/tenant.js'
import { webhookDeliveries, webhookDeliveryAttempts, webhookEndpoints } from '../src/modules/webhooks/webhooks.table.js'
import { assertProblem } from './support/problem.js'
import { webhookTestbed } from './support/webhooks.js'

// The attempt history of a delivery: one row per attempt, written with the delivery's outcome.

t.setTimeout(400_000)

const { time, shared, receiver, setup, drain } = await webhookTestbed(t, 'att')
const attemptsUrl = (endpointId: string, deliveryId: string) => `/v1/webhook-endpoints/${endpointId}/deliveries/${deliveryId}/attempts`

t.test('every attempt of a retried delivery is listed in order, paged, and numbering goes on after a redelivery', async (t) => {
  const { rest, endpoint, contact, deliveries, target } = await setup([{ status: 500 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 200 }])
  await contact()
  await drain()
  time.advance(1500)
  await drain()
  time.advance(2500)
  await drain()
  t.equal(target.hits().length, 3)
  const [d] = await deliveries()
  t.match(d, { status: 'succeeded', totalAttempts: 3 })

  const res = await rest('GET', attemptsUrl(endpoint.id, d.id))
  t.equal(res.statusCode, 200, res.body)
  const attempts = res.data.data
  t.match(attempts, [
    { attempt: 1, outcome: 'retry_scheduled', statusCode: 500, errorKind: 'http_status', error: 'HTTP 500' },
    { attempt: 2, outcome: 'retry_scheduled', statusCode: 429, errorKind: 'http_status', error: 'HTTP 429' },
    { attempt: 3, outcome: 'succeeded', statusCode: 200, errorKind: null, error: null, nextAttemptAt: null }
  ])
  t.equal(res.data.nextCursor, null)
  for (const a of attempts) t.ok(Number.isInteger(a.durationMs) && a.durationMs >= 0, `attempt ${a.attempt} has its duration (${a.durationMs} ms)`)
  t.ok(attempts[0].startedAt < attempts[1].startedAt && attempts[1].startedAt < attempts[2].startedAt, 'started in order')
  const wait = Date.parse(attempts[0].nextAttemptAt) - Date.parse(attempts[0].startedAt)
  t.ok(wait >= 800 && wait <= 1200, `attempt 1 scheduled the retry after 1 s ± 20 % (${wait} ms)`)
  t.equal(Date.parse(attempts[1].nextAttemptAt) - Date.parse(attempts[1].startedAt), 2000, 'attempt 2 scheduled it after the Retry-After')
  t.equal(attempts[2].startedAt, d.lastAttemptAt, 'the last attempt is the one the delivery shows')

  const page1 = await rest('GET', `${attemptsUrl(endpoint.id, d.id)}?limit=2`)
  t.same(page1.data.data.map((a: any) => a.attempt), [1, 2])
  t.match(page1.headers.link, /rel="next"/)
  const page2 = await rest('GET', `${attemptsUrl(endpoint.id, d.id)}?limit=2&after=${page1.data.nextCursor}`)
  t.same(page2.data.data.map((a: any) => a.attempt), [3])
  t.equal(page2.data.nextCursor, null)
  assertProblem(t, await rest('GET', `${attemptsUrl(endpoint.id, d.id)}?after=not-a-cursor`), 400, 'request.invalid_cursor')
  assertProblem(t, await rest('GET', `${attemptsUrl(endpoint.id, d.id)}?limit=0`), 400, 'validation.failed')

  t.equal((await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${d.id}/redeliver`)).statusCode, 202)
  await drain()
  const after = (await rest('GET', attemptsUrl(endpoint.id, d.id))).data.data
  t.same(after.map((a: any) => [a.attempt, a.outcome]), [[1, 'retry_scheduled'], [2, 'retry_scheduled'], [3, 'succeeded'], [4, 'succeeded']], 'a redelivery adds attempt 4')
})

t.test('the last attempt of a failing delivery says failed; errors are classified', async (t) => {
  const { rest, endpoint, contact, deliveries } = await setup([{ status: 410 }])
  await contact()
  await drain()
  const [d] = await deliveries()
  t.match((await rest('GET', attemptsUrl(endpoint.id, d.id))).data.data, [{ attempt: 1, outcome: 'failed', statusCode: 410, errorKind: 'http_status', nextAttemptAt: null }])

  // Nothing listens on the discard port: the connection is refused by the network.
  const closed = await setup()
  await shared.database.db.update(webhookEndpoints).set({ url: 'http://127.0.0.1:9/closed' }).where(eq(webhookEndpoints.id, closed.endpoint.id))
  // And a URL whose name now leads to loopback is refused by the URL policy.
  const rebound = await setup()
  await shared.database.db.update(webhookEndpoints).set({ url: `http://localhost:${receiver.port}/rebound` }).where(eq(webhookEndpoints.id, rebound.endpoint.id))
  await closed.contact()
  await rebound.contact()
  await drain()
  const [c] = await closed.deliveries()
  t.match((await closed.rest('GET', attemptsUrl(closed.endpoint.id, c.id))).data.data, [{ attempt: 1, outcome: 'retry_scheduled', statusCode: null, errorKind: 'network', error: /ECONNREFUSED/ }])
  const [r] = await rebound.deliveries()
  t.match((await rebound.rest('GET', attemptsUrl(rebound.endpoint.id, r.id))).data.data, [{ attempt: 1, outcome: 'retry_scheduled', statusCode: null, errorKind: 'refused', error: /loopback/ }])
})

t.test('an outcome and its attempt commit together: when the attempt cannot be written, neither is the outcome', async (t) => {
  const { rest, endpoint, contact, deliveries, target, workspace } = await setup([{ status: 500 }, { status: 200 }])
  await contact()
  await drain()
  const [d] = await deliveries()
  t.match(d, { status: 'pending', totalAttempts: 1, lastStatusCode: 500 }, 'attempt 1 failed; the retry waits for the clock')
  // A row already holding attempt number 2 makes the worker's record of attempt 2 fail.
  await inWorkspace(shared.database.db, workspace, (tx) => tx.insert(webhookDeliveryAttempts).values({
    workspaceId: workspace, deliveryId: d.id, attempt: 2, startedAt: new Date(0), durationMs: 0, outcome: 'failed'
  }))
  time.advance(1500)
  await drain()
  t.equal(target.hits().length, 2, 'the POST of attempt 2 went out')
  const [row] = await shared.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, d.id))
  t.match(row, { status: 'pending', totalAttempts: 2, lastStatusCode: 500 }, 'its outcome (a 200) was not recorded either')
  t.equal(row.lastAttemptAt?.toISOString(), d.lastAttemptAt, 'the delivery still shows attempt 1')
  const listed = (await rest('GET', attemptsUrl(endpoint.id, d.id))).data.data
  t.same(listed.map((a: any) => [a.attempt, a.outcome, a.statusCode]), [[1, 'retry_scheduled', 500], [2, 'failed', null]], 'no second row for attempt 2')

  // The claim's lease is all that is left of it: once it ends the delivery is sent again.
  time.advance(shared.config.webhooks.leaseMs + 1000)
  await drain()
  t.equal(target.hits().length, 3, 'sent again once the lease ended')
  t.equal(target.hits()[2].headers['webhook-id'], target.hits()[1].headers['webhook-id'], 'with the same webhook-id')
  t.match((await rest('GET', attemptsUrl(endpoint.id, d.id))).data.data, [{ attempt: 1 }, { attempt: 2 }, { attempt: 3, outcome: 'succeeded', statusCode: 200 }])
  t.match((await deliveries())[0], { status: 'succeeded', totalAttempts: 3 })
})

t.test('the attempts route: webhooks:read, 404 for unknown ids and for another workspace\'s', async (t) => {
  const a = await setup()
  await a.contact()
  await drain()
  const [d] = await a.deliveries()
  const url = attemptsUrl(a.endpoint.id, d.id)
  t.equal((await a.rest('GET', url, { token: a.token({ scopes: ['webhooks:read'] }) })).statusCode, 200, 'webhooks:read is enough')
  const forbidden = assertProblem(t, await a.rest('GET', url, { token: a.token({ scopes: ['webhooks:write', 'contacts:read'] }) }), 403, 'auth.forbidden', 'without webhooks:read')
  t.equal(forbidden.requiredScope, 'webhooks:read')
  assertProblem(t, await a.rest('GET', url, { token: null }), 401, 'auth.unauthenticated')
  assertProblem(t, await a.rest('GET', attemptsUrl(a.endpoint.id, 'whd_01kaaaaaaaaaaaaaaaaaaaaaaa')), 404, 'delivery.not_found')
  assertProblem(t, await a.rest('GET', attemptsUrl('whe_01kaaaaaaaaaaaaaaaaaaaaaaa', d.id)), 404, 'webhook.not_found')

  const b = await setup()
  assertProblem(t, await b.rest('GET', url), 404, 'webhook.not_found', 'another workspace\'s endpoint and delivery')
  assertProblem(t, await b.rest('GET', attemptsUrl(b.endpoint.id, d.id)), 404, 'delivery.not_found', 'its own endpoint with another workspace\'s delivery')
  const siblings = await a.rest('POST', '/v1/webhook-endpoints', { body: { url: receiver.endpoint().url, eventTypes: ['promise.broken'] } })
  assertProblem(t, await a.rest('GET', attemptsUrl(siblings.data.id, d.id)), 404, 'delivery.not_found', 'a delivery under an endpoint it does not belong to')
})

t.test('the attempts table is tenant data: row-level security enabled and forced', async (t) => {
  const [rls] = await shared.database.db.execute<{ enabled: boolean, forced: boolean }>(sql`select relrowsecurity as enabled, relforcerowsecurity as forced from pg_class where relname = 'webhook_delivery_attempts'`)
    .then((r: any) => r.rows ?? r)
  t.same(rls, { enabled: true, forced: true })
})
