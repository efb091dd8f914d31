import { sql } from 'drizzle-orm'
import t from 'tap'
import { inWorkspace } from '../src/db/tenant.js'
import { build, type TestApp } from './helper.js'
import { allInteractions, createChannel, eventually, inbound, standardWebhookSignature, workspaces } from './support/channels/index.js'

// A provider message the inbox worker fails to apply for a transient reason (a deadlock, a
// serialization failure, a lock timeout) is retried later with exponential backoff, not five times
// within one drain; it is applied once the cause is gone, and is `failed` (kept, with its error)
// after INBOX_MAX_ATTEMPTS tries. Time is driven by the configured backoff: a 10-minute base where
// a test shows the row waiting, a 1 ms base where it lets the retries run.
//
// The failure is a real one from PostgreSQL: a trigger on interactions raises a serialization
// failure (SQLSTATE 40001) for the messages a test marks, a given number of times, counted by a
// sequence (which no rollback undoes: it counts every try that reached the insert).

const NOW = 1717006500
const clock = { now: () => new Date(NOW * 1000) }
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const patient = await build(t, { clock, config: { inbox: { maxAttempts: 3, backoffBaseMs: 600_000 } } })
const claims: string[] = []
const quick = await build(t, {
  clock,
  config: { inbox: { maxAttempts: 4, backoffBaseMs: 1 } },
  onQuery: (q) => { if (/from "inbound_inbox"/.test(q) && /for update skip locked/.test(q)) claims.push(q) }
})

const rowsOf = (r: unknown): any[] => Array.isArray(r) ? r : (r as { rows: any[] }).rows

/** Inserts of interactions whose body is `text` fail with a serialization failure, `times` times. */
async function failInserts (app: TestApp, name: string, text: string, times: number) {
  const db = app.database.db
  await db.execute(sql.raw(`create sequence ${name}`))
  await db.execute(sql.raw(`create function ${name}() returns trigger language plpgsql security definer as $$
    begin
      if new.body = '${text}' and nextval('${name}') <= ${times} then
        raise exception 'simulated serialization failure' using errcode = '40001';
      end if;
      return new;
    end $$`))
  await db.execute(sql.raw(`create trigger ${name} before insert on interactions for each row execute function ${name}()`))
  return {
    /** How many tries reached the insert of that message. */
    tries: async () => {
      const [{ value }] = rowsOf(await db.execute(sql.raw(`select case when is_called then last_value else 0 end::int as value from ${name}`)))
      return value as number
    },
    /** The cause is gone. */
    remove: () => db.execute(sql.raw(`drop trigger ${name} on interactions`))
  }
}

/** A Standard Webhooks message from a provider, as the API receives it. */
async function deliver (ctx: ReturnType<ReturnType<typeof workspaces>>, channelId: string, id: string, text: string) {
  const body = JSON.stringify({ type: 'message.received', timestamp: '2024-05-29T18:14:00Z', data: { id, from: 'user-1', identityKind: 'acme:user', text } })
  const res = await inbound(ctx.rest, channelId, {
    payload: body,
    headers: { 'content-type': 'application/json', 'webhook-id': `msg_${id}`, 'webhook-timestamp': String(NOW), 'webhook-signature': standardWebhookSignature(secret, `msg_${id}`, NOW, body) }
  })
  return { res, body }
}

interface InboxState { status: string, attempts: number, error: string | null, body: string, dueInSeconds: number, processed: boolean }

/** The inbox rows of one workspace as the database has them, oldest first. */
async function inbox (app: TestApp, workspace: string): Promise<InboxState[]> {
  return inWorkspace(app.database.db, workspace, async (tx) => rowsOf(await tx.execute(sql`
    select status, attempts, error, convert_from(raw_body, 'UTF8') as body,
           extract(epoch from next_attempt_at - now())::float8 as "dueInSeconds", processed_at is not null as processed
      from inbound_inbox order by received_at`)))
}

/** The workspace's one inbox row once it is no longer pending (the 1 ms backoff lets the worker retry at once). */
function settled (app: TestApp, workspace: string): Promise<InboxState> {
  return eventually(async () => {
    await app.app.jobs.inbox.drain()
    const [r] = await inbox(app, workspace)
    return r.status !== 'pending' && r
  }, { timeoutMs: 60_000, what: 'the inbox row to leave pending' })
}

t.test('a failed try is retried later, not at once: the row waits out its backoff while other messages go through', async (t) => {
  const fresh = workspaces(patient, 'p')()
  const ch = await createChannel(fresh.rest, 'webhook', { secret })
  const blip = await failInserts(patient, 'blip_later', 'Hello, later', 1_000_000)
  t.teardown(() => blip.remove())

  const { res, body } = await deliver(fresh, ch.id, 'ext-later', 'Hello, later')
  t.equal(res.statusCode, 200, 'accepted')
  await patient.app.jobs.inbox.drain()
  const [row] = await inbox(patient, fresh.workspace)
  t.match(row, { status: 'pending', attempts: 1, error: /simulated serialization failure/, body, processed: false },
    'one try, not five: still pending, the try counted and its error visible')
  t.notMatch(row.error, /params:|Hello, later/, 'the error keeps the database\'s reason, not the query\'s values')
  // 600 s base, the first retry drawn from its upper half: 300-600 s after the failure.
  t.ok(row.dueInSeconds > 240 && row.dueInSeconds <= 600, `next attempt 300-600 s after the failure (due in ${row.dueInSeconds} s)`)
  t.same(await allInteractions(fresh.rest, `channelId=${ch.id}`), [], 'nothing logged from the failed try')

  await patient.app.jobs.inbox.drain()
  t.match((await inbox(patient, fresh.workspace))[0], { status: 'pending', attempts: 1 }, 'a drain before the row is due does not try it again')
  t.equal(await blip.tries(), 1, 'the insert was reached once')

  // A waiting row does not hold up the queue.
  await deliver(fresh, ch.id, 'ext-next', 'Next one')
  await patient.app.jobs.inbox.drain()
  const [waiting, next] = await inbox(patient, fresh.workspace)
  t.match(waiting, { status: 'pending', attempts: 1 })
  t.match(next, { status: 'processed', attempts: 1, error: null, processed: true })
  t.match(await allInteractions(fresh.rest, `channelId=${ch.id}`), [{ providerMessageId: 'ext-next', body: 'Next one' }])
})

t.test('the item is applied on a later try once the cause is gone, exactly once', async (t) => {
  const fresh = workspaces(quick, 'q')()
  const ch = await createChannel(fresh.rest, 'webhook', { secret })
  const blip = await failInserts(quick, 'blip_twice', 'Hello, eventually', 2)
  t.teardown(() => blip.remove())

  const { res } = await deliver(fresh, ch.id, 'ext-eventually', 'Hello, eventually')
  t.equal(res.statusCode, 200)
  const row = await settled(quick, fresh.workspace)
  t.match(row, { status: 'processed', attempts: 3, error: null, processed: true }, 'two failed tries, then applied on the third')
  t.equal(await blip.tries(), 3, 'three tries reached the insert')
  const logged = await allInteractions(fresh.rest, `channelId=${ch.id}`)
  t.equal(logged.length, 1, 'one interaction: the failed tries left nothing behind')
  t.match(logged[0], { direction: 'inbound', body: 'Hello, eventually', providerMessageId: 'ext-eventually' })
})

t.test('after INBOX_MAX_ATTEMPTS tries the row is failed, kept with its error, and can be put back', async (t) => {
  const fresh = workspaces(quick, 'f')()
  const ch = await createChannel(fresh.rest, 'webhook', { secret })
  const blip = await failInserts(quick, 'blip_always', 'Hello, never', 1_000_000)

  const { res, body } = await deliver(fresh, ch.id, 'ext-never', 'Hello, never')
  t.equal(res.statusCode, 200)
  const row = await settled(quick, fresh.workspace)
  t.match(row, { status: 'failed', attempts: 4, error: /simulated serialization failure/, body, processed: false }, 'failed after its 4 tries, error and bytes kept')
  t.equal(await blip.tries(), 4, 'tried exactly INBOX_MAX_ATTEMPTS times')
  await quick.app.jobs.inbox.drain()
  t.equal(await blip.tries(), 4, 'a failed row is not tried again')
  t.same(await allInteractions(fresh.rest, `channelId=${ch.id}`), [])

  // The cause gone, the operator's statement from docs/channel-adapters.md puts it back.
  await blip.remove()
  await inWorkspace(quick.database.db, fresh.workspace, (tx) => tx.execute(sql`update inbound_inbox set status = 'pending', attempts = 0, next_attempt_at = now()
    where status = 'failed' and channel_id = ${ch.id}`))
  await quick.app.jobs.inbox.drain()
  t.match((await inbox(quick, fresh.workspace))[0], { status: 'processed', attempts: 1, error: null })
  t.match(await allInteractions(fresh.rest, `channelId=${ch.id}`), [{ body: 'Hello, never', providerMessageId: 'ext-never' }])
})

t.test('the claim is an index scan of the pending rows due now, even as a generic plan', async (t) => {
  t.ok(claims.length > 0, 'the worker claimed through the logged statement')
  const claim = claims[0]
  t.notMatch(claim, /\$2/, 'one parameter at most (the limit)')
  const plan = await quick.database.db.transaction(async (tx) => {
    await tx.execute(sql.raw(`prepare inbox_claim as ${claim}`))
    await tx.execute(sql.raw('set local plan_cache_mode = force_generic_plan'))
    // A test table is tiny, where a sequential scan is cheapest; the question is whether the index serves the claim.
    await tx.execute(sql.raw('set local enable_seqscan = off'))
    const lines = rowsOf(await tx.execute(sql.raw(`explain execute inbox_claim${/\$1/.test(claim) ? '(1)' : ''}`)))
    await tx.execute(sql.raw('deallocate inbox_claim'))
    return lines.map((l) => l['QUERY PLAN']).join('\n')
  })
  t.match(plan, /Index Scan using inbound_inbox_due_idx/, 'the partial index on next_attempt_at serves the claim')
  t.match(plan, /Index Cond: \(next_attempt_at <= now\(\)\)/, 'a range of the index: only the rows due now are read')
  t.notMatch(plan, /Sort/, 'in the index order: no sort')
})
