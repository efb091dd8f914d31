import t from 'tap'
import { build } from './helper.js'
import { createChannel, eventually, inbound, metaSignature, PUBLIC_URL, slackSignature, workspaces, type Rest } from './support/channels/index.js'
import { matchExactly } from './support/channels/exactly.js'
import { inboundKit } from './support/channels/inbound-kit.js'
import { subscribe, untilLive, wsClient } from './support/subscriptions.js'

/**
 * A contact edits a message they sent: the provider's edit (Telegram edited_message, Slack
 * message_changed, Messenger message_edit, WhatsApp edit), POSTed to the public inbound URL signed
 * as each provider signs, updates the interaction logged for the original, once, in its own
 * workspace only, and the event log says so (interaction.updated).
 */
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared, 'edit')
const json = { 'content-type': 'application/json' }

async function setup () {
  const ctx = fresh()
  return { ...ctx, ...inboundKit(ctx) }
}

/** The workspace's events of some types about one interaction, oldest first. */
async function eventsOf (rest: Rest, types: string, subjectId: string): Promise<any[]> {
  const res = await rest('GET', `/v1/events?limit=100&types=${types}`)
  if (res.statusCode !== 200) throw new Error(`events: ${res.statusCode} ${res.body}`)
  return (res.data.data as any[]).filter((e) => e.subjectId === subjectId)
}

// --- Telegram ------------------------------------------------------------------------------------

const TG_SECRET = 'tg-edit-secret'
const ana = { id: 111111111, is_bot: false, first_name: 'Ana', last_name: 'Silva' }
const chat = { id: 111111111, first_name: 'Ana', type: 'private' }

async function telegram (ctx: { rest: Rest }) {
  const ch = await createChannel(ctx.rest, 'telegram', { botToken: '123456:ABC-DEF', secretToken: TG_SECRET })
  let updateId = 500
  /** One Update; the same bytes again for a redelivery (`send(body)` with the returned body). */
  const post = (update: Record<string, unknown> | string) => {
    const payload = typeof update === 'string' ? update : JSON.stringify({ update_id: ++updateId, ...update })
    return inbound(ctx.rest, ch.id, { payload, headers: { ...json, 'x-telegram-bot-api-secret-token': TG_SECRET } }).then((res) => ({ res, payload }))
  }
  const message = (id: number, date: number, text: string) => ({ message: { message_id: id, from: ana, chat, date, text } })
  const edit = (id: number, date: number, editDate: number, text: string) => ({ edited_message: { message_id: id, from: ana, chat, date, edit_date: editDate, text } })
  return { ch, post, message, edit }
}

t.test('Telegram: an edit updates the interaction in place; redelivered and older edits change nothing', async (t) => {
  const ctx = await setup()
  const { rest, interactionsOf, interaction } = ctx
  const { ch, post, message, edit } = await telegram(ctx)

  t.equal((await post(message(301, 1717006000, 'See you Tusday'))).res.statusCode, 200)
  const [before] = await interactionsOf(ch.id)
  const first = await post(edit(301, 1717006000, 1717006100, 'See you Tuesday'))
  t.equal(first.res.statusCode, 200)

  const [after, ...more] = await interactionsOf(ch.id)
  t.same(more, [], 'still one interaction: the edit is not a message of its own')
  matchExactly(t, after, { id: before.id, providerMessageId: '111111111:301', body: 'See you Tuesday', occurredAt: new Date(1717006000000).toISOString(), createdAt: before.createdAt })
  t.ok(after.updatedAt > before.updatedAt, 'updatedAt moved')
  const withRaw = (await rest('GET', `/v1/interactions/${before.id}?include=raw`)).data
  t.equal(withRaw.raw.message.text, 'See you Tusday', 'raw keeps the message as first received (the original text)')
  const updated = await eventually(async () => {
    const evs = await eventsOf(rest, 'interaction.updated', before.id)
    return evs.length > 0 && evs
  }, { what: 'interaction.updated' })
  t.equal(updated.length, 1)
  matchExactly(t, updated[0], { type: 'interaction.updated', subjectId: before.id, data: { id: before.id, body: 'See you Tuesday', updatedAt: after.updatedAt } })
  t.equal((await eventsOf(rest, 'interaction.received', before.id)).length, 1, 'one interaction.received, for the message')

  // Telegram retries the same Update; and an older edit arrives late.
  t.equal((await post(first.payload)).res.statusCode, 200, 'the edit redelivered')
  t.equal((await post(edit(301, 1717006000, 1717006050, 'See you Monday'))).res.statusCode, 200, 'an older edit, late')
  t.match(await interaction(before.id), { body: 'See you Tuesday', updatedAt: after.updatedAt }, 'neither changed the interaction')
  t.equal((await eventsOf(rest, 'interaction.updated', before.id)).length, 1, 'nor said it did')

  t.equal((await post(edit(301, 1717006000, 1717006200, 'See you Wednesday'))).res.statusCode, 200, 'a newer edit')
  t.equal((await interaction(before.id)).body, 'See you Wednesday')
  t.equal((await interactionsOf(ch.id)).length, 1)
  const both = await eventually(async () => {
    const evs = await eventsOf(rest, 'interaction.updated', before.id)
    return evs.length === 2 && evs
  }, { what: 'the second interaction.updated' })
  t.same(both.map((e) => e.data.body), ['See you Tuesday', 'See you Wednesday'], 'each version in the event log, in order')
})

t.test('Telegram: an edit of an unknown message is logged as that message; the original arriving later changes nothing', async (t) => {
  const ctx = await setup()
  const { rest, interactionsOf } = ctx
  const { ch, post, message, edit } = await telegram(ctx)

  t.equal((await post(edit(401, 1717006000, 1717006100, 'Order 7 is the wrong size'))).res.statusCode, 200)
  const [logged, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, logged, { direction: 'inbound', kind: 'message', providerMessageId: '111111111:401', body: 'Order 7 is the wrong size', counterpart: '111111111', occurredAt: new Date(1717006000000).toISOString() })
  t.equal((await rest('GET', `/v1/contacts/${logged.contactId}`)).data.displayName, 'Ana Silva', 'the sender became a contact, as for a message')
  await eventually(async () => (await eventsOf(rest, 'interaction.received', logged.id)).length === 1, { what: 'interaction.received' })

  t.equal((await post(message(401, 1717006000, 'Order 7 is wrong'))).res.statusCode, 200, 'the original, delivered late')
  t.equal((await post(edit(401, 1717006000, 1717006050, 'Order 7 is the wrong colour'))).res.statusCode, 200, 'an older edit, delivered late')
  const list = await interactionsOf(ch.id)
  t.equal(list.length, 1)
  matchExactly(t, list[0], { id: logged.id, body: 'Order 7 is the wrong size', updatedAt: logged.updatedAt }, 'the newest text stays')
  t.equal((await eventsOf(rest, 'interaction.updated', logged.id)).length, 0)
})

t.test('Telegram: an edit changes only its own workspace\'s interaction', async (t) => {
  const a = await setup()
  const b = await setup()
  const tgA = await telegram(a)
  const tgB = await telegram(b)
  await tgA.post(tgA.message(501, 1717006000, 'hello from A'))
  await tgB.post(tgB.message(501, 1717006000, 'hello from B'))
  const [inB] = await b.interactionsOf(tgB.ch.id)
  t.equal((await tgA.post(tgA.edit(501, 1717006000, 1717006100, 'hello from A, edited'))).res.statusCode, 200)

  const [inA] = await a.interactionsOf(tgA.ch.id)
  t.equal(inA.body, 'hello from A, edited')
  t.equal(inA.providerMessageId, inB.providerMessageId, 'the same provider id in both workspaces')
  matchExactly(t, await b.interaction(inB.id), { body: 'hello from B', updatedAt: inB.updatedAt }, 'the other workspace\'s interaction is untouched')
  t.same(await eventsOf(b.rest, 'interaction.updated', inB.id), [])
})

t.test('GraphQL interactionUpdated: the edit reaches a subscriber of the contact, with the new text', async (t) => {
  const ctx = await setup()
  const { ch, post, message, edit } = await telegram(ctx)
  await post(message(601, 1717006000, 'v0'))
  const [logged] = await ctx.interactionsOf(ch.id)
  await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  const client = wsClient(`ws://127.0.0.1:${(ctx.app.server.address() as { port: number }).port}/graphql`, { authorization: `Bearer ${ctx.token()}` })
  t.teardown(() => client.dispose())
  const sub = subscribe(client, 'subscription ($c: ID) { interactionUpdated(contactId: $c) { type interaction { id body } } }', { c: logged.contactId })
  let n = 0
  const editNow = async (text: string) => {
    await post(edit(601, 1717006000, 1717006100 + ++n, text))
    await ctx.app.jobs.inbox.drain()
  }
  await untilLive(sub, () => editNow(`v${n + 1}`))
  await editNow('final')
  t.ok(await sub.until((r) => r.length >= 1))
  t.same(sub.results.map((r) => r.data?.interactionUpdated), [{ type: 'interaction.updated', interaction: { id: logged.id, body: 'final' } }])
  sub.dispose()
})

// --- Slack ---------------------------------------------------------------------------------------

t.test('Slack: message_changed updates the message it names; a change that leaves the text (an unfurl) says nothing', async (t) => {
  const { rest, interactionsOf, interaction } = await setup()
  const SECRET = 'slack-edit-secret'
  const ch = await createChannel(rest, 'slack', { signingSecret: SECRET, botToken: 'xoxb-1-edit' })
  const post = (event: Record<string, unknown>) => {
    const payload = JSON.stringify({ token: 'XXYYZZ', team_id: 'T0001', api_app_id: 'A0001', event, type: 'event_callback', event_id: `Ev${Math.random()}`, event_time: 1717006500 })
    const ts = Math.floor(Date.now() / 1000)
    return inbound(rest, ch.id, { payload, headers: { ...json, 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(SECRET, ts, payload) } })
  }
  const base = { type: 'message', channel: 'C024BE91L', channel_type: 'channel' }
  t.equal((await post({ ...base, user: 'U2147483697', text: 'Helo, world', ts: '1717006501.000200' })).statusCode, 200)
  const [original] = await interactionsOf(ch.id)
  const changed = (editTs: string | undefined, eventTs: string, text: string) => ({
    ...base, subtype: 'message_changed', hidden: true, ts: eventTs,
    message: { type: 'message', user: 'U2147483697', text, ts: '1717006501.000200', ...(editTs ? { edited: { user: 'U2147483697', ts: editTs } } : {}) },
    previous_message: { type: 'message', user: 'U2147483697', text: 'Helo, world', ts: '1717006501.000200' }
  })
  t.equal((await post(changed('1717006506.000000', '1717006506.000700', 'Hello, world'))).statusCode, 200)
  const [edited, ...more] = await interactionsOf(ch.id)
  t.same(more, [])
  matchExactly(t, edited, { id: original.id, providerMessageId: 'C024BE91L:1717006501.000200', body: 'Hello, world' })
  await eventually(async () => (await eventsOf(rest, 'interaction.updated', original.id)).length === 1, { what: 'interaction.updated' })

  t.equal((await post(changed('1717006506.000000', '1717006600.000100', 'Hello, world'))).statusCode, 200, 'an unfurl of the edited message')
  t.equal((await post(changed(undefined, '1717006700.000100', 'Hello, world'))).statusCode, 200, 'a later change of metadata only')
  t.match(await interaction(original.id), { body: 'Hello, world', updatedAt: edited.updatedAt })
  t.equal((await eventsOf(rest, 'interaction.updated', original.id)).length, 1, 'no event for changes that left the text as it was')
})

// --- Meta ----------------------------------------------------------------------------------------

t.test('Messenger message_edit and WhatsApp edit update the message they name; editedAt says when', async (t) => {
  const { rest, gql, interactionsOf } = await setup()
  const APP_SECRET = 'meta-edit-secret'
  const ch = await createChannel(rest, 'meta', { appSecret: APP_SECRET, verifyToken: 'vt', platform: 'messenger' })
  const post = (body: unknown) => {
    const payload = JSON.stringify(body)
    return inbound(rest, ch.id, { payload, headers: { ...json, 'x-hub-signature-256': metaSignature(APP_SECRET, payload) } })
  }
  const PSID = '6954834441214510'
  const PAGE = '1067280970047460'
  const messenger = (item: Record<string, unknown>, ts: number) => ({ object: 'page', entry: [{ id: PAGE, time: ts, messaging: [{ sender: { id: PSID }, recipient: { id: PAGE }, timestamp: ts, ...item }] }] })
  t.equal((await post(messenger({ message: { mid: 'm_1', text: 'Can I pay on delivry?' } }, 1717006000000))).statusCode, 200)
  const [logged] = await interactionsOf(ch.id)
  const editedAtQuery = 'query ($id: ID!) { interaction(id: $id) { body editedAt } }'
  t.equal(logged.editedAt, null, 'REST: editedAt is null until the contact edits the message')
  t.same((await gql(editedAtQuery, { id: logged.id })).data, { interaction: { body: 'Can I pay on delivry?', editedAt: null } }, 'GraphQL: null as well')
  t.equal((await post(messenger({ message_edit: { mid: 'm_1', text: 'Can I pay on delivery?', num_edit: 1 } }, 1717006060000))).statusCode, 200)
  await interactionsOf(ch.id)
  t.equal((await rest('GET', `/v1/interactions/${logged.id}`)).data.editedAt, new Date(1717006060000).toISOString(), 'REST: when the edit was made, by the provider\'s clock')
  t.same((await gql(editedAtQuery, { id: logged.id })).data, { interaction: { body: 'Can I pay on delivery?', editedAt: new Date(1717006060000).toISOString() } }, 'GraphQL: the same')

  const wa = (message: Record<string, unknown>) => ({
    object: 'whatsapp_business_account',
    entry: [{ id: '102290129340398', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' }, contacts: [{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }], messages: [{ from: '16505551234', ...message }] } }] }]
  })
  t.equal((await post(wa({ id: 'wamid.IMG1', timestamp: '1717006100', type: 'image', image: { caption: 'this one', mime_type: 'image/jpeg', id: '1003383421387256' } }))).statusCode, 200)
  t.equal((await post(wa({ id: 'wamid.EDIT1', timestamp: '1717006160', type: 'edit', edit: { original_message_id: 'wamid.IMG1', message: { type: 'image', image: { caption: 'this one, in blue', mime_type: 'image/jpeg', id: '1003383421387256' } } } }))).statusCode, 200)

  const list = await interactionsOf(ch.id)
  const byId = Object.fromEntries(list.map((i) => [i.providerMessageId, i]))
  t.same(Object.keys(byId).sort(), ['m_1', 'wamid.IMG1'], 'one interaction per message, none for the edits')
  matchExactly(t, byId.m_1, { body: 'Can I pay on delivery?', counterpart: PSID })
  matchExactly(t, byId['wamid.IMG1'], { body: 'this one, in blue', counterpart: '+16505551234', attachments: [{ contentType: 'image/jpeg', providerFileId: '1003383421387256' }] })
  for (const i of list) await eventually(async () => (await eventsOf(rest, 'interaction.updated', i.id)).length === 1, { what: `interaction.updated of ${String(i.providerMessageId)}` })
})
