import { createHmac } from 'node:crypto'
import { sql } from 'drizzle-orm'
import { inWorkspace } from '../../../src/db/tenant.js'
import type { TestApp } from '../../helper.js'

/**
 * Shared helpers for the channel / inbound / outbound / interactions / merge tests. Signatures
 * are computed here with node:crypto from the providers' documented algorithms, never with the
 * adapters' own code, so that a wrong adapter cannot agree with itself.
 */

export type Rest = TestApp['rest']

/** Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (throws with the last value). */
export async function eventually<T> (fn: () => Promise<T | undefined | null | false>, opts: { timeoutMs?: number, intervalMs?: number, what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000)
  let last: unknown
  for (;;) {
    last = await fn()
    if (last) return last as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'a condition'} (last: ${JSON.stringify(last)})`)
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 20))
  }
}

// --- provider signatures ---------------------------------------------------------------------

const hmacOf = (alg: 'sha1' | 'sha256', key: string | Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest()

/** Twilio: base64 HMAC-SHA1 of the full URL + every POST param name+value, sorted by name. */
export function twilioSignature (authToken: string, url: string, body: string): string {
  const params = new URLSearchParams(body)
  let data = url
  for (const key of [...new Set(params.keys())].sort()) for (const value of params.getAll(key).sort()) data += key + value
  return hmacOf('sha1', authToken, data).toString('base64')
}

/** Meta: X-Hub-Signature-256 = sha256=<hex HMAC of the raw body with the app secret>. */
export const metaSignature = (appSecret: string, body: string | Buffer) => `sha256=${hmacOf('sha256', appSecret, body).toString('hex')}`

/** X: x-twitter-webhooks-signature = sha256=<base64 HMAC of the raw body with the consumer secret>. */
export const xSignature = (consumerSecret: string, body: string | Buffer) => `sha256=${hmacOf('sha256', consumerSecret, body).toString('base64')}`

/** Slack: v0=<hex HMAC of "v0:<ts>:<body>" with the signing secret>. */
export const slackSignature = (signingSecret: string, ts: number | string, body: string | Buffer) =>
  `v0=${hmacOf('sha256', signingSecret, Buffer.concat([Buffer.from(`v0:${ts}:`), Buffer.from(body)])).toString('hex')}`

/** Mailgun: hex HMAC-SHA256(signingKey, timestamp + token). */
export const mailgunSignature = (signingKey: string, timestamp: number | string, token: string) =>
  hmacOf('sha256', signingKey, `${timestamp}${token}`).toString('hex')

/** Standard Webhooks: v1,<base64 HMAC-SHA256 of "id.ts.body" with the base64-decoded secret>. */
export const standardWebhookSignature = (secret: string, id: string, ts: number | string, body: string | Buffer) =>
  `v1,${hmacOf('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'), Buffer.concat([Buffer.from(`${id}.${ts}.`), Buffer.from(body)])).toString('base64')}`

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

// --- shared provider samples -------------------------------------------------------------------

export { sample } from '../../adapters/samples.js'

// --- API shortcuts ---------------------------------------------------------------------------

/**
 * The same app seen from one workspace: every call (REST, GraphQL, token()) defaults to it. Tests
 * in a file share one app (building one costs a fresh database) and stay apart by workspace.
 */
export function asWorkspace (ctx: TestApp, workspace: string) {
  const own = ctx.token({ workspace })
  const rest: Rest = (method, url, o = {}) => ctx.rest(method, url, { ...o, token: o.token === undefined ? own : o.token })
  const gql: TestApp['gql'] = (query, variables = {}, o = {}) => ctx.gql(query, variables, { token: o.token === undefined ? own : o.token })
  const token: TestApp['token'] = (o = {}) => ctx.token({ workspace, ...o })
  return { ...ctx, workspace, rest, gql, token }
}

/** A factory of fresh workspaces on one app: `w1`, `w2`, ... (with an optional prefix). */
export function workspaces (ctx: TestApp, prefix = 'w') {
  let n = 0
  return () => asWorkspace(ctx, `${prefix}${++n}`)
}

export const PUBLIC_URL = 'https://crm.example.com'
export const publicInboundUrl = (channelId: string, query = '') => `${PUBLIC_URL}/v1/channels/${channelId}/inbound${query}`

/** Creates a channel through the API and returns it (fails loudly on anything but 201). */
export async function createChannel (rest: Rest, kind: string, config: Record<string, unknown>, opts: { name?: string, token?: string, status?: string } = {}) {
  const res = await rest('POST', '/v1/channels', { token: opts.token, body: { kind, name: opts.name ?? `${kind} channel`, config, ...(opts.status ? { status: opts.status } : {}) } })
  if (res.statusCode !== 201) throw new Error(`creating a ${kind} channel: ${res.statusCode} ${res.body}`)
  return res.data as { id: string, kind: string, name: string, status: string, config: Record<string, unknown>, secretsSet: string[], inboundUrl: string, version: number, capabilities: Record<string, boolean> }
}

export async function createContact (rest: Rest, body: Record<string, unknown>, token?: string) {
  const res = await rest('POST', '/v1/contacts', { token, body })
  if (res.statusCode !== 201) throw new Error(`creating a contact: ${res.statusCode} ${res.body}`)
  return res.data as { id: string, displayName: string, emails: Array<{ address: string }>, phones: string[] }
}

/** A provider call to a channel's public webhook URL (no bearer token). */
export function inbound (rest: Rest, channelId: string, o: { method?: 'GET' | 'POST', query?: string, payload?: string | Buffer, headers?: Record<string, string> } = {}) {
  return rest(o.method ?? 'POST', `/v1/channels/${channelId}/inbound${o.query ?? ''}`, { token: null, payload: o.payload, headers: o.headers })
}

/** Every interaction the listing returns for a query (follows nextCursor). */
export async function allInteractions (rest: Rest, query = '', token?: string): Promise<any[]> {
  const out: any[] = []
  let after: string | null = null
  for (let i = 0; i < 50; i++) {
    const sep = query ? '&' : ''
    const res = await rest('GET', `/v1/interactions?limit=100${sep}${query}${after ? `&after=${after}` : ''}`, { token })
    if (res.statusCode !== 200) throw new Error(`listing interactions: ${res.statusCode} ${res.body}`)
    out.push(...res.data.data)
    after = res.data.nextCursor
    if (!after) return out
  }
  throw new Error('too many pages')
}

export async function allContacts (rest: Rest, token?: string): Promise<any[]> {
  const res = await rest('GET', '/v1/contacts?limit=100', { token })
  if (res.statusCode !== 200) throw new Error(`listing contacts: ${res.statusCode} ${res.body}`)
  return res.data.data
}

const rowsOf = (r: any): any[] => Array.isArray(r) ? r : r.rows

/** Rows of the durable inbox of one workspace, read the way the app reads (row-level security on). */
export async function inboxRows (database: TestApp['database'], workspace: string): Promise<Array<{ id: string, channel_id: string, status: string, request: string }>> {
  return inWorkspace(database.db, workspace, async (tx) => rowsOf(await tx.execute(sql`select id, channel_id, status, request::text as request from inbound_inbox order by received_at`)))
}
