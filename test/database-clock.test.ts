import { sql } from 'drizzle-orm'
import t from 'tap'
import { rowsOf } from '../src/db/key-lists.js'
import { build } from './helper.js'
import { asToken, ndjson, runImport } from './support/imports/index.js'

// Row timestamps follow the database's clock, whichever app server writes the row: an app host
// whose clock is an hour behind still stamps its rows at the database's time, so an `updatedSince`
// read from the database's time finds them. The host's skew is simulated by moving this process's
// Date (what the app reads); the PostgreSQL server keeps the real time. PGlite runs inside this
// process and reads the same moved clock, so there is nothing to tell apart there.

const onPostgres = process.env.DATABASE_URL ? false : 'PostgreSQL only: PGlite runs in this process and reads its (moved) clock'
const HOST_SKEW_MS = -3_600_000
const TOLERANCE_MS = 10_000

t.test('a host clock an hour behind the database stamps rows at the database\'s time', { skip: onPostgres }, async (t) => {
  const RealDate = Date
  // A subclass, so that `new Date(x)`, parsing and instanceof behave as before; only "now" moves.
  class HostDate extends RealDate {
    constructor (...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + HOST_SKEW_MS)
      else super(...(args as [string]))
    }

    static now () { return RealDate.now() + HOST_SKEW_MS }
  }
  globalThis.Date = HostDate as DateConstructor
  t.teardown(() => { globalThis.Date = RealDate })

  const { app, rest: anyRest, token, database } = await build(t)
  const rest = asToken(anyRest, token({ workspace: 'skewed-host' }))
  const databaseNow = async () => {
    const [row] = rowsOf<{ ms: number | string }>(await database.db.execute(sql`select extract(epoch from clock_timestamp()) * 1000 as ms`))
    return Number(row.ms)
  }
  const near = (iso: string, what: string) => {
    const ms = RealDate.parse(iso)
    return databaseNow().then((now) => t.ok(Math.abs(now - ms) < TOLERANCE_MS, `${what} (${iso}) is at the database's time, not the host's`))
  }
  t.ok(Math.abs(Date.now() - RealDate.now() - HOST_SKEW_MS) < 1000, 'the host clock is moved')

  const startedAt = new RealDate(await databaseNow() - 1000).toISOString()
  const contact = await rest('POST', '/v1/contacts', { body: { givenName: 'Ada', emails: ['ada@example.com'], externalId: 'ada' } })
  t.equal(contact.statusCode, 201, contact.body)

  // One entry, written in one round trip without reading the row back: the app stamps it.
  const logged = await rest('POST', '/v1/interactions', { body: { contactId: contact.data.id, direction: 'inbound', kind: 'note', body: 'Called about the quote' } })
  t.equal(logged.statusCode, 201)
  await near(logged.data.createdAt, 'a single entry\'s createdAt')
  await near(logged.data.updatedAt, 'a single entry\'s updatedAt')

  // An import batch goes in set-based with timestamps from the app too.
  const imported = await runImport(app, rest, ndjson([{ contactExternalId: 'ada', direction: 'outbound', kind: 'email', subject: 'Quote', body: 'Here it is', externalId: 'mail-1' }]),
    { query: { type: 'interactions', format: 'ndjson' } })
  t.match(imported.job, { status: 'completed', counts: { created: 1 } })

  // A promise is made at the service clock's time.
  const promise = await rest('POST', '/v1/promises', { body: { contactId: contact.data.id, description: 'Send the signed contract', dueAt: new RealDate(RealDate.now() + 86_400_000).toISOString() } })
  t.equal(promise.statusCode, 201)
  await near(promise.data.createdAt, 'a promise\'s createdAt')

  // An update stamps updatedAt with the database's now().
  const channel = await rest('POST', '/v1/channels', { body: { kind: 'note', name: 'Notes' } })
  t.equal(channel.statusCode, 201, channel.body)
  const renamed = await rest('PATCH', `/v1/channels/${channel.data.id}`, { body: { name: 'Call notes' } })
  t.equal(renamed.statusCode, 200, renamed.body)
  await near(renamed.data.updatedAt, 'an updated channel\'s updatedAt')

  const since = await rest('GET', `/v1/interactions?updatedSince=${encodeURIComponent(startedAt)}&contactId=${contact.data.id}`)
  t.equal(since.statusCode, 200)
  t.equal(since.data.data.length, 2, 'updatedSince from the database\'s time before the writes finds both the entry and the imported one')
  for (const row of since.data.data) await near(row.createdAt, `${row.subject ?? 'the note'}'s createdAt`)

  const promises = await rest('GET', `/v1/promises?updatedSince=${encodeURIComponent(startedAt)}`)
  t.equal(promises.data.data.length, 1, 'and the promise')
})
