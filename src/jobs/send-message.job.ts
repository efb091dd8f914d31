import { isViolation, type Db } from '../db/client.js'
import { inWorkspace } from '../db/tenant.js'
import type { Clock } from '../lib/clock.js'
import { AdapterSendError } from '../modules/channels/adapters/channel-adapter.js'
import type { ChannelsService } from '../modules/channels/channels.service.js'
import { getInteraction, setProviderMessageId } from '../modules/interactions/interactions.repository.js'
import { changeStatus } from '../modules/interactions/interactions.status.js'
import { SEND_TOPIC } from '../modules/interactions/interactions.service.js'
import { exponentialBackoff } from '../lib/backoff.js'
import { DomainError } from '../lib/errors.js'
import { claimDue, finishOutbox, holdOutbox, recordAttempt, retryOutboxLater, type OutboxRow } from './outbox.repository.js'

/** How long a message waits before looking again at a paused channel. */
const PAUSED_RECHECK_MS = 5_000

export interface SendJobOptions {
  db: Db
  clock: Clock
  channels: ChannelsService
  fetch?: typeof fetch
  maxAttempts: number
  backoffBaseMs: number
  leaseMs: number
}

/** Exponential backoff (doubling) with jitter, capped at an hour; a provider's Retry-After wins. */
export function backoffDelay (attempt: number, baseMs: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000
  return exponentialBackoff(attempt, baseMs)
}

/** One step of the outbound worker: claim a due send, call the adapter, record the outcome. */
export function createSendMessageJob (opts: SendJobOptions) {
  const adapterCtx = { now: () => opts.clock.now(), fetch: opts.fetch }

  async function outcome (row: OutboxRow, startedAt: Date, result: { ok: true, providerMessageId: string, status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed' } | { ok: false, error: Error }) {
    // The send's end, by the service clock like its start (attempts are shown next to the interaction's times).
    const finishedAt = opts.clock.now()
    await inWorkspace(opts.db, row.workspaceId, async (tx) => {
      const interactionId = String(row.payload.interactionId)
      if (result.ok) {
        await recordAttempt(tx, row, { startedAt, finishedAt }, 'ok', undefined, { providerMessageId: result.providerMessageId })
        // The channel may have logged this id already: the message's echo, processed before this
        // outcome and not matched to its send (a provider that rewrites the text, as X does links,
        // see claimPendingSend). The id stays with that interaction and this one keeps none: two
        // entries for one message, where failing here would roll back and send it again.
        await tx.transaction((sp) => setProviderMessageId(sp, row.workspaceId, interactionId, result.providerMessageId))
          .catch((err: unknown) => { if (!isViolation(err, '23505')) throw err })
        await changeStatus(tx, opts.clock.now(), row.workspaceId, { id: interactionId }, result.status === 'queued' ? 'sent' : result.status)
        await finishOutbox(tx, row, 'done')
        return
      }
      const err = result.error
      const retryable = !(err instanceof AdapterSendError) || err.retryable
      if (retryable && row.attempts < opts.maxAttempts) {
        await recordAttempt(tx, row, { startedAt, finishedAt }, 'retry', err.message)
        await retryOutboxLater(tx, row, backoffDelay(row.attempts, opts.backoffBaseMs, err instanceof AdapterSendError ? err.retryAfterSeconds : undefined), err.message)
        return
      }
      await recordAttempt(tx, row, { startedAt, finishedAt }, 'failed', err.message)
      await changeStatus(tx, opts.clock.now(), row.workspaceId, { id: interactionId }, 'failed', err.message)
      await finishOutbox(tx, row, 'failed', err.message)
    })
  }

  return async function step (): Promise<boolean> {
    const row = await claimDue(opts.db, [SEND_TOPIC], opts.leaseMs)
    if (!row) return false
    const startedAt = opts.clock.now()
    try {
      const ctx = { workspaceId: row.workspaceId }
      const interaction = await inWorkspace(opts.db, row.workspaceId, (tx) => getInteraction(tx, row.workspaceId, String(row.payload.interactionId)))
      if (!interaction || !interaction.channelId) throw new AdapterSendError('the interaction or its channel is gone', { retryable: false })
      const { adapter, config, channel } = await opts.channels.runtime(ctx, interaction.channelId)
      if (channel.status === 'paused') {
        // A pause holds the message, however long it lasts: no attempt is spent on it.
        await inWorkspace(opts.db, row.workspaceId, (tx) => holdOutbox(tx, row, Math.min(PAUSED_RECHECK_MS, opts.backoffBaseMs * 50)))
        return true
      }
      const sent = await adapter.send!({
        to: interaction.counterpart ?? '',
        subject: interaction.subject ?? undefined,
        text: interaction.body ?? '',
        threadId: interaction.threadId ?? undefined
      }, row.idempotencyKey, config, adapterCtx)
      await outcome(row, startedAt, { ok: true, ...sent })
    } catch (err) {
      // A channel deleted since the message was queued will not come back: no point retrying.
      const error = err instanceof DomainError && err.status === 404 ? new AdapterSendError(err.message, { retryable: false }) : err
      await outcome(row, startedAt, { ok: false, error: error instanceof Error ? error : new Error(String(error)) })
    }
    return true
  }
}
