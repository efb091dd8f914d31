import t from 'tap'
import { build } from './helper.js'
import { assertProblem } from './support/problem.js'
import { asToken, csv, importErrors, ndjson, runImport, upload } from './support/imports/index.js'

// type=interactions and type=promises imports over HTTP: rows validated with the single-record
// schemas, contacts named by id, externalId or e-mail, applied through the services' rules, and
// idempotent re-runs. One app (and database) for the file; each subtest in its own workspace.

const { app, rest: anyRest, token } = await build(t)
const workspace = (name: string) => asToken(anyRest, token({ workspace: name }))
type Rest = ReturnType<typeof workspace>

async function seedContacts (rest: Rest) {
  const res = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'externalId', records: [{ externalId: 'crm-ada', givenName: 'Ada', emails: ['ada@example.com'] }, { externalId: 'crm-bob', givenName: 'Bob', emails: ['bob@example.com'] }] }
  })
  if (res.statusCode !== 200) throw new Error(res.body)
  const [ada, bob] = res.data.results.map((r: { id: string }) => r.id)
  return { ada, bob }
}

async function list (rest: Rest, path: string, contactId: string) {
  const res = await rest('GET', `${path}?contactId=${contactId}&limit=100`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.data.data as Array<Record<string, any>>
}

const I_HEADER = ['externalId', 'contactId', 'contactExternalId', 'contactEmail', 'direction', 'kind', 'subject', 'body', 'occurredAt']

t.test('interactions CSV: contacts by id, externalId or e-mail; rows validated; errors per row with the field; re-run unchanged', async (t) => {
  const rest = workspace('int-csv')
  const other = workspace('int-csv-other')
  const { ada, bob } = await seedContacts(rest)
  const { ada: foreignAda } = await seedContacts(other)
  const file = csv([
    I_HEADER, // 1
    ['call-1', ada, '', '', 'outbound', 'call', 'Intro call', 'Talked pricing', '2024-03-01T10:00:00Z'], // 2
    ['', '', 'crm-bob', '', 'inbound', 'meeting', '', 'Met at the fair', '2024-03-02T10:00:00Z'], // 3: no externalId: known by its content
    ['note-1', '', '', 'ADA@example.com', 'inbound', 'note', '', 'Prefers e-mail', '2024-03-03T10:00:00Z'], // 4: e-mail in any case
    ['bad-kind', ada, '', '', 'inbound', 'fax', '', '', ''], // 5: kind not allowed
    ['no-contact', '', '', 'nobody@example.com', 'inbound', 'note', '', 'x', ''], // 6
    ['two-refs', ada, 'crm-bob', '', 'inbound', 'note', '', 'x', ''], // 7
    ['foreign', foreignAda, '', '', 'inbound', 'note', '', 'x', ''], // 8: another workspace's contact
    ['bad-date', ada, '', '', 'inbound', 'note', '', 'x', 'yesterday'] // 9
  ])
  const first = await runImport(app, rest, file, { query: { type: 'interactions' } })
  t.match(first.job, { status: 'completed', type: 'interactions', upsertOn: 'externalId', counts: { rowsRead: 8, created: 3, updated: 0, unchanged: 0, failed: 5 } })

  const errors = await importErrors(rest, first.upload.data.id)
  t.same(errors.map((e) => [e.line, e.field]), [[5, 'kind'], [6, 'contactEmail'], [7, 'contactId'], [8, 'contactId'], [9, 'occurredAt']], 'each failed row names its line and field')
  t.match(errors[1].reason, /No contact has this e-mail/)
  t.match(errors[3].reason, /not found/i, 'another workspace\'s contact id is not found')

  const adas = await list(rest, '/v1/interactions', ada)
  t.same(adas.map((i) => [i.kind, i.body]).sort(), [['call', 'Talked pricing'], ['note', 'Prefers e-mail']])
  t.match(adas.find((i) => i.kind === 'call'), { direction: 'outbound', subject: 'Intro call', occurredAt: '2024-03-01T10:00:00.000Z', authorId: 'tester' }, 'written by the service: the uploader is the author')
  t.same((await list(rest, '/v1/interactions', bob)).map((i) => i.body), ['Met at the fair'])
  t.same(await list(other, '/v1/interactions', foreignAda), [], 'nothing reached the other workspace')

  const again = await runImport(app, rest, file, { query: { type: 'interactions' } })
  t.match(again.job.counts, { rowsRead: 8, created: 0, updated: 0, unchanged: 3, failed: 5 }, 'second run of the same file: all unchanged')
  t.equal((await list(rest, '/v1/interactions', ada)).length, 2, 'no duplicate')

  const edited = csv([I_HEADER, ['call-1', ada, '', '', 'outbound', 'call', 'Intro call', 'Talked pricing AND terms', '2024-03-01T10:00:00Z'],
    ['', '', 'crm-bob', '', 'inbound', 'meeting', '', 'Met at the fair, again', '2024-03-02T10:00:00Z']])
  const third = await runImport(app, rest, edited, { query: { type: 'interactions' } })
  t.match(third.job.counts, { created: 1, failed: 1 }, 'a row without externalId is its content: an edited one is new; an edited row with a known externalId is refused')
  t.match(await importErrors(rest, third.upload.data.id), [{ line: 2, field: 'externalId', reason: /Imported before/ }])
})

t.test('interactions NDJSON, dry run and a key repeated in a later batch', async (t) => {
  const rest = workspace('int-ndjson')
  const { ada } = await seedContacts(rest)
  const lines = [
    ...Array.from({ length: 1000 }, (_, i) => ({ externalId: `m-${i}`, contactExternalId: 'crm-ada', direction: 'inbound', kind: 'message', body: `hello ${i}` })),
    { externalId: 'm-0', contactExternalId: 'crm-ada', direction: 'inbound', kind: 'message', body: 'hello 0' }, // batch 2: same as line 1
    'not json' // line 1002
  ]
  const dry = await runImport(app, rest, ndjson(lines), { query: { type: 'interactions', format: 'ndjson', dryRun: 'true' } })
  t.match(dry.job.counts, { rowsRead: 1002, created: 1000, unchanged: 1, failed: 1 }, 'the dry run counts as the real run will')
  t.same(await list(rest, '/v1/interactions', ada), [], 'a dry run writes nothing')
  const real = await runImport(app, rest, ndjson(lines), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(real.job.counts, { rowsRead: 1002, created: 1000, unchanged: 1, failed: 1 })
  const again = await runImport(app, rest, ndjson(lines), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(again.job.counts, { created: 0, unchanged: 1001, failed: 1 })
  t.match(await importErrors(rest, again.upload.data.id), [{ line: 1002, reason: /not a JSON object/ }])

  // Keys are per workspace: the same file in another workspace (same contact externalIds) is new there.
  const elsewhere = workspace('int-ndjson-elsewhere')
  const { ada: theirAda } = await seedContacts(elsewhere)
  const theirs = await runImport(app, elsewhere, ndjson(lines), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(theirs.job.counts, { created: 1000, unchanged: 1, failed: 1 }, 'nothing known from the first workspace')
  t.equal((await elsewhere('GET', `/v1/interactions?contactId=${theirAda}&limit=100`)).data.data.length, 100, 'written to the second workspace\'s contact')
  t.equal((await list(rest, '/v1/interactions', ada)).length, 100, 'the first workspace\'s first page is unchanged')
})

const P_HEADER = ['externalId', 'contactExternalId', 'contactEmail', 'description', 'dueAt', 'kind', 'requiresEvidence', 'status', 'keptAt', 'reason']

t.test('promises CSV: created through the service, verdicts through its state machine, re-runs', async (t) => {
  const rest = workspace('prom-csv')
  const { ada, bob } = await seedContacts(rest)
  const rows = (overrides: Record<string, string[]> = {}) => csv([
    P_HEADER, // 1
    overrides.p1 ?? ['p1', 'crm-ada', '', 'Send the quote', '2030-01-10T00:00:00Z', 'quote', '', '', '', ''], // 2: open
    ['p2', '', 'bob@example.com', 'Call back', '2030-01-05T00:00:00Z', '', '', 'kept', '2030-01-04T00:00:00Z', ''], // 3: kept on time
    ['p3', 'crm-bob', '', 'Visit', '2030-01-05T00:00:00Z', '', '', 'kept', '2030-01-06T00:00:00Z', ''], // 4: kept late
    ['p4', 'crm-ada', '', 'Invoice', '2030-01-05T00:00:00Z', '', '', 'cancelled', '', 'Deal lost'], // 5
    ['p5', 'crm-ada', '', 'Proof needed', '2030-01-05T00:00:00Z', '', 'true', 'kept', '', ''], // 6: evidence required: refused
    ['p6', 'crm-ada', '', '', '2030-01-05T00:00:00Z', '', '', '', '', ''], // 7: no description
    ['p7', 'crm-ada', '', 'Whenever', 'soon', '', '', '', '', ''] // 8: bad dueAt
  ])
  const first = await runImport(app, rest, rows(), { query: { type: 'promises' } })
  t.match(first.job, { status: 'completed', type: 'promises', counts: { rowsRead: 7, created: 4, failed: 3 } })
  const errors = await importErrors(rest, first.upload.data.id)
  t.same(errors.map((e) => [e.line, e.field]), [[6, 'status'], [7, 'description'], [8, 'dueAt']])
  t.match(errors[0].reason, /evidence/i, 'the service\'s rule refused it')

  const adas = await list(rest, '/v1/promises', ada)
  const bobs = await list(rest, '/v1/promises', bob)
  t.same(adas.map((p) => [p.description, p.status]).sort(), [['Invoice', 'cancelled'], ['Send the quote', 'open']], 'the refused row left nothing behind')
  t.same(bobs.map((p) => [p.description, p.status]).sort(), [['Call back', 'kept'], ['Visit', 'kept_late']])
  const quote = adas.find((p) => p.description === 'Send the quote')!
  t.match(quote, { kind: 'quote', promisor: 'tester', promisorType: 'member', dueAt: '2030-01-10T00:00:00.000Z' })
  const events = await rest('GET', `/v1/promises/${bobs.find((p) => p.description === 'Visit')!.id}/events`)
  t.same(events.data.data.map((e: { type: string }) => e.type), ['made', 'kept_late'], 'the history is the one the API writes')

  const again = await runImport(app, rest, rows(), { query: { type: 'promises' } })
  t.match(again.job.counts, { created: 0, updated: 0, unchanged: 4, failed: 3 }, 'second run: all unchanged')

  const kept = await runImport(app, rest, rows({ p1: ['p1', 'crm-ada', '', 'Send the quote', '2030-01-10T00:00:00Z', 'quote', '', 'kept', '2030-01-09T00:00:00Z', ''] }), { query: { type: 'promises' } })
  t.match(kept.job.counts, { updated: 1, unchanged: 3, failed: 3 }, 'a new verdict on a known promise is a transition')
  t.match((await list(rest, '/v1/promises', ada)).find((p) => p.id === quote.id), { status: 'kept', keptAt: '2030-01-09T00:00:00.000Z' })

  const reopened = await runImport(app, rest, rows(), { query: { type: 'promises' } })
  t.match(reopened.job.counts, { updated: 0, unchanged: 3, failed: 4 }, 'kept cannot go back to open')
  t.match((await importErrors(rest, reopened.upload.data.id))[0], { line: 2, field: 'status', reason: /cannot/ })
  t.equal((await list(rest, '/v1/promises', ada)).length, 2, 'never a duplicate promise')
})

t.test('an interaction row keeping promises needs the uploader to hold promises:write, like the single-record API', async (t) => {
  const rest = workspace('int-keeps')
  const { ada } = await seedContacts(rest)
  const due = new Date(Date.now() + 3 * 86_400_000).toISOString()
  const made = await rest('POST', '/v1/promises', { body: { contactId: ada, description: 'Send the quote', dueAt: due } })
  t.equal(made.statusCode, 201, made.body)
  const promiseId = made.data.id
  const occurredAt = new Date(Date.now() + 60_000).toISOString()
  const file = ndjson([
    { externalId: 'mail-1', contactId: ada, direction: 'outbound', kind: 'email', subject: 'The quote', occurredAt, keepsPromiseIds: [promiseId] },
    { externalId: 'mail-2', contactId: ada, direction: 'outbound', kind: 'email', subject: 'Anything else', occurredAt }
  ])
  const logOnly = token({ workspace: 'int-keeps', scopes: ['imports:write', 'imports:read', 'interactions:write', 'interactions:read'] })
  const limited = await runImport(app, rest, file, { query: { type: 'interactions', format: 'ndjson' }, token: logOnly })
  t.match(limited.job.counts, { created: 1, failed: 1 }, 'the row keeping a promise fails, the other is imported')
  t.match((await importErrors(rest, limited.upload.data.id))[0], { line: 1, reason: /promises:write/ })
  t.equal((await rest('GET', `/v1/promises/${promiseId}`)).data.status, 'open', 'the promise is untouched')
  const full = await runImport(app, rest, file, { query: { type: 'interactions', format: 'ndjson' } })
  t.match(full.job.counts, { created: 1, unchanged: 1, failed: 0 }, 'with promises:write the same file keeps it')
  t.equal((await rest('GET', `/v1/promises/${promiseId}`)).data.status, 'kept')
})

t.test('refusals: scopes, upsertOn, unknown type', async (t) => {
  const rest = workspace('prom-refused')
  const importsOnly = token({ workspace: 'prom-refused', scopes: ['imports:write', 'imports:read'] })
  const file = csv([P_HEADER, ['p1', 'crm-ada', '', 'x', '2030-01-10T00:00:00Z', '', '', '', '', '']])
  assertProblem(t, await upload(rest, file, { query: { type: 'promises' }, token: importsOnly }), 403, 'auth.forbidden', 'promises need promises:write too')
  assertProblem(t, await upload(rest, file, { query: { type: 'interactions' }, token: importsOnly }), 403, 'auth.forbidden', 'interactions need interactions:write too')
  assertProblem(t, await upload(rest, file, { query: { type: 'promises', upsertOn: 'email' } }), 400, 'validation.failed', 'promises are found by externalId only')
  assertProblem(t, await upload(rest, file, { query: { type: 'deals' } }), 400, 'validation.failed')
  const jobs = await rest('GET', '/v1/imports')
  t.same(jobs.data.data, [], 'no job started')
})
