import t from 'tap'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import {
  allContacts, createChannel, inbound, PUBLIC_URL, slackSignature,
  standardWebhookSignature, workspaces, xSignature
} from './support/channels/index.js'
import { matchExactly } from './support/channels/exactly.js'
import { inboundKit } from './support/channels/inbound-kit.js'
import { assertProblem } from './support/problem.js'

/**
 * Documented formats beyond the shared samples for X (Account Activity objects), Slack (Events API
 * message subtypes), Telegram (Update object) and generic Standard Webhooks, POSTed to the public
 * inbound URL signed as each provider signs.
 */
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared)
const json = { 'content-type': 'application/json' }
const nowSeconds = () => Math.floor(Date.now() / 1000)

async function setup () {
  const ctx = fresh()
  return { ...ctx, ...inboundKit(ctx) }
}

// --- X -------------------------------------------------------------------------------------------

const X_SECRET = 'x-consumer-secret-0001'
const ME = '4337869213'
const CUSTOMER = '3001969357'

t.test('X: a DM with media, our own DM echoed in the same body, other event types, read receipts', async (t) => {
  const { rest, interactionsOf, interaction, identitiesOf, sendUntil } = await setup()
  const api = await fakeProvider(t, { status: 201, body: { data: { dm_conversation_id: `${CUSTOMER}-${ME}`, dm_event_id: '1582838213132025860' } } })
  const ch = await createChannel(rest, 'x', { consumerSecret: X_SECRET, accessToken: 'x-user-token', apiBaseUrl: api.url })
  const post = (body: unknown) => {
    const payload = JSON.stringify(body)
    return inbound(rest, ch.id, { payload, headers: { ...json, 'x-twitter-webhooks-signature': xSignature(X_SECRET, payload) } })
  }
  const user = (id: string, name: string, screen: string) => ({ id, created_timestamp: '1422556069340', name, screen_name: screen, protected: false, verified: false, followers_count: 1, friends_count: 1, statuses_count: 1 })
  const dm = {
    for_user_id: ME,
    direct_message_events: [
      {
        type: 'message_create',
        id: '954491830116155397',
        created_timestamp: '1717006100000',
        message_create: {
          target: { recipient_id: ME },
          sender_id: CUSTOMER,
          message_data: {
            text: 'Here is the receipt https://t.co/Wq1Zk3OTa5',
            entities: { hashtags: [], symbols: [], user_mentions: [], urls: [{ url: 'https://t.co/Wq1Zk3OTa5', expanded_url: 'https://x.com/messages/media/954491830116155397', display_url: 'pic.x.com/Wq1Zk3OTa5', indices: [20, 43] }] },
            attachment: {
              type: 'media',
              media: { id: 954491822545104900, id_str: '954491822545104896', media_url_https: 'https://ton.x.com/1.1/ton/data/dm/954491830116155397/954491822545104896/abc.jpg', url: 'https://t.co/Wq1Zk3OTa5', display_url: 'pic.x.com/Wq1Zk3OTa5', type: 'photo', sizes: {} }
            }
          }
        }
      },
      // Sent by the subscribed account itself (from the X app): our side of the exchange.
      { type: 'message_create', id: '954491830116155398', created_timestamp: '1717006160000', message_create: { target: { recipient_id: CUSTOMER }, sender_id: ME, message_data: { text: 'Thanks, checking', entities: {} } } }
    ],
    users: { [CUSTOMER]: user(CUSTOMER, 'Jordan Brinks', 'furiouscamper'), [ME]: user(ME, 'Acme Support', 'acmesupport') }
  }
  t.equal((await post(dm)).statusCode, 200)
  t.equal((await post({ for_user_id: ME, favorite_events: [{ id: 'a7ba59eab0bfcba386f7acedac279542', created_at: 'Mon Mar 26 16:33:26 +0000 2018', timestamp_ms: 1522082006140, favorited_status: { id_str: '1', text: 'hi', user: { id_str: CUSTOMER } }, user: { id_str: CUSTOMER } }] })).statusCode, 200, 'a like')
  t.equal((await post({ for_user_id: ME, follow_events: [{ type: 'follow', created_timestamp: '1517588749178', target: { id: ME }, source: { id: CUSTOMER } }] })).statusCode, 200, 'a follow')
  t.equal((await post({ for_user_id: ME, direct_message_indicate_typing_events: [{ created_timestamp: '1518127183443', sender_id: CUSTOMER, target: { recipient_id: ME } }] })).statusCode, 200, 'typing')

  const [ours, ...others] = await interactionsOf(ch.id, '&direction=outbound')
  t.same(others, [], 'our own DM is one outbound interaction')
  const [i, ...more] = await interactionsOf(ch.id, '&direction=inbound')
  t.same(more, [], 'one inbound interaction: likes, follows and typing are not messages')
  matchExactly(t, ours, { kind: 'message', counterpart: CUSTOMER, contactId: i.contactId, providerMessageId: '954491830116155398', body: 'Thanks, checking', status: 'sent', occurredAt: new Date(1717006160000).toISOString() })
  matchExactly(t, i, {
    direction: 'inbound', kind: 'message', counterpart: CUSTOMER, providerMessageId: '954491830116155397', occurredAt: new Date(1717006100000).toISOString(),
    body: 'Here is the receipt', attachments: [{ url: /abc\.jpg$/, contentType: 'image/*', providerFileId: '954491822545104896' }]
  })
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, 'Jordan Brinks')
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['x:user', CUSTOMER]])
  t.equal((await allContacts(rest)).length, 1, 'the subscribed account is not made a contact')

  const reply = await sendUntil(i.contactId, ch.id, 'Got it, refund on its way', 'sent')
  t.equal(reply.providerMessageId, '1582838213132025860')
  const read = { for_user_id: ME, direct_message_mark_read_events: [{ created_timestamp: String(Date.now()), sender_id: CUSTOMER, target: { recipient_id: ME }, last_read_event_id: '1582838213132025860' }] }
  t.equal((await post(read)).statusCode, 200)
  t.equal((await interaction(reply.id)).status, 'read', 'the customer read our DM')
})

t.test('X: tweets addressed to the account (mentions, replies to its tweets) are mentions; retweets and its own tweets are not', async (t) => {
  const { rest, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'x', { consumerSecret: X_SECRET })
  const author = { id: Number(CUSTOMER), id_str: CUSTOMER, name: 'Jordan Brinks', screen_name: 'furiouscamper' }
  const us = { id: Number(ME), id_str: ME, name: 'Acme Support', screen_name: 'acmesupport' }
  const tweet = (id: string, o: Record<string, unknown>) => ({
    created_at: 'Wed May 29 18:15:00 +0000 2024', id: Number(id), id_str: id, source: '<a href="https://x.com">X Web App</a>', truncated: false,
    in_reply_to_status_id: null, in_reply_to_status_id_str: null, in_reply_to_user_id: null, in_reply_to_user_id_str: null, in_reply_to_screen_name: null,
    user: author, is_quote_status: false, quote_count: 0, reply_count: 0, retweet_count: 0, favorite_count: 0, favorited: false, retweeted: false,
    filter_level: 'low', lang: 'en', timestamp_ms: '1717006500000', entities: { hashtags: [], urls: [], user_mentions: [], symbols: [] }, ...o
  })
  const long = 'x'.repeat(150)
  const body = JSON.stringify({
    for_user_id: ME,
    user_has_blocked: false,
    tweet_create_events: [
      tweet('1795000000000000011', { text: '@acmesupport my order never arrived', entities: { hashtags: [], urls: [], symbols: [], user_mentions: [{ screen_name: 'acmesupport', name: 'Acme Support', id: Number(ME), id_str: ME, indices: [0, 12] }] } }),
      // A reply to our tweet: addressed to us even when the text carries no @ (display_text_range hides it).
      tweet('1795000000000000012', { text: 'still waiting', in_reply_to_status_id_str: '1794999999999999999', in_reply_to_user_id_str: ME, in_reply_to_screen_name: 'acmesupport' }),
      tweet('1795000000000000013', { text: `@acmesupport ${long.slice(0, 100)}…`, truncated: true, extended_tweet: { full_text: `@acmesupport ${long}`, display_text_range: [0, 163], entities: { user_mentions: [{ id_str: ME }] } }, entities: { user_mentions: [{ id_str: ME, screen_name: 'acmesupport' }] } }),
      tweet('1795000000000000014', { text: 'RT @acmesupport: Big sale today', retweeted_status: tweet('1794999999999999998', { user: us, text: 'Big sale today' }), entities: { user_mentions: [{ id_str: ME, screen_name: 'acmesupport' }] } }),
      tweet('1795000000000000015', { text: 'Our own announcement', user: us })
    ]
  })
  t.equal((await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-twitter-webhooks-signature': xSignature(X_SECRET, body) } })).statusCode, 200)
  const list = await interactionsOf(ch.id)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['1795000000000000011', '1795000000000000012', '1795000000000000013'], 'no retweet, not our own tweet')
  matchExactly(t, byId['1795000000000000011'], { kind: 'mention', direction: 'inbound', counterpart: CUSTOMER, body: '@acmesupport my order never arrived', occurredAt: new Date(1717006500000).toISOString() })
  matchExactly(t, byId['1795000000000000012'], { kind: 'mention', body: 'still waiting', threadId: '1794999999999999999' })
  matchExactly(t, byId['1795000000000000013'], { body: `@acmesupport ${long}` }, 'an extended tweet is logged in full')
})

// --- Slack ---------------------------------------------------------------------------------------

const SLACK_SECRET = 'slack-signing-secret-0001'

t.test('Slack: thread replies, file shares, /me; bots, edits, deletions and joins not logged; mention + message and retries once', async (t) => {
  const { rest, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'slack', { signingSecret: SLACK_SECRET })
  const post = (event: Record<string, unknown>, extraHeaders: Record<string, string> = {}, eventId = `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`) => {
    const payload = JSON.stringify({
      token: 'XXYYZZ', team_id: 'T0001', api_app_id: 'A0001', event, type: 'event_callback', event_id: eventId, event_time: 1717006500,
      authorizations: [{ enterprise_id: null, team_id: 'T0001', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }], is_ext_shared_channel: false, event_context: '4-eyJldCI6Im1lc3NhZ2UifQ'
    })
    const ts = nowSeconds()
    return inbound(rest, ch.id, { payload, headers: { ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SLACK_SECRET, ts, payload), ...extraHeaders } })
  }
  const base = { type: 'message', channel: 'C024BE91L', channel_type: 'channel', team: 'T0001' }
  const events: Array<Record<string, unknown>> = [
    { ...base, user: 'U2147483697', text: 'Replying in the thread', ts: '1717006501.000200', thread_ts: '1717006400.000100', parent_user_id: 'U0AGENT' },
    { ...base, subtype: 'file_share', user: 'U2147483697', text: '', ts: '1717006502.000300', upload: false, files: [{ id: 'F0S43PZ9A', name: 'screenshot.png', title: 'screenshot.png', mimetype: 'image/png', filetype: 'png', size: 43518, url_private: 'https://files.slack.com/files-pri/T0001-F0S43PZ9A/screenshot.png' }] },
    { ...base, subtype: 'me_message', user: 'U2147483697', text: 'is waiting for the invoice', ts: '1717006503.000400' },
    { ...base, subtype: 'bot_message', bot_id: 'B0001', username: 'deploy-bot', text: 'Deployed', ts: '1717006504.000500' },
    { ...base, user: 'UBOT', bot_id: 'B0002', app_id: 'A0001', text: 'Our own reply', ts: '1717006505.000600' },
    { ...base, subtype: 'message_changed', hidden: true, ts: '1717006506.000700', message: { type: 'message', user: 'U2147483697', text: 'edited text', ts: '1717006501.000200', edited: { user: 'U2147483697', ts: '1717006506.000700' } }, previous_message: { type: 'message', user: 'U2147483697', text: 'Replying in the thread', ts: '1717006501.000200' } },
    { ...base, subtype: 'message_deleted', hidden: true, deleted_ts: '1717006503.000400', ts: '1717006507.000800', previous_message: { type: 'message', user: 'U2147483697', text: 'x', ts: '1717006503.000400' } },
    { ...base, subtype: 'channel_join', user: 'U0NEWBIE', text: '<@U0NEWBIE> has joined the channel', ts: '1717006508.000900' }
  ]
  for (const e of events) t.equal((await post(e)).statusCode, 200, `${String(e.subtype ?? (e.bot_id ? 'bot' : 'message'))}: acknowledged`)

  // A mention arrives twice: as app_mention and as the channel message (same channel and ts).
  const mention = { type: 'app_mention', user: 'U2147483697', text: '<@UBOT> can you help?', ts: '1717006509.001000', channel: 'C024BE91L', event_ts: '1717006509.001000' }
  t.equal((await post(mention, {}, 'EvMENTION1')).statusCode, 200)
  t.equal((await post({ ...base, user: 'U2147483697', text: '<@UBOT> can you help?', ts: '1717006509.001000' })).statusCode, 200)
  t.equal((await post(mention, { 'x-slack-retry-num': '2', 'x-slack-retry-reason': 'http_timeout' }, 'EvMENTION1')).statusCode, 200, 'Slack retries the mention')
  const rateLimited = JSON.stringify({ token: 'XXYYZZ', team_id: 'T0001', minute_rate_limited: 1518467820, api_app_id: 'A0001', type: 'app_rate_limited' })
  const ts = nowSeconds()
  t.equal((await inbound(rest, ch.id, { payload: rateLimited, headers: { ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SLACK_SECRET, ts, rateLimited) } })).statusCode, 200, 'app_rate_limited is acknowledged')

  const list = await interactionsOf(ch.id)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['C024BE91L:1717006501.000200', 'C024BE91L:1717006502.000300', 'C024BE91L:1717006503.000400', 'C024BE91L:1717006509.001000'])
  t.equal(list.length, 4, 'one interaction per thing a person said, once')
  // message_changed put its new text in the message it names.
  matchExactly(t, byId['C024BE91L:1717006501.000200'], { body: 'edited text', threadId: 'C024BE91L:1717006400.000100', counterpart: 'U2147483697', occurredAt: new Date(1717006501000).toISOString() })
  matchExactly(t, byId['C024BE91L:1717006502.000300'], { body: null, attachments: [{ name: 'screenshot.png', contentType: 'image/png', size: 43518, providerFileId: 'F0S43PZ9A', url: /screenshot\.png$/ }] })
  matchExactly(t, byId['C024BE91L:1717006503.000400'], { body: 'is waiting for the invoice' })
  matchExactly(t, byId['C024BE91L:1717006509.001000'], { body: '<@UBOT> can you help?', kind: 'mention' })
  t.same((await identitiesOf(list[0].contactId)).map((x) => [x.kind, x.address]), [['slack:user', 'U2147483697']])
  t.equal((await allContacts(rest)).length, 1, 'bots and joiners are not contacts')

  const stale = nowSeconds() - 600
  const body = JSON.stringify({ type: 'event_callback', event: { ...base, user: 'U2147483697', text: 'late', ts: '1717006510.001100' } })
  assertProblem(t, await inbound(rest, ch.id, { payload: body, headers: { ...json, 'x-slack-request-timestamp': String(stale), 'x-slack-signature': slackSignature(SLACK_SECRET, stale, body) } }), 401, 'inbound.unauthenticated', '10-minute-old request')
  const notJson = 'payload=%7B%7D'
  assertProblem(t, await inbound(rest, ch.id, { payload: notJson, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SLACK_SECRET, ts, notJson) } }), 400, 'inbound.malformed', 'signed but not an Events API body')
})

// --- Telegram ------------------------------------------------------------------------------------

t.test('Telegram: media with captions, groups, channel posts, edits, locations; service messages and non-message updates not logged', async (t) => {
  const { rest, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'telegram', { botToken: '123456:ABC-DEF', secretToken: 'tg-secret-0001' })
  let updateId = 10000
  const post = (update: Record<string, unknown>) => inbound(rest, ch.id, { payload: JSON.stringify({ update_id: ++updateId, ...update }), headers: { ...json, 'x-telegram-bot-api-secret-token': 'tg-secret-0001' } })
  const ana = { id: 111111111, is_bot: false, first_name: 'Ana', last_name: 'Silva', username: 'anasilva', language_code: 'pt-br' }
  const privateChat = { id: 111111111, first_name: 'Ana', last_name: 'Silva', username: 'anasilva', type: 'private' }
  const group = { id: -1001234567890, title: 'Acme customers', type: 'supergroup' }
  const photo = [
    { file_id: 'AgACAgQAAxkBAAIBsmall', file_unique_id: 'AQADsmall', file_size: 1234, width: 90, height: 67 },
    { file_id: 'AgACAgQAAxkBAAIBlarge', file_unique_id: 'AQADlarge', file_size: 98765, width: 1280, height: 960 }
  ]
  const updates: Array<[string, Record<string, unknown>]> = [
    ['photo with caption', { message: { message_id: 201, from: ana, chat: privateChat, date: 1717006000, photo, caption: 'the broken part' } }],
    ['document, no text', { message: { message_id: 202, from: ana, chat: privateChat, date: 1717006010, document: { file_name: 'order.pdf', mime_type: 'application/pdf', file_id: 'BQACAgQAAxkBAAIBdoc', file_unique_id: 'AgADdoc', file_size: 5555 } } }],
    ['group message', { message: { message_id: 55, from: { id: 222222222, is_bot: false, first_name: 'Bruno' }, chat: group, date: 1717006020, text: 'Is the store open on Sunday?' } }],
    ['edited message', { edited_message: { message_id: 203, from: ana, chat: privateChat, date: 1717006030, edit_date: 1717006040, text: 'Tuesday works (edited)' } }],
    ['channel post', { channel_post: { message_id: 7, sender_chat: { id: -1009876543210, title: 'Acme News', type: 'channel' }, chat: { id: -1009876543210, title: 'Acme News', type: 'channel' }, date: 1717006050, text: 'New opening hours' } }],
    ['location', { message: { message_id: 204, from: ana, chat: privateChat, date: 1717006060, location: { latitude: 38.722252, longitude: -9.139337 } } }],
    ['member joined (service message)', { message: { message_id: 56, from: { id: 333333333, is_bot: false, first_name: 'Caio' }, chat: group, date: 1717006070, new_chat_members: [{ id: 333333333, is_bot: false, first_name: 'Caio' }], new_chat_member: { id: 333333333, is_bot: false, first_name: 'Caio' }, new_chat_participant: { id: 333333333, is_bot: false, first_name: 'Caio' } } }],
    ['pinned (service message)', { message: { message_id: 57, from: ana, chat: group, date: 1717006080, pinned_message: { message_id: 55, date: 1717006020, chat: group, text: 'Is the store open on Sunday?' } } }],
    ['callback_query', { callback_query: { id: '4382bfdwdsb323b2d9', from: ana, message: { message_id: 300, from: { id: 123456, is_bot: true, first_name: 'AcmeBot' }, chat: privateChat, date: 1717006000, text: 'Pick a day' }, chat_instance: '-1234', data: 'day:tue' } }],
    ['my_chat_member', { my_chat_member: { chat: group, from: ana, date: 1717006090, old_chat_member: { user: { id: 123456, is_bot: true, first_name: 'AcmeBot' }, status: 'left' }, new_chat_member: { user: { id: 123456, is_bot: true, first_name: 'AcmeBot' }, status: 'member' } } }]
  ]
  for (const [label, update] of updates) t.equal((await post(update)).statusCode, 200, `${label}: acknowledged`)
  t.equal((await post(updates[0][1])).statusCode, 200, 'a redelivered update')

  const list = await interactionsOf(ch.id)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['-1001234567890:55', '-1009876543210:7', '111111111:201', '111111111:202', '111111111:203', '111111111:204'])
  t.equal(list.length, 6, 'service messages, button taps and membership updates log nothing; the redelivery nothing more')
  matchExactly(t, byId['111111111:201'], { direction: 'inbound', kind: 'message', body: 'the broken part', counterpart: '111111111', occurredAt: new Date(1717006000000).toISOString(), attachments: [{ contentType: 'image/jpeg', size: 98765, providerFileId: 'AgACAgQAAxkBAAIBlarge' }] })
  matchExactly(t, byId['111111111:202'], { body: null, attachments: [{ name: 'order.pdf', contentType: 'application/pdf', size: 5555 }] })
  matchExactly(t, byId['-1001234567890:55'], { body: 'Is the store open on Sunday?', counterpart: '222222222' })
  // The edit of a message this channel never saw is logged as that message, with its new text.
  matchExactly(t, byId['111111111:203'], { body: 'Tuesday works (edited)', occurredAt: new Date(1717006030000).toISOString() })
  matchExactly(t, byId['-1009876543210:7'], { kind: 'post', body: 'New opening hours', counterpart: '-1009876543210' })
  matchExactly(t, byId['111111111:204'], { body: '38.722252,-9.139337' })

  const anaContact = byId['111111111:201'].contactId
  t.equal((await rest('GET', `/v1/contacts/${anaContact}`)).data.displayName, 'Ana Silva')
  t.same((await identitiesOf(anaContact)).map((x) => [x.kind, x.address]), [['telegram:user', '111111111']])
  t.same((await identitiesOf(byId['-1009876543210:7'].contactId)).map((x) => [x.kind, x.address]), [['telegram:chat', '-1009876543210']], 'a channel is a chat identity')
  t.equal((await allContacts(rest)).length, 3, 'Ana, Bruno and the channel; not Caio, who only joined')
})

t.test('nulls where X and Telegram document objects are acknowledged (200), never a 500', async (t) => {
  const { rest, interactionsOf } = await setup()
  const x = await createChannel(rest, 'x', { consumerSecret: X_SECRET })
  const dm = JSON.stringify({
    for_user_id: ME,
    direct_message_events: [{ type: 'message_create', id: '954491830116155399', created_timestamp: '1717006100000', message_create: { target: { recipient_id: ME }, sender_id: CUSTOMER, message_data: { text: 'no media after all', attachment: { type: 'media', media: null } } } }]
  })
  const xRes = await inbound(rest, x.id, { payload: dm, headers: { ...json, 'x-twitter-webhooks-signature': xSignature(X_SECRET, dm) } })
  t.equal(xRes.statusCode, 200, xRes.body)
  matchExactly(t, await interactionsOf(x.id), [{ body: 'no media after all', attachments: [] }])

  const tg = await createChannel(rest, 'telegram', { botToken: '123456:ABC-DEF', secretToken: 'tg-secret-0002' })
  const update = JSON.stringify({ update_id: 1, message: { message_id: 9, from: null, chat: { id: 444, type: 'private' }, date: 1717006000, photo: [null], document: null, text: 'odd but fine' } })
  const tgRes = await inbound(rest, tg.id, { payload: update, headers: { ...json, 'x-telegram-bot-api-secret-token': 'tg-secret-0002' } })
  t.equal(tgRes.statusCode, 200, tgRes.body)
  matchExactly(t, await interactionsOf(tg.id), [{ body: 'odd but fine', attachments: [], counterpart: '444' }])
})

// --- generic Standard Webhooks -------------------------------------------------------------------

t.test('Standard Webhooks: rotated secrets (several v1 signatures), the timestamp window, status events', async (t) => {
  const { rest, interactionsOf, interaction, sendUntil } = await setup()
  const secret = 'whsec_' + Buffer.alloc(32, 9).toString('base64')
  const oldSecret = 'whsec_' + Buffer.alloc(32, 3).toString('base64')
  const partner = await fakeProvider(t, { status: 204 })
  const ch = await createChannel(rest, 'webhook', { secret, url: partner.url })
  const signed = (body: string, o: { id?: string, ts?: number, signature?: string } = {}) => {
    const id = o.id ?? `msg_${Math.random().toString(36).slice(2)}`
    const ts = o.ts ?? nowSeconds()
    return { payload: body, headers: { ...json, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': o.signature ?? standardWebhookSignature(secret, id, ts, body) } }
  }
  const received = (id: string, text: string) => JSON.stringify({ type: 'message.received', timestamp: new Date().toISOString(), data: { id, from: 'cust-9', fromName: 'Cus Tomer', identityKind: 'shop:customer', text } })

  // During a rotation the sender signs with both secrets; the entry we can check may come second.
  const body = received('ext-1', 'signed twice')
  const id = 'msg_rotation'
  const ts = nowSeconds()
  const both = `${standardWebhookSignature(oldSecret, id, ts, body)} ${standardWebhookSignature(secret, id, ts, body)} v1a,bm90LWFuLWVkMjU1MTktc2lnbmF0dXJl`
  t.equal((await inbound(rest, ch.id, signed(body, { id, ts, signature: both }))).statusCode, 200, 'one valid v1 among several')
  assertProblem(t, await inbound(rest, ch.id, signed(body, { id, ts, signature: standardWebhookSignature(oldSecret, id, ts, body) })), 401, 'inbound.unauthenticated', 'only the retired secret')
  assertProblem(t, await inbound(rest, ch.id, signed(body, { id, ts, signature: standardWebhookSignature(secret, id, ts, body).replace('v1,', 'v2,') })), 401, 'inbound.unauthenticated', 'an unknown version prefix')

  t.equal((await inbound(rest, ch.id, signed(received('ext-2', 'four minutes late'), { ts: nowSeconds() - 240 }))).statusCode, 200, 'inside the 5-minute tolerance')
  assertProblem(t, await inbound(rest, ch.id, signed(received('ext-3', 'too late'), { ts: nowSeconds() - 360 })), 401, 'inbound.unauthenticated', 'six minutes old')
  assertProblem(t, await inbound(rest, ch.id, signed(received('ext-4', 'from the future'), { ts: nowSeconds() + 360 })), 401, 'inbound.unauthenticated', 'six minutes ahead')
  t.equal((await inbound(rest, ch.id, signed(body, { ts: nowSeconds() - 10 }))).statusCode, 200, 'the sender retries ext-1 with a new webhook-id')

  const list = await interactionsOf(ch.id)
  t.same(list.map((i) => [i.providerMessageId, i.body]).sort(), [['ext-1', 'signed twice'], ['ext-2', 'four minutes late']], 'each message once')

  // Our outbound message (to the partner's own handle kind, so addressed explicitly), then the partner reports it read.
  const ours = await sendUntil(list[0].contactId, ch.id, 'Thanks!', 'delivered', { to: 'cust-9' })
  const status = JSON.stringify({ type: 'message.status', timestamp: new Date().toISOString(), data: { id: ours.providerMessageId, status: 'read' } })
  t.equal((await inbound(rest, ch.id, signed(status))).statusCode, 200)
  t.equal((await interaction(ours.id)).status, 'read')
  t.equal((await inbound(rest, ch.id, signed(JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: {} })))).statusCode, 200, 'other event types are acknowledged')
  t.equal((await interactionsOf(ch.id, '&direction=inbound')).length, 2, 'and log nothing')
})
