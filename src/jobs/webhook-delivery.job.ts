import http from 'node:http'
import https from 'node:https'
import type { WebhookConfig } from '../config.js'
import type { Db, Tx } from '../db/client.js'
import { inWorkspace } from '../db/tenant.js'
import type { Clock } from '../lib/clock.js'
import { cancelPending, claimDueDelivery, disableEndpoint, getEndpoint, updateDelivery, type DeliveryRow, type EndpointRow } from '../modules/webhooks/webhooks.repository.js'
import type { WebhooksService } from '../modules/webhooks/webhooks.service.js'
import { signedHeaders } from '../modules/webhooks/webhooks.signing.js'
import type { UrlPolicy } from '../modules/webhooks/url-policy.js'

type Answer = { statusCode: number, retryAfterMs?: number } | { error: string }

/**
 * One step of the webhook delivery worker: claim a due delivery, POST it signed, record the
 * outcome. 2xx succeeds; 410 Gone disables the endpoint; anything else (another status, a
 * timeout, a refused address) is retried after the next delay of the schedule, with jitter, or
 * after the receiver's Retry-After; when the schedule is spent the delivery fails and the
 * endpoint is disabled with the reason.
 */
export function createWebhookDeliveryJob (opts: { db: Db, clock: Clock, webhooks: WebhooksService, config: WebhookConfig }) {
  const { db, clock, webhooks, config } = opts
  const longest = Math.max(...config.retryScheduleMs, 1000)

  async function disable (tx: Tx, endpoint: EndpointRow, reason: string, now: Date) {
    await disableEndpoint(tx, endpoint.workspaceId, endpoint.id, reason, now)
    await cancelPending(tx, endpoint.workspaceId, endpoint.id, `the endpoint was disabled: ${reason}`, now)
  }

  async function record (row: DeliveryRow, endpoint: EndpointRow, answer: Answer, latencyMs: number, at: Date) {
    await inWorkspace(db, row.workspaceId, async (tx) => {
      const now = clock.now()
      const common = { lastAttemptAt: at, lastLatencyMs: Math.round(latencyMs), updatedAt: now }
      const statusCode = 'statusCode' in answer ? answer.statusCode : null
      const error = 'error' in answer ? answer.error : `HTTP ${answer.statusCode}`
      if (statusCode !== null && statusCode >= 200 && statusCode < 300) {
        await updateDelivery(tx, row, { ...common, status: 'succeeded', lastStatusCode: statusCode, lastError: null, nextAttemptAt: null })
        return
      }
      if (statusCode === 410) {
        await updateDelivery(tx, row, { ...common, status: 'failed', lastStatusCode: 410, lastError: error, nextAttemptAt: null })
        await disable(tx, endpoint, `the endpoint answered 410 Gone to delivery ${row.id}`, now)
        return
      }
      const retryIndex = row.attempts - 1
      if (retryIndex < config.retryScheduleMs.length) {
        const retryAfter = 'retryAfterMs' in answer ? answer.retryAfterMs : undefined
        const delay = retryAfter !== undefined ? Math.min(retryAfter, longest) : jittered(config.retryScheduleMs[retryIndex])
        await updateDelivery(tx, row, { ...common, lastStatusCode: statusCode, lastError: error, nextAttemptAt: new Date(now.getTime() + delay) })
        return
      }
      await updateDelivery(tx, row, { ...common, status: 'failed', lastStatusCode: statusCode, lastError: error, nextAttemptAt: null })
      await disable(tx, endpoint, `delivery ${row.id} failed ${row.attempts} attempts in a row (last: ${error})`, now)
    })
  }

  return async function step (): Promise<boolean> {
    const row = await claimDueDelivery(db, clock.now(), config.leaseMs)
    if (!row) return false
    const endpoint = await inWorkspace(db, row.workspaceId, (tx) => getEndpoint(tx, row.workspaceId, row.endpointId))
    if (!endpoint || endpoint.status !== 'enabled') {
      // Disabled between fan-out and claim (disabling cancels what it sees; this is the race).
      await inWorkspace(db, row.workspaceId, (tx) => updateDelivery(tx, row, { status: 'cancelled', nextAttemptAt: null, lastError: 'the endpoint is disabled', updatedAt: clock.now() }))
      return true
    }
    // The log and the schedule run on the injectable clock; the signature carries wall time,
    // which is what a receiver compares with its own clock (Standard Webhooks allows 5 minutes).
    const at = clock.now()
    const started = performance.now()
    const answer = await post(webhooks.urlPolicy, endpoint.url, signedHeaders(webhooks.signingSecret(endpoint), row.eventId, new Date(), row.payload), row.payload, config.timeoutMs)
    await record(row, endpoint, answer, performance.now() - started, at)
    return true
  }
}

/** ±20 %: endpoints that failed together do not all come back at the same second. */
const jittered = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4))

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter (value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * POSTs with node:http. The guarded lookup checks every address the connection may use (DNS
 * rebinding); redirects are not followed (a 3xx is a failed attempt), so a receiver cannot
 * bounce the request to a private address either.
 */
async function post (policy: UrlPolicy, rawUrl: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Answer> {
  let url: URL
  try {
    url = policy.parse(rawUrl).url
  } catch (err) {
    return { error: `refused: ${(err as Error).message}` }
  }
  return new Promise<Answer>((resolve) => {
    const client = url.protocol === 'https:' ? https : http
    const req = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: policy.guardedLookup as never,
      signal: AbortSignal.timeout(timeoutMs),
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Rapport-Webhooks/1.0' }
    }, (res) => {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'])
      resolve({ statusCode: res.statusCode ?? 0, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) })
      // The answer's body is not needed: drop it rather than let a receiver stream forever.
      res.destroy()
    })
    req.on('error', (err: NodeJS.ErrnoException) => {
      resolve({ error: err.name === 'TimeoutError' || err.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : err.message })
    })
    req.end(body)
  })
}
