import t from 'tap'
import { standardWebhookSignature } from './support/channels/index.js'
import { faultSetup, kill9, pool, skipWithoutPostgres as skip, until, WEBHOOK_SECRET as SECRET } from './support/faults.js'
import { startServer } from './support/imports/server.js'
import { httpCall } from './support/process.js'

// kill -9 of a real server while provider webhooks pour in: every webhook answered 2xx becomes
// exactly one interaction after the restart, and the provider's redeliveries add no duplicate.

// Real processes on a shared machine: startup, load and recovery take longer than the suite's 120 s default.
t.setTimeout(400_000)

t.test('kill -9 while inbound webhooks are being accepted: every 2xx becomes exactly one interaction', { skip }, async (t) => {
  const { env, token, sql } = await faultSetup(t)
  const first = await startServer(t, env)
  const ch = await httpCall(first.base, 'POST', '/v1/channels', { token, body: { kind: 'webhook', name: 'faults inbound', config: { secret: SECRET } } })
  t.equal(ch.statusCode, 201, `channel created: ${ch.body.slice(0, 200)}`)
  const channelId: string = ch.data.id

  const TOTAL = 400
  const ids = Array.from({ length: TOTAL }, (_, i) => `ext-${i}`)
  const deliver = (base: URL, id: string) => {
    const body = JSON.stringify({ type: 'message.received', timestamp: new Date().toISOString(), data: { id, from: `sender-${Number(id.slice(4)) % 40}`, text: `hello ${id}` } })
    const ts = Math.floor(Date.now() / 1000)
    return fetch(new URL(`/v1/channels/${channelId}/inbound`, base), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'webhook-id': `msg-${id}`, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(SECRET, `msg-${id}`, ts, body) }
    }).then((r) => r.status, () => 0)
  }

  const accepted = new Set<string>()
  let answered = 0
  let killed = false
  const killAfter = 150
  await pool(ids, 20, async (id) => {
    const status = await deliver(first.base, id)
    if (status >= 200 && status < 300) accepted.add(id)
    if (++answered === killAfter && !killed) {
      killed = true
      await kill9(t, first, `after ${answered} answers`)
    }
  }, () => killed)
  t.ok(accepted.size >= killAfter - 20 && accepted.size < TOTAL, `${accepted.size} webhooks answered 2xx before the kill`)

  const second = await startServer(t, env)
  // What a provider does: it redelivers everything it got no 2xx for.
  const retried = ids.filter((id) => !accepted.has(id))
  const refused: string[] = []
  await pool(retried, 20, async (id) => {
    const status = await deliver(second.base, id)
    if (status < 200 || status >= 300) refused.push(`${id}: ${status}`)
  })
  t.same(refused, [], `the ${retried.length} redeliveries answered 2xx`)
  await until('the inbox is drained', async () => {
    const [{ pending }] = await sql`select count(*)::int as pending from inbound_inbox where status = 'pending'`
    return pending === 0
  })
  const [{ failed }] = await sql`select count(*)::int as failed from inbound_inbox where status = 'failed'`
  t.equal(failed, 0, 'no inbox row failed')
  const rows = await sql<Array<{ providerMessageId: string, n: number }>>`
    select provider_message_id as "providerMessageId", count(*)::int as n from interactions where channel_id = ${channelId} group by 1`
  const counts = new Map(rows.map((r) => [r.providerMessageId, r.n]))
  t.same([...accepted].filter((id) => counts.get(id) !== 1), [], `each of the ${accepted.size} webhooks answered 2xx before the kill: exactly one interaction`)
  t.same(ids.filter((id) => counts.get(id) !== 1), [], `all ${TOTAL} (after redelivery): exactly one interaction each`)
  t.equal(rows.length, TOTAL, 'no interaction that was not sent')

  const listed = await httpCall(second.base, 'GET', `/v1/interactions?channelId=${channelId}&limit=100`, { token })
  t.equal(listed.statusCode, 200)
  t.equal(listed.data.data.length, 100, 'the API sees them')
})
