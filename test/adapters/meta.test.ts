import { createHmac } from 'node:crypto'
import t from 'tap'
import { metaAdapter as meta } from '../../src/modules/channels/adapters/meta/index.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample, sampleUrl } from './samples.js'

const appSecret = 'test-app-secret-0123456789abcdef'
const config = meta.config.parse({ appSecret, verifyToken: 'my-verify-token', platform: 'messenger', accessToken: 'page-token' })
const ctx = clockAt('2024-05-29T18:30:00Z')
const signed = (body: unknown): ReturnType<typeof request> => {
  const raw = JSON.stringify(body)
  return request({ body: raw, headers: { 'x-hub-signature-256': `sha256=${createHmac('sha256', appSecret).update(raw).digest('hex')}` } })
}

t.test('config', async (t) => {
  t.equal(config.apiVersion, 'v21.0')
  t.equal(config.apiBaseUrl, 'https://graph.facebook.com')
  const wa = meta.config.safeParse({ appSecret, verifyToken: 'v', platform: 'whatsapp', accessToken: 't' })
  t.notOk(wa.success, 'WhatsApp sending needs phoneNumberId')
  t.match(wa.error?.issues, [{ path: ['phoneNumberId'] }])
})

t.test('handshake', async (t) => {
  const url = sampleUrl('meta-verify-request.txt').toString()
  t.same(meta.handshake!(request({ method: 'GET', url }), config, ctx), { status: 200, contentType: 'text/plain', body: '1158201444' })
  t.match(meta.handshake!(request({ method: 'GET', url }), { ...config, verifyToken: 'other' }, ctx), { status: 403 }, 'token mismatch')
  const wrongMode = url.replace('hub.mode=subscribe', 'hub.mode=unsubscribe')
  t.match(meta.handshake!(request({ method: 'GET', url: wrongMode }), config, ctx), { status: 403 })
  t.equal(meta.handshake!(request({ method: 'GET' }), config, ctx), null, 'plain GET is not a handshake')
  t.equal(meta.handshake!(request({ body: sample('meta-messenger.json') }), config, ctx), null, 'POST is not a handshake')
})

t.test('verify', async (t) => {
  const body = sample('meta-messenger.json')
  const good = request({ body, headers: { 'x-hub-signature-256': 'sha256=d5d166951f64f34fde3c1c4c1366b01c980506a31241a9af024bb633c815ff30' } })
  t.ok(meta.verify!(good, config, ctx), 'sample vector')
  t.notOk(meta.verify!({ ...good, rawBody: Buffer.from(body.toString().replace('#1042', '#1043')) }, config, ctx), 'tampered body')
  // Re-serializing the parsed JSON changes the bytes (\u00fc escapes), so it must not verify either.
  t.notOk(meta.verify!({ ...good, rawBody: Buffer.from(JSON.stringify(JSON.parse(body.toString()))) }, config, ctx), 're-serialized body')
  t.notOk(meta.verify!(good, { ...config, appSecret: 'wrong' }, ctx), 'wrong secret')
  t.notOk(meta.verify!({ ...good, headers: {} }, config, ctx), 'missing header')
})

t.test('parse: sample Messenger message', async (t) => {
  t.same(meta.parse!(request({ body: sample('meta-messenger.json') }), config, ctx), [{
    type: 'message',
    providerMessageId: 'm_Hl8v5pcNxQ-2sJ7ifLs_9Ue1V8QHfQ4mDuN1uT-0q1kz0DjDR2rGBbFpr2Wgc5iw3E0vEJqvxRs3ZAr5sHAVvg',
    threadId: undefined,
    sender: { handle: '6954834441214510' },
    recipient: '107526371946230',
    text: 'Hi, is my order #1042 shipped yet? Grüße',
    attachments: [],
    sentAt: new Date(1717006134455),
    interactionKind: 'message',
    identityKind: 'meta:psid'
  }])
})

t.test('parse: Messenger attachments, echo, delivery and read', async (t) => {
  const sender = { id: '6954834441214510' }
  const recipient = { id: '107526371946230' }
  const events = meta.parse!(signed({
    object: 'page',
    entry: [{
      id: '107526371946230',
      time: 1717006200000,
      messaging: [
        { sender, recipient, timestamp: 1717006200000, message: { mid: 'm_img', attachments: [{ type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/photo.jpg' } }], reply_to: { mid: 'm_prev' } } },
        { sender: recipient, recipient: sender, timestamp: 1717006201000, message: { mid: 'm_echo', is_echo: true, app_id: 1, text: 'our reply' } },
        { sender, recipient, timestamp: 1717006202000, delivery: { mids: ['m_out_1', 'm_out_2'], watermark: 1717006201500 } },
        { sender, recipient, timestamp: 1717006203000, read: { watermark: 1717006202500 } },
        { sender, recipient, timestamp: 1717006204000, postback: { mid: 'm_pb', title: 'Track my order', payload: 'TRACK' } },
        // developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-edits
        { sender, recipient, timestamp: 1717006205000, message_edit: { mid: 'm_img', text: 'the photo, fixed', num_edit: 1 } }
      ]
    }]
  }), config, ctx)
  t.match(events[0], { type: 'message', providerMessageId: 'm_img', threadId: 'm_prev', attachments: [{ url: 'https://scontent.xx.fbcdn.net/v/photo.jpg', contentType: 'image/*' }] })
  const [echo] = events.splice(1, 1)
  t.same(echo, {
    type: 'echo', providerMessageId: 'm_echo', threadId: undefined, to: { handle: '6954834441214510' }, from: '107526371946230', text: 'our reply', attachments: [],
    sentAt: new Date(1717006201000), interactionKind: 'message', identityKind: 'meta:psid'
  }, 'an echo: what the page sent, to the person (its recipient)')
  t.same(events.slice(1, 3), [
    { type: 'status', providerMessageId: 'm_out_1', status: 'delivered', occurredAt: new Date(1717006202000) },
    { type: 'status', providerMessageId: 'm_out_2', status: 'delivered', occurredAt: new Date(1717006202000) }
  ], 'delivery with mids')
  t.same(events[3], {
    type: 'status', providerMessageId: '', status: 'read', occurredAt: new Date(1717006203000),
    watermark: { recipient: '6954834441214510', before: new Date(1717006202500) }
  }, 'Messenger read is a watermark')
  t.match(events[4], { type: 'message', providerMessageId: 'm_pb', text: 'Track my order' })
  t.same(events[5], {
    type: 'edit', providerMessageId: 'm_img', sender: { handle: '6954834441214510' }, recipient: '107526371946230', text: 'the photo, fixed', attachments: [],
    sentAt: new Date(1717006205000), editedAt: new Date(1717006205000), interactionKind: 'message', identityKind: 'meta:psid'
  }, 'message_edit names the edited mid')
  t.equal(events.length, 6)
})

t.test('parse: Instagram', async (t) => {
  const events = meta.parse!(signed({
    object: 'instagram',
    entry: [{
      id: '17841400000000000',
      time: 1717006300000,
      messaging: [
        { sender: { id: '5566778899' }, recipient: { id: '17841400000000000' }, timestamp: 1717006300000, message: { mid: 'aWdfZAG1', text: 'Do you ship to Canada?' } },
        { sender: { id: '5566778899' }, recipient: { id: '17841400000000000' }, timestamp: 1717006301000, read: { mid: 'aWdfOUT1' } }
      ]
    }]
  }), config, ctx)
  t.match(events, [
    { type: 'message', providerMessageId: 'aWdfZAG1', identityKind: 'meta:igsid', sender: { handle: '5566778899' }, text: 'Do you ship to Canada?' },
    { type: 'status', providerMessageId: 'aWdfOUT1', status: 'read' }
  ])
})

t.test('parse: WhatsApp messages and statuses', async (t) => {
  const events = meta.parse!(signed({
    object: 'whatsapp_business_account',
    entry: [{
      id: '102290129340398',
      changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
          contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
          messages: [
            { from: '16505551234', id: 'wamid.TEXT1', timestamp: '1717006400', type: 'text', text: { body: 'Is the store open today?' }, context: { from: '15550783881', id: 'wamid.OURS1' } },
            { from: '16505551234', id: 'wamid.IMG1', timestamp: '1717006410', type: 'image', image: { caption: 'this one', mime_type: 'image/jpeg', sha256: 'abc', id: '1003383421387256' } },
            { from: '16505551234', id: 'wamid.REACT', timestamp: '1717006420', type: 'reaction', reaction: { message_id: 'wamid.OURS1', emoji: '👍' } },
            // developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/edit
            { from: '16505551234', id: 'wamid.EDIT1', timestamp: '1717006425', type: 'edit', edit: { original_message_id: 'wamid.IMG1', message: { context: { id: 'wamid.OURS1' }, type: 'image', image: { caption: 'this one, not that one', mime_type: 'image/jpeg', sha256: 'abc', id: '1003383421387256' } } } }
          ]
        }
      }, {
        field: 'messages',
        value: {
          messaging_product: 'whatsapp',
          metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
          statuses: [
            { id: 'wamid.OURS1', status: 'delivered', timestamp: '1717006430', recipient_id: '16505551234' },
            { id: 'wamid.OURS2', status: 'failed', timestamp: '1717006440', recipient_id: '16505551234', errors: [{ code: 131026, title: 'Message undeliverable', error_data: { details: 'Receiver is incapable of receiving this message' } }] }
          ]
        }
      }]
    }]
  }), config, ctx)
  t.same(events[0], {
    type: 'message',
    providerMessageId: 'wamid.TEXT1',
    threadId: 'wamid.OURS1',
    sender: { handle: '+16505551234', name: 'Sheena Nelson' },
    recipient: '+15550783881',
    text: 'Is the store open today?',
    attachments: [],
    sentAt: new Date(1717006400 * 1000),
    interactionKind: 'message',
    identityKind: 'phone'
  })
  t.match(events[1], { providerMessageId: 'wamid.IMG1', text: 'this one', attachments: [{ contentType: 'image/jpeg', providerFileId: '1003383421387256' }] })
  t.same(events[2], {
    type: 'edit', providerMessageId: 'wamid.IMG1', threadId: 'wamid.OURS1', sender: { handle: '+16505551234', name: 'Sheena Nelson' }, recipient: '+15550783881',
    text: 'this one, not that one', attachments: [{ name: undefined, contentType: 'image/jpeg', providerFileId: '1003383421387256' }],
    sentAt: new Date(1717006425 * 1000), editedAt: new Date(1717006425 * 1000), interactionKind: 'message', identityKind: 'phone'
  }, 'an edit names original_message_id and carries the message as it now reads')
  t.same(events.slice(3), [
    { type: 'status', providerMessageId: 'wamid.OURS1', status: 'delivered', occurredAt: new Date(1717006430 * 1000) },
    { type: 'status', providerMessageId: 'wamid.OURS2', status: 'failed', occurredAt: new Date(1717006440 * 1000), error: '131026 Message undeliverable Receiver is incapable of receiving this message' }
  ], 'reaction skipped; statuses mapped')
  t.same(meta.parse!(signed({ object: 'user', entry: [] }), config, ctx), [], 'other objects ignored')
})

t.test('send: WhatsApp', async (t) => {
  const server = await fakeProvider(t, { status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '16505551234', wa_id: '16505551234' }], messages: [{ id: 'wamid.SENT1' }] } })
  const cfg = meta.config.parse({ appSecret, verifyToken: 'v', platform: 'whatsapp', accessToken: 'wa-token', phoneNumberId: '106540352242922', apiBaseUrl: server.url })
  const result = await meta.send!({ to: '+16505551234', text: 'Yes, 9 to 5', inReplyTo: 'wamid.TEXT1' }, 'k1', cfg, ctx)
  t.same(result, { providerMessageId: 'wamid.SENT1', status: 'queued' })
  const [req] = server.received
  t.equal(req.url, '/v21.0/106540352242922/messages')
  t.equal(req.headers.authorization, 'Bearer wa-token')
  t.same(JSON.parse(req.body), {
    messaging_product: 'whatsapp', recipient_type: 'individual', to: '16505551234', type: 'text',
    text: { body: 'Yes, 9 to 5', preview_url: false }, context: { message_id: 'wamid.TEXT1' }
  })
})

t.test('send: Messenger', async (t) => {
  const server = await fakeProvider(t, { status: 200, body: { recipient_id: '6954834441214510', message_id: 'm_SENT' } })
  const result = await meta.send!({ to: '6954834441214510', text: 'It shipped today' }, 'k1', { ...config, apiBaseUrl: server.url }, ctx)
  t.same(result, { providerMessageId: 'm_SENT', status: 'sent' })
  t.equal(server.received[0].url, '/v21.0/me/messages')
  t.same(JSON.parse(server.received[0].body), { recipient: { id: '6954834441214510' }, messaging_type: 'RESPONSE', message: { text: 'It shipped today' } })
})

t.test('send errors', async (t) => {
  const msg = { to: '1', text: 'hi' }
  const invalid = await fakeProvider(t, { status: 400, body: { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, fbtrace_id: 'x' } } })
  t.match(await sendError(meta.send!(msg, 'k', { ...config, apiBaseUrl: invalid.url }, ctx)), { retryable: false, status: 400, providerCode: '100' })
  const throttled = await fakeProvider(t, { status: 400, body: { error: { message: '(#4) Application request limit reached', code: 4, is_transient: true } } })
  t.match(await sendError(meta.send!(msg, 'k', { ...config, apiBaseUrl: throttled.url }, ctx)), { retryable: true, status: 400, providerCode: '4' })
  const limited = await fakeProvider(t, { status: 429, body: {} })
  t.match(await sendError(meta.send!(msg, 'k', { ...config, apiBaseUrl: limited.url }, ctx)), { retryable: true, status: 429 })
  const down = await fakeProvider(t, { status: 500, body: { error: { message: 'An unknown error occurred', code: 1 } } })
  t.match(await sendError(meta.send!(msg, 'k', { ...config, apiBaseUrl: down.url }, ctx)), { retryable: true, status: 500 })
})
