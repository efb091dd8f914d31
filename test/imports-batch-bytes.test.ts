import t from 'tap'
import { build } from './helper.js'
import { asToken, ndjson, runImport } from './support/imports/index.js'

// A batch is bounded in bytes as well as rows (IMPORT_BATCH_BYTES): 5,000 rows of 100 kB bodies
// would be half a gigabyte in memory at once. Long rows come in smaller batches, when staged and
// when applied; a single row larger than the bound is still a batch of its own.

let counting = false
const statements: string[] = []
const { app, rest: anyRest, token } = await build(t, {
  config: { imports: { maxBytes: 2 ** 30, uploadLeaseMs: 600_000, batchRows: 5000, batchBytes: 65_536 } },
  onQuery: (q) => { if (counting) statements.push(q) }
})
const workspace = (name: string) => asToken(anyRest, token({ workspace: name }))
const count = (pattern: RegExp) => statements.filter((s) => pattern.test(s)).length

t.test('long rows: staged and applied in batches of at most IMPORT_BATCH_BYTES, every row once', async (t) => {
  const rest = workspace('bytes-long')
  const contact = (await rest('POST', '/v1/contacts', { body: { displayName: 'Long talker' } })).data
  const body = (i: number) => `Message ${i}: ` + 'x'.repeat(20_000)
  const rows = Array.from({ length: 40 }, (_, i) => ({ externalId: `long-${i}`, contactId: contact.id, direction: 'inbound', kind: 'email', body: body(i) }))
  statements.length = 0
  counting = true
  const run = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  counting = false
  t.match(run.job, { status: 'completed', counts: { rowsRead: 40, created: 40, failed: 0 } })
  // 40 rows of ~20 kB under a 64 kB bound: about three rows a batch.
  const staged = count(/insert into import_rows/i)
  const applied = count(/^\s*insert into "?interactions"? /i)
  t.ok(staged >= 12 && staged <= 20, `staged in ${staged} transactions, not one`)
  t.ok(applied >= 12 && applied <= 20, `applied in ${applied} batches, not one`)
  const listed = (await rest('GET', `/v1/interactions?contactId=${contact.id}&limit=100`)).data.data as Array<{ body: string }>
  t.same(listed.map((i) => i.body).sort(), rows.map((r) => r.body).sort(), 'every row once, whole')
})

t.test('a row larger than the bound is a batch of its own; short rows still fill batches by count', async (t) => {
  const rest = workspace('bytes-one')
  const contact = (await rest('POST', '/v1/contacts', { body: { displayName: 'Once long' } })).data
  const huge = 'y'.repeat(90_000)
  const rows = [
    { externalId: 'big', contactId: contact.id, direction: 'inbound', kind: 'email', body: huge, occurredAt: '2030-01-01T00:00:00Z' },
    ...Array.from({ length: 300 }, (_, i) => ({ externalId: `small-${i}`, contactId: contact.id, direction: 'inbound', kind: 'note', body: `Small ${i}` }))
  ]
  statements.length = 0
  counting = true
  const run = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  counting = false
  t.match(run.job, { status: 'completed', counts: { rowsRead: 301, created: 301, failed: 0 } })
  t.equal(count(/^\s*insert into "?interactions"? /i), 2, 'the long row alone, then the 300 short ones together')
  const listed = (await rest('GET', `/v1/interactions?contactId=${contact.id}&limit=100`)).data.data as Array<{ body: string }>
  t.equal(listed[0].body, huge, 'the long row whole')
})
