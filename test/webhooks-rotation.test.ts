import { eq } from 'drizzle-orm'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { webhookEndpoints } from '../src/modules/webhooks/webhooks.table.js'
import { assertFieldErrors, assertProblem } from './support/problem.js'
import { webhookTestbed, type ReceivedWebhook } from './support/webhooks.js'

// Zero-downtime secret rotation (Standard Webhooks): after a rotation, deliveries carry a
// signature made with the new secret and one made with the previous secret until its grace ends.

t.setTimeout(400_000)

const DAY_MS = 86_400_000
const { time, shared, setup, drain } = await webhookTestbed(t, 'rot')

// The reference package's verdict, with the receiver's raw body and headers.
const verifies = (secret: string, hit: ReceivedWebhook) => {
  try {
    new Webhook(secret).verify(hit.body, hit.headers as Record<string, string>)
    return true
  } catch {
    return false
  }
}
const signatures = (hit: ReceivedWebhook) => String(hit.headers['webhook-signature']).split(' ')

t.test('default grace: the previous secret signs alongside the new one for a day, then stops', async (t) => {
  const { rest, endpoint, contact, target, getEndpoint } = await setup()
  const rotatedAt = time.clock.now().getTime()
  const rotated = await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`)
  t.equal(rotated.statusCode, 200, rotated.body)
  t.match(rotated.data.secret, /^whsec_/)
  t.not(rotated.data.secret, endpoint.secret)
  t.equal(rotated.data.previousSecretExpiresAt, new Date(rotatedAt + DAY_MS).toISOString(), 'a body is optional: 86400 s by default')
  const read = await getEndpoint()
  t.equal(read.previousSecretExpiresAt, rotated.data.previousSecretExpiresAt, 'the endpoint shows until when the previous secret signs')
  t.equal(read.secret, undefined)
  t.notOk(JSON.stringify(read).includes('whsec_'), 'no secret, current or previous, is ever read back')

  const [row] = await shared.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id))
  t.ok(row.previousSecret, 'the previous secret is kept')
  t.notOk(row.previousSecret!.includes(endpoint.secret.slice(6)), 'sealed like the current one, not in clear')

  await contact('within the grace')
  await drain()
  const [inGrace] = target.hits()
  t.equal(signatures(inGrace).length, 2, 'two space-separated signatures')
  t.match(signatures(inGrace), [/^v1,/, /^v1,/])
  t.ok(verifies(rotated.data.secret, inGrace), 'a receiver holding the new secret verifies')
  t.ok(verifies(endpoint.secret, inGrace), 'a receiver still holding the old secret verifies too')

  time.advance(DAY_MS - 1000)
  await contact('at the end of the grace')
  await drain()
  t.ok(verifies(endpoint.secret, target.hits()[1]), 'the old secret still verifies a second before the grace ends')

  time.advance(2000)
  await contact('after the grace')
  await drain()
  const late = target.hits()[2]
  t.equal(signatures(late).length, 1, 'one signature once the grace is over')
  t.ok(verifies(rotated.data.secret, late), 'the new secret verifies')
  t.notOk(verifies(endpoint.secret, late), 'the old secret no longer does')
  t.equal((await getEndpoint()).previousSecretExpiresAt, rotated.data.previousSecretExpiresAt, 'a past time: the grace is over')
})

t.test('a grace chosen in the body; a second rotation within it keeps only the secret it replaced', async (t) => {
  const { rest, endpoint, contact, target } = await setup()
  const url = `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`
  const first = await rest('POST', url, { body: { previousSecretExpiresInSeconds: 600 } })
  t.equal(first.statusCode, 200, first.body)
  t.equal(Date.parse(first.data.previousSecretExpiresAt) - time.clock.now().getTime(), 600_000, 'expires 600 s from now')
  time.advance(60_000)
  const second = await rest('POST', url, { body: { previousSecretExpiresInSeconds: 120 } })
  t.equal(second.statusCode, 200, second.body)
  t.equal(second.data.version, endpoint.version + 2, 'each rotation is a new version')

  await contact()
  await drain()
  const [hit] = target.hits()
  t.equal(signatures(hit).length, 2)
  t.ok(verifies(second.data.secret, hit), 'the newest secret verifies')
  t.ok(verifies(first.data.secret, hit), 'the secret it replaced verifies during its grace')
  t.notOk(verifies(endpoint.secret, hit), 'the secret before that is gone, although its grace had not ended')

  time.advance(121_000)
  await contact('later')
  await drain()
  const later = target.hits()[1]
  t.ok(verifies(second.data.secret, later))
  t.notOk(verifies(first.data.secret, later), 'the second rotation\'s own grace (120 s) decides')
})

t.test('a grace of 0 stops the old secret at once and keeps nothing', async (t) => {
  const { rest, endpoint, contact, target } = await setup()
  const rotated = await rest('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, { body: { previousSecretExpiresInSeconds: 0 } })
  t.equal(rotated.data.previousSecretExpiresAt, null)
  const [row] = await shared.database.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id))
  t.equal(row.previousSecret, null, 'the previous secret is not stored')
  await contact()
  await drain()
  const [hit] = target.hits()
  t.equal(signatures(hit).length, 1)
  t.ok(verifies(rotated.data.secret, hit))
  t.notOk(verifies(endpoint.secret, hit))
})

t.test('the rotation body is validated; scopes and workspaces apply', async (t) => {
  const { rest, endpoint, token } = await setup()
  const url = `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`
  for (const bad of [-1, 604_801, 1.5, '60', null]) {
    const p = assertProblem(t, await rest('POST', url, { body: { previousSecretExpiresInSeconds: bad } }), 400, 'validation.failed', `previousSecretExpiresInSeconds ${JSON.stringify(bad)}`)
    assertFieldErrors(t, p.errors, [{ pointer: '/body/previousSecretExpiresInSeconds' }], JSON.stringify(bad))
  }
  assertProblem(t, await rest('POST', url, { body: { previousSecretExpiresIn: 60 } }), 400, 'validation.failed', 'an unknown field')
  const longest = await rest('POST', url, { body: { previousSecretExpiresInSeconds: 604_800 } })
  t.equal(longest.statusCode, 200, 'seven days is the longest grace')
  t.equal(Date.parse(longest.data.previousSecretExpiresAt) - time.clock.now().getTime(), 604_800_000)

  assertProblem(t, await rest('POST', url, { token: token({ scopes: ['webhooks:read'] }) }), 403, 'auth.forbidden', 'webhooks:read cannot rotate')
  const other = await setup()
  assertProblem(t, await other.rest('POST', url, { body: { previousSecretExpiresInSeconds: 60 } }), 404, 'webhook.not_found', 'another workspace\'s endpoint')
})
