import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from '../src/config.test-support.js'
import { openDatabase } from '../src/db/client.js'
import { build } from './helper.js'
import { countByType, DAY, fixtures, HOUR, iso, MINUTE, mutableClock } from './support/promises/index.js'

// Promises turn at_risk and broken with time alone: the scheduler runs in the app's workers
// (polling every 50 ms here) against the injected clock. A test moves the clock, then drains the
// scheduler until it is idle, and never sleeps. The warning window is set to 6 hours, not the
// default 24, to show the configuration is what counts.

const WINDOW = 6 * HOUR
const T0 = '2026-03-04T10:00:00.000Z'
const c = mutableClock(T0)
const config = { promiseRiskWindowMs: WINDOW }
const { app, rest, token, database } = await build(t, { clock: c.clock, config })
const drain = () => app.jobs.scheduler.drain()
const at = (base: string, ms: number) => iso(Date.parse(base) + ms)

t.test('open → at_risk at dueAt - window → broken at dueAt, with no API call', async (t) => {
  const f = fixtures(rest, token({ workspace: 'timing' }))
  const who = await f.contact('Timing')
  const due = c.in(2 * DAY)
  const p = await f.promise({ contactId: who.id, dueAt: due })
  const status = async () => (await f.get(p.id)).status

  await drain()
  t.equal(await status(), 'open', 'open while far from due')
  c.set(Date.parse(due) - WINDOW - 1)
  await drain()
  t.equal(await status(), 'open', 'open one millisecond before the window')
  c.set(Date.parse(due) - WINDOW)
  await drain()
  const risky = await f.get(p.id)
  t.match(risky, { status: 'at_risk', version: 2 }, 'at_risk exactly at dueAt - window')
  c.set(Date.parse(due) - 1)
  await drain()
  t.equal(await status(), 'at_risk', 'still at_risk one millisecond before due')
  c.set(due)
  await drain()
  t.match(await f.get(p.id), { status: 'broken', keptAt: null, version: 3 }, 'broken exactly at dueAt')

  const events = await f.events(p.id)
  t.same(events.map(({ id, promiseId, ...e }) => e), [
    { type: 'made', actor: 'tester', interactionId: null, data: { dueAt: due }, occurredAt: T0 },
    { type: 'at_risk', actor: 'scheduler', interactionId: null, data: { dueAt: due }, occurredAt: at(due, -WINDOW) },
    { type: 'broken', actor: 'scheduler', interactionId: null, data: { reason: 'due date passed' }, occurredAt: due }
  ], 'made, at_risk, broken: the last two by the scheduler, at the clock\'s time')

  c.advance(30 * DAY)
  await drain()
  await drain()
  t.equal((await f.events(p.id)).length, 3, 'nothing more happens to a broken promise')
})

t.test('a promise made inside the window turns at_risk at the next tick; one made past due is broken', async (t) => {
  const f = fixtures(rest, token({ workspace: 'late-made' }))
  const who = await f.contact('Short notice')
  const soon = await f.promise({ contactId: who.id, dueAt: c.in(2 * HOUR) })
  t.equal(soon.status, 'open', 'created open')
  const overdue = await f.promise({ contactId: who.id, dueAt: c.in(-HOUR) })
  await drain()
  t.equal((await f.get(soon.id)).status, 'at_risk', 'due in two hours with a six-hour window: at risk at once')
  t.same((await f.events(soon.id)).map((e) => [e.type, e.actor, e.occurredAt]), [['made', 'tester', iso(c.now)], ['at_risk', 'scheduler', iso(c.now)]])
  t.equal((await f.get(overdue.id)).status, 'broken', 'recorded after its due date: broken at the next tick')
  t.same(countByType(await f.events(overdue.id)), { made: 1, broken: 1 })
  c.advance(3 * HOUR)
  await drain()
  t.equal((await f.get(soon.id)).status, 'broken')
  t.same(countByType(await f.events(soon.id)), { made: 1, at_risk: 1, broken: 1 })
})

t.test('after downtime the scheduler catches up: every overdue promise broken exactly once', async (t) => {
  const f = fixtures(rest, token({ workspace: 'downtime' }))
  const who = await f.contact('Catch-up')
  const start = iso(c.now)
  const open = await Promise.all([1, 2, 3].map((d) => f.promise({ contactId: who.id, dueAt: at(start, d * DAY) })))
  const warned = await f.promise({ contactId: who.id, dueAt: at(start, 10 * HOUR) })
  const kept = await f.promise({ contactId: who.id, dueAt: at(start, DAY) })
  const cancelled = await f.promise({ contactId: who.id, dueAt: at(start, DAY) })
  c.set(at(start, 4 * HOUR + MINUTE))
  await drain()
  t.equal((await f.get(warned.id)).status, 'at_risk', 'warned before the outage')
  await f.keep(kept.id)
  await f.cancel(cancelled.id)

  // Down for a week: when it comes back, everything is long overdue at once.
  c.set(at(start, 7 * DAY))
  await drain()
  await drain()
  for (const p of [...open, warned]) t.equal((await f.get(p.id)).status, 'broken', `due ${p.dueAt}: broken`)
  for (const p of open) {
    const events = await f.events(p.id)
    t.same(countByType(events), { made: 1, broken: 1 }, 'overdue before it was ever warned: made, broken (no at_risk on the way)')
    t.match(events[1], { actor: 'scheduler', occurredAt: iso(c.now) }, 'broken when the scheduler got to it')
  }
  t.same(countByType(await f.events(warned.id)), { made: 1, at_risk: 1, broken: 1 })
  t.same(countByType(await f.events(kept.id)), { made: 1, kept: 1 }, 'a kept promise is left alone')
  t.same(countByType(await f.events(cancelled.id)), { made: 1, cancelled: 1 }, 'a cancelled promise is left alone')
  c.advance(DAY)
  await drain()
  for (const p of [...open, warned]) t.equal(countByType(await f.events(p.id)).broken, 1, 'still broken once')
})

t.test('renegotiating an at_risk promise: open again, and the scheduler follows the new date', async (t) => {
  const f = fixtures(rest, token({ workspace: 'reneg' }))
  const who = await f.contact('Moved')
  const due1 = c.in(DAY)
  const p = await f.promise({ contactId: who.id, dueAt: due1 })
  c.set(at(due1, -WINDOW))
  await drain()
  t.equal((await f.get(p.id)).status, 'at_risk')
  const due2 = c.in(3 * DAY)
  t.match(await f.renegotiate(p.id, { dueAt: due2, reason: 'Parts are late' }), { status: 'open', dueAt: due2, originalDueAt: due1 })
  c.set(due1)
  await drain()
  t.equal((await f.get(p.id)).status, 'open', 'the old due date passes without effect')
  c.set(at(due2, -WINDOW - 1))
  await drain()
  t.equal((await f.get(p.id)).status, 'open')
  c.set(at(due2, -WINDOW))
  await drain()
  t.equal((await f.get(p.id)).status, 'at_risk', 'at risk again before the new date')
  c.set(due2)
  await drain()
  t.equal((await f.get(p.id)).status, 'broken', 'broken at the new date')
  t.same((await f.events(p.id)).map((e) => [e.type, e.actor]), [
    ['made', 'tester'], ['at_risk', 'scheduler'], ['renegotiated', 'tester'], ['at_risk', 'scheduler'], ['broken', 'scheduler']
  ])

  // Pulled forward into the window: at_risk at once, broken at the nearer date.
  const q = await f.promise({ contactId: who.id, dueAt: c.in(5 * DAY) })
  const near = c.in(2 * HOUR)
  t.match(await f.renegotiate(q.id, { dueAt: near, reason: 'Sooner, please' }), { status: 'at_risk', dueAt: near })
  await drain()
  t.equal((await f.get(q.id)).status, 'at_risk')
  c.set(near)
  await drain()
  t.equal((await f.get(q.id)).status, 'broken')
  t.same((await f.events(q.id)).map((e) => e.type), ['made', 'renegotiated', 'broken'])
})

t.test('people keeping promises while the scheduler works on them: no request fails, each promise changes once', async (t) => {
  const f = fixtures(rest, token({ workspace: 'race' }))
  const who = await f.contact('Busy')
  const due = c.in(DAY)
  const ps = []
  for (let i = 0; i < 40; i++) ps.push(await f.promise({ contactId: who.id, dueAt: due }))
  c.set(at(due, -WINDOW + MINUTE))
  // The scheduler marks them at_risk while the keeps arrive: both lock the same rows.
  const [, ...keeps] = await Promise.all([drain(), ...ps.map((p) => rest('POST', `/v1/promises/${p.id}/keep`, { token: token({ workspace: 'race' }), body: {} }))])
  t.same(keeps.map((r) => r.statusCode), ps.map(() => 200), `every keep succeeds (${keeps.filter((r) => r.statusCode !== 200).map((r) => r.body).slice(0, 2).join(' | ')})`)
  await drain()
  for (const p of ps) {
    const counts = countByType(await f.events(p.id))
    t.equal(counts.made, 1)
    t.equal(counts.kept, 1, 'kept once')
    t.ok((counts.at_risk ?? 0) <= 1, 'at_risk at most once')
    t.equal(Object.keys(counts).filter((k) => !['made', 'kept', 'at_risk'].includes(k)).length, 0, 'nothing else')
  }
})

const onPostgres = database.kind === 'postgres' && Boolean(database.url)
const sharedSkip = onPostgres ? false : 'needs PostgreSQL (DATABASE_URL): PGlite is one in-process database that a second app cannot share'
t.test('two app instances on one database: each promise changes state once', { skip: sharedSkip }, async (t) => {
  const other = await openDatabase({ databaseUrl: database.url!, poolMax: 5 })
  const app2 = await buildApp({ config: testConfig(config), db: other.db, clock: c.clock, logger: false })
  await app2.ready()
  t.teardown(async () => {
    await app2.close()
    await other.close()
  })

  const ws = token({ workspace: 'fleet' })
  const f = fixtures(rest, ws)
  const who = await f.contact('Fleet')
  const base = c.in(10 * HOUR)
  const ps = []
  for (let i = 0; i < 150; i++) ps.push(await f.promise({ contactId: who.id, dueAt: at(base, i * MINUTE) }))
  // The second instance serves the same data.
  const seen = await app2.inject({ method: 'GET', url: `/v1/promises/${ps[0].id}`, headers: { authorization: `Bearer ${ws}` } })
  t.equal(seen.statusCode, 200)

  c.set(at(base, -WINDOW + 150 * MINUTE))
  await Promise.all([drain(), app2.jobs.scheduler.drain(), drain(), app2.jobs.scheduler.drain()])
  await Promise.all([drain(), app2.jobs.scheduler.drain()])
  const afterWarning = await Promise.all(ps.map((p) => f.events(p.id)))
  t.same(afterWarning.map(countByType), ps.map(() => ({ made: 1, at_risk: 1 })), 'every promise warned exactly once')

  c.set(at(base, DAY))
  await Promise.all([drain(), app2.jobs.scheduler.drain(), drain(), app2.jobs.scheduler.drain()])
  await Promise.all([drain(), app2.jobs.scheduler.drain()])
  const afterDue = await Promise.all(ps.map((p) => f.events(p.id)))
  t.same(afterDue.map(countByType), ps.map(() => ({ made: 1, at_risk: 1, broken: 1 })), 'every promise broken exactly once')
  const list = await rest('GET', '/v1/promises?status=broken&limit=100', { token: ws })
  t.equal(list.data.data.length, 100)
  t.ok(list.data.nextCursor, 'and there are more (150 in all)')
})

t.test('WORKERS=false: nothing runs in the background, and drain() still runs the scheduler on demand', async (t) => {
  const quiet = mutableClock(T0)
  const idle = await build(t, { clock: quiet.clock, config: { ...config, workers: false } })
  const f = fixtures(idle.rest, idle.token({ workspace: 'no-workers' }))
  const who = await f.contact('Unattended')
  const p = await f.promise({ contactId: who.id, dueAt: quiet.in(HOUR) })
  quiet.advance(2 * HOUR)
  // Ten poll intervals (50 ms in tests) with the promise overdue: a started worker would have acted.
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal((await f.get(p.id)).status, 'open', 'no worker acted in the background')
  await idle.app.jobs.scheduler.drain()
  t.match(await f.get(p.id), { status: 'broken', keptAt: null }, 'drain() broke the overdue promise')
})
