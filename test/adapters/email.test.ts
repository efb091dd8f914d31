import { createHmac } from 'node:crypto'
import { createTransport } from 'nodemailer'
import t from 'tap'
import { emailAdapter as email } from '../../src/modules/channels/adapters/email/index.js'
import { sendSmtp, smtpError, type TransportFactory } from '../../src/modules/channels/adapters/email/smtp.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample } from './samples.js'

const postmark = email.config.parse({ inboundFormat: 'postmark', basicAuthUser: 'rapport', basicAuthPassword: 's3cret:pass' })
const signingKey = 'key-3ax6xnjp29jd6fds4gc373sgvjxteol0'
const mailgun = email.config.parse({ inboundFormat: 'mailgun', mailgunSigningKey: signingKey })
const ctx = clockAt(1717006500)
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

function mailgunForm (fields: Record<string, string>, ts = 1717006500, key = signingKey): ReturnType<typeof request> {
  const token = 'c3b1c1f0d4e64a7f9a0f2f8f6c0a8a1e2b3c4d5e6f7a8b9c0d'
  const signature = createHmac('sha256', key).update(`${ts}${token}`).digest('hex')
  const body = new URLSearchParams({ ...fields, timestamp: String(ts), token, signature }).toString()
  return request({ body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
}

t.test('config', async (t) => {
  t.notOk(email.config.safeParse({ inboundFormat: 'postmark' }).success, 'postmark inbound needs basic auth')
  t.notOk(email.config.safeParse({ inboundFormat: 'mailgun' }).success, 'mailgun needs the signing key')
  t.notOk(email.config.safeParse({ transport: 'smtp', from: 'a@b.c' }).success, 'smtp needs a host')
  t.ok(email.config.safeParse({ transport: 'smtp', from: 'a@b.c', smtpHost: 'smtp.b.c' }).success)
  t.notOk(email.config.safeParse({ transport: 'postmark', from: 'a@b.c', postmarkServerToken: 'x', smtp: {} }).success, 'strict')
})

t.test('postmark: verify with basic auth', async (t) => {
  const body = sample('postmark-inbound.json')
  t.ok(email.verify!(request({ body, headers: { authorization: basic('rapport', 's3cret:pass') } }), postmark, ctx), 'password may contain ":"')
  t.notOk(email.verify!(request({ body, headers: { authorization: basic('rapport', 'wrong') } }), postmark, ctx), 'wrong password')
  t.notOk(email.verify!(request({ body, headers: { authorization: basic('other', 's3cret:pass') } }), postmark, ctx), 'wrong user')
  t.notOk(email.verify!(request({ body, headers: { authorization: 'Bearer abc' } }), postmark, ctx), 'other scheme')
  t.notOk(email.verify!(request({ body }), postmark, ctx), 'no credentials')
})

t.test('postmark: parse sample', async (t) => {
  t.same(email.parse!(request({ body: sample('postmark-inbound.json') }), postmark, ctx), [{
    type: 'message',
    providerMessageId: '73e6d360-66eb-11e1-8e72-a8904824019b',
    threadId: '0100018f-outbound-1@example.com',
    sender: { handle: 'support@postmarkapp.com', name: 'Postmarkapp Support' },
    recipient: 'yourhash+SampleHash@inbound.postmarkapp.com',
    subject: 'Test subject',
    text: 'This is the reply text',
    attachments: [{ name: 'test.txt', contentType: 'text/plain', size: 45 }],
    sentAt: new Date('2014-08-01T20:45:32Z'),
    interactionKind: 'email',
    identityKind: 'email'
  }])
})

t.test('postmark: reply with References and attachments; delivery and bounce', async (t) => {
  const body = JSON.stringify({
    From: '"Ada Lovelace" <Ada@Example.com>', FromName: 'Ada Lovelace', To: 'support@acme.example', Subject: 'Re: Invoice 42',
    MessageID: 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817', Date: 'Wed, 29 May 2024 18:15:00 +0000', TextBody: 'Attached both files.\n\n> earlier text',
    StrippedTextReply: '', Headers: [
      { Name: 'Message-ID', Value: '<CAF=abc@mail.gmail.com>' },
      { Name: 'In-Reply-To', Value: '<reply-2@acme.example>' },
      { Name: 'References', Value: '<root-1@acme.example> <reply-2@acme.example>' }
    ],
    Attachments: [
      { Name: 'invoice.pdf', Content: 'JVBERi0=', ContentType: 'application/pdf', ContentLength: 48211, ContentID: '' },
      { Name: 'photo.png', Content: 'iVBORw==', ContentType: 'image/png', ContentLength: 1024, ContentID: 'ii_1' }
    ]
  })
  const [e] = email.parse!(request({ body }), postmark, ctx)
  t.match(e, {
    threadId: 'root-1@acme.example',
    sender: { handle: 'ada@example.com', name: 'Ada Lovelace' },
    recipient: 'support@acme.example',
    text: 'Attached both files.\n\n> earlier text',
    sentAt: new Date('2024-05-29T18:15:00Z'),
    attachments: [{ name: 'invoice.pdf', size: 48211 }, { name: 'photo.png', contentType: 'image/png' }]
  })
  const delivery = JSON.stringify({ RecordType: 'Delivery', ServerID: 23, MessageStream: 'outbound', MessageID: 'pm-1', Recipient: 'ada@example.com', Tag: '', DeliveredAt: '2024-05-29T18:16:00Z', Details: 'Test delivery webhook details' })
  t.same(email.parse!(request({ body: delivery }), postmark, ctx), [{ type: 'status', providerMessageId: 'pm-1', status: 'delivered', occurredAt: new Date('2024-05-29T18:16:00Z') }])
  const bounce = JSON.stringify({ RecordType: 'Bounce', ID: 42, Type: 'HardBounce', TypeCode: 1, MessageID: 'pm-2', Description: 'The server was unable to deliver your message', Inactive: true, BouncedAt: '2024-05-29T18:17:00Z' })
  t.match(email.parse!(request({ body: bounce }), postmark, ctx), [{ status: 'failed', providerMessageId: 'pm-2', error: /unable to deliver/ }])
  t.same(email.parse!(request({ body: JSON.stringify({ RecordType: 'Open', MessageID: 'pm-3', ReceivedAt: '2024-05-29T18:18:00Z' }) }), postmark, ctx),
    [{ type: 'status', providerMessageId: 'pm-3', status: 'read', occurredAt: new Date('2024-05-29T18:18:00Z') }], 'an open is a read receipt')
  t.same(email.parse!(request({ body: JSON.stringify({ RecordType: 'Click', MessageID: 'pm-3' }) }), postmark, ctx), [], 'clicks ignored')
})

t.test('mailgun: signed form', async (t) => {
  const fields = {
    recipient: 'support@acme.example', sender: 'bounce+abc=ada@example.com', from: 'Ada Lovelace <ada@example.com>', subject: 'Re: Invoice 42',
    'body-plain': 'Thanks!\n\nOn Tue, you wrote:\n> Invoice attached', 'stripped-text': 'Thanks!', 'Message-Id': '<CAF=xyz@mail.gmail.com>',
    'In-Reply-To': '<reply-2@acme.example>', References: '<root-1@acme.example> <reply-2@acme.example>', Date: 'Wed, 29 May 2024 18:14:00 +0000'
  }
  const req = mailgunForm(fields)
  t.ok(email.verify!(req, mailgun, ctx), 'good signature')
  t.notOk(email.verify!(req, mailgun, clockAt(1717006500 + 301)), 'stale timestamp')
  t.notOk(email.verify!(mailgunForm(fields, 1717006500, 'key-other'), mailgun, ctx), 'wrong key')
  t.notOk(email.verify!({ ...req, rawBody: Buffer.from(req.rawBody.toString().replace('timestamp=1717006500', 'timestamp=1717006501')) }, mailgun, ctx), 'tampered timestamp')
  t.notOk(email.verify!({ ...req, rawBody: Buffer.from(req.rawBody.toString().replace(/signature=[0-9a-f]+/, 'signature=' + '0'.repeat(64))) }, mailgun, ctx), 'tampered signature')
  t.same(email.parse!(req, mailgun, ctx), [{
    type: 'message',
    providerMessageId: 'CAF=xyz@mail.gmail.com',
    threadId: 'root-1@acme.example',
    sender: { handle: 'ada@example.com', name: 'Ada Lovelace' },
    recipient: 'support@acme.example',
    subject: 'Re: Invoice 42',
    text: 'Thanks!',
    attachments: [],
    sentAt: new Date('2024-05-29T18:14:00Z'),
    interactionKind: 'email',
    identityKind: 'email'
  }])
})

t.test('mailgun: multipart with attachment, and event webhook', async (t) => {
  const b = 'mgBoundary42'
  const token = 'tok'
  const signature = createHmac('sha256', signingKey).update(`1717006500${token}`).digest('hex')
  const parts = [
    ...Object.entries({ from: 'bob@example.com', recipient: 'support@acme.example', subject: 'Scan', 'body-plain': 'see attached', 'Message-Id': '<m1@example.com>', timestamp: '1717006500', token, signature })
      .map(([k, v]) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    `--${b}\r\nContent-Disposition: form-data; name="attachment-1"; filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 fake\r\n`,
    `--${b}--\r\n`
  ]
  const req = request({ body: parts.join(''), headers: { 'content-type': `multipart/form-data; boundary=${b}` } })
  t.ok(email.verify!(req, mailgun, ctx))
  t.match(email.parse!(req, mailgun, ctx), [{ providerMessageId: 'm1@example.com', sender: { handle: 'bob@example.com' }, attachments: [{ name: 'scan.pdf', contentType: 'application/pdf', size: 13 }] }])

  const event = JSON.stringify({
    signature: { timestamp: '1717006500', token, signature },
    'event-data': { event: 'delivered', timestamp: 1717006490.1, id: 'ev1', message: { headers: { 'message-id': 'abc123@acme.example' } } }
  })
  const evReq = request({ body: event, headers: { 'content-type': 'application/json' } })
  t.ok(email.verify!(evReq, mailgun, ctx))
  t.same(email.parse!(evReq, mailgun, ctx), [{ type: 'status', providerMessageId: 'abc123@acme.example', status: 'delivered', occurredAt: new Date(1717006490100) }])
})

t.test('send: postmark', async (t) => {
  const server = await fakeProvider(t, { status: 200, body: { To: 'ada@example.com', SubmittedAt: '2024-05-29T18:20:00Z', MessageID: 'pm-sent-1', ErrorCode: 0, Message: 'OK' } })
  const cfg = email.config.parse({ transport: 'postmark', from: 'Acme <support@acme.example>', postmarkServerToken: 'server-token', apiBaseUrl: server.url })
  const msg = { to: 'ada@example.com', subject: 'Re: Invoice 42', text: 'Done.', threadId: 'root-1@acme.example', inReplyTo: 'CAF=xyz@mail.gmail.com' }
  t.same(await email.send!(msg, 'outbound-7', cfg, ctx), { providerMessageId: 'pm-sent-1', status: 'sent' })
  const [req] = server.received
  t.equal(req.url, '/email')
  t.equal(req.headers['x-postmark-server-token'], 'server-token')
  const body = JSON.parse(req.body)
  t.match(body, { From: 'Acme <support@acme.example>', To: 'ada@example.com', Subject: 'Re: Invoice 42', TextBody: 'Done.', MessageStream: 'outbound' })
  t.match(body.Headers, [
    { Name: 'Message-ID', Value: /^<[0-9a-f]{32}@acme\.example>$/ },
    { Name: 'In-Reply-To', Value: '<CAF=xyz@mail.gmail.com>' },
    { Name: 'References', Value: '<root-1@acme.example> <CAF=xyz@mail.gmail.com>' }
  ])

  const invalid = await fakeProvider(t, { status: 422, body: { ErrorCode: 300, Message: 'Invalid email request' } })
  t.match(await sendError(email.send!(msg, 'k', { ...cfg, apiBaseUrl: invalid.url }, ctx)), { retryable: false, status: 422, providerCode: '300' })
  const down = await fakeProvider(t, { status: 503, body: '' })
  t.match(await sendError(email.send!(msg, 'k', { ...cfg, apiBaseUrl: down.url }, ctx)), { retryable: true, status: 503 })
  const limited = await fakeProvider(t, { status: 429, headers: { 'retry-after': '5' }, body: {} })
  t.match(await sendError(email.send!(msg, 'k', { ...cfg, apiBaseUrl: limited.url }, ctx)), { retryable: true, retryAfterSeconds: 5 })
})

t.test('send: smtp (rendered by nodemailer, no server)', async (t) => {
  const cfg = email.config.parse({ transport: 'smtp', from: 'Acme <support@acme.example>', smtpHost: 'smtp.acme.example', smtpUser: 'u', smtpPass: 'p' })
  const rendered: string[] = []
  const options: unknown[] = []
  // streamTransport renders the exact MIME message nodemailer would hand to the SMTP server.
  const factory: TransportFactory = (opts) => {
    options.push(opts)
    const stream = createTransport({ streamTransport: true, buffer: true })
    return { sendMail: async (mail) => { const info = await stream.sendMail(mail); rendered.push(String(info.message)); return info } }
  }
  const msg = { to: 'ada@example.com', subject: 'Re: Invoice 42', text: 'Done.', threadId: 'root-1@acme.example', inReplyTo: 'CAF=xyz@mail.gmail.com' }
  const first = await sendSmtp(msg, 'outbound-7', cfg, factory)
  const retry = await sendSmtp(msg, 'outbound-7', cfg, factory)
  const other = await sendSmtp(msg, 'outbound-8', cfg, factory)
  t.match(first, { providerMessageId: /^[0-9a-f]{32}@acme\.example$/, status: 'sent' })
  t.equal(retry.providerMessageId, first.providerMessageId, 'same key, same Message-ID')
  t.not(other.providerMessageId, first.providerMessageId)
  t.match(options[0], { host: 'smtp.acme.example', port: 587, secure: false, auth: { user: 'u', pass: 'p' } })
  t.match(rendered[0], new RegExp(`Message-ID: <${first.providerMessageId}>`))
  t.match(rendered[0], /In-Reply-To: <CAF=xyz@mail\.gmail\.com>/)
  t.match(rendered[0], /References: <root-1@acme\.example> <CAF=xyz@mail\.gmail\.com>/)

  const failing = (err: unknown): TransportFactory => () => ({ sendMail: async () => { throw err } })
  t.match(await sendError(sendSmtp(msg, 'k', cfg, failing(Object.assign(new Error('Mailbox unavailable'), { code: 'EENVELOPE', responseCode: 550 })))), { retryable: false, providerCode: '550' })
  t.match(await sendError(sendSmtp(msg, 'k', cfg, failing(Object.assign(new Error('Greylisted'), { code: 'EENVELOPE', responseCode: 451 })))), { retryable: true })
  t.match(await sendError(sendSmtp(msg, 'k', cfg, failing(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })))), { retryable: true })
  t.equal(smtpError(Object.assign(new Error('Invalid login'), { code: 'EAUTH' })).retryable, false, 'bad credentials will not fix themselves')
})
