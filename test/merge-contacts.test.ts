import t from 'tap'
import { build } from './helper.js'
import {
  allContacts, allInteractions, basicAuth, createChannel, createContact, inbound, PUBLIC_URL, publicInboundUrl, twilioSignature, workspaces
} from './support/channels/index.js'
import { assertProblem, assertValidation } from './support/problem.js'

// One app (one fresh database) for the file; each test works in workspaces of its own.
const shared = await build(t, { config: { publicUrl: PUBLIC_URL } })
const fresh = workspaces(shared)

const TG = { botToken: '123456:ABC-DEF', secretToken: 'tg-secret' }
const sorted = (xs: string[]) => [...xs].sort()

/**
 * Two contacts for the same person, each with identities and interactions on several channels
 * (logged ones and inbound provider messages).
 */
async function duplicates (ctx: ReturnType<typeof fresh>) {
  const { rest, app } = ctx
  const tg = await createChannel(rest, 'telegram', TG)
  const phone = await createChannel(rest, 'phone', {})
  const survivor = await createContact(rest, { displayName: 'Ada Lovelace', emails: ['ada@example.com'] })
  const other = await createContact(rest, { displayName: 'A. Lovelace', phones: ['+14155552671'] })
  const add = async (contactId: string, kind: string, address: string) => (await rest('POST', `/v1/contacts/${contactId}/identities`, { body: { kind, address } })).data.id as string
  const survivorIdentities = [await add(survivor.id, 'slack:user', 'UADA')]
  const otherIdentities = [await add(other.id, 'telegram:user', '1815'), await add(other.id, 'phone', '+14155552671')]

  const logAt = async (contactId: string, body: string, at: string) =>
    (await rest('POST', '/v1/interactions', { body: { contactId, channelId: phone.id, direction: 'outbound', kind: 'call', body, occurredAt: at } })).data.id as string
  const tgMessage = async (id: number, text: string, date: number) => {
    const payload = JSON.stringify({ update_id: id, message: { message_id: id, from: { id: 1815, first_name: 'Ada' }, chat: { id: 1815, type: 'private' }, date, text } })
    const res = await inbound(rest, tg.id, { payload, headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': TG.secretToken } })
    if (res.statusCode !== 200) throw new Error(`inbound ${res.statusCode} ${res.body}`)
    await app.jobs.inbox.drain()
  }
  const survivorInteractions = [await logAt(survivor.id, 'call with Ada', '2024-02-01T10:00:00Z')]
  const otherInteractions = [await logAt(other.id, 'call with A.', '2024-02-02T10:00:00Z')]
  await tgMessage(1, 'telegram from A.', Date.UTC(2024, 1, 3, 10) / 1000)
  otherInteractions.push((await allInteractions(rest, `channelId=${tg.id}`))[0].id)
  return { tg, phone, survivor, other, survivorIdentities, otherIdentities, survivorInteractions, otherInteractions, tgMessage }
}

const identityIds = async (rest: ReturnType<typeof fresh>['rest'], contactId: string) => sorted((await rest('GET', `/v1/contacts/${contactId}/identities`)).data.data.map((i: any) => i.id))
const timelineIds = async (rest: ReturnType<typeof fresh>['rest'], contactId: string) => (await rest('GET', `/v1/contacts/${contactId}/timeline?limit=100`)).data.data.map((i: any) => i.id)

t.test('merge over REST moves identities and interactions; the merged id keeps resolving; unmerge restores exactly', async (t) => {
  const ctx = fresh()
  const { rest } = ctx
  const d = await duplicates(ctx)
  t.same(await timelineIds(rest, d.other.id), [...d.otherInteractions].reverse(), 'before: the other contact\'s own timeline')

  const res = await rest('POST', `/v1/contacts/${d.survivor.id}/merge`, { body: { contactId: d.other.id } })
  t.equal(res.statusCode, 200, res.body)
  const merge = res.data
  t.match(merge.id, /^mrg_/)
  t.match(merge, { survivorId: d.survivor.id, mergedId: d.other.id, actor: 'tester', undoneAt: null })
  t.same(sorted(merge.moved.identities), sorted(d.otherIdentities), 'the merge records the identities it moved')
  t.same(sorted(merge.moved.interactions), sorted(d.otherInteractions), 'and the interactions')

  const viaOld = await rest('GET', `/v1/contacts/${d.other.id}`)
  t.equal(viaOld.statusCode, 200, 'the merged id still resolves')
  t.equal(viaOld.data.id, d.survivor.id, 'to the survivor')
  t.same((await allContacts(rest)).map((c) => c.id), [d.survivor.id], 'the list no longer shows the merged contact')
  t.same(await identityIds(rest, d.survivor.id), sorted([...d.survivorIdentities, ...d.otherIdentities]), 'identities moved')
  const merged = await timelineIds(rest, d.survivor.id)
  t.same(sorted(merged), sorted([...d.survivorInteractions, ...d.otherInteractions]), 'the timeline moved')
  t.same((await rest('GET', `/v1/contacts/${d.survivor.id}/timeline`)).data.data.map((i: any) => i.body), ['telegram from A.', 'call with A.', 'call with Ada'], 'newest first')
  t.same(await timelineIds(rest, d.other.id), merged, 'the merged id\'s timeline is the survivor\'s')
  t.same((await allInteractions(rest, `contactId=${d.other.id}`)).map((i) => i.id), merged, 'filtering by the merged id finds the survivor\'s interactions')
  t.ok((await allInteractions(rest)).every((i) => i.contactId === d.survivor.id), 'every interaction now names the survivor')

  // The moved identity now routes new inbound messages to the survivor.
  await d.tgMessage(2, 'telegram after merge', Date.UTC(2024, 1, 4, 10) / 1000)
  const afterMerge = (await allInteractions(rest, `channelId=${d.tg.id}`)).find((i) => i.body === 'telegram after merge')
  t.equal(afterMerge.contactId, d.survivor.id, 'a message from a moved identity lands on the survivor')
  t.same((await allContacts(rest)).length, 1, 'and creates no contact')

  const history = await rest('GET', `/v1/contacts/${d.survivor.id}/merges`)
  t.same(history.data.data.map((m: any) => m.id), [merge.id])
  t.same((await rest('GET', `/v1/contacts/${d.other.id}/merges`)).data.data.map((m: any) => m.id), [merge.id], 'also through the merged id')

  const undo = await rest('POST', `/v1/contacts/${d.survivor.id}/unmerge`, { body: { mergeId: merge.id } })
  t.equal(undo.statusCode, 200, undo.body)
  t.equal(undo.data.id, merge.id)
  t.ok(Date.parse(undo.data.undoneAt), 'undoneAt is set')
  const back = await rest('GET', `/v1/contacts/${d.other.id}`)
  t.equal(back.data.id, d.other.id, 'the merged contact is itself again')
  t.equal(back.data.displayName, 'A. Lovelace')
  t.same(sorted((await allContacts(rest)).map((c) => c.id)), sorted([d.survivor.id, d.other.id]), 'both are listed')
  t.same(await identityIds(rest, d.other.id), sorted(d.otherIdentities), 'its identities came back')
  t.same(await identityIds(rest, d.survivor.id), sorted(d.survivorIdentities), 'the survivor keeps only its own')
  t.same(await timelineIds(rest, d.other.id), [...d.otherInteractions].reverse(), 'its timeline came back exactly')
  t.same(await timelineIds(rest, d.survivor.id), [afterMerge.id, ...d.survivorInteractions], 'what arrived while merged stays with the survivor')
  t.same((await rest('GET', `/v1/contacts/${d.survivor.id}/merges`)).data.data.map((m: any) => [m.id, m.undoneAt !== null]), [[merge.id, true]], 'the history shows the undo')

  assertProblem(t, await rest('POST', `/v1/contacts/${d.survivor.id}/unmerge`, { body: { mergeId: merge.id } }), 409, 'merge.already_undone')
  // New messages from the restored identity go to the restored contact again.
  await d.tgMessage(3, 'telegram after unmerge', Date.UTC(2024, 1, 5, 10) / 1000)
  t.equal((await allInteractions(rest, `channelId=${d.tg.id}`)).find((i) => i.body === 'telegram after unmerge').contactId, d.other.id)
})

t.test('refused merges: into itself, through an alias, unknown ids, out-of-order unmerge, validation', async (t) => {
  const { rest } = fresh()
  const a = await createContact(rest, { displayName: 'A' })
  const b = await createContact(rest, { displayName: 'B' })
  const c = await createContact(rest, { displayName: 'C' })

  assertProblem(t, await rest('POST', `/v1/contacts/${a.id}/merge`, { body: { contactId: a.id } }), 409, 'contact.merge_invalid', 'merge into itself')
  assertProblem(t, await rest('POST', `/v1/contacts/${a.id}/merge`, { body: { contactId: 'con_01hzzzzzzzzzzzzzzzzzzzzzzz' } }), 404, 'contact.not_found', 'unknown other')
  assertProblem(t, await rest('POST', '/v1/contacts/con_01hzzzzzzzzzzzzzzzzzzzzzzz/merge', { body: { contactId: a.id } }), 404, 'contact.not_found', 'unknown survivor')
  assertValidation(t, await rest('POST', `/v1/contacts/${a.id}/merge`, { body: {} }), [{ pointer: '/body/contactId' }], 'contactId required')
  assertValidation(t, await rest('POST', `/v1/contacts/${a.id}/unmerge`, { body: { mergeId: 'x', extra: 1 } }), [{ pointer: '/body/extra' }], 'unknown field')
  t.equal((await allContacts(rest)).length, 3, 'nothing merged so far')

  const ba = (await rest('POST', `/v1/contacts/${a.id}/merge`, { body: { contactId: b.id } })).data
  assertProblem(t, await rest('POST', `/v1/contacts/${a.id}/merge`, { body: { contactId: b.id } }), 409, 'contact.merge_invalid', 'b now is a; merging again is a merge into itself')
  assertProblem(t, await rest('POST', `/v1/contacts/${b.id}/merge`, { body: { contactId: a.id } }), 409, 'contact.merge_invalid', 'the alias as survivor')
  const ac = (await rest('POST', `/v1/contacts/${c.id}/merge`, { body: { contactId: a.id } })).data
  t.equal((await rest('GET', `/v1/contacts/${b.id}`)).data.id, c.id, 'aliases chain: b -> a -> c')
  assertProblem(t, await rest('POST', `/v1/contacts/${a.id}/unmerge`, { body: { mergeId: ba.id } }), 409, 'contact.merge_invalid', 'undoing the older merge first')
  assertProblem(t, await rest('POST', `/v1/contacts/${c.id}/unmerge`, { body: { mergeId: 'mrg_01hzzzzzzzzzzzzzzzzzzzzzzz' } }), 404, 'merge.not_found', 'unknown merge')
  assertProblem(t, await rest('POST', `/v1/contacts/${b.id}/unmerge`, { body: { mergeId: ac.id } }), 404, 'merge.not_found', 'a merge the contact took no part in')
  t.equal((await rest('POST', `/v1/contacts/${c.id}/unmerge`, { body: { mergeId: ac.id } })).statusCode, 200, 'newest first')
  t.equal((await rest('POST', `/v1/contacts/${a.id}/unmerge`, { body: { mergeId: ba.id } })).statusCode, 200, 'then the older one')
  t.same(sorted((await allContacts(rest)).map((x) => x.id)), sorted([a.id, b.id, c.id]), 'all three are back')
})

t.test('scopes and tenancy for merges', async (t) => {
  const ctx = fresh()
  const { rest, gql, token, workspace } = ctx
  const d = await duplicates(ctx)
  const reader = token({ scopes: ['contacts:read', 'interactions:read'] })
  const other = token({ workspace: `${workspace}-other` })

  t.equal(assertProblem(t, await rest('POST', `/v1/contacts/${d.survivor.id}/merge`, { token: reader, body: { contactId: d.other.id } }), 403, 'auth.forbidden').requiredScope, 'contacts:write')
  t.equal(assertProblem(t, await rest('GET', `/v1/contacts/${d.survivor.id}/merges`, { token: token({ scopes: ['interactions:read'] }) }), 403, 'auth.forbidden').requiredScope, 'contacts:read')
  const gm = await gql('mutation ($s: ID!, $m: ID!) { mergeContacts(input: { survivorId: $s, mergedId: $m }) { merge { id } } }', { s: d.survivor.id, m: d.other.id }, { token: reader })
  t.equal(gm.errors?.[0].extensions.requiredScope, 'contacts:write')

  assertProblem(t, await rest('POST', `/v1/contacts/${d.survivor.id}/merge`, { token: other, body: { contactId: d.other.id } }), 404, 'contact.not_found', 'merge from another workspace')
  const mine = await createContact(rest, { displayName: 'Theirs' }, other)
  assertProblem(t, await rest('POST', `/v1/contacts/${mine.id}/merge`, { token: other, body: { contactId: d.other.id } }), 404, 'contact.not_found', 'pulling another workspace\'s contact in')
  const gx = await gql('mutation ($s: ID!, $m: ID!) { mergeContacts(input: { survivorId: $s, mergedId: $m }) { merge { id } } }', { s: mine.id, m: d.other.id }, { token: other })
  t.equal(gx.errors?.[0].extensions.code, 'contact.not_found')
  assertProblem(t, await rest('GET', `/v1/contacts/${d.survivor.id}/merges`, { token: other }), 404, 'contact.not_found', 'merge history from another workspace')

  const merge = (await rest('POST', `/v1/contacts/${d.survivor.id}/merge`, { body: { contactId: d.other.id } })).data
  assertProblem(t, await rest('POST', `/v1/contacts/${d.survivor.id}/unmerge`, { token: other, body: { mergeId: merge.id } }), 404, 'merge.not_found', 'unmerge from another workspace')
  t.equal((await rest('GET', `/v1/contacts/${d.other.id}`)).data.id, d.survivor.id, 'the merge still stands')
  t.equal((await rest('GET', `/v1/contacts/${d.other.id}`, { token: other })).statusCode, 404, 'and the alias does not resolve elsewhere')
  t.same((await allContacts(rest, other)).map((c) => c.id), [mine.id], 'the other workspace is unchanged')
})

t.test('GraphQL mergeContacts / unmergeContacts, with Contact.merges, identities, timeline and Interaction.contact', async (t) => {
  const ctx = fresh()
  const { rest, gql } = ctx
  const d = await duplicates(ctx)
  const mergeM = `mutation ($input: MergeContactsInput!) { mergeContacts(input: $input) {
    merge { id survivorId mergedId movedIdentityIds movedInteractionIds actor mergedAt undoneAt }
    contact { id displayName identities { nodes { id } } timeline(first: 10) { nodes { id contact { id } } } merges { nodes { id } } }
  } }`
  const res = await gql(mergeM, { input: { survivorId: d.survivor.id, mergedId: d.other.id } })
  t.same(res.errors, undefined)
  const { merge, contact } = res.data.mergeContacts
  t.match(merge, { survivorId: d.survivor.id, mergedId: d.other.id, actor: 'tester', undoneAt: null })
  t.same(sorted(merge.movedIdentityIds), sorted(d.otherIdentities))
  t.same(sorted(merge.movedInteractionIds), sorted(d.otherInteractions))
  t.equal(contact.id, d.survivor.id, 'the payload contact is the survivor')
  t.same(sorted(contact.identities.nodes.map((n: any) => n.id)), sorted([...d.survivorIdentities, ...d.otherIdentities]))
  t.same(sorted(contact.timeline.nodes.map((n: any) => n.id)), sorted([...d.survivorInteractions, ...d.otherInteractions]))
  t.ok(contact.timeline.nodes.every((n: any) => n.contact.id === d.survivor.id), 'Interaction.contact is the survivor')
  t.same(contact.merges.nodes.map((m: any) => m.id), [merge.id], 'Contact.merges')

  const alias = await gql('query ($id: ID!) { contact(id: $id) { id } }', { id: d.other.id })
  t.equal(alias.data.contact.id, d.survivor.id, 'contact(mergedId) resolves to the survivor')
  const moved = await gql('query ($id: ID!) { interaction(id: $id) { contact { id } } }', { id: d.otherInteractions[0] })
  t.equal(moved.data.interaction.contact.id, d.survivor.id)
  t.same((await gql('{ contacts { nodes { id } } }')).data.contacts.nodes.map((n: any) => n.id), [d.survivor.id])

  const self = await gql(mergeM, { input: { survivorId: d.survivor.id, mergedId: d.survivor.id } })
  t.equal(self.errors?.[0].extensions.code, 'contact.merge_invalid', 'merging into itself')

  const unmergeM = 'mutation ($input: UnmergeContactsInput!) { unmergeContacts(input: $input) { merge { id undoneAt } contact { id displayName identities { nodes { id } } timeline { nodes { id } } } } }'
  const undone = await gql(unmergeM, { input: { contactId: d.survivor.id, mergeId: merge.id } })
  t.same(undone.errors, undefined)
  t.equal(undone.data.unmergeContacts.merge.id, merge.id)
  t.ok(undone.data.unmergeContacts.merge.undoneAt)
  const restored = undone.data.unmergeContacts.contact
  t.equal(restored.id, d.other.id, 'the payload contact is the restored one')
  t.same(sorted(restored.identities.nodes.map((n: any) => n.id)), sorted(d.otherIdentities))
  t.same(restored.timeline.nodes.map((n: any) => n.id), [...d.otherInteractions].reverse())
  const back = await gql('query ($id: ID!) { interaction(id: $id) { contact { id } } }', { id: d.otherInteractions[0] })
  t.equal(back.data.interaction.contact.id, d.other.id, 'Interaction.contact follows the unmerge')
  t.same(await timelineIds(rest, d.survivor.id), d.survivorInteractions, 'the survivor has only its own again')

  const twice = await gql(unmergeM, { input: { contactId: d.survivor.id, mergeId: merge.id } })
  t.equal(twice.errors?.[0].extensions.code, 'merge.already_undone')
  const history = await gql('query ($id: ID!) { contact(id: $id) { merges { nodes { id undoneAt } } } }', { id: d.other.id })
  t.equal(history.data.contact.merges.nodes.length, 1)
  t.ok(history.data.contact.merges.nodes[0].undoneAt, 'the merged contact\'s history shows the undo')
})

t.test('after a merge, senders matched by the merged contact\'s phone or e-mail land on the survivor', async (t) => {
  const ctx = fresh()
  const { rest, app } = ctx
  const sms = await createChannel(rest, 'sms', { accountSid: 'AC0123456789abcdef0123456789abcdef', authToken: 'tw-token', from: '+14155550100' })
  const mail = await createChannel(rest, 'email', { inboundFormat: 'postmark', basicAuthUser: 'pm', basicAuthPassword: 'pm-pass' })
  // No identities: only the contacts' own phones and e-mails can match.
  const survivor = await createContact(rest, { displayName: 'Grace Hopper', emails: ['grace@navy.example'] })
  const other = await createContact(rest, { displayName: 'G. Hopper', phones: ['+14155552671'], emails: ['g.hopper@home.example'] })
  t.equal((await rest('POST', `/v1/contacts/${survivor.id}/merge`, { body: { contactId: other.id } })).statusCode, 200)

  const form = 'MessageSid=SMmerged1&From=%2B14155552671&To=%2B14155550100&Body=Hello+after+the+merge&SmsStatus=received'
  const smsRes = await inbound(rest, sms.id, { payload: form, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature('tw-token', publicInboundUrl(sms.id), form) } })
  t.equal(smsRes.statusCode, 200, smsRes.body)
  const email = JSON.stringify({ FromFull: { Email: 'G.Hopper@home.example', Name: 'Grace' }, Subject: 'Hi', TextBody: 'Mail after the merge', MessageID: 'pm-merged-1', Date: '2024-05-29T10:00:00Z' })
  const mailRes = await inbound(rest, mail.id, { payload: email, headers: { 'content-type': 'application/json', authorization: basicAuth('pm', 'pm-pass') } })
  t.equal(mailRes.statusCode, 200, mailRes.body)
  await app.jobs.inbox.drain()

  const [bySms] = await allInteractions(rest, `channelId=${sms.id}`)
  t.equal(bySms?.contactId, survivor.id, 'the merged contact\'s phone number finds the survivor')
  const [byMail] = await allInteractions(rest, `channelId=${mail.id}`)
  t.equal(byMail?.contactId, survivor.id, 'the merged contact\'s e-mail finds the survivor')
  t.same((await allContacts(rest)).map((c) => c.id), [survivor.id], 'no duplicate contact was created')
  t.same((await rest('GET', `/v1/contacts/${survivor.id}/identities`)).data.data.map((i: any) => [i.kind, i.address]).sort(),
    [['email', 'g.hopper@home.example'], ['phone', '+14155552671']], 'the matched addresses became the survivor\'s identities')
})
