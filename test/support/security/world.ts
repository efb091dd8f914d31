import type { TestApp } from '../../helper.js'
import { fillPath, idKindOf, operations, type OpenApiDoc } from './openapi.js'

type Res = Awaited<ReturnType<TestApp['rest']>>

/** One workspace holding one real resource of every kind, created through the public API. */
export interface World {
  workspace: string
  token: string
  /** Real ids by resource kind: contact, channel, interaction, promise, import, suggestion, identity, merge (+ contact2). */
  ids: Record<string, string>
}

function must (res: Res, status: number, what: string): any {
  if (res.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${res.statusCode} ${res.body.slice(0, 500)}`)
  return res.data
}

export async function createWorld (ctx: TestApp, workspace: string, n = 1): Promise<World> {
  const token = ctx.token({ workspace, sub: `${workspace}-owner` })
  const rest = (method: string, url: string, o: Parameters<TestApp['rest']>[2] = {}) => ctx.rest(method, url, { token, ...o })

  // A webhook endpoint first, so that the contacts below give it deliveries (see the end).
  const endpoint = must(await rest('POST', '/v1/webhook-endpoints', { body: { url: `http://127.0.0.1:9/${workspace}-hook`, eventTypes: ['contact.created'] } }), 201, 'webhook endpoint')
  const contact = must(await rest('POST', '/v1/contacts', { body: { displayName: `${workspace} main`, emails: [`main@${workspace}.example`], externalId: `${workspace}-main`, tags: ['vip'], attributes: { tier: 'gold' } } }), 201, 'contact')
  const contact2 = must(await rest('POST', '/v1/contacts', { body: { displayName: `${workspace} second` } }), 201, 'contact2')
  const contact3 = must(await rest('POST', '/v1/contacts', { body: { displayName: `${workspace} third` } }), 201, 'contact3')
  const merge = must(await rest('POST', `/v1/contacts/${contact2.id}/merge`, { body: { contactId: contact3.id } }), 200, 'merge')
  const identity = must(await rest('POST', `/v1/contacts/${contact.id}/identities`, { body: { kind: 'phone', address: `+1415555267${n}` } }), 201, 'identity')
  const apiKey = must(await rest('POST', '/v1/api-keys', { body: { name: `${workspace} key`, scopes: ['contacts:read'] } }), 201, 'api key')
  const channel = must(await rest('POST', '/v1/channels', { body: { kind: 'note', name: `${workspace} notes`, config: {} } }), 201, 'channel')
  const interaction = must(await rest('POST', '/v1/interactions', {
    body: { contactId: contact.id, channelId: channel.id, direction: 'outbound', kind: 'note', body: "I'll send you the quote by Friday." }
  }), 201, 'interaction')
  const suggestions = must(await rest('GET', '/v1/promise-suggestions?status=pending'), 200, 'suggestions').data as Array<{ id: string }>
  if (suggestions.length === 0) throw new Error('the outbound interaction produced no promise suggestion')
  const promise = must(await rest('POST', '/v1/promises', {
    body: { contactId: contact.id, description: `${workspace} promise`, dueAt: '2031-01-06T09:00:00.000Z', madeInInteractionId: interaction.id }
  }), 201, 'promise')
  const job = must(await rest('POST', '/v1/imports?type=contacts&upsertOn=externalId', {
    payload: `displayName,externalId\n${workspace} imported,${workspace}-imported\n,bad-row-without-name\n`,
    headers: { 'content-type': 'text/csv' }
  }), 202, 'import')
  await ctx.app.jobs.imports.drain()
  const finished = must(await rest('GET', `/v1/imports/${job.id}`), 200, 'import job')
  if (!['succeeded', 'completed', 'done', 'failed', 'cancelled'].includes(finished.status) && finished.finishedAt === null) {
    throw new Error(`import job did not finish: ${JSON.stringify(finished)}`)
  }

  // The fan-out may take a few rounds on a shared PostgreSQL (the log waits for older transactions).
  let deliveries: Array<{ id: string }> = []
  for (const deadline = Date.now() + 120_000; deliveries.length === 0 && Date.now() < deadline;) {
    await ctx.app.jobs.webhookFanout.drain()
    deliveries = must(await rest('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`), 200, 'webhook deliveries').data
    if (deliveries.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
  }
  if (deliveries.length === 0) throw new Error('the webhook fan-out queued no delivery')
  // Disabled (its pending deliveries cancelled), so that nothing changes between two snapshots.
  must(await rest('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, { body: { status: 'disabled' } }), 200, 'disable webhook endpoint')
  await ctx.app.jobs.webhookDelivery.drain()

  return {
    workspace,
    token,
    ids: {
      endpoint: endpoint.id,
      delivery: deliveries[0].id,
      contact: contact.id,
      contact2: contact2.id,
      channel: channel.id,
      interaction: interaction.id,
      promise: promise.id,
      import: job.id,
      suggestion: suggestions[0].id,
      identity: identity.id,
      merge: merge.id,
      key: apiKey.id
    }
  }
}

// Values derived from "now" rather than from stored data: they move between two reads.
const volatile = new Set(['daysSinceLastInteraction', 'waitingSeconds', 'perMonth'])

function normalize (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([k]) => !volatile.has(k)).map(([k, v]) => [k, normalize(v)]))
  }
  return value
}

/**
 * Everything the owner can read, generated from the document: every secured GET whose path
 * parameters name a kind of the world, with its default query. Equal before and after = nothing changed.
 */
export async function snapshot (ctx: TestApp, doc: OpenApiDoc, world: World): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  for (const op of operations(doc)) {
    if (op.method !== 'GET' || !op.secured || op.queryParams.some((p) => p.required)) continue
    const values: Record<string, string> = {}
    let resolvable = true
    for (const p of op.pathParams) {
      const id = world.ids[idKindOf(op.path, p.name)]
      if (id === undefined) resolvable = false
      else values[p.name] = id
    }
    if (!resolvable) continue
    const res = await ctx.rest('GET', fillPath(op.path, values), { token: world.token })
    out[op.label] = { status: res.statusCode, body: normalize(res.data ?? res.body) }
  }
  return out
}
