import type { InboxRetryConfig } from '../../config.js'
import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import { exponentialBackoff } from '../../lib/backoff.js'
import type { Clock } from '../../lib/clock.js'
import { DomainError } from '../../lib/errors.js'
import { errorForLog } from '../../lib/log-errors.js'
import { claimInbox, finishInbox, insertInbox, lockClaimed, type InboxRow } from '../../jobs/inbox.repository.js'
import { AdapterParseError, type HandshakeResponse, type InboundEvent, type RawInboundRequest } from '../channels/adapters/channel-adapter.js'
import type { ChannelsService } from '../channels/channels.service.js'
import type { InteractionsService } from './interactions.service.js'

const PROVIDER_ACTOR = 'provider'
// Each retry waits five times longer than the one before (1 s, 5 s, 25 s, ~2 min, ~10 min from a 1 s base).
const INBOX_BACKOFF_FACTOR = 5

interface Deps {
  db: Db, clock: Clock, channels: ChannelsService, interactions: InteractionsService, fetch?: typeof fetch, onInboxWork?: () => void
  /** How often, and how far apart, a row the worker failed on is tried again (INBOX_MAX_ATTEMPTS, INBOX_BACKOFF_MS). */
  retries: InboxRetryConfig
}

/**
 * The adapter's parser failed on the stored bytes. Adapters are pure and synchronous (no database,
 * no network), so the same bytes fail the same way on every try: retrying cannot fix it, a release
 * of the adapter can (docs/channel-adapters.md says how to put such rows back).
 */
class UnreadableRequest extends Error {}

/**
 * The error an inbox row keeps: the messages down the cause chain (under drizzle's `Failed query:
 * <sql>`, the database's reason, such as a deadlock), without the query's values, as in the log.
 */
const failureText = (err: unknown) => err instanceof Error ? errorForLog(err).message : String(err)

/** What the log keeps of a provider payload: JSON as JSON, forms as an object, else text. */
function rawPayload (req: RawInboundRequest): unknown {
  const text = req.rawBody.toString('utf8')
  const type = req.headers['content-type'] ?? ''
  try {
    if (type.includes('json')) return JSON.parse(text)
    if (type.includes('x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text))
  } catch {}
  return text
}

/**
 * The headers kept with an inbox row. Verification already happened; parsing never needs the
 * credentials, and channel secrets must not sit in the clear at rest: drop Authorization (Postmark
 * Basic credentials) and any header that carries a secret value verbatim (Telegram's secret token).
 */
function withoutCredentials (headers: Record<string, string | undefined>, secretValues: unknown[]): Record<string, string> {
  const secrets = new Set(secretValues.filter((v): v is string => typeof v === 'string'))
  const kept: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && k !== 'authorization' && !secrets.has(v)) kept[k] = v
  return kept
}

export function createInboundService (deps: Deps) {
  const { db, clock, channels, interactions, retries } = deps
  const adapterCtx = { now: () => clock.now(), fetch: deps.fetch }

  return {
    /**
     * A provider calls a channel's webhook URL. Handshakes are answered; anything else must
     * verify (401 and nothing stored otherwise), must parse, and is then stored in the inbox
     * before the 2xx, so a crash after answering loses nothing.
     */
    async receive (channelId: string, raw: RawInboundRequest): Promise<HandshakeResponse & { unreadable?: Error }> {
      const workspaceId = await channels.inboundWorkspace(channelId)
      if (!workspaceId) throw new DomainError('channel.not_found', `No channel ${channelId}`)
      const { adapter, config } = await channels.runtime({ workspaceId }, channelId)
      const handshake = adapter.handshake?.(raw, config, adapterCtx)
      if (handshake) return handshake
      if (!adapter.capabilities.receive || !adapter.verify || !adapter.parse) throw new DomainError('channel.not_found', `Channel ${channelId} does not receive`)
      if (!adapter.verify(raw, config, adapterCtx)) throw new DomainError('inbound.unauthenticated', 'The request signature did not verify')
      let events: InboundEvent[]
      let unreadable: Error | undefined
      try {
        events = adapter.parse(raw, config, adapterCtx)
      } catch (err) {
        if (err instanceof AdapterParseError) throw new DomainError('inbound.malformed', err.message)
        // An authentic request the adapter failed on (a shape it does not know: its bug, not the
        // provider's): kept in the inbox all the same, where the worker fails it with the error,
        // visible and still there once the adapter is fixed; and acknowledged, since a provider
        // answered 5xx retries for days or, like Meta, switches the webhook off.
        unreadable = err as Error
        events = []
      }
      await inWorkspace(db, workspaceId, (tx) => insertInbox(tx, {
        workspaceId,
        channelId,
        request: { method: raw.method, url: raw.url, headers: withoutCredentials(raw.headers, adapter.secretFields.map((k) => config[k])), query: raw.query },
        rawBody: raw.rawBody
      }))
      deps.onInboxWork?.()
      const answer = adapter.inboundResponse?.(events) ?? { status: 200, contentType: 'application/json', body: JSON.stringify({ received: events.length }) }
      return unreadable ? { ...answer, unreadable } : answer
    },

    /**
     * One due inbox row, processed exactly once: its effects and its "processed" mark commit
     * together. The claim commits first and counts the try (claimInbox), so that a try which
     * never finishes (the process killed or crashed, the connection cut: its transaction rolls
     * back) is counted too and its row comes back only after its backoff; once its tries are
     * spent it is `failed` at its next claim instead of crash-looping the workers. A try that
     * fails (a deadlock, a serialization failure, a lock or statement timeout) rolls its effects
     * back to the savepoint and leaves the row pending, due again after a backoff, with the
     * error; after `maxAttempts` tries, or at once when the adapter cannot read the bytes, it is
     * `failed` with the error, and kept.
     */
    async processNext (): Promise<boolean> {
      const claim = await claimInbox(db, { maxAttempts: retries.maxAttempts, leaseMs: backoff })
      if (!claim) return false
      if (claim.kind === 'gave-up') return true
      await db.transaction(async (tx) => {
        const row = await lockClaimed(tx, claim.row)
        if (!row) return
        try {
          await tx.transaction((sp) => apply(sp, row))
          await finishInbox(tx, row, { status: 'processed' })
        } catch (err) {
          const error = failureText(err)
          await finishInbox(tx, row, err instanceof UnreadableRequest || row.attempts >= retries.maxAttempts
            ? { status: 'failed', error }
            : { status: 'pending', error, retryInMs: backoff(row.attempts) })
        }
      })
      return true
    }
  }

  /** The delay after the `attempt`-th try (1-based) before the next one. */
  function backoff (attempt: number): number {
    return exponentialBackoff(attempt, retries.backoffBaseMs, { factor: INBOX_BACKOFF_FACTOR })
  }

  async function apply (tx: Parameters<Parameters<Db['transaction']>[0]>[0], row: InboxRow) {
    const ctx = { workspaceId: row.workspaceId, actor: PROVIDER_ACTOR }
    const { adapter, config } = await channels.runtime(ctx, row.channelId, tx)
    const raw: RawInboundRequest = { ...row.request, method: row.request.method as 'GET' | 'POST', rawBody: Buffer.from(row.rawBody) }
    let events: InboundEvent[]
    try {
      events = adapter.parse!(raw, config, adapterCtx)
    } catch (err) {
      throw new UnreadableRequest('the channel adapter cannot read the request', { cause: err })
    }
    await interactions.recordInbound(tx, ctx, row.channelId, events, rawPayload(raw))
  }
}

export type InboundService = ReturnType<typeof createInboundService>
