import postgres from 'postgres'
import t from 'tap'
import { dbProxy } from './support/outage.js'

// The fixes scripts/patch-postgres.mjs applies to postgres.js at install, one by one, on the
// driver itself: faults-backend-terminated.test.ts shows the server survives connection loss,
// this file names which driver behaviour it rests on (each of these crashed or hung on 3.4.9).

const url = process.env.DATABASE_URL
const skip = url ? false : 'needs PostgreSQL (set DATABASE_URL): the driver under test is postgres.js'

t.test('postgres.js with the install-time fixes', { skip }, async (t) => {
  const sql = postgres(url!, { max: 2, onnotice: () => {} })
  const admin = postgres(url!, { max: 1, onnotice: () => {} })
  t.teardown(async () => { await sql.end({ timeout: 5 }); await admin.end({ timeout: 5 }) })
  const terminate = (pid: number) => admin`select pg_terminate_backend(${pid})`
  const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: { code?: string }) => e.code)

  await t.test('normal use is unchanged: reserve, transactions, savepoints, pipelining', async (t) => {
    const r = await sql.reserve()
    t.equal((await r`select 1 as x`)[0].x, 1)
    r.release()
    t.equal(await code(r`select 1`), 'RESERVED_RELEASED', 'a handle used after its release fails instead of running on the pool')
    const out = await sql.begin(async (tx) => {
      await tx`create temp table t (x int)`
      await tx`insert into t values (1)`
      await tx.savepoint(async (sp) => { await sp`insert into t values (2)`; throw new Error('undo') }).catch(() => {})
      await tx.savepoint(async (sp) => { await sp`insert into t values (3)` })
      return tx`select array_agg(x order by x) as xs from t`
    })
    t.same(out[0].xs, [1, 3], 'savepoint rolled back, the other kept')
    const many = await Promise.all(Array.from({ length: 50 }, (_, i) => sql`select ${i}::int as i`))
    t.same(many.map((rows) => rows[0].i), Array.from({ length: 50 }, (_, i) => i), '50 pipelined queries answered in order')
  })

  await t.test('a reserved connection whose backend dies: its queries fail, the process lives, the pool heals', async (t) => {
    const r = await sql.reserve()
    const [{ pid }] = await r`select pg_backend_pid() as pid`
    const running = code(r`select pg_sleep(2)`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await terminate(pid)
    t.equal(await running, 'CONNECTION_CLOSED', 'the running query fails')
    // 3.4.9: TypeError in nextWrite from setImmediate, an uncaught exception (the test process dies).
    t.equal(await code(r`select 1`), 'CONNECTION_CLOSED', 'a later query on the handle fails')
    r.release()
    const after = await Promise.all([sql`select 2 as y`, sql`select 3 as y`, sql`select 4 as y`])
    t.same(after.map((rows) => rows[0].y), [2, 3, 4], 'the pool serves queries again (release left the closed connection to the pool)')
  })

  await t.test('a transaction whose backend dies fails with CONNECTION_CLOSED, and the pool heals', async (t) => {
    const failed = code(sql.begin(async (tx) => {
      const [{ pid }] = await tx`select pg_backend_pid() as pid`
      await terminate(pid)
      await tx`select pg_sleep(0.5)`
      await tx`select 1`
    }))
    t.equal(await failed, 'CONNECTION_CLOSED')
    const after = await Promise.all([sql`select 5 as y`, sql`select 6 as y`])
    t.same(after.map((rows) => rows[0].y), [5, 6])
  })

  await t.test('reservations waiting while connections are killed are all served or failed, none hangs', async (t) => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      try {
        const r = await sql.reserve()
        try {
          const [{ pid }] = await r`select pg_backend_pid() as pid`
          if (i % 3 === 0) await terminate(pid)
          await r`select 1`
          return 'ok'
        } finally { r.release() }
      } catch (e) { return (e as { code?: string }).code }
    }))
    const lost = ['CONNECTION_CLOSED', 'ECONNRESET', '57P01']
    t.same([...new Set(outcomes)].filter((o) => o !== 'ok' && !lost.includes(o!)), [], `every reservation settled (${outcomes.join(',')})`)
    // A released connection whose backend was just terminated can take the next query before its
    // close is seen: that query fails like any on a dying connection (a transient error, a 503 at
    // the API). The pool must answer on the next try (it failed 1 run in 6 when asked only once).
    let answer: number | undefined
    const failures: string[] = []
    for (let tries = 0; tries < 3 && answer === undefined; tries++) {
      try {
        answer = (await sql`select 7 as y`)[0].y
      } catch (e) {
        const code = (e as { code?: string }).code ?? String(e)
        if (!lost.includes(code)) throw e
        failures.push(code)
      }
    }
    t.equal(answer, 7, `and the pool still answers${failures.length ? ` (after ${failures.join(', ')} from a connection dying meanwhile)` : ''}`)
  })

  await t.test('answer_timeout (fix 10): a connection gone silent fails its queries and is replaced; idle ones are kept', async (t) => {
    const target = new URL(url!)
    const proxy = await dbProxy({ host: target.hostname, port: Number(target.port || 5432) })
    t.teardown(() => proxy.close())
    const silent = postgres(proxy.url(url!), { max: 1, onnotice: () => {}, connect_timeout: 2, answer_timeout: 1000 } as postgres.Options<Record<string, never>>)
    t.teardown(() => silent.end({ timeout: 1 }))
    const pid = async () => (await silent`select pg_backend_pid() as pid`)[0].pid as number
    const first = await pid()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    t.equal(await pid(), first, 'a connection idle for twice the timeout is kept (it owed nothing)')
    t.equal((await silent`select pg_sleep(0.3), 1 as x`)[0].x, 1, 'a statement answered within the timeout is untouched')
    await new Promise((resolve) => setTimeout(resolve, 900))
    t.equal((await silent`select pg_sleep(0.3), 2 as x`)[0].x, 2, 'the deadline starts with the query, not with the last answer before it')
    t.equal(await pid(), first, 'the same connection all along')
    proxy.freeze()
    const started = Date.now()
    t.equal(await code(silent`select 1`), 'ANSWER_TIMEOUT', 'a query on a connection that answers nothing fails')
    t.ok(Date.now() - started < 5000, `after ${Date.now() - started} ms, not when TCP gives up`)
    proxy.thaw()
    const second = await pid()
    t.not(second, first, 'the next query runs on a fresh connection')

    // Queries pipelined behind a silent one do not postpone its deadline.
    proxy.freeze()
    const since = Date.now()
    const head = code(silent`select 1`)
    const behind: Array<Promise<unknown>> = []
    const feeding = setInterval(() => behind.push(code(silent`select 2`)), 200)
    const headCode = await head
    const waited = Date.now() - since
    clearInterval(feeding)
    t.equal(headCode, 'ANSWER_TIMEOUT', 'the first query fails')
    t.ok(waited < 2500, `after ${waited} ms although a query was written every 200 ms behind it`)
    await Promise.all(behind)
    proxy.thaw()
    t.not(await pid(), second, 'and the pool goes on with a fresh connection')
  })
})
