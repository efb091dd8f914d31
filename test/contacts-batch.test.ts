import t from 'tap'
import { build } from './helper.js'
import { assertProblem, assertValidation } from './support/problem.js'
import { allContacts, asToken, contactBy } from './support/imports/index.js'

// POST /v1/contacts/batch and the upsertContacts mutation: up to 1,000 records, one result per
// record, a bad record never fails the others. One app for the file, one workspace per subtest.

const { rest: anyRest, token, gql: anyGql } = await build(t)
const workspace = (name: string) => {
  const tk = token({ workspace: name })
  return { rest: asToken(anyRest, tk), gql: (q: string, v: Record<string, unknown> = {}) => anyGql(q, v, { token: tk }), token: tk }
}

interface ItemResult { index: number, result: string, id?: string, code?: string, message?: string, errors?: Array<{ pointer: string, message: string, code?: string }> }

t.test('created, updated, unchanged: one result per record, in order, with the contact id', async (t) => {
  const { rest } = workspace('outcomes')
  const first = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'email', records: [{ emails: ['a@example.com'], givenName: 'Ann' }, { emails: ['B@Example.com'], company: 'Bee' }] }
  })
  t.equal(first.statusCode, 200, first.body)
  t.same(first.data.summary, { created: 2, updated: 0, unchanged: 0, failed: 0 })
  t.match(first.data.results, [{ index: 0, result: 'created', id: /^con_/ }, { index: 1, result: 'created', id: /^con_/ }])
  const [ann, bee] = first.data.results.map((r: ItemResult) => r.id)
  t.not(ann, bee)

  const second = await rest('POST', '/v1/contacts/batch', {
    body: {
      upsertOn: 'email',
      records: [
        { emails: ['c@example.com'], givenName: 'Cy' },
        { emails: ['b@example.com'], title: 'CEO' },
        { emails: ['A@EXAMPLE.COM'], givenName: 'Ann' }
      ]
    }
  })
  t.same(second.data.summary, { created: 1, updated: 1, unchanged: 1, failed: 0 })
  t.same(second.data.results.map((r: ItemResult) => [r.index, r.result]), [[0, 'created'], [1, 'updated'], [2, 'unchanged']])
  t.equal(second.data.results[1].id, bee, 'updated the existing contact')
  t.equal(second.data.results[2].id, ann, 'unchanged: the existing contact')

  const b = await rest('GET', `/v1/contacts/${bee}`)
  t.match(b.data, { company: 'Bee', title: 'CEO', version: 2 }, 'absent fields keep their values')
  t.equal((await rest('GET', `/v1/contacts/${ann}`)).data.version, 1, 'unchanged is not written')
  t.equal((await allContacts(rest)).length, 3)

  // Within one batch, a later record with the same key updates what an earlier one created.
  const same = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'externalId', records: [{ externalId: 'x1', givenName: 'One' }, { externalId: 'x1', givenName: 'One' }, { externalId: 'x1', title: 'Changed' }] }
  })
  t.same(same.data.results.map((r: ItemResult) => r.result), ['created', 'unchanged', 'updated'])
  t.equal(new Set(same.data.results.map((r: ItemResult) => r.id)).size, 1, 'one contact')
  t.match(await contactBy(rest, { externalId: 'x1' }), { givenName: 'One', title: 'Changed' })

  const phones = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'phone', records: [{ phones: ['+1 415 555 2671'], givenName: 'P' }] }
  })
  const again = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'phone', records: [{ phones: ['+14155552671'], givenName: 'P', title: 'Phone' }] }
  })
  t.equal(again.data.results[0].result, 'updated', 'the phone key matches across formats')
  t.equal(again.data.results[0].id, phones.data.results[0].id)
})

t.test('a bad record never fails the others', async (t) => {
  const { rest } = workspace('bad-items')
  const owner = await rest('POST', '/v1/contacts', { body: { displayName: 'Owner', emails: ['owned@example.com'], externalId: 'owner-1' } })
  t.equal(owner.statusCode, 201)

  const res = await rest('POST', '/v1/contacts/batch', {
    body: {
      upsertOn: 'externalId',
      records: [
        { externalId: 'g1', emails: ['g1@example.com'] },
        { externalId: 'bad-email', emails: ['not an e-mail'] },
        { emails: ['nokey@example.com'] },
        { externalId: 'thief', emails: ['owned@example.com'] },
        { externalId: 'unknown-field', nickname: 'x' },
        { externalId: 'g2', phones: ['+14155552671'] }
      ]
    }
  })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.data.summary, { created: 2, updated: 0, unchanged: 0, failed: 4 })
  const r: ItemResult[] = res.data.results
  t.same(r.map((x) => x.result), ['created', 'error', 'error', 'error', 'error', 'created'])
  t.match(r[1], { index: 1, code: 'validation.failed', errors: [{ pointer: '/emails/0' }] }, 'invalid e-mail')
  t.match(r[2], { index: 2, code: 'validation.failed', errors: [{ pointer: '/externalId', code: 'required' }] }, 'missing key')
  t.match(r[3], { index: 3, code: 'contact.duplicate', message: /owned@example.com/, errors: [{ pointer: '/emails', code: 'duplicate' }] }, 'an e-mail owned by another contact')
  t.match(r[4], { index: 4, code: 'validation.failed' }, 'an unknown field')
  for (const e of r.filter((x) => x.result === 'error')) {
    t.notOk(e.id, `error ${e.index}: no id`)
    t.ok(e.message && e.errors && e.errors.length > 0, `error ${e.index}: a message and field errors`)
  }
  t.equal((await allContacts(rest)).length, 3, 'the owner and the two good records')
  t.same((await contactBy(rest, { externalId: 'owner-1' }))?.emails, [{ address: 'owned@example.com', primary: true }], 'the owner keeps its e-mail')
  t.equal(await contactBy(rest, { externalId: 'thief' }), undefined)
})

t.test('an externalId owned by another contact is a per-record contact.duplicate, not a failed batch', async (t) => {
  const { rest } = workspace('ext-owned')
  const owner = await rest('POST', '/v1/contacts', { body: { displayName: 'Owner', emails: ['owner@example.com'], externalId: 'crm-1' } })
  t.equal(owner.statusCode, 201)
  const res = await rest('POST', '/v1/contacts/batch', {
    body: {
      upsertOn: 'email',
      records: [
        { emails: ['fine@example.com'] },
        { emails: ['other@example.com'], externalId: 'crm-1' },
        { emails: ['twin-a@example.com'], externalId: 'crm-2' },
        { emails: ['twin-b@example.com'], externalId: 'crm-2' }
      ]
    }
  })
  t.equal(res.statusCode, 200, res.body)
  const r: ItemResult[] = res.data.results ?? []
  t.same(r.map((x) => x.result), ['created', 'error', 'created', 'error'])
  t.match(r[1], { code: 'contact.duplicate', errors: [{ pointer: '/externalId' }] }, 'crm-1 belongs to the owner')
  t.match(r[3], { code: 'contact.duplicate', errors: [{ pointer: '/externalId' }] }, 'crm-2 was taken by an earlier record of the batch')
  t.equal((await allContacts(rest)).length, 3)
  t.equal((await contactBy(rest, { externalId: 'crm-1' }))?.id, owner.data.id)
})

t.test('limits: 1 to 1,000 records', async (t) => {
  const { rest } = workspace('limits')
  const records = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ({ externalId: `${prefix}-${i}`, givenName: `N${i}` }))
  const tooMany = await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'externalId', records: records(1001, 'over') } })
  assertValidation(t, tooMany, [{ pointer: '/body/records', code: 'too_big' }], '1,001 records')
  assertValidation(t, await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'externalId', records: [] } }), [{ pointer: '/body/records', code: 'too_small' }], 'no records')
  assertValidation(t, await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'name', records: [{ displayName: 'x' }] } }), [{ pointer: '/body/upsertOn' }], 'an unknown key')
  assertValidation(t, await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'email', records: ['x'] } }), [{ pointer: '/body/records/0' }], 'a record that is not an object')
  t.equal((await allContacts(rest)).length, 0, 'refused batches write nothing')

  const full = await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'externalId', records: records(1000, 'ok') } })
  t.equal(full.statusCode, 200, full.body.slice(0, 300))
  t.same(full.data.summary, { created: 1000, updated: 0, unchanged: 0, failed: 0 })
  t.equal(full.data.results.length, 1000)
  t.ok(full.data.results.every((r: ItemResult, i: number) => r.index === i), 'results in record order')
  t.equal(new Set(full.data.results.map((r: ItemResult) => r.id)).size, 1000)
  t.equal((await allContacts(rest)).length, 1000)
  const rerun = await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'externalId', records: records(1000, 'ok') } })
  t.same(rerun.data.summary, { created: 0, updated: 0, unchanged: 1000, failed: 0 }, 'the same 1,000 again: unchanged')
})

t.test('dryRun: the results, and nothing written', async (t) => {
  const { rest } = workspace('dry')
  await rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'email', records: [{ emails: ['old@example.com'], title: 'Old' }] } })
  const before = await allContacts(rest)
  const dry = await rest('POST', '/v1/contacts/batch', {
    body: { upsertOn: 'email', dryRun: true, records: [{ emails: ['old@example.com'], title: 'New' }, { emails: ['new@example.com'] }, { emails: ['bad'] }, { emails: ['old@example.com'], title: 'Old' }] }
  })
  t.equal(dry.statusCode, 200, dry.body)
  t.same(dry.data.results.map((r: ItemResult) => r.result), ['updated', 'created', 'error', 'updated'])
  t.same(dry.data.summary, { created: 1, updated: 2, unchanged: 0, failed: 1 })
  t.equal(dry.data.results[0].id, before[0].id)
  t.same(await allContacts(rest), before, 'nothing changed, nothing added')
})

const UPSERT = `mutation ($input: UpsertContactsInput!) {
  upsertContacts(input: $input) { summary { created updated unchanged failed } results { index result id code message errors { pointer message code } } }
}`

t.test('GraphQL upsertContacts: the same rules, enums in UPPER_CASE', async (t) => {
  const { gql, rest } = workspace('graphql')
  const first = await gql(UPSERT, {
    input: { upsertOn: 'EMAIL', records: [{ emails: [{ address: 'g@example.com' }], givenName: 'Gee' }, { emails: [{ address: 'broken' }] }, { givenName: 'No key' }] }
  })
  t.same(first.errors, undefined)
  const out = first.data.upsertContacts
  t.same(out.summary, { created: 1, updated: 0, unchanged: 0, failed: 2 })
  t.same(out.results.map((r: ItemResult) => r.result), ['CREATED', 'ERROR', 'ERROR'])
  t.match(out.results[0], { index: 0, id: /^con_/, code: null, errors: null })
  t.match(out.results[1], { index: 1, id: null, code: 'validation.failed', errors: [{ pointer: /^\/emails\/0/ }] })
  t.match(out.results[2], { index: 2, code: 'validation.failed', errors: [{ pointer: '/emails', code: 'required' }] })
  const viaRest = await rest('GET', `/v1/contacts/${out.results[0].id}`)
  t.match(viaRest.data, { givenName: 'Gee', emails: [{ address: 'g@example.com', primary: true }] }, 'readable over REST')

  const second = await gql(UPSERT, { input: { upsertOn: 'EMAIL', records: [{ emails: [{ address: 'G@example.com' }], givenName: 'Gee' }, { emails: [{ address: 'g@example.com' }], title: 'Boss', company: null }] } })
  t.same(second.data.upsertContacts.results.map((r: ItemResult) => r.result), ['UNCHANGED', 'UPDATED'], 'null in GraphQL input means absent here')
  t.equal(second.data.upsertContacts.results[1].id, out.results[0].id)

  const ext = await gql(UPSERT, { input: { upsertOn: 'EXTERNAL_ID', dryRun: true, records: [{ externalId: 'e-1' }] } })
  t.same(ext.data.upsertContacts.summary, { created: 1, updated: 0, unchanged: 0, failed: 0 }, 'EXTERNAL_ID and dryRun')
  t.equal(await contactBy(rest, { externalId: 'e-1' }), undefined, 'dry run wrote nothing')
  const phone = await gql(UPSERT, { input: { upsertOn: 'PHONE', records: [{ phones: ['+14155552671'] }] } })
  t.equal(phone.data.upsertContacts.results[0].result, 'CREATED', 'PHONE')

  const bad = await gql(UPSERT, { input: { upsertOn: 'email', records: [{ givenName: 'x' }] } })
  t.ok(bad.errors?.length, 'a lower-case enum is refused by the schema')
  const tooMany = await gql(UPSERT, { input: { upsertOn: 'EXTERNAL_ID', records: Array.from({ length: 1001 }, (_, i) => ({ externalId: `t${i}` })) } })
  t.equal(tooMany.errors?.[0].extensions.code, 'validation.failed', '1,001 records refused')

  const readOnly = token({ workspace: 'graphql', scopes: ['contacts:read'] })
  const denied = await anyGql(UPSERT, { input: { upsertOn: 'EMAIL', records: [{ emails: [{ address: 'z@example.com' }] }] } }, { token: readOnly })
  t.equal(denied.errors?.[0].extensions.code, 'auth.forbidden', 'contacts:write needed (GraphQL)')
  assertProblem(t, await anyRest('POST', '/v1/contacts/batch', { token: readOnly, body: { upsertOn: 'email', records: [{ emails: ['z@example.com'] }] } }), 403, 'auth.forbidden', 'contacts:write needed (REST)')
  t.equal(await contactBy(rest, { email: 'z@example.com' }), undefined)
})

t.test('concurrent batches creating the same new keys never duplicate', async (t) => {
  // A few rounds, each in a fresh workspace: the race between the batches differs each time.
  for (let round = 1; round <= 8; round++) {
    const { rest } = workspace(`race-${round}`)
    const emails = Array.from({ length: 50 }, (_, i) => `race-${i}@example.com`)
    const batch = () => rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'email', records: emails.map((e) => ({ emails: [e], givenName: 'Racer' })) } })
    const responses = await Promise.all([batch(), batch(), batch(), batch()])
    for (const [i, res] of responses.entries()) {
      t.equal(res.statusCode, 200, `round ${round}, batch ${i}: 200 (${res.body.slice(0, 200)})`)
      const failed = (res.data?.results ?? []).filter((r: ItemResult) => r.result === 'error')
      t.same(failed, [], `round ${round}, batch ${i}: no record failed`)
    }
    const created = responses.reduce((sum, r) => sum + (r.data?.summary?.created ?? 0), 0)
    t.equal(created, 50, `round ${round}: each e-mail created exactly once across the four batches`)
    const all = await allContacts(rest)
    t.equal(all.length, 50, `round ${round}: exactly 50 contacts`)
    t.equal(new Set(all.flatMap((c) => c.emails.map((e) => e.address))).size, 50)

    // Concurrent batches that also change the same contacts (each its own title) still end with 50.
    const titled = (n: number) => rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'email', records: emails.map((e) => ({ emails: [e], title: `T${n}` })) } })
    const updates = await Promise.all([titled(1), titled(2), titled(3), titled(4)])
    for (const [i, res] of updates.entries()) {
      t.equal(res.statusCode, 200, `round ${round}, updating batch ${i}: 200 (${res.body.slice(0, 200)})`)
      t.equal(res.data?.summary?.failed, 0, `round ${round}, updating batch ${i}: no record failed`)
    }
    const after = await allContacts(rest)
    t.equal(after.length, 50, `round ${round}: still 50 contacts`)
    t.ok(after.every((c) => /^T[1-4]$/.test(c.title ?? '')), `round ${round}: each holds one batch's title`)
  }
})

t.test('concurrent batches on the phone key', async (t) => {
  const { rest } = workspace('race-phone')
  const batch = () => rest('POST', '/v1/contacts/batch', { body: { upsertOn: 'phone', records: Array.from({ length: 50 }, (_, i) => ({ phones: [`+1415555${1000 + i}`] })) } })
  const responses = await Promise.all([batch(), batch(), batch(), batch()])
  t.ok(responses.every((r) => r.statusCode === 200))
  t.equal((await allContacts(rest)).length, 50, 'exactly 50 contacts (a lock per phone orders the batches)')
  const created = responses.reduce((sum, r) => sum + (r.data?.summary?.created ?? 0), 0)
  t.equal(created, 50, 'each phone created once across the four batches')
})
