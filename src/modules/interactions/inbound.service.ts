import type { Db } from '../../db/client.js'
import { inWorkspace } from '../../db/tenant.js'
import type { Clock } from '../../lib/clock.js'
import { DomainError } from '../../lib/errors.js'
import { claimInbox, finishInbox, insertInbox, type InboxRow } from '../../jobs/inbox.repository.js'
import { AdapterParseError, type HandshakeResponse, type InboundEvent, type RawInboundRequest } from '../channels/adapters/channel-adapter.js'
import type { ChannelsService } from '../channels/channels.service.js'
import type { InteractionsService } from './interactions.service.js'

const MAX_INBOX_ATTEMPTS = 5
const PROVIDER_ACTOR = 'provider'

interface Deps { db: Db, clock: Clock, channels: ChannelsService, interactions: InteractionsService, fetch?: typeof fetch, onInboxWork?: () => void }

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
  const { db, clock, channels, interactions } = deps
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

    /** One inbox row, processed exactly once: its effects and its "processed" mark commit together. */
    async processNext (): Promise<boolean> {
      return db.transaction(async (tx) => {
        const row = await claimInbox(tx)
        if (!row) return false
        try {
          await tx.transaction((sp) => apply(sp, row))
          await finishInbox(tx, row, { status: 'processed' })
        } catch (err) {
          const failed = row.attempts + 1 >= MAX_INBOX_ATTEMPTS
          await finishInbox(tx, row, { status: failed ? 'failed' : 'pending', error: (err as Error).message })
        }
        return true
      })
    }
  }

  async function apply (tx: Parameters<Parameters<Db['transaction']>[0]>[0], row: InboxRow) {
    const ctx = { workspaceId: row.workspaceId, actor: PROVIDER_ACTOR }
    const { adapter, config } = await channels.runtime(ctx, row.channelId, tx)
    const raw: RawInboundRequest = { ...row.request, method: row.request.method as 'GET' | 'POST', rawBody: Buffer.from(row.rawBody) }
    const events = adapter.parse!(raw, config, adapterCtx)
    await interactions.recordInbound(tx, ctx, row.channelId, events, rawPayload(raw))
  }
}

export type InboundService = ReturnType<typeof createInboundService>
