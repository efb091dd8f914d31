import t from 'tap'
import { build } from './helper.js'
import { webhookTestbed } from './support/webhooks.js'

// Outbound webhook endpoints through GraphQL: the REST services behind another transport, so each
// answer is compared with what REST returns for the same object.

t.setTimeout(400_000)

const { shared, fresh, receiver, setup, drain } = await webhookTestbed(t, 'gwh')

const endpointFields = 'id url description eventTypes status disabledReason previousSecretExpiresAt createdAt updatedAt version'
const deliveryFields = 'id endpointId eventId eventType status roundAttempts totalAttempts lastStatusCode lastLatencyMs lastError lastAttemptAt nextAttemptAt createdAt updatedAt'
const attemptFields = 'attempt startedAt durationMs outcome statusCode errorKind error nextAttemptAt'

/** A GraphQL object in REST's shape: enums lower-cased, `roundAttempts` as REST's `attempts`. */
function asRest (o: Record<string, any>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) {
    const key = k === 'roundAttempts' ? 'attempts' : k
    out[key] = ['status', 'outcome', 'errorKind'].includes(k) && typeof v === 'string' ? v.toLowerCase() : v
  }
  return out
}

const codeOf = (res: { errors?: Array<{ extensions: Record<string, any> }> }) => res.errors?.[0]?.extensions.code
const pointersOf = (res: { errors?: Array<{ extensions: Record<string, any> }> }) => (res.errors?.[0]?.extensions.errors ?? []).map((e: any) => e.pointer)

const CREATE = `mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret webhookEndpoint { ${endpointFields} } } }`
const UPDATE = `mutation ($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { webhookEndpoint { ${endpointFields} } } }`

t.test('create (the secret once), read, list, update with expectedVersion, rotate, delete: as REST', async (t) => {
  const w = fresh()
  const target = receiver.endpoint()
  const created = await w.gql(CREATE, { input: { url: target.url, eventTypes: ['contact.updated', 'contact.created', 'contact.created'], description: 'CRM sync' } })
  t.notOk(created.errors, JSON.stringify(created.errors))
  t.equal(created.res.headers['cache-control'], 'no-store', 'the answer holding the secret is not cached')
  const { secret, webhookEndpoint } = created.data.createWebhookEndpoint
  t.match(secret, /^whsec_/)
  t.match(webhookEndpoint, { status: 'ENABLED', eventTypes: ['contact.created', 'contact.updated'], description: 'CRM sync', version: 1, disabledReason: null })
  const id = webhookEndpoint.id
  t.match(id, /^whe_/)

  const rest = await w.rest('GET', `/v1/webhook-endpoints/${id}`)
  t.equal(rest.statusCode, 200)
  t.same(asRest(webhookEndpoint), rest.data, 'the created endpoint is what REST reads')
  const read = await w.gql(`query ($id: ID!) { webhookEndpoint(id: $id) { ${endpointFields} } node(id: $id) { __typename id } }`, { id })
  t.same(asRest(read.data.webhookEndpoint), rest.data, 'webhookEndpoint(id) is what REST reads')
  t.same(read.data.node, { __typename: 'WebhookEndpoint', id }, 'node(id) finds it')

  // A second endpoint: lists are newest first, in pages, both ways.
  const second = await w.gql(CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['*'], status: 'DISABLED' } })
  t.match(second.data.createWebhookEndpoint.webhookEndpoint, { status: 'DISABLED', eventTypes: ['*'], disabledReason: 'created disabled' })
  const restList = await w.rest('GET', '/v1/webhook-endpoints')
  const list = await w.gql(`{ webhookEndpoints { totalCount nodes { ${endpointFields} } pageInfo { hasNextPage hasPreviousPage } } }`)
  t.same(list.data.webhookEndpoints.nodes.map(asRest), restList.data.data, 'the connection lists what REST lists, in its order')
  t.equal(list.data.webhookEndpoints.totalCount, 2)
  const first = await w.gql('{ webhookEndpoints(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }')
  t.same(first.data.webhookEndpoints.nodes.map((n: any) => n.id), [restList.data.data[0].id])
  t.equal(first.data.webhookEndpoints.pageInfo.hasNextPage, true)
  const next = await w.gql('query ($after: String) { webhookEndpoints(first: 1, after: $after) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }', { after: first.data.webhookEndpoints.pageInfo.endCursor })
  t.same(next.data.webhookEndpoints.nodes.map((n: any) => n.id), [restList.data.data[1].id])
  t.match(next.data.webhookEndpoints.pageInfo, { hasNextPage: false, hasPreviousPage: true })
  const last = await w.gql('{ webhookEndpoints(last: 1) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }')
  t.same(last.data.webhookEndpoints.nodes.map((n: any) => n.id), [restList.data.data[1].id], 'last reads the end of the list')
  t.match(last.data.webhookEndpoints.pageInfo, { hasPreviousPage: true })
  const tooMany = await w.gql('{ webhookEndpoints(first: 101) { nodes { id } } }')
  t.equal(codeOf(tooMany), 'validation.failed')
  t.same(pointersOf(tooMany), ['/first'])

  // expectedVersion is REST's If-Match.
  const stale = await w.gql(UPDATE, { input: { id, description: 'stale', expectedVersion: 7 } })
  t.equal(codeOf(stale), 'precondition.failed')
  t.equal(stale.errors?.[0].extensions.currentVersion, 1)
  const updated = await w.gql(UPDATE, { input: { id, description: null, eventTypes: ['contact.deleted'], expectedVersion: 1 } })
  t.notOk(updated.errors, JSON.stringify(updated.errors))
  t.match(updated.data.updateWebhookEndpoint.webhookEndpoint, { description: null, eventTypes: ['contact.deleted'], version: 2 })
  t.same(asRest(updated.data.updateWebhookEndpoint.webhookEndpoint), (await w.rest('GET', `/v1/webhook-endpoints/${id}`)).data, 'the update is what REST reads')
  const disabled = await w.gql(UPDATE, { input: { id, status: 'DISABLED' } })
  t.match(disabled.data.updateWebhookEndpoint.webhookEndpoint, { status: 'DISABLED', disabledReason: 'disabled by tester', version: 3 })

  // Rotation: a new secret once, the previous one signing for the grace asked for.
  const rotate = await w.gql(`mutation ($input: RotateWebhookEndpointSecretInput!) { rotateWebhookEndpointSecret(input: $input) { secret webhookEndpoint { ${endpointFields} } } }`,
    { input: { id, previousSecretExpiresInSeconds: 3600 } })
  t.notOk(rotate.errors, JSON.stringify(rotate.errors))
  t.equal(rotate.res.headers['cache-control'], 'no-store')
  const rotated = rotate.data.rotateWebhookEndpointSecret
  t.match(rotated.secret, /^whsec_/)
  t.not(rotated.secret, secret, 'a new secret')
  t.equal(Date.parse(rotated.webhookEndpoint.previousSecretExpiresAt) - Date.parse(rotated.webhookEndpoint.updatedAt), 3_600_000)
  t.same(asRest(rotated.webhookEndpoint), (await w.rest('GET', `/v1/webhook-endpoints/${id}`)).data)
  const defaultGrace = await w.gql('mutation ($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id }) { webhookEndpoint { previousSecretExpiresAt updatedAt } } }', { id })
  const e = defaultGrace.data.rotateWebhookEndpointSecret.webhookEndpoint
  t.equal(Date.parse(e.previousSecretExpiresAt) - Date.parse(e.updatedAt), 86_400_000, 'a day by default, as REST')

  const staleDelete = await w.gql('mutation ($id: ID!) { deleteWebhookEndpoint(input: { id: $id, expectedVersion: 1 }) { deletedWebhookEndpointId } }', { id })
  t.equal(codeOf(staleDelete), 'precondition.failed')
  const deleted = await w.gql('mutation ($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedWebhookEndpointId } }', { id })
  t.same(deleted.data, { deleteWebhookEndpoint: { deletedWebhookEndpointId: id } })
  t.equal((await w.rest('GET', `/v1/webhook-endpoints/${id}`)).statusCode, 404)
  const gone = await w.gql(`query ($id: ID!) { webhookEndpoint(id: $id) { id } }`, { id })
  t.equal(codeOf(gone), 'webhook.not_found')
})

t.test('the secret is never readable: only the create and rotate payloads carry one', async (t) => {
  const w = fresh()
  const types = await w.gql('{ __schema { types { name fields { name } } } }')
  const withSecret = types.data.__schema.types.filter((ty: any) => ty.fields?.some((f: any) => f.name === 'secret'))
  t.same(withSecret.map((ty: any) => ty.name).sort(), ['CreateApiKeyPayload', 'CreateWebhookEndpointPayload', 'RotateWebhookEndpointSecretPayload'])
  const asked = await w.gql('{ webhookEndpoints { nodes { id secret } } }')
  t.equal(codeOf(asked), 'graphql.invalid_query')
})

t.test('validation: the REST schemas and rules, with field pointers', async (t) => {
  const w = fresh()
  const cases: Array<[Record<string, unknown>, string[], string?]> = [
    [{ url: 'ftp://example.com/hook', eventTypes: ['contact.created'] }, ['/url'], 'url_refused'],
    [{ url: 'http://169.254.169.254/latest', eventTypes: ['contact.created'] }, ['/url'], 'url_refused'],
    [{ url: 'https://partner.example.com/hook', eventTypes: ['contact.nope'] }, ['/eventTypes/0']],
    [{ url: 'https://partner.example.com/hook', eventTypes: [] }, ['/eventTypes']],
    [{ url: '', eventTypes: ['contact.created'] }, ['/url']]
  ]
  for (const [input, pointers, code] of cases) {
    const res = await w.gql(CREATE, { input })
    t.equal(codeOf(res), 'validation.failed', JSON.stringify(input))
    t.same(pointersOf(res), pointers, `${JSON.stringify(input)}: ${pointers}`)
    if (code) t.equal(res.errors?.[0].extensions.errors[0].code, code)
    t.equal(res.data?.createWebhookEndpoint ?? null, null)
  }
  const ok = await w.gql(CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['contact.created'] } })
  const id = ok.data.createWebhookEndpoint.webhookEndpoint.id
  const bad = await w.gql(UPDATE, { input: { id, url: 'http://10.0.0.1/x' } })
  t.same(pointersOf(bad), ['/url'])
  const grace = await w.gql('mutation ($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id, previousSecretExpiresInSeconds: 604801 }) { secret } }', { id })
  t.equal(codeOf(grace), 'validation.failed')
  t.same(pointersOf(grace), ['/previousSecretExpiresInSeconds'])
  const page = await w.gql('query ($id: ID!) { webhookEndpoint(id: $id) { deliveries(status: PENDING, first: 0) { totalCount } } }', { id })
  t.same(pointersOf(page), ['/first'])
  t.equal((await w.rest('GET', `/v1/webhook-endpoints/${id}`)).data.version, 1, 'nothing changed')
})

t.test('scopes: webhooks:read for queries, webhooks:write for mutations, the read scope of the event types', async (t) => {
  const w = fresh()
  const { data } = await w.gql(CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['contact.created'] } })
  const id = data.createWebhookEndpoint.webhookEndpoint.id
  const reader = w.token({ scopes: ['webhooks:read'] })
  const writer = w.token({ scopes: ['webhooks:write'] })
  const forbidden = (res: any, scope: string) => res.errors?.[0]?.extensions.code === 'auth.forbidden' && res.errors[0].extensions.requiredScope === scope
  t.ok(forbidden(await w.gql('{ webhookEndpoints { totalCount } }', {}, { token: writer }), 'webhooks:read'), 'the list needs webhooks:read')
  t.ok(forbidden(await w.gql('query ($id: ID!) { webhookEndpoint(id: $id) { id } }', { id }, { token: writer }), 'webhooks:read'))
  t.ok(forbidden(await w.gql('query ($id: ID!) { node(id: $id) { id } }', { id }, { token: writer }), 'webhooks:read'), 'node(id) too')
  t.equal((await w.gql('{ webhookEndpoints { totalCount } }', {}, { token: reader })).data.webhookEndpoints.totalCount, 1)
  const mutations = [
    [CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['contact.created'] } }],
    [UPDATE, { input: { id, description: 'x' } }],
    ['mutation ($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedWebhookEndpointId } }', { id }],
    ['mutation ($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id }) { secret } }', { id }],
    ['mutation ($id: ID!) { testWebhookEndpoint(input: { id: $id }) { delivery { id } } }', { id }],
    ['mutation ($id: ID!) { redeliverWebhookDelivery(input: { endpointId: $id, deliveryId: "whd_x" }) { delivery { id } } }', { id }]
  ] as const
  for (const [query, variables] of mutations) {
    const res = await w.gql(query, variables, { token: reader })
    t.ok(forbidden(res, 'webhooks:write'), `${query.slice(0, 50)}…: auth.forbidden, webhooks:write (${JSON.stringify(res.errors)})`)
  }
  // webhooks:write is no way around contacts:read (as REST).
  const noContacts = await w.gql(CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['contact.created'] } }, { token: writer })
  t.ok(forbidden(noContacts, 'contacts:read'), 'subscribing to contact events needs contacts:read')
  t.equal((await w.rest('GET', `/v1/webhook-endpoints/${id}`)).data.version, 1, 'nothing changed')

  // A writer without webhooks:read reads no delivery log through a mutation's payload.
  const writeOnly = w.token({ scopes: ['webhooks:write', 'contacts:read'] })
  const viaPayload = await w.gql('mutation ($id: ID!) { updateWebhookEndpoint(input: { id: $id }) { webhookEndpoint { id deliveries { totalCount } } } }', { id }, { token: writeOnly })
  t.ok(forbidden(viaPayload, 'webhooks:read'), `deliveries need webhooks:read (${JSON.stringify(viaPayload.errors)})`)
  const ping = await w.gql('mutation ($id: ID!) { testWebhookEndpoint(input: { id: $id }) { delivery { id attempts { totalCount } } } }', { id }, { token: writeOnly })
  t.ok(forbidden(ping, 'webhooks:read'), `attempts need webhooks:read (${JSON.stringify(ping.errors)})`)
})

t.test('deliveries, their attempts, test pings and redelivery: as REST', async (t) => {
  const { gql, rest, endpoint, contact, deliveries } = await setup([{ status: 500 }, { status: 200 }])
  await contact('Ada')
  await drain()
  const [restDelivery] = await deliveries()
  t.match(restDelivery, { status: 'pending', attempts: 1 })
  const query = `query ($id: ID!) { webhookEndpoint(id: $id) { deliveries { totalCount nodes { ${deliveryFields} attempts { totalCount nodes { ${attemptFields} } } } } } }`
  const read = await gql(query, { id: endpoint.id })
  t.notOk(read.errors, JSON.stringify(read.errors))
  const conn = read.data.webhookEndpoint.deliveries
  t.equal(conn.totalCount, 1)
  const { attempts, ...delivery } = conn.nodes[0]
  t.same(asRest(delivery), restDelivery, 'a delivery is what REST lists')
  const restAttempts = await rest('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries/${restDelivery.id}/attempts`)
  t.same(attempts.nodes.map(asRest), restAttempts.data.data, 'its attempts are what REST lists')
  t.match(attempts, { totalCount: 1, nodes: [{ attempt: 1, outcome: 'RETRY_SCHEDULED', errorKind: 'HTTP_STATUS', statusCode: 500 }] })

  // A test ping: a second delivery, newest first; filtered by status once the worker sent it (the
  // first one's retry is not due: the clock stands still).
  const ping = await gql(`mutation ($id: ID!) { testWebhookEndpoint(input: { id: $id }) { delivery { ${deliveryFields} } } }`, { id: endpoint.id })
  t.notOk(ping.errors, JSON.stringify(ping.errors))
  t.match(ping.data.testWebhookEndpoint.delivery, { eventType: 'webhook.test', status: 'PENDING', endpointId: endpoint.id })
  await drain()
  const both = await gql(`query ($id: ID!) { webhookEndpoint(id: $id) { deliveries(first: 1) { nodes { id } pageInfo { hasNextPage } } pending: deliveries(status: PENDING) { totalCount } succeeded: deliveries(status: SUCCEEDED) { totalCount } } }`, { id: endpoint.id })
  t.same(both.data.webhookEndpoint.deliveries.nodes, [{ id: ping.data.testWebhookEndpoint.delivery.id }], 'newest first')
  t.equal(both.data.webhookEndpoint.deliveries.pageInfo.hasNextPage, true)
  t.equal(both.data.webhookEndpoint.pending.totalCount, 1, 'the first, waiting for its retry')
  t.equal(both.data.webhookEndpoint.succeeded.totalCount, 1, 'the ping')

  // Redelivery of the first: a fresh round, the same delivery.
  const redeliver = await gql(`mutation ($e: ID!, $d: ID!) { redeliverWebhookDelivery(input: { endpointId: $e, deliveryId: $d }) { delivery { ${deliveryFields} } } }`, { e: endpoint.id, d: restDelivery.id })
  t.notOk(redeliver.errors, JSON.stringify(redeliver.errors))
  t.match(redeliver.data.redeliverWebhookDelivery.delivery, { id: restDelivery.id, status: 'PENDING', roundAttempts: 0, totalAttempts: 1 })
  // The worker is kicked at once, so only what it does not move is compared with REST.
  const stable = ({ id, endpointId, eventId, eventType, createdAt }: Record<string, unknown>) => ({ id, endpointId, eventId, eventType, createdAt })
  t.same(stable(asRest(redeliver.data.redeliverWebhookDelivery.delivery)), stable(restDelivery))
  await drain()
  const after = await gql(`query ($id: ID!) { webhookEndpoint(id: $id) { deliveries { nodes { id status attempts(last: 1) { nodes { attempt outcome } pageInfo { hasPreviousPage } } } } } }`, { id: endpoint.id })
  const first = after.data.webhookEndpoint.deliveries.nodes.find((d: any) => d.id === restDelivery.id)
  t.match(first, { status: 'SUCCEEDED', attempts: { nodes: [{ attempt: 2, outcome: 'SUCCEEDED' }], pageInfo: { hasPreviousPage: true } } })

  // Not found and disabled, as REST.
  const unknown = await gql('mutation ($e: ID!) { redeliverWebhookDelivery(input: { endpointId: $e, deliveryId: "whd_01jz0000000000000000000000" }) { delivery { id } } }', { e: endpoint.id })
  t.equal(codeOf(unknown), 'delivery.not_found')
  await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { status: 'disabled' } })
  const off = await gql('mutation ($id: ID!) { testWebhookEndpoint(input: { id: $id }) { delivery { id } } }', { id: endpoint.id })
  t.equal(codeOf(off), 'webhook.disabled')
})

t.test('tenancy: another workspace\'s endpoint and deliveries are not found', async (t) => {
  const victim = await setup()
  await victim.contact()
  await drain()
  const [delivery] = await victim.deliveries()
  const attacker = fresh()
  const own = await attacker.gql(CREATE, { input: { url: receiver.endpoint().url, eventTypes: ['contact.created'] } })
  const ownId = own.data.createWebhookEndpoint.webhookEndpoint.id
  const id = victim.endpoint.id
  const calls: Array<[string, Record<string, unknown>, string]> = [
    ['query ($id: ID!) { webhookEndpoint(id: $id) { id } }', { id }, 'webhook.not_found'],
    [UPDATE, { input: { id, description: 'mine' } }, 'webhook.not_found'],
    ['mutation ($id: ID!) { deleteWebhookEndpoint(input: { id: $id }) { deletedWebhookEndpointId } }', { id }, 'webhook.not_found'],
    ['mutation ($id: ID!) { rotateWebhookEndpointSecret(input: { id: $id }) { secret } }', { id }, 'webhook.not_found'],
    ['mutation ($id: ID!) { testWebhookEndpoint(input: { id: $id }) { delivery { id } } }', { id }, 'webhook.not_found'],
    ['mutation ($e: ID!, $d: ID!) { redeliverWebhookDelivery(input: { endpointId: $e, deliveryId: $d }) { delivery { id } } }', { e: id, d: delivery.id }, 'webhook.not_found'],
    ['mutation ($e: ID!, $d: ID!) { redeliverWebhookDelivery(input: { endpointId: $e, deliveryId: $d }) { delivery { id } } }', { e: ownId, d: delivery.id }, 'delivery.not_found']
  ]
  for (const [query, variables, code] of calls) {
    const res = await attacker.gql(query, variables)
    t.equal(codeOf(res), code, `${query.slice(0, 60)}…`)
  }
  const node = await attacker.gql('query ($id: ID!) { node(id: $id) { id } }', { id })
  t.same(node.data, { node: null }, 'node(id) is null')
  const list = await attacker.gql('{ webhookEndpoints { totalCount nodes { id } } }')
  t.same(list.data.webhookEndpoints, { totalCount: 1, nodes: [{ id: ownId }] }, 'lists hold only the own workspace')
  const still = await victim.rest('GET', `/v1/webhook-endpoints/${id}`)
  t.match(still.data, { version: 1, description: 'test receiver' }, 'the victim\'s endpoint is unchanged')
  t.equal(shared.config.graphql.maxCost > 0, true)
})

t.test('a page of endpoints reads its delivery logs in a few statements, whatever its size, as REST lists them', async (t) => {
  let statements = 0
  let counting = false
  // No workers: the pings stay pending, nothing else writes while statements are counted.
  const { rest, gql } = await build(t, { config: { workers: false }, onQuery: () => { if (counting) statements++ } })
  const endpoints: string[] = []
  async function addEndpoints (n: number) {
    for (let i = 0; i < n; i++) {
      const id = (await rest('POST', '/v1/webhook-endpoints', { body: { url: `http://127.0.0.1:9/e${endpoints.length}`, eventTypes: ['contact.created'] } })).data.id
      endpoints.push(id)
      for (let k = 0; k <= endpoints.length % 3; k++) t.equal((await rest('POST', `/v1/webhook-endpoints/${id}/test`)).statusCode, 202)
    }
  }
  const query = `{ webhookEndpoints(first: 100) { nodes { id deliveries(first: 2) { totalCount nodes { ${deliveryFields} } pageInfo { hasNextPage } }
    pending: deliveries(status: PENDING) { totalCount } none: deliveries(status: SUCCEEDED) { totalCount nodes { id } } } } }`
  async function read () {
    counting = true
    statements = 0
    const res = await gql(query)
    counting = false
    t.same(res.errors, undefined)
    return { statements, nodes: res.data.webhookEndpoints.nodes }
  }
  await addEndpoints(2)
  const small = await read()
  await addEndpoints(6)
  const large = await read()
  t.equal(large.nodes.length, 8)
  t.comment(`statements: ${small.statements} for 2 endpoints, ${large.statements} for 8`)
  t.ok(large.statements <= small.statements, `the statement count does not grow with endpoints (${small.statements} → ${large.statements})`)
  for (const node of large.nodes) {
    const log = (await rest('GET', `/v1/webhook-endpoints/${node.id}/deliveries`)).data.data
    t.same(node.deliveries.nodes.map(asRest), log.slice(0, 2), `${node.id}: the first page is REST's`)
    t.equal(node.deliveries.totalCount, log.length)
    t.equal(node.deliveries.pageInfo.hasNextPage, log.length > 2)
    t.same([node.pending.totalCount, node.none.totalCount, node.none.nodes], [log.length, 0, []])
  }
})
