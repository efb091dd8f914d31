import { randomBytes } from 'node:crypto'
import t from 'tap'
import { build } from './helper.js'
import {
  allContacts, allInteractions, basicAuth, createChannel, createContact, inbound, inboxRows, mailgunSignature, metaSignature,
  PUBLIC_URL, publicInboundUrl, sample, slackSignature, standardWebhookSignature, twilioSignature, workspaces, xSignature
} from './support/channels/index.js'
import { assertProblem } from './support/problem.js'
import type { TapTest } from './support/tap.js'

/** The shared samples' Slack and Telegram timestamps; every app here runs at this instant. */
const NOW = 1717006500
const clock = { now: () => new Date(NOW * 1000) }

// One app (one fresh database) for the file; each test works in a workspace of its own.
const shared = await build(t, { config: { publicUrl: PUBLIC_URL }, clock })
const fresh = workspaces(shared)

async function setup () {
  const ctx = fresh()
  const { app, rest, database, workspace } = ctx
  const drain = () => app.jobs.inbox.drain()
  /** What a refused request must leave untouched. */
  const snapshot = async () => ({
    interactions: (await allInteractions(rest)).map((i) => i.id),
    contacts: (await allContacts(rest)).map((c) => c.id),
    inbox: (await inboxRows(database, workspace)).length
  })
  /** 401, then (after the worker ran) no interaction, no contact and no inbox row more than before. */
  async function refused (t: TapTest, res: Awaited<ReturnType<typeof rest>>, before: Awaited<ReturnType<typeof snapshot>>, label: string) {
    assertProblem(t, res, 401, 'inbound.unauthenticated', label)
    await drain()
    t.same(await snapshot(), before, `${label}: nothing stored`)
  }
  /** The interactions of a channel once the inbox worker is idle. */
  const interactionsOf = async (channelId: string) => {
    await drain()
    return allInteractions(rest, `channelId=${channelId}`)
  }
  const identitiesOf = async (contactId: string) => (await rest('GET', `/v1/contacts/${contactId}/identities`)).data.data as any[]
  return { ...ctx, drain, snapshot, refused, interactionsOf, identitiesOf }
}

const json = { 'content-type': 'application/json' }
const form = { 'content-type': 'application/x-www-form-urlencoded' }

t.test('email via Postmark: HTTP Basic credentials; sender matched by an existing contact\'s e-mail', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf, database, workspace } = await setup()
  const ch = await createChannel(rest, 'email', { inboundFormat: 'postmark', basicAuthUser: 'pm-user', basicAuthPassword: 'pm-pass-SECRET' })
  const existing = await createContact(rest, { displayName: 'Postmark support desk', emails: ['Support@PostmarkApp.com'] })
  const body = sample('postmark-inbound.json')

  const before = await snapshot()
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, authorization: basicAuth('pm-user', 'wrong') } }), before, 'wrong password')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, authorization: basicAuth('other', 'pm-pass-SECRET') } }), before, 'wrong user')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: json }), before, 'no credentials')

  const call = { payload: body, headers: { ...json, authorization: basicAuth('pm-user', 'pm-pass-SECRET') } }
  const ok = await inbound(rest, ch.id, call)
  t.equal(ok.statusCode, 200, ok.body)
  t.equal((await inboxRows(database, workspace)).length, 1, 'stored in the inbox before the answer')

  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [], 'one interaction')
  t.match(i, {
    contactId: existing.id,
    channelId: ch.id,
    direction: 'inbound',
    kind: 'email',
    subject: 'Test subject',
    body: 'This is the reply text',
    providerMessageId: '73e6d360-66eb-11e1-8e72-a8904824019b',
    threadId: '0100018f-outbound-1@example.com',
    counterpart: 'support@postmarkapp.com',
    status: null,
    occurredAt: '2014-08-01T20:45:32.000Z',
    attachments: [{ name: 'test.txt', contentType: 'text/plain', size: 45 }]
  })
  t.same((await allContacts(rest)).map((c) => c.id), [existing.id], 'no new contact: the e-mail matched')
  t.match(await identitiesOf(existing.id), [{ kind: 'email', address: 'support@postmarkapp.com' }], 'the identity is attached to the matched contact')

  t.equal((await inbound(rest, ch.id, call)).statusCode, 200, 'a provider retry is accepted')
  t.equal((await interactionsOf(ch.id)).length, 1, 'the retry does not create a second interaction')
  const rows = await inboxRows(database, workspace)
  t.same(rows.map((r) => r.status), ['processed', 'processed'], 'both deliveries were processed')
  t.ok(rows.every((r) => !r.request.includes(basicAuth('pm-user', 'pm-pass-SECRET').slice(6)) && !r.request.includes('pm-pass-SECRET')), 'the inbox does not keep the Basic credentials')
})

t.test('email via Mailgun: signed token and timestamp with a 5-minute window', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const key = 'key-mailgun-SECRET-0001'
  const ch = await createChannel(rest, 'email', { inboundFormat: 'mailgun', mailgunSigningKey: key })
  const message = (ts: number, o: { token?: string, signingKey?: string, subject?: string } = {}) => {
    const token = o.token ?? randomBytes(25).toString('hex')
    return new URLSearchParams({
      timestamp: String(ts), token, signature: mailgunSignature(o.signingKey ?? key, ts, token),
      from: 'Lin Ng <Lin@Example.org>', recipient: 'support@acme.example', subject: o.subject ?? 'Invoice question',
      'body-plain': 'Hello,\n\nwhere is my invoice?\n\n> quoted', 'stripped-text': 'Hello, where is my invoice?',
      'Message-Id': '<mg-1@mail.example.org>'
    }).toString()
  }

  const before = await snapshot()
  await refused(t, await inbound(rest, ch.id, { payload: message(NOW, { signingKey: 'key-wrong' }), headers: form }), before, 'wrong signing key')
  const forged = new URLSearchParams(message(NOW))
  forged.set('token', 'f'.repeat(50))
  await refused(t, await inbound(rest, ch.id, { payload: forged.toString(), headers: form }), before, 'token changed after signing')
  await refused(t, await inbound(rest, ch.id, { payload: message(NOW - 301), headers: form }), before, 'stale timestamp (301 s old)')
  await refused(t, await inbound(rest, ch.id, { payload: message(NOW + 301), headers: form }), before, 'timestamp too far in the future')

  const first = message(NOW - 240)
  const ok = await inbound(rest, ch.id, { payload: first, headers: form })
  t.equal(ok.statusCode, 200, `inside the window: ${ok.body}`)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, {
    direction: 'inbound', kind: 'email', subject: 'Invoice question', body: 'Hello, where is my invoice?',
    providerMessageId: 'mg-1@mail.example.org', counterpart: 'lin@example.org', occurredAt: new Date((NOW - 240) * 1000).toISOString()
  })
  const contact = (await rest('GET', `/v1/contacts/${i.contactId}`)).data
  t.match(contact, { displayName: 'Lin Ng', emails: [{ address: 'lin@example.org', primary: true }] }, 'an unknown sender becomes a contact')
  t.match(await identitiesOf(i.contactId), [{ kind: 'email', address: 'lin@example.org' }])

  t.equal((await inbound(rest, ch.id, { payload: message(NOW), headers: form })).statusCode, 200, 'the same message delivered again')
  t.equal((await interactionsOf(ch.id)).length, 1, 'one interaction for one Message-Id')
  t.equal((await allContacts(rest)).length, 1, 'and one contact')
})

t.test('SMS via Twilio: signature over the public URL and the form; E.164 sender matched by phone', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: 'AC00000000000000000000000000000001', authToken: '12345', from: '+14155550100' })
  const existing = await createContact(rest, { displayName: 'Pat Phone', phones: ['+1 (415) 555-2671'] })
  const body = sample('twilio-sms.txt').toString('utf8').trim()
  const url = publicInboundUrl(ch.id)
  const signature = twilioSignature('12345', url, body)

  const before = await snapshot()
  await refused(t, await inbound(rest, ch.id, { payload: body.replace('Friday', 'Monday'), headers: { ...form, 'x-twilio-signature': signature } }), before, 'tampered body')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': twilioSignature('54321', url, body) } }), before, 'wrong auth token')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': 'PUIwNyrKnAtsVW+Iu6p0DwyCiPk=' } }), before, 'signed for another URL (the sample\'s)')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: form }), before, 'no signature')

  const ok = await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': signature } })
  t.equal(ok.statusCode, 200, ok.body)
  t.match(ok.headers['content-type'], /xml/, 'Twilio gets TwiML')
  t.match(ok.body, /<Response><\/Response>/, 'an empty TwiML response (no auto-reply)')

  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, {
    contactId: existing.id, direction: 'inbound', kind: 'sms', body: 'Hi, can I move my appointment to Friday?',
    providerMessageId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', counterpart: '+14155552671', occurredAt: new Date(NOW * 1000).toISOString()
  })
  t.same((await allContacts(rest)).map((c) => c.id), [existing.id], 'the phone number matched the existing contact')
  t.match(await identitiesOf(existing.id), [{ kind: 'phone', address: '+14155552671' }])

  t.equal((await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': signature, 'i-twilio-idempotency-token': 'retry-1' } })).statusCode, 200)
  t.equal((await interactionsOf(ch.id)).length, 1, 'Twilio\'s retry does not duplicate')
})

t.test('Meta: Messenger and WhatsApp, hub.challenge handshake, X-Hub-Signature-256', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const appSecret = 'test-app-secret-0123456789abcdef'
  const ch = await createChannel(rest, 'meta', { appSecret, verifyToken: 'my-verify-token', platform: 'messenger' })

  const query = '?' + sample('meta-verify-request.txt').toString('utf8').split(' ')[1].split('?')[1]
  const hs = await inbound(rest, ch.id, { method: 'GET', query })
  t.equal(hs.statusCode, 200, hs.body)
  t.equal(hs.body, '1158201444', 'the challenge is echoed')
  t.match(hs.headers['content-type'], /^text\/plain/)
  const badHs = await inbound(rest, ch.id, { method: 'GET', query: query.replace('my-verify-token', 'guess') })
  t.equal(badHs.statusCode, 403, 'a wrong verify token is refused')
  t.not(badHs.body, '1158201444', 'and the challenge is not echoed')

  const body = sample('meta-messenger.json')
  const vector = 'sha256=d5d166951f64f34fde3c1c4c1366b01c980506a31241a9af024bb633c815ff30'
  t.equal(metaSignature(appSecret, body), vector, 'test signer agrees with the published vector')
  const before = await snapshot()
  const tampered = Buffer.from(body.toString('utf8').replace('#1042', '#1043'))
  await refused(t, await inbound(rest, ch.id, { payload: tampered, headers: { ...json, 'x-hub-signature-256': vector } }), before, 'tampered body')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-hub-signature-256': metaSignature('another-secret', body) } }), before, 'wrong app secret')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: json }), before, 'no signature')

  const ok = await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-hub-signature-256': vector } })
  t.equal(ok.statusCode, 200, ok.body)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, {
    direction: 'inbound', kind: 'message', body: 'Hi, is my order #1042 shipped yet? Grüße',
    providerMessageId: 'm_Hl8v5pcNxQ-2sJ7ifLs_9Ue1V8QHfQ4mDuN1uT-0q1kz0DjDR2rGBbFpr2Wgc5iw3E0vEJqvxRs3ZAr5sHAVvg',
    counterpart: '6954834441214510', occurredAt: '2024-05-29T18:08:54.455Z'
  })
  t.same(await identitiesOf(i.contactId).then((ids) => ids.map((x) => [x.kind, x.address])), [['meta:psid', '6954834441214510']], 'unknown sender: a contact with that identity')
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, '6954834441214510', 'named after the handle when the provider gives no name')

  t.equal((await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-hub-signature-256': vector } })).statusCode, 200)
  t.equal((await interactionsOf(ch.id)).length, 1, 'a redelivery does not duplicate')

  // WhatsApp Cloud API on its own channel: sender is a phone number, named by the contacts block.
  const waSecret = 'wa-app-secret-SECRET'
  const wa = await createChannel(rest, 'meta', { appSecret: waSecret, verifyToken: 'wa-verify', platform: 'whatsapp' })
  const waBody = JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550001111', phone_number_id: '106540352242922' },
          contacts: [{ profile: { name: 'Wanda Wa' }, wa_id: '14155550100' }],
          messages: [{ from: '14155550100', id: 'wamid.HBgLMTQxNTU1NTAxMDA=', timestamp: String(NOW - 100), type: 'text', text: { body: 'Hola desde WhatsApp' } }]
        }
      }]
    }]
  })
  const before2 = await snapshot()
  await refused(t, await inbound(rest, wa.id, { payload: waBody, headers: { ...json, 'x-hub-signature-256': metaSignature(appSecret, waBody) } }), before2, 'WhatsApp signed with the other channel\'s secret')
  await refused(t, await inbound(rest, wa.id, { payload: waBody.replace('Hola', 'Adios'), headers: { ...json, 'x-hub-signature-256': metaSignature(waSecret, waBody) } }), before2, 'WhatsApp tampered body')
  const waCall = { payload: waBody, headers: { ...json, 'x-hub-signature-256': metaSignature(waSecret, waBody) } }
  t.equal((await inbound(rest, wa.id, waCall)).statusCode, 200)
  t.equal((await inbound(rest, wa.id, waCall)).statusCode, 200, 'delivered twice')
  const waList = await interactionsOf(wa.id)
  t.equal(waList.length, 1, 'one WhatsApp interaction')
  t.match(waList[0], { kind: 'message', body: 'Hola desde WhatsApp', providerMessageId: 'wamid.HBgLMTQxNTU1NTAxMDA=', counterpart: '+14155550100', occurredAt: new Date((NOW - 100) * 1000).toISOString() })
  t.match((await rest('GET', `/v1/contacts/${waList[0].contactId}`)).data, { displayName: 'Wanda Wa', phones: ['+14155550100'] })
  t.same((await identitiesOf(waList[0].contactId)).map((x) => [x.kind, x.address]), [['phone', '+14155550100']])
})

t.test('X: CRC handshake and signed Account Activity events', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const secret = 'z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu'
  const ch = await createChannel(rest, 'x', { consumerSecret: secret })

  const crcQuery = '?' + sample('x-crc-request.txt').toString('utf8').split(' ')[1].split('?')[1]
  const crc = await inbound(rest, ch.id, { method: 'GET', query: crcQuery })
  t.equal(crc.statusCode, 200, crc.body)
  t.same(crc.data, { response_token: 'sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8=' }, 'the published CRC answer')

  const body = sample('x-account-activity-dm.json')
  const vector = 'sha256=XagT2glVb4ORRAOab4XENaN1iU8kvXgGQ5RlhYjwLpY='
  t.equal(xSignature(secret, body), vector, 'test signer agrees with the published vector')
  const before = await snapshot()
  await refused(t, await inbound(rest, ch.id, { payload: Buffer.from(body.toString('utf8').replace('Hello World!', 'Hello Moon!!')), headers: { ...json, 'x-twitter-webhooks-signature': vector } }), before, 'tampered body')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-twitter-webhooks-signature': xSignature('not-the-secret', body) } }), before, 'wrong consumer secret')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: json }), before, 'no signature')

  const call = { payload: body, headers: { ...json, 'x-twitter-webhooks-signature': vector } }
  t.equal((await inbound(rest, ch.id, call)).statusCode, 200)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, { direction: 'inbound', kind: 'message', body: 'Hello World!', providerMessageId: '954491830116155396', counterpart: '3001969357', occurredAt: '2018-01-19T23:12:40.557Z' })
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, 'Jordan Brinks', 'named from the users block')
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['x:user', '3001969357']])

  t.equal((await inbound(rest, ch.id, call)).statusCode, 200)
  t.equal((await interactionsOf(ch.id)).length, 1, 'a redelivery does not duplicate')
  t.equal((await allContacts(rest)).length, 1, 'nor creates a second contact')
})

t.test('Slack: url_verification, v0 signatures with a 5-minute window, retries deduplicated', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const secret = '8f742231b10e8888abcd99yyyzzz85a5'
  const ch = await createChannel(rest, 'slack', { signingSecret: secret })
  const slackHeaders = (ts: number, sig: string) => ({ ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig })

  const verification = sample('slack-url-verification.json')
  t.equal(slackSignature(secret, NOW, verification), 'v0=935a20a1ea4222a950383001359b111d6fd69f654579bdd23ecca0cb37ed378e', 'test signer agrees with the vector')
  const hs = await inbound(rest, ch.id, { payload: verification, headers: slackHeaders(NOW, slackSignature(secret, NOW, verification)) })
  t.equal(hs.statusCode, 200, hs.body)
  t.equal(hs.body, '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', 'the challenge is answered')
  const before = await snapshot()
  t.equal(before.inbox, 0, 'a handshake is not stored')
  await refused(t, await inbound(rest, ch.id, { payload: verification, headers: slackHeaders(NOW, slackSignature('wrong', NOW, verification)) }), before, 'unsigned url_verification')

  const body = sample('slack-event-callback.json')
  const vector = 'v0=1b73ed75fdfbaf90f4d1a563ab1991112c24d8ccb631d4bc8e173d66ed0c78b5'
  t.equal(slackSignature(secret, NOW, body), vector)
  await refused(t, await inbound(rest, ch.id, { payload: Buffer.from(body.toString('utf8').replace('prospect', 'prosper!')), headers: slackHeaders(NOW, vector) }), before, 'tampered body')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: slackHeaders(NOW, slackSignature('another-secret', NOW, body)) }), before, 'wrong signing secret')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: slackHeaders(NOW - 301, slackSignature(secret, NOW - 301, body)) }), before, 'stale timestamp, correctly signed')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: slackHeaders(NOW + 301, slackSignature(secret, NOW + 301, body)) }), before, 'future timestamp, correctly signed')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: slackHeaders(NOW, vector.replace('v0=', 'v1=')) }), before, 'wrong version prefix')

  t.equal((await inbound(rest, ch.id, { payload: body, headers: slackHeaders(NOW, vector) })).statusCode, 200, 'the published vector')
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, { direction: 'inbound', kind: 'message', body: 'Live long and prospect.', providerMessageId: 'C024BE91L:1355517523.000005', counterpart: 'U2147483697', occurredAt: '2012-12-14T20:38:43.000Z' })
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['slack:user', 'U2147483697']])

  const retryTs = NOW - 120
  const retry = await inbound(rest, ch.id, { payload: body, headers: { ...slackHeaders(retryTs, slackSignature(secret, retryTs, body)), 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } })
  t.equal(retry.statusCode, 200, 'a retry (new timestamp, inside the window) is accepted')
  t.equal((await interactionsOf(ch.id)).length, 1, 'and deduplicated')
})

t.test('Telegram: secret token header; a known identity attaches to its contact; other workspaces see nothing', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf, token, workspace, database } = await setup()
  const secretToken = 'tg-Secret_Token-123'
  const ch = await createChannel(rest, 'telegram', { botToken: '123456:ABC-DEF1234ghIkl', secretToken })
  const known = await createContact(rest, { displayName: 'Maria (known)', emails: ['maria@example.es'] })
  t.equal((await rest('POST', `/v1/contacts/${known.id}/identities`, { body: { kind: 'telegram:user', address: '1111111111' } })).statusCode, 201)
  const globex = token({ workspace: `${workspace}-other` })
  const theirs = await createChannel(rest, 'telegram', { botToken: '654321:XYZ', secretToken }, { token: globex })

  const body = sample('telegram-update.json')
  const before = await snapshot()
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-telegram-bot-api-secret-token': 'tg-wrong' } }), before, 'wrong secret token')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: json }), before, 'no secret token')
  await refused(t, await inbound(rest, ch.id, { method: 'GET', query: '?x=1', headers: { 'x-telegram-bot-api-secret-token': secretToken } }), before, 'GET is not a delivery')

  const call = { payload: body, headers: { ...json, 'x-telegram-bot-api-secret-token': secretToken } }
  t.equal((await inbound(rest, ch.id, call)).statusCode, 200)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, { contactId: known.id, direction: 'inbound', kind: 'message', body: 'Hola, ¿mi pedido ya salió?', providerMessageId: '1111111111:1365', counterpart: '1111111111', occurredAt: '2024-05-29T18:15:00.000Z' })
  t.same((await allContacts(rest)).map((c) => c.id), [known.id], 'no new contact for a known identity')
  const identity = (await identitiesOf(known.id)).find((x) => x.kind === 'telegram:user')
  t.equal(identity?.lastSeenAt, '2024-05-29T18:15:00.000Z', 'the identity records when it was last seen')

  t.equal((await inbound(rest, ch.id, call)).statusCode, 200)
  t.equal((await interactionsOf(ch.id)).length, 1, 'a redelivered update does not duplicate')
  const rows = await inboxRows(database, workspace)
  t.equal(rows.length, 2)
  t.ok(rows.every((r) => !r.request.includes(secretToken)), 'the inbox does not keep the secret token in the clear')

  // globex owns a channel with the same secret token; neither sees the other's traffic.
  t.same(await allInteractions(rest, '', globex), [], 'globex sees no acme interaction')
  t.same(await allInteractions(rest, `channelId=${ch.id}`, globex), [], 'not even filtering by acme\'s channel id')
  assertProblem(t, await rest('GET', `/v1/interactions/${i.id}`, { token: globex }), 404, 'interaction.not_found', 'globex reading acme\'s interaction')
  t.same(await allContacts(rest, globex), [], 'nor the contact')
  t.equal((await inbound(rest, theirs.id, call)).statusCode, 200, 'the same update sent to globex\'s channel')
  await interactionsOf(ch.id)
  const globexList = await allInteractions(rest, '', globex)
  t.equal(globexList.length, 1, 'lands in globex only')
  t.not(globexList[0].contactId, known.id, 'as a globex contact')
  t.equal((await allInteractions(rest)).length, 1, 'acme still has its one interaction')
})

t.test('generic webhook: Standard Webhooks signature with a 5-minute window', async (t) => {
  const { rest, refused, snapshot, interactionsOf, identitiesOf } = await setup()
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
  t.equal(standardWebhookSignature(secret, 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 1674087231, sample('standard-webhooks-outbound.json')),
    'v1,ARw42xaAApl/nxRo+iPGYwSaMQaOwMo2eyH5JBRA+bQ=', 'test signer agrees with the published vector')
  const ch = await createChannel(rest, 'webhook', { secret })
  const body = JSON.stringify({
    type: 'message.received',
    timestamp: '2024-05-29T18:14:00Z',
    data: { id: 'ext-msg-1', from: 'user-42', fromName: 'Ext User', identityKind: 'acme:user', subject: 'Ticket', text: 'Webhook hello', threadId: 'ext-100' }
  })
  const signed = (b: string, o: { id?: string, ts?: number, secret?: string } = {}) => {
    const id = o.id ?? 'msg_1'
    const ts = o.ts ?? NOW
    return { payload: b, headers: { ...json, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(o.secret ?? secret, id, ts, b) } }
  }

  const before = await snapshot()
  const good = signed(body)
  await refused(t, await inbound(rest, ch.id, { ...good, payload: body.replace('hello', 'HELLO') }), before, 'tampered body')
  await refused(t, await inbound(rest, ch.id, { ...good, headers: { ...good.headers, 'webhook-id': 'msg_2' } }), before, 'webhook-id changed after signing')
  await refused(t, await inbound(rest, ch.id, signed(body, { secret: 'whsec_' + Buffer.alloc(24, 7).toString('base64') })), before, 'wrong secret')
  await refused(t, await inbound(rest, ch.id, signed(body, { ts: NOW - 301 })), before, 'stale timestamp, correctly signed')
  await refused(t, await inbound(rest, ch.id, { payload: body, headers: json }), before, 'no signature headers')

  t.equal((await inbound(rest, ch.id, good)).statusCode, 200)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  t.match(i, { direction: 'inbound', kind: 'message', subject: 'Ticket', body: 'Webhook hello', providerMessageId: 'ext-msg-1', threadId: 'ext-100', counterpart: 'user-42', occurredAt: '2024-05-29T18:14:00.000Z' })
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, 'Ext User')
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['acme:user', 'user-42']])

  t.equal((await inbound(rest, ch.id, signed(body, { ts: NOW - 60 }))).statusCode, 200, 'the sender retries with a fresh timestamp')
  t.equal((await interactionsOf(ch.id)).length, 1, 'same data.id: still one interaction')

  // A correctly signed body that is not a valid message: 400, nothing stored.
  const snap = await snapshot()
  const broken = JSON.stringify({ type: 'message.received', timestamp: '2024-05-29T18:14:00Z', data: { id: 'ext-msg-2' } })
  assertProblem(t, await inbound(rest, ch.id, signed(broken, { id: 'msg_3' })), 400, 'inbound.malformed', 'signed but malformed')
  t.same(await snapshot(), snap, 'a malformed body is not stored')

  // A manual channel has no webhook.
  const note = await createChannel(rest, 'note', {})
  assertProblem(t, await inbound(rest, note.id, good), 404, 'channel.not_found', 'a manual channel does not receive')
})
