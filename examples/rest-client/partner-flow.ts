// A partner's integration, typed from openapi.yaml: openapi-typescript turned the document into
// schema.d.ts (`npm run openapi`), openapi-fetch makes each call check its path, parameters and
// body against it at compile time. Run it against a server:
//   RAPPORT_URL=http://127.0.0.1:3000 RAPPORT_TOKEN=<token> npx tsx examples/rest-client/partner-flow.ts
import { randomUUID } from 'node:crypto'
import createClient from 'openapi-fetch'
import type { paths } from './schema.js'

export interface PartnerFlowResult {
  contactId: string
  listed: boolean
  interactionId: string
  promiseId: string
  promiseStatus: string
}

/** Every call's answer: the data, or the problem+json the server sent, as an Error. */
function ok<T> (res: { data?: T, error?: unknown, response: Response }, what: string): T {
  if (res.data === undefined) throw new Error(`${what}: ${res.response.status} ${JSON.stringify(res.error)}`)
  return res.data
}

export async function runPartnerFlow ({ baseUrl, token, now = new Date() }: { baseUrl: string, token: string, now?: Date }): Promise<PartnerFlowResult> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } })
  // One Idempotency-Key per logical operation: a retry after a timeout cannot create it twice.
  const once = () => ({ header: { 'Idempotency-Key': randomUUID() } })

  const contact = ok(await client.POST('/v1/contacts', {
    params: once(),
    body: { displayName: 'Ada Lovelace', emails: ['ada@example.com'], company: 'Analytical Engines', tags: ['partner'] }
  }), 'create contact')

  const page = ok(await client.GET('/v1/contacts', { params: { query: { tag: 'partner', limit: 10 } } }), 'list contacts')

  const inbound = ok(await client.POST('/v1/interactions', {
    params: once(),
    body: { contactId: contact.id, direction: 'inbound', kind: 'call', subject: 'Asked for the contract', occurredAt: now.toISOString() }
  }), 'log an interaction')

  const promise = ok(await client.POST('/v1/promises', {
    params: once(),
    body: {
      contactId: contact.id,
      description: 'Send Ada the signed contract',
      dueAt: new Date(now.getTime() + 3 * 86_400_000).toISOString(),
      madeInInteractionId: inbound.id,
      requiresEvidence: true
    }
  }), 'make a promise')

  const sent = ok(await client.POST('/v1/interactions', {
    params: once(),
    body: { contactId: contact.id, direction: 'outbound', kind: 'email', subject: 'The signed contract', body: 'Attached, as promised.' }
  }), 'log the evidence')

  const kept = ok(await client.POST('/v1/promises/{id}/keep', {
    params: { path: { id: promise.id }, ...once() },
    body: { interactionIds: [sent.id] }
  }), 'keep the promise')

  return {
    contactId: contact.id,
    listed: page.data.some((c) => c.id === contact.id),
    interactionId: inbound.id,
    promiseId: kept.id,
    promiseStatus: kept.status
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const baseUrl = process.env.RAPPORT_URL ?? 'http://127.0.0.1:3000'
  const token = process.env.RAPPORT_TOKEN
  if (!token) throw new Error('Set RAPPORT_TOKEN (npm run token)')
  console.log(await runPartnerFlow({ baseUrl, token }))
}
