import type { DeliveryStatus, InboundAttachment, InboundEvent, RawInboundRequest } from '../channel-adapter.js'
import { hmac, safeEqual, withinWindow } from '../shared/crypto.js'
import { dateFrom, header, num, parseDate, readForm, str, type FormBody, type Loose } from '../shared/request.js'
import { msgIds, parseAddress, threadOf } from './headers.js'
import { htmlToText } from './html-text.js'

/**
 * Mailgun posts routed mail as a form (multipart when it has attachments) and event webhooks as
 * JSON {signature: {timestamp, token, signature}, "event-data": {...}}. Both are signed the same
 * way: hex HMAC-SHA256(signingKey, timestamp + token). documentation.mailgun.com, "Securing webhooks".
 */
export function readMailgun (req: RawInboundRequest): { form?: FormBody, json?: Loose } {
  if ((header(req, 'content-type') ?? '').toLowerCase().startsWith('application/json')) {
    try { return { json: JSON.parse(req.rawBody.toString('utf8')) } } catch { return {} }
  }
  return { form: readForm(req) }
}

export function verifyMailgun (req: RawInboundRequest, signingKey: string, now: Date): boolean {
  const { form, json } = readMailgun(req)
  const s = json !== undefined
    ? { timestamp: str(json?.signature?.timestamp), token: str(json?.signature?.token), signature: str(json?.signature?.signature) }
    : { timestamp: form?.fields.get('timestamp') ?? undefined, token: form?.fields.get('token') ?? undefined, signature: form?.fields.get('signature') ?? undefined }
  // The window bounds replay of a captured request; tokens are not remembered (adapters are stateless).
  if (s.token === undefined || s.signature === undefined || !withinWindow(s.timestamp, now, 300)) return false
  return safeEqual(s.signature.toLowerCase(), hmac('sha256', signingKey, `${s.timestamp ?? ''}${s.token}`).toString('hex'))
}

/** Event webhook names (documentation.mailgun.com, "Event types"); clicks, complaints etc. are ignored. */
const EVENT_STATUS = new Map<string, DeliveryStatus>([
  ['accepted', 'queued'], ['delivered', 'delivered'], ['failed', 'failed'], ['rejected', 'failed'],
  // An open (tracking pixel) is the closest thing e-mail has to a read receipt.
  ['opened', 'read']
])

export function parseMailgun (req: RawInboundRequest, now: Date): InboundEvent[] {
  const { form, json } = readMailgun(req)
  if (json !== undefined) {
    const e = json?.['event-data']
    const status = EVENT_STATUS.get(String(e?.event))
    const id = msgIds(str(e?.message?.headers?.['message-id']))[0]
    // A temporary failure is retried by Mailgun; only a permanent one is final.
    if (status === undefined || id === undefined || (e.event === 'failed' && e.severity !== 'permanent')) return []
    const reason = str(e['delivery-status']?.description) ?? str(e['delivery-status']?.message) ?? str(e.reason)
    return [{ type: 'status', providerMessageId: id, status, occurredAt: dateFrom(e.timestamp, 's', now), ...(status === 'failed' && reason ? { error: reason } : {}) }]
  }
  if (form === undefined) return []
  const f = (name: string): string | undefined => str(form.fields.get(name))
  const from = parseAddress(f('from') ?? f('From') ?? f('sender'))
  const messageId = f('Message-Id') ?? f('message-id')
  if (from.email === undefined) return []
  return [{
    type: 'message',
    providerMessageId: msgIds(messageId)[0] ?? `mailgun:${f('token') ?? ''}`,
    threadId: threadOf({ references: f('References'), inReplyTo: f('In-Reply-To'), messageId }),
    sender: { handle: from.email, name: from.name },
    recipient: f('recipient'),
    subject: f('subject') ?? f('Subject'),
    // Mail sent as HTML only has no text part.
    text: f('stripped-text') ?? f('body-plain') ?? htmlToText(f('stripped-html') ?? f('body-html')),
    attachments: attachments(form),
    sentAt: parseDate(f('Date'), dateFrom(f('timestamp'), 's', now)),
    interactionKind: 'email',
    identityKind: 'email'
  }]
}

/** Forwarded routes carry files (multipart); stored-message notifications carry a JSON list. */
function attachments (form: FormBody): InboundAttachment[] {
  if (form.files.length > 0) return form.files.map((f) => ({ name: f.filename, contentType: f.contentType, size: f.size }))
  let list: Loose = []
  try { list = JSON.parse(form.fields.get('attachments') ?? '[]') } catch { list = [] }
  return (Array.isArray(list) ? list : []).map((a: Loose) => ({
    name: str(a?.name), contentType: str(a?.['content-type']), url: str(a?.url), size: num(a?.size)
  }))
}
