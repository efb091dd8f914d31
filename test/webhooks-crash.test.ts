import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import t from 'tap'
import { api, mintToken, serverEnv, startServer } from './support/imports/server.js'

// A server killed with SIGKILL while a webhook request is in flight loses no event: the claim
// was committed with a lease, so the restarted server sends that delivery again (same
// webhook-id) once the lease ends, and the fan-out resumes from its committed cursor.

t.setTimeout(400_000)

const CONTACTS = 40
const KILL_AT = 12

t.test('kill -9 mid-delivery, restart: every event is delivered, at least once, with its own webhook-id', {
  skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL (set DATABASE_URL): the embedded PGlite lives inside the killed process'
}, async (t) => {
  const received: Array<{ headers: IncomingHttpHeaders, body: string }> = []
  let onRequest: (n: number) => void = () => {}
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      onRequest(received.length)
      // A little slow, as real receivers are: the kill lands while requests are open.
      setTimeout(() => res.writeHead(200).end(), 20)
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => { receiver.closeAllConnections(); receiver.close(resolve) }))
  const port = (receiver.address() as AddressInfo).port

  const env = await serverEnv(t, {
    WORKER_POLL_MS: '20', WEBHOOK_ALLOW_HOSTS: '127.0.0.1', WEBHOOK_RETRY_SCHEDULE: '1,1,1,1,1,1,1,1,1,1', WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_LEASE_MS: '1000'
  })
  const first = await startServer(t, env)
  const token = await mintToken(env, 'crash', 'contacts:read,contacts:write,webhooks:read,webhooks:write,events:read')
  const endpoint = await api(first.base, token, '/v1/webhook-endpoints', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `http://127.0.0.1:${port}/crash`, eventTypes: ['contact.created'] })
  })
  t.equal(endpoint.status, 201, 'endpoint created')

  const killed = new Promise<void>((resolve) => {
    onRequest = (n) => {
      if (n !== KILL_AT) return
      first.server.child.kill('SIGKILL')
      resolve()
    }
  })
  // Contacts are created until the kill: the ones refused after it are simply not counted.
  let created = 0
  for (let i = 0; i < CONTACTS; i++) {
    const res = await api(first.base, token, '/v1/contacts', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ displayName: `Crash ${i}` }) }).catch(() => undefined)
    if (res?.status !== 201) break
    created++
  }
  await killed
  t.equal((await first.server.exited).signal, 'SIGKILL', `killed at the ${KILL_AT}th request, ${created} contacts created`)
  t.ok(created >= KILL_AT, 'the kill came while deliveries were under way')

  const second = await startServer(t, env)
  const events = (await api(second.base, token, '/v1/events?types=contact.created&limit=1000')).body.data as Array<{ id: string }>
  t.equal(events.length, created, 'one event per created contact')
  const wanted = new Set(events.map((e) => e.id))
  const deadline = Date.now() + 180_000
  const ids = () => new Set(received.map((r) => String(r.headers['webhook-id'])))
  while ([...wanted].some((id) => !ids().has(id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  const missing = [...wanted].filter((id) => !ids().has(id))
  t.same(missing, [], `every event reached the receiver (${received.length} requests for ${wanted.size} events)`)
  t.same([...ids()].filter((id) => !wanted.has(id)), [], 'and nothing else')
  const secret = endpoint.body.secret
  t.ok(received.every((r) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>)), 'every request verifies')

  // The delivery in flight at the kill is still leased: it is sent again once the lease ends.
  let log: Array<{ status: string, eventId: string, totalAttempts: number }> = []
  while (Date.now() < deadline) {
    log = (await api(second.base, token, `/v1/webhook-endpoints/${endpoint.body.id}/deliveries?limit=100`)).body.data
    if (log.length === created && log.every((d) => d.status === 'succeeded')) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  t.equal(log.length, created, 'one delivery row per event')
  t.same(log.filter((d) => d.status !== 'succeeded'), [], 'all succeeded')
  const resent = log.filter((d) => d.totalAttempts > 1)
  t.ok(received.length >= created + resent.length, `${resent.length} delivery(ies) interrupted by the kill were sent again with the same webhook-id`)
})
