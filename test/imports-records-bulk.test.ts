import t from 'tap'
import { build } from './helper.js'
import { asToken, importErrors, ndjson, runImport } from './support/imports/index.js'

// type=interactions and type=promises imports write a batch's new records set-based (one insert,
// one event insert…), with the single-record rules; a row those rules refuse sends the batch back
// row by row so that each row still gets its own verdict. Both paths through HTTP.

let counting = false
const statements: string[] = []
const { app, rest: anyRest, token } = await build(t, { onQuery: (q) => { if (counting) statements.push(q) } })
const workspace = (name: string) => asToken(anyRest, token({ workspace: name }))
type Rest = ReturnType<typeof workspace>

const inserts = (table: string) => statements.filter((s) => new RegExp(`^\\s*insert into "?${table}"? `, 'i').test(s)).length
const interactionInserts = () => inserts('interactions')

async function contacts (rest: Rest, n: number): Promise<string[]> {
  const res = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'externalId', records: Array.from({ length: n }, (_, i) => ({ externalId: `crm-${i}`, givenName: `Person ${i}` })) }
  })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.data.results.map((r: { id: string }) => r.id)
}

async function timeline (rest: Rest, contactId: string) {
  const res = await rest('GET', `/v1/interactions?contactId=${contactId}&limit=100`)
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.data.data as Array<Record<string, any>>
}

// The event feed and promise histories are commit-safe: on a PostgreSQL server shared with other
// suites an event shows once every older transaction of the cluster has ended (docs/STATUS.md), so
// reads that expect events wait for that many.
async function caughtUp<T> (read: () => Promise<T[]>, count: number): Promise<T[]> {
  const end = Date.now() + 60_000
  for (;;) {
    const got = await read()
    if (got.length >= count || Date.now() > end) return got
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function events (rest: Rest, types: string, count = 0) {
  return caughtUp(async () => {
    const res = await rest('GET', `/v1/events?types=${types}&limit=500`)
    if (res.statusCode !== 200) throw new Error(res.body)
    return res.data.data as Array<{ type: string, data: Record<string, any> }>
  }, count)
}

async function history (rest: Rest, promiseId: string, count: number) {
  return caughtUp(async () => {
    const res = await rest('GET', `/v1/promises/${promiseId}/events`)
    if (res.statusCode !== 200) throw new Error(res.body)
    return res.data.data as Array<Record<string, any>>
  }, count)
}

t.test('a batch of new interactions is written in one statement, with its events and suggestions; a re-run is unchanged', async (t) => {
  const rest = workspace('bulk-plain')
  const ids = await contacts(rest, 40)
  const rows = ids.map((_, i) => ({
    externalId: `call-${i}`,
    contactExternalId: `crm-${i}`,
    direction: i % 2 === 0 ? 'inbound' : 'outbound',
    kind: 'email',
    subject: `Thread ${i}`,
    body: i % 2 === 0 ? `Question ${i}` : `I will send you the quote by 2027-03-05. Regards ${i}`,
    occurredAt: `2027-03-01T10:${String(i).padStart(2, '0')}:00Z`
  }))
  statements.length = 0
  counting = true
  const first = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  counting = false
  t.match(first.job, { status: 'completed', counts: { rowsRead: 40, created: 40, failed: 0 } })
  t.equal(interactionInserts(), 1, 'one insert for the 40 rows, not one per row')

  for (const [i, id] of ids.entries()) {
    const [logged] = await timeline(rest, id)
    t.match(logged, { contactId: id, direction: rows[i].direction, kind: 'email', subject: `Thread ${i}`, body: rows[i].body, occurredAt: '2027-03-01T10:' + String(i).padStart(2, '0') + ':00.000Z', channelId: null })
    t.equal(logged.authorId, rows[i].direction === 'outbound' ? 'tester' : null, 'outbound entries are authored by the uploader')
  }
  const logged = await events(rest, 'interaction.received,interaction.created', 40)
  t.equal(logged.filter((e) => e.type === 'interaction.received').length, 20, 'one interaction.received per inbound row')
  t.equal(logged.filter((e) => e.type === 'interaction.created').length, 20, 'one interaction.created per outbound row')
  const sample = logged.find((e) => e.data.subject === 'Thread 3')!
  const [read] = await timeline(rest, ids[3])
  t.same(sample.data, read, 'the event carries the interaction as GET returns it')

  const suggestions = (await rest('GET', '/v1/promise-suggestions?limit=100')).data.data as Array<Record<string, any>>
  t.equal(suggestions.length, 20, 'each outbound promise of a quote became a suggestion')
  t.ok(suggestions.every((s) => s.dueAt.startsWith('2027-03-05')), 'due when the text says')

  const again = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(again.job.counts, { created: 0, unchanged: 40, failed: 0 })
  t.equal((await timeline(rest, ids[0])).length, 1, 'no duplicate')
})

t.test('a row the set-based write refuses sends the batch row by row: a merged id lands on the survivor, a duplicate provider id fails alone', async (t) => {
  const rest = workspace('bulk-fallback')
  const [survivor, merged, plain] = await contacts(rest, 3)
  t.equal((await rest('POST', `/v1/contacts/${survivor}/merge`, { body: { contactId: merged } })).statusCode, 200)
  const channel = (await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'Desk' } })).data
  const already = await rest('POST', '/v1/interactions', { body: { contactId: plain, channelId: channel.id, direction: 'inbound', kind: 'note', body: 'first', providerMessageId: 'pm-1' } })
  t.equal(already.statusCode, 201)

  statements.length = 0
  counting = true
  const run = await runImport(app, rest, ndjson([
    { externalId: 'a', contactId: plain, direction: 'inbound', kind: 'note', body: 'fine' },
    { externalId: 'b', contactId: merged, direction: 'inbound', kind: 'note', body: 'to the old id' },
    { externalId: 'c', contactId: plain, channelId: channel.id, direction: 'inbound', kind: 'note', body: 'again', providerMessageId: 'pm-1' },
    { externalId: 'd', contactId: plain, direction: 'outbound', kind: 'note', body: 'also fine' }
  ]), { query: { type: 'interactions', format: 'ndjson' } })
  counting = false
  t.match(run.job.counts, { rowsRead: 4, created: 3, failed: 1 })
  t.ok(interactionInserts() > 1, 'the batch was taken row by row')
  t.same(await importErrors(rest, run.job.id), [{ line: 3, field: 'providerMessageId', reason: 'Already logged' }])
  t.same((await timeline(rest, survivor)).map((i) => i.body), ['to the old id'], "the merged contact's row is on the survivor")
  t.same((await timeline(rest, plain)).map((i) => i.body).sort(), ['also fine', 'fine', 'first'], 'nothing of the refused set-based write stayed, nothing doubled')
})

t.test('a dry run of a batch counts what it would create and writes nothing', async (t) => {
  const rest = workspace('bulk-dry')
  const [id] = await contacts(rest, 1)
  const rows = [
    { externalId: 'x1', contactId: id, direction: 'outbound', kind: 'email', body: 'I will call you tomorrow' },
    { externalId: 'x1', contactId: id, direction: 'outbound', kind: 'email', body: 'I will call you tomorrow' },
    { externalId: 'x2', contactId: id, direction: 'inbound', kind: 'email', body: 'ok' }
  ]
  const dry = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson', dryRun: 'true' } })
  t.match(dry.job.counts, { created: 2, unchanged: 1, failed: 0 }, 'the same row twice in one file: created, then unchanged')
  t.same(await timeline(rest, id), [])
  t.same(await events(rest, 'interaction.received,interaction.created'), [])
  t.same((await rest('GET', '/v1/promise-suggestions?limit=10')).data.data, [])
  const real = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(real.job.counts, dry.job.counts, 'the real run gives the counts the dry run said')
  // An empty feed right after the dry run proves little (events show late on a shared server):
  // once the real run's two are there, none from the dry run can still be on its way.
  await events(rest, 'interaction.received,interaction.created', 2)
  t.equal((await events(rest, 'interaction.received,interaction.created')).length, 2, 'only the real run\'s events')
})

t.test('keepsPromiseIds in a batch keeps the promise, with the interaction as evidence', async (t) => {
  const rest = workspace('bulk-keeps')
  const [id] = await contacts(rest, 1)
  const promise = (await rest('POST', '/v1/promises', { body: { contactId: id, description: 'Send the quote', dueAt: '2030-01-01T00:00:00Z' } })).data
  const run = await runImport(app, rest, ndjson([
    { externalId: 'k1', contactId: id, direction: 'outbound', kind: 'email', body: 'Here is the quote', keepsPromiseIds: [promise.id] },
    { externalId: 'k2', contactId: id, direction: 'inbound', kind: 'email', body: 'Thanks' }
  ]), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(run.job.counts, { created: 2, failed: 0 })
  const kept = (await rest('GET', `/v1/promises/${promise.id}`)).data
  const evidence = (await timeline(rest, id)).find((i) => i.body === 'Here is the quote')!
  t.equal(kept.status, 'kept')
  t.same(kept.keptByInteractionIds, [evidence.id], 'the imported interaction is the evidence')
})

t.test("another workspace's contact ids are not found, in bulk as row by row", async (t) => {
  const mine = workspace('bulk-tenant-a')
  const theirs = workspace('bulk-tenant-b')
  const [foreign] = await contacts(theirs, 1)
  const [own] = await contacts(mine, 1)
  const run = await runImport(app, mine, ndjson([
    { externalId: 'f1', contactId: foreign, direction: 'inbound', kind: 'note', body: 'sneaky' },
    { externalId: 'f2', contactId: own, direction: 'inbound', kind: 'note', body: 'mine' }
  ]), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(run.job.counts, { created: 1, failed: 1 })
  t.same((await importErrors(mine, run.job.id)).map((e) => [e.line, e.field]), [[1, 'contactId']])
  t.same(await timeline(theirs, foreign), [], 'nothing reached the other workspace')
})

t.test('a batch of new promises is written in one statement, verdicts through the state machine, first checks scheduled', async (t) => {
  const rest = workspace('bulk-promises')
  const ids = await contacts(rest, 30)
  const soon = new Date(Date.now() + 3_600_000).toISOString()
  const rows = ids.map((_, i) => ({
    externalId: `p-${i}`,
    contactExternalId: `crm-${i}`,
    description: `Promise ${i}`,
    dueAt: i === 0 ? soon : '2031-01-01T00:00:00Z',
    ...(i % 3 === 1 ? { status: 'kept', keptAt: '2030-12-01T00:00:00Z' } : i % 3 === 2 ? { status: 'cancelled', reason: 'No longer needed' } : {})
  }))
  statements.length = 0
  counting = true
  const run = await runImport(app, rest, ndjson(rows), { query: { type: 'promises', format: 'ndjson' } })
  counting = false
  t.match(run.job.counts, { created: 30, failed: 0 })
  t.equal(inserts('promises'), 1, 'one insert for the 30 promises')
  const all = (await rest('GET', '/v1/promises?limit=100')).data.data as Array<Record<string, any>>
  t.equal(all.length, 30)
  for (const [i, id] of ids.entries()) {
    const p = all.find((x) => x.contactId === id)!
    // The first one is due within the hour: its first check is at once, and the running scheduler may have made it already.
    t.match(p, { description: `Promise ${i}`, promisor: 'tester', promisorType: 'member', status: i % 3 === 1 ? 'kept' : i % 3 === 2 ? 'cancelled' : i === 0 ? /^(open|at_risk)$/ : 'open' })
  }
  const made = (await events(rest, 'promise.made', 30)).map((e) => e.data.id).sort()
  t.same(made, all.map((p) => p.id).sort(), 'one promise.made per promise')
  const kept = await history(rest, all.find((p) => p.contactId === ids[1])!.id, 2)
  t.same(kept.map((e) => e.type), ['made', 'kept'], 'the history the API writes')

  await app.jobs.scheduler.drain()
  t.equal((await rest('GET', `/v1/promises/${all.find((p) => p.contactId === ids[0])!.id}`)).data.status, 'at_risk', 'the promise due within the hour was checked at once, as one made through the API')
})

t.test('a promise made in another contact\'s interaction fails alone; the rest of the batch is created', async (t) => {
  const rest = workspace('bulk-promises-refs')
  const [ada, bob] = await contacts(rest, 2)
  const bobs = await rest('POST', '/v1/interactions', { body: { contactId: bob, direction: 'inbound', kind: 'note', body: 'hi' } })
  const run = await runImport(app, rest, ndjson([
    { externalId: 'r1', contactId: ada, description: 'Fine', dueAt: '2031-01-01T00:00:00Z' },
    { externalId: 'r2', contactId: ada, description: 'Wrong interaction', dueAt: '2031-01-01T00:00:00Z', madeInInteractionId: bobs.data.id },
    { externalId: 'r3', contactId: bob, description: 'Right interaction', dueAt: '2031-01-01T00:00:00Z', madeInInteractionId: bobs.data.id }
  ]), { query: { type: 'promises', format: 'ndjson' } })
  t.match(run.job.counts, { created: 2, failed: 1 })
  t.same((await importErrors(rest, run.job.id)).map((e) => [e.line, e.field]), [[2, 'madeInInteractionId']])
  const made = (await rest('GET', '/v1/promises?limit=10')).data.data as Array<Record<string, any>>
  t.same(made.map((p) => p.description).sort(), ['Fine', 'Right interaction'])
  t.equal(made.find((p) => p.description === 'Right interaction')!.madeInInteractionId, bobs.data.id)
})

t.test('verdicts of a promise batch are closed set-based, through the state machine: kept, kept late, broken, cancelled', async (t) => {
  const rest = workspace('bulk-verdicts')
  const [a, b, c, d] = await contacts(rest, 4)
  statements.length = 0
  counting = true
  const run = await runImport(app, rest, ndjson([
    { externalId: 'v1', contactId: a, description: 'On time', dueAt: '2030-01-10T00:00:00Z', status: 'kept', keptAt: '2030-01-09T00:00:00Z' },
    { externalId: 'v2', contactId: b, description: 'Late', dueAt: '2030-01-10T00:00:00Z', status: 'kept', keptAt: '2030-01-11T00:00:00Z' },
    { externalId: 'v3', contactId: c, description: 'Missed', dueAt: '2030-01-10T00:00:00Z', status: 'broken', reason: 'Forgot' },
    { externalId: 'v4', contactId: d, description: 'Dropped', dueAt: '2030-01-10T00:00:00Z', status: 'cancelled', reason: 'Deal lost' },
    { externalId: 'v5', contactId: d, description: 'Still open', dueAt: '2030-01-10T00:00:00Z' }
  ]), { query: { type: 'promises', format: 'ndjson' } })
  counting = false
  t.match(run.job.counts, { created: 5, failed: 0 })
  t.equal(inserts('promises'), 1)
  t.equal(statements.filter((q) => /^\s*update "?promises"? /i.test(q)).length, 1, 'the four verdicts in one update')
  const all = (await rest('GET', '/v1/promises?limit=10')).data.data as Array<Record<string, any>>
  const by = (description: string) => all.find((p) => p.description === description)!
  t.match(by('On time'), { status: 'kept', keptAt: '2030-01-09T00:00:00.000Z', keptByInteractionIds: [] })
  t.match(by('Late'), { status: 'kept_late', keptAt: '2030-01-11T00:00:00.000Z' })
  t.match(by('Missed'), { status: 'broken', keptAt: null })
  t.match(by('Dropped'), { status: 'cancelled' })
  t.match(by('Still open'), { status: 'open', version: 1 })
  t.equal(by('Late').version, 2, 'made, then closed: one change')
  for (const [description, type, data] of [['Late', 'kept_late', { keptAt: '2030-01-11T00:00:00.000Z', dueAt: '2030-01-10T00:00:00.000Z' }], ['Missed', 'broken', { reason: 'Forgot' }], ['Dropped', 'cancelled', { reason: 'Deal lost' }]] as const) {
    const written = await history(rest, by(description).id, 2)
    t.same(written.map((e) => e.type), ['made', type], `${description}: the history the API writes`)
    t.same(written[1]?.data, data)
  }
  const feed = await events(rest, 'promise.made,promise.kept,promise.broken,promise.cancelled', 9)
  t.same(feed.map((e) => e.type).sort(), ['promise.broken', 'promise.cancelled', 'promise.kept', 'promise.kept', ...Array(5).fill('promise.made')].sort())
  t.same(feed.find((e) => e.type === 'promise.broken')!.data, by('Missed'), 'the event carries the promise as GET returns it')

  await app.jobs.scheduler.drain()
  t.equal((await rest('GET', `/v1/promises/${by('Missed').id}`)).data.status, 'broken', 'closed promises are not checked again')
})

t.test("a batch's statements are the same text whatever its size (each text is a named prepared statement kept by every connection)", async (t) => {
  const rest = workspace('bulk-shapes')
  await contacts(rest, 12)
  const written = /^\s*(insert into|delete from|update) "?(promises|promise_events|promise_deadlines|promise_suggestions|interactions|events)"? /i
  async function shapes (type: 'promises' | 'interactions', rows: Array<Record<string, unknown>>) {
    statements.length = 0
    counting = true
    const run = await runImport(app, rest, ndjson(rows), { query: { type, format: 'ndjson' } })
    counting = false
    t.match(run.job.counts, { created: rows.length, failed: 0 })
    return new Set(statements.filter((s) => written.test(s)))
  }
  const promise = (i: number, tag: string) => ({
    externalId: `${tag}-${i}`, contactExternalId: `crm-${i}`, description: `Promise ${tag} ${i}`, dueAt: i % 2 ? '2031-01-01T00:00:00Z' : '2020-01-01T00:00:00Z',
    ...(i % 3 === 1 ? { status: 'cancelled', reason: 'No' } : {})
  })
  const small = await shapes('promises', Array.from({ length: 3 }, (_, i) => promise(i, 'small')))
  const large = await shapes('promises', Array.from({ length: 11 }, (_, i) => promise(i, 'large')))
  t.same([...large].filter((s) => !small.has(s)), [], 'no statement text of 11 promises that 3 did not use')

  const entry = (i: number, tag: string) => ({
    externalId: `${tag}-${i}`, contactExternalId: `crm-${i}`, direction: 'outbound', kind: 'email', body: `I will send you the quote by 2027-03-05 (${tag} ${i})`
  })
  const fewer = await shapes('interactions', Array.from({ length: 2 }, (_, i) => entry(i, 'few')))
  const more = await shapes('interactions', Array.from({ length: 7 }, (_, i) => entry(i, 'more')))
  t.same([...more].filter((s) => !fewer.has(s)), [], 'no statement text of 7 entries (and their suggestions) that 2 did not use')
})

t.test('a dry run gives the counts of the real run when a later row of the batch collides with an earlier one (same provider message id)', async (t) => {
  const rest = workspace('bulk-dry-collide')
  const [id] = await contacts(rest, 1)
  const channel = (await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'Desk' } })).data
  const rows = [
    { externalId: 'd1', contactId: id, channelId: channel.id, direction: 'inbound', kind: 'note', body: 'first copy', providerMessageId: 'pm-dup' },
    { externalId: 'd2', contactId: id, channelId: channel.id, direction: 'inbound', kind: 'note', body: 'second copy', providerMessageId: 'pm-dup' },
    { externalId: 'd3', contactId: id, direction: 'inbound', kind: 'note', body: 'other' }
  ]
  const dry = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson', dryRun: 'true' } })
  t.same(await timeline(rest, id), [], 'the dry run wrote nothing')
  const real = await runImport(app, rest, ndjson(rows), { query: { type: 'interactions', format: 'ndjson' } })
  t.match(real.job.counts, { created: 2, failed: 1 })
  t.match(dry.job.counts, { created: real.job.counts.created, failed: real.job.counts.failed }, 'the dry run said what the real run did')
  t.same(await importErrors(rest, dry.job.id), await importErrors(rest, real.job.id), 'the same row refused, for the same reason')
})
