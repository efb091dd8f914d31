import t from 'tap'
import { faultSetup, kill9, pool, skipWithoutPostgres as skip, until } from './support/faults.js'
import { startServer } from './support/imports/server.js'
import { httpCall } from './support/process.js'

// kill -9 of a real server in the middle of a promise-scheduler tick: after the restart each
// overdue promise is broken exactly once (one status change, one event).

// Real processes on a shared machine: startup, load and recovery take longer than the suite's 120 s default.
t.setTimeout(400_000)

t.test('kill -9 during a scheduler tick: each overdue promise broken exactly once', { skip }, async (t) => {
  const { env, token, sql } = await faultSetup(t, { WORKER_POLL_MS: '20' })
  // Promises are made with the workers off, so that all of them are due when the scheduler starts.
  const maker = await startServer(t, { ...env, WORKERS: 'false' })
  const contact = await httpCall(maker.base, 'POST', '/v1/contacts', { token, body: { displayName: 'Promisee' } })
  const TOTAL = 1000
  const dueAt = new Date(Date.now() - 60_000).toISOString()
  await pool(Array.from({ length: TOTAL }, (_, i) => i), 20, async (i) => {
    const res = await httpCall(maker.base, 'POST', '/v1/promises', { token, body: { contactId: contact.data.id, description: `promise ${i}`, dueAt } })
    if (res.statusCode !== 201) t.fail(`promise ${i}: ${res.statusCode} ${res.body}`)
  })
  maker.server.child.kill('SIGTERM')
  await maker.server.exited
  const brokenCount = async () => (await sql`select count(*)::int as n from promises where status = 'broken'`)[0].n as number

  const first = await startServer(t, env)
  const seen = await until('the scheduler broke some promises', async () => { const n = await brokenCount(); return n > 0 && n }, 60_000, 5)
  await kill9(t, first, `with ${seen} of ${TOTAL} broken`)
  const atKill = await brokenCount()
  t.ok(atKill < TOTAL, `${atKill} of ${TOTAL} broken when killed: the tick was cut short`)

  await startServer(t, env)
  await until('every promise is broken', async () => (await brokenCount()) === TOTAL, 120_000, 100)
  const events = await sql`select promise_id, count(*)::int as n from promise_events where type = 'broken' group by 1`
  t.equal(events.length, TOTAL, 'a broken event for every promise')
  t.same(events.filter((e) => e.n !== 1).map((e) => e.promise_id), [], 'exactly one broken event each')
  const [{ open }] = await sql`select count(*)::int as open from promises where status in ('open', 'at_risk')`
  t.equal(open, 0, 'none left open')
})
