import { setTimeout as delay } from 'node:timers/promises'
import t from 'tap'
import { sql } from 'drizzle-orm'
import { enterWorkspace, inWorkspace } from '../src/db/tenant.js'
import { listEvents } from '../src/modules/events/events.log.js'
import { build } from './helper.js'
import { assertProblem } from './support/problem.js'
import { DAY, fixtures, mutableClock } from './support/promises/index.js'

// The workspace event log through GET /v1/events: every change of contacts, interactions,
// promises and channels, written in the change's transaction, read from a cursor in an order that
// never skips an event. On a shared PostgreSQL another test file's open transaction can hold the
// feed back for a while (see promises-events.test.ts): `drain` re-reads empty pages for up to a
// minute.

t.setTimeout(400_000)

interface Ev { id: string, type: string, subjectId: string, data: Record<string, any>, occurredAt: string, position: string }

const c = mutableClock('2026-05-01T09:00:00.000Z')
const { rest, token, database } = await build(t, { clock: c.clock })
const acme = token({ workspace: 'ev-acme' })
const other = token({ workspace: 'ev-other' })
const f = fixtures(rest, acme)

async function page (q: Record<string, string>, tok = acme) {
  const res = await rest('GET', `/v1/events?${new URLSearchParams(q)}`, { token: tok })
  if (res.statusCode !== 200) throw new Error(`events: ${res.statusCode} ${res.body}`)
  return res
}

/** Reads from `after` until `n` events arrived (or the bounded wait ends), `limit` at a time. */
async function drain (after: string | null, n: number, o: { limit?: number, types?: string, tok?: string } = {}) {
  const events: Ev[] = []
  let cursor = after
  for (let waits = 0; events.length < n && waits < 2400;) {
    const res = await page({ limit: String(o.limit ?? 50), ...(cursor ? { after: cursor } : {}), ...(o.types ? { types: o.types } : {}) }, o.tok)
    if (res.data.data.length === 0) { waits++; await delay(25); continue }
    events.push(...res.data.data)
    cursor = res.data.nextCursor
  }
  return { events, cursor }
}

t.test('each change is one event carrying the resource as REST returns it, in order', async (t) => {
  const start = await page({})
  t.same(start.data, { data: [], nextCursor: null }, 'an empty log: no events, no cursor yet')

  const contact = await f.contact('Ada')
  c.advance(1000)
  const patched = await rest('PATCH', `/v1/contacts/${contact.id}`, { token: acme, body: { company: 'Engines' } })
  t.equal(patched.statusCode, 200)
  const logged = await f.interaction({ contactId: contact.id, direction: 'outbound' })
  const inbound = await f.interaction({ contactId: contact.id, direction: 'inbound' })
  const promise = await f.promise({ contactId: contact.id, dueAt: c.in(3 * DAY) })
  const kept = await f.keep(promise.id)
  const channel = await f.channel('email')
  const { events } = await drain(null, 7)
  t.same(events.map((e) => [e.type, e.subjectId]), [
    ['contact.created', contact.id],
    ['contact.updated', contact.id],
    ['interaction.created', logged.id],
    ['interaction.received', inbound.id],
    ['promise.made', promise.id],
    ['promise.kept', promise.id],
    ['channel.created', channel.id]
  ], 'types and subjects in commit order')
  t.ok(events.every((e) => /^evt_[0-7][0-9a-hjkmnp-tv-z]{25}$/.test(e.id)), 'evt_ ids')
  t.same(events[0].data, contact, 'contact.created carries the contact as POST returned it')
  t.same(events[1].data, patched.data, 'contact.updated carries the contact after the change')
  t.equal(events[1].occurredAt, c.now.toISOString(), 'occurredAt comes from the injected clock')
  t.same(events[5].data, kept, 'promise.kept carries the kept promise')
  t.same(events[6].data, channel, 'channel events carry the public channel (never its secrets)')

  const removed = await rest('DELETE', `/v1/contacts/${contact.id}`, { token: acme })
  t.equal(removed.statusCode, 204)
  const more = await drain(events[events.length - 1].position, 1)
  t.same(more.events.map((e) => e.type), ['contact.deleted'], 'a delete is an event, resuming from a position')
})

t.test('pages: limit, Link while full, nextCursor always returned for polling', async (t) => {
  const all = await drain(null, 8, { limit: 1000 })
  t.equal(all.events.length, 8, 'the eight events of the first test')
  const first = await page({ limit: '3' })
  t.equal(first.data.data.length, 3)
  t.match(String(first.headers.link), /^<\/v1\/events\?limit=3&after=[^>]+>; rel="next"$/, 'rel=next on a full page')
  const rest2 = await drain(first.data.nextCursor, all.events.length - 3, { limit: 4 })
  t.same([...first.data.data, ...rest2.events].map((e: Ev) => e.id), all.events.map((e) => e.id), 'pages join without gap or repeat')
  const tail = await page({ after: all.cursor! })
  t.same(tail.data.data, [], 'nothing after the last event')
  t.equal(tail.data.nextCursor, all.cursor, 'an empty read hands back the cursor it was given')
  t.notOk(tail.headers.link, 'no rel=next on a short page')
})

t.test('types filter', async (t) => {
  const contact = await f.contact('Grace')
  const p = await f.promise({ contactId: contact.id, dueAt: c.in(2 * DAY) })
  await f.cancel(p.id, { reason: 'changed plans' })
  const { events } = await drain(null, 2, { types: 'promise.cancelled,contact.deleted' })
  t.same(events.map((e) => e.type).sort(), ['contact.deleted', 'promise.cancelled'])
  t.equal(events.find((e) => e.type === 'promise.cancelled')!.subjectId, p.id)
  const bad = await rest('GET', '/v1/events?types=contact.created,contact.exploded', { token: acme })
  assertProblem(t, bad, 400, 'validation.failed', 'unknown type')
})

t.test('a token sees only its workspace and the resources its scopes read', async (t) => {
  t.same((await page({}, other)).data.data, [], 'another workspace sees none of acme\'s events')
  await fixtures(rest, other).contact('Other Ltd')
  const theirs = await drain(null, 1, { tok: other })
  t.same(theirs.events.map((e) => e.type), ['contact.created'])
  const ours = await page({ limit: '1000' })
  t.notOk(ours.data.data.some((e: Ev) => e.subjectId === theirs.events[0].subjectId), 'acme never sees it')
  // A cursor from another workspace reads nothing of acme's beyond what that workspace owns.
  const crossed = await page({ after: theirs.cursor! }, other)
  t.same(crossed.data.data, [])

  const contactsOnly = token({ workspace: 'ev-acme', scopes: ['events:read', 'contacts:read'] })
  const seen = await page({ limit: '1000' }, contactsOnly)
  t.ok(seen.data.data.length > 0)
  t.ok(seen.data.data.every((e: Ev) => e.type.startsWith('contact.')), 'without promises:read no promise event; without interactions:read no interaction event')
  const noFeed = await rest('GET', '/v1/events', { token: token({ workspace: 'ev-acme', scopes: ['contacts:read'] }) })
  assertProblem(t, noFeed, 403, 'auth.forbidden', 'events:read required')
})

t.test('bad cursors are 400 problems', async (t) => {
  for (const after of ['nope', Buffer.from('{"x":"-1","s":1}').toString('base64url'), Buffer.from('{"x":"99999999999999999999999","s":1}').toString('base64url'), Buffer.from('{"x":"5","s":-2}').toString('base64url')]) {
    assertProblem(t, await rest('GET', `/v1/events?after=${after}`, { token: acme }), 400, 'request.invalid_cursor', `after=${after}`)
  }
  assertProblem(t, await rest('GET', '/v1/events?limit=0', { token: acme }), 400, 'validation.failed', 'limit=0')
  assertProblem(t, await rest('GET', '/v1/events?since=1', { token: acme }), 400, 'validation.failed', 'unknown parameter')
})

t.test('no event lost or repeated while concurrent writers commit and a reader polls', async (t) => {
  // Start from wherever the feed is now (events still held back are read again: filtered below).
  let cursor = (await page({ limit: '1000' })).data.nextCursor as string | null
  const seen: Ev[] = []
  const writers = new Set<string>()
  const fromWriters = () => seen.filter((e) => writers.has(e.subjectId)).length
  let writing = true
  const deadline = Date.now() + 90_000
  const reader = (async () => {
    while ((writing || fromWriters() < 60) && Date.now() < deadline) {
      const res = await page({ ...(cursor ? { after: cursor } : {}), limit: '7' })
      seen.push(...res.data.data)
      cursor = res.data.nextCursor
      if (res.data.data.length === 0) await delay(5)
    }
  })()
  const created = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    const contact = await f.contact(`Writer ${i}`)
    writers.add(contact.id)
    await rest('PATCH', `/v1/contacts/${contact.id}`, { token: acme, body: { title: `n${i}` } })
    return contact.id
  }))
  writing = false
  await reader
  const mine = seen.filter((e) => created.includes(e.subjectId))
  t.equal(mine.length, 60, 'every created and updated event read')
  t.equal(new Set(seen.map((e) => e.id)).size, seen.length, 'no event read twice')
  for (const id of created) {
    t.same(mine.filter((e) => e.subjectId === id).map((e) => e.type), ['contact.created', 'contact.updated'], `${id}: created before updated`)
  }
})

t.test('workers: every workspace on the owner connection; inside a workspace, row-level security confines reads and writes', async (t) => {
  await fixtures(rest, acme).contact('Worker A')
  await fixtures(rest, other).contact('Worker O')
  const db = database.db
  let all: Awaited<ReturnType<typeof listEvents>>['items'] = []
  for (let waits = 0; waits < 2400; waits++) {
    all = (await listEvents(db, { limit: 1000 })).items
    if (all.some((e) => e.data.displayName === 'Worker O') && all.some((e) => e.data.displayName === 'Worker A')) break
    await delay(25)
  }
  t.same([...new Set(all.map((e) => e.workspaceId))].sort(), ['ev-acme', 'ev-other'], 'the fan-out reader sees both workspaces (owner_fanout_read)')
  const page = await listEvents(db, { limit: 2 })
  const next = await listEvents(db, { after: page.nextCursor!, limit: 1000 })
  t.same([...page.items, ...next.items].map((e) => e.id), all.map((e) => e.id), 'the cross-workspace cursor pages without gap or repeat')

  const acmeOnly = await inWorkspace(db, 'ev-acme', (tx) => listEvents(tx, { workspaceId: 'ev-acme', limit: 1000 }))
  t.ok(acmeOnly.items.length > 0 && acmeOnly.items.every((e) => e.workspaceId === 'ev-acme'))
  // RLS, not the query's filter: the app role in one workspace cannot read another's, even unfiltered.
  const unfiltered = await inWorkspace(db, 'ev-acme', (tx) => listEvents(tx, { limit: 1000 }))
  t.ok(unfiltered.items.every((e) => e.workspaceId === 'ev-acme'), 'row-level security confines an unfiltered read')
  const forged = await db.transaction(async (tx) => {
    await enterWorkspace(tx, 'ev-acme')
    await tx.execute(sql`insert into events (workspace_id, id, type, subject_id, data, occurred_at) values ('ev-other', 'evt_forged', 'contact.created', 'con_x', '{}', now())`)
  }).then(() => 'inserted', (err: Error & { cause?: Error }) => `${err.message} ${err.cause?.message ?? ''}`)
  t.match(forged, /row-level security/, 'no event can be written into another workspace')
})
