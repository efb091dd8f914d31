import { PassThrough } from 'node:stream'
import { setTimeout } from 'node:timers/promises'
import { parse as parseCsv } from 'csv-parse/sync'
import t from 'tap'
import { build } from './helper.js'
import { assertProblem } from './support/problem.js'
import { allContacts, asToken, contactBy, csv, getJob, importErrors, ndjson, runImport, upload } from './support/imports/index.js'

// Bulk imports over HTTP: upload, run the worker until idle (app.jobs.imports.drain()), read back
// the job, its errors report and the contacts through the public API. One app (and database) for
// the file; each subtest works in its own workspace.

const { app, rest: anyRest, token } = await build(t)
const workspace = (name: string) => asToken(anyRest, token({ workspace: name }))

const HEADER = ['externalId', 'givenName', 'familyName', 'company', 'title', 'email', 'phone', 'tags', 'attributes.plan', 'attributes.note']

t.test('CSV edge cases: quoted commas and quotes, embedded newlines, BOM, physical line numbers, empty cells absent', async (t) => {
  const rest = workspace('edge')
  const text = '\uFEFF' + [
    HEADER.join(','), // line 1
    'e1,Ada,Lovelace,"Engines, Ltd.","The ""Countess""",Ada@Example.com,+44 20 7946 0958,vip;math|vip,gold,"line one', // line 2
    'line two"', // line 3
    'e2,Grace,Hopper,Navy,,grace@example.com,,,,', // line 4
    'e3,Bad,Email,,,not-an-email,,,,', // line 5
    'e4,Multi,Line,,,also-bad,,,,"a note', // line 6
    'over', // line 7
    'three lines"', // line 8
    '', // line 9: an empty line is skipped
    'e5,Bad,Phone,,,e5@example.com,12,,,' // line 10
  ].join('\n') + '\n'

  const { upload: res, job } = await runImport(app, rest, text, { query: { upsertOn: 'externalId' } })
  t.equal(res.statusCode, 202, res.body)
  t.equal(res.data.status, 'queued', 'the upload answers with the queued job')
  t.equal(res.headers.location, `/v1/imports/${res.data.id}`)
  t.equal(res.data.errorsUrl, `/v1/imports/${res.data.id}/errors`)
  t.match(job, {
    status: 'completed', format: 'csv', upsertOn: 'externalId', dryRun: false, error: null,
    counts: { rowsRead: 5, processed: 5, created: 2, updated: 0, unchanged: 0, failed: 3 }
  }, 'five rows read (the empty line is none), two created, three failed')
  t.ok(job.startedAt && job.finishedAt, 'timings are set')
  t.type(job.durationSeconds, 'number')
  t.type(job.rowsPerSecond, 'number')

  const ada = await contactBy(rest, { externalId: 'e1' })
  t.match(ada, {
    givenName: 'Ada', familyName: 'Lovelace', displayName: 'Ada Lovelace',
    company: 'Engines, Ltd.', title: 'The "Countess"',
    emails: [{ address: 'ada@example.com', primary: true }],
    phones: ['+442079460958'],
    attributes: { plan: 'gold', note: 'line one\nline two' }
  }, 'a quoted comma, doubled quotes and an embedded newline survive; BOM stripped from the first header')
  t.same(ada?.tags, ['vip', 'math'], 'tags split on ; and |, deduplicated')
  t.same(ada?.attributes, { plan: 'gold', note: 'line one\nline two' })
  t.equal(ada?.externalId, 'e1', 'the first header (behind the BOM) was read as externalId')

  const grace = await contactBy(rest, { externalId: 'e2' })
  t.match(grace, { title: null, phones: [], tags: [], attributes: {} }, 'empty cells are absent, not empty strings')

  const errors = await importErrors(rest, res.data.id)
  t.same(errors.map((e) => e.line), [5, 6, 10], 'errors name the physical line each row starts on')
  t.match(errors[0], { line: 5, field: /^emails/, reason: /e-mail/ })
  t.match(errors[1], { line: 6, field: /^emails/ })
  t.match(errors[2], { line: 10, field: /^phones/, reason: /phone/ })
  t.equal((await allContacts(rest)).length, 2)
})

t.test('CSV: CRLF line ends (also inside a quoted cell) keep physical line numbers', async (t) => {
  const rest = workspace('crlf')
  const text = [
    'externalId,email,attributes.note', // 1
    'c1,c1@example.com,"first', // 2
    'second"', // 3
    'c2,bad-email,', // 4
    'c3,c3@example.com,"x\ny"', // 5 and 6 (an LF inside the cell, as Excel writes it)
    'c4,bad-again,' // 7
  ].join('\r\n') + '\r\n'
  const { upload: res, job } = await runImport(app, rest, text, { query: { upsertOn: 'externalId' } })
  t.match(job.counts, { rowsRead: 4, created: 2, failed: 2 })
  t.same((await importErrors(rest, res.data.id)).map((e) => e.line), [4, 7], 'lines 4 and 7, as an editor shows them')
  t.equal((await contactBy(rest, { externalId: 'c1' }))?.attributes.note, 'first\r\nsecond', 'the cell keeps its line break')
})

t.test('CSV: ; delimiter, mapping renames, gzip', async (t) => {
  const rest = workspace('delimiter')
  const mapping = JSON.stringify({ 'E-mail': 'email', Vorname: 'givenName', Firma: 'company', Kennung: 'externalId' })
  const text = 'Kennung;Vorname;Firma;E-mail;attributes.stadt\n' +
    'k1;Jürgen;"Müller; Söhne";j@example.de|j2@example.de;Köln\n' +
    'k2;Anna;;anna@example.de;\n'
  const { job } = await runImport(app, rest, text, { query: { upsertOn: 'externalId', delimiter: ';', mapping } })
  t.match(job, { status: 'completed', counts: { rowsRead: 2, created: 2, failed: 0 } })
  const k1 = await contactBy(rest, { externalId: 'k1' })
  t.match(k1, { givenName: 'Jürgen', company: 'Müller; Söhne', attributes: { stadt: 'Köln' } }, 'renamed columns, UTF-8, a quoted ; inside a ;-separated file')
  t.same(k1?.emails.map((e) => e.address), ['j@example.de', 'j2@example.de'], 'an e-mail list separated by |')
  t.match(await contactBy(rest, { externalId: 'k2' }), { company: null, attributes: {} })

  const badMapping = await upload(rest, text, { query: { mapping: '["email"]' } })
  assertProblem(t, badMapping, 400, 'validation.failed', 'a mapping that is not an object')
  const badDelimiter = await upload(rest, text, { query: { delimiter: ';;' } })
  assertProblem(t, badDelimiter, 400, 'validation.failed', 'a delimiter of two characters')

  // gzip: Content-Encoding on a CSV, and application/gzip with format=csv.
  const gz = csv([['externalId', 'email', 'title'], ['g1', 'g1@example.com', 'Zipped'], ['g2', 'g2@example.com', '']])
  const zipped = await runImport(app, rest, gz, { query: { upsertOn: 'externalId' }, gzip: true })
  t.match(zipped.job, { status: 'completed', counts: { rowsRead: 2, created: 2 } }, 'Content-Encoding: gzip')
  t.equal((await contactBy(rest, { externalId: 'g1' }))?.title, 'Zipped')
  const asGzipType = await runImport(app, rest, gz, { query: { upsertOn: 'externalId', format: 'csv' }, gzip: true, contentType: 'application/gzip', headers: { 'content-encoding': 'identity' } })
  t.match(asGzipType.job, { status: 'completed', counts: { rowsRead: 2, unchanged: 2 } }, 'application/gzip with format=csv: same rows, unchanged')

  const notGzip = await upload(rest, gz, { query: { upsertOn: 'externalId' }, headers: { 'content-encoding': 'gzip' } })
  assertProblem(t, notGzip, 400, 'import.malformed', 'Content-Encoding: gzip on a plain body')
  t.equal((await allContacts(rest)).length, 4)
})

t.test('every upsert key: a second import updates the same contacts, never duplicates', async (t) => {
  const files: Record<string, { header: string[], rows: string[][] }> = {
    externalId: { header: ['externalId', 'givenName', 'title'], rows: [['x1', 'One', 'A'], ['x2', 'Two', 'A'], ['x3', 'Three', 'A']] },
    email: { header: ['email', 'givenName', 'title'], rows: [['one@example.com', 'One', 'A'], ['TWO@example.com', 'Two', 'A'], ['three@example.com', 'Three', 'A']] },
    phone: { header: ['phone', 'givenName', 'title'], rows: [['+14155552671', 'One', 'A'], ['+1 415 555 2672', 'Two', 'A'], ['+1 (415) 555-2673', 'Three', 'A']] }
  }
  for (const [key, file] of Object.entries(files)) {
    const tk = token({ workspace: `key-${key.toLowerCase()}` })
    const rest = anyRest
    const first = await runImport(app, rest, csv([file.header, ...file.rows]), { query: { upsertOn: key }, token: tk })
    t.match(first.job.counts, { rowsRead: 3, created: 3, failed: 0 }, `${key}: first import creates 3`)
    const before = await allContacts(rest, tk)

    // Same keys written differently where the key normalizes (case, phone formatting).
    const changed = file.rows.map((r) => [key === 'email' ? r[0].toUpperCase() : key === 'phone' ? r[0].replace(/\D/g, '').replace(/^/, '+') : r[0], r[1], 'B'])
    const second = await runImport(app, rest, csv([file.header, ...changed]), { query: { upsertOn: key }, token: tk })
    t.match(second.job.counts, { rowsRead: 3, created: 0, updated: 3, failed: 0 }, `${key}: the second import updates 3`)
    const after = await allContacts(rest, tk)
    t.equal(after.length, 3, `${key}: still 3 contacts`)
    t.same(after.map((c) => c.id).sort(), before.map((c) => c.id).sort(), `${key}: the same contacts`)
    t.ok(after.every((c) => c.title === 'B' && c.version === 2), `${key}: each updated once`)
  }
})

t.test('duplicate rows inside one file: one contact; an identical row is unchanged, a changed one updates it', async (t) => {
  const rest = workspace('dups')
  const text = csv([
    ['email', 'givenName', 'company'],
    ['dup@example.com', 'Dee', 'Acme'],
    ['dup@example.com', 'Dee', 'Acme'],
    ['DUP@example.com', 'Dee', 'Globex'],
    ['other@example.com', 'Oz', '']
  ])
  const { upload: res, job } = await runImport(app, rest, text, { query: { upsertOn: 'email' } })
  t.match(job.counts, { rowsRead: 4, created: 2, unchanged: 1, updated: 1, failed: 0 })
  const all = await allContacts(rest)
  t.equal(all.length, 2, 'no duplicate contact')
  const dee = await contactBy(rest, { email: 'dup@example.com' })
  t.equal(dee?.company, 'Globex', 'the last row wins')
  t.same(await importErrors(rest, res.data.id), [])
})

t.test('the errors report: JSON and CSV with line, field and reason; the fixed file imports', async (t) => {
  const rest = workspace('report')
  const rows = [
    ['externalId', 'givenName', 'email', 'phone'],
    ['r1', 'Good', 'good@example.com', ''],
    ['r2', 'Bad email', 'nope', ''],
    ['', 'No key', 'nokey@example.com', ''],
    ['r4', 'Bad phone', 'r4@example.com', '555'],
    ['r5', 'Good too', 'good2@example.com', '+14155552671']
  ]
  const { upload: res, job } = await runImport(app, rest, csv(rows), { query: { upsertOn: 'externalId' } })
  t.match(job.counts, { rowsRead: 5, created: 2, failed: 3 })
  const id = res.data.id

  const json = await importErrors(rest, id)
  t.same(json.map((e) => e.line), [3, 4, 5])
  t.match(json, [
    { line: 3, field: /^emails/, reason: /e-mail/ },
    { line: 4, field: 'externalId', reason: /Required/ },
    { line: 5, field: /^phones/, reason: /phone/ }
  ])
  for (const e of json) t.ok(e.reason.length > 0, `line ${e.line}: a reason`)

  const asCsv = await rest('GET', `/v1/imports/${id}/errors?format=csv`)
  t.equal(asCsv.statusCode, 200)
  t.match(asCsv.headers['content-type'], /^text\/csv/)
  t.match(asCsv.headers['content-disposition'], new RegExp(`attachment; filename="${id}-errors.csv"`))
  const parsed = parseCsv(asCsv.body, { columns: true }) as Array<Record<string, string>>
  t.same(parsed.map((r) => ({ line: Number(r.line), field: r.field, reason: r.reason })), json, 'the CSV has the same rows as the JSON')
  t.match(asCsv.body.split('\n')[0], /^line,field,reason\r?$/, 'header row line,field,reason')

  const byAccept = await rest('GET', `/v1/imports/${id}/errors`, { headers: { accept: 'text/csv' } })
  t.equal(byAccept.body, asCsv.body, 'Accept: text/csv gives the same CSV')
  t.match(byAccept.headers['content-type'], /^text\/csv/)
  const explicitJson = await rest('GET', `/v1/imports/${id}/errors?format=json`, { headers: { accept: 'text/csv' } })
  t.same(explicitJson.data.data, json, 'format=json wins over Accept')

  const page = await rest('GET', `/v1/imports/${id}/errors?limit=2`)
  t.equal(page.data.data.length, 2)
  t.type(page.data.nextCursor, 'string', 'the report pages')
  const rest2 = await rest('GET', `/v1/imports/${id}/errors?limit=2&after=${encodeURIComponent(page.data.nextCursor)}`)
  t.same([...page.data.data, ...rest2.data.data], json, 'pages join to the whole report')
  t.equal(rest2.data.nextCursor, null)

  // Fix the three rows, upload the whole file again: the fixed rows import, the good ones are unchanged.
  const fixed = rows.map((r) => [...r])
  fixed[2][2] = 'fixed@example.com'
  fixed[3][0] = 'r3'
  fixed[4][3] = '+14155552672'
  const again = await runImport(app, rest, csv(fixed), { query: { upsertOn: 'externalId' } })
  t.match(again.job.counts, { rowsRead: 5, created: 3, unchanged: 2, failed: 0 })
  t.same(await importErrors(rest, again.upload.data.id), [])
  t.equal((await allContacts(rest)).length, 5)
})

t.test('a row that clashes with another contact fails alone; the job still completes', async (t) => {
  const rest = workspace('clash')
  const owner = await rest('POST', '/v1/contacts', { body: { displayName: 'Owner', emails: ['owner@example.com'], externalId: 'crm-1' } })
  t.equal(owner.statusCode, 201)
  const { upload: res, job } = await runImport(app, rest, csv([
    ['email', 'externalId', 'title'],
    ['first@example.com', '', 'ok'], // 2
    ['second@example.com', 'crm-1', 'takes the owner\'s externalId'], // 3
    ['third@example.com', 'crm-9', 'ok'], // 4
    ['fourth@example.com', 'crm-9', 'crm-9 again, another e-mail'] // 5
  ]), { query: { upsertOn: 'email' } })
  t.match(job, { status: 'completed', counts: { rowsRead: 4, created: 2, failed: 2 } }, 'completed, not stuck on the batch')
  t.match(await importErrors(rest, res.data.id), [
    { line: 3, field: 'externalId', reason: /Owned by/ },
    { line: 5, field: 'externalId', reason: /Owned by/ }
  ])
  t.equal((await allContacts(rest)).length, 3)
  t.equal((await contactBy(rest, { externalId: 'crm-1' }))?.id, owner.data.id, 'the owner keeps its externalId')

  const later = await runImport(app, rest, csv([['email'], ['later@example.com']]), { query: { upsertOn: 'email' } })
  t.equal(later.job.status, 'completed', 'and the next job runs')
})

t.test('dry run: counts computed, nothing written', async (t) => {
  const rest = workspace('dry')
  const file = csv([['email', 'title'], ['d1@example.com', 'One'], ['d2@example.com', 'Two'], ['bad', 'x']])
  const dry = await runImport(app, rest, file, { query: { upsertOn: 'email', dryRun: 'true' } })
  t.match(dry.job, { status: 'completed', dryRun: true, counts: { rowsRead: 3, created: 2, failed: 1 } })
  t.equal((await allContacts(rest)).length, 0, 'no contact written')
  t.equal((await importErrors(rest, dry.upload.data.id)).length, 1, 'the errors report is there for a dry run too')

  await runImport(app, rest, file, { query: { upsertOn: 'email' } })
  const before = await allContacts(rest)
  const changed = csv([['email', 'title'], ['d1@example.com', 'Changed'], ['d2@example.com', 'Two'], ['d3@example.com', 'New']])
  const dry2 = await runImport(app, rest, changed, { query: { upsertOn: 'email', dryRun: 'true' } })
  t.match(dry2.job.counts, { rowsRead: 3, created: 1, updated: 1, unchanged: 1, failed: 0 })
  t.same(await allContacts(rest), before, 'existing contacts untouched, none added')

  // Rows are applied in batches of 1,000: a key repeated in a later batch.
  const big = csv([['externalId'], ...Array.from({ length: 1000 }, (_, i) => [`big-${i}`]), ['big-0']])
  const dryBig = await runImport(app, rest, big, { query: { upsertOn: 'externalId', dryRun: 'true' } })
  t.match(dryBig.job.counts, { rowsRead: 1001, created: 1000, unchanged: 1 }, 'a dry run counts a key repeated in a later batch as the real run does')
  t.equal((await allContacts(rest)).length, before.length, 'still nothing written')
  const realBig = await runImport(app, rest, big, { query: { upsertOn: 'externalId' } })
  t.match(realBig.job.counts, { rowsRead: 1001, created: 1000, unchanged: 1 }, 'the real run')
})

t.test('cancel: a queued job is cancelled and nothing is applied; an ended job is not cancellable', async (t) => {
  // The import worker is stopped: the job stays queued until it is started again.
  const rest = workspace('cancel')
  await app.jobs.imports.stop()
  let restarted = false
  t.teardown(() => { if (!restarted) app.jobs.imports.start() })
  const file = csv([['email'], ['c1@example.com'], ['c2@example.com']])
  const queued = await upload(rest, file)
  t.equal(queued.statusCode, 202)
  t.equal(queued.data.status, 'queued')
  const id = queued.data.id

  const cancelled = await rest('POST', `/v1/imports/${id}/cancel`)
  t.equal(cancelled.statusCode, 200, cancelled.body)
  t.match(cancelled.data, { id, status: 'cancelled', counts: { rowsRead: 2, processed: 0 } })
  t.ok(cancelled.data.finishedAt, 'finishedAt set')

  app.jobs.imports.start()
  restarted = true
  await app.jobs.imports.drain()
  const after = await getJob(rest, id)
  t.match(after.data, { status: 'cancelled', counts: { processed: 0, created: 0 } }, 'the worker skips a cancelled job')
  t.equal((await allContacts(rest)).length, 0, 'nothing applied')

  const twice = await rest('POST', `/v1/imports/${id}/cancel`)
  assertProblem(t, twice, 409, 'import.not_cancellable', 'cancelling twice')

  const done = await runImport(app, rest, file)
  t.equal(done.job.status, 'completed')
  const late = await rest('POST', `/v1/imports/${done.upload.data.id}/cancel`)
  assertProblem(t, late, 409, 'import.not_cancellable', 'cancelling a completed job')
  t.equal((await getJob(rest, done.upload.data.id)).data.status, 'completed', 'still completed')
  assertProblem(t, await rest('POST', '/v1/imports/imp_nonexistent/cancel'), 404, 'import.not_found', 'an unknown id')
})

t.test('cancel while the body is still streaming in: the job stays cancelled', async (t) => {
  const tk = token({ workspace: 'cancel-receiving' })
  const rest = asToken(anyRest, tk)
  const body = new PassThrough()
  body.write('email\nr1@example.com\n')
  const pending = app.inject({ method: 'POST', url: '/v1/imports?upsertOn=email', headers: { authorization: `Bearer ${tk}`, 'content-type': 'text/csv' }, payload: body })
  let job: { id: string, status: string } | undefined
  for (let i = 0; i < 500 && !job; i++) {
    job = (await rest('GET', '/v1/imports')).data.data[0]
    if (!job) await setTimeout(20)
  }
  t.equal(job?.status, 'receiving', 'listed while its body streams in')
  const cancelled = await rest('POST', `/v1/imports/${job!.id}/cancel`)
  t.equal(cancelled.data.status, 'cancelled', cancelled.body)
  body.end('r2@example.com\n')
  const res = await pending
  t.equal(res.statusCode, 202)
  t.equal(res.json().status, 'cancelled', 'the upload answers with the cancelled job, not a queued one')
  await app.jobs.imports.drain()
  t.match((await getJob(rest, job!.id)).data, { status: 'cancelled', counts: { processed: 0 } })
  t.equal((await allContacts(rest)).length, 0, 'nothing applied')
})

t.test('idempotent re-run: the same file twice leaves everything unchanged', async (t) => {
  const rest = workspace('rerun')
  const file = csv([
    ['externalId', 'givenName', 'familyName', 'email', 'phone', 'tags', 'attributes.tier', 'attributes.region', 'attributes.vip'],
    ['i1', 'Ivy', 'Iverson', 'ivy@example.com', '+14155552671', 'a;b', 'gold', 'emea', 'yes'],
    ['i2', 'Ian', '', 'ian@example.com;ian2@example.com', '', '', '', 'apac', '']
  ])
  const first = await runImport(app, rest, file, { query: { upsertOn: 'externalId' } })
  t.match(first.job.counts, { created: 2 })
  const before = await allContacts(rest)
  const second = await runImport(app, rest, file, { query: { upsertOn: 'externalId' } })
  t.match(second.job.counts, { rowsRead: 2, created: 0, updated: 0, unchanged: 2, failed: 0 }, 'all unchanged')
  t.same(await allContacts(rest), before, 'no version bumped, nothing changed')
})

t.test('Idempotency-Key: a retried upload returns the first job and starts no second one', async (t) => {
  const rest = workspace('idem')
  const file = csv([['email', 'title'], ['k1@example.com', 'First']])
  const first = await upload(rest, file, { headers: { 'idempotency-key': 'upload-1' } })
  t.equal(first.statusCode, 202)
  t.equal(first.headers['idempotent-replayed'], undefined, 'the first upload is not a replay')
  await app.jobs.imports.drain()

  const retry = await upload(rest, csv([['email', 'title'], ['k1@example.com', 'Second'], ['k2@example.com', 'x']]), { headers: { 'idempotency-key': 'upload-1' } })
  t.equal(retry.statusCode, 202)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(retry.data.id, first.data.id, 'the same job')
  t.equal(retry.data.status, 'completed', 'in its current state')
  await app.jobs.imports.drain()
  const list = await rest('GET', '/v1/imports')
  t.equal(list.statusCode, 200)
  t.same(list.data.data.map((j: { id: string }) => j.id), [first.data.id], 'one job only')
  const all = await allContacts(rest)
  t.equal(all.length, 1, 'the retry body was not imported')
  t.equal(all[0].title, 'First')

  const other = await upload(rest, file, { headers: { 'idempotency-key': 'upload-1' }, token: token({ workspace: 'idem-other' }) })
  t.equal(other.statusCode, 202)
  t.not(other.data.id, first.data.id, 'keys are per workspace')
  t.equal(other.headers['idempotent-replayed'], undefined)
  const fresh = await upload(rest, file, { headers: { 'idempotency-key': 'upload-2' } })
  t.not(fresh.data.id, first.data.id, 'another key, another job')

  // The same key sent several times at once (a client retrying before the first answer).
  const racer = workspace('idem-race')
  const together = await Promise.all([1, 2, 3, 4].map(() => upload(racer, file, { headers: { 'idempotency-key': 'at-once' } })))
  t.same(together.map((r) => r.statusCode), [202, 202, 202, 202], `all accepted (${together.map((r) => r.body.slice(0, 120)).join(' | ')})`)
  t.equal(new Set(together.map((r) => r.data.id)).size, 1, 'one job for all of them')
  t.equal(together.filter((r) => r.headers['idempotent-replayed'] !== 'true').length, 1, 'exactly one is not a replay')
  await app.jobs.imports.drain()
  t.equal((await racer('GET', '/v1/imports')).data.data.length, 1, 'one job listed')
  t.equal((await allContacts(racer)).length, 1, 'imported once')
})

t.test('NDJSON: good lines import, a bad line is reported with its line number', async (t) => {
  const rest = workspace('ndjson')
  const text = ndjson([
    { externalId: 'n1', givenName: 'Nia', emails: ['nia@example.com'], attributes: { score: 3, nested: { a: 1 } } }, // 1
    '{"externalId": "n2", "givenName": ', // 2: truncated JSON
    '', // 3: blank, skipped
    { externalId: 'n3', displayName: 'Three', tags: ['t'] }, // 4
    '[1, 2]', // 5: not an object
    { externalId: 'n5', emails: ['not-an-email'] }, // 6
    { externalId: 'n6', unknownField: true } // 7
  ])
  const { upload: res, job } = await runImport(app, rest, text, { query: { upsertOn: 'externalId', format: 'ndjson' } })
  t.equal(res.data.format, 'ndjson')
  t.match(job, { status: 'completed', counts: { rowsRead: 6, created: 2, failed: 4 } })
  const errors = await importErrors(rest, res.data.id)
  t.same(errors.map((e) => e.line), [2, 5, 6, 7])
  t.match(errors[0], { line: 2, reason: /JSON/ })
  t.match(errors[1], { line: 5, reason: /JSON object/ })
  t.match(errors[2], { line: 6, field: /^emails/ })
  t.match(errors[3], { line: 7, field: 'unknownField', reason: /[Uu]nknown/ })
  t.match(await contactBy(rest, { externalId: 'n1' }), { attributes: { score: 3, nested: { a: 1 } } }, 'JSON types are kept')

  // The content type picks the format when format= is absent; gzip works too.
  const again = await runImport(app, rest, text, { query: { upsertOn: 'externalId' }, contentType: 'application/x-ndjson', gzip: true })
  t.match(again.job.counts, { rowsRead: 6, unchanged: 2, failed: 4 })
})

t.test('text no database can store (NUL, unpaired surrogates) fails its row only, without SQL in any answer', async (t) => {
  const rest = workspace('unstorable')
  const csvRes = await runImport(app, rest, 'externalId,givenName,attributes.note\nu1,Fine,\nu2,Nul\u0000Byte,\nu3,Also fine,a\u0000b\n', { query: { upsertOn: 'externalId' } })
  t.equal(csvRes.upload.statusCode, 202, csvRes.upload.body.slice(0, 300))
  t.match(csvRes.job, { status: 'completed', counts: { rowsRead: 3, created: 1, failed: 2 } })
  t.match(await importErrors(rest, csvRes.upload.data.id), [
    { line: 3, field: 'givenName', reason: /NUL/ },
    { line: 4, field: 'attributes.note', reason: /NUL/ }
  ])

  const lines = [
    '{"externalId":"j1"}',
    '{"externalId":"j2","givenName":"x\\u0000y"}',
    '{"externalId":"j3","attributes":{"half":"\\ud800"}}',
    '{"externalId":"j4","attributes":{"k\\u0000ey":1}}',
    '{"externalId":"j5","tags":["ok"]}'
  ].join('\n') + '\n'
  const nd = await runImport(app, rest, lines, { query: { upsertOn: 'externalId', format: 'ndjson' } })
  t.equal(nd.upload.statusCode, 202, nd.upload.body.slice(0, 300))
  t.match(nd.job, { status: 'completed', counts: { rowsRead: 5, created: 2, failed: 3 } })
  const errors = await importErrors(rest, nd.upload.data.id)
  t.match(errors, [{ line: 2, field: 'givenName' }, { line: 3, field: 'attributes.half' }, { line: 4, field: /^attributes\.k/ }])
  t.notMatch(JSON.stringify(errors), /insert|import_rows|query/i, 'no SQL in the report')
  t.same((await allContacts(rest)).map((c) => c.externalId).sort(), ['j1', 'j5', 'u1'])
})

t.test('malformed CSV: 400 import.malformed, nothing imported', async (t) => {
  const rest = workspace('malformed')
  const text = 'email,title\nok@example.com,Fine\nbroken@example.com,"never closed\n'
  const res = await upload(rest, text)
  const p = assertProblem(t, res, 400, 'import.malformed', 'an unclosed quote')
  t.match(p.detail, /quote/i, 'the detail says what is wrong')
  await app.jobs.imports.drain()
  t.equal((await allContacts(rest)).length, 0, 'nothing imported')
  const list = await rest('GET', '/v1/imports')
  t.match(list.data.data, [{ status: 'failed' }], 'the job is recorded as failed')

  const octet = await upload(rest, 'email\nx@example.com\n', { contentType: 'application/octet-stream' })
  assertProblem(t, octet, 400, 'validation.failed', 'octet-stream without format=')
})

t.test('tenancy and scopes', async (t) => {
  const rest = anyRest
  const acme = token({ workspace: 'acme' })
  const globex = token({ workspace: 'globex' })
  const { upload: res } = await runImport(app, rest, csv([['email'], ['bad']]), { token: acme })
  const id = res.data.id

  for (const [method, url] of [['GET', `/v1/imports/${id}`], ['GET', `/v1/imports/${id}/errors`], ['GET', `/v1/imports/${id}/errors?format=csv`], ['POST', `/v1/imports/${id}/cancel`]] as const) {
    assertProblem(t, await rest(method, url, { token: globex }), 404, 'import.not_found', `${method} ${url.replace(id, '{id}')} from another workspace`)
  }
  t.same((await rest('GET', '/v1/imports', { token: globex })).data.data, [], 'another workspace lists no jobs')
  t.equal((await rest('GET', `/v1/imports/${id}`, { token: acme })).statusCode, 200, 'the owner still reads it')

  const readOnly = token({ workspace: 'acme', scopes: ['imports:read'] })
  const writeOnly = token({ workspace: 'acme', scopes: ['imports:write'] })
  const contactsOnly = token({ workspace: 'acme', scopes: ['contacts:read', 'contacts:write'] })
  assertProblem(t, await upload(rest, csv([['email'], ['a@example.com']]), { token: readOnly }), 403, 'auth.forbidden', 'upload with imports:read')
  assertProblem(t, await upload(rest, csv([['email'], ['a@example.com']]), { token: contactsOnly }), 403, 'auth.forbidden', 'upload with contacts:write')
  assertProblem(t, await rest('POST', `/v1/imports/${id}/cancel`, { token: readOnly }), 403, 'auth.forbidden', 'cancel with imports:read')
  for (const url of [`/v1/imports/${id}`, `/v1/imports/${id}/errors`, '/v1/imports']) {
    assertProblem(t, await rest('GET', url, { token: writeOnly }), 403, 'auth.forbidden', `GET ${url.replace(id, '{id}')} with imports:write only`)
    t.equal((await rest('GET', url, { token: readOnly })).statusCode, 200, `GET ${url.replace(id, '{id}')} with imports:read`)
  }
  t.equal((await rest('GET', `/v1/imports/${id}`, { token: null })).statusCode, 401, 'no token: 401')
  await app.jobs.imports.drain()
  t.equal((await rest('GET', '/v1/imports', { token: acme })).data.data.length, 1, 'the refused uploads created no job')
})
