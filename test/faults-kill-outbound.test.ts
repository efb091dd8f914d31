import { createServer, type IncomingMessage } from 'node:http'
import t from 'tap'
import { faultSetup, kill9, pool, skipWithoutPostgres as skip, until, WEBHOOK_SECRET as SECRET } from './support/faults.js'
import { startServer } from './support/imports/server.js'
import { httpCall } from './support/process.js'

// kill -9 of a real server while its outbox drains: after the restart every accepted send
// reaches the provider, and a key is repeated only for a call in flight at the kill.

// Real processes on a shared machine: startup, load and recovery take longer than the suite's 120 s default.
t.setTimeout(400_000)

t.test('kill -9 while the outbox drains: every accepted send is delivered, once per idempotency key', { skip }, async (t) => {
  // The provider: counts every call by webhook-id (the idempotency key) and answers slowly
  // enough that the kill lands while sends are in flight.
  const calls = new Map<string, number>()
  const provider = createServer((req: IncomingMessage, res) => {
    req.resume()
    req.on('end', () => {
      const key = String(req.headers['webhook-id'])
      calls.set(key, (calls.get(key) ?? 0) + 1)
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 15)
    })
  })
  await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => provider.close(() => resolve())))
  const providerUrl = `http://127.0.0.1:${(provider.address() as { port: number }).port}/hook`

  // The shortest lease: a send claimed by the killed process is retried a second later.
  const { env, token, sql } = await faultSetup(t, { OUTBOX_LEASE_MS: '1000', OUTBOX_BACKOFF_MS: '50' })
  const first = await startServer(t, env)
  const ch = await httpCall(first.base, 'POST', '/v1/channels', { token, body: { kind: 'webhook', name: 'faults outbound', config: { secret: SECRET, url: providerUrl } } })
  t.equal(ch.statusCode, 201, `channel created: ${ch.body.slice(0, 200)}`)
  const contact = await httpCall(first.base, 'POST', '/v1/contacts', { token, body: { displayName: 'Receiver' } })

  const TOTAL = 200
  const accepted = new Set<string>()
  await pool(Array.from({ length: TOTAL }, (_, i) => i), 10, async (i) => {
    const res = await httpCall(first.base, 'POST', `/v1/contacts/${contact.data.id}/messages`, { token, body: { channelId: ch.data.id, text: `message ${i}`, to: 'receiver-1' } })
    if (res.statusCode === 202) accepted.add(res.data.id)
    else t.fail(`send ${i}: ${res.statusCode} ${res.body}`)
  })
  t.equal(accepted.size, TOTAL, 'every send accepted (202)')
  await until('the provider got some sends', async () => calls.size >= 40)
  await kill9(t, first, `with ${calls.size} of ${TOTAL} sends delivered`)
  const beforeRestart = calls.size
  t.ok(beforeRestart < TOTAL, 'killed while the outbox was draining')

  const second = await startServer(t, env)
  await until('the outbox is drained', async () => {
    const [{ pending }] = await sql`select count(*)::int as pending from outbox where status = 'pending'`
    return pending === 0
  }, 120_000, 100).catch(async (err) => {
    const state = await sql`select status, attempts, last_error, count(*)::int as n from outbox group by 1, 2, 3`
    t.comment(`outbox: ${JSON.stringify(state).slice(0, 1500)}; provider saw ${calls.size} keys`)
    throw err
  })
  t.same([...accepted].filter((id) => !calls.has(id)), [], 'every accepted send reached the provider')
  t.same([...calls.keys()].filter((k) => !accepted.has(k)), [], 'and nothing else')
  const repeats = [...calls.values()].filter((n) => n > 1).length
  // Only a send in flight at the kill can be repeated (its answer was lost); the provider sees
  // the same key, so it delivers once (Standard Webhooks: receivers deduplicate on webhook-id).
  t.ok(repeats <= 10, `${repeats} key(s) called twice (in flight at the kill), dedupable by the provider`)
  const [{ done }] = await sql`select count(*)::int as done from outbox where status = 'done'`
  t.equal(done, TOTAL, 'every outbox row done')
  const statuses = await sql`select status, count(*)::int as n from interactions where direction = 'outbound' group by 1`
  t.same(statuses.map((r) => ({ ...r })), [{ status: 'delivered', n: TOTAL }], 'every message delivered')
  const again = await httpCall(second.base, 'GET', `/v1/interactions?channelId=${ch.data.id}&limit=1`, { token })
  t.match(again.data.data, [{ status: 'delivered' }])
})
