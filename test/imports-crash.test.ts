import t from 'tap'
import { ndjson } from './support/imports/index.js'
import { api, countContacts, mintToken, serverEnv, startServer, waitForJob } from './support/imports/server.js'

// A server killed with SIGKILL in the middle of an import loses nothing and duplicates nothing:
// each batch is applied with its outcomes and counters in one transaction, and the restarted
// server resumes the job where it stopped.

const ROWS = 20_000
const DISTINCT = 15_000

t.test('kill -9 mid-import, restart: the job completes, nothing lost, nothing duplicated', {
  skip: process.env.DATABASE_URL ? false : 'needs PostgreSQL (set DATABASE_URL): the embedded PGlite lives inside the killed process, so there is no database left running to recover with'
}, async (t) => {
  // Rows 15,000..19,999 repeat earlier keys (changed: updated); every 1,000th row is invalid.
  const lines: unknown[] = []
  const valid = new Set<string>()
  let bad = 0
  for (let i = 0; i < ROWS; i++) {
    const key = `k-${i % DISTINCT}`
    if (i % 1000 === 777) {
      lines.push({ externalId: `bad-${i}`, emails: ['not-an-email'] })
      bad++
    } else {
      lines.push({ externalId: key, givenName: `Row ${i}`, emails: [`${key}@example.com`], tags: ['crash'], attributes: { row: i } })
      valid.add(key)
    }
  }
  const body = ndjson(lines)

  const env = await serverEnv(t, { WORKER_POLL_MS: '20' })
  const first = await startServer(t, env)
  const token = await mintToken(env, 'crash', 'imports:read,imports:write,contacts:read')

  const created = await api(first.base, token, '/v1/imports?upsertOn=externalId&format=ndjson', {
    method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body
  })
  t.equal(created.status, 202, JSON.stringify(created.body))
  const id = created.body.id
  t.equal(created.body.counts.rowsRead, ROWS, 'every row staged before the 202')

  const mid = await waitForJob(first.base, token, id, (j) => j.counts.processed > 0 && j.counts.processed < j.counts.rowsRead, 120_000, 10)
  first.server.child.kill('SIGKILL')
  const killed = await first.server.exited
  t.equal(killed.signal, 'SIGKILL', `killed with ${mid.counts.processed} of ${mid.counts.rowsRead} rows processed (status ${mid.status})`)
  t.equal(mid.status, 'running')

  const second = await startServer(t, env)
  // Generous: on a loaded 2-core machine the restarted server (with every worker polling every
  // 20 ms beside the import) has been seen applying only ~50 rows/s.
  const job = await waitForJob(second.base, token, id, (j) => !['queued', 'running'].includes(j.status), 900_000, 200)
  t.equal(job.status, 'completed', 'the restarted server finished the job')
  const c = job.counts
  t.equal(c.rowsRead, ROWS)
  t.equal(c.processed, ROWS, 'every row processed once')
  t.equal(c.created + c.updated + c.unchanged + c.failed, c.rowsRead, 'counts add up')
  t.equal(c.failed, bad, 'the invalid rows failed')
  t.equal(c.created, valid.size, 'each key created once')
  t.equal(c.updated + c.unchanged, ROWS - bad - valid.size, 'repeated keys updated (or unchanged)')
  t.ok(c.processed > mid.counts.processed, 'it went on from where it was')

  const contacts = await countContacts(second.base, token)
  t.equal(contacts.count, valid.size, `contacts == distinct keys (${valid.size}): nothing lost, nothing duplicated`)
  t.equal(new Set(contacts.externalIds).size, contacts.externalIds.length, 'no externalId twice')
  t.same(new Set(contacts.externalIds), valid, 'exactly the keys of the file')

  const errors = await api(second.base, token, `/v1/imports/${id}/errors?limit=10000`)
  t.equal(errors.body.data.length, bad, 'one reported error per invalid row')
  t.same(errors.body.data.map((e: { line: number }) => e.line), lines.flatMap((_, i) => (i % 1000 === 777 ? [i + 1] : [])), 'at their lines')

  const sample = await api(second.base, token, '/v1/contacts?externalId=k-42')
  t.match(sample.body.data, [{ givenName: 'Row 15042', attributes: { row: 15042 } }], 'a repeated key holds its last row')
})
