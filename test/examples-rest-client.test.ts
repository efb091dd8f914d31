import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { runPartnerFlow } from '../examples/rest-client/partner-flow.js'
import { build } from './helper.js'

// The typed client example (openapi-typescript + openapi-fetch) runs a partner's flow against a
// real listening server, and its generated types are those of the committed openapi.yaml.

t.test('the generated client runs the partner flow against a listening server', async (t) => {
  const { app, token, rest } = await build(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const result = await runPartnerFlow({ baseUrl: address, token: token({ workspace: 'partner' }) })

  t.match(result.contactId, /^con_/, 'created a contact')
  t.ok(result.listed, 'found it in the list')
  t.equal(result.promiseStatus, 'kept', 'the promise was kept with its evidence')

  // What the client did is really there, seen through the API, in that workspace only.
  const promise = await rest('GET', `/v1/promises/${result.promiseId}`, { token: token({ workspace: 'partner' }) })
  t.equal(promise.statusCode, 200)
  t.equal(promise.data.status, 'kept')
  t.equal(promise.data.contactId, result.contactId)
  const other = await rest('GET', `/v1/promises/${result.promiseId}`, { token: token({ workspace: 'someone-else' }) })
  t.equal(other.statusCode, 404, 'another workspace cannot see it')
})

t.test('a call the server refuses comes back as an error, not as data', async (t) => {
  const { app, token } = await build(t)
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  await t.rejects(runPartnerFlow({ baseUrl: address, token: token({ scopes: ['contacts:read'] }) }), /create contact: 403/)
})

t.test('examples/rest-client/schema.d.ts is generated from the committed openapi.yaml', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'rapport-client-')), 'schema.d.ts')
  const root = fileURLToPath(new URL('..', import.meta.url))
  await promisify(execFile)(join(root, 'node_modules/.bin/openapi-typescript'), ['openapi.yaml', '-o', out], { cwd: root })
  const committed = readFileSync(join(root, 'examples/rest-client/schema.d.ts'), 'utf8')
  t.ok(readFileSync(out, 'utf8') === committed, 'schema.d.ts is stale: run `npm run openapi` and commit examples/rest-client/schema.d.ts')
})
