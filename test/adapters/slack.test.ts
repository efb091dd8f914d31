import { createHmac } from 'node:crypto'
import t from 'tap'
import { slackAdapter as slack } from '../../src/modules/channels/adapters/slack/index.js'
import { fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample } from './samples.js'

const signingSecret = '8f742231b10e8888abcd99yyyzzz85a5'
const config = slack.config.parse({ signingSecret, botToken: 'xoxb-test-token' })
const at = clockAt(1717006500)

function signed (body: Buffer | string, ts: number, secret = signingSecret): ReturnType<typeof request> {
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body.toString()}`).digest('hex')}`
  return request({ headers: { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': sig, 'content-type': 'application/json' }, body })
}

function eventCallback (event: Record<string, unknown>): ReturnType<typeof request> {
  return signed(JSON.stringify({ token: 'x', team_id: 'T061EG9R6', type: 'event_callback', event_id: 'Ev1', event_time: 1717006500, event }), 1717006500)
}

t.test('verify: Slack documented vector and sample vectors', async (t) => {
  const doc = request({
    body: sample('slack-signature-vector-body.txt'),
    headers: { 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' }
  })
  t.ok(slack.verify!(doc, config, clockAt(1531420618 + 60)), 'docs example')
  const cb = request({
    body: sample('slack-event-callback.json'),
    headers: { 'x-slack-request-timestamp': '1717006500', 'x-slack-signature': 'v0=1b73ed75fdfbaf90f4d1a563ab1991112c24d8ccb631d4bc8e173d66ed0c78b5' }
  })
  t.ok(slack.verify!(cb, config, at), 'event_callback sample')
  t.notOk(slack.verify!({ ...cb, rawBody: Buffer.from(cb.rawBody.toString().replace('prospect', 'prosper')) }, config, at), 'tampered body')
  t.notOk(slack.verify!(cb, { ...config, signingSecret: 'other-secret' }, at), 'wrong secret')
  t.notOk(slack.verify!(cb, config, clockAt(1717006500 + 301)), 'stale: more than 5 minutes old')
  t.notOk(slack.verify!(cb, config, clockAt(1717006500 - 301)), 'from the future: more than 5 minutes ahead')
  t.ok(slack.verify!(cb, config, clockAt(1717006500 + 299)), 'inside the window')
  t.notOk(slack.verify!({ ...cb, headers: { ...cb.headers, 'x-slack-request-timestamp': '1717006501' } }, config, at), 'timestamp is signed')
  t.notOk(slack.verify!({ ...cb, headers: { 'x-slack-request-timestamp': '1717006500' } }, config, at), 'no signature')
  t.ok(slack.verify!({ ...cb, headers: { ...cb.headers, 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } }, config, at), 'retries verify normally')
})

t.test('handshake: url_verification only when signed', async (t) => {
  const body = sample('slack-url-verification.json')
  const headers = { 'x-slack-request-timestamp': '1717006500', 'x-slack-signature': 'v0=935a20a1ea4222a950383001359b111d6fd69f654579bdd23ecca0cb37ed378e' }
  t.same(slack.handshake!(request({ body, headers }), config, at), {
    status: 200, contentType: 'text/plain', body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'
  })
  t.equal(slack.handshake!(request({ body, headers: { ...headers, 'x-slack-signature': 'v0=00' } }), config, at), null, 'bad signature: left to verify, which rejects')
  t.equal(slack.handshake!(request({ body, headers }), config, clockAt(1717006500 + 3600)), null, 'stale handshake not answered')
  t.equal(slack.handshake!(request({ body: sample('slack-event-callback.json'), headers }), config, at), null, 'not a handshake')
})

t.test('parse: sample channel message', async (t) => {
  t.same(slack.parse!(request({ body: sample('slack-event-callback.json') }), config, at), [{
    type: 'message',
    providerMessageId: 'C024BE91L:1355517523.000005',
    threadId: undefined,
    sender: { handle: 'U2147483697' },
    recipient: 'C024BE91L',
    text: 'Live long and prospect.',
    attachments: [],
    sentAt: new Date(1355517523000), // sub-millisecond part of ts dropped
    interactionKind: 'message',
    identityKind: 'slack:user'
  }])
})

t.test('parse: thread reply, file share, mention, skipped events', async (t) => {
  const [reply] = slack.parse!(eventCallback({
    type: 'message', channel: 'C1', user: 'U1', text: 'replying in thread', ts: '1717006400.000200', thread_ts: '1717006300.000100', parent_user_id: 'U2', channel_type: 'channel'
  }), config, at)
  t.match(reply, { providerMessageId: 'C1:1717006400.000200', threadId: 'C1:1717006300.000100', text: 'replying in thread' })

  const [file] = slack.parse!(eventCallback({
    type: 'message', subtype: 'file_share', channel: 'D1', user: 'U1', text: 'screenshot', ts: '1.2', channel_type: 'im',
    files: [{ id: 'F1', name: 'shot.png', mimetype: 'image/png', size: 5000, url_private: 'https://files.slack.com/files-pri/T1-F1/shot.png' }]
  }), config, at)
  t.same(file.type === 'message' && file.attachments, [{ name: 'shot.png', contentType: 'image/png', url: 'https://files.slack.com/files-pri/T1-F1/shot.png', size: 5000, providerFileId: 'F1' }])

  const [mention] = slack.parse!(eventCallback({ type: 'app_mention', channel: 'C1', user: 'U3', text: '<@U0JGHL2QV> help', ts: '1717006450.000300' }), config, at)
  t.match(mention, { interactionKind: 'mention', providerMessageId: 'C1:1717006450.000300' })

  t.same(slack.parse!(eventCallback({ type: 'message', channel: 'C1', bot_id: 'B1', text: 'our own post', ts: '2.0' }), config, at), [], 'bot message')
  // docs.slack.dev/reference/events/message/message_changed: `message` is the message as it now reads.
  t.same(slack.parse!(eventCallback({
    type: 'message', subtype: 'message_changed', hidden: true, channel: 'C1', ts: '1717006460.000400', event_ts: '1717006460.000400', channel_type: 'channel',
    message: { type: 'message', user: 'U3', text: 'Hello, world!', ts: '1717006450.000300', thread_ts: '1717006300.000100', edited: { user: 'U3', ts: '1717006455.000000' } },
    previous_message: { type: 'message', user: 'U3', text: 'Helo, world', ts: '1717006450.000300' }
  }), config, at), [{
    type: 'edit', providerMessageId: 'C1:1717006450.000300', threadId: 'C1:1717006300.000100', sender: { handle: 'U3' }, recipient: 'C1', text: 'Hello, world!',
    attachments: [], sentAt: new Date(1717006450000), interactionKind: 'message', identityKind: 'slack:user', editedAt: new Date(1717006455000)
  }], 'an edit names the original ts; edited.ts is its time')
  t.match(slack.parse!(eventCallback({ type: 'message', subtype: 'message_changed', channel: 'C1', ts: '1717006470.000500', message: { type: 'message', user: 'U3', text: 'unfurled', ts: '1717006450.000300' } }), config, at),
    [{ type: 'edit', editedAt: new Date(1717006470000) }], 'a change without `edited` (an unfurl) is timed by the event')
  t.same(slack.parse!(eventCallback({ type: 'message', subtype: 'message_changed', channel: 'C1', ts: '3.0', message: { text: 'x', ts: '2.0' } }), config, at), [], 'a change of a message without a user')
  t.same(slack.parse!(eventCallback({ type: 'message', subtype: 'message_changed', channel: 'C1', ts: '3.0', message: { bot_id: 'B1', user: 'UBOT', text: 'x', ts: '2.0' } }), config, at), [], 'a bot\'s edit')
  t.same(slack.parse!(eventCallback({ type: 'message', subtype: 'message_changed', channel: 'C1', ts: '3.0', message: { subtype: 'tombstone', user: 'USLACKBOT', text: 'This message was deleted.', ts: '2.0' } }), config, at), [], 'a thread parent deleted')
  t.same(slack.parse!(eventCallback({ type: 'reaction_added', user: 'U1', reaction: 'thumbsup' }), config, at), [], 'other event type')
})

t.test('send', async (t) => {
  const server = await fakeProvider(t, { status: 200, body: { ok: true, channel: 'C1', ts: '1717006500.000400', message: { text: 'ok' } } })
  const result = await slack.send!({ to: 'C1', text: 'On it', threadId: 'C1:1717006300.000100' }, 'k1', { ...config, apiBaseUrl: server.url }, at)
  t.same(result, { providerMessageId: 'C1:1717006500.000400', status: 'sent' })
  const [req] = server.received
  t.equal(req.url, '/chat.postMessage')
  t.equal(req.headers.authorization, 'Bearer xoxb-test-token')
  t.same(JSON.parse(req.body), { channel: 'C1', text: 'On it', thread_ts: '1717006300.000100' })
})

t.test('send errors', async (t) => {
  const msg = { to: 'C1', text: 'hi' }
  const notFound = await fakeProvider(t, { status: 200, body: { ok: false, error: 'channel_not_found' } })
  t.match(await sendError(slack.send!(msg, 'k', { ...config, apiBaseUrl: notFound.url }, at)), { retryable: false, providerCode: 'channel_not_found' })
  const limited = await fakeProvider(t, { status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } })
  t.match(await sendError(slack.send!(msg, 'k', { ...config, apiBaseUrl: limited.url }, at)), { retryable: true, status: 429, retryAfterSeconds: 30 })
  const down = await fakeProvider(t, { status: 500, body: 'upstream' })
  t.match(await sendError(slack.send!(msg, 'k', { ...config, apiBaseUrl: down.url }, at)), { retryable: true, status: 500 })
  const bad = await fakeProvider(t, { status: 400, body: { ok: false, error: 'invalid_arguments' } })
  t.match(await sendError(slack.send!(msg, 'k', { ...config, apiBaseUrl: bad.url }, at)), { retryable: false, status: 400 })
  t.match(await sendError(slack.send!(msg, 'k', { signingSecret, apiBaseUrl: bad.url }, at)), { retryable: false, message: /botToken/ })
})
