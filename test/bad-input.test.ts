import t from 'tap'
import { build, type TestApp } from './helper.js'
import { closeDatabase } from './support/outage.js'
import { assertFieldErrors, assertProblem, assertValidation, internalsPattern } from './support/problem.js'

// Every refused request is an RFC 9457 problem (REST) or a coded GraphQL error, is never a 500,
// and writes nothing.

const json = { 'content-type': 'application/json' }
const listIds = async (rest: TestApp['rest']) => {
  const res = await rest('GET', '/v1/contacts?limit=100')
  return (res.data.data as Array<{ id: string }>).map((c) => c.id)
}

// One app for the tests that need no special config; each test works in its own workspace, so
// "nothing was written" stays exact.
const shared = await build(t)
function workspace (name: string): Pick<TestApp, 'rest' | 'gql'> {
  const token = shared.token({ workspace: name })
  return {
    rest: (method, url, o = {}) => shared.rest(method, url, { token, ...o }),
    gql: (query, variables = {}, o = {}) => shared.gql(query, variables, { token, ...o })
  }
}

t.test('REST: bad bodies on POST /v1/contacts', async (t) => {
  const { rest } = workspace('post-bodies')
  const post = (body: unknown) => rest('POST', '/v1/contacts', { body })

  assertValidation(t, await post({ displayName: 'Ada', nickname: 'Countess' }),
    [{ pointer: '/body/nickname', code: 'unknown_field' }], 'unknown field')
  assertValidation(t, await post({ displayName: 'Ada', nickname: 'x', shoeSize: 9 }),
    [{ pointer: '/body/nickname' }, { pointer: '/body/shoeSize' }], 'each unknown field is listed')
  assertValidation(t, await post({ displayName: 'Ada', emails: [{ address: 'ada@example.com', primary: true, label: 'work' }] }),
    [{ pointer: /^\/body\/emails\/0/ }], 'unknown field inside an e-mail object')

  assertValidation(t, await post({ displayName: 5, tags: 'vip', emails: {}, attributes: ['a'], externalId: 12 }), [
    { pointer: '/body/displayName', code: 'invalid_type' },
    { pointer: '/body/tags', code: 'invalid_type' },
    { pointer: '/body/emails', code: 'invalid_type' },
    { pointer: '/body/attributes' },
    { pointer: '/body/externalId', code: 'invalid_type' }
  ], 'wrong types, one entry per field')
  assertValidation(t, await post({ displayName: 'Ada', tags: ['ok', 7] }), [{ pointer: '/body/tags/1' }], 'wrong type inside an array')
  assertValidation(t, await post({ displayName: '   ' }), [{ pointer: '/body/displayName' }], 'blank displayName')
  assertValidation(t, await post({ displayName: 'x'.repeat(201) }), [{ pointer: '/body/displayName', code: 'too_big' }], 'displayName too long')
  assertValidation(t, await post({ displayName: 'Ada', tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), [{ pointer: '/body/tags' }], 'too many tags')

  assertValidation(t, await post({ emails: ['ada@example.com', 'not-an-email'] }), [{ pointer: /^\/body\/emails\/1(\/address)?$/ }], 'invalid e-mail (string form)')
  assertValidation(t, await post({ emails: [{ address: 'ada@' }] }), [{ pointer: /^\/body\/emails\/0(\/address)?$/ }], 'invalid e-mail (object form)')
  assertValidation(t, await post({ phones: ['+1 555'] }), [{ pointer: '/body/phones/0' }], 'too-short phone')
  assertValidation(t, await post({ phones: ['+14155552671', '555-0143'] }), [{ pointer: '/body/phones/1' }], 'national phone without +country')
  assertValidation(t, await post({ phones: ['call me maybe'] }), [{ pointer: '/body/phones/0' }], 'phone that is not a number')

  // Domain rules (after the schema) point at the field too, under the same /body root.
  assertValidation(t, await post({ emails: [{ address: 'a@example.com', primary: true }, { address: 'b@example.com', primary: true }] }),
    [{ pointer: /^\/body\/emails$/, code: 'too_many_primary' }], 'two primary e-mails')
  assertValidation(t, await post({ title: 'CEO', tags: ['vip'] }), [{ pointer: /^\/body\/displayName$/, code: 'required' }], 'no name, e-mail or phone')
  assertValidation(t, await post({}), [{ pointer: /^\/body\/displayName$/ }], 'empty object')

  t.same(await listIds(rest), [], 'nothing was written')
})

t.test('REST: bad bodies on PATCH /v1/contacts/:id leave the contact unchanged', async (t) => {
  const { rest } = workspace('patch-bodies')
  const created = await rest('POST', '/v1/contacts', { body: { displayName: 'Grace', emails: ['grace@example.com'] } })
  t.equal(created.statusCode, 201, created.body)
  const url = `/v1/contacts/${created.data.id}`
  const patch = (body: unknown, headers?: Record<string, string>) => rest('PATCH', url, { body, headers })

  assertValidation(t, await patch({ rank: 'admiral' }), [{ pointer: '/body/rank', code: 'unknown_field' }], 'unknown field')
  assertValidation(t, await patch({ rank: 'admiral' }, { 'content-type': 'application/merge-patch+json' }),
    [{ pointer: '/body/rank', code: 'unknown_field' }], 'unknown field (merge-patch+json)')
  assertValidation(t, await patch({ tags: 'navy', givenName: 3 }), [{ pointer: '/body/tags' }, { pointer: '/body/givenName' }], 'wrong types')
  assertValidation(t, await patch({ emails: ['grace@'] }), [{ pointer: /^\/body\/emails\/0/ }], 'invalid e-mail')
  assertValidation(t, await patch({ phones: ['+1 555'] }), [{ pointer: '/body/phones/0' }], 'invalid phone')
  assertValidation(t, await patch({ emails: [{ address: 'a@example.com', primary: true }, { address: 'b@example.com', primary: true }] }),
    [{ pointer: /^\/body\/emails$/ }], 'two primary e-mails')
  assertValidation(t, await patch({ displayName: null, emails: null }), [{ pointer: /^\/body\/displayName$/ }], 'removing every name source')

  assertProblem(t, await rest('PATCH', url, { payload: '{"title":', headers: json }), 400, 'request.malformed', 'malformed JSON')
  assertProblem(t, await rest('PATCH', url, { payload: '{"title":', headers: { 'content-type': 'application/merge-patch+json' } }),
    400, 'request.malformed', 'malformed merge-patch+json')
  assertProblem(t, await rest('PATCH', url, { payload: 'title=x', headers: { 'content-type': 'text/plain' } }), 415, 'request.unsupported_media_type', 'text/plain')
  assertProblem(t, await rest('PATCH', url, { payload: '<title>x</title>', headers: { 'content-type': 'application/xml' } }),
    415, 'request.unsupported_media_type', 'application/xml')

  const after = await rest('GET', url)
  t.same(after.data, created.data, 'no refused PATCH changed the contact (same version and fields)')

  const merged = await rest('PATCH', url, { payload: JSON.stringify({ title: 'Rear Admiral', attributes: { ship: 'Harvard Mark I' } }), headers: { 'content-type': 'application/merge-patch+json' } })
  t.equal(merged.statusCode, 200, `application/merge-patch+json is accepted on PATCH (${merged.body})`)
  t.equal(merged.data.title, 'Rear Admiral')
  t.same(merged.data.attributes, { ship: 'Harvard Mark I' })
  t.equal(merged.data.version, created.data.version + 1)
  const merged2 = await rest('PATCH', url, { payload: '{"title":null}', headers: { 'content-type': 'application/merge-patch+json; charset=utf-8' } })
  t.equal(merged2.statusCode, 200, 'with a charset parameter too')
  t.equal(merged2.data.title, null)
})

t.test('REST: unparseable, empty, oversized and non-JSON bodies', async (t) => {
  const { rest } = await build(t, { config: { bodyLimit: 2048 } })

  for (const payload of ['{"displayName":', '{displayName: "Ada"}', "{'displayName':'Ada'}", '{"displayName":"Ada",}', 'undefined']) {
    assertProblem(t, await rest('POST', '/v1/contacts', { payload, headers: json }), 400, 'request.malformed', `malformed JSON ${payload}`)
  }
  assertProblem(t, await rest('POST', '/v1/contacts', { payload: '', headers: json }), 400, 'request.malformed', 'empty body with content-type json')
  assertValidation(t, await rest('POST', '/v1/contacts', { payload: '[]', headers: json }), [{ pointer: '/body' }], 'a JSON array is not an object')
  assertValidation(t, await rest('POST', '/v1/contacts', { payload: 'null', headers: json }), [{ pointer: '/body' }], 'JSON null is not an object')

  const big = await rest('POST', '/v1/contacts', { body: { displayName: 'Ada', attributes: { notes: 'x'.repeat(3000) } } })
  assertProblem(t, big, 413, 'request.too_large', 'body over bodyLimit')
  const bigMerge = await rest('POST', '/v1/contacts', { payload: JSON.stringify({ displayName: 'x'.repeat(2100) }), headers: { 'content-type': 'application/merge-patch+json' } })
  assertProblem(t, bigMerge, 413, 'request.too_large', 'body over bodyLimit (merge-patch+json)')
  const small = await rest('POST', '/v1/contacts', { body: { displayName: 'Ada', attributes: { notes: 'x'.repeat(1500) } } })
  t.equal(small.statusCode, 201, 'a body under the limit is accepted')

  const media: Array<[string, string]> = [
    ['text/plain', 'displayName=Ada'],
    ['text/plain; charset=utf-8', '{"displayName":"Ada"}'],
    ['application/xml', '<contact><displayName>Ada</displayName></contact>'],
    ['application/x-www-form-urlencoded', 'displayName=Ada'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nAda\r\n--x--']
  ]
  for (const [type, payload] of media) {
    assertProblem(t, await rest('POST', '/v1/contacts', { payload, headers: { 'content-type': type } }), 415, 'request.unsupported_media_type', type)
  }

  t.same(await listIds(rest), [small.data.id], 'only the accepted request wrote')
})

t.test('REST: prototype-pollution payloads are refused with a 400, never a 500', async (t) => {
  const { rest } = workspace('prototype')
  const created = await rest('POST', '/v1/contacts', { body: { displayName: 'Target' } })
  const url = `/v1/contacts/${created.data.id}`
  const payloads = [
    '{"displayName":"x","__proto__":{"polluted":true}}',
    '{"displayName":"x","constructor":{"prototype":{"polluted":true}}}',
    '{"displayName":"x","attributes":{"__proto__":{"polluted":true}}}',
    '{"displayName":"x","attributes":{"constructor":{"prototype":{"polluted":true}}}}',
    '{"displayName":"x","emails":[{"address":"a@example.com","__proto__":{"primary":true}}]}'
  ]
  for (const payload of payloads) {
    for (const [method, target, type] of [['POST', '/v1/contacts', 'application/json'], ['PATCH', url, 'application/json'], ['PATCH', url, 'application/merge-patch+json']]) {
      const res = await rest(method, target, { payload, headers: { 'content-type': type } })
      const label = `${method} ${type} ${payload}`
      t.equal(res.statusCode, 400, `${label}: 400 (${res.body.slice(0, 200)})`)
      t.equal(String(res.headers['content-type']).split(';')[0], 'application/problem+json', `${label}: problem+json`)
      t.ok(['request.malformed', 'validation.failed'].includes(res.data?.code), `${label}: code ${res.data?.code}`)
    }
  }
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched')
  t.same(await listIds(rest), [created.data.id], 'nothing was created')
  t.same((await rest('GET', url)).data, created.data, 'the target is unchanged')
})

t.test('REST: bad query parameters', async (t) => {
  const { rest } = workspace('query')
  const get = (query: string) => rest('GET', `/v1/contacts?${query}`)

  assertValidation(t, await get('limit=0'), [{ pointer: '/querystring/limit', code: 'too_small' }], 'limit=0')
  assertValidation(t, await get('limit=101'), [{ pointer: '/querystring/limit', code: 'too_big' }], 'limit=101')
  assertValidation(t, await get('limit=abc'), [{ pointer: '/querystring/limit' }], 'limit=abc')
  assertValidation(t, await get('limit=2.5'), [{ pointer: '/querystring/limit' }], 'limit=2.5')
  assertValidation(t, await get('limit=-1'), [{ pointer: '/querystring/limit' }], 'limit=-1')
  assertValidation(t, await get('limit=1&limit=2'), [{ pointer: /^\/querystring\/limit/ }], 'limit given twice')
  assertValidation(t, await get('sort=name'), [{ pointer: '/querystring/sort', code: 'unknown_field' }], 'unknown query parameter')
  assertValidation(t, await get('updatedSince=yesterday'), [{ pointer: '/querystring/updatedSince' }], 'updatedSince not a date-time')
  assertValidation(t, await get('updatedSince=2026-13-45T99:00:00Z'), [{ pointer: '/querystring/updatedSince' }], 'updatedSince impossible date')
  assertValidation(t, await get('email=nobody'), [{ pointer: '/querystring/email' }], 'email filter not an e-mail')
  assertValidation(t, await get('q='), [{ pointer: '/querystring/q' }], 'empty q')

  const garbage = Buffer.from('not json').toString('base64url')
  const wrongShape = Buffer.from(JSON.stringify({ name: 'x' })).toString('base64url')
  for (const after of ['zzz', garbage, wrongShape]) {
    assertProblem(t, await get(`after=${after}`), 400, 'request.invalid_cursor', `after=${after}`)
  }
  const nul = await get('after=%00%01')
  t.equal(nul.statusCode, 400, 'a cursor with control characters is a 400')
  t.ok(['request.invalid_cursor', 'validation.failed'].includes(nul.data?.code), `  refused as a bad cursor or a bad value (${nul.data?.code})`)
  t.same(await listIds(rest), [], 'a list with good parameters still answers')
})

t.test('REST: unknown routes are 404 problems, with or without a token', async (t) => {
  const { rest } = workspace('routes')
  assertProblem(t, await rest('GET', '/v1/nothing-here'), 404, 'route.not_found', 'GET unknown')
  assertProblem(t, await rest('POST', '/v1/nothing-here', { body: { a: 1 } }), 404, 'route.not_found', 'POST unknown')
  assertProblem(t, await rest('GET', '/v2/contacts', { token: null }), 404, 'route.not_found', 'unknown route without a token')
  const p = assertProblem(t, await rest('GET', '/v1/contact?x=1'), 404, 'route.not_found', 'near miss')
  t.equal(p.instance, '/v1/contact?x=1', 'instance is the request target')
  t.notMatch(p.detail, /\?x=1/, 'detail names the path without the query')
})

t.test('GraphQL: the same bad inputs give coded errors with pointers and write nothing', async (t) => {
  const { gql, rest } = workspace('graphql')
  const create = 'mutation ($input: CreateContactInput!) { createContact(input: $input) { contact { id } } }'
  const update = 'mutation ($input: UpdateContactInput!) { updateContact(input: $input) { contact { id version title } } }'
  const existing = await rest('POST', '/v1/contacts', { body: { displayName: 'Existing', emails: ['existing@example.com'] } })
  t.equal(existing.statusCode, 201)
  const id = existing.data.id as string

  const expectValidation = async (query: string, variables: Record<string, unknown>, pointers: Array<string | RegExp>, label: string) => {
    const res = await gql(query, variables)
    t.equal(res.errors?.length, 1, `${label}: one error (${JSON.stringify(res.errors)})`)
    const ext = res.errors?.[0]?.extensions ?? {}
    t.equal(ext.code, 'validation.failed', `${label}: extensions.code`)
    assertFieldErrors(t, ext.errors, pointers.map((pointer) => ({ pointer })), label)
    t.notOk(res.data && Object.values(res.data).some(Boolean), `${label}: no data`)
  }

  await expectValidation(create, { input: { emails: [{ address: 'not-an-email' }] } }, [/^\/emails\/0(\/address)?$/], 'create: invalid e-mail')
  await expectValidation(create, { input: { phones: ['+1 555'] } }, ['/phones/0'], 'create: invalid phone')
  await expectValidation(create, { input: { displayName: 'x', phones: ['+14155552671', '12'] } }, ['/phones/1'], 'create: second phone invalid')
  await expectValidation(create, { input: { emails: [{ address: 'a@example.com', primary: true }, { address: 'b@example.com', primary: true }] } }, ['/emails'], 'create: two primaries')
  await expectValidation(create, { input: { title: 'CEO' } }, ['/displayName'], 'create: no name, e-mail or phone')
  await expectValidation(create, { input: { displayName: '  ' } }, ['/displayName'], 'create: blank displayName')
  await expectValidation(create, { input: { displayName: 'x', tags: ['ok', ''] } }, ['/tags/1'], 'create: blank tag')
  await expectValidation(create, { input: { displayName: 'x'.repeat(201) } }, ['/displayName'], 'create: displayName too long')

  await expectValidation(update, { input: { id, emails: [{ address: 'nope' }] } }, [/^\/emails\/0(\/address)?$/], 'update: invalid e-mail')
  await expectValidation(update, { input: { id, phones: ['+1 555'] } }, ['/phones/0'], 'update: invalid phone')
  await expectValidation(update, { input: { id, displayName: null, emails: null } }, ['/displayName'], 'update: removing every name source')

  await expectValidation('{ contacts(first: 0) { nodes { id } } }', {}, ['/first'], 'contacts(first: 0)')
  await expectValidation('{ contacts(first: 101) { nodes { id } } }', {}, ['/first'], 'contacts(first: 101)')
  await expectValidation('query ($n: Int) { contacts(first: $n) { nodes { id } } }', { n: -5 }, ['/first'], 'contacts(first: -5) via a variable')
  await expectValidation('{ contacts(filter: { email: "nobody" }) { nodes { id } } }', {}, ['/email'], 'contacts filter email')

  const cursor = await gql('{ contacts(after: "zzz") { nodes { id } } }')
  t.equal(cursor.errors?.[0]?.extensions.code, 'request.invalid_cursor', 'bad cursor')

  const invalidQuery = async (query: string, variables: Record<string, unknown>, label: string) => {
    const res = await gql(query, variables)
    t.equal(res.status, 400, `${label}: HTTP 400`)
    t.ok(res.errors && res.errors.length > 0, `${label}: errors`)
    for (const e of res.errors ?? []) t.equal(e.extensions?.code, 'graphql.invalid_query', `${label}: ${e.message}`)
  }
  await invalidQuery('{ contacts(first: ', {}, 'syntax error')
  await invalidQuery('{ contacts { nodes { shoeSize } } }', {}, 'unknown field')
  await invalidQuery('{ contactz { nodes { id } } }', {}, 'unknown root field')
  await invalidQuery(create, { input: { displayName: 'x', shoeSize: 9 } }, 'unknown input field (rejected by the GraphQL type system)')
  await invalidQuery(create, { input: { displayName: 5 } }, 'wrong input type (rejected by the GraphQL type system)')
  await invalidQuery('{ contacts(first: "ten") { nodes { id } } }', {}, 'wrong argument type')
  await invalidQuery('mutation { createContact { contact { id } } }', {}, 'missing required argument')

  const list = await rest('GET', '/v1/contacts')
  t.same(list.data.data.map((c: { id: string }) => c.id), [id], 'no refused mutation wrote anything')
  t.same((await rest('GET', `/v1/contacts/${id}`)).data, existing.data, 'the updated contact is unchanged')
})

t.test('a failing database gives a 5xx that leaks nothing', async (t) => {
  const { rest, gql, database } = await build(t)
  const created = await rest('POST', '/v1/contacts', { body: { displayName: 'Before the outage' } })
  t.equal(created.statusCode, 201)
  await closeDatabase(database)

  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/v1/contacts'],
    ['GET', `/v1/contacts/${created.data.id}`],
    ['POST', '/v1/contacts', { displayName: 'During the outage' }],
    ['PATCH', `/v1/contacts/${created.data.id}`, { title: 'x' }],
    ['DELETE', `/v1/contacts/${created.data.id}`]
  ]
  for (const [method, url, body] of calls) {
    const res = await rest(method, url, { body })
    const label = `${method} ${url}`
    t.ok(res.statusCode === 500 || res.statusCode === 503, `${label}: 500 or 503 (${res.statusCode})`)
    t.equal(String(res.headers['content-type']).split(';')[0], 'application/problem+json', `${label}: problem+json`)
    t.ok(['internal', 'service.unavailable'].includes(res.data?.code), `${label}: code ${res.data?.code}`)
    t.equal(res.data?.type, `/problems/${res.data?.code}`, `${label}: type`)
    t.type(res.data?.detail, 'string', `${label}: detail`)
    t.notMatch(res.data?.detail, internalsPattern, `${label}: detail leaks nothing (${res.data?.detail})`)
    t.notOk('stack' in (res.data ?? {}), `${label}: no stack`)
    t.notMatch(res.body, /node_modules|\.ts:\d+|select |insert into/i, `${label}: body leaks nothing`)
  }

  const g = await gql('{ contacts(first: 5) { nodes { id } } }')
  t.ok(g.errors && g.errors.length > 0, 'GraphQL reports an error')
  for (const e of g.errors ?? []) {
    t.ok(['internal', 'service.unavailable'].includes(e.extensions?.code), `GraphQL code ${e.extensions?.code}`)
    t.notMatch(e.message, internalsPattern, `GraphQL message leaks nothing (${e.message})`)
    t.notMatch(JSON.stringify(e.extensions), /node_modules|\.ts:\d+|stack|select |insert into/i, 'GraphQL extensions leak nothing')
  }
  const m = await gql('mutation { createContact(input: { displayName: "During the outage" }) { contact { id } } }')
  t.ok(['internal', 'service.unavailable'].includes(m.errors?.[0]?.extensions.code), 'GraphQL mutation: coded error')
  t.notMatch(m.errors?.[0]?.message ?? '', internalsPattern, 'GraphQL mutation: message leaks nothing')
})

// Hostile shapes that once escaped the problem format or ended in a 500.
t.test('hostile nesting and URLs are 4xx problems', async (t) => {
  const { rest } = workspace('hostile')
  const depth = 5000
  const deep = await rest('POST', '/v1/contacts', { payload: `{"displayName":"x","attributes":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`, headers: json })
  assertProblem(t, deep, 400, 'validation.failed', `attributes nested ${depth} deep`)
  const deepGql = await rest('POST', '/graphql', {
    payload: `{"query":"mutation ($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }","variables":{"i":{"displayName":"x","attributes":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}}}`,
    headers: json
  })
  t.ok(deepGql.statusCode < 500, `the same through GraphQL is not a 5xx (${deepGql.statusCode})`)
  t.ok(deepGql.data?.errors?.length > 0 && deepGql.data.errors[0].extensions?.code !== 'internal', `  but a coded error (${deepGql.data?.errors?.[0]?.extensions?.code})`)

  const badUrl = await rest('GET', '/v1/contacts/%E0%A4%A')
  t.equal(badUrl.statusCode, 400, 'a malformed percent-encoding in the URL is a 400')
  t.equal(String(badUrl.headers['content-type']).split(';')[0], 'application/problem+json', '  as problem+json')
  const longId = await rest('GET', `/v1/contacts/${'a'.repeat(250)}`)
  t.ok(longId.statusCode >= 400 && longId.statusCode < 500, `an over-long id is a 4xx, never a 500 (${longId.statusCode} ${longId.data?.code})`)
  t.equal(String(longId.headers['content-type']).split(';')[0], 'application/problem+json', '  as problem+json')
  t.same(await listIds(rest), [], 'nothing was written')
})
