import t from 'tap'
import { mintToken, serverEnv, startServer } from './support/imports/server.js'
import { dbProxy } from './support/outage.js'
import { assertProblem } from './support/problem.js'
import { httpCall } from './support/process.js'

// PostgreSQL goes away under a running server (a restart drops every connection, then the host
// does not answer) and comes back: the server answers 503 problems quickly meanwhile, and heals
// by itself. The outage is a TCP proxy in this test, so the machine's PostgreSQL keeps serving
// the other suites.

const CONNECT_TIMEOUT_MS = 1000

t.test('database unreachable: /readyz 503, requests 503 quickly, recovery without a restart', {
  skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL (set DATABASE_URL): the embedded PGlite runs inside the server process, so it cannot become unreachable on its own'
}, async (t) => {
  const env = await serverEnv(t, { DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS), WORKER_POLL_MS: '200' })
  const direct = new URL(env.DATABASE_URL)
  const proxy = await dbProxy({ host: direct.hostname, port: Number(direct.port || 5432) })
  t.teardown(() => proxy.close())
  env.DATABASE_URL = proxy.url(env.DATABASE_URL)
  const token = await mintToken(env, 'outage', 'contacts:read,contacts:write')
  const { base, server } = await startServer(t, env)

  const created = await httpCall(base, 'POST', '/v1/contacts', { token, body: { displayName: 'Before the outage' } })
  t.equal(created.statusCode, 201, created.body)
  const id = created.data.id
  t.equal((await httpCall(base, 'GET', '/readyz')).statusCode, 200, 'ready before the outage')

  proxy.cut()
  // A bound that fails a hang but leaves room for a loaded machine: connect timeout + 2 s.
  const quick = CONNECT_TIMEOUT_MS + 2000
  const ready = await httpCall(base, 'GET', '/readyz')
  assertProblem(t, ready, 503, 'service.unavailable', '/readyz during the outage')
  t.ok(ready.ms < quick, `/readyz answered in ${ready.ms} ms`)
  const calls = [
    ['GET', `/v1/contacts/${id}`, undefined],
    ['GET', '/v1/contacts?limit=5', undefined],
    ['POST', '/v1/contacts', { displayName: 'During the outage' }]
  ] as const
  for (const [method, path, body] of calls) {
    const res = await httpCall(base, method, path, { token, body })
    const p = assertProblem(t, res, 503, 'service.unavailable', `${method} ${path} during the outage`)
    t.ok(res.ms < quick, `${method} ${path}: answered in ${res.ms} ms`)
    t.equal(res.headers['retry-after'], '1', `${method} ${path}: Retry-After`)
    t.notMatch(p.detail, /select|insert|postgres|econn|timeout|\.ts:\d+/i, 'the detail leaks nothing')
  }
  // Many at once: none hangs, each gets its 503.
  const burst = await Promise.all(Array.from({ length: 30 }, () => httpCall(base, 'GET', `/v1/contacts/${id}`, { token })))
  t.same([...new Set(burst.map((r) => r.statusCode))], [503], '30 concurrent requests: all 503')
  t.ok(Math.max(...burst.map((r) => r.ms)) < quick * 2, `slowest of the burst: ${Math.max(...burst.map((r) => r.ms))} ms`)
  const gql = await httpCall(base, 'POST', '/graphql', { token, body: { query: 'query ($id: ID!) { contact(id: $id) { id } }', variables: { id } } })
  t.equal(gql.data?.errors?.[0]?.extensions?.code, 'service.unavailable', `GraphQL: service.unavailable (${gql.body.slice(0, 200)})`)
  t.equal((await httpCall(base, 'GET', '/healthz')).statusCode, 200, '/healthz: the process is alive')

  proxy.restore()
  const healedAt = Date.now()
  let readyAgain = 0
  while (Date.now() - healedAt < 30_000) {
    if ((await httpCall(base, 'GET', '/readyz')).statusCode === 200) { readyAgain = Date.now() - healedAt; break }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.ok(readyAgain > 0, `ready again ${readyAgain} ms after the database returned`)
  const read = await httpCall(base, 'GET', `/v1/contacts/${id}`, { token })
  t.equal(read.statusCode, 200, 'reads work again')
  t.equal(read.data.displayName, 'Before the outage', 'with the data written before the outage')
  const after = await httpCall(base, 'POST', '/v1/contacts', { token, body: { displayName: 'After the outage' } })
  t.equal(after.statusCode, 201, `writes work again: ${after.body.slice(0, 200)}`)
  const list = await httpCall(base, 'GET', '/v1/contacts?limit=10', { token })
  t.same(list.data.data.map((c: { displayName: string }) => c.displayName).sort(), ['After the outage', 'Before the outage'], 'nothing written during the outage')
  t.equal(server.child.exitCode, null, 'the same process all along')
  t.equal(server.child.signalCode, null)
})
