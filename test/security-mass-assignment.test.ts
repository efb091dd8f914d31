import t from 'tap'
import { build } from './helper.js'
import { assertFieldErrors, assertValidation } from './support/problem.js'
import { listSnapshot } from './support/security/lists.js'

/**
 * Mass assignment: fields the server owns (ids, tenancy, versions, timestamps, lifecycle state,
 * derived values) can never be set by a client, in any write, REST or GraphQL. Each attempt is a
 * 400 naming the field (REST) or a graphql.invalid_query (GraphQL), and writes nothing anywhere.
 */

const ctx = await build(t)
const { rest, gql, token } = ctx
const me = token({ workspace: 'mass' })
const victimToken = token({ workspace: 'victim' })
const as = (method: string, url: string, body?: unknown, headers?: Record<string, string>) => rest(method, url, { token: me, body, headers })

async function created (method: string, url: string, body: unknown, status = 201) {
  const res = await as(method, url, body)
  if (res.statusCode !== status) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`)
  return res.data
}

// Fixtures in the caller's workspace, and one in another workspace that a forged workspaceId would target.
const contact = await created('POST', '/v1/contacts', { displayName: 'Mass Assignment', emails: ['mass@example.com'] })
const channel = await created('POST', '/v1/channels', { kind: 'note', name: 'Notes', config: {} })
const interaction = await created('POST', '/v1/interactions', { contactId: contact.id, channelId: channel.id, direction: 'outbound', kind: 'note', body: 'Done.' })
const promise = await created('POST', '/v1/promises', { contactId: contact.id, description: 'Send the quote', dueAt: '2031-01-06T09:00:00.000Z' })
const victimContact = (await rest('POST', '/v1/contacts', { token: victimToken, body: { displayName: 'Victim' } })).data

const forged = {
  id: 'con_01forgedforgedforgedforged',
  workspaceId: 'victim',
  version: 999,
  createdAt: '2000-01-01T00:00:00.000Z',
  updatedAt: '2000-01-01T00:00:00.000Z',
  deletedAt: '2000-01-01T00:00:00.000Z',
  mergedInto: victimContact.id,
  status: 'kept',
  keptAt: '2000-01-01T00:00:00.000Z',
  keptByInteractionIds: [interaction.id],
  secretsSet: ['botToken'],
  inboundUrl: 'https://evil.example/hook',
  authorId: 'the-ceo',
  raw: { forged: true },
  contactId: victimContact.id
} as Record<string, unknown>
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

interface RestCase { label: string, method: string, url: string, base: Record<string, unknown>, fields: string[], control?: number }
const restCases: RestCase[] = [
  { label: 'create a contact', method: 'POST', url: '/v1/contacts', base: { displayName: 'Plain' }, fields: ['id', 'workspaceId', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'mergedInto'], control: 201 },
  { label: 'update a contact', method: 'PATCH', url: `/v1/contacts/${contact.id}`, base: { title: 'CTO' }, fields: ['id', 'workspaceId', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'mergedInto'], control: 200 },
  { label: 'create a promise', method: 'POST', url: '/v1/promises', base: { contactId: contact.id, description: 'Call back', dueAt: '2031-01-06T09:00:00.000Z' }, fields: ['status', 'keptAt', 'keptByInteractionIds', 'version', 'id', 'workspaceId', 'createdAt'], control: 201 },
  { label: 'keep a promise', method: 'POST', url: `/v1/promises/${promise.id}/keep`, base: {}, fields: ['status', 'keptByInteractionIds', 'version'] },
  { label: 'break a promise', method: 'POST', url: `/v1/promises/${promise.id}/break`, base: { reason: 'x' }, fields: ['status', 'keptAt', 'version'] },
  { label: 'renegotiate a promise', method: 'POST', url: `/v1/promises/${promise.id}/renegotiate`, base: { dueAt: '2031-02-06T09:00:00.000Z', reason: 'x' }, fields: ['status', 'keptAt', 'version'] },
  { label: 'create a channel', method: 'POST', url: '/v1/channels', base: { kind: 'note', name: 'More notes', config: {} }, fields: ['secretsSet', 'inboundUrl', 'version', 'id', 'workspaceId'], control: 201 },
  { label: 'update a channel', method: 'PATCH', url: `/v1/channels/${channel.id}`, base: { name: 'Renamed' }, fields: ['secretsSet', 'inboundUrl', 'version', 'id', 'workspaceId'], control: 200 },
  { label: 'log an interaction', method: 'POST', url: '/v1/interactions', base: { contactId: contact.id, direction: 'outbound', kind: 'call', providerMessageId: 'pm-1' }, fields: ['status', 'authorId', 'raw', 'createdAt', 'id', 'workspaceId'], control: 201 },
  { label: 'send a message', method: 'POST', url: `/v1/contacts/${contact.id}/messages`, base: { channelId: channel.id, text: 'hi' }, fields: ['status', 'authorId', 'raw', 'createdAt'] },
  { label: 'add an identity', method: 'POST', url: `/v1/contacts/${contact.id}/identities`, base: { kind: 'phone', address: '+14155552671' }, fields: ['id', 'contactId', 'workspaceId', 'createdAt'] },
  { label: 'update the workspace', method: 'PATCH', url: '/v1/workspace', base: { name: 'Renamed' }, fields: ['id', 'createdAt', 'updatedAt'], control: 200 }
]

let cases = 0

t.test('REST: a client-set server field is a 400 naming it, with nothing written', async (t) => {
  // The base bodies are valid: the controls write (and prove a refusal below is the field's doing).
  for (const c of restCases.filter((c) => c.control)) {
    const res = await as(c.method, c.url, c.base)
    t.equal(res.statusCode, c.control, `${c.label}: the plain body is accepted (${res.body.slice(0, 200)})`)
  }
  const before = await listSnapshot(rest, me)
  const victimBefore = await listSnapshot(rest, victimToken)
  for (const c of restCases) {
    for (const field of c.fields) {
      for (const name of [...new Set([field, snake(field)])]) {
        const res = await as(c.method, c.url, { ...c.base, [name]: forged[field] })
        cases++
        assertValidation(t, res, [{ pointer: `/body/${name}`, code: 'unknown_field' }], `${c.label} with ${name}`)
      }
    }
  }
  t.test('as merge-patch+json too', async (t) => {
    for (const field of ['workspaceId', 'version', 'mergedInto']) {
      const res = await as('PATCH', `/v1/contacts/${contact.id}`, undefined, { 'content-type': 'application/merge-patch+json' })
      t.equal(res.statusCode, 400, 'an empty merge patch is malformed')
      const patched = await rest('PATCH', `/v1/contacts/${contact.id}`, { token: me, payload: JSON.stringify({ title: 'x', [field]: forged[field] }), headers: { 'content-type': 'application/merge-patch+json' } })
      cases++
      assertValidation(t, patched, [{ pointer: `/body/${field}`, code: 'unknown_field' }], `merge patch with ${field}`)
    }
  })
  t.test('through the prototype: __proto__ and constructor.prototype are refused, and pollute nothing', async (t) => {
    for (const payload of [
      '{"displayName":"Proto","__proto__":{"workspaceId":"victim","version":999}}',
      '{"displayName":"Proto","constructor":{"prototype":{"workspaceId":"victim"}}}',
      '{"displayName":"Proto","attributes":{"__proto__":{"isAdmin":true}}}'
    ]) {
      const res = await rest('POST', '/v1/contacts', { token: me, payload, headers: { 'content-type': 'application/json' } })
      cases++
      t.equal(res.statusCode, 400, `${payload}: 400`)
      t.equal(res.data?.code, 'request.malformed', `${payload}: request.malformed`)
      t.equal(({} as Record<string, unknown>).workspaceId, undefined, 'Object.prototype untouched')
      t.equal(({} as Record<string, unknown>).isAdmin, undefined, 'Object.prototype untouched')
    }
  })
  t.test('batch upsert: each forged record fails on its own with the field named', async (t) => {
    const records = ['id', 'workspaceId', 'version', 'createdAt', 'deletedAt', 'mergedInto'].map((f, i) => ({ displayName: `Batch ${i}`, externalId: `batch-${i}`, [f]: forged[f] }))
    const res = await as('POST', '/v1/contacts/batch', { upsertOn: 'externalId', records })
    cases += records.length
    t.equal(res.statusCode, 200)
    t.same(res.data.summary, { created: 0, updated: 0, unchanged: 0, failed: records.length }, 'nothing created')
    for (const [i, r] of res.data.results.entries()) {
      t.equal(r.result, 'error', `record ${i} refused`)
      const field = Object.keys(records[i]).at(-1)!
      assertFieldErrors(t, r.errors, [{ pointer: `/${field}`, code: 'unknown_field' }], `record ${i} (${field})`)
    }
  })
  t.same(await listSnapshot(rest, me), before, 'nothing written in the caller\'s workspace')
  t.same(await listSnapshot(rest, victimToken), victimBefore, 'nothing written in the workspace a forged workspaceId names')
  const p = (await as('GET', `/v1/promises/${promise.id}`)).data
  t.match(p, { status: 'open', keptAt: null, keptByInteractionIds: [], version: 1 }, 'the promise kept its state')
})

interface GqlCase { mutation: string, input: string, base: Record<string, unknown>, fields: string[], control?: boolean }
const gqlCases: GqlCase[] = [
  { mutation: 'createContact', input: 'CreateContactInput', base: { displayName: 'GraphQL plain' }, fields: ['id', 'workspaceId', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'mergedInto'], control: true },
  { mutation: 'updateContact', input: 'UpdateContactInput', base: { id: contact.id, title: 'VP' }, fields: ['workspaceId', 'version', 'createdAt', 'updatedAt', 'deletedAt', 'mergedInto'], control: true },
  { mutation: 'upsertContacts', input: 'UpsertContactsInput', base: { upsertOn: 'EXTERNAL_ID', records: [{ displayName: 'Up', externalId: 'up-1' }] }, fields: ['workspaceId'] },
  { mutation: 'createPromise', input: 'CreatePromiseInput', base: { contactId: contact.id, description: 'GraphQL promise', dueAt: '2031-01-06T09:00:00.000Z' }, fields: ['status', 'keptAt', 'keptByInteractionIds', 'version', 'id', 'workspaceId'], control: true },
  { mutation: 'keepPromise', input: 'KeepPromiseInput', base: { id: promise.id }, fields: ['status', 'keptByInteractionIds', 'version'] },
  { mutation: 'createChannel', input: 'CreateChannelInput', base: { kind: 'note', name: 'GraphQL notes' }, fields: ['secretsSet', 'inboundUrl', 'version', 'id', 'workspaceId'], control: true },
  { mutation: 'updateChannel', input: 'UpdateChannelInput', base: { id: channel.id, name: 'GraphQL renamed' }, fields: ['secretsSet', 'inboundUrl', 'version', 'workspaceId'], control: true },
  { mutation: 'logInteraction', input: 'LogInteractionInput', base: { contactId: contact.id, direction: 'OUTBOUND', kind: 'CALL', providerMessageId: 'pm-2' }, fields: ['status', 'authorId', 'raw', 'createdAt', 'id', 'workspaceId'], control: true }
]

t.test('GraphQL: a client-set server field is an unknown input field, with nothing written', async (t) => {
  const mutation = (c: GqlCase) => `mutation ($input: ${c.input}!) { ${c.mutation}(input: $input) { __typename } }`
  for (const c of gqlCases.filter((c) => c.control)) {
    const res = await gql(mutation(c), { input: c.base }, { token: me })
    t.notOk(res.errors, `${c.mutation}: the plain input is accepted (${JSON.stringify(res.errors)})`)
  }
  const before = await listSnapshot(rest, me)
  const victimBefore = await listSnapshot(rest, victimToken)
  for (const c of gqlCases) {
    for (const field of c.fields) {
      // As a variable, and as a literal in the document.
      const viaVariable = await gql(mutation(c), { input: { ...c.base, [field]: forged[field] } }, { token: me })
      const literal = `mutation { ${c.mutation}(input: { ${Object.entries({ ...c.base, [field]: forged[field] }).map(([k, v]) => `${k}: ${gqlLiteral(k, v)}`).join(', ')} }) { __typename } }`
      const viaLiteral = await gql(literal, {}, { token: me })
      cases += 2
      for (const [how, res] of [['variable', viaVariable], ['literal', viaLiteral]] as const) {
        t.equal(res.data?.[c.mutation] ?? null, null, `${c.mutation}.${field} (${how}): no result`)
        t.equal(res.errors?.[0]?.extensions?.code, 'graphql.invalid_query', `${c.mutation}.${field} (${how}): graphql.invalid_query`)
        t.match(res.errors?.[0]?.message, new RegExp(`"${field}"`), `${c.mutation}.${field} (${how}): the message names the field`)
      }
    }
  }
  t.same(await listSnapshot(rest, me), before, 'nothing written in the caller\'s workspace')
  t.same(await listSnapshot(rest, victimToken), victimBefore, 'nothing written in the workspace a forged workspaceId names')
})

t.test('summary', async (t) => {
  t.comment(`${cases} mass-assignment attempts`)
  t.ok(cases > 100)
})

/** A GraphQL literal: enums (UPPER_CASE strings of enum fields) bare, the rest as JSON-ish literals. */
function gqlLiteral (key: string, v: unknown): string {
  if (typeof v === 'string' && /^[A-Z_]+$/.test(v) && ['direction', 'kind', 'upsertOn', 'status', 'promisorType'].includes(key)) return v
  if (Array.isArray(v)) return `[${v.map((x) => gqlLiteral('', x)).join(', ')}]`
  if (v && typeof v === 'object') return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${gqlLiteral(k, x)}`).join(', ')} }`
  return JSON.stringify(v)
}
