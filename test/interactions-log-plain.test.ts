import t from 'tap'
import { build } from './helper.js'
import { allInteractions, createContact, eventually, workspaces } from './support/channels/index.js'
import { assertProblem } from './support/problem.js'

// An inbound entry on no channel (the commonest write: a note, a call, a letter) is one insert
// that fails unless its contact id is live, sent with its event and COMMIT in one round trip
// (interactions.service.ts logPlainEntry). What a client sees must be exactly what the usual
// path gives: the same representation as a read, the same event, the merge alias followed, and
// nothing written at all for a contact that is gone or belongs to another workspace.

const statements: string[] = []
const shared = await build(t, { onQuery: (q) => statements.push(q) })
const fresh = workspaces(shared, 'plain')
t.setTimeout(300_000)

const LOG = 'mutation ($input: LogInteractionInput!) { logInteraction(input: $input) { interaction { id contactId direction kind body occurredAt createdAt updatedAt } } }'

type Ctx = ReturnType<typeof fresh>

/** The workspace's interaction events, once the marker entry (logged last) is readable. */
async function eventsUpTo (ctx: Ctx, markerId: string): Promise<Array<{ type: string, subjectId: string, data: Record<string, unknown> }>> {
  return eventually(async () => {
    const res = await ctx.rest('GET', '/v1/events?limit=100&types=interaction.received,interaction.created')
    if (res.statusCode !== 200) throw new Error(res.body)
    const events = res.data.data as Array<{ type: string, subjectId: string, data: Record<string, unknown> }>
    return events.some((e) => e.subjectId === markerId) ? events : undefined
  }, { timeoutMs: 120_000, what: 'the marker event' })
}

t.test('a plain entry answers what a read gives, and its event carries the same representation', async (t) => {
  const ctx = fresh()
  const ada = await createContact(ctx.rest, { displayName: 'Ada' })
  statements.length = 0
  const res = await ctx.rest('POST', '/v1/interactions', { body: { contactId: ada.id, direction: 'inbound', kind: 'note', body: 'Prefers mornings', occurredAt: '2026-03-01T10:00:00.123456+02:00' } })
  t.equal(res.statusCode, 201, res.body)
  const logged = res.data
  t.match(logged, { contactId: ada.id, direction: 'inbound', kind: 'note', body: 'Prefers mornings', occurredAt: '2026-03-01T08:00:00.123Z', channelId: null, status: null, authorId: null, attachments: [] })
  t.equal(logged.createdAt, logged.updatedAt)
  const contactReads = statements.filter((q) => /^select\b/i.test(q.trim()) && /"contacts"/.test(q))
  t.same(contactReads, [], 'the contact is checked inside the insert, not read before it')
  t.equal(statements.filter((q) => /^insert into "interactions"/i.test(q.trim())).length, 1, 'one insert')

  const read = await ctx.rest('GET', `/v1/interactions/${logged.id}`)
  t.same(read.data, logged, 'a read gives back exactly the answer (timestamps included)')
  t.same((await ctx.rest('GET', `/v1/contacts/${ada.id}/timeline`)).data.data.map((i: { id: string }) => i.id), [logged.id], 'on the timeline')

  const events = await eventsUpTo(ctx, logged.id)
  t.same(events.map((e) => [e.type, e.subjectId]), [['interaction.received', logged.id]], 'one interaction.received event')
  t.same(events[0].data, logged, 'the event carries the REST representation')

  const viaGraph = await ctx.gql(LOG, { input: { contactId: ada.id, direction: 'INBOUND', kind: 'CALL', body: 'Called back' } })
  t.notOk(viaGraph.errors, JSON.stringify(viaGraph.errors))
  const node = viaGraph.data.logInteraction.interaction
  t.match(node, { contactId: ada.id, direction: 'INBOUND', kind: 'CALL', body: 'Called back' })
  const readBack = (await ctx.rest('GET', `/v1/interactions/${node.id}`)).data
  t.same([readBack.createdAt, readBack.occurredAt], [node.createdAt, node.occurredAt], 'GraphQL answers the stored timestamps too')
})

t.test('a merged contact\'s old id logs on the survivor', async (t) => {
  const ctx = fresh()
  const survivor = await createContact(ctx.rest, { displayName: 'Grace Hopper' })
  const old = await createContact(ctx.rest, { displayName: 'G. Hopper' })
  const merge = await ctx.rest('POST', `/v1/contacts/${survivor.id}/merge`, { body: { contactId: old.id } })
  t.equal(merge.statusCode, 200, merge.body)

  const res = await ctx.rest('POST', '/v1/interactions', { body: { contactId: old.id, direction: 'inbound', kind: 'mail', subject: 'Letter' } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.data.contactId, survivor.id, 'REST: on the survivor')
  const g = await ctx.gql(LOG, { input: { contactId: old.id, direction: 'INBOUND', kind: 'NOTE', body: 'via the old id' } })
  t.equal(g.data?.logInteraction.interaction.contactId, survivor.id, 'GraphQL: on the survivor')

  const events = await eventsUpTo(ctx, g.data.logInteraction.interaction.id)
  t.same(events.map((e) => e.subjectId).sort(), [res.data.id, g.data.logInteraction.interaction.id].sort(), 'one event per entry, none for the attempt on the merged id')
  t.ok(events.every((e) => e.data.contactId === survivor.id))
})

t.test('a deleted, unknown or foreign contact: 404 over REST and GraphQL, and nothing written', async (t) => {
  const ctx = fresh()
  const other = fresh()
  const gone = await createContact(ctx.rest, { displayName: 'Gone' })
  t.equal((await ctx.rest('DELETE', `/v1/contacts/${gone.id}`)).statusCode, 204)
  const foreign = await createContact(other.rest, { displayName: 'Someone else\'s' })
  const unknown = 'con_01hzzzzzzzzzzzzzzzzzzzzzzz'

  for (const [label, id] of [['deleted', gone.id], ['unknown', unknown], ['another workspace\'s', foreign.id]]) {
    assertProblem(t, await ctx.rest('POST', '/v1/interactions', { body: { contactId: id, direction: 'inbound', kind: 'note', body: 'lost?' } }), 404, 'contact.not_found', `REST, ${label} contact`)
    const g = await ctx.gql(LOG, { input: { contactId: id, direction: 'INBOUND', kind: 'NOTE', body: 'lost?' } })
    t.equal(g.errors?.[0]?.extensions?.code, 'contact.not_found', `GraphQL, ${label} contact`)
  }

  const here = await createContact(ctx.rest, { displayName: 'Here' })
  const marker = (await ctx.rest('POST', '/v1/interactions', { body: { contactId: here.id, direction: 'inbound', kind: 'note', body: 'marker' } })).data
  t.same((await eventsUpTo(ctx, marker.id)).map((e) => e.subjectId), [marker.id], 'no event but the marker\'s in this workspace')
  t.same((await allInteractions(ctx.rest)).map((i) => i.body), ['marker'], 'no interaction but the marker')
  t.same(await allInteractions(other.rest), [], 'nothing in the other workspace either')
  const otherEvents = await other.rest('GET', '/v1/events?types=interaction.received')
  t.same(otherEvents.data.data, [], 'and no event there')
})
