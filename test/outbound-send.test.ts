import { createHash } from 'node:crypto'
import t from 'tap'
import { deadUrl, fakeProvider, type Received } from './adapters/fake-server.js'
import { build } from './helper.js'
import {
  allInteractions, basicAuth, createChannel, createContact, eventually, inbound, metaSignature, PUBLIC_URL,
  publicInboundUrl, standardWebhookSignature, twilioSignature, workspaces
} from './support/channels/index.js'
import { assertProblem, assertValidation } from './support/problem.js'

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef'
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const json = { 'content-type': 'application/json' }
const form = { 'content-type': 'application/x-www-form-urlencoded' }

// One app (one fresh database) for the file; each test works in a workspace of its own.
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared)

async function setup () {
  const ctx = fresh()
  const { rest, app } = ctx
  const interaction = async (id: string) => (await rest('GET', `/v1/interactions/${id}`)).data
  /** Waits (bounded) until the interaction reaches `status`, and returns it. */
  const untilStatus = (id: string, status: string) => eventually(async () => {
    const i = await interaction(id)
    return i.status === status && i
  }, { what: `interaction ${id} to become ${status}` })
  const attempts = async (id: string) => (await rest('GET', `/v1/interactions/${id}/attempts`)).data.data as any[]
  /** POSTs a message and checks the 202 answer. */
  async function send (contactId: string, body: Record<string, unknown>) {
    const res = await rest('POST', `/v1/contacts/${contactId}/messages`, { body })
    if (res.statusCode !== 202) throw new Error(`send: ${res.statusCode} ${res.body}`)
    return res
  }
  const drainInbox = () => app.jobs.inbox.drain()
  return { ...ctx, interaction, untilStatus, attempts, send, drainInbox }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('telegram: 202 queued, then sent by the outbox worker with the provider message id', async (t) => {
  const { rest, send, untilStatus, attempts } = await setup()
  const provider = await fakeProvider(t, { status: 200, body: { ok: true, result: { message_id: 77, chat: { id: 1111111111 }, date: 1717006600, text: 'x' } } })
  const ch = await createChannel(rest, 'telegram', { botToken: '123456:ABC-DEF', secretToken: 'tg-secret', apiBaseUrl: provider.url })
  const contact = await createContact(rest, { displayName: 'Maria' })
  await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'telegram:user', address: '1111111111' } })

  const res = await send(contact.id, { channelId: ch.id, text: 'Your order shipped' })
  const queued = res.data
  t.equal(res.headers.location, `/v1/interactions/${queued.id}`)
  t.match(queued, {
    contactId: contact.id, channelId: ch.id, direction: 'outbound', kind: 'message', body: 'Your order shipped',
    status: 'queued', counterpart: '1111111111', providerMessageId: null, authorId: 'tester'
  })
  t.match(queued.id, /^int_/)

  const sent = await untilStatus(queued.id, 'sent')
  t.equal(sent.providerMessageId, '1111111111:77', 'the provider\'s id is recorded')
  t.equal(provider.received.length, 1, 'one call to the provider')
  t.equal(provider.received[0].url, '/bot123456:ABC-DEF/sendMessage')
  t.same(JSON.parse(provider.received[0].body), { chat_id: '1111111111', text: 'Your order shipped' })
  t.match(await attempts(queued.id), [{ attempt: 1, outcome: 'ok', error: null }])
  t.equal((await attempts(queued.id)).length, 1)

  const timeline = (await rest('GET', `/v1/contacts/${contact.id}/timeline`)).data.data
  t.same(timeline.map((i: any) => [i.id, i.status]), [[queued.id, 'sent']], 'the timeline shows the sent message')
  await sleep(150)
  t.equal(provider.received.length, 1, 'a sent message is not sent again')
})

t.test('sms: Twilio send, then signed status callbacks move the status forward only', async (t) => {
  const { rest, send, untilStatus, interaction, drainInbox } = await setup()
  let n = 0
  const provider = await fakeProvider(t, () => ({ status: 201, body: { sid: `SMout000${++n}`, status: 'queued', to: '+14155552671' } }))
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token', from: '+14155550100', apiBaseUrl: provider.url })
  const withCallback = await rest('PATCH', `/v1/channels/${ch.id}`, { body: { config: { statusCallbackUrl: publicInboundUrl(ch.id) } } })
  t.equal(withCallback.statusCode, 200, withCallback.body)
  const contact = await createContact(rest, { displayName: 'Pat', phones: ['+1 415 555 2671'] })

  const queued = (await send(contact.id, { channelId: ch.id, text: 'See you Friday' })).data
  t.match(queued, { kind: 'sms', counterpart: '+14155552671', status: 'queued' }, 'addressed to the contact\'s phone')
  const sent = await untilStatus(queued.id, 'sent')
  t.equal(sent.providerMessageId, 'SMout0001')
  const call = provider.received[0]
  t.equal(call.url, `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`)
  t.equal(call.headers.authorization, basicAuth(ACCOUNT_SID, 'tw-token'))
  t.equal(call.headers['i-twilio-idempotency-token'], queued.id, 'the idempotency key is the interaction id')
  const sentForm = Object.fromEntries(new URLSearchParams(call.body))
  t.same(sentForm, { To: '+14155552671', Body: 'See you Friday', From: '+14155550100', StatusCallback: publicInboundUrl(ch.id) })

  const callback = async (params: Record<string, string>, token = 'tw-token') => {
    const body = new URLSearchParams({ AccountSid: ACCOUNT_SID, From: '+14155550100', To: '+14155552671', ApiVersion: '2010-04-01', ...params }).toString()
    const res = await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': twilioSignature(token, publicInboundUrl(ch.id), body) } })
    await drainInbox()
    return res
  }
  const forged = await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'delivered' }, 'not-the-token')
  t.equal(forged.statusCode, 401, 'a forged callback is refused')
  t.equal((await interaction(queued.id)).status, 'sent', 'and changes nothing')

  t.equal((await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'delivered' })).statusCode, 200)
  t.equal((await interaction(queued.id)).status, 'delivered', 'delivered')
  await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'sent' })
  t.equal((await interaction(queued.id)).status, 'delivered', 'a late "sent" does not move it back')
  await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'undelivered', ErrorCode: '30003' })
  t.equal((await interaction(queued.id)).status, 'delivered', 'a late failure does not undo delivery')
  await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'read' })
  t.equal((await interaction(queued.id)).status, 'read', 'read')
  await callback({ MessageSid: 'SMout0001', SmsSid: 'SMout0001', MessageStatus: 'delivered' })
  t.equal((await interaction(queued.id)).status, 'read', 'a late "delivered" does not undo read')

  const second = (await send(contact.id, { channelId: ch.id, text: 'Are you there?' })).data
  await untilStatus(second.id, 'sent')
  await callback({ MessageSid: 'SMout0002', SmsSid: 'SMout0002', MessageStatus: 'undelivered', ErrorCode: '30003', ErrorMessage: 'Unreachable destination handset' })
  const failed = await interaction(second.id)
  t.equal(failed.status, 'failed', 'undelivered becomes failed')
  t.match(failed.statusReason, /30003/, 'with the provider\'s error code as the reason')
  t.equal((await interaction(queued.id)).status, 'read', 'a callback touches only its own message')
  t.equal((await allInteractions(rest, `channelId=${ch.id}&direction=inbound`)).length, 0, 'status callbacks are not stored as inbound messages')
})

t.test('WhatsApp: accepted by the Cloud API, then status webhooks (delivered, read) forward only', async (t) => {
  const { rest, send, untilStatus, interaction, drainInbox } = await setup()
  const provider = await fakeProvider(t, { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '14155550100', wa_id: '14155550100' }], messages: [{ id: 'wamid.OUT1' }] } })
  const appSecret = 'wa-app-secret-0001'
  const ch = await createChannel(rest, 'meta', {
    appSecret, verifyToken: 'wa-verify', platform: 'whatsapp', accessToken: 'wa-access-token', phoneNumberId: '106540352242922', apiBaseUrl: provider.url
  })
  const contact = await createContact(rest, { displayName: 'Wanda', phones: ['+14155550100'] })

  const queued = (await send(contact.id, { channelId: ch.id, text: 'Tu pedido salió' })).data
  const sent = await untilStatus(queued.id, 'sent')
  t.equal(sent.providerMessageId, 'wamid.OUT1')
  t.equal(provider.received[0].url, '/v21.0/106540352242922/messages')
  t.equal(provider.received[0].headers.authorization, 'Bearer wa-access-token')
  t.match(JSON.parse(provider.received[0].body), { messaging_product: 'whatsapp', to: '14155550100', type: 'text', text: { body: 'Tu pedido salió' } })

  const status = async (s: string, secret = appSecret) => {
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: '106540352242922' }, statuses: [{ id: 'wamid.OUT1', status: s, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: '14155550100' }] } }] }]
    })
    const res = await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-hub-signature-256': metaSignature(secret, body) } })
    await drainInbox()
    return res
  }
  t.equal((await status('read', 'wrong-secret')).statusCode, 401, 'an unsigned status is refused')
  t.equal((await interaction(queued.id)).status, 'sent')
  t.equal((await status('delivered')).statusCode, 200)
  t.equal((await interaction(queued.id)).status, 'delivered')
  await status('sent')
  t.equal((await interaction(queued.id)).status, 'delivered', 'late "sent" ignored')
  await status('read')
  t.equal((await interaction(queued.id)).status, 'read')
  await status('delivered')
  t.equal((await interaction(queued.id)).status, 'read', 'late "delivered" ignored')
})

t.test('webhook: a 500 is retried with backoff and the same idempotency key; exhausted retries fail', async (t) => {
  const { rest, send, untilStatus, attempts, interaction, drainInbox } = await setup()
  let calls = 0
  const flaky = await fakeProvider(t, () => (++calls <= 2 ? { status: 500, body: { error: 'boom' } } : { status: 200, body: { ok: true } }))
  const ch = await createChannel(rest, 'webhook', { secret: WEBHOOK_SECRET, url: `${flaky.url}/hooks/crm` })
  const contact = await createContact(rest, { displayName: 'External user' })
  await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'external', address: 'ext-user-9' } })

  const queued = (await send(contact.id, { channelId: ch.id, text: 'Ping', subject: 'Hello' })).data
  const done = await untilStatus(queued.id, 'delivered')
  t.equal(done.providerMessageId, queued.id, 'the webhook adapter reports the idempotency key as the message id')
  t.equal(flaky.received.length, 3, 'two failures, then success')
  const keys = flaky.received.map((r: Received) => r.headers['webhook-id'])
  t.same(keys, [queued.id, queued.id, queued.id], 'the same idempotency key on every attempt')
  for (const r of flaky.received) {
    t.equal(r.url, '/hooks/crm')
    t.equal(r.headers['webhook-signature'], standardWebhookSignature(WEBHOOK_SECRET, String(r.headers['webhook-id']), String(r.headers['webhook-timestamp']), r.body), 'each attempt is signed')
    t.match(JSON.parse(r.body), { type: 'message.sent', data: { id: queued.id, to: 'ext-user-9', subject: 'Hello', text: 'Ping' } })
  }
  const list = await attempts(queued.id)
  t.same(list.map((a) => [a.attempt, a.outcome]), [[1, 'retry'], [2, 'retry'], [3, 'ok']], 'attempts are listed')
  t.match(list[0].error, /HTTP 500/)
  t.ok(Date.parse(list[1].startedAt) >= Date.parse(list[0].finishedAt) && Date.parse(list[2].startedAt) >= Date.parse(list[1].finishedAt), 'attempts follow one another')

  // The receiving system reports the message read, with a Standard Webhooks signed status event.
  const readEvent = JSON.stringify({ type: 'message.status', timestamp: new Date().toISOString(), data: { id: queued.id, status: 'read' } })
  const ts = Math.floor(Date.now() / 1000)
  const signedHeaders = (body: string, id: string) => ({ 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(WEBHOOK_SECRET, id, ts, body) })
  t.equal((await inbound(rest, ch.id, { payload: readEvent, headers: signedHeaders(readEvent, 'evt_read_1') })).statusCode, 200)
  await drainInbox()
  t.equal((await interaction(queued.id)).status, 'read', 'a signed message.status moves it to read')
  const lateDelivered = JSON.stringify({ type: 'message.status', timestamp: new Date().toISOString(), data: { id: queued.id, status: 'delivered' } })
  await inbound(rest, ch.id, { payload: lateDelivered, headers: signedHeaders(lateDelivered, 'evt_deliv_1') })
  await drainInbox()
  t.equal((await interaction(queued.id)).status, 'read', 'and not back')

  // Always down: gives up after maxAttempts (3 in tests) with status failed.
  const down = await fakeProvider(t, { status: 503, body: 'unavailable' })
  const ch2 = await createChannel(rest, 'webhook', { secret: WEBHOOK_SECRET, url: down.url })
  const doomed = (await send(contact.id, { channelId: ch2.id, text: 'Anyone?' })).data
  const failed = await untilStatus(doomed.id, 'failed')
  t.match(failed.statusReason, /503/)
  t.same((await attempts(doomed.id)).map((a) => [a.attempt, a.outcome]), [[1, 'retry'], [2, 'retry'], [3, 'failed']])
  t.equal(down.received.length, 3, 'exactly maxAttempts calls')
  t.same([...new Set(down.received.map((r) => r.headers['webhook-id']))], [doomed.id], 'one key throughout')
  await sleep(200)
  t.equal(down.received.length, 3, 'no call after giving up')
})

t.test('email via Postmark: sent, delivery webhook, and a 4xx fails at once without retry', async (t) => {
  const { rest, send, untilStatus, attempts, interaction, drainInbox } = await setup()
  let reject = false
  const provider = await fakeProvider(t, () => reject
    ? { status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } }
    : { status: 200, body: { To: 'ada@example.com', SubmittedAt: '2024-05-29T18:20:00Z', MessageID: 'pm-out-1', ErrorCode: 0, Message: 'OK' } })
  const ch = await createChannel(rest, 'email', {
    transport: 'postmark', from: 'Acme Support <support@acme.example>', postmarkServerToken: 'pm-server-token', apiBaseUrl: provider.url,
    inboundFormat: 'postmark', basicAuthUser: 'pm', basicAuthPassword: 'pm-hook-pass'
  })
  const contact = await createContact(rest, { displayName: 'Ada', emails: ['Ada@Example.com', 'ada@work.example'] })

  const queued = (await send(contact.id, { channelId: ch.id, text: 'Your invoice is attached.', subject: 'Invoice #7' })).data
  t.match(queued, { kind: 'email', subject: 'Invoice #7', counterpart: 'ada@example.com' }, 'to the primary e-mail')
  const sent = await untilStatus(queued.id, 'sent')
  t.equal(sent.providerMessageId, 'pm-out-1')
  const call = provider.received[0]
  t.equal(call.url, '/email')
  t.equal(call.headers['x-postmark-server-token'], 'pm-server-token')
  const payload = JSON.parse(call.body)
  t.match(payload, { From: 'Acme Support <support@acme.example>', To: 'ada@example.com', Subject: 'Invoice #7', TextBody: 'Your invoice is attached.', MessageStream: 'outbound' })
  const messageId = payload.Headers.find((h: any) => h.Name === 'Message-ID')?.Value
  t.equal(messageId, `<${createHash('sha256').update(queued.id).digest('hex').slice(0, 32)}@acme.example>`, 'the RFC Message-ID derives from the idempotency key')

  const delivery = JSON.stringify({ RecordType: 'Delivery', MessageStream: 'outbound', MessageID: 'pm-out-1', Recipient: 'ada@example.com', DeliveredAt: '2024-05-29T18:21:00Z', Details: 'Test' })
  t.equal((await inbound(rest, ch.id, { payload: delivery, headers: { ...json, authorization: basicAuth('pm', 'pm-hook-pass') } })).statusCode, 200)
  await drainInbox()
  t.equal((await interaction(queued.id)).status, 'delivered', 'Postmark\'s delivery webhook marks it delivered')

  reject = true
  const bad = (await send(contact.id, { channelId: ch.id, text: 'Second', subject: 'Again', to: 'ada@work.example' })).data
  t.equal(bad.counterpart, 'ada@work.example', '"to" overrides the default address')
  const failed = await untilStatus(bad.id, 'failed')
  t.match(failed.statusReason, /422/)
  t.match(failed.statusReason, /Invalid email request/)
  t.same((await attempts(bad.id)).map((a) => [a.attempt, a.outcome]), [[1, 'failed']], 'one attempt, no retry')
  await sleep(200)
  t.equal(provider.received.length, 2, 'the rejected message was tried once')
})

t.test('telegram: a 400 fails at once; an unreachable provider is retried; errors never show the token', async (t) => {
  const { rest, send, untilStatus, attempts } = await setup()
  const provider = await fakeProvider(t, { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } })
  const ch = await createChannel(rest, 'telegram', { botToken: '123456:ABC-DEF', secretToken: 'tg-secret', apiBaseUrl: provider.url })
  const contact = await createContact(rest, { displayName: 'Nobody' })
  const queued = (await send(contact.id, { channelId: ch.id, text: 'hello?', to: '999' })).data
  const failed = await untilStatus(queued.id, 'failed')
  t.match(failed.statusReason, /chat not found/)
  t.equal(failed.providerMessageId, null)
  t.same((await attempts(queued.id)).map((a) => a.outcome), ['failed'])
  await sleep(200)
  t.equal(provider.received.length, 1, 'not retried')

  // A provider that cannot be reached: retried, then failed; no error ever shows the bot token (it is in the URL).
  const unreachable = await createChannel(rest, 'telegram', { botToken: '654321:SECRET-bot-token', secretToken: 'tg-secret', apiBaseUrl: await deadUrl() })
  const lost = (await send(contact.id, { channelId: unreachable.id, text: 'hello?', to: '999' })).data
  const gaveUp = await untilStatus(lost.id, 'failed')
  const tried = await attempts(lost.id)
  t.same(tried.map((a) => a.outcome), ['retry', 'retry', 'failed'], 'a network error is retryable')
  t.notOk(JSON.stringify({ gaveUp, tried }).includes('SECRET-bot-token'), 'the bot token appears in no reason or attempt error')
})

t.test('refused sends: paused, manual kind, no recipient, unknown ids, scope, validation', async (t) => {
  const { rest, gql, token, workspace } = await setup()
  const provider = await fakeProvider(t, { status: 200, body: { sid: 'SMx', status: 'queued' } })
  const sms = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw', from: '+14155550100', apiBaseUrl: provider.url })
  const phone = await createChannel(rest, 'phone', {})
  const withPhone = await createContact(rest, { displayName: 'Has phone', phones: ['+14155552671'] })
  const noPhone = await createContact(rest, { displayName: 'No phone', emails: ['np@example.com'] })

  const p1 = assertProblem(t, await rest('POST', `/v1/contacts/${noPhone.id}/messages`, { body: { channelId: sms.id, text: 'hi' } }), 422, 'message.no_recipient')
  t.match(p1.detail, /to/, 'the detail suggests passing "to"')
  assertProblem(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: phone.id, text: 'hi' } }), 409, 'channel.cannot_send')
  await rest('PATCH', `/v1/channels/${sms.id}`, { body: { status: 'paused' } })
  assertProblem(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: sms.id, text: 'hi' } }), 409, 'channel.paused')
  await rest('PATCH', `/v1/channels/${sms.id}`, { body: { status: 'active' } })
  assertProblem(t, await rest('POST', '/v1/contacts/con_01hzzzzzzzzzzzzzzzzzzzzzzz/messages', { body: { channelId: sms.id, text: 'hi' } }), 404, 'contact.not_found')
  assertProblem(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: 'chn_01hzzzzzzzzzzzzzzzzzzzzzzz', text: 'hi' } }), 404, 'channel.not_found')
  assertValidation(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: sms.id } }), [{ pointer: '/body/text' }], 'text is required')
  assertValidation(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: sms.id, text: 'hi', priority: 'high' } }), [{ pointer: '/body/priority', code: 'unknown_field' }], 'unknown field')

  const noSend = token({ scopes: ['contacts:read', 'interactions:read', 'interactions:write', 'channels:read'] })
  const p2 = assertProblem(t, await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { token: noSend, body: { channelId: sms.id, text: 'hi' } }), 403, 'auth.forbidden')
  t.equal(p2.requiredScope, 'messages:send')
  const g = await gql('mutation ($input: SendMessageInput!) { sendMessage(input: $input) { interaction { id } } }', { input: { contactId: withPhone.id, channelId: sms.id, text: 'hi' } }, { token: noSend })
  t.equal(g.errors?.[0].extensions.code, 'auth.forbidden')
  t.equal(g.errors?.[0].extensions.requiredScope, 'messages:send')
  const noRead = token({ scopes: ['messages:send'] })
  const p3 = assertProblem(t, await rest('GET', '/v1/interactions/int_01hzzzzzzzzzzzzzzzzzzzzzzz/attempts', { token: noRead }), 403, 'auth.forbidden')
  t.equal(p3.requiredScope, 'interactions:read')

  await new Promise((resolve) => setTimeout(resolve, 150))
  t.same(await allInteractions(rest), [], 'no refused send left an interaction')
  t.equal(provider.received.length, 0, 'and nothing reached the provider')

  // Another workspace cannot read the attempts of this one's message.
  const ok = await rest('POST', `/v1/contacts/${withPhone.id}/messages`, { body: { channelId: sms.id, text: 'allowed' } })
  t.equal(ok.statusCode, 202)
  assertProblem(t, await rest('GET', `/v1/interactions/${ok.data.id}/attempts`, { token: token({ workspace: `${workspace}-other` }) }), 404, 'interaction.not_found', 'attempts from another workspace')
})

t.test('GraphQL sendMessage: queued, then SENT, with its contact and channel', async (t) => {
  const { rest, gql, untilStatus } = await setup()
  const provider = await fakeProvider(t, { status: 201, body: { sid: 'SMgql1', status: 'sending' } })
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw', from: '+14155550100', apiBaseUrl: provider.url })
  const contact = await createContact(rest, { displayName: 'Gail', phones: ['+14155552671'] })
  const mutation = `mutation ($input: SendMessageInput!) {
    sendMessage(input: $input) { interaction { id status direction kind body counterpart providerMessageId contact { id displayName } channel { id kind } } }
  }`
  const res = await gql(mutation, { input: { contactId: contact.id, channelId: ch.id, text: 'Via GraphQL' } })
  t.same(res.errors, undefined)
  const i = res.data.sendMessage.interaction
  t.match(i, { status: 'QUEUED', direction: 'OUTBOUND', kind: 'SMS', body: 'Via GraphQL', counterpart: '+14155552671', providerMessageId: null, contact: { id: contact.id, displayName: 'Gail' }, channel: { id: ch.id, kind: 'sms' } })
  await untilStatus(i.id, 'sent')
  const read = await gql('query ($id: ID!) { interaction(id: $id) { status providerMessageId } }', { id: i.id })
  t.same(read.data.interaction, { status: 'SENT', providerMessageId: 'SMgql1' })

  const noAddress = await createContact(rest, { displayName: 'Unreachable' })
  const e1 = await gql(mutation, { input: { contactId: noAddress.id, channelId: ch.id, text: 'x' } })
  t.equal(e1.errors?.[0].extensions.code, 'message.no_recipient')
  await rest('PATCH', `/v1/channels/${ch.id}`, { body: { status: 'paused' } })
  const e2 = await gql(mutation, { input: { contactId: contact.id, channelId: ch.id, text: 'x' } })
  t.equal(e2.errors?.[0].extensions.code, 'channel.paused')
  t.equal(provider.received.length, 1, 'only the accepted message reached the provider')
})

t.test('pausing a channel holds queued messages; resuming sends them', async (t) => {
  const { rest, send, interaction, attempts } = await setup()
  let calls = 0
  const provider = await fakeProvider(t, () => (++calls === 1 ? { status: 503, headers: { 'retry-after': '1' }, body: {} } : { status: 200, body: { ok: true } }))
  const ch = await createChannel(rest, 'webhook', { secret: WEBHOOK_SECRET, url: provider.url })
  const contact = await createContact(rest, { displayName: 'Patient' })
  const queued = (await send(contact.id, { channelId: ch.id, text: 'Held while paused', to: 'ext-1' })).data
  await eventually(async () => calls >= 1, { what: 'the first (failed) attempt' })
  t.equal((await rest('PATCH', `/v1/channels/${ch.id}`, { body: { status: 'paused' } })).statusCode, 200)
  await sleep(2000)
  t.equal((await interaction(queued.id)).status, 'queued', 'still queued while the channel is paused')
  t.not((await attempts(queued.id)).at(-1)?.outcome, 'failed', 'no attempt gave up')
  await rest('PATCH', `/v1/channels/${ch.id}`, { body: { status: 'active' } })
  const delivered = await eventually(async () => (await interaction(queued.id)).status === 'delivered', { timeoutMs: 3000, what: 'delivery after resume' }).catch(() => false)
  t.ok(delivered, 'sent once the channel is active again')
})
