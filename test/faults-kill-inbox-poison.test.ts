import t from 'tap'
import { standardWebhookSignature } from './support/channels/index.js'
import { faultSetup, kill9, skipWithoutPostgres as skip, until, WEBHOOK_SECRET as SECRET } from './support/faults.js'
import { startServer, type RunningServer } from './support/imports/server.js'
import { httpCall } from './support/process.js'

// kill -9 of real servers in the middle of inbox tries. A poison message, one whose try never
// finishes (here it sleeps in the database until the process is killed, as an out-of-memory or a
// native crash would end it), is counted at each try, comes back only after its backoff, and once
// its INBOX_MAX_ATTEMPTS tries are spent it is `failed` with why, instead of crash-looping every
// process that starts; a message whose try was killed once is still processed exactly once.
// test/inbound-unfinished-tries.test.ts covers the same on both databases without a real kill.

// Real processes on a shared machine: five starts and the waits between them.
t.setTimeout(400_000)

t.test('kill -9 mid-try: a poison message is counted at each try and failed once its tries are spent; others processed once', { skip }, async (t) => {
  // Backoffs of 100-200 ms, 0.5-1 s and 2.5-5 s after the three tries.
  const { env, token, sql } = await faultSetup(t, { INBOX_MAX_ATTEMPTS: '3', INBOX_BACKOFF_MS: '200' })
  // PostgreSQL checks that a query's client is still there every 100 ms (it would otherwise only
  // notice at its next write to the dead socket): the killed server's sleeping try then ends with
  // its connection, and rolls back, as a real try dies with its process.
  const [{ db }] = await sql`select current_database() as db`
  await sql.unsafe(`alter database "${db}" set client_connection_check_interval = 100`)

  let server: RunningServer = await startServer(t, env)
  const ch = await httpCall(server.base, 'POST', '/v1/channels', { token, body: { kind: 'webhook', name: 'faults poison', config: { secret: SECRET } } })
  t.equal(ch.statusCode, 201, `channel created: ${ch.body.slice(0, 200)}`)
  const channelId: string = ch.data.id

  // The poison's try sleeps at its insert, every time; the slow one only at its first try.
  // Sequences count the tries that got there (no rollback undoes them).
  await sql.unsafe(`
    create sequence poison_tries;
    create sequence slow_tries;
    create function hang() returns trigger language plpgsql security definer as $$
      begin
        if new.body = 'poison' then
          perform nextval('poison_tries');
          perform pg_sleep(600);
        elsif new.body = 'slow once' and nextval('slow_tries') = 1 then
          perform pg_sleep(600);
        end if;
        return new;
      end $$;
    create trigger hang before insert on interactions for each row execute function hang();`)
  const tries = async (name: string) => (await sql.unsafe(`select case when is_called then last_value else 0 end::int as n from ${name}`))[0].n as number
  const hanging = async () => (await sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'`)[0].n as number
  const row = async (text: string) => (await sql`
    select status, attempts, error, claimed_at is not null as claimed from inbound_inbox
     where channel_id = ${channelId} and position(${`"text":"${text}"`} in convert_from(raw_body, 'UTF8')) > 0`)[0]
  const logged = async (text: string) => (await sql`select count(*)::int as n from interactions where channel_id = ${channelId} and body = ${text}`)[0].n as number

  const deliver = async (base: URL, id: string, text: string) => {
    const body = JSON.stringify({ type: 'message.received', timestamp: new Date().toISOString(), data: { id, from: 'sender-1', text } })
    const ts = Math.floor(Date.now() / 1000)
    const res = await fetch(new URL(`/v1/channels/${channelId}/inbound`, base), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'webhook-id': `msg-${id}`, 'webhook-timestamp': String(ts), 'webhook-signature': standardWebhookSignature(SECRET, `msg-${id}`, ts, body) }
    })
    t.equal(res.status, 200, `${text}: accepted`)
  }

  /** kill -9 of the server whose inbox try hangs; its try dies with its connection. */
  const killMidTry = async (note: string) => {
    t.equal(await hanging(), 1, `a try hangs: ${note}`)
    await kill9(t, server, `mid-try (${note})`)
    await until('the killed try\'s connection to end', async () => await hanging() === 0, 30_000)
  }

  // A normal message whose first try is killed.
  await deliver(server.base, 'ext-slow', 'slow once')
  await until('the slow message\'s first try', async () => await tries('slow_tries') === 1 && await hanging() === 1)
  // Accepted while the worker hangs: the inbox stores before it answers.
  await deliver(server.base, 'ext-poison', 'poison')
  await deliver(server.base, 'ext-fine', 'fine')
  await killMidTry('slow once, first try')
  t.match(await row('slow once'), { status: 'pending', attempts: 1, claimed: true }, 'the killed try is counted, and the row is still pending')

  for (let n = 1; n <= 3; n++) {
    server = await startServer(t, env)
    await until(`the poison's try ${n}`, async () => await tries('poison_tries') === n && await hanging() === 1)
    await killMidTry(`poison, try ${n}`)
    t.match(await row('poison'), { status: 'pending', attempts: n, claimed: true }, `poison: ${n} unfinished ${n === 1 ? 'try' : 'tries'} counted`)
  }

  server = await startServer(t, env)
  const failed = await until('the poison to be failed', async () => {
    const r = await row('poison')
    return r.status === 'failed' && r
  }, 60_000, 100).catch(async (err) => {
    t.comment(`inbox: ${JSON.stringify(await sql`select status, attempts, error, next_attempt_at, claimed_at from inbound_inbox`)}; poison tries ${await tries('poison_tries')}`)
    throw err
  })
  t.match(failed, { status: 'failed', attempts: 3, claimed: false, error: /^gave up after 3 tries: the last, claimed at \S+, did not finish/ }, 'failed, with why')
  await until('the other messages to be processed', async () => await logged('slow once') === 1 && await logged('fine') === 1)
  t.match(await row('slow once'), { status: 'processed', attempts: 2, error: null }, 'the message killed once: processed at its second try')
  t.match(await row('fine'), { status: 'processed', attempts: 1, error: null })
  t.equal(await tries('poison_tries'), 3, 'the poison was tried 3 times, no more')
  t.equal(await hanging(), 0, 'no try hangs: the running server is not stuck on it')
  t.equal(await logged('poison'), 0, 'nothing of the poison was logged')
  t.equal(await tries('slow_tries'), 2, 'the slow message: two tries')

  // Still served, and the poison is not tried again by another start.
  await deliver(server.base, 'ext-after', 'after')
  await until('a message after it to be processed', async () => await logged('after') === 1)
  t.equal(await tries('poison_tries'), 3, 'not tried again')
  const listed = await httpCall(server.base, 'GET', `/v1/interactions?channelId=${channelId}&limit=10`, { token })
  t.equal(listed.statusCode, 200)
  t.same(listed.data.data.map((i: { body: string }) => i.body).sort(), ['after', 'fine', 'slow once'], 'the API sees each message once, and not the poison')
})
