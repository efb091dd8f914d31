import t from 'tap'
import { build } from './helper.js'
import { closeDatabase } from './support/outage.js'
import { assertProblem } from './support/problem.js'

t.test('/healthz and /readyz answer without a token', async (t) => {
  const { rest } = await build(t)
  for (const url of ['/healthz', '/readyz']) {
    const res = await rest('GET', url, { token: null })
    t.equal(res.statusCode, 200, `${url}: 200 (${res.body})`)
    t.match(String(res.headers['content-type']), /^application\/json/, `${url}: JSON`)
    t.same(res.data, { status: 'ok' }, `${url}: {status:'ok'}`)
    t.notOk(res.headers['www-authenticate'], `${url}: no challenge`)
    const head = await rest('HEAD', url, { token: null })
    t.equal(head.statusCode, 200, `${url}: HEAD 200`)
    t.equal(head.body, '', `${url}: HEAD has no body`)
  }
})

t.test('/readyz is 503 service.unavailable once the database is gone; /healthz stays up', async (t) => {
  const { rest, database } = await build(t)
  t.equal((await rest('GET', '/readyz', { token: null })).statusCode, 200, 'ready before the outage')
  await closeDatabase(database)
  const res = await rest('GET', '/readyz', { token: null })
  const p = assertProblem(t, res, 503, 'service.unavailable', '/readyz')
  t.equal(p.instance, '/readyz')
  t.notMatch(p.detail, /select|pglite|postgres|stack|\.ts:\d+/i, 'the detail leaks nothing')
  const live = await rest('GET', '/healthz', { token: null })
  t.equal(live.statusCode, 200, '/healthz: the process itself is still up')
  t.same(live.data, { status: 'ok' })
})
