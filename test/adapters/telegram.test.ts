import t from 'tap'
import { telegramAdapter as tg } from '../../src/modules/channels/adapters/telegram/index.js'
import { deadUrl, fakeProvider, sendError } from './fake-server.js'
import { clockAt, request, sample } from './samples.js'

const secret = 'tg-Secret_Token-123'
const config = tg.config.parse({ botToken: '123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11', secretToken: secret })
const ctx = clockAt('2024-05-29T18:20:00Z')
const update = (body: unknown): ReturnType<typeof request> =>
  request({ headers: { 'x-telegram-bot-api-secret-token': secret }, body: JSON.stringify(body) })

t.test('config', async (t) => {
  t.equal(config.apiBaseUrl, 'https://api.telegram.org')
  t.notOk(tg.config.safeParse({ botToken: 'nope', secretToken: secret }).success, 'bot token shape checked')
  t.notOk(tg.config.safeParse({ botToken: '1:a', secretToken: 'has space' }).success, 'secret_token charset checked')
  t.notOk(tg.config.safeParse({ botToken: '1:a', secretToken: 'x', extra: 1 }).success, 'strict: unknown keys rejected')
  t.same(tg.secretFields.sort(), ['botToken', 'secretToken'])
})

t.test('verify: secret token header (Telegram signs no body)', async (t) => {
  const body = sample('telegram-update.json')
  t.ok(tg.verify!(request({ headers: { 'x-telegram-bot-api-secret-token': secret }, body }), config, ctx), 'correct token')
  t.notOk(tg.verify!(request({ headers: { 'x-telegram-bot-api-secret-token': 'tg-Secret_Token-124' }, body }), config, ctx), 'wrong token')
  t.notOk(tg.verify!(request({ headers: { 'x-telegram-bot-api-secret-token': secret.slice(0, -1) }, body }), config, ctx), 'prefix of the token')
  t.notOk(tg.verify!(request({ body }), config, ctx), 'missing header')
  t.notOk(tg.verify!(request({ method: 'GET', headers: { 'x-telegram-bot-api-secret-token': secret } }), config, ctx), 'GET')
})

t.test('parse: sample private message', async (t) => {
  const events = tg.parse!(request({ body: sample('telegram-update.json') }), config, ctx)
  t.same(events, [{
    type: 'message',
    providerMessageId: '1111111111:1365',
    threadId: undefined,
    sender: { handle: '1111111111', name: 'Maria Lopez' },
    recipient: '1111111111',
    text: 'Hola, ¿mi pedido ya salió?',
    attachments: [],
    sentAt: new Date(1717006500 * 1000),
    interactionKind: 'message',
    identityKind: 'telegram:user'
  }])
})

t.test('parse: group photo with caption replying to a message', async (t) => {
  const [e] = tg.parse!(update({
    update_id: 10,
    message: {
      message_id: 77,
      from: { id: 42, is_bot: false, first_name: 'Ana', username: 'ana' },
      chat: { id: -1001234567890, title: 'Support', type: 'supergroup' },
      date: 1717006600,
      photo: [
        { file_id: 'small', file_unique_id: 'u1', width: 90, height: 90, file_size: 1200 },
        { file_id: 'large', file_unique_id: 'u2', width: 1280, height: 1280, file_size: 98765 }
      ],
      caption: 'Here is the damaged box',
      reply_to_message: { message_id: 70, chat: { id: -1001234567890, type: 'supergroup' }, date: 1717006000, text: 'Can you send a photo?' }
    }
  }), config, ctx)
  t.equal(e.type, 'message')
  if (e.type !== 'message') return
  t.equal(e.providerMessageId, '-1001234567890:77')
  t.equal(e.threadId, '-1001234567890:70')
  t.equal(e.recipient, '-1001234567890')
  t.equal(e.text, 'Here is the damaged box')
  t.same(e.sender, { handle: '42', name: 'Ana' })
  t.same(e.attachments, [{ contentType: 'image/jpeg', size: 98765, providerFileId: 'large' }], 'largest photo size only')
})

t.test('parse: document, edited message, channel post, ignored updates', async (t) => {
  const [doc] = tg.parse!(update({ update_id: 11, message: { message_id: 5, from: { id: 9, first_name: 'Bo' }, chat: { id: 9, type: 'private' }, date: 1, document: { file_id: 'F', file_name: 'invoice.pdf', mime_type: 'application/pdf', file_size: 2048 } } }), config, ctx)
  t.match(doc, { text: undefined, attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', size: 2048, providerFileId: 'F' }] })

  const [edit] = tg.parse!(update({ update_id: 12, edited_message: { message_id: 5, from: { id: 9, first_name: 'Bo' }, chat: { id: 9, type: 'private' }, date: 1, edit_date: 1717006999, text: 'fixed typo' } }), config, ctx)
  t.same(edit, {
    type: 'edit', providerMessageId: '9:5', threadId: undefined, sender: { handle: '9', name: 'Bo' }, recipient: '9', text: 'fixed typo', attachments: [],
    sentAt: new Date(1000), editedAt: new Date(1717006999 * 1000), interactionKind: 'message', identityKind: 'telegram:user'
  }, 'an edit names the original message (chat:message_id) and carries the message as it now reads')
  const [postEdit] = tg.parse!(update({ update_id: 14, edited_channel_post: { message_id: 3, sender_chat: { id: -100555, title: 'Acme News', type: 'channel' }, chat: { id: -100555, title: 'Acme News', type: 'channel' }, date: 2, edit_date: 5, caption: 'Launch! (photo fixed)', photo: [{ file_id: 'P1', file_unique_id: 'u', width: 1, height: 1 }] } }), config, ctx)
  t.match(postEdit, { type: 'edit', providerMessageId: '-100555:3', text: 'Launch! (photo fixed)', interactionKind: 'post', editedAt: new Date(5000) }, 'a channel post\'s edit')

  const [post] = tg.parse!(update({ update_id: 13, channel_post: { message_id: 3, sender_chat: { id: -100555, title: 'Acme News', type: 'channel' }, chat: { id: -100555, title: 'Acme News', type: 'channel' }, date: 2, text: 'Launch!' } }), config, ctx)
  t.match(post, { interactionKind: 'post', identityKind: 'telegram:chat', sender: { handle: '-100555', name: 'Acme News' } })

  t.same(tg.parse!(update({ update_id: 14, callback_query: { id: 'x', from: { id: 1 } } }), config, ctx), [], 'callback_query ignored')
  t.throws(() => tg.parse!(request({ body: 'not json' }), config, ctx), { name: 'AdapterParseError' })
})

t.test('send', async (t) => {
  const server = await fakeProvider(t, { status: 200, body: { ok: true, result: { message_id: 1400, chat: { id: 1111111111 }, date: 1717006700, text: 'Yes' } } })
  const cfg = { ...config, apiBaseUrl: server.url }
  const result = await tg.send!({ to: '1111111111', text: 'Sí, salió ayer.', inReplyTo: '1111111111:1365' }, 'key-1', cfg, ctx)
  t.same(result, { providerMessageId: '1111111111:1400', status: 'sent' })
  const [req] = server.received
  t.equal(req.method, 'POST')
  t.equal(req.url, `/bot${config.botToken}/sendMessage`)
  t.same(JSON.parse(req.body), { chat_id: '1111111111', text: 'Sí, salió ayer.', reply_parameters: { message_id: 1365, allow_sending_without_reply: true } })
})

t.test('send errors', async (t) => {
  const msg = { to: '1', text: 'hi' }
  const limited = await fakeProvider(t, { status: 429, body: { ok: false, error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } } })
  const e429 = await sendError(tg.send!(msg, 'k', { ...config, apiBaseUrl: limited.url }, ctx))
  t.match(e429, { retryable: true, status: 429, retryAfterSeconds: 7, providerCode: '429' })
  t.notMatch(e429.message, config.botToken, 'the token in the URL never leaks into errors')

  const bad = await fakeProvider(t, { status: 400, body: { ok: false, error_code: 400, description: 'Bad Request: chat not found' } })
  t.match(await sendError(tg.send!(msg, 'k', { ...config, apiBaseUrl: bad.url }, ctx)), { retryable: false, status: 400, message: /chat not found/ })

  const down = await fakeProvider(t, { status: 500, body: 'oops' })
  t.match(await sendError(tg.send!(msg, 'k', { ...config, apiBaseUrl: down.url }, ctx)), { retryable: true, status: 500 })

  t.match(await sendError(tg.send!(msg, 'k', { ...config, apiBaseUrl: await deadUrl() }, ctx)), { retryable: true, status: undefined, message: /ECONNREFUSED/ }, 'connection refused')
})
