import t from 'tap'
import { build } from './helper.js'
import { assertProblem, assertValidation } from './support/problem.js'
import { DAY, fixtures, HOUR, iso, MINUTE, mutableClock } from './support/promises/index.js'
import type { TapTest } from './support/tap.js'

// The relationship view of a contact and the attention queue, against values worked out by hand.
//
// Now is N = 2026-03-04T10:00Z; T = 2026-03-01T09:00Z. Ruth's log (notes are not talking):
//   N-100d out   N-45d out
//   T      in    T+30m out (reply: 1800 s)
//   T+1h   in  (note)
//   T+2h   in    T+3h  out (reply: 3600 s)
//   T+5h   in  (never answered)
//   T+6h   out (note)
// inbound 3, outbound 4, share 4/7; median reply 2700 s; unanswered 1 since T+5h;
// last 30 days 5, last 90 days 6; first exchange 100 days ago: 7 / (100/30) = 2.1 a month;
// last exchange T+5h, 68 hours = 2.8333 days ago.

const N = '2026-03-04T10:00:00.000Z'
const T = '2026-03-01T09:00:00.000Z'
const at = (base: string, ms: number) => iso(Date.parse(base) + ms)
const c = mutableClock(at(N, -DAY))
const { app, rest, gql, token } = await build(t, { clock: c.clock })
const f = fixtures(rest)

const ruth = await f.contact('Ruth')
const sam = await f.contact('Sam')
const una = await f.contact('Una')
const vic = await f.contact('Vic')
const nobody = await f.contact('Nobody')

// Una's promise: made a day ago, due in 12 hours, so at risk now (24-hour window).
const risky = await f.promise({ contactId: una.id, dueAt: at(N, 12 * HOUR), description: 'Send the contract' })
c.set(N)
await app.jobs.scheduler.drain()

const log = (contactId: string, direction: 'inbound' | 'outbound', occurredAt: string, kind = 'email') => f.interaction({ contactId, direction, occurredAt, kind })
await log(ruth.id, 'outbound', at(N, -100 * DAY))
await log(ruth.id, 'outbound', at(N, -45 * DAY))
await log(ruth.id, 'inbound', T)
await log(ruth.id, 'outbound', at(T, 30 * MINUTE))
await log(ruth.id, 'inbound', at(T, HOUR), 'note')
await log(ruth.id, 'inbound', at(T, 2 * HOUR), 'call')
await log(ruth.id, 'outbound', at(T, 3 * HOUR), 'call')
const ruthWaiting = await log(ruth.id, 'inbound', at(T, 5 * HOUR))
await log(ruth.id, 'outbound', at(T, 6 * HOUR), 'note')

await log(sam.id, 'inbound', at(N, -3 * HOUR))
await log(sam.id, 'outbound', at(N, -2 * HOUR))
const samWaiting = await log(sam.id, 'inbound', at(N, -30 * MINUTE))
const unaWaiting = await log(una.id, 'inbound', at(N, -61 * MINUTE), 'message')
await log(vic.id, 'inbound', at(N, -5 * HOUR), 'note')

// Promises to Ruth: kept, kept 1200 s late, broken, open. Sam's kept promise is not Ruth's.
const kept = await f.promise({ contactId: ruth.id, dueAt: c.in(3 * DAY) })
await f.keep(kept.id)
const late = await f.promise({ contactId: ruth.id, dueAt: c.in(3 * DAY) })
await f.keep(late.id, { keptAt: at(late.dueAt, 1200 * 1000) })
await f.break((await f.promise({ contactId: ruth.id, dueAt: c.in(3 * DAY) })).id)
await f.promise({ contactId: ruth.id, dueAt: c.in(10 * DAY) })
await f.keep((await f.promise({ contactId: sam.id, dueAt: c.in(3 * DAY) })).id)

const ruthPromises = {
  key: ruth.id, made: 4, kept: 1, keptLate: 1, broken: 1, open: 1, cancelled: 0,
  keptOnOriginalTerms: 2, keptAfterRenegotiation: 0, keepRate: 2 / 3, onTimeRate: 1 / 3, meanLatenessSeconds: 1200
}
const close = (tt: TapTest, got: number, want: number, label: string) => tt.ok(Math.abs(got - want) < 1e-9, `${label}: ${got} ≈ ${want}`)

t.test('GET /v1/contacts/{id}/relationship', async (t) => {
  const res = await rest('GET', `/v1/contacts/${ruth.id}/relationship`)
  t.equal(res.statusCode, 200, res.body)
  const r = res.data
  t.equal(r.contactId, ruth.id)
  t.same(r.promises, ruthPromises, 'reliability of the promises made to Ruth')
  t.same(r.responsiveness, { medianReplySeconds: 2700, unanswered: 1, oldestUnansweredAt: at(T, 5 * HOUR) }, 'responsiveness')
  t.same(r.balance, { inbound: 3, outbound: 4, outboundShare: 4 / 7 }, 'balance: notes do not count')
  const { daysSinceLastInteraction, ...recency } = r.recency
  t.same(recency, { lastInteractionAt: at(T, 5 * HOUR), lastInboundAt: at(T, 5 * HOUR), lastOutboundAt: at(T, 3 * HOUR) }, 'recency: the trailing note is not the last exchange')
  close(t, daysSinceLastInteraction, 68 / 24, 'daysSinceLastInteraction')
  t.equal(r.frequency.last30Days, 5)
  t.equal(r.frequency.last90Days, 6)
  close(t, r.frequency.perMonth, 2.1, 'perMonth')

  const empty = await rest('GET', `/v1/contacts/${nobody.id}/relationship`)
  t.same(empty.data, {
    contactId: nobody.id,
    promises: { key: nobody.id, made: 0, kept: 0, keptLate: 0, broken: 0, open: 0, cancelled: 0, keptOnOriginalTerms: 0, keptAfterRenegotiation: 0, keepRate: null, onTimeRate: null, meanLatenessSeconds: null },
    responsiveness: { medianReplySeconds: null, unanswered: 0, oldestUnansweredAt: null },
    balance: { inbound: 0, outbound: 0, outboundShare: null },
    recency: { lastInteractionAt: null, lastInboundAt: null, lastOutboundAt: null, daysSinceLastInteraction: null },
    frequency: { last30Days: 0, last90Days: 0, perMonth: null }
  }, 'a contact with no history: zeros and nulls')

  const notesOnly = (await rest('GET', `/v1/contacts/${vic.id}/relationship`)).data
  t.same([notesOnly.balance, notesOnly.responsiveness.unanswered, notesOnly.recency.lastInteractionAt], [{ inbound: 0, outbound: 0, outboundShare: null }, 0, null], 'only a note: no exchange at all')

  const samView = (await rest('GET', `/v1/contacts/${sam.id}/relationship`)).data
  t.same(samView.responsiveness, { medianReplySeconds: 3600, unanswered: 1, oldestUnansweredAt: at(N, -30 * MINUTE) })
  t.match(samView.promises, { made: 1, kept: 1, keepRate: 1, onTimeRate: 1 })

  assertProblem(t, await rest('GET', '/v1/contacts/con_01jq0000000000000000000000/relationship'), 404, 'contact.not_found', 'unknown contact')
  assertProblem(t, await rest('GET', `/v1/contacts/${ruth.id}/relationship`, { token: token({ scopes: ['promises:read'] }) }), 403, 'auth.forbidden', 'needs contacts:read')
})

t.test('GraphQL Contact.relationship', async (t) => {
  const q = `query ($id: ID!) { contact(id: $id) { relationship {
    promises { key made kept keptLate broken open cancelled keptOnOriginalTerms keptAfterRenegotiation keepRate onTimeRate meanLatenessSeconds }
    responsiveness { medianReplySeconds unanswered oldestUnansweredAt }
    balance { inbound outbound outboundShare }
    recency { lastInteractionAt lastInboundAt lastOutboundAt daysSinceLastInteraction }
    frequency { last30Days last90Days perMonth } } } }`
  const g = await gql(q, { id: ruth.id })
  t.same(g.errors, undefined)
  const { contactId, ...viaRest } = (await rest('GET', `/v1/contacts/${ruth.id}/relationship`)).data
  t.equal(contactId, ruth.id)
  t.same(g.data.contact.relationship, viaRest, 'the same view as REST')
  t.same(g.data.contact.relationship.promises, ruthPromises)
})

t.test('the attention queue: promises at risk, inbound messages waiting past the threshold', async (t) => {
  const res = await rest('GET', '/v1/attention?unansweredForMinutes=60')
  t.equal(res.statusCode, 200, res.body)
  t.same(res.data.promises.map((p: any) => [p.id, p.status, p.contactId]), [[risky.id, 'at_risk', una.id]], 'only the at-risk promise')
  t.same(res.data.unanswered, [
    { interactionId: ruthWaiting.id, contactId: ruth.id, occurredAt: at(T, 5 * HOUR), waitingSeconds: 68 * 3600 },
    { interactionId: unaWaiting.id, contactId: una.id, occurredAt: at(N, -61 * MINUTE), waitingSeconds: 61 * 60 }
  ], 'oldest first; Sam\'s 30-minute-old message and answered ones are not there, nor notes')

  const all = (await rest('GET', '/v1/attention?unansweredForMinutes=0')).data
  t.same(all.unanswered.map((u: any) => u.interactionId), [ruthWaiting.id, unaWaiting.id, samWaiting.id], 'threshold 0: every unanswered message')
  const daily = (await rest('GET', '/v1/attention')).data
  t.same(daily.unanswered.map((u: any) => u.interactionId), [ruthWaiting.id], 'default threshold: a day')
  const one = (await rest('GET', '/v1/attention?unansweredForMinutes=0&limit=1')).data
  t.same(one.unanswered.map((u: any) => u.interactionId), [ruthWaiting.id], 'limit')

  // Answering removes it; keeping the promise removes that.
  await log(una.id, 'outbound', at(N, -MINUTE))
  await f.keep(risky.id)
  const after = (await rest('GET', '/v1/attention?unansweredForMinutes=60')).data
  t.same(after.promises, [])
  t.same(after.unanswered.map((u: any) => u.interactionId), [ruthWaiting.id])

  assertValidation(t, await rest('GET', '/v1/attention?unansweredForMinutes=-1'), [{ pointer: '/querystring/unansweredForMinutes' }], 'negative threshold')
  assertValidation(t, await rest('GET', '/v1/attention?limit=0'), [{ pointer: '/querystring/limit' }], 'limit 0')

  const g = await gql('query ($m: Int) { attention(unansweredForMinutes: $m) { promises { nodes { id status } } unanswered { nodes { interactionId contactId occurredAt waitingSeconds } } } }', { m: 0 })
  t.same(g.errors, undefined)
  t.same(g.data.attention, {
    promises: { nodes: [] },
    unanswered: {
      nodes: [
        { interactionId: ruthWaiting.id, contactId: ruth.id, occurredAt: at(T, 5 * HOUR), waitingSeconds: 68 * 3600 },
        { interactionId: samWaiting.id, contactId: sam.id, occurredAt: at(N, -30 * MINUTE), waitingSeconds: 30 * 60 }
      ]
    }
  })
})

t.test('the attention queue over GraphQL lists at-risk promises', async (t) => {
  const who = await f.contact('Soon')
  const p = await f.promise({ contactId: who.id, dueAt: c.in(2 * HOUR) })
  await app.jobs.scheduler.drain()
  const g = await gql('{ attention(unansweredForMinutes: 60) { promises { nodes { id status contact { id } } } } }')
  t.same(g.errors, undefined)
  t.same(g.data.attention.promises.nodes, [{ id: p.id, status: 'AT_RISK', contact: { id: who.id } }], 'due in two hours: at risk')
})

t.test('tenancy: another workspace sees none of it', async (t) => {
  const globex = token({ workspace: 'globex' })
  assertProblem(t, await rest('GET', `/v1/contacts/${ruth.id}/relationship`, { token: globex }), 404, 'contact.not_found', 'acme\'s contact from globex')
  const g = await gql('query ($id: ID!) { contact(id: $id) { relationship { balance { inbound } } } }', { id: ruth.id }, { token: globex })
  t.equal(g.data.contact, null)
  t.equal(g.errors?.[0].extensions.code, 'contact.not_found')
  t.same((await rest('GET', '/v1/attention?unansweredForMinutes=0', { token: globex })).data, { promises: [], unanswered: [] }, 'an empty queue')
  const gAttention = await gql('{ attention(unansweredForMinutes: 0) { promises { totalCount nodes { id } } unanswered { totalCount nodes { interactionId } } } }', {}, { token: globex })
  t.same(gAttention.data.attention, { promises: { totalCount: 0, nodes: [] }, unanswered: { totalCount: 0, nodes: [] } })

  const fg = fixtures(rest, globex)
  const own = await fg.contact('Globex customer')
  const waiting = await fg.interaction({ contactId: own.id, direction: 'inbound', occurredAt: at(N, -2 * HOUR) })
  const view = (await rest('GET', `/v1/contacts/${own.id}/relationship`, { token: globex })).data
  t.match(view, { balance: { inbound: 1, outbound: 0 }, promises: { made: 0 }, responsiveness: { unanswered: 1 } }, 'globex sees only its own')
  t.same((await rest('GET', '/v1/attention?unansweredForMinutes=60', { token: globex })).data.unanswered.map((u: any) => u.interactionId), [waiting.id])
  t.notOk((await rest('GET', '/v1/attention?unansweredForMinutes=0')).data.unanswered.some((u: any) => u.interactionId === waiting.id), 'and acme none of globex')
})
