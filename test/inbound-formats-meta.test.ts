import t from 'tap'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import { allContacts, createChannel, createContact, inbound, metaSignature, PUBLIC_URL, workspaces } from './support/channels/index.js'
import { matchExactly } from './support/channels/exactly.js'
import { inboundKit } from './support/channels/inbound-kit.js'
import { assertProblem } from './support/problem.js'

/**
 * Documented Meta webhook formats beyond the shared sample (Messenger webhook events reference,
 * Instagram messaging, WhatsApp Cloud API messages/statuses), POSTed to the public inbound URL
 * signed with X-Hub-Signature-256 as Meta signs them.
 */
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared)

const APP_SECRET = 'meta-app-secret-0001'
const PAGE_ID = '1067280970047460'
const PSID = '6954834441214510'
const T0 = 1717006000000

async function setup () {
  const ctx = fresh()
  /** A Meta delivery: the body as bytes and its signature. */
  const post = (channelId: string, body: unknown, secret = APP_SECRET) => {
    const payload = JSON.stringify(body)
    return inbound(ctx.rest, channelId, { payload, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(secret, payload) } })
  }
  return { ...ctx, post, ...inboundKit(ctx) }
}

const fromUser = (ts: number, item: Record<string, unknown>) => ({ sender: { id: PSID }, recipient: { id: PAGE_ID }, timestamp: ts, ...item })

t.test('Messenger: several entries and items in one POST, attachments, postbacks, quick replies; reactions not logged, an echo outbound', async (t) => {
  const { rest, post, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger' })
  const body = {
    object: 'page',
    entry: [
      {
        id: PAGE_ID,
        time: T0 + 500,
        messaging: [
          fromUser(T0 + 1, { message: { mid: 'm_text', text: 'Red, size M', quick_reply: { payload: 'SIZE_M' } } }),
          fromUser(T0 + 2, { message: { mid: 'm_image', attachments: [{ type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/photo.jpg' } }] } }),
          fromUser(T0 + 3, { message: { mid: 'm_file', text: 'the form', attachments: [{ type: 'file', payload: { url: 'https://cdn.fbsbx.com/v/form.pdf' } }] } }),
          // What the page itself sent from another app (message_echoes): our side of the exchange.
          { sender: { id: PAGE_ID }, recipient: { id: PSID }, timestamp: T0 + 4, message: { is_echo: true, app_id: 1517776481860111, mid: 'm_echo', text: 'Thanks, an agent will reply' } }
        ]
      },
      {
        id: PAGE_ID,
        time: T0 + 600,
        messaging: [
          fromUser(T0 + 5, { postback: { mid: 'm_postback', title: 'Track my order', payload: 'TRACK_ORDER' } }),
          fromUser(T0 + 6, {
            message: {
              mid: 'm_sticker',
              attachments: [
                { type: 'image', payload: { url: 'https://scontent.xx.fbcdn.net/v/sticker.png', sticker_id: 369239263222822 } },
                { type: 'sticker', payload: { url: 'https://scontent.xx.fbcdn.net/v/sticker.png', sticker_id: 369239263222822 } }
              ]
            }
          }),
          fromUser(T0 + 7, { reaction: { mid: 'm_text', action: 'react', emoji: '👍', reaction: 'like' } })
        ],
        // Another app owned the thread (handover protocol): still the customer's message.
        standby: [fromUser(T0 + 8, { message: { mid: 'm_standby', text: 'hello? anyone?' } })]
      }
    ]
  }
  const res = await post(ch.id, body)
  t.equal(res.statusCode, 200, res.body)
  t.equal((await post(ch.id, body)).statusCode, 200, 'Meta redelivers the batch')

  const all = await interactionsOf(ch.id)
  const [echo, ...echoes] = all.filter((i) => i.direction === 'outbound')
  t.same(echoes, [], 'one outbound interaction: the echo, once')
  matchExactly(t, echo, { providerMessageId: 'm_echo', kind: 'message', body: 'Thanks, an agent will reply', counterpart: PSID, status: 'sent', authorId: null })
  const list = all.filter((i) => i.direction === 'inbound')
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['m_file', 'm_image', 'm_postback', 'm_standby', 'm_sticker', 'm_text'], 'one interaction per customer message, once; no reaction')
  t.equal(list.length, 6)
  t.ok(list.every((i) => i.kind === 'message' && i.counterpart === PSID), 'all from the customer')
  t.equal(new Set(all.map((i) => i.contactId)).size, 1, 'one contact for one person, the echo\'s recipient included')
  matchExactly(t, byId.m_text, { body: 'Red, size M', occurredAt: new Date(T0 + 1).toISOString(), attachments: [] })
  matchExactly(t, byId.m_image, { body: null, attachments: [{ url: 'https://scontent.xx.fbcdn.net/v/photo.jpg', contentType: 'image/*' }] })
  matchExactly(t, byId.m_file, { body: 'the form', attachments: [{ url: 'https://cdn.fbsbx.com/v/form.pdf' }] })
  matchExactly(t, byId.m_postback, { body: 'Track my order' })
  t.equal(byId.m_sticker.attachments.length, 1, 'a sticker sent in both attachment shapes is one attachment')
  matchExactly(t, byId.m_sticker.attachments[0], { contentType: 'image/*', providerFileId: '369239263222822' })
  t.same((await identitiesOf(list[0].contactId)).map((x) => [x.kind, x.address]), [['meta:psid', PSID]])
  t.equal((await allContacts(rest)).length, 1, 'the page is not made a contact by its echo')
})

t.test('Messenger delivery (mids) and read (watermark) receipts move our sent messages', async (t) => {
  const { rest, post, interaction, interactionsOf, sendUntil } = await setup()
  let n = 0
  const graph = await fakeProvider(t, () => ({ status: 200, body: { recipient_id: PSID, message_id: `m_OUT_${++n}` } }))
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger', accessToken: 'page-token', apiBaseUrl: graph.url })
  const contact = await createContact(rest, { displayName: 'Sam' })
  await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'meta:psid', address: PSID } })
  const first = await sendUntil(contact.id, ch.id, 'Your order shipped', 'sent')
  const second = await sendUntil(contact.id, ch.id, 'Tracking: 1Z999', 'sent')
  t.same([first.providerMessageId, second.providerMessageId], ['m_OUT_1', 'm_OUT_2'])

  const delivery = { object: 'page', entry: [{ id: PAGE_ID, time: Date.now(), messaging: [fromUser(Date.now(), { delivery: { mids: ['m_OUT_1'], watermark: Date.now() } })] }] }
  t.equal((await post(ch.id, delivery)).statusCode, 200)
  t.equal((await interaction(first.id)).status, 'delivered', 'delivered by mid')
  t.equal((await interaction(second.id)).status, 'sent', 'the other message is untouched')

  const read = { object: 'page', entry: [{ id: PAGE_ID, time: Date.now(), messaging: [fromUser(Date.now(), { read: { watermark: Date.now() + 1000 } })] }] }
  t.equal((await post(ch.id, read)).statusCode, 200)
  t.equal((await interaction(first.id)).status, 'read', 'read: everything up to the watermark')
  t.equal((await interaction(second.id)).status, 'read')
  t.same(await interactionsOf(ch.id, '&direction=inbound'), [], 'receipts are not messages')
})

t.test('Instagram messaging: IGSID identity, media, echo outbound, read by mid', async (t) => {
  const { rest, post, interaction, interactionsOf, identitiesOf, sendUntil } = await setup()
  const graph = await fakeProvider(t, { status: 200, body: { recipient_id: '17841405309211844', message_id: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx' } })
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'instagram', accessToken: 'ig-token', apiBaseUrl: graph.url })
  const IGSID = '17841405309211844'
  const IG_ACCOUNT = '17841400008460056'
  const body = {
    object: 'instagram',
    entry: [{
      id: IG_ACCOUNT,
      time: T0,
      messaging: [
        { sender: { id: IGSID }, recipient: { id: IG_ACCOUNT }, timestamp: T0 + 1, message: { mid: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxIN1', text: 'Do you ship to Lisbon?' } },
        { sender: { id: IGSID }, recipient: { id: IG_ACCOUNT }, timestamp: T0 + 2, message: { mid: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxIN2', attachments: [{ type: 'video', payload: { url: 'https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1' } }] } },
        { sender: { id: IG_ACCOUNT }, recipient: { id: IGSID }, timestamp: T0 + 3, message: { mid: 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxECHO', text: 'Yes!', is_echo: true } }
      ]
    }]
  }
  t.equal((await post(ch.id, body)).statusCode, 200)
  const list = await interactionsOf(ch.id, '&direction=inbound')
  t.equal(list.length, 2, 'two messages from the customer')
  const [echo, ...more] = await interactionsOf(ch.id, '&direction=outbound')
  t.same(more, [])
  matchExactly(t, echo, { body: 'Yes!', counterpart: IGSID, contactId: list[0].contactId, status: 'sent' }, 'the echo (Instagram sends it with messages) is ours, to the customer')
  matchExactly(t, list.find((i) => i.body === 'Do you ship to Lisbon?'), { direction: 'inbound', counterpart: IGSID })
  matchExactly(t, list.find((i) => i.body === null), { attachments: [{ contentType: 'video/*', url: /asset_id=1/ }] })
  t.same((await identitiesOf(list[0].contactId)).map((x) => [x.kind, x.address]), [['meta:igsid', IGSID]])

  const reply = await sendUntil(list[0].contactId, ch.id, 'We do', 'sent')
  const read = { object: 'instagram', entry: [{ id: IG_ACCOUNT, time: Date.now(), messaging: [{ sender: { id: IGSID }, recipient: { id: IG_ACCOUNT }, timestamp: Date.now(), read: { mid: reply.providerMessageId } }] }] }
  t.equal((await post(ch.id, read)).statusCode, 200)
  t.equal((await interaction(reply.id)).status, 'read', 'Instagram read receipt names the message')

  const comments = { object: 'instagram', entry: [{ id: IG_ACCOUNT, time: T0, changes: [{ field: 'comments', value: { id: '17865799348089039', text: 'nice', from: { id: IGSID, username: 'ana' } } }] }] }
  t.equal((await post(ch.id, comments)).statusCode, 200, 'other Instagram fields are acknowledged')
  t.equal((await interactionsOf(ch.id)).length, 4, 'and log nothing (2 inbound, the echo and our reply)')
})

const waValue = (value: Record<string, unknown>) => ({
  object: 'whatsapp_business_account',
  entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' }, ...value } }] }]
})

t.test('WhatsApp Cloud API: every common message type in one POST; reactions not logged; name from contacts', async (t) => {
  const { rest, post, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'whatsapp' })
  const ts = '1717006200'
  const msg = (id: string, type: string, content: Record<string, unknown>) => ({ from: '16505551234', id: `wamid.${id}`, timestamp: ts, type, ...content })
  const body = waValue({
    contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }],
    messages: [
      msg('IMG', 'image', { image: { caption: 'the damaged box', mime_type: 'image/jpeg', sha256: 'abc', id: '1003383421387256' } }),
      msg('DOC', 'document', { document: { caption: 'invoice', filename: 'invoice-7.pdf', mime_type: 'application/pdf', sha256: 'def', id: '1003383421387257' } }),
      msg('AUD', 'audio', { audio: { mime_type: 'audio/ogg; codecs=opus', sha256: 'ghi', id: '1003383421387258', voice: true } }),
      msg('LOC', 'location', { location: { address: '1 Hacker Way, Menlo Park, CA 94025', latitude: 37.483307, longitude: -122.148981, name: 'Main office', url: 'https://example.com' } }),
      msg('BTN', 'interactive', { context: { from: '15550783881', id: 'wamid.OUR_QUESTION' }, interactive: { type: 'button_reply', button_reply: { id: 'yes-button', title: 'Yes, reschedule' } } }),
      msg('TPL', 'button', { context: { from: '15550783881', id: 'wamid.OUR_TEMPLATE' }, button: { payload: 'STOP_PROMOS', text: 'Stop promotions' } }),
      msg('REA', 'reaction', { reaction: { message_id: 'wamid.IMG', emoji: '\u{1F44D}' } })
    ]
  })
  t.equal((await post(ch.id, body)).statusCode, 200)
  t.equal((await post(ch.id, body)).statusCode, 200, 'redelivered')
  const list = await interactionsOf(ch.id)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['wamid.AUD', 'wamid.BTN', 'wamid.DOC', 'wamid.IMG', 'wamid.LOC', 'wamid.TPL'], 'six messages, once each; the reaction is not one')
  t.equal(list.length, 6)
  t.ok(list.every((i) => i.direction === 'inbound' && i.counterpart === '+16505551234' && i.occurredAt === new Date(Number(ts) * 1000).toISOString()))
  matchExactly(t, byId['wamid.IMG'], { body: 'the damaged box', attachments: [{ contentType: 'image/jpeg', providerFileId: '1003383421387256' }] })
  matchExactly(t, byId['wamid.DOC'], { body: 'invoice', attachments: [{ name: 'invoice-7.pdf', contentType: 'application/pdf', providerFileId: '1003383421387257' }] })
  matchExactly(t, byId['wamid.AUD'], { body: null, attachments: [{ contentType: 'audio/ogg; codecs=opus', providerFileId: '1003383421387258' }] })
  matchExactly(t, byId['wamid.LOC'], { body: /Main office 1 Hacker Way.*37\.483307,-122\.148981/, attachments: [] })
  matchExactly(t, byId['wamid.BTN'], { body: 'Yes, reschedule', threadId: 'wamid.OUR_QUESTION' })
  matchExactly(t, byId['wamid.TPL'], { body: 'Stop promotions', threadId: 'wamid.OUR_TEMPLATE' })
  const contact = (await rest('GET', `/v1/contacts/${list[0].contactId}`)).data
  matchExactly(t, contact, { displayName: 'Sheena Nelson', phones: ['+16505551234'] })
  t.same((await identitiesOf(contact.id)).map((x) => [x.kind, x.address]), [['phone', '+16505551234']])
})

t.test('WhatsApp statuses: sent, delivered, read and failed with errors on our messages; unknown ids change nothing', async (t) => {
  const { rest, post, interaction, interactionsOf, sendUntil } = await setup()
  let n = 0
  const graph = await fakeProvider(t, () => ({ status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '16505551234', wa_id: '16505551234' }], messages: [{ id: `wamid.OUT${++n}` }] } }))
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'whatsapp', accessToken: 'wa-token', phoneNumberId: '106540352242922', apiBaseUrl: graph.url })
  const contact = await createContact(rest, { displayName: 'Sheena', phones: ['+16505551234'] })
  const ok = await sendUntil(contact.id, ch.id, 'Your table is booked', 'sent')
  const bad = await sendUntil(contact.id, ch.id, 'Promo!', 'sent')

  const status = (id: string, s: string, extra: Record<string, unknown> = {}) => ({
    id, status: s, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: '16505551234',
    conversation: { id: 'CONVERSATION_ID', origin: { type: 'service' } }, pricing: { billable: true, pricing_model: 'PMP', category: 'service' }, ...extra
  })
  t.equal((await post(ch.id, waValue({ statuses: [status(ok.providerMessageId, 'sent'), status(ok.providerMessageId, 'delivered')] }))).statusCode, 200)
  t.equal((await interaction(ok.id)).status, 'delivered', 'two statuses in one POST')
  t.equal((await post(ch.id, waValue({ statuses: [status(ok.providerMessageId, 'read')] }))).statusCode, 200)
  t.equal((await interaction(ok.id)).status, 'read')

  const failed = status(bad.providerMessageId, 'failed', {
    errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message', error_data: { details: 'Message failed to send because more than 24 hours have passed since the customer last replied to this number.' }, href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/' }]
  })
  t.equal((await post(ch.id, waValue({ statuses: [failed, status('wamid.NOT_OURS', 'delivered')] }))).statusCode, 200)
  const f = await interaction(bad.id)
  t.equal(f.status, 'failed')
  matchExactly(t, f.statusReason, /131047/)
  matchExactly(t, f.statusReason, /more than 24 hours/)
  t.same(await interactionsOf(ch.id, '&direction=inbound'), [], 'statuses are not messages')

  assertProblem(t, await post(ch.id, waValue({ statuses: [] }), 'wrong-secret'), 401, 'inbound.unauthenticated', 'signed with another app secret')
  const truncated = '{"object":"whatsapp_business_account","entry":['
  assertProblem(t, await inbound(rest, ch.id, { payload: truncated, headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(APP_SECRET, truncated) } }), 400, 'inbound.malformed', 'signed but not JSON')
})

t.test('WhatsApp user with a username and no phone number: identified by the business-scoped user id', async (t) => {
  const { rest, post, interactionsOf, identitiesOf } = await setup()
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'whatsapp' })
  const body = waValue({
    contacts: [{ profile: { name: 'Maria Lopez', username: 'maria.lopez' }, user_id: 'US.13491208655302741918' }],
    messages: [{ from_user_id: 'US.13491208655302741918', id: 'wamid.BSUID1', timestamp: '1717006300', type: 'text', text: { body: 'hi from my username' } }]
  })
  t.equal((await post(ch.id, body)).statusCode, 200)
  const [i, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, i, { body: 'hi from my username', counterpart: 'US.13491208655302741918' })
  t.equal((await rest('GET', `/v1/contacts/${i.contactId}`)).data.displayName, 'Maria Lopez')
  t.same((await identitiesOf(i.contactId)).map((x) => [x.kind, x.address]), [['meta:bsuid', 'US.13491208655302741918']])
})

t.test('nulls where Meta documents objects are acknowledged (200), never a 500', async (t) => {
  const { rest, post, interactionsOf } = await setup()
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger' })
  const messenger = { object: 'page', entry: [{ id: PAGE_ID, time: T0, messaging: [fromUser(T0, { delivery: null }), fromUser(T0 + 1, { read: null }), fromUser(T0 + 2, { message: { mid: 'm_ok', text: 'still here' } })] }] }
  const res = await post(ch.id, messenger)
  t.equal(res.statusCode, 200, res.body)
  const wa = waValue({ statuses: [{ id: 'wamid.X', status: 'failed', timestamp: '1717006300', recipient_id: '16505551234', errors: [null] }] })
  const waRes = await post(ch.id, wa)
  t.equal(waRes.statusCode, 200, waRes.body)
  const template = { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', time: 1717006300, changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED', message_template_id: 1, message_template_name: 'order_update', message_template_language: 'en_US', reason: 'NONE' } }] }] }
  t.equal((await post(ch.id, template)).statusCode, 200, 'other WhatsApp fields are acknowledged')
  t.same((await interactionsOf(ch.id)).map((i) => i.body), ['still here'], 'the message beside the null receipts is logged, and nothing else')
})
