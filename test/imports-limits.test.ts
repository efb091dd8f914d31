import { PassThrough } from 'node:stream'
import { setTimeout as delay } from 'node:timers/promises'
import { count, eq } from 'drizzle-orm'
import t from 'tap'
import { importJobs, importRows } from '../src/modules/imports/imports.table.js'
import { build } from './helper.js'
import { assertProblem } from './support/problem.js'
import { asToken, csv, getJob, importErrors, ndjson, runImport, upload } from './support/imports/index.js'

// The import queue's housekeeping and limits: upload size, staged rows cleanup, uploads whose
// server died, workspaces taking turns, hostile nesting. One app (and database) for the file.

const { app, rest: anyRest, token, database } = await build(t, { config: { imports: { maxBytes: 16_384, uploadLeaseMs: 30_000, batchRows: 1000 } } })
const workspace = (name: string) => asToken(anyRest, token({ workspace: name }))
const stagedRows = async (jobId: string) => (await database.db.select({ n: count() }).from(importRows).where(eq(importRows.jobId, jobId)))[0].n

t.test('an upload over IMPORT_MAX_BYTES is a 413 (counted after gunzip) and its job fails', async (t) => {
  const rest = workspace('limits-size')
  const big = csv([['email'], ...Array.from({ length: 1000 }, (_, i) => [`person-${i}@example.com`])])
  t.ok(big.length > 16_384)
  const p = assertProblem(t, await upload(rest, big), 413, 'request.too_large', 'plain')
  t.match(p.detail, /larger than 16384 bytes/)
  t.notMatch(p.detail, /person-|insert|select/i, 'the detail quotes neither the file nor SQL')
  const bomb = csv([['email'], ...Array.from({ length: 20_000 }, () => ['same@example.com'])])
  assertProblem(t, await upload(rest, bomb, { gzip: true }), 413, 'request.too_large', 'a small gzip body that inflates past the limit')
  const jobs = (await rest('GET', '/v1/imports')).data.data
  t.same(jobs.map((j: { status: string }) => j.status), ['failed', 'failed'])
  t.match(jobs[0].error, /larger than 16384 bytes/)
  const small = await runImport(app, rest, csv([['email'], ['ok@example.com']]))
  t.equal(small.job.status, 'completed', 'a file under the limit imports')
})

t.test('a completed job keeps only its failed rows staged (the errors report)', async (t) => {
  const rest = workspace('limits-cleanup')
  const { upload: res, job } = await runImport(app, rest, csv([['email'], ['a@example.com'], ['bad'], ['b@example.com'], ['also-bad']]))
  t.match(job.counts, { created: 2, failed: 2 })
  t.equal(await stagedRows(res.data.id), 2, 'two staged rows left: the failed ones')
  t.same((await importErrors(rest, res.data.id)).map((e) => e.line), [3, 5], 'the report still reads them')
})

t.test('a job whose upload stopped (its server died) fails after the lease; a live upload is left alone', async (t) => {
  const rest = workspace('limits-lease')
  await rest('GET', '/v1/imports') // the workspace exists
  // What a server killed mid-upload leaves: a job still receiving, its last staged batch long ago.
  const base = { workspaceId: 'limits-lease', type: 'contacts' as const, format: 'csv' as const, upsertOn: 'email' as const, actor: 'tester', status: 'receiving' as const }
  await database.db.insert(importJobs).values([
    { ...base, id: 'imp_dead', heartbeatAt: new Date(Date.now() - 60_000) },
    { ...base, id: 'imp_alive', heartbeatAt: new Date() }
  ])
  await app.jobs.imports.drain()
  t.match((await getJob(rest, 'imp_dead')).data, { status: 'failed', error: /upload stopped/ })
  t.equal((await getJob(rest, 'imp_alive')).data.status, 'receiving', 'an upload inside its lease keeps going')
})

t.test('a slow upload shows signs of life: what arrived is staged once a second has passed, not only per full batch', async (t) => {
  const tk = token({ workspace: 'limits-slow' })
  const rest = asToken(anyRest, tk)
  const body = new PassThrough()
  body.write('email\nslow1@example.com\n')
  const pending = app.inject({ method: 'POST', url: '/v1/imports?upsertOn=email', headers: { authorization: `Bearer ${tk}`, 'content-type': 'text/csv' }, payload: body })
  let job: { id: string, status: string } | undefined
  for (let i = 0; i < 500 && !job; i++) {
    job = (await rest('GET', '/v1/imports')).data.data[0]
    if (!job) await delay(20)
  }
  t.equal(job?.status, 'receiving', 'listed while its body streams in')
  await delay(1100)
  body.write('slow2@example.com\n')
  let seen = (await getJob(rest, job!.id)).data
  for (let i = 0; i < 250 && seen.counts.rowsRead === 0; i++) {
    await delay(20)
    seen = (await getJob(rest, job!.id)).data
  }
  // The CSV parser hands over a record once it sees what follows it: the first row at least.
  t.equal(seen.status, 'receiving')
  t.ok(seen.counts.rowsRead >= 1, `rows staged from a batch of 1,000 not yet full (${seen.counts.rowsRead}): the lease heartbeat moved`)
  body.end('slow3@example.com\n')
  t.equal((await pending).statusCode, 202)
  await app.jobs.imports.drain()
  t.match((await getJob(rest, job!.id)).data, { status: 'completed', counts: { rowsRead: 3, created: 3, failed: 0 } })
})

t.test('workspaces take turns: a one-row import is not stuck behind another workspace\'s big one', async (t) => {
  const big = workspace('limits-big')
  const small = workspace('limits-small')
  await app.jobs.imports.stop()
  t.teardown(() => app.jobs.imports.start())
  // Three batches of 1,000 (short keys, under the upload limit), then one row in another workspace.
  const bigRes = await upload(big, csv([['externalId'], ...Array.from({ length: 2500 }, (_, i) => [i])]), { query: { upsertOn: 'externalId' } })
  const smallRes = await upload(small, csv([['email'], ['first@example.com']]))
  t.equal(bigRes.statusCode, 202, bigRes.body)
  t.equal(smallRes.statusCode, 202, smallRes.body)
  app.jobs.imports.start()
  await app.jobs.imports.drain()
  const bigJob = (await getJob(big, bigRes.data.id)).data
  const smallJob = (await getJob(small, smallRes.data.id)).data
  t.match(bigJob, { status: 'completed', counts: { created: 2500 } })
  t.match(smallJob, { status: 'completed', counts: { created: 1 } })
  t.ok(smallJob.finishedAt < bigJob.finishedAt, `the small job ended first (${smallJob.finishedAt} < ${bigJob.finishedAt}), though queued after`)
})

t.test('an NDJSON line nested 2,000 deep is one failed row, never a 500', async (t) => {
  const rest = workspace('limits-deep')
  const deep = '{"externalId":"deep","attributes":' + '{"a":'.repeat(2000) + '1' + '}'.repeat(2001)
  const { upload: res, job } = await runImport(app, rest, ndjson(['{"externalId":"fine"}', deep, '['.repeat(500) + ']'.repeat(500)]), { query: { format: 'ndjson', upsertOn: 'externalId' } })
  t.equal(res.statusCode, 202)
  t.match(job, { status: 'completed', counts: { rowsRead: 3, created: 1, failed: 2 } })
  t.match(await importErrors(rest, res.data.id), [{ line: 2, field: /^attributes\.a/, reason: /32 levels deep/ }, { line: 3, reason: /not a JSON object/ }])
})
