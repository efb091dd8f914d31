import t from 'tap'
import { createResponseValidator, openApiValidator } from './support/openapi-validator.js'
import { build } from './helper.js'

// The validator test/helper.ts runs on every REST response: it must catch each kind of drift.

const doc = {
  openapi: '3.1.0',
  paths: {
    '/v1/things/{id}': {
      get: {
        responses: {
          200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
          304: { description: 'not modified' },
          404: { description: 'missing', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }
        }
      }
    }
  },
  components: {
    schemas: {
      Thing: { type: 'object', properties: { id: { type: 'string' }, at: { type: 'string', format: 'date-time' } }, required: ['id'] },
      Problem: { type: 'object', properties: { code: { type: 'string' }, status: { type: 'integer' } }, required: ['code', 'status'] }
    }
  }
}

t.test('each kind of mismatch is reported; a matching response is not', async (t) => {
  const v = createResponseValidator(doc)
  const base = { method: 'GET', route: '/v1/things/:id', url: '/v1/things/t1' }
  t.same(v.check({ ...base, status: 200, contentType: 'application/json; charset=utf-8', body: '{"id":"t1","at":"2024-01-01T00:00:00Z"}' }), [], 'a documented body passes')
  t.same(v.check({ ...base, status: 304, body: '' }), [], 'a 304 without body passes')
  t.match(v.check({ ...base, status: 200, contentType: 'application/json', body: '{"at":"yesterday"}' }).join('\n'), /must have required property 'id'[\s\S]*must match format "date-time"/, 'schema errors, formats included')
  t.match(v.check({ ...base, status: 409, contentType: 'application/problem+json', body: '{"code":"x","status":409}' }), [/status 409 is not documented/], 'an undocumented status')
  t.match(v.check({ ...base, status: 404, contentType: 'application/json', body: '{"code":"x","status":404}' }), [/content type application\/json is not documented/], 'the wrong content type')
  t.match(v.check({ ...base, status: 200, contentType: 'application/json', body: '' }), [/declares a application\/json body, but none was sent/], 'a missing body')
  t.match(v.check({ method: 'POST', route: '/v1/things/:id', url: '/v1/things/t1', status: 201, contentType: 'application/json', body: '{}' }), [/POST \/v1\/things\/\{id\} is not in openapi.yaml/], 'an undocumented operation')
  t.match(v.check({ method: 'GET', url: '/v1/nope', status: 200, contentType: 'application/json', body: '{}' }), [/no route matched/], 'an unmatched route must answer 404')
  t.same(v.check({ method: 'GET', url: '/v1/nope', status: 404, contentType: 'application/problem+json', body: '{"code":"route.not_found","status":404}' }), [], 'an unmatched route answers a problem')
  t.same(v.check({ method: 'POST', url: '/graphql', status: 200, contentType: 'application/json', body: '{}' }), [], 'GraphQL is not in this contract')
})

t.test('the helper fails a test whose REST response breaks openapi.yaml', async (t) => {
  const failures: string[] = []
  // A stand-in for tap's t: build() reports violations through fail().
  const fake = { teardown: (fn: () => unknown) => t.teardown(fn), fail: (message: string) => { failures.push(message) } }
  const { app, rest } = await build(fake)
  t.equal((await rest('GET', '/v1/contacts')).statusCode, 200)
  t.same(failures, [], 'real responses match the committed document')

  // The real document's Contact schema refuses a body without its fields.
  const found = openApiValidator().check({ method: 'GET', route: '/v1/contacts/:id', url: '/v1/contacts/con_1', status: 200, contentType: 'application/json', body: '{"id":"con_1"}' })
  t.match(found.join('\n'), /must have required property 'displayName'/, 'the committed document is what responses are checked against')
  t.ok(app.hasRoute({ method: 'GET', url: '/v1/contacts/:id' }))
})
