import t from 'tap'
import postgres from 'postgres'
import WebSocket from 'ws'
import { buildApp } from '../src/app.js'
import { openDatabase } from '../src/db/client.js'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import { DAY, fixtures, mutableClock } from './support/promises/index.js'
import { subscribe, untilLive, wsClient, type Received } from './support/subscriptions.js'

// GraphQL subscriptions over WebSocket (graphql-transport-ws) with a real client (graphql-ws + ws)
// against a listening server: events arrive after commit, filtered by the field's arguments, only
// from the token's workspace; a bad token or a missing scope is refused; and on PostgreSQL a write
// through one server process reaches a subscriber connected to another.

// Real sockets and real workers: generous under a loaded machine.
t.setTimeout(300_000)

const c = mutableClock('2026-06-01T09:00:00.000Z')
// The relay's reads (events.relay.ts), counted while `countingReads` is set.
let countingReads = false
let relayReads = 0
const { app, rest, token, database, config } = await build(t, { clock: c.clock, onQuery: (q) => { if (countingReads && q.includes('pg_current_snapshot() as snap')) relayReads++ } })
await app.listen({ port: 0, host: '127.0.0.1' })
const url = (port = (app.server.address() as { port: number }).port) => `ws://127.0.0.1:${port}/graphql`

const acmeToken = token({ workspace: 'sub-acme' })
const otherToken = token({ workspace: 'sub-other' })
const acme = fixtures(rest, acmeToken)
const other = fixtures(rest, otherToken)

function client (auth: Record<string, unknown> | undefined, port?: number) {
  const cl = wsClient(url(port), auth)
  t.teardown(() => cl.dispose())
  return cl
}

const contactChanged = `subscription ($id: ID) { contactChanged(contactId: $id) { id type occurredAt contactId contact { id displayName company } merge { survivorId mergedId } } }`
const typesOf = (r: Received[], field: string) => r.map((x) => x.data?.[field]?.type)

t.test('contactChanged: committed changes arrive with the contact after the change', async (t) => {
  const sub = subscribe(client({ authorization: `Bearer ${acmeToken}` }), contactChanged)
  await untilLive(sub, () => acme.contact('Probe'))
  sub.results.length = 0
  const ada = await acme.contact('Ada')
  const patched = await rest('PATCH', `/v1/contacts/${ada.id}`, { token: acmeToken, body: { company: 'Engines' } })
  t.equal(patched.statusCode, 200)
  t.ok(await sub.until((r) => r.length >= 2), 'two events')
  const probesLeft = sub.results.filter((r) => r.data?.contactChanged.contact?.displayName === 'Probe')
  const mine = sub.results.filter((r) => !probesLeft.includes(r))
  t.same(typesOf(mine, 'contactChanged'), ['contact.created', 'contact.updated'])
  t.same(mine[1].data!.contactChanged.contact, { id: ada.id, displayName: 'Ada', company: 'Engines' }, 'the contact after the change')
  t.match(mine[1].data!.contactChanged.id, /^evt_/)
  t.equal(mine[1].data!.contactChanged.occurredAt, c.now.toISOString())

  // A rolled-back change publishes nothing: a duplicate externalId fails inside the transaction.
  await rest('PATCH', `/v1/contacts/${ada.id}`, { token: acmeToken, body: { externalId: 'x-1' } })
  const clash = await rest('POST', '/v1/contacts', { token: acmeToken, body: { displayName: 'Clash', externalId: 'x-1' } })
  t.equal(clash.statusCode, 409)
  const grace = await acme.contact('Grace')
  t.ok(await sub.until((r) => r.some((x) => x.data?.contactChanged.contactId === grace.id)))
  t.notOk(sub.results.some((x) => x.data?.contactChanged.contact?.displayName === 'Clash'), 'no event for the refused create')
  sub.dispose()
})

t.test('contactChanged(contactId) and merges', async (t) => {
  const a = await acme.contact('Survivor')
  const b = await acme.contact('Merged')
  const sub = subscribe(client({ token: acmeToken }), contactChanged, { id: b.id })
  await untilLive(sub, () => rest('PATCH', `/v1/contacts/${b.id}`, { token: acmeToken, body: { title: 'poke' } }))
  sub.results.length = 0
  await rest('PATCH', `/v1/contacts/${a.id}`, { token: acmeToken, body: { title: 'not b' } })
  const merged = await rest('POST', `/v1/contacts/${a.id}/merge`, { token: acmeToken, body: { contactId: b.id } })
  t.equal(merged.statusCode, 200, merged.body)
  t.ok(await sub.until((r) => r.length >= 1))
  t.same(sub.results.map((r) => r.data?.contactChanged), [{
    id: sub.results[0].data?.contactChanged.id, type: 'contact.merged', occurredAt: c.now.toISOString(), contactId: a.id, contact: null, merge: { survivorId: a.id, mergedId: b.id }
  }], 'only the merge that names b (the update of a is filtered out)')
  sub.dispose()
})

t.test('interactionReceived filters by contact and channel; promiseChanged by status', async (t) => {
  const ada = await acme.contact('Ada R')
  const bob = await acme.contact('Bob R')
  const channel = await acme.channel('email')
  const received = subscribe(client({ authorization: `Bearer ${acmeToken}` }),
    'subscription ($c: ID, $ch: ID) { interactionReceived(contactId: $c, channelId: $ch) { type interaction { id direction contactId channelId contact { id } } } }', { c: ada.id, ch: channel.id })
  await untilLive(received, () => acme.interaction({ contactId: ada.id, direction: 'inbound', channelId: channel.id }))
  received.results.length = 0
  await acme.interaction({ contactId: bob.id, direction: 'inbound', channelId: channel.id })
  await acme.interaction({ contactId: ada.id, direction: 'inbound' })
  await acme.interaction({ contactId: ada.id, direction: 'outbound', channelId: channel.id })
  const wanted = await acme.interaction({ contactId: ada.id, direction: 'inbound', channelId: channel.id })
  t.ok(await received.until((r) => r.length >= 1))
  await received.until((r) => r.length >= 2, 300)
  t.same(received.results.map((r) => r.data?.interactionReceived), [{
    type: 'interaction.received', interaction: { id: wanted.id, direction: 'INBOUND', contactId: ada.id, channelId: channel.id, contact: { id: ada.id } }
  }], 'only Ada\'s inbound message on that channel, with nested fields resolved')

  const broken = subscribe(client({ token: acmeToken }), 'subscription { promiseChanged(status: BROKEN) { type promise { id status contact { id } } } }')
  await untilLive(broken, async () => acme.break((await acme.promise({ contactId: ada.id, dueAt: c.in(DAY) })).id))
  broken.results.length = 0
  const p = await acme.promise({ contactId: bob.id, dueAt: c.in(2 * DAY) })
  await acme.break(p.id, { reason: 'late' })
  t.ok(await broken.until((r) => r.length >= 1))
  t.same(broken.results[0].data?.promiseChanged, { type: 'promise.broken', promise: { id: p.id, status: 'BROKEN', contact: { id: bob.id } } }, 'made was filtered out, broken arrives')
  received.dispose()
  broken.dispose()
})

t.test('interactionStatusChanged: the outbound worker\'s status change arrives', async (t) => {
  const provider = await fakeProvider(t, { status: 200, body: { ok: true, result: { message_id: 77, chat: { id: 1111111111 }, date: 1717006600, text: 'x' } } })
  const ch = await rest('POST', '/v1/channels', { token: acmeToken, body: { kind: 'telegram', name: 'tg', config: { botToken: '123456:ABC-DEF', secretToken: 'tg-secret', apiBaseUrl: provider.url } } })
  t.equal(ch.statusCode, 201, ch.body)
  const maria = await acme.contact('Maria')
  await rest('POST', `/v1/contacts/${maria.id}/identities`, { token: acmeToken, body: { kind: 'telegram:user', address: '1111111111' } })
  const send = async (text: string) => (await rest('POST', `/v1/contacts/${maria.id}/messages`, { token: acmeToken, body: { channelId: ch.data.id, text } })).data
  const sub = subscribe(client({ token: acmeToken }),
    'subscription ($c: ID) { interactionStatusChanged(contactId: $c) { type interaction { id status } } }', { c: maria.id })
  await untilLive(sub, () => send('probe'))
  sub.results.length = 0
  const queued = await send('Your order shipped')
  t.ok(await sub.until((r) => r.some((x) => x.data?.interactionStatusChanged.interaction.id === queued.id)), 'the status change of the queued message arrived')
  // The fake provider answers the same message id twice, so the worker may record sent or failed:
  // either way the stream says what the API now says.
  const now = (await rest('GET', `/v1/interactions/${queued.id}`, { token: acmeToken })).data
  t.not(now.status, 'queued')
  t.same(sub.results.find((x) => x.data?.interactionStatusChanged.interaction.id === queued.id)!.data!.interactionStatusChanged,
    { type: 'interaction.status_changed', interaction: { id: queued.id, status: now.status.toUpperCase() } })
  sub.dispose()
})

t.test('one workspace never sees another\'s events', async (t) => {
  const ours = subscribe(client({ token: acmeToken }), contactChanged)
  const theirs = subscribe(client({ token: otherToken }), contactChanged)
  await untilLive(ours, () => acme.contact('Probe A'))
  await untilLive(theirs, () => other.contact('Probe O'))
  ours.results.length = 0
  theirs.results.length = 0
  const secret = await acme.contact('Acme secret')
  t.ok(await ours.until((r) => r.some((x) => x.data?.contactChanged.contactId === secret.id)))
  // The relay handles commits in order: once other's later write arrives, acme's was long dispatched.
  const mark = await other.contact('Other mark')
  t.ok(await theirs.until((r) => r.some((x) => x.data?.contactChanged.contactId === mark.id)))
  t.notOk(theirs.results.some((x) => x.data?.contactChanged.contactId === secret.id), 'other workspace did not get acme\'s contact')
  t.ok(theirs.results.every((x) => x.data?.contactChanged.contact?.displayName !== 'Acme secret'))
  ours.dispose()
  theirs.dispose()
})

t.test('refused: no token, a bad token, a missing scope', async (t) => {
  for (const [label, auth] of [['no payload', undefined], ['no token', {}], ['bad token', { authorization: 'Bearer nope' }], ['expired', { token: token({ workspace: 'sub-acme', expiresIn: '-1s' }) }]] as const) {
    const sub = subscribe(client(auth as Record<string, unknown> | undefined), contactChanged)
    t.ok(await sub.until(() => false, 3000) === false && (sub.failure !== undefined || sub.completed), `${label}: the connection is refused`)
    t.same(sub.results, [], `${label}: nothing delivered`)
  }
  const contactsOnly = token({ workspace: 'sub-acme', scopes: ['contacts:read'] })
  const sub = subscribe(client({ token: contactsOnly }), 'subscription { promiseChanged { type } }')
  await sub.until((r) => r.length > 0, 3000)
  const err = sub.failure as Array<{ message: string, extensions?: Record<string, unknown> }> | undefined
  t.ok(Array.isArray(err) && err.length > 0, `promiseChanged without promises:read is an error (${JSON.stringify(sub.failure)})`)
  t.match(err?.[0]?.message ?? '', /promises:read/)
  t.equal(err?.[0]?.extensions?.code, 'auth.forbidden', 'the same code as REST')
  t.same(sub.results, [])
})

t.test('a WebSocket upgrade skips header auth on /graphql only', async (t) => {
  const port = (app.server.address() as { port: number }).port
  const outcome = await new Promise<string>((resolve) => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/v1/contacts`)
    socket.on('unexpected-response', (_req, res) => { resolve(`status ${res.statusCode}`); socket.terminate() })
    socket.on('open', () => { resolve('open'); socket.close() })
    socket.on('error', (err) => resolve(`error ${err.message}`))
  })
  t.equal(outcome, 'status 401', 'an upgrade to a REST route still needs the bearer header')
})

t.test('cross-process: a write through one server reaches a subscriber on another', { skip: database.kind === 'pglite' ? 'needs PostgreSQL (DATABASE_URL): the embedded database lives in one process' : false }, async (t) => {
  const database2 = await openDatabase({ databaseUrl: (database as { url?: string }).url!, poolMax: 3 })
  const app2 = await buildApp({ config, db: database2.db, logger: false })
  t.teardown(async () => { await app2.close(); await database2.close() })
  await app2.listen({ port: 0, host: '127.0.0.1' })
  const port2 = (app2.server.address() as { port: number }).port
  const sub = subscribe(client({ token: acmeToken }, port2), contactChanged)
  // Writes go through the first app (inject), the subscriber listens on the second.
  await untilLive(sub, () => acme.contact('Cross probe'))
  sub.results.length = 0
  const far = await acme.contact('Far away')
  t.ok(await sub.until((r) => r.some((x) => x.data?.contactChanged.contactId === far.id)), 'the second process delivered the first process\'s write')
  sub.dispose()
})

t.test('a transaction that commits after a later one is still delivered, and writes do not NOTIFY', { skip: database.kind === 'pglite' ? 'needs PostgreSQL (DATABASE_URL): PGlite runs one transaction at a time, so none can commit out of order' : false }, async (t) => {
  const held = postgres((database as { url?: string }).url!, { max: 1, onnotice: () => {} })
  t.teardown(() => held.end())
  // The relay reads what commits (events.relay.ts); a notifying trigger would make every write
  // transaction commit one at a time (migration 0023 dropped it).
  const [{ n }] = await held`select count(*)::int as n from pg_trigger where tgrelid = 'events'::regclass and not tgisinternal`
  t.equal(n, 0, 'no trigger on the event log')

  const sub = subscribe(client({ authorization: `Bearer ${acmeToken}` }), contactChanged)
  await untilLive(sub, () => acme.contact('Probe'))
  const early = await acme.contact('Early')
  // A transaction takes its place in the log first (its seq is the lower one) and commits last.
  let commit!: () => void
  const committed = new Promise<void>((resolve) => { commit = resolve })
  const inserted = new Promise<void>((resolve, reject) => {
    held.begin(async (tx) => {
      await tx`select set_config('app.workspace_id', 'sub-acme', true)`
      await tx`insert into events (workspace_id, id, type, subject_id, data, occurred_at)
        values ('sub-acme', 'evt_01jzzzzzzzzzzzzzzzzzzzzzzz', 'contact.updated', ${early.id}, ${tx.json({ id: early.id, displayName: 'Held back', company: null })}, now())`
      resolve()
      await committed
    }).catch(reject)
  })
  await inserted
  const late = await acme.contact('Late')
  await sub.until((r) => r.some((x) => x.data?.contactChanged?.contactId === late.id), 10_000)
  t.notOk(sub.results.some((x) => x.data?.contactChanged?.contact?.displayName === 'Held back'), 'not delivered before it commits')
  commit()
  await sub.until((r) => r.some((x) => x.data?.contactChanged?.contact?.displayName === 'Held back'), 10_000)
  const held1 = sub.results.filter((x) => x.data?.contactChanged?.contact?.displayName === 'Held back')
  t.equal(held1.length, 1, 'delivered once, after it committed, though a later transaction had already been read')
  t.equal(held1[0].data?.contactChanged.contactId, early.id)
  await acme.contact('After')
  await sub.until((r) => r.some((x) => x.data?.contactChanged?.contact?.displayName === 'After'), 10_000)
  t.equal(sub.results.filter((x) => x.data?.contactChanged?.contact?.displayName === 'Held back').length, 1, 'and never again')
  sub.dispose()
})

t.test('transactions of more events than one read takes arrive whole, each event once', async (t) => {
  const bulkToken = token({ workspace: 'sub-bulk' })
  const sub = subscribe(client({ authorization: `Bearer ${bulkToken}` }), 'subscription { contactChanged { id type contactId } }')
  const bulk = fixtures(rest, bulkToken)
  await untilLive(sub, () => bulk.contact('Probe'))
  // 1,000 events in one transaction fill the relay's read (1,000 events), 700 in another follow:
  // the relay pages through them, up to its first page's snapshot.
  const batch = (from: number, n: number) => rest('POST', '/v1/contacts/batch', {
    token: bulkToken,
    body: { upsertOn: 'externalId', records: Array.from({ length: n }, (_, i) => ({ externalId: `bulk-${from + i}`, displayName: `Bulk ${from + i}` })) }
  })
  const answers = await Promise.all([batch(0, 1000), batch(1000, 700)])
  t.same(answers.map((a) => a.statusCode), [200, 200])
  const ids = answers.flatMap((a) => a.data.results.map((r: { id: string }) => r.id))
  t.equal(new Set(ids).size, 1700)
  const last = await bulk.contact('After the batches')
  await sub.until((r) => r.some((x) => x.data?.contactChanged?.contactId === last.id), 60_000)
  const got = sub.results.map((x) => x.data?.contactChanged).filter((c) => c && c.contactId !== last.id)
  t.equal(got.length, 1700, 'every event of both transactions')
  t.equal(new Set(got.map((c: { id: string }) => c.id)).size, 1700, 'each once')
  t.same(new Set(got.map((c: { contactId: string }) => c.contactId)), new Set(ids), 'for every contact written')
  sub.dispose()
})

t.test('one read a tick serves the subscribers of every workspace, each its own events', async (t) => {
  const names = ['sub-w1', 'sub-w2', 'sub-w3', 'sub-w4', 'sub-w5', 'sub-w6']
  const tenants = names.map((name) => {
    const wsToken = token({ workspace: name })
    const sub = subscribe(client({ authorization: `Bearer ${wsToken}` }), 'subscription { contactChanged { type contactId contact { displayName } } }')
    return { name, sub, writes: fixtures(rest, wsToken) }
  })
  for (const w of tenants) await untilLive(w.sub, () => w.writes.contact('Probe'))
  const pollMs = config.graphql.subscriptionPollMs ?? 100
  relayReads = 0
  countingReads = true
  const began = performance.now()
  await new Promise((resolve) => setTimeout(resolve, 20 * pollMs))
  countingReads = false
  // A tick waits pollMs after the last read ends, so there are at most elapsed / pollMs + 1 of
  // them, however loaded the machine; six workspaces read one by one made six statements a tick.
  const ticksAtMost = Math.ceil((performance.now() - began) / pollMs) + 1
  t.ok(relayReads >= 1 && relayReads <= ticksAtMost, `one statement a tick for the six workspaces (${relayReads} statements, at most ${ticksAtMost} ticks)`)

  for (const w of tenants) w.sub.results.length = 0
  const written = await Promise.all(tenants.map((w) => w.writes.contact(`Only in ${w.name}`)))
  for (const [i, w] of tenants.entries()) {
    t.ok(await w.sub.until((r) => r.some((x) => x.data?.contactChanged?.contactId === written[i].id), 10_000), `${w.name} hears of its contact`)
    const names = w.sub.results.map((x) => x.data?.contactChanged?.contact?.displayName)
    t.same(names, [`Only in ${w.name}`], `${w.name} hears of nothing else`)
    w.sub.dispose()
  }
})
