import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { build } from './helper.js'
import { assertProblem, assertValidation } from './support/problem.js'
import { DAY, fixtures, HOUR, iso, mutableClock, type PromiseEventDto } from './support/promises/index.js'
import type { TapTest } from './support/tap.js'

// One promise's history (GET /v1/promises/{id}/events) and the workspace's event feed
// (GET /v1/promise-events?after=), read incrementally from a cursor the way an analytics consumer
// would: every event exactly once, in order, across pages and across appends.
//
// The feed only hands out events of transactions older than every transaction still running on the
// server (so that a cursor never skips a late commit). On a shared PostgreSQL another test file's open
// transaction can hold it back for a moment: `collect` re-reads an empty page a bounded number of
// times until the expected number of events is there, and then requires the feed to be exhausted.

const c = mutableClock('2026-03-04T10:00:00.000Z')
const { app, rest, gql, token } = await build(t, { clock: c.clock })
const acme = token({ workspace: 'feed' })
const f = fixtures(rest, acme)

interface FeedPage { data: PromiseEventDto[], nextCursor: string | null }
async function page (after: string | null, limit: number, tok = acme): Promise<FeedPage> {
  const q = new URLSearchParams({ limit: String(limit), ...(after ? { after } : {}) })
  const res = await rest('GET', `/v1/promise-events?${q}`, { token: tok })
  if (res.statusCode !== 200) throw new Error(`feed: ${res.statusCode} ${res.body}`)
  return res.data
}

/** Reads `n` events from `after`, `limit` at a time; returns them, the pages' sizes and the cursor. */
async function collect (tt: TapTest, after: string | null, n: number, limit = 2, tok = acme) {
  const events: PromiseEventDto[] = []
  const sizes: number[] = []
  let cursor = after
  for (let waits = 0; events.length < n;) {
    const p = await page(cursor, limit, tok)
    if (p.data.length === 0) {
      tt.equal(p.nextCursor, cursor, 'an empty read returns the cursor it was given')
      if (++waits > 200) break
      await delay(25)
      continue
    }
    sizes.push(p.data.length)
    tt.ok(p.data.length <= limit, 'a page holds at most limit events')
    tt.equal(p.nextCursor, p.data.at(-1)!.id, 'nextCursor is the position of the last event read')
    events.push(...p.data)
    cursor = p.nextCursor
  }
  const tail = await page(cursor, limit, tok)
  tt.same(tail.data, [], 'then the feed is exhausted')
  tt.equal(tail.nextCursor, cursor, 'and an empty read keeps the cursor')
  return { events, sizes, cursor: cursor! }
}
const brief = (es: PromiseEventDto[]) => es.map((e) => [e.promiseId, e.type, e.actor])

t.test('the history of one promise', async (t) => {
  const who = await f.contact('History')
  const call = await f.interaction({ contactId: who.id, direction: 'inbound', kind: 'call' })
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY), madeInInteractionId: call.id })
  const due2 = c.in(5 * DAY)
  await f.renegotiate(p.id, { dueAt: due2, reason: 'Later' })
  c.advance(HOUR)
  const reply = await f.interaction({ contactId: who.id, direction: 'outbound' })
  await f.keep(p.id, { interactionIds: [reply.id] })
  const res = await rest('GET', `/v1/promises/${p.id}/events`, { token: acme })
  t.equal(res.statusCode, 200)
  t.equal(res.data.nextCursor, null, 'one promise\'s history is a single page')
  const es = res.data.data as PromiseEventDto[]
  t.same(es.map(({ id, ...e }) => e), [
    { promiseId: p.id, type: 'made', actor: 'tester', interactionId: call.id, data: { dueAt: p.dueAt }, occurredAt: p.createdAt },
    { promiseId: p.id, type: 'renegotiated', actor: 'tester', interactionId: null, data: { fromDueAt: p.dueAt, toDueAt: due2, reason: 'Later', fromStatus: 'open', toStatus: 'open' }, occurredAt: p.createdAt },
    { promiseId: p.id, type: 'kept', actor: 'tester', interactionId: reply.id, data: { keptAt: iso(c.now), dueAt: due2 }, occurredAt: iso(c.now) }
  ])
  t.ok(es.every((e, i) => i === 0 || Number(e.id) > Number(es[i - 1].id)), 'in order of position')
})

t.test('the feed: every event exactly once, in order, across pages and appends', async (t) => {
  const start = await page(null, 2)
  const initial = await collect(t, null, 3)
  t.same(initial.events.map((e) => e.type), ['made', 'renegotiated', 'kept'], 'the history test\'s events come first')
  t.same(start.data.length, 2)

  const who = await f.contact('Feed')
  const p1 = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  const p2 = await f.promise({ contactId: who.id, dueAt: c.in(2 * DAY) })
  const p3 = await f.promise({ contactId: who.id, dueAt: c.in(4 * DAY) })
  await f.keep(p1.id)
  await f.renegotiate(p2.id, { dueAt: c.in(2 * DAY + HOUR), reason: 'An hour more' })
  await f.break(p3.id, { reason: 'Could not' })
  const first = await collect(t, initial.cursor, 6)
  t.same(brief(first.events), [
    [p1.id, 'made', 'tester'], [p2.id, 'made', 'tester'], [p3.id, 'made', 'tester'],
    [p1.id, 'kept', 'tester'], [p2.id, 'renegotiated', 'tester'], [p3.id, 'broken', 'tester']
  ], 'six events, in the order they happened')
  t.same(first.sizes, [2, 2, 2], 'three pages of two')
  t.equal(new Set(first.events.map((e) => e.id)).size, 6, 'distinct positions')

  // The cursor of an empty read, used later: only what was appended since.
  const emptyCursor = (await page(first.cursor, 2)).nextCursor
  t.equal(emptyCursor, first.cursor)
  const p4 = await f.promise({ contactId: who.id, dueAt: c.in(5 * DAY) })
  await f.cancel(p4.id)
  c.advance(DAY + 2 * HOUR)
  await app.jobs.scheduler.drain()
  t.equal((await f.get(p2.id)).status, 'at_risk')
  const second = await collect(t, emptyCursor, 3)
  t.same(brief(second.events), [[p4.id, 'made', 'tester'], [p4.id, 'cancelled', 'tester'], [p2.id, 'at_risk', 'scheduler']], 'the scheduler\'s events are in the feed too')
  t.same(second.sizes, [2, 1])

  c.advance(DAY)
  await app.jobs.scheduler.drain()
  const third = await collect(t, second.cursor, 1)
  t.same(brief(third.events), [[p2.id, 'broken', 'scheduler']])

  // One read of everything matches the incremental reads, and each promise's own history.
  const everything = await collect(t, null, 13, 100)
  t.same(everything.events, [...initial.events, ...first.events, ...second.events, ...third.events], 'incremental reads = one full read')
  for (const p of [p1, p2, p3, p4]) {
    const own = await f.events(p.id)
    t.same(everything.events.filter((e) => e.promiseId === p.id).map(({ id, ...e }) => e), own.map(({ id, ...e }) => e), `the feed holds ${p.id}'s history`)
  }
})

t.test('bad cursors and limits are 400s', async (t) => {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
  for (const [label, cursor] of [
    ['not base64 JSON', 'not-a-cursor'],
    ['not a transaction id', enc({ x: 'abc', s: 1 })],
    ['no seq', enc({ x: '1' })],
    ['a list cursor', enc({ id: 'prm_01jq0000000000000000000000' })],
    ['a transaction id past 64 bits', enc({ x: '99999999999999999999999', s: 1 })],
    ['a fractional seq', enc({ x: '1', s: 1.5 })],
    ['a negative seq', enc({ x: '1', s: -1 })],
    ['a seq beyond bigint', enc({ x: '1', s: 1e300 })]
  ]) {
    assertProblem(t, await rest('GET', `/v1/promise-events?after=${cursor}`, { token: acme }), 400, 'request.invalid_cursor', label)
  }
  assertValidation(t, await rest('GET', '/v1/promise-events?limit=0', { token: acme }), [{ pointer: '/querystring/limit' }], 'limit 0')
  assertValidation(t, await rest('GET', '/v1/promise-events?limit=1001', { token: acme }), [{ pointer: '/querystring/limit' }], 'limit over 1000')
  assertValidation(t, await rest('GET', '/v1/promise-events?since=1', { token: acme }), [{ pointer: '/querystring/since', code: 'unknown_field' }], 'unknown parameter')
  const g = await gql('query ($after: String) { promiseEvents(after: $after) { pageInfo { endCursor } } }', { after: 'not-a-cursor' }, { token: acme })
  t.equal(g.errors?.[0].extensions.code, 'request.invalid_cursor', 'GraphQL: bad cursor')
})

t.test('another workspace\'s events never appear', async (t) => {
  const globex = token({ workspace: 'globex-feed' })
  const g = fixtures(rest, globex)
  const empty = await page(null, 10, globex)
  t.same(empty, { data: [], nextCursor: null }, 'a workspace without events: nothing, and no cursor yet')
  const acmeAll = await collect(t, null, 13, 100)
  const who = await g.contact('Globex')
  const gp = await g.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  await g.keep(gp.id)
  const mine = await collect(t, null, 2, 10, globex)
  t.same(brief(mine.events), [[gp.id, 'made', 'tester'], [gp.id, 'kept', 'tester']], 'globex reads only its own events')
  const fromAcmeCursor = await collect(t, acmeAll.cursor, 2, 10, globex)
  t.same(brief(fromAcmeCursor.events), brief(mine.events), 'an acme cursor shows globex nothing of acme')
  await collect(t, acmeAll.cursor, 0, 10)
  const acmeIds = new Set(acmeAll.events.map((e) => e.promiseId))
  t.notOk(mine.events.some((e) => acmeIds.has(e.promiseId)))
  assertProblem(t, await rest('GET', `/v1/promises/${gp.id}/events`, { token: acme }), 404, 'promise.not_found', 'one globex promise\'s history from acme')
})

t.test('GraphQL promiseEvents(first:, after:) connection', async (t) => {
  const q = 'query ($after: String, $first: Int) { promiseEvents(after: $after, first: $first) { nodes { id promiseId type actor interactionId data occurredAt } pageInfo { endCursor hasNextPage } } }'
  const viaRest = await collect(t, null, 13, 100)
  const seen: any[] = []
  let after: string | null = null
  for (let i = 0; i < 20; i++) {
    const r: any = await gql(q, { after, first: 3 }, { token: acme })
    t.same(r.errors, undefined)
    const { nodes: events, pageInfo } = r.data.promiseEvents
    if (events.length === 0) {
      t.same(pageInfo, { endCursor: null, hasNextPage: false }, 'an empty read: the client keeps its cursor')
      break
    }
    t.ok(events.length <= 3)
    t.equal(pageInfo.endCursor, events[events.length - 1].id, 'an event\'s id is its cursor')
    seen.push(...events)
    after = pageInfo.endCursor
  }
  t.same(seen, viaRest.events.map((e) => ({ ...e, type: e.type.toUpperCase() })), 'same events, same order, types UPPER_CASE')
  t.ok(seen.some((e) => e.type === 'AT_RISK') && seen.some((e) => e.type === 'RENEGOTIATED'))

  const who = await f.contact('GraphQL feed')
  const p = await f.promise({ contactId: who.id, dueAt: c.in(3 * DAY) })
  await f.keep(p.id, { keptAt: c.in(4 * DAY) })
  let more: any[] = []
  for (let waits = 0; more.length < 2 && waits < 200; waits++) {
    const r: any = await gql(q, { after, first: 10 }, { token: acme })
    more = more.concat(r.data.promiseEvents.nodes)
    after = r.data.promiseEvents.pageInfo.endCursor ?? after
    if (more.length < 2) await delay(25)
  }
  t.same(more.map((e) => [e.promiseId, e.type]), [[p.id, 'MADE'], [p.id, 'KEPT_LATE']], 'after appends, only the new events')
})
