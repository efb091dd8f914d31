import type { DeliveryStatus, InboundEvent, InboundMessageEvent } from '../channel-adapter.js'
import { e164, str } from '../shared/request.js'

/** twilio.com/docs/messaging/api/message-resource#message-status-values */
const STATUSES = new Map<string, DeliveryStatus>([
  ['accepted', 'queued'], ['scheduled', 'queued'], ['queued', 'queued'], ['sending', 'queued'],
  ['sent', 'sent'], ['delivered', 'delivered'], ['read', 'read'],
  ['undelivered', 'failed'], ['failed', 'failed'], ['canceled', 'failed']
])

export function twilioStatus (s: string): DeliveryStatus | undefined {
  return STATUSES.get(s)
}

/**
 * One Twilio messaging webhook (twilio.com/docs/messaging/guides/webhook-request): either an
 * incoming message (status 'received'/'receiving', has Body/NumMedia) or a status callback for a
 * message we sent. Twilio puts no timestamp on either, so the receive time is used.
 */
export function parseTwilio (p: URLSearchParams, now: Date): InboundEvent[] {
  const sid = p.get('MessageSid') ?? p.get('SmsSid')
  if (sid === null) return []
  const status = p.get('MessageStatus') ?? p.get('SmsStatus') ?? ''
  const incoming = status === 'received' || status === 'receiving' || (status === '' && p.has('Body'))

  if (!incoming) {
    const mapped = twilioStatus(status)
    if (mapped === undefined) return []
    const code = p.get('ErrorCode')
    const error = code !== null && code !== '' ? `${code}${p.get('ErrorMessage') ? ` ${p.get('ErrorMessage')}` : ''}` : undefined
    return [{ type: 'status', providerMessageId: sid, status: mapped, occurredAt: now, ...(error !== undefined ? { error } : {}) }]
  }

  const from = p.get('From')
  if (from === null) return []
  // WhatsApp through Twilio prefixes both numbers with 'whatsapp:'; the person is still their phone
  // number (the same contact as their SMS), and ProfileName is their WhatsApp display name.
  const whatsapp = from.startsWith('whatsapp:')
  const media = Math.min(Number(p.get('NumMedia') ?? 0) || 0, 10) // Twilio caps MMS at 10 media
  const event: InboundMessageEvent = {
    type: 'message',
    providerMessageId: sid,
    sender: { handle: e164(withoutChannel(from)), name: str(p.get('ProfileName')) },
    recipient: str(withoutChannel(p.get('To') ?? '')),
    // An MMS with only media comes with an empty Body; so does a WhatsApp location.
    text: str(p.get('Body')) ?? locationText(p),
    attachments: Array.from({ length: media }, (_, i) => ({
      url: p.get(`MediaUrl${i}`) ?? undefined,
      contentType: p.get(`MediaContentType${i}`) ?? undefined
    })),
    sentAt: now,
    interactionKind: whatsapp ? 'message' : 'sms',
    identityKind: 'phone'
  }
  return [event]
}

/** A shared WhatsApp location (Latitude, Longitude, Label, Address), said in words. */
function locationText (p: URLSearchParams): string | undefined {
  const lat = str(p.get('Latitude'))
  const long = str(p.get('Longitude'))
  if (lat === undefined || long === undefined) return undefined
  return [str(p.get('Label')), str(p.get('Address')), `${lat},${long}`].filter(Boolean).join(' ')
}

/** 'whatsapp:+14155552671' -> '+14155552671' (Twilio's channel prefix on addresses). */
function withoutChannel (address: string): string {
  return address.replace(/^whatsapp:/, '')
}
