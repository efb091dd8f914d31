import { createHmac } from 'node:crypto'
import t from 'tap'
import { smsAdapter as sms } from '../../src/modules/channels/adapters/sms/index.js'
import { twilioSignature } from '../../src/modules/channels/adapters/sms/signature.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample } from './samples.js'

const accountSid = 'AC00000000000000000000000000000001'
const config = sms.config.parse({ accountSid, authToken: '12345', from: '+15557122661', statusCallbackUrl: 'https://crm.example.com/v1/channels/ch_1/inbound' })
const ctx = clockAt('2024-05-29T18:40:00Z')
const sampleUrl = 'https://crm.example.com/webhooks/twilio/sms'
const form = (params: Record<string, string>, url = 'https://crm.example.com/v1/channels/ch_1/inbound'): ReturnType<typeof request> => {
  const body = new URLSearchParams(params).toString()
  const sig = twilioSignature('12345', url, new URLSearchParams(body))
  return request({ url, body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig } })
}

t.test('signature: Twilio documented vector', async (t) => {
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675310', Digits: '1234', From: '+14158675310', To: '+18005551212' }
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2'
  // Params given in a scrambled order: the algorithm sorts them.
  const body = new URLSearchParams(Object.entries(params).reverse()).toString()
  t.equal(twilioSignature('12345', url, new URLSearchParams(body)), 'GvWf1cFY/Q7PnoempGyD5oXAezc=')
  t.ok(sms.verify!(request({ url, body, headers: { 'x-twilio-signature': 'GvWf1cFY/Q7PnoempGyD5oXAezc=' } }), config, ctx))
})

t.test('verify: sample', async (t) => {
  const body = sample('twilio-sms.txt')
  const good = request({ url: sampleUrl, body, headers: { 'x-twilio-signature': 'PUIwNyrKnAtsVW+Iu6p0DwyCiPk=' } })
  t.ok(sms.verify!(good, config, ctx), 'sample vector')
  t.ok(sms.verify!({ ...good, url: 'https://crm.example.com:443/webhooks/twilio/sms' }, config, ctx), 'explicit default port accepted')
  const withPort = twilioSignature('12345', 'https://crm.example.com:443/webhooks/twilio/sms', new URLSearchParams(body.toString()))
  t.ok(sms.verify!({ ...good, headers: { 'x-twilio-signature': withPort } }, config, ctx), 'signed with :443, called without')
  t.notOk(sms.verify!({ ...good, rawBody: Buffer.from(body.toString().replace('Friday', 'Monday')) }, config, ctx), 'tampered body')
  t.notOk(sms.verify!({ ...good, rawBody: Buffer.concat([body, Buffer.from('&Extra=1')]) }, config, ctx), 'added parameter')
  t.notOk(sms.verify!({ ...good, url: 'https://crm.example.com/webhooks/twilio/other' }, config, ctx), 'different URL')
  t.notOk(sms.verify!(good, { ...config, authToken: '54321' }, ctx), 'wrong auth token')
  t.notOk(sms.verify!({ ...good, headers: {} }, config, ctx), 'missing header')
  // A SHA-256 HMAC of the same data is not accepted as the SHA-1 one.
  const sha256 = createHmac('sha256', '12345').update('x').digest('base64')
  t.notOk(sms.verify!({ ...good, headers: { 'x-twilio-signature': sha256 } }, config, ctx))
})

t.test('parse: sample SMS', async (t) => {
  t.same(sms.parse!(request({ url: sampleUrl, body: sample('twilio-sms.txt') }), config, ctx), [{
    type: 'message',
    providerMessageId: 'SM1f0e8ae6ade43cb3c0ce4525424e404f',
    sender: { handle: '+14155552671' },
    recipient: '+15557122661',
    text: 'Hi, can I move my appointment to Friday?',
    attachments: [],
    sentAt: ctx.now(),
    interactionKind: 'sms',
    identityKind: 'phone'
  }])
  t.same(sms.inboundResponse!([]), { status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>' })
})

t.test('GET webhook: parameters in the query, only the URL is signed', async (t) => {
  const url = `https://crm.example.com/v1/channels/ch_1/inbound?${new URLSearchParams({ MessageSid: 'SMget1', SmsStatus: 'received', From: '+14155552671', To: '+15557122661', Body: 'via GET' })}`
  const req = request({ method: 'GET', url, headers: { 'x-twilio-signature': twilioSignature('12345', url, new URLSearchParams()) } })
  t.ok(sms.verify!(req, config, ctx))
  t.notOk(sms.verify!({ ...req, url: url.replace('via+GET', 'via+POST') }, config, ctx), 'query is signed')
  t.match(sms.parse!(req, config, ctx), [{ providerMessageId: 'SMget1', text: 'via GET', sender: { handle: '+14155552671' } }])
})

t.test('parse: MMS with media', async (t) => {
  const req = form({
    ToCountry: 'US', SmsMessageSid: 'MM5f1f7d1c3a2b4e5d6c7b8a9f0e1d2c3b', NumMedia: '2', SmsSid: 'MM5f1f7d1c3a2b4e5d6c7b8a9f0e1d2c3b',
    SmsStatus: 'received', Body: 'Photos of the leak', To: '+15557122661', NumSegments: '1', MessageSid: 'MM5f1f7d1c3a2b4e5d6c7b8a9f0e1d2c3b',
    AccountSid: accountSid, From: '+14155552671', ApiVersion: '2010-04-01',
    MediaContentType0: 'image/jpeg', MediaUrl0: `https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Messages/MM5f/Media/ME1`,
    MediaContentType1: 'image/png', MediaUrl1: `https://api.twilio.com/2010-04-01/Accounts/${accountSid}/Messages/MM5f/Media/ME2`
  })
  t.ok(sms.verify!(req, config, ctx))
  const [e] = sms.parse!(req, config, ctx)
  t.match(e, {
    type: 'message', providerMessageId: 'MM5f1f7d1c3a2b4e5d6c7b8a9f0e1d2c3b', text: 'Photos of the leak',
    attachments: [{ contentType: 'image/jpeg', url: /\/Media\/ME1$/ }, { contentType: 'image/png', url: /\/Media\/ME2$/ }]
  })
})

t.test('parse: status callbacks', async (t) => {
  const base = { SmsSid: 'SMout1', MessageSid: 'SMout1', AccountSid: accountSid, From: '+15557122661', To: '+14155552671', ApiVersion: '2010-04-01' }
  t.same(sms.parse!(form({ ...base, SmsStatus: 'delivered', MessageStatus: 'delivered' }), config, ctx), [
    { type: 'status', providerMessageId: 'SMout1', status: 'delivered', occurredAt: ctx.now() }
  ])
  t.same(sms.parse!(form({ ...base, SmsStatus: 'undelivered', MessageStatus: 'undelivered', ErrorCode: '30003', ErrorMessage: 'Unreachable destination handset' }), config, ctx), [
    { type: 'status', providerMessageId: 'SMout1', status: 'failed', occurredAt: ctx.now(), error: '30003 Unreachable destination handset' }
  ])
  for (const [twilio, ours] of [['queued', 'queued'], ['accepted', 'queued'], ['scheduled', 'queued'], ['sending', 'queued'], ['sent', 'sent'], ['read', 'read'], ['failed', 'failed'], ['canceled', 'failed']]) {
    t.match(sms.parse!(form({ ...base, MessageStatus: twilio }), config, ctx), [{ type: 'status', status: ours }], twilio)
    t.equal(sms.mapStatus!(twilio), ours)
  }
  t.same(sms.parse!(form({ ...base, MessageStatus: 'partially_delivered_new' }), config, ctx), [], 'unknown status ignored')
})

t.test('send', async (t) => {
  const server = await fakeProvider(t, { status: 201, body: { sid: 'SMsent1', status: 'queued', to: '+14155552671', from: '+15557122661' } })
  const result = await sms.send!({ to: '+14155552671', text: 'Friday 10am works' }, 'idem-123', { ...config, apiBaseUrl: server.url }, ctx)
  t.same(result, { providerMessageId: 'SMsent1', status: 'queued' })
  const [req] = server.received
  t.equal(req.url, `/2010-04-01/Accounts/${accountSid}/Messages.json`)
  t.equal(req.headers.authorization, `Basic ${Buffer.from(`${accountSid}:12345`).toString('base64')}`)
  t.equal(req.headers['i-twilio-idempotency-token'], 'idem-123')
  t.equal(req.headers['content-type'], 'application/x-www-form-urlencoded')
  t.same(Object.fromEntries(new URLSearchParams(req.body)), {
    To: '+14155552671', Body: 'Friday 10am works', From: '+15557122661', StatusCallback: 'https://crm.example.com/v1/channels/ch_1/inbound'
  })

  const svc = await fakeProvider(t, { status: 201, body: { sid: 'SMsent2', status: 'accepted' } })
  const cfg = sms.config.parse({ accountSid, authToken: '12345', messagingServiceSid: 'MG00000000000000000000000000000001', apiBaseUrl: svc.url })
  t.same(await sms.send!({ to: '+14155552671', text: 'x' }, 'k', cfg, ctx), { providerMessageId: 'SMsent2', status: 'queued' })
  t.equal(new URLSearchParams(svc.received[0].body).get('MessagingServiceSid'), 'MG00000000000000000000000000000001')
  t.notOk(new URLSearchParams(svc.received[0].body).has('From'))
})

t.test('send errors', async (t) => {
  const msg = { to: '+1', text: 'hi' }
  const invalid = await fakeProvider(t, { status: 400, body: { code: 21211, message: "The 'To' number +1 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 } })
  t.match(await sendError(sms.send!(msg, 'k', { ...config, apiBaseUrl: invalid.url }, ctx)), { retryable: false, status: 400, providerCode: '21211' })
  const limited = await fakeProvider(t, { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } })
  t.match(await sendError(sms.send!(msg, 'k', { ...config, apiBaseUrl: limited.url }, ctx)), { retryable: true, status: 429 })
  const down = await fakeProvider(t, { status: 500, body: '' })
  t.match(await sendError(sms.send!(msg, 'k', { ...config, apiBaseUrl: down.url }, ctx)), { retryable: true, status: 500 })
  const noSender = sms.config.parse({ accountSid, authToken: '12345' })
  t.match(await sendError(sms.send!(msg, 'k', noSender, ctx)), { retryable: false })
})
