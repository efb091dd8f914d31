import type { TestApp } from '../../helper.js'

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

export const iso = (d: Date | number | string) => new Date(d).toISOString()

/** An injected clock the test moves by hand: `build(t, { clock })`. */
export function mutableClock (start: string | Date = '2026-03-04T10:00:00.000Z') {
  let now = new Date(start)
  return {
    clock: { now: () => now },
    get now () { return now },
    set (d: Date | number | string) { now = new Date(d) },
    advance (ms: number) { now = new Date(now.getTime() + ms); return now },
    /** The instant `ms` from now, as ISO text. */
    in (ms: number) { return iso(now.getTime() + ms) }
  }
}
export type MutableClock = ReturnType<typeof mutableClock>

type Rest = TestApp['rest']
type Res = Awaited<ReturnType<Rest>>

export interface PromiseDto {
  id: string
  contactId: string
  promisor: string
  promisorType: string
  description: string
  kind: string | null
  dueAt: string
  originalDueAt: string
  madeInInteractionId: string | null
  channelId: string | null
  requiresEvidence: boolean
  status: string
  keptAt: string | null
  keptByInteractionIds: string[]
  renegotiations: number
  createdAt: string
  updatedAt: string
  version: number
}
export interface PromiseEventDto { id: string, promiseId: string, type: string, actor: string, interactionId: string | null, data: Record<string, any>, occurredAt: string }

async function must (res: Promise<Res>, status: number, what: string) {
  const r = await res
  if (r.statusCode !== status) throw new Error(`${what}: expected ${status}, got ${r.statusCode} ${r.body}`)
  return r.data
}

/** Fixtures through the public API; every call throws unless it got the status it expects. */
export function fixtures (rest: Rest, token?: string) {
  return {
    contact: async (displayName: string): Promise<{ id: string, displayName: string }> =>
      must(rest('POST', '/v1/contacts', { token, body: { displayName } }), 201, `contact ${displayName}`),
    channel: async (kind: string, name = `${kind} channel`): Promise<{ id: string }> =>
      must(rest('POST', '/v1/channels', { token, body: { kind, name, config: {} } }), 201, `channel ${kind}`),
    interaction: async (body: { contactId: string, direction: 'inbound' | 'outbound', occurredAt?: string, kind?: string, channelId?: string, keepsPromiseIds?: string[] }): Promise<{ id: string, occurredAt: string, channelId: string | null }> =>
      must(rest('POST', '/v1/interactions', { token, body: { kind: 'email', ...body } }), 201, 'interaction'),
    promise: async (body: Record<string, unknown>, o: { token?: string } = {}): Promise<PromiseDto> =>
      must(rest('POST', '/v1/promises', { token: o.token ?? token, body: { description: 'Send the quote', ...body } }), 201, 'promise'),
    get: async (id: string): Promise<PromiseDto> => must(rest('GET', `/v1/promises/${id}`, { token }), 200, 'get promise'),
    keep: async (id: string, body: Record<string, unknown> = {}): Promise<PromiseDto> => must(rest('POST', `/v1/promises/${id}/keep`, { token, body }), 200, 'keep'),
    break: async (id: string, body: Record<string, unknown> = {}): Promise<PromiseDto> => must(rest('POST', `/v1/promises/${id}/break`, { token, body }), 200, 'break'),
    cancel: async (id: string, body: Record<string, unknown> = {}): Promise<PromiseDto> => must(rest('POST', `/v1/promises/${id}/cancel`, { token, body }), 200, 'cancel'),
    renegotiate: async (id: string, body: { dueAt: string, reason: string, interactionId?: string }, o: { token?: string } = {}): Promise<PromiseDto> =>
      must(rest('POST', `/v1/promises/${id}/renegotiate`, { token: o.token ?? token, body }), 200, 'renegotiate'),
    events: async (id: string): Promise<PromiseEventDto[]> => (await must(rest('GET', `/v1/promises/${id}/events`, { token }), 200, 'events')).data
  }
}
export type Fixtures = ReturnType<typeof fixtures>

/** How many events of each type: `{ made: 1, at_risk: 1, broken: 1 }`. */
export function countByType (events: Array<{ type: string }>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const e of events) out[e.type] = (out[e.type] ?? 0) + 1
  return out
}

export const PROMISE_GQL = 'id promisor promisorType description kind dueAt originalDueAt channelId requiresEvidence status keptAt renegotiations createdAt updatedAt version'
