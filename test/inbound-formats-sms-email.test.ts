import { randomBytes } from 'node:crypto'
import t from 'tap'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import {
  basicAuth, createChannel, createContact, inbound, mailgunSignature, PUBLIC_URL,
  publicInboundUrl, twilioSignature, workspaces
} from './support/channels/index.js'
import { matchExactly } from './support/channels/exactly.js'
import { inboundKit } from './support/channels/inbound-kit.js'
import { assertProblem } from './support/problem.js'

/**
 * Documented provider formats beyond the shared samples (Twilio MMS / WhatsApp / URL variants,
 * Postmark HTML-only mail and its Open/Bounce webhooks, Mailgun multipart routes and event
 * webhooks), each POSTed to the public inbound URL exactly as the provider sends it.
 */
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared)

const json = { 'content-type': 'application/json' }
const form = { 'content-type': 'application/x-www-form-urlencoded' }
const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef'

async function setup () {
  const ctx = fresh()
  const kit = inboundKit(ctx)
  /** Sends an e-mail-shaped message and waits until the outbox worker has it `sent`. */
  const sent = (contactId: string, channelId: string, text: string) => kit.sendUntil(contactId, channelId, text, 'sent', { subject: 'Re: your order' })
  return { ...ctx, ...kit, sent }
}

// --- Twilio --------------------------------------------------------------------------------------

/** An incoming-message webhook as twilio.com/docs/messaging/guides/webhook-request lists its parameters. */
function twilioIncoming (params: Record<string, string>): URLSearchParams {
  return new URLSearchParams({
    ToCountry: 'US', ToState: 'CA', SmsMessageSid: params.MessageSid, NumMedia: '0', ToCity: 'SAN FRANCISCO', FromZip: '94105',
    SmsSid: params.MessageSid, FromState: 'CA', SmsStatus: 'received', FromCity: 'SAN FRANCISCO', Body: '', FromCountry: 'US',
    To: '+14155550100', ToZip: '94105', NumSegments: '1', MessageSid: params.MessageSid, AccountSid: ACCOUNT_SID, From: '+14155552671',
    ApiVersion: '2010-04-01',
    ...params
  })
}

t.test('Twilio MMS with media and an empty Body: one interaction, no body, the media as attachments', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token' })
  const body = twilioIncoming({
    MessageSid: 'MMc781610ec0b3400c9e0cab8e757da937',
    NumMedia: '2',
    MediaContentType0: 'image/jpeg',
    MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MMc781610ec0b3400c9e0cab8e757da937/Media/ME1`,
    MediaContentType1: 'application/pdf',
    MediaUrl1: `https://api.twilio.com/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/MMc781610ec0b3400c9e0cab8e757da937/Media/ME2`
  }).toString()
  const headers = { ...form, 'x-twilio-signature': twilioSignature('tw-token', publicInboundUrl(ch.id), body) }
  const res = await inbound(rest, ch.id, { payload: body, headers })
  t.equal(res.statusCode, 200, res.body)
  matchExactly(t, res.body, /<Response><\/Response>/)
  t.equal((await inbound(rest, ch.id, { payload: body, headers })).statusCode, 200, 'Twilio retries')

  const list = await interactionsOf(ch.id)
  t.equal(list.length, 1, 'one interaction for the retried message')
  matchExactly(t, list[0], {
    direction: 'inbound', kind: 'sms', body: null, counterpart: '+14155552671', providerMessageId: 'MMc781610ec0b3400c9e0cab8e757da937',
    attachments: [
      { contentType: 'image/jpeg', url: /\/Media\/ME1$/ },
      { contentType: 'application/pdf', url: /\/Media\/ME2$/ }
    ]
  })
})

t.test('WhatsApp through Twilio: the whatsapp: prefix is not part of the phone number', async (t) => {
  const { rest, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token' })
  const known = await createContact(rest, { displayName: 'Pat Phone', phones: ['+1 415 555 2671'] })
  const body = twilioIncoming({
    MessageSid: 'SM11d5f8e0f1c2a6d0b1e4f7a9c3b2d1e0', From: 'whatsapp:+14155552671', To: 'whatsapp:+14155238886',
    Body: 'Hola, ¿está listo mi pedido?', ProfileName: 'Pat', WaId: '14155552671', MessageType: 'text'
  }).toString()
  const res = await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': twilioSignature('tw-token', publicInboundUrl(ch.id), body) } })
  t.equal(res.statusCode, 200, res.body)

  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, i, { contactId: known.id, direction: 'inbound', kind: 'message', body: 'Hola, ¿está listo mi pedido?', counterpart: '+14155552671' })
  t.same((await identitiesOf(known.id)).map((x) => [x.kind, x.address]), [['phone', '+14155552671']], 'matched by the bare phone number')

  const location = twilioIncoming({
    MessageSid: 'SM22d5f8e0f1c2a6d0b1e4f7a9c3b2d1e0', From: 'whatsapp:+14155552671', To: 'whatsapp:+14155238886', Body: '', ProfileName: 'Pat', WaId: '14155552671',
    MessageType: 'location', Latitude: '37.7749', Longitude: '-122.4194', Label: 'Our office', Address: '1 Market St, San Francisco'
  }).toString()
  t.equal((await inbound(rest, ch.id, { payload: location, headers: { ...form, 'x-twilio-signature': twilioSignature('tw-token', publicInboundUrl(ch.id), location) } })).statusCode, 200)
  const shared = (await interactionsOf(ch.id)).find((x) => x.providerMessageId === 'SM22d5f8e0f1c2a6d0b1e4f7a9c3b2d1e0')
  matchExactly(t, shared, { contactId: known.id, body: 'Our office 1 Market St, San Francisco 37.7749,-122.4194' }, 'a shared location is logged as where')
})

t.test('Twilio signs the URL it was given: query string, explicit port, repeated parameters', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token' })
  const query = '?source=twilio&number=%2B14155550100'
  const message = (sid: string) => {
    const p = twilioIncoming({ MessageSid: sid, Body: `message ${sid}` })
    // Parameter names may repeat; every value is signed, values sorted.
    p.append('AddOns', '{"status":"successful"}')
    p.append('AddOns', '{"status":"failed"}')
    return p.toString()
  }
  const withQuery = message('SM00000000000000000000000000000001')
  const sig = twilioSignature('tw-token', publicInboundUrl(ch.id, query), withQuery)
  t.equal((await inbound(rest, ch.id, { query, payload: withQuery, headers: { ...form, 'x-twilio-signature': sig } })).statusCode, 200, 'URL with a query string')

  const withPort = message('SM00000000000000000000000000000002')
  const portSig = twilioSignature('tw-token', `${PUBLIC_URL}:443/v1/channels/${ch.id}/inbound${query}`, withPort)
  t.equal((await inbound(rest, ch.id, { query, payload: withPort, headers: { ...form, 'x-twilio-signature': portSig } })).statusCode, 200, 'URL entered with :443')

  const withoutQuery = twilioSignature('tw-token', publicInboundUrl(ch.id), withQuery)
  assertProblem(t, await inbound(rest, ch.id, { query, payload: withQuery, headers: { ...form, 'x-twilio-signature': withoutQuery } }), 401, 'inbound.unauthenticated', 'signed without the query string')
  const oneValue = new URLSearchParams(withQuery)
  oneValue.delete('AddOns', '{"status":"failed"}')
  assertProblem(t, await inbound(rest, ch.id, { query, payload: oneValue.toString(), headers: { ...form, 'x-twilio-signature': sig } }), 401, 'inbound.unauthenticated', 'a repeated value removed after signing')

  t.same((await interactionsOf(ch.id)).map((i) => i.body).sort(), ['message SM00000000000000000000000000000001', 'message SM00000000000000000000000000000002'])
})

t.test('Twilio webhook configured as GET: the parameters are in the signed URL', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token' })
  const query = '?' + twilioIncoming({ MessageSid: 'SM0000000000000000000000000000get1', Body: 'sent by GET' }).toString()
  const signature = twilioSignature('tw-token', publicInboundUrl(ch.id, query), '')
  t.equal((await inbound(rest, ch.id, { method: 'GET', query, headers: { 'x-twilio-signature': signature } })).statusCode, 200)
  assertProblem(t, await inbound(rest, ch.id, { method: 'GET', query: query.replace('sent+by+GET', 'changed'), headers: { 'x-twilio-signature': signature } }), 401, 'inbound.unauthenticated', 'a changed query')
  matchExactly(t, await interactionsOf(ch.id), [{ kind: 'sms', body: 'sent by GET', counterpart: '+14155552671', providerMessageId: 'SM0000000000000000000000000000get1' }])
})

t.test('Twilio status callbacks for messages we do not know, and intermediate statuses, log nothing', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'sms', { accountSid: ACCOUNT_SID, authToken: 'tw-token' })
  for (const MessageStatus of ['sending', 'sent', 'delivered', 'undelivered']) {
    const body = new URLSearchParams({
      SmsSid: 'SMffffffffffffffffffffffffffffffff', SmsStatus: MessageStatus, MessageStatus, To: '+14155552671',
      MessageSid: 'SMffffffffffffffffffffffffffffffff', AccountSid: ACCOUNT_SID, From: '+14155550100', ApiVersion: '2010-04-01',
      ...(MessageStatus === 'undelivered' ? { ErrorCode: '30003' } : {})
    }).toString()
    const res = await inbound(rest, ch.id, { payload: body, headers: { ...form, 'x-twilio-signature': twilioSignature('tw-token', publicInboundUrl(ch.id), body) } })
    t.equal(res.statusCode, 200, `${MessageStatus}: acknowledged`)
  }
  t.same(await interactionsOf(ch.id), [], 'no interaction: status callbacks are not messages')
})

// --- Postmark ------------------------------------------------------------------------------------

const pmHeaders = { ...json, authorization: basicAuth('pm', 'pm-hook-pass') }

t.test('Postmark inbound sent as HTML only, with Cc, threading headers and attachments', async (t) => {
  const { rest, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'email', { inboundFormat: 'postmark', basicAuthUser: 'pm', basicAuthPassword: 'pm-hook-pass' })
  const body = JSON.stringify({
    FromName: 'Grace Hopper',
    MessageStream: 'inbound',
    From: 'grace@navy.example',
    FromFull: { Email: 'Grace@Navy.example', Name: 'Grace Hopper', MailboxHash: '' },
    To: '"Acme Support" <support@acme.example>',
    ToFull: [{ Email: 'support@acme.example', Name: 'Acme Support', MailboxHash: '' }],
    Cc: 'ops@navy.example',
    CcFull: [{ Email: 'ops@navy.example', Name: '', MailboxHash: '' }],
    Bcc: '',
    BccFull: [],
    OriginalRecipient: 'support@acme.example',
    Subject: 'Re: Invoice #7',
    MessageID: 'a8c1040e-9b4f-4c55-9a6d-2d3e7b0c1f11',
    ReplyTo: '',
    MailboxHash: '',
    Date: 'Wed, 29 May 2024 18:30:00 +0000',
    TextBody: '',
    HtmlBody: '<html><head><style>p{color:red}</style></head><body><p>Thanks &amp; regards,</p><p>the invoice&nbsp;arrived.</p></body></html>',
    StrippedTextReply: '',
    Tag: '',
    Headers: [
      { Name: 'Message-ID', Value: '<CAHx1@mail.navy.example>' },
      { Name: 'In-Reply-To', Value: '<0100018f-out-7@acme.example>' },
      { Name: 'References', Value: '<0100018f-out-7@acme.example>' }
    ],
    Attachments: [
      { Name: 'receipt.pdf', Content: Buffer.from('%PDF-1.4').toString('base64'), ContentType: 'application/pdf', ContentLength: 8 },
      { Name: 'logo.png', Content: Buffer.from('png').toString('base64'), ContentType: 'image/png', ContentLength: 3, ContentID: 'logo@01' }
    ]
  })
  t.equal((await inbound(rest, ch.id, { payload: body, headers: pmHeaders })).statusCode, 200)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, i, {
    direction: 'inbound', kind: 'email', subject: 'Re: Invoice #7', body: 'Thanks & regards,\nthe invoice arrived.',
    providerMessageId: 'a8c1040e-9b4f-4c55-9a6d-2d3e7b0c1f11', threadId: '0100018f-out-7@acme.example',
    counterpart: 'grace@navy.example', occurredAt: '2024-05-29T18:30:00.000Z',
    attachments: [{ name: 'receipt.pdf', contentType: 'application/pdf', size: 8 }, { name: 'logo.png', contentType: 'image/png', size: 3 }]
  })
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, 'Grace Hopper')
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['email', 'grace@navy.example']], 'the sender, not the Cc')
})

t.test('Postmark Delivery, Open and Bounce webhooks move the sent message; other record types log nothing', async (t) => {
  const { rest, interaction, interactionsOf, sent } = await setup()
  let n = 0
  const provider = await fakeProvider(t, () => ({ status: 200, body: { To: 'ada@example.com', SubmittedAt: '2024-05-29T18:20:00Z', MessageID: `pm-out-${++n}`, ErrorCode: 0, Message: 'OK' } }))
  const ch = await createChannel(rest, 'email', {
    transport: 'postmark', from: 'Acme <support@acme.example>', postmarkServerToken: 'pm-token', apiBaseUrl: provider.url,
    inboundFormat: 'postmark', basicAuthUser: 'pm', basicAuthPassword: 'pm-hook-pass'
  })
  const contact = await createContact(rest, { displayName: 'Ada', emails: ['ada@example.com'] })
  const first = await sent(contact.id, ch.id, 'Your order shipped')
  const second = await sent(contact.id, ch.id, 'Your invoice')
  const third = await sent(contact.id, ch.id, 'Your receipt')
  t.same([first.providerMessageId, second.providerMessageId, third.providerMessageId], ['pm-out-1', 'pm-out-2', 'pm-out-3'])

  const post = async (record: Record<string, unknown>) => {
    const res = await inbound(rest, ch.id, { payload: JSON.stringify(record), headers: pmHeaders })
    t.equal(res.statusCode, 200, `${String(record.RecordType)}: acknowledged`)
  }
  await post({ RecordType: 'Delivery', ServerID: 23, MessageStream: 'outbound', MessageID: 'pm-out-1', Recipient: 'ada@example.com', Tag: '', DeliveredAt: '2024-05-29T18:21:00Z', Details: 'Test delivery webhook details', Metadata: {} })
  await post({
    RecordType: 'Open', MessageStream: 'outbound', FirstOpen: true, Client: { Name: 'Chrome 35.0.1916.153', Company: 'Google', Family: 'Chrome' },
    OS: { Name: 'OS X 10.7 Lion', Company: 'Apple Computer, Inc.', Family: 'OS X 10' }, Platform: 'WebMail', UserAgent: 'Mozilla/5.0',
    ReadSeconds: 5, Geo: {}, MessageID: 'pm-out-1', Metadata: {}, ReceivedAt: '2024-05-29T18:25:00Z', Tag: '', Recipient: 'ada@example.com'
  })
  t.equal((await interaction(first.id)).status, 'read', 'delivered, then opened: read')

  const bounce = (type: string, inactive: boolean, id: string) => ({
    RecordType: 'Bounce', MessageStream: 'outbound', ID: 4323372036854775807, Type: type, TypeCode: type === 'HardBounce' ? 1 : 4096, Name: type,
    Tag: '', MessageID: id, Metadata: {}, ServerID: 23, Description: type === 'HardBounce' ? 'The server was unable to deliver your message (ex: unknown user, mailbox not found).' : 'Soft bounce',
    Details: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.', Email: 'ada@example.com', From: 'support@acme.example',
    BouncedAt: '2024-05-29T18:22:00Z', DumpAvailable: true, Inactive: inactive, CanActivate: true, Subject: 'Re: your order', Content: ''
  })
  await post(bounce('SoftBounce', false, 'pm-out-2'))
  t.equal((await interaction(second.id)).status, 'sent', 'a soft bounce Postmark keeps retrying is not a failure')
  await post(bounce('HardBounce', true, 'pm-out-3'))
  const failed = await interaction(third.id)
  t.equal(failed.status, 'failed', 'a hard bounce fails the message')
  matchExactly(t, failed.statusReason, /unable to deliver/)

  await post({ RecordType: 'SpamComplaint', MessageStream: 'outbound', ID: 42, Type: 'SpamComplaint', TypeCode: 512, MessageID: 'pm-out-2', Email: 'ada@example.com', BouncedAt: '2024-05-29T18:23:00Z' })
  await post({ RecordType: 'Click', MessageStream: 'outbound', ClickLocation: 'HTML', OriginalLink: 'https://example.com', MessageID: 'pm-out-2', ReceivedAt: '2024-05-29T18:24:00Z', Recipient: 'ada@example.com' })
  t.equal((await interaction(second.id)).status, 'sent', 'complaints and clicks change nothing')
  t.equal((await interactionsOf(ch.id, '&direction=inbound')).length, 0, 'no webhook became an inbound message')

  assertProblem(t, await inbound(rest, ch.id, { payload: '{"RecordType": "Delivery",', headers: pmHeaders }), 400, 'inbound.malformed', 'truncated JSON')
  const odd = await inbound(rest, ch.id, { payload: JSON.stringify({ MessageID: 'pm-in-odd', FromFull: null, From: '', Subject: 'no sender' }), headers: pmHeaders })
  t.equal(odd.statusCode, 200, `an inbound mail with no sender is acknowledged, not a 500: ${odd.body}`)
  t.equal((await interactionsOf(ch.id, '&direction=inbound')).length, 0, 'and logs nothing')
})

// --- Mailgun -------------------------------------------------------------------------------------

const MG_KEY = 'key-mailgun-signing-0001'
const mgSigned = (ts = Math.floor(Date.now() / 1000)) => {
  const token = randomBytes(25).toString('hex')
  return { timestamp: String(ts), token, signature: mailgunSignature(MG_KEY, ts, token) }
}

/** A multipart/form-data body as Mailgun's "forward" route posts it (files as attachment-N). */
function multipart (fields: Record<string, string>, files: Array<{ field: string, name: string, type: string, content: string }>) {
  const boundary = '----MailgunBoundary7c2f1b9e'
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
  for (const f of files) parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n${f.content}\r\n`)
  return { payload: Buffer.from(parts.join('') + `--${boundary}--\r\n`), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

t.test('Mailgun routes: multipart with attachments, and an HTML-only urlencoded post', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'email', { inboundFormat: 'mailgun', mailgunSigningKey: MG_KEY })
  const routed = multipart({
    ...mgSigned(),
    recipient: 'support@acme.example', sender: 'lin@example.org', from: 'Lin Ng <lin@example.org>', subject: 'Re: Quote',
    'body-plain': 'Looks good, signed copy attached.\n\nOn Tue, Acme wrote:\n> Quote attached', 'stripped-text': 'Looks good, signed copy attached.',
    'stripped-signature': '', 'body-html': '<p>Looks good</p>', 'attachment-count': '2',
    'Message-Id': '<CAF=route-1@mail.example.org>', 'In-Reply-To': '<quote-2@acme.example>', References: '<quote-1@acme.example> <quote-2@acme.example>',
    Date: 'Wed, 29 May 2024 18:40:00 +0000',
    'message-headers': JSON.stringify([['Message-Id', '<CAF=route-1@mail.example.org>'], ['Subject', 'Re: Quote']])
  }, [
    { field: 'attachment-1', name: 'signed.pdf', type: 'application/pdf', content: '%PDF-1.4 signed' },
    { field: 'attachment-2', name: 'photo.jpg', type: 'image/jpeg', content: 'JFIF' }
  ])
  t.equal((await inbound(rest, ch.id, routed)).statusCode, 200)

  const htmlOnly = new URLSearchParams({
    ...mgSigned(), recipient: 'support@acme.example', sender: 'kim@example.org', from: 'kim@example.org', subject: 'Hello',
    'body-html': '<div>Hi there,<br>can you call me?</div>', 'stripped-html': '<div>Hi there,<br>can you call me?</div>',
    'Message-Id': '<html-only-1@example.org>'
  }).toString()
  t.equal((await inbound(rest, ch.id, { payload: htmlOnly, headers: form })).statusCode, 200)

  const list = await interactionsOf(ch.id)
  t.equal(list.length, 2)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  matchExactly(t, byId['CAF=route-1@mail.example.org'], {
    direction: 'inbound', kind: 'email', subject: 'Re: Quote', body: 'Looks good, signed copy attached.', counterpart: 'lin@example.org',
    threadId: 'quote-1@acme.example', occurredAt: '2024-05-29T18:40:00.000Z',
    attachments: [{ name: 'signed.pdf', contentType: 'application/pdf', size: 15 }, { name: 'photo.jpg', contentType: 'image/jpeg', size: 4 }]
  })
  matchExactly(t, byId['html-only-1@example.org'], { body: 'Hi there,\ncan you call me?', counterpart: 'kim@example.org' })
})

t.test('Mailgun store-and-notify: attachments listed with their storage URLs', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'email', { inboundFormat: 'mailgun', mailgunSigningKey: MG_KEY })
  const notify = new URLSearchParams({
    ...mgSigned(), recipient: 'support@acme.example', sender: 'lin@example.org', from: 'Lin Ng <lin@example.org>', subject: 'Photos',
    'body-plain': 'See attached', 'stripped-text': 'See attached', 'Message-Id': '<stored-1@mail.example.org>',
    'message-url': 'https://storage-us-east4.api.mailgun.net/v3/domains/acme.example/messages/BAABAAA',
    attachments: JSON.stringify([
      { url: 'https://storage-us-east4.api.mailgun.net/v3/domains/acme.example/messages/BAABAAA/attachments/0', 'content-type': 'image/jpeg', name: 'porch.jpg', size: 48211 }
    ])
  }).toString()
  t.equal((await inbound(rest, ch.id, { payload: notify, headers: form })).statusCode, 200)
  matchExactly(t, await interactionsOf(ch.id), [{
    body: 'See attached', providerMessageId: 'stored-1@mail.example.org',
    attachments: [{ name: 'porch.jpg', contentType: 'image/jpeg', size: 48211, url: /\/attachments\/0$/ }]
  }])
})

t.test('Mailgun event webhooks: delivered, opened, temporary and permanent failures, signature in the body', async (t) => {
  const { rest, interaction, interactionsOf, sent } = await setup()
  // Outbound through any transport whose provider id is the mail's Message-ID, as Mailgun's events report it.
  let n = 0
  const provider = await fakeProvider(t, () => ({ status: 200, body: { MessageID: `20240529184000.mg${++n}@acme.example`, ErrorCode: 0, Message: 'OK' } }))
  const ch = await createChannel(rest, 'email', {
    inboundFormat: 'mailgun', mailgunSigningKey: MG_KEY, transport: 'postmark', from: 'Acme <support@acme.example>', postmarkServerToken: 'pm', apiBaseUrl: provider.url
  })
  const contact = await createContact(rest, { displayName: 'Ada', emails: ['ada@example.com'] })
  const first = await sent(contact.id, ch.id, 'One')
  const second = await sent(contact.id, ch.id, 'Two')

  const event = (data: Record<string, unknown>, signature = mgSigned()) => JSON.stringify({
    signature,
    'event-data': {
      id: randomBytes(8).toString('hex'), timestamp: 1717008000.123456, 'log-level': 'info', recipient: 'ada@example.com', 'recipient-domain': 'example.com',
      envelope: { sender: 'support@acme.example', transport: 'smtp', targets: 'ada@example.com' }, flags: { 'is-authenticated': true, 'is-test-mode': false },
      tags: [], campaigns: [], 'user-variables': {},
      ...data
    }
  })
  const post = async (data: Record<string, unknown>, label: string) => t.equal((await inbound(rest, ch.id, { payload: event(data), headers: json })).statusCode, 200, label)
  const headersOf = (id: string) => ({ headers: { to: 'ada@example.com', 'message-id': id, from: 'support@acme.example', subject: 'Re: your order' }, attachments: [], size: 1024 })

  await post({ event: 'delivered', message: headersOf(first.providerMessageId), 'delivery-status': { code: 250, message: 'OK', description: '', 'mx-host': 'mx.example.com', 'attempt-no': 1, tls: true } }, 'delivered')
  t.equal((await interaction(first.id)).status, 'delivered')
  await post({ event: 'opened', message: headersOf(first.providerMessageId), ip: '203.0.113.9', geolocation: { country: 'US' }, 'client-info': { 'client-type': 'browser' } }, 'opened')
  t.equal((await interaction(first.id)).status, 'read', 'an open is a read receipt')

  await post({ event: 'failed', severity: 'temporary', reason: 'generic', message: headersOf(second.providerMessageId), 'delivery-status': { code: 452, message: 'mailbox full', 'retry-seconds': 600 } }, 'temporary failure')
  t.equal((await interaction(second.id)).status, 'sent', 'Mailgun retries a temporary failure itself')
  await post({ event: 'failed', severity: 'permanent', reason: 'bounce', message: headersOf(second.providerMessageId), 'delivery-status': { code: 550, message: '5.1.1 The email account that you tried to reach does not exist', description: '' } }, 'permanent failure')
  const failed = await interaction(second.id)
  t.equal(failed.status, 'failed')
  matchExactly(t, failed.statusReason, /does not exist/)

  await post({ event: 'clicked', url: 'https://acme.example/track', message: headersOf(first.providerMessageId) }, 'clicked is acknowledged')
  t.equal((await interactionsOf(ch.id, '&direction=inbound')).length, 0, 'no event became an inbound message')

  const stale = event({ event: 'delivered', message: headersOf(second.providerMessageId) }, mgSigned(Math.floor(Date.now() / 1000) - 3600))
  assertProblem(t, await inbound(rest, ch.id, { payload: stale, headers: json }), 401, 'inbound.unauthenticated', 'an hour-old signature')
  const forged = JSON.parse(event({ event: 'delivered', message: headersOf(second.providerMessageId) }))
  forged.signature.signature = mailgunSignature('key-other', forged.signature.timestamp, forged.signature.token)
  assertProblem(t, await inbound(rest, ch.id, { payload: JSON.stringify(forged), headers: json }), 401, 'inbound.unauthenticated', 'signed with another key')
  t.equal((await interaction(second.id)).status, 'failed', 'refused events change nothing')
})
