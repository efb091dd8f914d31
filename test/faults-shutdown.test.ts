import { request as httpRequest, type ClientRequest } from 'node:http'
import t from 'tap'
import { mintToken, serverEnv, startServer } from './support/imports/server.js'
import { httpCall } from './support/process.js'

// SIGTERM to a real server process: it stops accepting, lets the requests it accepted finish
// (within SHUTDOWN_GRACE_MS), stops its workers and closes the pool, then exits 0. A request the
// server accepted never ends in a connection reset. Runs on both databases (the embedded one
// lives in a data directory, so the restarted server sees what the first one wrote).

t.setTimeout(300_000)

interface RawAnswer { status?: number, body?: string, error?: string, localPort?: number }

/** One request on its own connection; `trickle` sends the body in two halves, `gapMs` apart. */
function rawRequest (base: URL, path: string, o: { method?: string, token?: string, body?: string, gapMs?: number, onSent?: () => void } = {}): { done: Promise<RawAnswer>, req: ClientRequest } {
  let localPort: number | undefined
  const headers: Record<string, string> = {}
  if (o.token) headers.authorization = `Bearer ${o.token}`
  if (o.body !== undefined) {
    headers['content-type'] = 'application/json'
    headers['content-length'] = String(Buffer.byteLength(o.body))
  }
  const req = httpRequest(new URL(path, base), { method: o.method ?? 'GET', headers, agent: false })
  const done = new Promise<RawAnswer>((resolve) => {
    req.on('socket', (socket) => socket.on('connect', () => { localPort = socket.localPort }))
    req.on('response', (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, body, localPort }))
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, localPort }))
    })
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, localPort }))
  })
  if (o.body === undefined) req.end()
  else {
    const half = Math.floor(o.body.length / 2)
    req.write(o.body.slice(0, half))
    o.onSent?.()
    setTimeout(() => req.end(o.body!.slice(half)), o.gapMs ?? 0)
  }
  return { done, req }
}

/** How many requests with this method the server logged as received. */
function incoming (stdout: string, method: string): number {
  let n = 0
  for (const line of stdout.split('\n')) {
    try {
      const e = JSON.parse(line)
      if (e.msg === 'incoming request' && e.req?.method === method) n++
    } catch {}
  }
  return n
}

/** remotePort of every request the server logged as received (its "incoming request" lines). */
function acceptedPorts (stdout: string): Set<number> {
  const ports = new Set<number>()
  for (const line of stdout.split('\n')) {
    try {
      const e = JSON.parse(line)
      if (e.msg === 'incoming request' && typeof e.req?.remotePort === 'number') ports.add(e.req.remotePort)
    } catch {}
  }
  return ports
}

t.test('SIGTERM: in-flight requests finish, new ones are refused cleanly, exit 0', async (t) => {
  const env = await serverEnv(t, { SHUTDOWN_GRACE_MS: '10000', RATE_LIMIT_MAX: '0', WORKER_POLL_MS: '100' })
  const token = await mintToken(env, 'shutdown', 'contacts:read,contacts:write')
  const { base, server } = await startServer(t, env)
  t.equal((await httpCall(base, 'GET', '/readyz')).statusCode, 200)

  // Accepted before the signal, body still arriving for 1.5 s after it.
  const slow = Array.from({ length: 5 }, (_, i) => rawRequest(base, '/v1/contacts', {
    method: 'POST', token, body: JSON.stringify({ displayName: `Slow writer ${i}`, tags: ['shutdown'] }), gapMs: 1500
  }))
  // In flight = the server has routed them (logged "incoming request"); their bodies are still coming.
  const deadline = Date.now() + 30_000
  while (incoming(server.stdout(), 'POST') < slow.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(incoming(server.stdout(), 'POST'), slow.length, 'the slow requests are in flight')
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')

  // A flood during the shutdown, each on a new connection: refused at connect, or answered.
  const flood: Array<Promise<RawAnswer>> = []
  const floodUntil = Date.now() + 2500
  while (Date.now() < floodUntil) {
    flood.push(rawRequest(base, '/v1/contacts?limit=1', { token }).done)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const slowAnswers = await Promise.all(slow.map((s) => s.done))
  const floodAnswers = await Promise.all(flood)
  const exit = await server.exited
  const tookMs = Date.now() - signalledAt

  t.same(slowAnswers.map((a) => a.status ?? a.error), [201, 201, 201, 201, 201], 'every in-flight request finished with its answer')
  t.same(exit, { code: 0, signal: null }, `exited 0 after ${tookMs} ms`)
  t.ok(tookMs < 10_000, 'within the grace period')

  const accepted = acceptedPorts(server.stdout())
  const logged = floodAnswers.filter((a) => a.localPort !== undefined && accepted.has(a.localPort))
  t.same(logged.filter((a) => a.status === undefined), [], `no request the server logged lost its connection (${logged.length} of ${floodAnswers.length} flood requests were routed)`)
  const answered = floodAnswers.filter((a) => a.status !== undefined)
  const statuses = [...new Set(answered.map((a) => a.status))]
  // 503: Fastify's answer to a request arriving on a connection it accepted while closing.
  t.ok(statuses.every((s) => s === 200 || s === 503), `answered flood requests got 200 or 503: ${statuses.join(', ') || 'none'}`)
  // The rest never reached the application: refused at connect, or (a connection still in the
  // kernel's backlog, or opened but silent when the listener closed) reset before a byte was read.
  // The server processed none of them, so a client may safely retry them elsewhere.
  const unanswered = floodAnswers.filter((a) => a.status === undefined)
  t.ok(unanswered.every((a) => a.error === 'ECONNREFUSED' || a.error === 'ECONNRESET'), `the others were refused: ${[...new Set(unanswered.map((a) => a.error))].join(', ') || 'none'}`)
  t.ok(unanswered.some((a) => a.error === 'ECONNREFUSED'), `${unanswered.length} refused: the server stopped accepting`)
  const messages = server.stdout()
  t.match(messages, /"msg":"closing"/, 'logged the shutdown')
  t.match(messages, /"msg":"closed"/, 'and its end (workers stopped, pool closed)')
  t.notMatch(server.stderr(), /Error/, 'nothing on stderr')

  // What they wrote is there for the next process.
  const next = await startServer(t, env)
  const list = await httpCall(next.base, 'GET', '/v1/contacts?tag=shutdown&limit=20', { token })
  t.equal(list.statusCode, 200, 'the restarted server lists them')
  t.same(list.data.data.map((c: { displayName: string }) => c.displayName).sort(), [0, 1, 2, 3, 4].map((i) => `Slow writer ${i}`), 'the 5 slow writes were committed')
})

t.test('SIGTERM with a request that never ends: the process exits after SHUTDOWN_GRACE_MS anyway', async (t) => {
  const env = await serverEnv(t, { SHUTDOWN_GRACE_MS: '1500', RATE_LIMIT_MAX: '0' })
  const token = await mintToken(env, 'shutdown', 'contacts:read,contacts:write')
  const { base, server } = await startServer(t, env)
  const stuck = rawRequest(base, '/v1/contacts', { method: 'POST', token, body: JSON.stringify({ displayName: 'Never finished' }), gapMs: 60_000 })
  await new Promise((resolve) => setTimeout(resolve, 300))
  const signalledAt = Date.now()
  server.child.kill('SIGTERM')
  const exit = await server.exited
  const tookMs = Date.now() - signalledAt
  stuck.req.destroy()
  t.ok(tookMs >= 1400 && tookMs < 6000, `exited ${tookMs} ms after SIGTERM (grace 1500 ms)`)
  t.equal(exit.signal, null, 'by itself, not killed')
  t.not(exit.code, 0, `with a failure code (${exit.code}): the shutdown was cut short`)
})
