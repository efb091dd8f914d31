import type { z } from 'zod'

/**
 * The contract between the channel core and a provider adapter.
 *
 * Adapters are pure: they never read or write the database. The core loads the channel row,
 * validates its stored config with `adapter.config`, then for an inbound HTTP request calls
 * `handshake` (answer it if non-null), else `verify` (401 if false), else `parse` and stores the
 * events, answering with `inboundResponse(events)` or a plain 200. For outbound it calls `send`.
 * The core knows an adapter only by its `kind`; provider names appear only under adapters/.
 */

export interface RawInboundRequest {
  method: 'GET' | 'POST'
  /** Full public URL including the query string, exactly as the provider called it (Twilio signs it). */
  url: string
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>
  query: Record<string, string>
  /** The body bytes as received: signatures are computed over these, never over re-serialized JSON. */
  rawBody: Buffer
}

export interface AdapterContext {
  /** Injectable clock, so timestamp windows are testable with fixed provider vectors. */
  now: () => Date
  /** Injectable fetch; defaults to the global one. */
  fetch?: typeof fetch
}

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed'

export interface InboundAttachment {
  name?: string
  contentType?: string
  url?: string
  size?: number
  /** Provider handle for media that has no URL (WhatsApp media id, Telegram file_id, Slack file id). */
  providerFileId?: string
}

export interface InboundMessageEvent {
  type: 'message'
  providerMessageId: string
  /** Conversation key for replies: email thread root Message-ID, Slack `${channel}:${thread_ts}`, replied-to message id elsewhere. */
  threadId?: string
  sender: { handle: string, name?: string }
  /** Where the message was addressed (our address, page id, chat/channel id). */
  recipient?: string
  subject?: string
  text?: string
  attachments: InboundAttachment[]
  sentAt: Date
  interactionKind: 'email' | 'sms' | 'message' | 'post' | 'mention'
  /** e.g. 'email', 'phone', 'meta:psid', 'meta:igsid', 'x:user', 'slack:user', 'telegram:user' */
  identityKind: string
}

export interface DeliveryStatusEvent {
  type: 'status'
  /** The id `send` returned. Empty string only when `watermark` is set. */
  providerMessageId: string
  status: DeliveryStatus
  occurredAt: Date
  error?: string
  /**
   * Some providers (Messenger read/delivery) report "everything sent to `recipient` up to `before`"
   * instead of message ids; a pure adapter cannot resolve that to ids, so the core applies it.
   */
  watermark?: { recipient: string, before: Date }
}

/**
 * A contact edited a message they sent earlier (Telegram `edited_message`, Slack `message_changed`,
 * Messenger `message_edits`, WhatsApp `edit`). `providerMessageId` is the ORIGINAL message's id, in
 * the very form `parse` gave it when it logged that message, so the core finds the interaction by
 * (channel, providerMessageId) and puts the new text in place: one interaction, never a second one.
 *
 * The other fields describe the message as it now reads, as a message event would: `text` is its
 * whole new text (absent: it has none any more); `subject` absent keeps the logged one. They are
 * complete because an edit whose original is unknown (sent before the channel existed, or lost) is
 * logged as a new inbound message under that id, so nothing is lost. `sentAt` is when the original
 * was sent if the provider says so, else `editedAt`. `editedAt` is when the edit was made, by the
 * provider's clock: the core applies an edit only if it is newer than the last one it applied
 * (providers redeliver, and deliver out of order).
 */
export interface InboundEditEvent extends Omit<InboundMessageEvent, 'type'> {
  type: 'edit'
  editedAt: Date
}

/**
 * A message our own account sent outside Rapport, which the provider reports back (an "echo"): an
 * agent answering from the provider's own app (Facebook Page inbox, Meta Business Suite, X). The
 * core logs it as an outbound interaction with the contact it went `to`, so the log shows both
 * sides of the exchange. Rapport's own sends come back as echoes too: `providerMessageId` must be
 * the id `send` returned for them (the core skips an echo whose id the channel already logged), so
 * an adapter reports every echo and never needs to know which ones Rapport sent.
 */
export interface OutboundEchoEvent extends Omit<InboundMessageEvent, 'type' | 'sender' | 'recipient'> {
  type: 'echo'
  /** The contact the message went to: the interaction's counterpart, an identity of `identityKind`. */
  to: { handle: string, name?: string }
  /** Our account that sent it (page id, X user id). */
  from?: string
}

export type InboundEvent = InboundMessageEvent | InboundEditEvent | OutboundEchoEvent | DeliveryStatusEvent

export interface HandshakeResponse { status: number, contentType: string, body: string }

export interface OutboundMessage {
  /** Provider handle/address of the recipient (email address, E.164 number, PSID, chat id, channel id...). */
  to: string
  subject?: string
  text: string
  threadId?: string
  inReplyTo?: string
}

export interface SendResult { providerMessageId: string, status: DeliveryStatus }

export interface AdapterCapabilities {
  receive: boolean
  send: boolean
  deliveryReceipts: boolean
  readReceipts: boolean
  threads: boolean
  attachments: boolean
}

export interface ChannelAdapter<C = any> {
  kind: string
  description: string
  capabilities: AdapterCapabilities
  /** Zod schema of the channel config (strict objects: unknown keys are typos, not data). */
  config: z.ZodType<C>
  /** Config keys that are write-only secrets: stored encrypted, never returned by reads. */
  secretFields: string[]
  /** Identity kinds this adapter sends to, most preferred first (e.g. ['email'], ['phone']); default [kind]. */
  addressKinds?: string[]
  /** Provider subscription handshakes. null = not a handshake, continue with verify/parse. */
  handshake?: (req: RawInboundRequest, config: C, ctx: AdapterContext) => HandshakeResponse | null
  /** Authenticate an inbound request: constant-time, over the raw bytes, with a timestamp window where the provider has one. */
  verify?: (req: RawInboundRequest, config: C, ctx: AdapterContext) => boolean
  /**
   * Normalize a verified request into messages, edits of earlier messages, echoes of what our own
   * account sent, and delivery statuses.
   * Returns [] for events the CRM does not care about; throws AdapterParseError for a body that is
   * not the provider's format.
   */
  parse?: (req: RawInboundRequest, config: C, ctx: AdapterContext) => InboundEvent[]
  /** Send one message. The idempotency key is stable across retries of the same outbound message. */
  send?: (msg: OutboundMessage, idempotencyKey: string, config: C, ctx: AdapterContext) => Promise<SendResult>
  mapStatus?: (providerStatus: string) => DeliveryStatus
  /** Custom 2xx answer to a verified inbound request (Twilio wants TwiML); default is an empty 200. */
  inboundResponse?: (events: InboundEvent[]) => HandshakeResponse
}

export interface AdapterSendErrorOptions {
  retryable: boolean
  status?: number
  retryAfterSeconds?: number
  /** Provider error code, for logs (e.g. Twilio 21211, Slack 'channel_not_found'). */
  providerCode?: string
}

/** Thrown by send so the worker can decide: retry (5xx, 429, network) or give up (4xx). */
export class AdapterSendError extends Error {
  readonly retryable: boolean
  readonly status?: number
  readonly retryAfterSeconds?: number
  readonly providerCode?: string

  constructor (message: string, opts: AdapterSendErrorOptions) {
    super(message)
    this.name = 'AdapterSendError'
    this.retryable = opts.retryable
    this.status = opts.status
    this.retryAfterSeconds = opts.retryAfterSeconds
    this.providerCode = opts.providerCode
  }
}

/** Thrown by parse when a verified body is not in the provider's format (the core answers 400). */
export class AdapterParseError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'AdapterParseError'
  }
}
