import t from 'tap'
import { getAdapter } from '../src/modules/channels/adapters/registry.js'
import { build } from './helper.js'
import { sql } from 'drizzle-orm'
import { inWorkspace } from '../src/db/tenant.js'
import { allInteractions, createChannel, inbound, inboxRows, standardWebhookSignature, workspaces } from './support/channels/index.js'

// An adapter that fails on an authentic request (a payload shape it does not know: its bug, not
// the provider's) must not lose the request nor answer 5xx (providers retry for days, Meta turns
// the webhook off): the request is kept in the inbox and acknowledged. Simulated by making the
// generic webhook adapter's parser throw, as a bug would.

const NOW = 1717006500
const { app, database, ...shared } = await build(t, { clock: { now: () => new Date(NOW * 1000) } })
const fresh = workspaces({ app, database, ...shared })
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'

async function inboxState (workspace: string): Promise<Array<{ status: string, attempts: number, error: string | null, body: string }>> {
  return inWorkspace(database.db, workspace, async (tx) => {
    const result = await tx.execute(sql`select status, attempts, error, convert_from(raw_body, 'UTF8') as body from inbound_inbox order by received_at`)
    return (Array.isArray(result) ? result : (result as unknown as { rows: unknown[] }).rows) as Array<{ status: string, attempts: number, error: string | null, body: string }>
  })
}

t.test('a verified request the adapter fails on is kept in the inbox and acknowledged; once the adapter reads it, it can be applied', async (t) => {
  const { rest, workspace } = fresh()
  const ch = await createChannel(rest, 'webhook', { secret })
  const body = JSON.stringify({ type: 'message.received', timestamp: '2024-05-29T18:14:00Z', data: { id: 'ext-1', from: 'user-1', identityKind: 'acme:user', text: 'Hello' } })
  const headers = { 'content-type': 'application/json', 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW), 'webhook-signature': standardWebhookSignature(secret, 'msg_1', NOW, body) }

  const adapter = getAdapter('webhook')!
  const parse = adapter.parse!
  t.teardown(() => { adapter.parse = parse })
  adapter.parse = () => { throw new TypeError("Cannot read properties of undefined (reading 'x')") }

  const res = await inbound(rest, ch.id, { payload: body, headers })
  t.equal(res.statusCode, 200, 'acknowledged: not a 5xx the provider would retry or count against the webhook')
  const [row, ...more] = await inboxRows(database, workspace)
  t.same(more, [])
  t.equal(row.status, 'pending', 'kept in the inbox')

  await app.jobs.inbox.drain()
  t.same(await allInteractions(rest, `channelId=${ch.id}`), [], 'nothing made up from it while the adapter fails')
  const [kept] = await inboxState(workspace)
  t.match(kept, { status: 'failed', attempts: 1, error: /Cannot read properties/ },
    'the worker failed it with the adapter\'s error, visible in the inbox, at its first try: the same bytes would fail the same way')
  t.equal(kept.body, body, 'the request is kept byte for byte')

  // The adapter fixed (a release), an operator puts the row back (docs/channel-adapters.md) and
  // the kept request is read like a fresh one.
  adapter.parse = parse
  await inWorkspace(database.db, workspace, (tx) => tx.execute(sql`update inbound_inbox set status = 'pending', attempts = 0, next_attempt_at = now() where status = 'failed'`))
  await app.jobs.inbox.drain()
  t.match((await inboxState(workspace))[0], { status: 'processed' })
  const [logged, ...others] = await allInteractions(rest, `channelId=${ch.id}`)
  t.same(others, [])
  t.match(logged, { direction: 'inbound', body: 'Hello', providerMessageId: 'ext-1' })

  const bad = await inbound(rest, ch.id, { payload: body, headers: { ...headers, 'webhook-signature': 'v1,AAAA' } })
  t.equal(bad.statusCode, 401, 'an unverified request is still refused before the adapter reads it')
})
