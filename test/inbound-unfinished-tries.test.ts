import { sql } from 'drizzle-orm'
import t from 'tap'
import { claimInbox, lockClaimed } from '../src/jobs/inbox.repository.js'
import { build } from './helper.js'
import type { TapTest } from './support/tap.js'
import { createChannel, eventually, inbound, standardWebhookSignature, workspaces } from './support/channels/index.js'

// A try at an inbox row that never finishes (its process killed, out of memory or crashed, its
// connection cut: its transaction rolls back) counts as a try all the same: the row comes back
// only after its backoff, with the try counted, and once INBOX_MAX_ATTEMPTS such tries are spent it
// is `failed` with a clear error instead of being claimed, and crashing a worker, forever. The
// real kill -9 of a server process is test/faults-kill-inbox-poison.test.ts (PostgreSQL only).
//
// Here, on both databases, a try's death is its transaction dying before its commit: a trigger
// fails the statement that marks the poison message processed, so the try's own error handling
// meets an aborted transaction and everything of the try rolls back, as when the process dies.

const NOW = 1717006500
const clock = { now: () => new Date(NOW * 1000) }
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
// A 10-minute base: a row shows itself waiting out its backoff; the test moves it due by hand. No
// background workers: the test runs the inbox worker itself (drain), so each step happens when it says.
const app = await build(t, { clock, config: { workers: false, inbox: { maxAttempts: 3, backoffBaseMs: 600_000 } } })
const db = app.database.db
const rowsOf = (r: unknown): any[] => Array.isArray(r) ? r : (r as { rows: any[] }).rows
const isPglite = app.database.kind === 'pglite'

/** A Standard Webhooks message from a provider, through the channel's public URL. */
async function deliver (t: TapTest, ctx: ReturnType<ReturnType<typeof workspaces>>, channelId: string, id: string, text: string) {
  const body = JSON.stringify({ type: 'message.received', timestamp: '2024-05-29T18:14:00Z', data: { id, from: 'user-1', identityKind: 'acme:user', text } })
  const res = await inbound(ctx.rest, channelId, {
    payload: body,
    headers: { 'content-type': 'application/json', 'webhook-id': `msg_${id}`, 'webhook-timestamp': String(NOW), 'webhook-signature': standardWebhookSignature(secret, `msg_${id}`, NOW, body) }
  })
  t.equal(res.statusCode, 200, `${id} accepted`)
}

interface Row { body: string, status: string, attempts: number, error: string | null, claimed: boolean, dueInSeconds: number }

/** The inbox row of one message, as the database has it (as the owner: all workspaces). */
async function row (text: string): Promise<Row> {
  const [r] = rowsOf(await db.execute(sql`
    select convert_from(raw_body, 'UTF8') as body, status, attempts, error, claimed_at is not null as claimed,
           extract(epoch from next_attempt_at - now())::float8 as "dueInSeconds"
      from inbound_inbox where position(${`"text":"${text}"`} in convert_from(raw_body, 'UTF8')) > 0`))
  return r
}

/** How many interactions carry this text (each message must end as exactly one, or none). */
async function logged (text: string): Promise<number> {
  const [{ n }] = rowsOf(await db.execute(sql`select count(*)::int as n from interactions where body = ${text}`))
  return n
}

/** The backoff is over: the row is due now (the database's clock cannot be moved). */
const dueNow = (text: string) => db.execute(sql`update inbound_inbox set next_attempt_at = now()
  where position(${`"text":"${text}"`} in convert_from(raw_body, 'UTF8')) > 0`)

t.test('a try whose transaction dies is counted: the row waits out its backoff, and is failed once its tries are spent', async (t) => {
  const ctx = workspaces(app, 'u')()
  const ch = await createChannel(ctx.rest, 'webhook', { secret })
  // Counts, in a sequence no rollback undoes, every try that got as far as marking the poison processed.
  await db.execute(sql.raw('create sequence poison_tries'))
  await db.execute(sql.raw(`create function poison_dies() returns trigger language plpgsql security definer as $$
    begin
      if new.status = 'processed' and position('Hello, poison' in convert_from(new.raw_body, 'UTF8')) > 0 then
        perform nextval('poison_tries');
        raise exception 'simulated death of the try';
      end if;
      return new;
    end $$`))
  await db.execute(sql.raw('create trigger poison_dies before update on inbound_inbox for each row execute function poison_dies()'))
  const tries = async () => rowsOf(await db.execute(sql.raw('select case when is_called then last_value else 0 end::int as n from poison_tries')))[0].n as number

  await deliver(t, ctx, ch.id, 'ext-poison', 'Hello, poison')
  await deliver(t, ctx, ch.id, 'ext-fine', 'Hello, fine')

  // The first drain dies on the poison (the worker logs the error and stops that drain).
  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 1, 'the poison was tried once')
  let poison = await row('Hello, poison')
  t.match(poison, { status: 'pending', attempts: 1, claimed: true }, 'its try did not finish, yet it is counted (the claim committed it)')
  // 600 s base, the first retry drawn from its upper half: 300-600 s after the claim.
  t.ok(poison.dueInSeconds > 240 && poison.dueInSeconds <= 600, `due again after the first backoff, 300-600 s (due in ${poison.dueInSeconds} s)`)
  t.equal(await logged('Hello, poison'), 0, 'nothing of the try is left')

  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 1, 'not tried again before its backoff')
  t.match(await row('Hello, fine'), { status: 'processed', attempts: 1, error: null, claimed: false }, 'the next message goes through meanwhile')
  t.equal(await logged('Hello, fine'), 1, 'as exactly one interaction')

  await dueNow('Hello, poison')
  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 2, 'tried again once due')
  poison = await row('Hello, poison')
  t.match(poison, { status: 'pending', attempts: 2, claimed: true }, 'the second unfinished try is counted')
  t.ok(poison.dueInSeconds > 1200 && poison.dueInSeconds <= 3000, `due after the second backoff, 1,500-3,000 s (due in ${poison.dueInSeconds} s)`)

  await dueNow('Hello, poison')
  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 3, 'a third try')
  t.match(await row('Hello, poison'), { status: 'pending', attempts: 3, claimed: true }, 'counted: the tries are spent, but the last one may still be running somewhere until its backoff ends')

  await dueNow('Hello, poison')
  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 3, 'no fourth try')
  poison = await row('Hello, poison')
  t.match(poison, { status: 'failed', attempts: 3, claimed: false, error: /^gave up after 3 tries: the last, claimed at \S+, did not finish \(the process or its database connection died during it/ },
    'failed, with why')
  await dueNow('Hello, poison')
  await app.app.jobs.inbox.drain()
  t.equal(await tries(), 3, 'a failed row is not claimed again')
  t.equal(await logged('Hello, poison'), 0)

  // The cause gone, the operator's statement from docs/channel-adapters.md puts it back.
  await db.execute(sql.raw('drop trigger poison_dies on inbound_inbox'))
  await db.execute(sql`update inbound_inbox set status = 'pending', attempts = 0, next_attempt_at = now() where status = 'failed' and channel_id = ${ch.id}`)
  await app.app.jobs.inbox.drain()
  t.match(await row('Hello, poison'), { status: 'processed', attempts: 1, error: null, claimed: false }, 'put back, it is applied')
  t.equal(await logged('Hello, poison'), 1, 'once')
  t.equal(await logged('Hello, fine'), 1, 'and the other message still once')
})

t.test('a claim left by a process that is gone is claimed again after its backoff, and its owner cannot come back to it', async (t) => {
  const ctx = workspaces(app, 'g')()
  const ch = await createChannel(ctx.rest, 'webhook', { secret })
  await deliver(t, ctx, ch.id, 'ext-orphan', 'Hello, orphan')
  // A process claims the row and dies before its try begins (or stalls past its backoff).
  const claim = await claimInbox(db, { maxAttempts: 3, leaseMs: () => 600_000 })
  t.equal(claim?.kind, 'try')
  t.match(await row('Hello, orphan'), { status: 'pending', attempts: 1, claimed: true })
  await app.app.jobs.inbox.drain()
  t.match(await row('Hello, orphan'), { status: 'pending', attempts: 1 }, 'no other claim within the backoff')

  await dueNow('Hello, orphan')
  await app.app.jobs.inbox.drain()
  t.match(await row('Hello, orphan'), { status: 'processed', attempts: 2, error: null, claimed: false }, 'claimed again after it, the dead try counted')
  t.equal(await logged('Hello, orphan'), 1)
  // The first claimant, were it only stalled, finds its claim is not its own any more.
  t.equal(await db.transaction((tx) => lockClaimed(tx, claim!.row)), undefined, 'a stale claim locks nothing')
  t.equal(await logged('Hello, orphan'), 1, 'exactly once')
})

t.test('a try under way is not claimed by another worker, even past its backoff', { skip: isPglite && 'PGlite has one connection: a try that blocks blocks every other statement, so there is no second worker to race it' }, async (t) => {
  const quick = await build(t, { clock, config: { workers: false, inbox: { maxAttempts: 3, backoffBaseMs: 1 } } })
  const qdb = quick.database.db
  const ctx = workspaces(quick, 'r')()
  const ch = await createChannel(ctx.rest, 'webhook', { secret })
  // The insert of the slow message waits for an advisory lock this test holds.
  await qdb.execute(sql.raw(`create function slow_insert() returns trigger language plpgsql security definer as $$
    begin
      if new.body = 'Hello, slow' then perform pg_advisory_xact_lock_shared(4242); end if;
      return new;
    end $$`))
  await qdb.execute(sql.raw('create trigger slow_insert before insert on interactions for each row execute function slow_insert()'))
  let release!: () => void
  const held = new Promise<void>((resolve) => { release = resolve })
  const locked = new Promise<void>((resolve, reject) => {
    qdb.transaction(async (tx) => {
      await tx.execute(sql.raw('select pg_advisory_xact_lock(4242)'))
      resolve()
      await held
    }).catch(reject)
  })
  await locked
  await deliver(t, ctx, ch.id, 'ext-slow', 'Hello, slow')
  const first = quick.app.jobs.inbox.drain()
  await eventually(async () => rowsOf(await qdb.execute(sql.raw(
    "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'"))).length > 0,
  { what: 'the try to wait on the advisory lock' })
  // Its backoff (1 ms base) is long over: a second worker (another process) looks for due rows.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const second = await claimInbox(qdb, { maxAttempts: 3, leaseMs: () => 1 })
  t.equal(second, undefined, 'a second claim passes over the row being tried')
  release()
  await first
  const [r] = rowsOf(await qdb.execute(sql`select status, attempts from inbound_inbox where channel_id = ${ch.id}`))
  t.match(r, { status: 'processed', attempts: 1 }, 'the one try finished it')
  const [{ n }] = rowsOf(await qdb.execute(sql`select count(*)::int as n from interactions where body = 'Hello, slow'`))
  t.equal(n, 1, 'exactly once')
})
