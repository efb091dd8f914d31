import { createHmac } from 'node:crypto'
import t from 'tap'
import { xAdapter as x } from '../../src/modules/channels/adapters/x/index.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample, sampleUrl } from './samples.js'

const consumerSecret = 'z3ZX4v7mAAUGykl3EcmkqbartmuW8VFOOzCloLx9Q45P0hLrFu'
const config = x.config.parse({ consumerSecret, accessToken: 'user-token' })
const ctx = clockAt('2024-05-29T18:00:00Z')
const sign = (body: string | Buffer): string => `sha256=${createHmac('sha256', consumerSecret).update(body).digest('base64')}`
const activity = (body: unknown): ReturnType<typeof request> => request({ body: JSON.stringify(body) })

t.test('handshake: CRC', async (t) => {
  const url = sampleUrl('x-crc-request.txt').toString()
  t.same(x.handshake!(request({ method: 'GET', url }), config, ctx), {
    status: 200,
    contentType: 'application/json',
    body: '{"response_token":"sha256=Cytd4Sq+NvEcV3MMrXxWJGJx5A+y/lXzzU2Maartkx8="}'
  })
  t.equal(x.handshake!(request({ method: 'GET' }), config, ctx), null, 'GET without crc_token')
  t.equal(x.handshake!(request({ body: sample('x-account-activity-dm.json') }), config, ctx), null, 'event POST')
})

t.test('verify', async (t) => {
  const body = sample('x-account-activity-dm.json')
  const good = request({ body, headers: { 'x-twitter-webhooks-signature': 'sha256=XagT2glVb4ORRAOab4XENaN1iU8kvXgGQ5RlhYjwLpY=' } })
  t.ok(x.verify!(good, config, ctx), 'sample vector')
  t.notOk(x.verify!({ ...good, rawBody: Buffer.from(body.toString().replace('Hello World!', 'Hello World?')) }, config, ctx), 'tampered body')
  t.notOk(x.verify!(good, { ...config, consumerSecret: 'another-secret' }, ctx), 'wrong secret')
  t.notOk(x.verify!({ ...good, headers: {} }, config, ctx), 'missing header')
  const other = '{"for_user_id":"1","tweet_create_events":[]}'
  t.ok(x.verify!(request({ body: other, headers: { 'x-twitter-webhooks-signature': sign(other) } }), config, ctx), 'any body signed with the secret')
})

t.test('parse: sample DM', async (t) => {
  t.same(x.parse!(request({ body: sample('x-account-activity-dm.json') }), config, ctx), [{
    type: 'message',
    providerMessageId: '954491830116155396',
    sender: { handle: '3001969357', name: 'Jordan Brinks' },
    recipient: '4337869213',
    text: 'Hello World!',
    attachments: [],
    sentAt: new Date(1516403560557),
    interactionKind: 'message',
    identityKind: 'x:user'
  }])
})

t.test('parse: our own DM as an echo, media DM, read receipt, mention', async (t) => {
  const me = '4337869213'
  const events = x.parse!(activity({
    for_user_id: me,
    direct_message_events: [
      { type: 'message_create', id: '1', created_timestamp: '1716999000000', message_create: { target: { recipient_id: '3001969357' }, sender_id: me, message_data: { text: 'our reply' } } },
      {
        type: 'message_create', id: '2', created_timestamp: '1716999100000',
        message_create: {
          target: { recipient_id: me }, sender_id: '3001969357',
          message_data: { text: 'see photo https://t.co/abc', attachment: { type: 'media', media: { id_str: '9001', media_url_https: 'https://pbs.twimg.com/dm_gif/9001.jpg', type: 'photo' } } }
        }
      }
    ],
    direct_message_mark_read_events: [
      { created_timestamp: '1716999200000', sender_id: '3001969357', target: { recipient_id: me }, last_read_event_id: '1' }
    ],
    users: { 3001969357: { id: '3001969357', name: 'Jordan Brinks', screen_name: 'furiouscamper' } }
  }), config, ctx)
  t.equal(events.length, 3)
  t.same(events[0], {
    type: 'echo', providerMessageId: '1', text: 'our reply', attachments: [], sentAt: new Date(1716999000000), interactionKind: 'message', identityKind: 'x:user',
    to: { handle: '3001969357', name: 'Jordan Brinks' }, from: me
  }, 'our own DM is an echo, to its recipient')
  t.match(events[1], {
    type: 'message', providerMessageId: '2', sender: { handle: '3001969357', name: 'Jordan Brinks' },
    attachments: [{ url: 'https://pbs.twimg.com/dm_gif/9001.jpg', contentType: 'image/*', providerFileId: '9001' }]
  })
  t.same(events[2], { type: 'status', providerMessageId: '1', status: 'read', occurredAt: new Date(1716999200000) })

  const [mention, ...rest] = x.parse!(activity({
    for_user_id: me,
    user_has_blocked: false,
    tweet_create_events: [
      {
        id_str: '1795000000000000001', text: '@Harris_0ff my order never arrived', timestamp_ms: '1716999300000', in_reply_to_status_id_str: null,
        user: { id_str: '3001969357', name: 'Jordan Brinks', screen_name: 'furiouscamper' },
        entities: { user_mentions: [{ id_str: me, screen_name: 'Harris_0ff' }] }
      },
      { id_str: '1795000000000000002', text: 'our own tweet', timestamp_ms: '1716999400000', user: { id_str: me }, entities: { user_mentions: [] } }
    ]
  }), config, ctx)
  t.match(mention, { interactionKind: 'mention', providerMessageId: '1795000000000000001', text: '@Harris_0ff my order never arrived', sender: { handle: '3001969357' } })
  t.same(rest, [], 'own tweet ignored')
  t.same(x.parse!(activity({ for_user_id: me, favorite_events: [{ id: 'f' }] }), config, ctx), [], 'other event kinds ignored')
})

t.test('send', async (t) => {
  const server = await fakeProvider(t, { status: 201, body: { data: { dm_conversation_id: '3001969357-4337869213', dm_event_id: '1795000000000000099' } } })
  const result = await x.send!({ to: '3001969357', text: 'Thanks, checking now' }, 'k1', { ...config, apiBaseUrl: server.url }, ctx)
  t.same(result, { providerMessageId: '1795000000000000099', status: 'sent' })
  const [req] = server.received
  t.equal(req.url, '/2/dm_conversations/with/3001969357/messages')
  t.equal(req.headers.authorization, 'Bearer user-token')
  t.same(JSON.parse(req.body), { text: 'Thanks, checking now' })
})

t.test('send errors', async (t) => {
  const msg = { to: '1', text: 'hi' }
  const reset = Math.floor(ctx.now().getTime() / 1000) + 120
  const limited = await fakeProvider(t, { status: 429, headers: { 'x-rate-limit-reset': String(reset) }, body: { title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 } })
  t.match(await sendError(x.send!(msg, 'k', { ...config, apiBaseUrl: limited.url }, ctx)), { retryable: true, status: 429, retryAfterSeconds: 120 })
  const forbidden = await fakeProvider(t, { status: 403, body: { title: 'Forbidden', detail: 'You cannot send messages to this user.', status: 403 } })
  t.match(await sendError(x.send!(msg, 'k', { ...config, apiBaseUrl: forbidden.url }, ctx)), { retryable: false, status: 403, message: /cannot send/ })
  const bad = await fakeProvider(t, { status: 400, body: { errors: [{ message: 'text is too long' }] } })
  t.match(await sendError(x.send!(msg, 'k', { ...config, apiBaseUrl: bad.url }, ctx)), { retryable: false, status: 400 })
  const down = await fakeProvider(t, { status: 503, body: '' })
  t.match(await sendError(x.send!(msg, 'k', { ...config, apiBaseUrl: down.url }, ctx)), { retryable: true, status: 503 })
})
