import type { WebhookConfig } from '../config.js'
import type { Db, Tx } from '../db/client.js'
import { inWorkspace } from '../db/tenant.js'
import type { Clock } from '../lib/clock.js'
import {
  cancelPending, claimDueDelivery, disableEndpoint, getEndpoint, insertAttempt, updateDelivery, type AttemptRow, type DeliveryRow, type EndpointRow
} from '../modules/webhooks/webhooks.repository.js'
import type { WebhooksService } from '../modules/webhooks/webhooks.service.js'
import { signedHeaders } from '../modules/webhooks/webhooks.signing.js'
import { postWebhook, type Answer } from './webhook-post.js'

/** What an attempt's answer decides for its delivery. */
interface Outcome { outcome: AttemptRow['outcome'], nextAttemptAt: Date | null, /** Set when the endpoint must be disabled. */ disableReason?: string }

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

  function decide (row: DeliveryRow, answer: Answer, error: string | null, now: Date): Outcome {
    if (error === null) return { outcome: 'succeeded', nextAttemptAt: null }
    if ('statusCode' in answer && answer.statusCode === 410) return { outcome: 'failed', nextAttemptAt: null, disableReason: `the endpoint answered 410 Gone to delivery ${row.id}` }
    const retryIndex = row.attempts - 1
    if (retryIndex >= config.retryScheduleMs.length) {
      return { outcome: 'failed', nextAttemptAt: null, disableReason: `delivery ${row.id} failed ${row.attempts} attempts in a row (last: ${error})` }
    }
    const retryAfter = 'retryAfterMs' in answer ? answer.retryAfterMs : undefined
    const delay = retryAfter !== undefined ? Math.min(retryAfter, longest) : jittered(config.retryScheduleMs[retryIndex])
    return { outcome: 'retry_scheduled', nextAttemptAt: new Date(now.getTime() + delay) }
  }

  async function disable (tx: Tx, endpoint: EndpointRow, reason: string, now: Date) {
    await disableEndpoint(tx, endpoint.workspaceId, endpoint.id, reason, now)
    await cancelPending(tx, endpoint.workspaceId, endpoint.id, `the endpoint was disabled: ${reason}`, now)
  }

  // The delivery's new state and the attempt's row commit together: a crash before COMMIT leaves
  // neither (the lease sends the delivery again), and the attempt's key refuses a second record.
  async function record (row: DeliveryRow, endpoint: EndpointRow, answer: Answer, latencyMs: number, at: Date) {
    await inWorkspace(db, row.workspaceId, async (tx) => {
      const now = clock.now()
      const statusCode = 'statusCode' in answer ? answer.statusCode : null
      const succeeded = statusCode !== null && statusCode >= 200 && statusCode < 300
      const error = 'error' in answer ? answer.error : succeeded ? null : `HTTP ${answer.statusCode}`
      const { outcome, nextAttemptAt, disableReason } = decide(row, answer, error, now)
      const durationMs = Math.round(latencyMs)
      // A retry leaves the status alone: a delivery cancelled while this attempt was in flight
      // (its endpoint disabled) stays cancelled.
      await updateDelivery(tx, row, {
        ...(outcome === 'retry_scheduled' ? {} : { status: outcome }), lastAttemptAt: at, lastLatencyMs: durationMs, lastStatusCode: statusCode, lastError: error, nextAttemptAt, updatedAt: now
      })
      await insertAttempt(tx, {
        workspaceId: row.workspaceId, deliveryId: row.id, attempt: row.totalAttempts, startedAt: at, durationMs, outcome, statusCode,
        errorKind: 'kind' in answer ? answer.kind : succeeded ? null : 'http_status', error, nextAttemptAt
      })
      if (disableReason) await disable(tx, endpoint, disableReason, now)
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
    // The log, the schedule and the secrets' grace run on the injectable clock; the signature
    // carries wall time, which is what a receiver compares with its own clock (Standard Webhooks
    // allows 5 minutes).
    const at = clock.now()
    const started = performance.now()
    const headers = signedHeaders(webhooks.signingSecrets(endpoint, at), row.eventId, new Date(), row.payload)
    const answer = await postWebhook(webhooks.urlPolicy, endpoint.url, headers, row.payload, config.timeoutMs)
    await record(row, endpoint, answer, performance.now() - started, at)
    return true
  }
}

/** ±20 %: endpoints that failed together do not all come back at the same second. */
const jittered = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4))
