import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import { allContacts, createChannel, createContact, inbound, metaSignature, PUBLIC_URL, workspaces, xSignature, type Rest } from './support/channels/index.js'
import { matchExactly } from './support/channels/exactly.js'
import { inboundKit } from './support/channels/inbound-kit.js'

/**
 * Echoes: what our own account sent, reported back by the provider (Messenger `message_echoes`,
 * X DMs sent by the subscribed account). One an agent sent from the provider's app is an outbound
 * interaction with the contact it went to; one of a message Rapport sent adds nothing, even when
 * it is processed before the send job saved the provider's id.
 */
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared, 'echo')
const json = { 'content-type': 'application/json' }

const APP_SECRET = 'meta-echo-secret'
const PAGE = '1067280970047460'
const PSID = '6954834441214510'
// Meta's own Page inbox / Business Suite app, not ours: an agent answered from there.
const PAGE_INBOX_APP = 263902037430900

async function setup () {
  const ctx = fresh()
  return { ...ctx, ...inboundKit(ctx) }
}

function metaPoster (rest: Rest, channelId: string) {
  return (body: unknown) => {
    const payload = JSON.stringify(body)
    return inbound(rest, channelId, { payload, headers: { ...json, 'x-hub-signature-256': metaSignature(APP_SECRET, payload) } })
  }
}

/** A Messenger delivery of one echo: sender the page, recipient the person (message_echoes reference). */
const echo = (mid: string, text: string, ts = Date.now(), appId = PAGE_INBOX_APP) => ({
  object: 'page',
  entry: [{ id: PAGE, time: ts, messaging: [{ sender: { id: PAGE }, recipient: { id: PSID }, timestamp: ts, message: { is_echo: true, app_id: appId, mid, text } }] }]
})

async function samWithPsid (rest: Rest) {
  const contact = await createContact(rest, { displayName: 'Sam' })
  const res = await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'meta:psid', address: PSID } })
  if (res.statusCode !== 201) throw new Error(`identity: ${res.statusCode} ${res.body}`)
  return contact
}

/**
 * A Graph API that, before answering a send, has `deliverEcho` post Meta's echo of it and process
 * it: the echo beats the send job to saving the message id.
 */
async function racingGraph (t: { teardown: (fn: () => Promise<void>) => void }, deliverEcho: (mid: string, sentText: string) => Promise<void>) {
  const received: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      received.push(body.message.text)
      const mid = `m_RACE_${received.length}`
      deliverEcho(mid, body.message.text).then(
        () => { res.writeHead(200, json); res.end(JSON.stringify({ recipient_id: PSID, message_id: mid })) },
        (err) => { res.writeHead(500, json); res.end(JSON.stringify({ error: { message: String(err) } })) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

t.test('Messenger: an agent\'s reply from the Page inbox is one outbound interaction with the person it went to', async (t) => {
  const { rest, gql, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger' })
  const post = metaPoster(rest, ch.id)
  const sam = await samWithPsid(rest)
  const body = echo('m_AGENT_1', 'Hi Sam, your refund left today', 1717006000000)
  t.equal((await post(body)).statusCode, 200)
  t.equal((await post(body)).statusCode, 200, 'Meta redelivers it')

  const [logged, ...more] = await interactionsOf(ch.id)
  t.same(more, [], 'one interaction, once')
  matchExactly(t, logged, {
    contactId: sam.id, channelId: ch.id, direction: 'outbound', kind: 'message', body: 'Hi Sam, your refund left today', providerMessageId: 'm_AGENT_1',
    counterpart: PSID, status: 'sent', authorId: null, occurredAt: new Date(1717006000000).toISOString(), editedAt: null
  })
  t.equal((await allContacts(rest)).length, 1, 'the page is not made a contact')
  const timeline = await gql('query ($id: ID!) { contact(id: $id) { timeline(first: 5) { nodes { id direction counterpart } } } }', { id: sam.id })
  t.same(timeline.data?.contact.timeline.nodes, [{ id: logged.id, direction: 'OUTBOUND', counterpart: PSID }], 'on the contact\'s timeline over GraphQL')
  const events = (await rest('GET', '/v1/events?limit=100&types=interaction.created')).data.data as any[]
  t.equal(events.filter((e) => e.subjectId === logged.id).length, 1, 'interaction.created, once')
})

t.test('Messenger: the echo of a message Rapport sent logs nothing new', async (t) => {
  const { rest, interaction, interactionsOf, sendUntil } = await setup()
  const graph = await fakeProvider(t, { status: 200, body: { recipient_id: PSID, message_id: 'm_OUT_1' } })
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger', accessToken: 'page-token', apiBaseUrl: graph.url })
  const post = metaPoster(rest, ch.id)
  const sam = await samWithPsid(rest)
  const sent = await sendUntil(sam.id, ch.id, 'Your order shipped', 'sent')
  t.equal(sent.providerMessageId, 'm_OUT_1')
  // Our own app's echo, as Meta sends it for every Send API message.
  t.equal((await post(echo('m_OUT_1', 'Your order shipped', Date.now(), 1517776481860111))).statusCode, 200)
  const list = await interactionsOf(ch.id)
  t.same(list.map((i) => i.id), [sent.id], 'still the one interaction the send logged')
  matchExactly(t, await interaction(sent.id), { status: 'sent', providerMessageId: 'm_OUT_1', authorId: sent.authorId, updatedAt: sent.updatedAt })
})

t.test('Messenger: the echo of our send processed before the send job saved its id is the same interaction', async (t) => {
  const { app, rest, interactionsOf, sendUntil } = await setup()
  let post: ReturnType<typeof metaPoster> = async () => { throw new Error('no channel yet') }
  const graph = await racingGraph(t, async (mid, text) => {
    t.equal((await post(echo(mid, text))).statusCode, 200)
    await app.jobs.inbox.drain()
  })
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger', accessToken: 'page-token', apiBaseUrl: graph.url })
  post = metaPoster(rest, ch.id)
  const sam = await samWithPsid(rest)
  const sent = await sendUntil(sam.id, ch.id, 'Tracking: 1Z999', 'sent')
  t.equal(sent.providerMessageId, 'm_RACE_1')
  const list = await interactionsOf(ch.id)
  t.same(list.map((i) => [i.id, i.providerMessageId, i.authorId]), [[sent.id, 'm_RACE_1', sent.authorId]], 'one interaction: the send, which the echo found waiting')
  t.same(graph.received, ['Tracking: 1Z999'], 'sent once')
})

t.test('Messenger: an early echo whose text differs from the send is not taken for it, and the message is not sent again', async (t) => {
  const { app, rest, interactionsOf, sendUntil } = await setup()
  let post: ReturnType<typeof metaPoster> = async () => { throw new Error('no channel yet') }
  const graph = await racingGraph(t, async (mid, text) => {
    t.equal((await post(echo(mid, `${text} (rewritten by the provider)`))).statusCode, 200)
    await app.jobs.inbox.drain()
  })
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger', accessToken: 'page-token', apiBaseUrl: graph.url })
  post = metaPoster(rest, ch.id)
  const sam = await samWithPsid(rest)
  const sent = await sendUntil(sam.id, ch.id, 'See https://example.com/track', 'sent')
  t.same(graph.received, ['See https://example.com/track'], 'sent once: the id already logged by the echo does not fail the send into a retry')
  const list = await interactionsOf(ch.id)
  t.equal(list.length, 2, 'the documented limit: the echo and the send are two entries')
  t.equal(sent.providerMessageId, null, 'the id stays with the echo that logged it first')
  t.equal(list.find((i) => i.id !== sent.id)?.providerMessageId, 'm_RACE_1')
})

// --- X -------------------------------------------------------------------------------------------

const X_SECRET = 'x-echo-secret'
const ME = '4337869213'
const CUSTOMER = '3001969357'

t.test('X: a DM our account sent is outbound, to its recipient; the echo of Rapport\'s own DM adds nothing', async (t) => {
  const { rest, interactionsOf, sendUntil } = await setup()
  const api = await fakeProvider(t, { status: 201, body: { data: { dm_conversation_id: `${CUSTOMER}-${ME}`, dm_event_id: '1582838213132025860' } } })
  const ch = await createChannel(rest, 'x', { consumerSecret: X_SECRET, accessToken: 'x-user-token', apiBaseUrl: api.url })
  const post = (body: unknown) => {
    const payload = JSON.stringify(body)
    return inbound(rest, ch.id, { payload, headers: { ...json, 'x-twitter-webhooks-signature': xSignature(X_SECRET, payload) } })
  }
  const dm = (id: string, text: string, ts: number) => ({
    for_user_id: ME,
    direct_message_events: [{ type: 'message_create', id, created_timestamp: String(ts), message_create: { target: { recipient_id: CUSTOMER }, sender_id: ME, message_data: { text, entities: {} } } }],
    users: { [CUSTOMER]: { id: CUSTOMER, name: 'Jordan Brinks', screen_name: 'furiouscamper' }, [ME]: { id: ME, name: 'Acme Support', screen_name: 'acmesupport' } }
  })
  t.equal((await post(dm('954491830116155398', 'Hi Jordan, we saw your tweet', 1717006160000))).statusCode, 200)
  const [ours, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, ours, { direction: 'outbound', kind: 'message', counterpart: CUSTOMER, providerMessageId: '954491830116155398', body: 'Hi Jordan, we saw your tweet', status: 'sent', authorId: null })
  t.equal((await rest('GET', `/v1/contacts/${ours.contactId}`)).data.displayName, 'Jordan Brinks', 'the contact is the recipient')
  t.equal((await allContacts(rest)).length, 1, 'our account is not made a contact')

  const sent = await sendUntil(ours.contactId, ch.id, 'Refund on its way', 'sent')
  t.equal((await post(dm('1582838213132025860', 'Refund on its way', Date.now()))).statusCode, 200)
  t.same((await interactionsOf(ch.id)).map((i) => i.id).sort(), [ours.id, sent.id].sort(), 'the echo of our send is that send')
})
