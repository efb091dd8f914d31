import type { AdapterContext, InboundEvent, OutboundMessage, SendResult } from '../channel-adapter.js'
import { callProvider, failHttp, ok } from '../shared/http.js'
import { arr, num, parseDate, str, type Loose } from '../shared/request.js'
import type { EmailConfig } from './config.js'
import { messageIdFor, parseAddress, replyHeaders, threadOf } from './headers.js'
import { htmlToText } from './html-text.js'

/**
 * Postmark inbound webhook (postmarkapp.com/developer/webhooks/inbound-webhook), plus the
 * Delivery, Bounce and Open webhooks when they point at the same URL (told apart by RecordType).
 * Other record types (Click, SpamComplaint, SubscriptionChange) are acknowledged and ignored.
 */
export function parsePostmark (body: Loose, now: Date): InboundEvent[] {
  const id = str(body?.MessageID)
  if (id === undefined) return []
  if (body.RecordType === 'Delivery') {
    return [{ type: 'status', providerMessageId: id, status: 'delivered', occurredAt: parseDate(body.DeliveredAt, now) }]
  }
  if (body.RecordType === 'Bounce') {
    // Soft bounces and transient types are retried by Postmark itself; only hard failures are final.
    if (body.Inactive === false && body.Type !== 'HardBounce') return []
    return [{ type: 'status', providerMessageId: id, status: 'failed', occurredAt: parseDate(body.BouncedAt, now), error: str(body.Description) ?? str(body.Type) }]
  }
  if (body.RecordType === 'Open') {
    // An open is the closest thing e-mail has to a read receipt (tracking pixel: approximate).
    return [{ type: 'status', providerMessageId: id, status: 'read', occurredAt: parseDate(body.ReceivedAt, now) }]
  }
  if (body.RecordType !== undefined && body.RecordType !== 'Inbound') return []

  const header = (name: string): string | undefined =>
    str(arr(body.Headers).find((h: Loose) => String(h?.Name).toLowerCase() === name)?.Value)
  const from = str(body.FromFull?.Email) !== undefined
    ? { email: str(body.FromFull.Email)?.toLowerCase(), name: str(body.FromFull.Name) }
    : parseAddress(str(body.From))
  if (from.email === undefined) return []
  return [{
    type: 'message',
    providerMessageId: id,
    threadId: threadOf({ references: header('references'), inReplyTo: header('in-reply-to'), messageId: header('message-id') }),
    sender: { handle: from.email, name: from.name ?? str(body.FromName) },
    recipient: str(body.OriginalRecipient) ?? str(body.ToFull?.[0]?.Email) ?? parseAddress(str(body.To)).email,
    subject: str(body.Subject),
    // The stripped reply is the new content; quoted history is already in the thread.
    // Mail sent as HTML only has an empty TextBody.
    text: str(body.StrippedTextReply) ?? str(body.TextBody) ?? htmlToText(str(body.HtmlBody)),
    attachments: arr(body.Attachments).map((a: Loose) => ({
      name: str(a?.Name), contentType: str(a?.ContentType), size: num(a?.ContentLength)
    })),
    sentAt: parseDate(body.Date, now),
    interactionKind: 'email',
    identityKind: 'email'
  }]
}

/** postmarkapp.com/developer/api/email-api#send-a-single-email */
export async function sendPostmark (msg: OutboundMessage, idempotencyKey: string, config: EmailConfig, ctx: AdapterContext): Promise<SendResult> {
  const from = config.from ?? ''
  const thread = replyHeaders(msg.threadId, msg.inReplyTo)
  const headers = [
    // Postmark returns its own MessageID (used by its delivery webhooks); the RFC Message-ID is
    // still set from the key so the recipient side can recognize a retried send.
    { Name: 'Message-ID', Value: `<${messageIdFor(idempotencyKey, from)}>` },
    ...(thread.inReplyTo !== undefined ? [{ Name: 'In-Reply-To', Value: thread.inReplyTo }] : []),
    ...(thread.references !== undefined ? [{ Name: 'References', Value: thread.references }] : [])
  ]
  const res = await callProvider(ctx, 'postmark', `${config.apiBaseUrl}/email`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'x-postmark-server-token': config.postmarkServerToken ?? ''
    },
    body: JSON.stringify({
      From: from,
      To: msg.to,
      Subject: msg.subject ?? '',
      TextBody: msg.text,
      MessageStream: config.postmarkMessageStream,
      Headers: headers
    })
  })
  const id = str(res.json?.MessageID)
  if (!ok(res) || id === undefined || (res.json.ErrorCode ?? 0) !== 0) {
    failHttp('postmark', res, ctx.now(), { message: str(res.json?.Message), code: res.json?.ErrorCode })
  }
  return { providerMessageId: id, status: 'sent' }
}
