import t from 'tap'
import { fakeProvider } from './adapters/fake-server.js'
import { build } from './helper.js'
import { allInteractions, createChannel, createContact, eventually, inbound, workspaces } from './support/channels/index.js'
import { assertProblem, assertValidation } from './support/problem.js'

// One app (one fresh database) for the file; each test works in workspaces of its own.
const shared = await build(t)
const fresh = workspaces(shared)

const TG = { botToken: '123456:ABC-DEF', secretToken: 'tg-secret' }
const INTERACTION_FIELDS = 'id direction kind subject body threadId providerMessageId status statusReason counterpart attachments occurredAt authorId createdAt updatedAt'

/** A Telegram update from user `from`, delivered to the channel's webhook and processed. */
async function telegramMessage (ctx: ReturnType<typeof fresh>, channelId: string, o: { from: number, messageId: number, text: string, date: number, name?: string }) {
  const body = JSON.stringify({
    update_id: o.messageId,
    message: { message_id: o.messageId, from: { id: o.from, is_bot: false, first_name: o.name ?? 'Tg' }, chat: { id: o.from, type: 'private' }, date: o.date, text: o.text }
  })
  const res = await inbound(ctx.rest, channelId, { payload: body, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG.secretToken } })
  if (res.statusCode !== 200) throw new Error(`inbound: ${res.statusCode} ${res.body}`)
  await ctx.app.jobs.inbox.drain()
  return body
}

t.test('log an interaction, read it back; raw only on request', async (t) => {
  const ctx = fresh()
  const { rest, gql } = ctx
  const contact = await createContact(rest, { displayName: 'Ada' })
  const phone = await createChannel(rest, 'phone', {})

  const logged = await rest('POST', '/v1/interactions', {
    body: { contactId: contact.id, channelId: phone.id, direction: 'outbound', kind: 'call', subject: 'Quarterly check-in', body: 'Talked for 20 minutes', occurredAt: '2024-05-01T10:00:00+02:00' }
  })
  t.equal(logged.statusCode, 201, logged.body)
  const call = logged.data
  t.equal(logged.headers.location, `/v1/interactions/${call.id}`)
  t.match(call, {
    contactId: contact.id, channelId: phone.id, direction: 'outbound', kind: 'call', subject: 'Quarterly check-in', body: 'Talked for 20 minutes',
    occurredAt: '2024-05-01T08:00:00.000Z', authorId: 'tester', status: null, providerMessageId: null, attachments: []
  })
  t.notOk('raw' in call, 'no raw in the create answer')

  const letter = await rest('POST', '/v1/interactions', { body: { contactId: contact.id, direction: 'inbound', kind: 'mail', subject: 'Signed contract', occurredAt: '2024-04-30T00:00:00Z' } })
  t.equal(letter.statusCode, 201, letter.body)
  t.match(letter.data, { kind: 'mail', direction: 'inbound', subject: 'Signed contract', body: null })
  const meeting = await rest('POST', '/v1/interactions', { body: { contactId: contact.id, direction: 'inbound', kind: 'meeting', body: 'Visited our booth' } })
  t.equal(meeting.statusCode, 201)
  t.match(meeting.data, { channelId: null, authorId: null, kind: 'meeting' }, 'a channel is optional; inbound has no author')
  t.ok(Math.abs(Date.parse(meeting.data.occurredAt) - Date.now()) < 60_000, 'occurredAt defaults to now')

  const read = await rest('GET', `/v1/interactions/${call.id}`)
  t.same(read.data, call, 'GET returns what POST returned')
  t.notOk('raw' in read.data, 'raw is left out by default')
  const withRaw = await rest('GET', `/v1/interactions/${call.id}?include=raw`)
  t.equal(withRaw.data.raw, null, 'a logged interaction has no provider payload')
  assertValidation(t, await rest('GET', `/v1/interactions/${call.id}?include=everything`), [{ pointer: '/querystring/include' }], 'unknown include')

  // An inbound provider message keeps its payload, shown only with ?include=raw.
  const tg = await createChannel(rest, 'telegram', TG)
  const date = Math.floor(Date.now() / 1000) - 60
  const payload = await telegramMessage(ctx, tg.id, { from: 5005, messageId: 9, text: 'Hola', date })
  const [msg] = await allInteractions(rest, `channelId=${tg.id}`)
  t.notOk('raw' in msg, 'lists never carry raw')
  t.notOk('raw' in (await rest('GET', `/v1/interactions/${msg.id}`)).data, 'GET without include has no raw')
  t.same((await rest('GET', `/v1/interactions/${msg.id}?include=raw`)).data.raw, JSON.parse(payload), 'include=raw returns the provider payload')
  const g = await gql(`query ($id: ID!) { interaction(id: $id) { ${INTERACTION_FIELDS} raw } }`, { id: msg.id })
  t.same(g.errors, undefined)
  t.same(g.data.interaction.raw, JSON.parse(payload), 'GraphQL raw is the payload')
  t.equal(g.data.interaction.direction, 'INBOUND')
  t.equal(g.data.interaction.kind, 'MESSAGE')
  // Lists and timelines leave the payload in the database until a query selects it: then it is
  // the same payload, read for all the list's interactions at once (it was null there before).
  const lists = await gql(`query ($contact: ID!, $channel: ID!) {
    contact(id: $contact) { timeline(first: 5) { nodes { id raw } } }
    interactions(first: 5, filter: { channelId: $channel }) { nodes { id raw } }
  }`, { contact: msg.contactId, channel: tg.id })
  t.same(lists.errors, undefined)
  t.same(lists.data.contact.timeline.nodes, [{ id: msg.id, raw: JSON.parse(payload) }], 'a timeline node selects raw: the payload')
  t.same(lists.data.interactions.nodes, [{ id: msg.id, raw: JSON.parse(payload) }], 'a list node selects raw: the payload')
  const noPayload = await gql(`query ($id: ID!) { contact(id: $id) { timeline(first: 5) { nodes { raw } } } }`, { id: contact.id })
  t.same(noPayload.data.contact.timeline.nodes.map((n: { raw: unknown }) => n.raw), [null, null, null], 'logged entries have none')

  // Validation and references.
  assertValidation(t, await rest('POST', '/v1/interactions', { body: { contactId: contact.id, direction: 'sideways', kind: 'fax' } }),
    [{ pointer: '/body/direction' }, { pointer: '/body/kind' }], 'enums')
  assertValidation(t, await rest('POST', '/v1/interactions', { body: { direction: 'inbound', kind: 'note' } }), [{ pointer: '/body/contactId' }], 'contactId required')
  assertValidation(t, await rest('POST', '/v1/interactions', { body: { contactId: contact.id, direction: 'inbound', kind: 'note', occurredAt: 'yesterday' } }), [{ pointer: '/body/occurredAt' }], 'occurredAt format')
  assertProblem(t, await rest('POST', '/v1/interactions', { body: { contactId: 'con_01hzzzzzzzzzzzzzzzzzzzzzzz', direction: 'inbound', kind: 'note' } }), 404, 'contact.not_found')
  assertProblem(t, await rest('POST', '/v1/interactions', { body: { contactId: contact.id, channelId: 'chn_01hzzzzzzzzzzzzzzzzzzzzzzz', direction: 'inbound', kind: 'note' } }), 404, 'channel.not_found')
  assertProblem(t, await rest('GET', '/v1/interactions/int_01hzzzzzzzzzzzzzzzzzzzzzzz'), 404, 'interaction.not_found')
  const dup = { contactId: contact.id, channelId: phone.id, direction: 'inbound', kind: 'call', providerMessageId: 'pbx-call-1' }
  t.equal((await rest('POST', '/v1/interactions', { body: dup })).statusCode, 201)
  assertValidation(t, await rest('POST', '/v1/interactions', { body: dup }), [{ pointer: /providerMessageId$/, code: 'duplicate' }], 'a provider message id is logged once per channel')
  t.equal((await allInteractions(rest, 'kind=call')).length, 2, 'the duplicate was not stored')
})

t.test('list: filters and keyset pagination without loss or repeat', async (t) => {
  const { rest } = fresh()
  const ada = await createContact(rest, { displayName: 'Ada' })
  const bob = await createContact(rest, { displayName: 'Bob' })
  const phone = await createChannel(rest, 'phone', {})
  const note = await createChannel(rest, 'note', {})

  // 14 interactions; five share one timestamp so that ties are broken by id.
  const specs: Array<{ contact: string, channel: string | null, direction: string, kind: string, at: string }> = []
  for (let i = 0; i < 9; i++) {
    specs.push({ contact: i % 2 ? bob.id : ada.id, channel: i % 3 === 0 ? note.id : phone.id, direction: i % 2 ? 'inbound' : 'outbound', kind: i % 3 === 0 ? 'note' : 'call', at: new Date(Date.UTC(2024, 0, 1 + i, 12)).toISOString() })
  }
  for (let i = 0; i < 5; i++) specs.push({ contact: ada.id, channel: null, direction: 'inbound', kind: 'meeting', at: '2024-01-05T12:00:00.000Z' })
  const created: any[] = []
  for (const s of specs) {
    const res = await rest('POST', '/v1/interactions', { body: { contactId: s.contact, ...(s.channel ? { channelId: s.channel } : {}), direction: s.direction, kind: s.kind, occurredAt: s.at } })
    t.equal(res.statusCode, 201)
    created.push(res.data)
  }
  const newestFirst = [...created].sort((a, b) => b.occurredAt.localeCompare(a.occurredAt) || b.id.localeCompare(a.id)).map((i) => i.id)

  // Walk every page by following the Link header.
  const seen: string[] = []
  let url: string | undefined = '/v1/interactions?limit=4'
  let pages = 0
  while (url) {
    const res = await rest('GET', url)
    t.equal(res.statusCode, 200, res.body)
    seen.push(...res.data.data.map((i: any) => i.id))
    const link = res.headers.link as string | undefined
    if (res.data.nextCursor) t.equal(link, `</v1/interactions?limit=4&after=${res.data.nextCursor}>; rel="next"`, 'Link names the next page')
    else t.notOk(link, 'no Link on the last page')
    url = link ? /^<([^>]+)>/.exec(link)?.[1] : undefined
    pages++
  }
  t.equal(pages, 4, '14 rows in pages of 4')
  t.same(seen, newestFirst, 'every interaction once, newest first, ties by id')

  const expect = (pred: (s: typeof specs[number]) => boolean) => newestFirst.filter((id) => pred(specs[created.findIndex((c) => c.id === id)]))
  const ids = async (q: string) => (await allInteractions(rest, q)).map((i) => i.id)
  t.same(await ids(`contactId=${bob.id}`), expect((s) => s.contact === bob.id), 'by contact')
  t.same(await ids(`channelId=${note.id}`), expect((s) => s.channel === note.id), 'by channel')
  t.same(await ids('direction=inbound'), expect((s) => s.direction === 'inbound'), 'by direction')
  t.same(await ids('kind=meeting'), expect((s) => s.kind === 'meeting'), 'by kind')
  t.same(await ids('since=2024-01-03T12:00:00Z&until=2024-01-05T12:00:00Z'), expect((s) => s.at >= '2024-01-03T12:00:00.000Z' && s.at <= '2024-01-05T12:00:00.000Z'), 'since/until, both inclusive')
  t.same(await ids('since=2024-01-05T13:00:00%2B01:00'), expect((s) => s.at >= '2024-01-05T12:00:00.000Z'), 'since with an offset')
  t.same(await ids(`contactId=${ada.id}&direction=outbound&kind=call`), expect((s) => s.contact === ada.id && s.direction === 'outbound' && s.kind === 'call'), 'filters combine')
  t.ok((await ids(`contactId=${bob.id}`)).length > 0 && (await ids('kind=meeting')).length === 5, 'the filters are not vacuous')

  // A filtered walk keeps its filter across pages.
  const first = await rest('GET', `/v1/interactions?contactId=${ada.id}&limit=3`)
  t.match(first.headers.link, new RegExp(`contactId=${ada.id}`), 'the filter is kept in the Link')
  const second = await rest('GET', /^<([^>]+)>/.exec(first.headers.link as string)![1])
  t.ok(second.data.data.every((i: any) => i.contactId === ada.id), 'the next page is still filtered')
  t.same([...first.data.data, ...second.data.data].map((i: any) => i.id), expect((s) => s.contact === ada.id).slice(0, 6))

  assertProblem(t, await rest('GET', '/v1/interactions?after=not-a-cursor'), 400, 'request.invalid_cursor')
  assertValidation(t, await rest('GET', '/v1/interactions?limit=0'), [{ pointer: '/querystring/limit' }], 'limit 0')
  assertValidation(t, await rest('GET', '/v1/interactions?direction=up'), [{ pointer: '/querystring/direction' }], 'unknown direction')
  assertValidation(t, await rest('GET', '/v1/interactions?since=last-week'), [{ pointer: '/querystring/since' }], 'since format')
})

t.test('timeline: every channel, newest first, one contact only', async (t) => {
  const ctx = fresh()
  const { rest } = ctx
  const provider = await fakeProvider(t, { status: 200, body: { ok: true } })
  const tg = await createChannel(rest, 'telegram', TG)
  const hook = await createChannel(rest, 'webhook', { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', url: provider.url })
  const phone = await createChannel(rest, 'phone', {})
  const maria = await createContact(rest, { displayName: 'Maria' })
  await rest('POST', `/v1/contacts/${maria.id}/identities`, { body: { kind: 'telegram:user', address: '7007' } })
  await rest('POST', `/v1/contacts/${maria.id}/identities`, { body: { kind: 'external', address: 'maria-ext' } })
  const other = await createContact(rest, { displayName: 'Other' })
  const now = Date.now()

  await telegramMessage(ctx, tg.id, { from: 7007, messageId: 1, text: 'Inbound on Telegram', date: Math.floor((now - 3_600_000) / 1000) })
  const call = (await rest('POST', '/v1/interactions', { body: { contactId: maria.id, channelId: phone.id, direction: 'outbound', kind: 'call', occurredAt: new Date(now - 7_200_000).toISOString() } })).data
  const note = (await rest('POST', '/v1/interactions', { body: { contactId: maria.id, direction: 'inbound', kind: 'note', body: 'Prefers mornings', occurredAt: new Date(now - 60_000).toISOString() } })).data
  const sent = (await rest('POST', `/v1/contacts/${maria.id}/messages`, { body: { channelId: hook.id, text: 'Outbound via webhook' } })).data
  await eventually(async () => (await rest('GET', `/v1/interactions/${sent.id}`)).data.status === 'delivered', { what: 'the webhook send' })
  await rest('POST', '/v1/interactions', { body: { contactId: other.id, direction: 'inbound', kind: 'note', body: 'not Maria' } })

  const tl = await rest('GET', `/v1/contacts/${maria.id}/timeline`)
  t.equal(tl.statusCode, 200, tl.body)
  const items = tl.data.data
  t.same(items.map((i: any) => i.body ?? i.kind), ['Outbound via webhook', 'Prefers mornings', 'Inbound on Telegram', 'call'], 'newest first across channels')
  t.same(items.map((i: any) => i.channelId), [hook.id, null, tg.id, phone.id], 'every channel (and none)')
  t.ok(items.every((i: any) => i.contactId === maria.id), 'only Maria\'s')
  t.same([items[1].id, items[3].id], [note.id, call.id])

  const p1 = await rest('GET', `/v1/contacts/${maria.id}/timeline?limit=3`)
  t.equal(p1.data.data.length, 3)
  t.match(p1.headers.link, new RegExp(`^</v1/contacts/${maria.id}/timeline\\?limit=3&after=`))
  const p2 = await rest('GET', /^<([^>]+)>/.exec(p1.headers.link as string)![1])
  t.same([...p1.data.data, ...p2.data.data].map((i: any) => i.id), items.map((i: any) => i.id), 'paged timeline = whole timeline')
  t.equal(p2.data.nextCursor, null)

  assertProblem(t, await rest('GET', '/v1/contacts/con_01hzzzzzzzzzzzzzzzzzzzzzzz/timeline'), 404, 'contact.not_found')
})

t.test('identities API: add, list, duplicate 409, remove', async (t) => {
  const { rest, gql, token, workspace } = fresh()
  const ada = await createContact(rest, { displayName: 'Ada' })
  const bob = await createContact(rest, { displayName: 'Bob' })

  const phone = await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'phone', address: '+1 (415) 555-2671' } })
  t.equal(phone.statusCode, 201, phone.body)
  t.match(phone.data, { contactId: ada.id, kind: 'phone', address: '+14155552671', firstSeenAt: null, lastSeenAt: null })
  t.match(phone.data.id, /^idn_/)
  const email = await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'email', address: ' Ada@Example.COM ' } })
  t.equal(email.data.address, 'ada@example.com', 'e-mail normalized')
  const slack = await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'slack:user', address: 'U123' } })
  t.equal(slack.statusCode, 201)

  const list = await rest('GET', `/v1/contacts/${ada.id}/identities`)
  t.same(list.data.data.map((i: any) => [i.kind, i.address]), [['email', 'ada@example.com'], ['phone', '+14155552671'], ['slack:user', 'U123']])
  t.same((await rest('GET', `/v1/contacts/${bob.id}/identities`)).data.data, [], 'Bob has none')

  const dup = assertProblem(t, await rest('POST', `/v1/contacts/${bob.id}/identities`, { body: { kind: 'email', address: 'ADA@example.com' } }), 409, 'identity.duplicate')
  t.equal(dup.existingContactId, ada.id, 'the problem names the owner')
  t.equal(dup.identityId, email.data.id)
  assertProblem(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'phone', address: '+14155552671' } }), 409, 'identity.duplicate', 'same contact twice')
  t.equal((await rest('POST', `/v1/contacts/${bob.id}/identities`, { body: { kind: 'slack:user', address: 'U1234' } })).statusCode, 201, 'a different address is fine')
  t.equal((await rest('POST', `/v1/contacts/${bob.id}/identities`, { body: { kind: 'x:user', address: 'U123' } })).statusCode, 201, 'the same address under another kind is fine')

  assertValidation(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'email', address: 'not-an-email' } }), [{ pointer: /address$/ }], 'bad e-mail')
  assertValidation(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'phone', address: '12' } }), [{ pointer: /address$/ }], 'bad phone')
  assertValidation(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { body: { kind: 'Phone Number', address: 'x' } }), [{ pointer: '/body/kind' }], 'bad kind')
  assertProblem(t, await rest('POST', '/v1/contacts/con_01hzzzzzzzzzzzzzzzzzzzzzzz/identities', { body: { kind: 'phone', address: '+14155552671' } }), 404, 'contact.not_found')

  assertProblem(t, await rest('DELETE', `/v1/contacts/${bob.id}/identities/${email.data.id}`), 404, 'identity.not_found', 'removing through another contact')
  const del = await rest('DELETE', `/v1/contacts/${ada.id}/identities/${email.data.id}`)
  t.equal(del.statusCode, 204)
  t.same((await rest('GET', `/v1/contacts/${ada.id}/identities`)).data.data.map((i: any) => i.kind), ['phone', 'slack:user'])
  assertProblem(t, await rest('DELETE', `/v1/contacts/${ada.id}/identities/${email.data.id}`), 404, 'identity.not_found', 'removing twice')
  t.equal((await rest('POST', `/v1/contacts/${bob.id}/identities`, { body: { kind: 'email', address: 'ada@example.com' } })).statusCode, 201, 'a removed identity can go to another contact')

  // Scopes and tenancy.
  const reader = token({ scopes: ['contacts:read'] })
  t.equal((await rest('GET', `/v1/contacts/${ada.id}/identities`, { token: reader })).statusCode, 200)
  t.equal(assertProblem(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { token: reader, body: { kind: 'x:user', address: '1' } }), 403, 'auth.forbidden').requiredScope, 'contacts:write')
  t.equal(assertProblem(t, await rest('DELETE', `/v1/contacts/${ada.id}/identities/${phone.data.id}`, { token: reader }), 403, 'auth.forbidden').requiredScope, 'contacts:write')
  const other = token({ workspace: `${workspace}-other` })
  assertProblem(t, await rest('GET', `/v1/contacts/${ada.id}/identities`, { token: other }), 404, 'contact.not_found', 'listing from another workspace')
  assertProblem(t, await rest('POST', `/v1/contacts/${ada.id}/identities`, { token: other, body: { kind: 'x:user', address: 'evil' } }), 404, 'contact.not_found', 'adding from another workspace')
  assertProblem(t, await rest('DELETE', `/v1/contacts/${ada.id}/identities/${phone.data.id}`, { token: other }), 404, 'contact.not_found', 'removing from another workspace')
  const gAdd = await gql('mutation ($input: AddIdentityInput!) { addIdentity(input: $input) { identity { id } } }', { input: { contactId: ada.id, kind: 'x:user', address: 'evil' } }, { token: other })
  t.equal(gAdd.errors?.[0].extensions.code, 'contact.not_found', 'GraphQL addIdentity from another workspace')
  const gRemove = await gql('mutation ($input: RemoveIdentityInput!) { removeIdentity(input: $input) { removedIdentityId } }', { input: { contactId: ada.id, identityId: phone.data.id } }, { token: other })
  t.equal(gRemove.errors?.[0].extensions.code, 'contact.not_found', 'GraphQL removeIdentity from another workspace')
  const gRead = await gql('query ($id: ID!) { contact(id: $id) { identities { nodes { id } } } }', { id: ada.id }, { token: other })
  t.equal(gRead.errors?.[0].extensions.code, 'contact.not_found', 'GraphQL Contact.identities from another workspace')
  const theirs = await createContact(rest, { displayName: 'Their Ada' }, other)
  t.equal((await rest('POST', `/v1/contacts/${theirs.id}/identities`, { token: other, body: { kind: 'phone', address: '+14155552671' } })).statusCode, 201, 'the same identity in another workspace is not a duplicate')
  t.same((await rest('GET', `/v1/contacts/${ada.id}/identities`)).data.data.map((i: any) => i.kind), ['phone', 'slack:user'], 'unchanged')
})

t.test('identities steer inbound messages: a known identity, then after its removal, then after its contact is deleted', async (t) => {
  const ctx = fresh()
  const { rest } = ctx
  const tg = await createChannel(rest, 'telegram', TG)
  const date = Math.floor(Date.now() / 1000) - 600
  const maria = await createContact(rest, { displayName: 'Maria' })
  await rest('POST', `/v1/contacts/${maria.id}/identities`, { body: { kind: 'telegram:user', address: '8008' } })

  await telegramMessage(ctx, tg.id, { from: 8008, messageId: 1, text: 'known', date })
  const [first] = await allInteractions(rest, `channelId=${tg.id}`)
  t.equal(first.contactId, maria.id, 'a known identity attaches to its contact')

  // Removing the identity makes the sender unknown: the next message creates a new contact.
  const [identity] = (await rest('GET', `/v1/contacts/${maria.id}/identities`)).data.data
  t.equal((await rest('DELETE', `/v1/contacts/${maria.id}/identities/${identity.id}`)).statusCode, 204)
  await telegramMessage(ctx, tg.id, { from: 8008, messageId: 2, text: 'after removal', date: date + 1, name: 'Mystery' })
  const second = (await allInteractions(rest, `channelId=${tg.id}`)).find((i) => i.body === 'after removal')
  t.not(second.contactId, maria.id, 'no longer Maria')
  const newcomer = (await rest('GET', `/v1/contacts/${second.contactId}`)).data
  t.equal(newcomer.displayName, 'Mystery', 'a new contact named by the provider')
  t.same((await rest('GET', `/v1/contacts/${newcomer.id}/identities`)).data.data.map((i: any) => [i.kind, i.address]), [['telegram:user', '8008']])

  // Deleting that contact: a later message from the same sender must land on a live contact.
  t.equal((await rest('DELETE', `/v1/contacts/${newcomer.id}`)).statusCode, 204)
  await telegramMessage(ctx, tg.id, { from: 8008, messageId: 3, text: 'after deletion', date: date + 2, name: 'Mystery Again' })
  const third = (await allInteractions(rest, `channelId=${tg.id}`)).find((i) => i.body === 'after deletion')
  const owner = await rest('GET', `/v1/contacts/${third.contactId}`)
  t.equal(owner.statusCode, 200, 'the message belongs to a live contact, not the deleted one')
  t.not(third.contactId, newcomer.id)
  t.same((await rest('GET', `/v1/contacts/${third.contactId}/timeline`)).data.data.map((i: any) => i.body), ['after deletion'], 'and shows on its timeline')
  t.same((await rest('GET', `/v1/contacts/${third.contactId}/identities`)).data.data.map((i: any) => [i.kind, i.address]), [['telegram:user', '8008']], 'the identity moved to it')
})

t.test('tenancy and scopes for interactions', async (t) => {
  const ctx = fresh()
  const { rest, gql, token, workspace } = ctx
  const other = token({ workspace: `${workspace}-other` })
  const contact = await createContact(rest, { displayName: 'Mine' })
  const phone = await createChannel(rest, 'phone', {})
  const logged = (await rest('POST', '/v1/interactions', { body: { contactId: contact.id, channelId: phone.id, direction: 'outbound', kind: 'call', body: 'secret call' } })).data

  assertProblem(t, await rest('GET', `/v1/interactions/${logged.id}`, { token: other }), 404, 'interaction.not_found', 'GET from another workspace')
  assertProblem(t, await rest('GET', `/v1/interactions/${logged.id}?include=raw`, { token: other }), 404, 'interaction.not_found', 'GET raw from another workspace')
  assertProblem(t, await rest('GET', `/v1/interactions/${logged.id}/attempts`, { token: other }), 404, 'interaction.not_found', 'attempts from another workspace')
  assertProblem(t, await rest('GET', `/v1/contacts/${contact.id}/timeline`, { token: other }), 404, 'contact.not_found', 'timeline from another workspace')
  for (const q of ['', `contactId=${contact.id}`, `channelId=${phone.id}`]) t.same(await allInteractions(rest, q, other), [], `list ${q} from another workspace`)
  assertProblem(t, await rest('POST', '/v1/interactions', { token: other, body: { contactId: contact.id, direction: 'inbound', kind: 'note' } }), 404, 'contact.not_found', 'logging on another workspace\'s contact')
  const g = await gql('query ($id: ID!) { interaction(id: $id) { id body } }', { id: logged.id }, { token: other })
  t.equal(g.data?.interaction ?? null, null)
  t.equal(g.errors?.[0].extensions.code, 'interaction.not_found')
  t.same((await gql('{ interactions(first: 10) { nodes { id } } }', {}, { token: other })).data.interactions.nodes, [])
  const gl = await gql('mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id } } }', { input: { contactId: contact.id, direction: 'INBOUND', kind: 'NOTE' } }, { token: other })
  t.equal(gl.errors?.[0].extensions.code, 'contact.not_found')
  t.same((await allInteractions(rest)).map((i) => i.id), [logged.id], 'nothing changed in the owner\'s workspace')

  const noRead = token({ scopes: ['contacts:read', 'interactions:write'] })
  for (const url of ['/v1/interactions', `/v1/interactions/${logged.id}`, `/v1/interactions/${logged.id}/attempts`, `/v1/contacts/${contact.id}/timeline`]) {
    t.equal(assertProblem(t, await rest('GET', url, { token: noRead }), 403, 'auth.forbidden', `GET ${url}`).requiredScope, 'interactions:read')
  }
  const noWrite = token({ scopes: ['interactions:read', 'contacts:write'] })
  t.equal(assertProblem(t, await rest('POST', '/v1/interactions', { token: noWrite, body: { contactId: contact.id, direction: 'inbound', kind: 'note' } }), 403, 'auth.forbidden').requiredScope, 'interactions:write')
  const gq = await gql('{ interactions { nodes { id } } }', {}, { token: noRead })
  t.equal(gq.errors?.[0].extensions.requiredScope, 'interactions:read')
  const gm = await gql('mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id } } }', { input: { contactId: contact.id, direction: 'INBOUND', kind: 'NOTE' } }, { token: noWrite })
  t.equal(gm.errors?.[0].extensions.requiredScope, 'interactions:write')
  const gt = await gql('query ($id: ID!) { contact(id: $id) { id timeline { nodes { id } } } }', { id: contact.id }, { token: token({ scopes: ['contacts:read'] }) })
  t.equal(gt.errors?.[0].extensions.requiredScope, 'interactions:read', 'Contact.timeline needs interactions:read too')
  t.equal((await allInteractions(rest)).length, 1, 'refused writes stored nothing')
})

t.test('GraphQL: logInteraction, connections, filters, Contact.identities/timeline and the loaders', async (t) => {
  const ctx = fresh()
  const { rest, gql } = ctx
  const ada = await createContact(rest, { displayName: 'Ada' })
  const bob = await createContact(rest, { displayName: 'Bob' })
  const phone = await createChannel(rest, 'phone', {}, { name: 'Desk phone' })
  const note = await createChannel(rest, 'note', {}, { name: 'Notes' })
  const log = `mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { ${INTERACTION_FIELDS} contact { id displayName } channel { id name kind } } } }`

  const made: any[] = []
  const inputs = [
    { contactId: ada.id, channelId: phone.id, direction: 'OUTBOUND', kind: 'CALL', body: 'a1', occurredAt: '2024-03-01T09:00:00Z' },
    { contactId: bob.id, channelId: note.id, direction: 'INBOUND', kind: 'NOTE', body: 'b1', occurredAt: '2024-03-02T09:00:00Z' },
    { contactId: ada.id, direction: 'INBOUND', kind: 'MEETING', body: 'a2', occurredAt: '2024-03-03T09:00:00Z' },
    { contactId: bob.id, channelId: phone.id, direction: 'INBOUND', kind: 'CALL', body: 'b2', occurredAt: '2024-03-04T09:00:00Z' },
    { contactId: ada.id, channelId: note.id, direction: 'OUTBOUND', kind: 'NOTE', body: 'a3', occurredAt: '2024-03-05T09:00:00Z' }
  ]
  for (const input of inputs) {
    const res = await gql(log, { input })
    t.same(res.errors, undefined)
    made.push(res.data.logInteraction.interaction)
  }
  t.match(made[0], { direction: 'OUTBOUND', kind: 'CALL', status: null, authorId: 'tester', occurredAt: '2024-03-01T09:00:00.000Z', contact: { id: ada.id, displayName: 'Ada' }, channel: { id: phone.id, name: 'Desk phone', kind: 'phone' } })
  t.equal(made[2].channel, null, 'no channel is null')
  const viaRest = (await rest('GET', `/v1/interactions/${made[0].id}`)).data
  t.equal(viaRest.kind, 'call', 'REST sees the GraphQL-logged interaction in lower case')
  const bad = await gql(log, { input: { contactId: ada.id, direction: 'INBOUND', kind: 'NOTE', occurredAt: 'soon' } })
  t.ok(bad.errors?.length, 'an invalid DateTime is refused')

  // A page with several contacts and channels: every nested object resolves to its own row.
  const page = await gql(`{ interactions(first: 10) { nodes { id body contact { id displayName } channel { id name } } } }`)
  t.same(page.errors, undefined)
  t.same(page.data.interactions.nodes.map((n: any) => n.body), ['a3', 'b2', 'a2', 'b1', 'a1'], 'newest first')
  for (const n of page.data.interactions.nodes) {
    const want = inputs[made.findIndex((m) => m.id === n.id)]
    t.equal(n.contact.id, want.contactId, `${n.body}: its contact`)
    t.equal(n.contact.displayName, want.contactId === ada.id ? 'Ada' : 'Bob')
    t.equal(n.channel?.id ?? null, want.channelId ?? null, `${n.body}: its channel`)
  }

  // Relay pagination over a filter.
  const q = 'query ($after: String, $filter: InteractionFilter) { interactions(first: 2, after: $after, filter: $filter) { edges { cursor node { body } } pageInfo { hasNextPage hasPreviousPage endCursor } } }'
  const bodies: string[] = []
  let after: string | null = null
  let rounds = 0
  do {
    const res: any = await gql(q, { after, filter: { contactId: ada.id } })
    t.same(res.errors, undefined)
    bodies.push(...res.data.interactions.edges.map((e: any) => e.node.body))
    t.equal(res.data.interactions.pageInfo.hasPreviousPage, after !== null)
    after = res.data.interactions.pageInfo.hasNextPage ? res.data.interactions.pageInfo.endCursor : null
    rounds++
  } while (after && rounds < 10)
  t.same(bodies, ['a3', 'a2', 'a1'], 'Ada\'s interactions over two pages, none lost or repeated')
  const byEnums = await gql('{ interactions(filter: { direction: INBOUND, kind: CALL }) { nodes { body } } }')
  t.same(byEnums.data.interactions.nodes.map((n: any) => n.body), ['b2'], 'enum filters')
  const byTime = await gql('{ interactions(filter: { since: "2024-03-02T09:00:00Z", until: "2024-03-04T09:00:00Z" }) { nodes { body } } }')
  t.same(byTime.data.interactions.nodes.map((n: any) => n.body), ['b2', 'a2', 'b1'], 'since/until')
  const byChannel = await gql('query ($id: ID!) { interactions(filter: { channelId: $id }) { nodes { body } } }', { id: note.id })
  t.same(byChannel.data.interactions.nodes.map((n: any) => n.body), ['a3', 'b1'])

  // Contact.timeline and Contact.identities.
  await gql('mutation ($input: AddIdentityInput!) { addIdentity(input: $input) { identity { id } } }', { input: { contactId: ada.id, kind: 'slack:user', address: 'UADA' } })
  const added = await gql('mutation ($input: AddIdentityInput!) { addIdentity(input: $input) { identity { id contactId kind address } } }', { input: { contactId: ada.id, kind: 'phone', address: '+1 415 555 2671' } })
  t.same(added.errors, undefined)
  t.match(added.data.addIdentity.identity, { contactId: ada.id, kind: 'phone', address: '+14155552671' })
  const dup = await gql('mutation ($input: AddIdentityInput!) { addIdentity(input: $input) { identity { id } } }', { input: { contactId: bob.id, kind: 'phone', address: '+14155552671' } })
  t.equal(dup.errors?.[0].extensions.code, 'identity.duplicate')
  t.equal(dup.errors?.[0].extensions.existingContactId, ada.id)

  const contactQ = 'query ($id: ID!) { contact(id: $id) { id identities(first: 1) { nodes { kind address } pageInfo { hasNextPage endCursor } } timeline(first: 2) { nodes { body contact { id } } pageInfo { hasNextPage endCursor } } } }'
  const c = await gql(contactQ, { id: ada.id })
  t.same(c.errors, undefined)
  t.same(c.data.contact.identities.nodes, [{ kind: 'phone', address: '+14155552671' }])
  t.equal(c.data.contact.identities.pageInfo.hasNextPage, true)
  const more = await gql('query ($id: ID!, $after: String) { contact(id: $id) { identities(first: 5, after: $after) { nodes { kind } } } }', { id: ada.id, after: c.data.contact.identities.pageInfo.endCursor })
  t.same(more.data.contact.identities.nodes.map((n: any) => n.kind), ['slack:user'], 'identities paginate')
  t.same(c.data.contact.timeline.nodes.map((n: any) => n.body), ['a3', 'a2'])
  t.ok(c.data.contact.timeline.nodes.every((n: any) => n.contact.id === ada.id))
  const t2 = await gql('query ($id: ID!, $after: String) { contact(id: $id) { timeline(first: 2, after: $after) { nodes { body } pageInfo { hasNextPage } } } }', { id: ada.id, after: c.data.contact.timeline.pageInfo.endCursor })
  t.same(t2.data.contact.timeline.nodes.map((n: any) => n.body), ['a1'])
  t.equal(t2.data.contact.timeline.pageInfo.hasNextPage, false)

  const list = await gql('{ contacts(first: 10) { nodes { displayName identities { nodes { address } } } } }')
  t.same(list.errors, undefined)
  const byName = Object.fromEntries(list.data.contacts.nodes.map((n: any) => [n.displayName, n.identities.nodes.map((i: any) => i.address)]))
  t.same(byName, { Ada: ['+14155552671', 'UADA'], Bob: [] }, 'identities of each contact in a page')

  const identityId = (await rest('GET', `/v1/contacts/${ada.id}/identities`)).data.data.find((i: any) => i.kind === 'slack:user').id
  const removed = await gql('mutation ($input: RemoveIdentityInput!) { removeIdentity(input: $input) { removedIdentityId } }', { input: { contactId: ada.id, identityId } })
  t.equal(removed.data.removeIdentity.removedIdentityId, identityId)
  const again = await gql('mutation ($input: RemoveIdentityInput!) { removeIdentity(input: $input) { removedIdentityId } }', { input: { contactId: ada.id, identityId } })
  t.equal(again.errors?.[0].extensions.code, 'identity.not_found')

  // A deleted channel: its interactions stay, their channel reads as null.
  t.equal((await rest('DELETE', `/v1/channels/${note.id}`)).statusCode, 204)
  const afterDelete = await gql('query ($id: ID!) { interaction(id: $id) { body channel { id } } }', { id: made[4].id })
  t.same(afterDelete.errors, undefined)
  t.same(afterDelete.data.interaction, { body: 'a3', channel: null })
})

// A deleted contact takes its log with it from every read, so Interaction.contact is never null.
t.test('GraphQL: interactions of a deleted contact do not break a listing', async (t) => {
  const { rest, gql } = fresh()
  const gone = await createContact(rest, { displayName: 'Gone' })
  const kept = await createContact(rest, { displayName: 'Kept' })
  await rest('POST', '/v1/interactions', { body: { contactId: gone.id, direction: 'inbound', kind: 'note', body: 'from gone', occurredAt: '2024-01-01T00:00:00Z' } })
  await rest('POST', '/v1/interactions', { body: { contactId: kept.id, direction: 'inbound', kind: 'note', body: 'from kept', occurredAt: '2024-01-02T00:00:00Z' } })
  t.equal((await rest('DELETE', `/v1/contacts/${gone.id}`)).statusCode, 204)
  const res = await gql('{ interactions(first: 10) { nodes { body contact { displayName } } } }')
  t.same(res.errors, undefined, 'no error')
  t.ok(res.data?.interactions?.nodes.some((n: any) => n.body === 'from kept' && n.contact.displayName === 'Kept'), 'the live contact\'s interaction is listed')
  t.notOk(res.data?.interactions?.nodes.some((n: any) => n.body === 'from gone'), 'the deleted contact\'s interaction is not')
})
