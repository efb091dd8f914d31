import { sql } from 'drizzle-orm'
import t from 'tap'
import { buildApp } from '../src/app.js'
import { testConfig } from '../src/config.test-support.js'
import { build } from './helper.js'

function movableClock (start = new Date('2026-03-01T10:00:00Z')) {
  let now = start.getTime()
  return { now: () => new Date(now), advance: (ms: number) => { now += ms } }
}

const withKey = (key: string, body: unknown) => ({ body, headers: { 'idempotency-key': key } })

t.test('same key and body: the first answer is replayed, the work is done once', async (t) => {
  const { rest } = await build(t)
  const first = await rest('POST', '/v1/contacts', withKey('create-ada-1', { displayName: 'Ada', externalId: 'ada' }))
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'])
  const again = await rest('POST', '/v1/contacts', withKey('create-ada-1', { displayName: 'Ada', externalId: 'ada' }))
  t.equal(again.statusCode, 201)
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.same(again.data, first.data, 'the same body')
  t.equal(again.headers.location, first.headers.location)
  t.match(again.headers['content-type'], /^application\/json/)
  t.equal((await rest('GET', '/v1/contacts')).data.data.length, 1, 'one contact only')

  const reused = await rest('POST', '/v1/contacts', withKey('create-ada-1', { displayName: 'Someone else' }))
  t.equal(reused.statusCode, 422)
  t.equal(reused.data.code, 'idempotency.key_reused')
  const otherRoute = await rest('POST', '/v1/contacts/batch', withKey('create-ada-1', { upsertOn: 'externalId', records: [{ displayName: 'Ada', externalId: 'ada' }] }))
  t.equal(otherRoute.statusCode, 422, 'a key belongs to one method, path and body')
  t.equal((await rest('GET', '/v1/contacts')).data.data[0].displayName, 'Ada', 'the refused request did nothing')

  // An error answer is an answer: it is replayed too (the retry must not change the outcome).
  const dup = await rest('POST', '/v1/contacts', withKey('dup-1', { displayName: 'Ada 2', externalId: 'ada' }))
  t.equal(dup.statusCode, 409)
  const dupAgain = await rest('POST', '/v1/contacts', withKey('dup-1', { displayName: 'Ada 2', externalId: 'ada' }))
  t.equal(dupAgain.statusCode, 409)
  t.equal(dupAgain.headers['idempotent-replayed'], 'true')
  t.match(dupAgain.headers['content-type'], /^application\/problem\+json/)

  const noKey = await rest('POST', '/v1/contacts', { body: { displayName: 'No key' } })
  t.equal(noKey.statusCode, 201)
  t.notOk(noKey.headers['idempotent-replayed'])
})

t.test('a key whose first request still runs is a 409; an abandoned claim is taken over', async (t) => {
  const { rest, database } = await build(t)
  const body = { displayName: 'Slow' }
  t.equal((await rest('POST', '/v1/contacts', withKey('slow-1', body))).statusCode, 201)
  // As if another process had claimed the key and not answered yet.
  await database.db.execute(sql`update idempotency_keys set status = 'running', response_status = null, locked_at = now() where key = 'slow-1'`)
  const busy = await rest('POST', '/v1/contacts', withKey('slow-1', body))
  t.equal(busy.statusCode, 409)
  t.equal(busy.data.code, 'idempotency.in_progress')
  t.equal((await rest('POST', '/v1/contacts', withKey('slow-1', { displayName: 'Other' }))).statusCode, 422, 'another body is still a 422')

  // That process died: after the lease the same request may run again.
  await database.db.execute(sql`update idempotency_keys set locked_at = now() - interval '10 minutes' where key = 'slow-1'`)
  const retried = await rest('POST', '/v1/contacts', withKey('slow-1', body))
  t.equal(retried.statusCode, 201)
  t.notOk(retried.headers['idempotent-replayed'])
  t.equal((await rest('POST', '/v1/contacts', withKey('slow-1', body))).headers['idempotent-replayed'], 'true')
})

t.test('keys expire after 24 hours and are swept', async (t) => {
  const clock = movableClock()
  const { rest, database } = await build(t, { clock })
  t.equal((await rest('POST', '/v1/contacts', withKey('daily', { displayName: 'Monday' }))).statusCode, 201)
  clock.advance(23 * 3600_000)
  t.equal((await rest('POST', '/v1/contacts', withKey('daily', { displayName: 'Tuesday' }))).statusCode, 422, 'still held after 23 h')
  clock.advance(2 * 3600_000)
  const reused = await rest('POST', '/v1/contacts', withKey('daily', { displayName: 'Tuesday' }))
  t.equal(reused.statusCode, 201, 'free again after 24 h')
  t.equal(reused.data.displayName, 'Tuesday')

  t.equal((await rest('POST', '/v1/contacts', withKey('old', { displayName: 'Old' }))).statusCode, 201)
  clock.advance(25 * 3600_000)
  await rest('POST', '/v1/contacts', withKey('new', { displayName: 'New' }))
  const result = await database.db.execute(sql`select key from idempotency_keys order by key`)
  const keys = ((result as unknown as { rows?: Array<{ key: string }> }).rows ?? (result as unknown as Array<{ key: string }>)).map((r) => r.key)
  t.same(keys, ['new'], 'expired keys are deleted')
})

t.test('keys are per workspace', async (t) => {
  const { rest, token } = await build(t)
  const acme = await rest('POST', '/v1/contacts', withKey('shared-key', { displayName: 'Acme contact' }))
  const globex = await rest('POST', '/v1/contacts', { ...withKey('shared-key', { displayName: 'Acme contact' }), token: token({ workspace: 'globex' }) })
  t.equal(globex.statusCode, 201)
  t.notOk(globex.headers['idempotent-replayed'], "another workspace never sees acme's stored answer")
  t.not(globex.data.id, acme.data.id)
})

t.test('held across processes: a second server replays what the first stored', async (t) => {
  const { rest, database, token } = await build(t)
  const first = await rest('POST', '/v1/contacts', withKey('two-servers', { displayName: 'Shared' }))
  const second = await buildApp({ config: testConfig({ workers: false }), db: database.db, logger: false })
  t.teardown(() => second.close())
  const res = await second.inject({
    method: 'POST', url: '/v1/contacts', payload: { displayName: 'Shared' },
    headers: { authorization: `Bearer ${token()}`, 'idempotency-key': 'two-servers' }
  })
  t.equal(res.statusCode, 201)
  t.equal(res.headers['idempotent-replayed'], 'true')
  t.equal(JSON.parse(res.body).id, first.data.id)
})

t.test('GraphQL mutations take the key through the header', async (t) => {
  const { rest } = await build(t)
  const query = 'mutation ($input: CreateContactInput!) { createContact(input: $input) { contact { id displayName } } }'
  const body = { query, variables: { input: { displayName: 'Via GraphQL' } } }
  const first = await rest('POST', '/graphql', withKey('gql-1', body))
  t.equal(first.statusCode, 200, first.body)
  const id = first.data.data.createContact.contact.id
  const again = await rest('POST', '/graphql', withKey('gql-1', body))
  t.equal(again.headers['idempotent-replayed'], 'true')
  t.equal(again.data.data.createContact.contact.id, id)
  t.equal((await rest('GET', '/v1/contacts')).data.data.length, 1)
})

t.test('bad keys and routes that refuse a key', async (t) => {
  const { rest } = await build(t)
  const long = await rest('POST', '/v1/contacts', withKey('x'.repeat(256), { displayName: 'x' }))
  t.equal(long.statusCode, 400)
  t.equal(long.data.errors[0].pointer, '/headers/idempotency-key')
  t.equal((await rest('POST', '/v1/contacts', withKey('has space', { displayName: 'x' }))).statusCode, 400)
  const secretRoute = await rest('POST', '/v1/api-keys', withKey('key-1', { name: 'k', scopes: ['contacts:read'] }))
  t.equal(secretRoute.statusCode, 400, 'an API key answer (its secret) is never stored')
  t.equal(secretRoute.data.errors[0].code, 'not_accepted')
  t.equal((await rest('GET', '/v1/api-keys')).data.data.length, 0)
  t.equal((await rest('POST', '/v1/contacts', withKey('unauth', { displayName: 'x' }))).statusCode, 201)
  const anonymous = await rest('POST', '/v1/contacts', { ...withKey('unauth-2', { displayName: 'x' }), token: null })
  t.equal(anonymous.statusCode, 401, 'auth comes first')
})
