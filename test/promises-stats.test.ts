import t from 'tap'
import { build } from './helper.js'
import { assertValidation } from './support/problem.js'
import { DAY, fixtures, iso, mutableClock, type PromiseDto } from './support/promises/index.js'

// GET /v1/promises/stats against numbers worked out by hand from a known set of ten promises.
//
//       contact promisor kind      channel  made at  outcome
//  P1   C1      alice    callback  phone    T0       kept on time
//  P2   C1      alice    callback  phone    T0       kept 600 s late
//  P3   C1      bob      quote     -        T0       broken
//  P4   C2      alice    quote     meeting  T0       renegotiated, then kept on time
//  P5   C2      bob      callback  meeting  T0       renegotiated, then kept 1800 s after the new date
//  P6   C2      bob      quote     -        T1       cancelled
//  P7   C3      alice    callback  phone    T1       open
//  P8   C3      bob      quote     phone    T1       renegotiated, still open
//  P9   C3      alice    quote     -        T1       broken
//  P10  C1      bob      callback  -        T1       kept 3600 s late
//
// keepRate = (kept + keptLate) / (kept + keptLate + broken); onTimeRate = kept / (same);
// meanLatenessSeconds over the promises kept late, against the due date in force.

const T0 = '2026-03-04T10:00:00.000Z'
const T1 = '2026-03-05T10:00:00.000Z'
const c = mutableClock(T0)
const { rest, gql, token } = await build(t, { clock: c.clock })
const f = fixtures(rest)
const alice = token({ sub: 'alice' })
const bob = token({ sub: 'bob' })
const plus = (d: string, ms: number) => iso(Date.parse(d) + ms)

const C1 = await f.contact('C1')
const C2 = await f.contact('C2')
const C3 = await f.contact('C3')
const phone = await f.channel('phone')
const meeting = await f.channel('meeting')
const onPhone1 = await f.interaction({ contactId: C1.id, direction: 'inbound', kind: 'call', channelId: phone.id })
const inMeeting2 = await f.interaction({ contactId: C2.id, direction: 'inbound', kind: 'meeting', channelId: meeting.id })
const onPhone3 = await f.interaction({ contactId: C3.id, direction: 'inbound', kind: 'call', channelId: phone.id })

const make = (contactId: string, by: string, kind: string, madeInInteractionId?: string) =>
  f.promise({ contactId, kind, dueAt: c.in(3 * DAY), ...(madeInInteractionId ? { madeInInteractionId } : {}) }, { token: by })

const P1 = await make(C1.id, alice, 'callback', onPhone1.id)
const P2 = await make(C1.id, alice, 'callback', onPhone1.id)
const P3 = await make(C1.id, bob, 'quote')
const P4 = await make(C2.id, alice, 'quote', inMeeting2.id)
const P5 = await make(C2.id, bob, 'callback', inMeeting2.id)
c.set(T1)
const P6 = await make(C2.id, bob, 'quote')
const P7 = await make(C3.id, alice, 'callback', onPhone3.id)
const P8 = await make(C3.id, bob, 'quote', onPhone3.id)
const P9 = await make(C3.id, alice, 'quote')
const P10 = await make(C1.id, bob, 'callback')

await f.keep(P1.id)
await f.keep(P2.id, { keptAt: plus(P2.dueAt, 600_000) })
await f.break(P3.id)
await f.renegotiate(P4.id, { dueAt: plus(P4.dueAt, 2 * DAY), reason: 'Supplier' })
await f.keep(P4.id)
const P5moved = await f.renegotiate(P5.id, { dueAt: plus(P5.dueAt, 2 * DAY), reason: 'Holiday' })
await f.keep(P5.id, { keptAt: plus(P5moved.dueAt, 1_800_000) })
await f.cancel(P6.id)
await f.renegotiate(P8.id, { dueAt: plus(P8.dueAt, 2 * DAY), reason: 'Waiting' })
await f.break(P9.id)
await f.keep(P10.id, { keptAt: plus(P10.dueAt, 3_600_000) })

interface Row { key: string | null, made: number, kept: number, keptLate: number, broken: number, open: number, cancelled: number, keptOnOriginalTerms: number, keptAfterRenegotiation: number, keepRate: number | null, onTimeRate: number | null, meanLatenessSeconds: number | null }
const row = (key: string | null, made: number, kept: number, keptLate: number, broken: number, open: number, cancelled: number, keptOnOriginalTerms: number, keptAfterRenegotiation: number, keepRate: number | null, onTimeRate: number | null, meanLatenessSeconds: number | null): Row =>
  ({ key, made, kept, keptLate, broken, open, cancelled, keptOnOriginalTerms, keptAfterRenegotiation, keepRate, onTimeRate, meanLatenessSeconds })

//                          made kept late brkn open canc orig reneg keepRate onTime  lateness
const all = row(null, 10, 2, 3, 2, 2, 1, 3, 2, 5 / 7, 2 / 7, 2000)
const byContact = [
  row(C1.id, 4, 1, 2, 1, 0, 0, 3, 0, 3 / 4, 1 / 4, 2100),
  row(C2.id, 3, 1, 1, 0, 0, 1, 0, 2, 1, 1 / 2, 1800),
  row(C3.id, 3, 0, 0, 1, 2, 0, 0, 0, 0, 0, null)
]
const byPromisor = [
  row('alice', 5, 2, 1, 1, 1, 0, 2, 1, 3 / 4, 2 / 4, 600),
  row('bob', 5, 0, 2, 1, 1, 1, 1, 1, 2 / 3, 0, 2700)
]
const byKind = [
  row('callback', 5, 1, 3, 0, 1, 0, 3, 1, 1, 1 / 4, 2000),
  row('quote', 5, 1, 0, 2, 1, 1, 0, 1, 1 / 3, 1 / 3, null)
]
const byChannel = [
  row(phone.id, 4, 1, 1, 0, 2, 0, 2, 0, 1, 1 / 2, 600),
  row(meeting.id, 2, 1, 1, 0, 0, 0, 0, 2, 1, 1 / 2, 1800),
  row(null, 4, 0, 1, 2, 0, 1, 1, 0, 1 / 3, 0, 3600)
]
const firstDay = row(null, 5, 2, 2, 1, 0, 0, 2, 2, 4 / 5, 2 / 5, 1200)
const secondDay = row(null, 5, 0, 1, 1, 2, 1, 1, 0, 1 / 2, 0, 3600)

const byKey = (rows: Row[]) => [...rows].sort((a, b) => String(a.key).localeCompare(String(b.key)))
async function stats (query: string, o: { token?: string } = {}) {
  const res = await rest('GET', `/v1/promises/stats${query}`, o)
  if (res.statusCode !== 200) throw new Error(`stats${query}: ${res.statusCode} ${res.body}`)
  return res.data as { groupBy: string, data: Row[] }
}

t.test('the fixture is what the table says', async (t) => {
  const now = await Promise.all([P1, P2, P3, P4, P5, P6, P7, P8, P9, P10].map((p: PromiseDto) => f.get(p.id)))
  t.same(now.map((p) => [p.status, p.renegotiations, p.promisor, p.kind, p.channelId]), [
    ['kept', 0, 'alice', 'callback', phone.id],
    ['kept_late', 0, 'alice', 'callback', phone.id],
    ['broken', 0, 'bob', 'quote', null],
    ['kept', 1, 'alice', 'quote', meeting.id],
    ['kept_late', 1, 'bob', 'callback', meeting.id],
    ['cancelled', 0, 'bob', 'quote', null],
    ['open', 0, 'alice', 'callback', phone.id],
    ['open', 1, 'bob', 'quote', phone.id],
    ['broken', 0, 'alice', 'quote', null],
    ['kept_late', 0, 'bob', 'callback', null]
  ])
  t.same(now.slice(0, 5).map((p) => p.createdAt), Array(5).fill(T0))
  t.same(now.slice(5).map((p) => p.createdAt), Array(5).fill(T1))
})

t.test('groupBy none, contact, promisor, kind, channel', async (t) => {
  t.same(await stats(''), { groupBy: 'none', data: [all] }, 'default: one row for the workspace')
  t.same(await stats('?groupBy=none'), { groupBy: 'none', data: [all] })
  for (const [groupBy, want] of [['contact', byContact], ['promisor', byPromisor], ['kind', byKind], ['channel', byChannel]] as const) {
    const got = await stats(`?groupBy=${groupBy}`)
    t.equal(got.groupBy, groupBy)
    t.same(byKey(got.data), byKey(want), `groupBy=${groupBy}`)
  }
  assertValidation(t, await rest('GET', '/v1/promises/stats?groupBy=weekday'), [{ pointer: '/querystring/groupBy' }], 'unknown grouping')
  assertValidation(t, await rest('GET', '/v1/promises/stats?from=yesterday'), [{ pointer: '/querystring/from' }], 'from is an instant')
})

t.test('the from/to window: promises made at or after from, before to', async (t) => {
  t.same((await stats(`?to=${T1}`)).data, [firstDay], 'to is exclusive: only the first day')
  t.same((await stats(`?from=${T1}`)).data, [secondDay], 'from is inclusive: only the second day')
  t.same((await stats(`?from=${T0}&to=${T1}`)).data, [firstDay])
  t.same((await stats(`?from=${T0}&to=${plus(T1, 1)}`)).data, [all], 'both days')
  t.same((await stats(`?from=${plus(T1, 1)}`)).data, [], 'nothing made in the window: no rows')
  t.same(byKey((await stats(`?groupBy=kind&from=${T1}`)).data), [
    row('callback', 2, 0, 1, 0, 1, 0, 1, 0, 1, 0, 3600),
    row('quote', 3, 0, 0, 1, 1, 1, 0, 0, 0, 0, null)
  ], 'window and grouping together')
})

t.test('GraphQL promiseStats gives the same numbers', async (t) => {
  const fields = 'key made kept keptLate broken open cancelled keptOnOriginalTerms keptAfterRenegotiation keepRate onTimeRate meanLatenessSeconds'
  const kind = await gql(`{ promiseStats(groupBy: KIND) { ${fields} } }`)
  t.same(kind.errors, undefined)
  t.same(byKey(kind.data.promiseStats), byKey(byKind), 'groupBy: KIND')
  const none = await gql(`{ promiseStats { ${fields} } }`)
  t.same(none.data.promiseStats, [all], 'default NONE')
  const windowed = await gql(`query ($from: DateTime) { promiseStats(groupBy: NONE, from: $from) { ${fields} } }`, { from: T1 })
  t.same(windowed.data.promiseStats, [secondDay])
  const contact = await gql(`{ promiseStats(groupBy: CONTACT) { ${fields} } }`)
  t.same(byKey(contact.data.promiseStats), byKey(byContact))
  const channel = await gql(`{ promiseStats(groupBy: CHANNEL) { ${fields} } }`)
  t.same(byKey(channel.data.promiseStats), byKey(byChannel))
})

t.test('another workspace has its own numbers', async (t) => {
  const globex = token({ workspace: 'globex' })
  t.same(await stats('', { token: globex }), { groupBy: 'none', data: [] })
  t.same((await stats('?groupBy=contact', { token: globex })).data, [])
  const g = fixtures(rest, globex)
  const who = await g.contact('Globex')
  const p = await g.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  await g.break(p.id)
  t.same((await stats('', { token: globex })).data, [row(null, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, null)])
  t.same((await stats('')).data, [all], 'acme unchanged')
})
