import { readFileSync } from 'node:fs'
import t from 'tap'
import { mintToken, serverEnv, startServer } from './support/imports/server.js'
import { httpCall, type HttpAnswer } from './support/process.js'

// 500 concurrent clients against a real server with a pool of 10 connections: each gets an
// answer or a 503 problem with Retry-After (MAX_IN_FLIGHT sheds what the pool could only queue),
// the process stays up, and its memory stays bounded.

t.setTimeout(300_000)

const CLIENTS = 500
const ROUNDS = 3
const MAX_IN_FLIGHT = 100

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024

t.test(`saturation: ${CLIENTS} concurrent clients, pool of 10, at most ${MAX_IN_FLIGHT} requests in flight`, async (t) => {
  const env = await serverEnv(t, { DATABASE_POOL_MAX: '10', MAX_IN_FLIGHT: String(MAX_IN_FLIGHT), RATE_LIMIT_MAX: '0', LOG_LEVEL: 'warn' })
  const token = await mintToken(env, 'saturation', 'contacts:read,contacts:write')
  const { base, server } = await startServer(t, env)
  const pid = server.child.pid!
  const seeded = await httpCall(base, 'POST', '/v1/contacts', { token, body: { displayName: 'Everyone reads me' } })
  t.equal(seeded.statusCode, 201)
  const before = rssMb(pid)

  const answers: Array<HttpAnswer | { error: string }> = []
  const rss: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const write = i % 5 === 0
      try {
        answers.push(write
          ? await httpCall(base, 'POST', '/v1/contacts', { token, body: { displayName: `Client ${round}-${i}`, tags: ['load'] } })
          : await httpCall(base, 'GET', i % 2 ? `/v1/contacts/${seeded.data.id}` : '/v1/contacts?limit=20', { token }))
      } catch (err) {
        answers.push({ error: String((err as { cause?: { code?: string } }).cause?.code ?? err) })
      }
    }))
    rss.push(rssMb(pid))
  }

  const failed = answers.filter((a) => 'error' in a)
  t.same(failed, [], 'no connection error: every client got an answer')
  const got = answers.filter((a): a is HttpAnswer => !('error' in a))
  const byStatus = new Map<number, number>()
  for (const a of got) byStatus.set(a.statusCode, (byStatus.get(a.statusCode) ?? 0) + 1)
  t.comment(`statuses: ${JSON.stringify(Object.fromEntries(byStatus))}; RSS MB before ${before.toFixed(0)}, after each round ${rss.map((m) => m.toFixed(0)).join(', ')}`)
  t.same([...byStatus.keys()].filter((s) => ![200, 201, 503].includes(s)), [], 'only 200, 201 and 503')
  t.ok((byStatus.get(200) ?? 0) + (byStatus.get(201) ?? 0) > 0, 'work got done')
  // The embedded database answers in-process, fast enough that the limit may never be reached.
  if (process.env.DATABASE_URL) t.ok((byStatus.get(503) ?? 0) > 0, 'and the excess was shed')
  const shed = got.filter((a) => a.statusCode === 503)
  t.ok(shed.every((a) => a.headers['retry-after'] === '1'), 'every 503 has Retry-After')
  t.ok(shed.every((a) => a.headers['content-type']?.startsWith('application/problem+json') && a.data?.code === 'service.unavailable'), 'every 503 is a service.unavailable problem')
  // Refused before any database work; what they wait for is the CPU (the clients, the server and
  // PostgreSQL share the machine), so the bound is loose and the median tells the story.
  const shedMs = shed.map((a) => a.ms).sort((a, b) => a - b)
  t.ok(shed.every((a) => a.ms < 15_000), `503s never hang (median ${shedMs[Math.floor(shedMs.length / 2)] ?? 0} ms, slowest ${shedMs.at(-1) ?? 0} ms)`)

  t.equal(server.child.exitCode, null, 'the server is still running')
  t.equal((await httpCall(base, 'GET', '/readyz')).statusCode, 200, 'and ready')
  // The embedded database (WebAssembly PostgreSQL) lives in the server's own memory.
  const ceiling = process.env.DATABASE_URL ? 600 : 1500
  t.ok(Math.max(...rss) < ceiling, `RSS stays under ${ceiling} MB (max ${Math.max(...rss).toFixed(0)})`)
  t.ok(rss[ROUNDS - 1] - rss[0] < 100, `and flat across rounds (${rss.map((m) => m.toFixed(0)).join(' → ')} MB)`)

  // Every write that was answered 201 is there, and no other.
  const created = got.filter((a) => a.statusCode === 201).map((a) => a.data.id as string)
  const listed = new Set<string>()
  let after: string | null = null
  do {
    const page: HttpAnswer = await httpCall(base, 'GET', `/v1/contacts?tag=load&limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, { token })
    for (const c of page.data.data) listed.add(c.id)
    after = page.data.nextCursor
  } while (after)
  t.equal(listed.size, created.length, `${created.length} contacts created, as many stored`)
  t.ok(created.every((id) => listed.has(id)), 'each of them')
})
