import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { webhookAdapter as webhook } from '../../src/modules/channels/adapters/webhook/index.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, realClock, request, sample } from './samples.js'

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const config = webhook.config.parse({ secret })
const ts = 1674087231
const vector = {
  'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  'webhook-timestamp': String(ts),
  'webhook-signature': 'v1,ARw42xaAApl/nxRo+iPGYwSaMQaOwMo2eyH5JBRA+bQ='
}

/** A body signed now with the npm package, as any Standard Webhooks sender would. */
function signed (body: unknown, at = new Date()): ReturnType<typeof request> {
  const raw = JSON.stringify(body)
  const id = `msg_${Math.random().toString(36).slice(2)}`
  return request({
    body: raw,
    headers: { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, raw) }
  })
}

t.test('verify: spec vector with injected clock', async (t) => {
  const body = sample('standard-webhooks-outbound.json')
  const good = request({ body, headers: vector })
  t.ok(webhook.verify!(good, config, clockAt(ts)), 'at the signing time')
  t.ok(webhook.verify!(good, config, clockAt(ts + 299)), 'inside 5 minutes')
  t.notOk(webhook.verify!(good, config, clockAt(ts + 301)), 'stale')
  t.notOk(webhook.verify!(good, config, clockAt(ts - 301)), 'too far in the future')
  t.notOk(webhook.verify!(good, config, realClock), 'the fixed vector is long expired in real time')
  t.notOk(webhook.verify!({ ...good, rawBody: Buffer.from(body.toString().replace('contact.created', 'contact.deleted')) }, config, clockAt(ts)), 'tampered body')
  t.notOk(webhook.verify!(good, webhook.config.parse({ secret: 'whsec_' + Buffer.alloc(24, 7).toString('base64') }), clockAt(ts)), 'wrong secret')
  t.notOk(webhook.verify!({ ...good, headers: { ...vector, 'webhook-id': 'msg_other' } }, config, clockAt(ts)), 'id is signed')
  t.ok(webhook.verify!({ ...good, headers: { ...vector, 'webhook-signature': `v1,bm90IGl0 v2,abc ${vector['webhook-signature']}` } }, config, clockAt(ts)), 'any listed v1 signature may match')
  t.notOk(webhook.verify!({ ...good, headers: { ...vector, 'webhook-signature': vector['webhook-signature'].replace('v1,', 'v1a,') } }, config, clockAt(ts)), 'unknown version ignored')
  t.equal(new Webhook(secret).sign(vector['webhook-id'], new Date(ts * 1000), body.toString()), vector['webhook-signature'], 'npm package agrees')
})

t.test('verify: a fresh request signed by the npm package', async (t) => {
  t.ok(webhook.verify!(signed({ type: 'ping' }), config, realClock))
})

t.test('parse', async (t) => {
  t.same(webhook.parse!(request({ body: sample('standard-webhooks-outbound.json') }), config, realClock), [], 'other event types ignored')
  t.same(webhook.parse!(signed({
    type: 'message.received',
    timestamp: '2024-05-29T18:15:00Z',
    data: { id: 'ext-123', from: 'user-42', fromName: 'Ada', identityKind: 'acme:user', to: 'support', subject: 'Hi', text: 'Hello', threadId: 'ext-100', attachments: [{ name: 'a.pdf', contentType: 'application/pdf', url: 'https://files.acme.example/a.pdf', size: 1234 }] }
  }), config, realClock), [{
    type: 'message',
    providerMessageId: 'ext-123',
    threadId: 'ext-100',
    sender: { handle: 'user-42', name: 'Ada' },
    recipient: 'support',
    subject: 'Hi',
    text: 'Hello',
    attachments: [{ name: 'a.pdf', contentType: 'application/pdf', url: 'https://files.acme.example/a.pdf', size: 1234 }],
    sentAt: new Date('2024-05-29T18:15:00Z'),
    interactionKind: 'message',
    identityKind: 'acme:user'
  }])
  t.match(webhook.parse!(signed({ type: 'message.received', timestamp: '2024-05-29T18:15:00Z', data: { id: 'e2', from: 'x' } }), config, realClock),
    [{ identityKind: 'external', interactionKind: 'message', attachments: [] }], 'defaults')
  t.same(webhook.parse!(signed({ type: 'message.status', timestamp: '2024-05-29T18:16:00+02:00', data: { id: 'k-1', status: 'failed', error: 'mailbox full' } }), config, realClock),
    [{ type: 'status', providerMessageId: 'k-1', status: 'failed', occurredAt: new Date('2024-05-29T16:16:00Z'), error: 'mailbox full' }])
  t.throws(() => webhook.parse!(signed({ type: 'message.received', timestamp: 'yesterday', data: { from: 'x' } }), config, realClock), { name: 'AdapterParseError', message: /data\.id/ })
  t.throws(() => webhook.parse!(signed({ type: 'message.status', timestamp: '2024-05-29T18:16:00Z', data: { id: 'k', status: 'bounced' } }), config, realClock), { name: 'AdapterParseError' })
})

t.test('send', async (t) => {
  const server = await fakeProvider(t, { status: 204 })
  const cfg = webhook.config.parse({ secret, url: `${server.url}/hooks/rapport` })
  const now = new Date()
  const result = await webhook.send!({ to: 'user-42', text: 'Hello back', threadId: 'ext-100' }, 'out_01HZX', cfg, { now: () => now })
  t.same(result, { providerMessageId: 'out_01HZX', status: 'delivered' })
  const [req] = server.received
  t.equal(req.url, '/hooks/rapport')
  t.equal(req.headers['webhook-id'], 'out_01HZX', 'webhook-id is the idempotency key')
  t.equal(req.headers['webhook-timestamp'], String(Math.floor(now.getTime() / 1000)))
  // The receiver's view: the npm package's own verify (real clock) accepts what we sent.
  const payload = new Webhook(secret).verify(req.body, req.headers as Record<string, string>)
  t.same(payload, { type: 'message.sent', timestamp: now.toISOString(), data: { id: 'out_01HZX', to: 'user-42', text: 'Hello back', threadId: 'ext-100' } })
})

t.test('send errors', async (t) => {
  const msg = { to: 'x', text: 'hi' }
  const gone = await fakeProvider(t, { status: 410, body: '' })
  t.match(await sendError(webhook.send!(msg, 'k', { secret, url: gone.url }, realClock)), { retryable: false, status: 410 })
  const down = await fakeProvider(t, { status: 502, body: '' })
  t.match(await sendError(webhook.send!(msg, 'k', { secret, url: down.url }, realClock)), { retryable: true, status: 502 })
  const limited = await fakeProvider(t, { status: 429, headers: { 'retry-after': '60' } })
  t.match(await sendError(webhook.send!(msg, 'k', { secret, url: limited.url }, realClock)), { retryable: true, retryAfterSeconds: 60 })
  t.match(await sendError(webhook.send!(msg, 'k', config, realClock)), { retryable: false, message: /url/ })
})
